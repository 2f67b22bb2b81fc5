//! `fisher_exact_p(a, b, c, d)`: the two-sided p-value of Fisher's exact test for a 2×2 table, for
//! the patch correlation in SQL and for the report's tests of small proportions.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result as DfResult;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

/// `fisher_exact_p(a, b, c, d)`: the two-sided p-value of Fisher's exact test for the 2×2 table
/// [[a, b], [c, d]]: the summed probability, under fixed margins, of every table no more likely
/// than the observed one (with a relative tolerance of 1e-7, as R's fisher.test uses).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FisherExact {
    signature: Signature,
}

impl FisherExact {
    pub fn udf() -> ScalarUDF {
        ScalarUDF::from(FisherExact { signature: Signature::exact(vec![DataType::Int64; 4], Volatility::Immutable) })
    }
}

pub fn fisher_exact_p(a: u64, b: u64, c: u64, d: u64) -> f64 {
    let n = (a + b + c + d) as usize;
    let mut ln_fact = vec![0.0f64; n + 1];
    for k in 1..=n {
        ln_fact[k] = ln_fact[k - 1] + (k as f64).ln();
    }
    let (r1, r2, c1) = (a + b, c + d, a + c);
    let ln_choose = |n: u64, k: u64| ln_fact[n as usize] - ln_fact[k as usize] - ln_fact[(n - k) as usize];
    let ln_p = |x: u64| ln_choose(r1, x) + ln_choose(r2, c1 - x) - ln_choose(r1 + r2, c1);
    let observed = ln_p(a);
    let low = c1.saturating_sub(r2);
    let high = r1.min(c1);
    let p: f64 = (low..=high).map(ln_p).filter(|lp| *lp <= observed + 1e-7_f64.ln_1p()).map(f64::exp).sum();
    p.min(1.0)
}

impl ScalarUDFImpl for FisherExact {
    fn name(&self) -> &str {
        "fisher_exact_p"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let cells: Vec<_> = arrays.iter().map(|a| a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()).collect();
        let mut out = datafusion::arrow::array::Float64Builder::with_capacity(args.number_rows);
        for row in 0..args.number_rows {
            let values: Option<Vec<u64>> = cells.iter().map(|c| (c.is_valid(row) && c.value(row) >= 0).then(|| c.value(row) as u64)).collect();
            match values {
                Some(v) => out.append_value(fisher_exact_p(v[0], v[1], v[2], v[3])),
                None => out.append_null(),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fisher_matches_known_values() {
        // R: fisher.test(matrix(c(3, 1, 1, 3), 2))$p.value = 0.4857143 (the tea-tasting lady).
        assert!((fisher_exact_p(3, 1, 1, 3) - 0.4857142857).abs() < 1e-9);
        // R: fisher.test(matrix(c(10, 2, 3, 15), 2))$p.value = 0.0005367241 (a = 10, b = 3, c = 2, d = 15).
        assert!((fisher_exact_p(10, 3, 2, 15) - 0.0005367241).abs() < 1e-9);
        assert_eq!(fisher_exact_p(0, 0, 0, 0), 1.0);
    }
}
