//! `poisson_rate_p(c1, t1, c0, t0)`: the two-sided p-value of the exact conditional test that two
//! Poisson counts over their exposures share one rate, for the riskiest CIs to patch.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Float64Builder};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::distributions::poisson_rate_p;

/// `poisson_rate_p(c1, t1, c0, t0)`: counts `c1` and `c0` (BIGINT) over exposures `t1` and `t0`
/// (DOUBLE, any one unit). Given n = c1 + c0, c1 ~ Binomial(n, t1 / (t1 + t0)) when the rates are
/// equal; the p-value sums the outcomes no more likely than the observed one, as
/// `scipy.stats.binomtest` does. Null when an argument is null or negative, both counts are 0, or
/// an exposure is not positive.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PoissonRate {
    signature: Signature,
}

impl PoissonRate {
    pub fn udf() -> ScalarUDF {
        let types = vec![DataType::Int64, DataType::Float64, DataType::Int64, DataType::Float64];
        ScalarUDF::from(PoissonRate { signature: Signature::exact(types, Volatility::Immutable) })
    }
}

impl ScalarUDFImpl for PoissonRate {
    fn name(&self) -> &str {
        "poisson_rate_p"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (c1, t1) = (arrays[0].as_primitive::<Int64Type>(), arrays[1].as_primitive::<Float64Type>());
        let (c0, t0) = (arrays[2].as_primitive::<Int64Type>(), arrays[3].as_primitive::<Float64Type>());
        let mut out = Float64Builder::with_capacity(args.number_rows);
        for row in 0..args.number_rows {
            let count = |a: &datafusion::arrow::array::Int64Array| (a.is_valid(row) && a.value(row) >= 0).then(|| a.value(row) as u64);
            let exposure = |a: &datafusion::arrow::array::Float64Array| a.is_valid(row).then(|| a.value(row));
            let p = match (count(c1), exposure(t1), count(c0), exposure(t0)) {
                (Some(c1), Some(t1), Some(c0), Some(t0)) => poisson_rate_p(c1, t1, c0, t0),
                _ => None,
            };
            out.append_option(p);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
