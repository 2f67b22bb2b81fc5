//! `ungrouped(x)`: null text for every row of `x`, the `by_group` of a session without `--by`.

use datafusion::arrow::array::new_null_array;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// A literal null means the same, but DataFusion 55 then knows the group key to be constant, so
/// takes its input as sorted on it (`ordering_mode=PartiallySorted`), and aggregates every KPI
/// grouped by `by_group` in its streaming hash table, one row at a time, instead of the
/// vectorised one. The constant gains nothing there: there is one group of it, so nothing is
/// emitted early. Computed from a column, the null is not known to be constant, and the
/// aggregates run vectorised, with the same rows.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Ungrouped {
    signature: Signature,
}

impl Ungrouped {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::from(Ungrouped { signature: Signature::any(1, Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for Ungrouped {
    fn name(&self) -> &str {
        "ungrouped"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(match &args.args[0] {
            ColumnarValue::Array(array) => ColumnarValue::Array(new_null_array(&DataType::Utf8, array.len())),
            ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::Utf8(None)),
        })
    }
}
