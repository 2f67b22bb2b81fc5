//! `percentiles_cont(value, p1, p2, …)`: several exact percentiles of the same values, collected
//! once. The planner rule `engine::fuse_percentiles` turns the `percentile_cont` calls of a KPI
//! that share their values into one of these.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, GroupsAccumulator, Signature, Volatility};

use super::grouped::OneGroup;
use super::percentile_cont::{ExactGroups, float_literal, state_type};

pub(crate) const NAME: &str = "percentiles_cont";

/// The aggregate UDF to register: `percentiles_cont(value, p1, p2, …)`, the exact percentiles p1,
/// p2, … of `value` with continuous interpolation, as a struct with fields `p1`, `p2`, ….
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(PercentilesCont { signature: Signature::user_defined(Volatility::Immutable) })
}

fn result_fields(percentiles: usize) -> Fields {
    (1..=percentiles).map(|i| Field::new(format!("p{i}"), DataType::Float64, true)).collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PercentilesCont {
    signature: Signature,
}

/// The percentiles, which must be Float64 literals in [0, 1] (after coercion).
fn percentiles(args: &AccumulatorArgs) -> Result<Vec<f64>> {
    let mut percentiles = Vec::with_capacity(args.exprs.len().saturating_sub(1));
    for expr in args.exprs.iter().skip(1) {
        match float_literal(expr) {
            Some(p) if (0.0..=1.0).contains(&p) => percentiles.push(p),
            _ => return plan_err!("{NAME}: each percentile must be a number from 0 to 1, given as a literal; got {expr}"),
        }
    }
    Ok(percentiles)
}

impl AggregateUDFImpl for PercentilesCont {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < 2 {
            return plan_err!("{NAME}: takes the values and at least one percentile");
        }
        for (i, t) in arg_types.iter().enumerate() {
            if !(t.is_numeric() || t.is_null()) {
                return plan_err!("{NAME}: argument {} must be a number, got {t}", i + 1);
            }
        }
        Ok(vec![DataType::Float64; arg_types.len()])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields(arg_types.len().saturating_sub(1))))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format_state_name(args.name, "values"), state_type(), true))])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let percentiles = percentiles(&args)?;
        let fields = result_fields(percentiles.len());
        Ok(Box::new(OneGroup(ExactGroups::several(percentiles, fields))))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        let percentiles = percentiles(&args)?;
        let fields = result_fields(percentiles.len());
        Ok(Box::new(ExactGroups::several(percentiles, fields)))
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// Without GROUP BY the single-group accumulator gives the struct; a percentile outside
    /// [0, 1] is refused with the function's name.
    #[tokio::test]
    async fn percentiles_cont_called_directly() {
        let ctx = SessionContext::new();
        ctx.register_udaf(udaf());
        let batches =
            ctx.sql("SELECT percentiles_cont(v, 0.25, 1) AS q FROM (VALUES (1.0), (2.0), (3.0), (5.0)) AS t(v)").await.unwrap().collect().await.unwrap();
        let q = batches[0].column(0).as_struct();
        // Rank 0.25 · 3 = 0.75: 1 + 0.75 · (2 − 1) = 1.75; p100 is the largest.
        assert_eq!(q.column(0).as_primitive::<Float64Type>().value(0), 1.75);
        assert_eq!(q.column(1).as_primitive::<Float64Type>().value(0), 5.0);
        let refused = ctx.sql("SELECT percentiles_cont(v, 1.5) FROM (VALUES (1.0)) AS t(v)").await.unwrap().collect().await;
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("percentiles_cont: each percentile must be a number from 0 to 1"), "{message}");
    }
}
