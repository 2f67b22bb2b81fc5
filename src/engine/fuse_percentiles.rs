//! The planner rule that collects several `percentile_cont` of the same values in one GROUP BY
//! once, as one `percentiles_cont` call.
//!
//! A KPI states its median and p90 as two standard `percentile_cont … WITHIN GROUP` calls. Each
//! call would collect every value of its group, pass them between partitions as its partial state
//! and select from them. The rule keeps the SQL as written and collects the values once for all
//! the percentiles of the same expression, which gives the same numbers: each percentile reads the
//! same values.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, DFSchema, Result, ScalarValue};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{Aggregate, Expr, ExprSchemable, LogicalPlan, Projection};
use datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

use crate::functions::percentiles_cont::udaf;

/// The optimizer rule to add to a session.
pub fn rule() -> Arc<dyn OptimizerRule + Send + Sync> {
    Arc::new(FusePercentiles)
}

/// Rewrites an Aggregate whose `percentile_cont` calls share their ordered values into one with a
/// `percentiles_cont` per shared expression, under a projection that gives the original columns
/// by their original names.
#[derive(Debug)]
struct FusePercentiles;

impl OptimizerRule for FusePercentiles {
    fn name(&self) -> &str {
        "mttx_fuse_percentiles"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(&self, plan: LogicalPlan, _config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        let LogicalPlan::Aggregate(aggregate) = plan else {
            return Ok(Transformed::no(plan));
        };
        match fuse(&aggregate)? {
            Some(fused) => Ok(Transformed::yes(fused)),
            None => Ok(Transformed::no(LogicalPlan::Aggregate(aggregate))),
        }
    }
}

/// The ordered values and the percentile of a plain ascending `percentile_cont` of Float64
/// values with a literal percentile; None for anything else, which stays as it is.
fn fusable(expr: &Expr, input: &DFSchema) -> Option<(Expr, f64)> {
    let inner = match expr {
        Expr::Alias(alias) => alias.expr.as_ref(),
        other => other,
    };
    let Expr::AggregateFunction(AggregateFunction { func, params }) = inner else {
        return None;
    };
    if func.name() != "percentile_cont" || params.distinct || params.filter.is_some() || params.null_treatment.is_some() {
        return None;
    }
    let [value, Expr::Literal(ScalarValue::Float64(Some(percentile)), _)] = params.args.as_slice() else {
        return None;
    };
    let [sort] = params.order_by.as_slice() else {
        return None;
    };
    let plain = sort.asc && &sort.expr == value && (0.0..=1.0).contains(percentile);
    (plain && value.get_type(input).ok()? == DataType::Float64).then(|| (value.clone(), *percentile))
}

/// The fused plan, or None when no two percentiles share their values.
fn fuse(aggregate: &Aggregate) -> Result<Option<LogicalPlan>> {
    // Each shared expression, with the positions (in aggr_expr) and percentiles of its calls.
    let mut shared: Vec<(Expr, Vec<(usize, f64)>)> = Vec::new();
    for (position, expr) in aggregate.aggr_expr.iter().enumerate() {
        if let Some((value, percentile)) = fusable(expr, aggregate.input.schema()) {
            match shared.iter_mut().find(|(v, _)| *v == value) {
                Some((_, calls)) => calls.push((position, percentile)),
                None => shared.push((value, vec![(position, percentile)])),
            }
        }
    }
    shared.retain(|(_, calls)| calls.len() > 1);
    if shared.is_empty() {
        return Ok(None);
    }

    // Where each original aggregate's value now comes from.
    enum Source {
        Kept(usize),
        Field { fused: usize, field: usize },
    }
    let udaf = Arc::new(udaf());
    let mut aggr_expr = Vec::with_capacity(aggregate.aggr_expr.len());
    let mut sources = Vec::with_capacity(aggregate.aggr_expr.len());
    let mut fused_at = vec![0; shared.len()];
    for (position, expr) in aggregate.aggr_expr.iter().enumerate() {
        let group = shared.iter().position(|(_, calls)| calls.iter().any(|&(p, _)| p == position));
        match group {
            None => {
                sources.push(Source::Kept(aggr_expr.len()));
                aggr_expr.push(expr.clone());
            }
            Some(group) => {
                let (value, calls) = &shared[group];
                let field = calls.iter().position(|&(p, _)| p == position).unwrap_or_default();
                // Calls are listed in order, so the first is where the fused call goes.
                if field == 0 {
                    fused_at[group] = aggr_expr.len();
                    let args = std::iter::once(value.clone()).chain(calls.iter().map(|&(_, p)| Expr::Literal(ScalarValue::Float64(Some(p)), None))).collect();
                    let call = Expr::AggregateFunction(AggregateFunction::new_udf(Arc::clone(&udaf), args, false, None, vec![], None));
                    aggr_expr.push(call.alias(format!("__mttx_percentiles_{group}")));
                }
                sources.push(Source::Field { fused: fused_at[group], field });
            }
        }
    }
    let fused = Aggregate::try_new(Arc::clone(&aggregate.input), aggregate.group_expr.clone(), aggr_expr)?;
    let group_fields = aggregate.schema.fields().len() - aggregate.aggr_expr.len();
    let new_schema = Arc::clone(&fused.schema);
    let mut exprs = Vec::with_capacity(aggregate.schema.fields().len());
    for (i, (qualifier, field)) in aggregate.schema.iter().enumerate() {
        let expr = if i < group_fields {
            Expr::Column(Column::from(new_schema.qualified_field(i)))
        } else {
            match &sources[i - group_fields] {
                Source::Kept(at) => Expr::Column(Column::from(new_schema.qualified_field(group_fields + at))),
                Source::Field { fused, field: f } => {
                    let whole = Expr::Column(Column::from(new_schema.qualified_field(group_fields + fused)));
                    datafusion::functions::core::expr_fn::get_field(whole, format!("p{}", f + 1)).alias_qualified(qualifier.cloned(), field.name())
                }
            }
        };
        exprs.push(expr);
    }
    let projection = Projection::try_new(exprs, Arc::new(LogicalPlan::Aggregate(fused)))?;
    Ok(Some(LogicalPlan::Projection(projection)))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// Group a: 1, 2, 4, … 2048 (12 values); group b: 0.5, 1.5, … 11.5; a null in each. The rows
    /// of a GROUPING SETS aggregate with a median, a p90 of the same values, a p90 of other values
    /// and a count, in the order the SQL gives them.
    const SQL: &str = "SELECT g, count(v) AS n, \
        percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50, \
        percentile_cont(0.9) WITHIN GROUP (ORDER BY w) AS w90, \
        percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90 \
        FROM t GROUP BY GROUPING SETS ((g), ()) ORDER BY g NULLS LAST";

    async fn with_t(ctx: SessionContext) -> SessionContext {
        let (a, b): (Vec<String>, Vec<String>) = (0..12).map(|i| (format!("('a', {}.0, {i}.0)", 1u64 << i), format!("('b', {i}.5, {}.0)", 100 - i))).unzip();
        let values = [a, b, vec!["('a', NULL, NULL)".into(), "('b', NULL, 1.0)".into()]].concat().join(", ");
        ctx.sql(&format!("CREATE VIEW t AS SELECT * FROM (VALUES {values}) AS t(g, v, w)")).await.unwrap();
        ctx
    }

    async fn rows(ctx: &SessionContext) -> Vec<(Option<String>, i64, f64, f64, f64)> {
        let batches = ctx.sql(SQL).await.unwrap().collect().await.unwrap();
        let mut out = Vec::new();
        for batch in batches {
            let g = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8).unwrap();
            let g = g.as_string::<i32>();
            for row in 0..batch.num_rows() {
                let f = |c: usize| batch.column(c).as_primitive::<Float64Type>().value(row);
                out.push((
                    g.is_valid(row).then(|| g.value(row).to_string()),
                    batch.column(1).as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(row),
                    f(2),
                    f(3),
                    f(4),
                ));
            }
        }
        out
    }

    /// Fused and unfused give the same figures, column for column, and the plan fused only the
    /// two percentiles of `v`.
    #[tokio::test]
    async fn fused_percentiles_equal_separate_ones() {
        let fused = with_t(crate::engine::session("UTC")).await;
        let plan = fused.sql(&format!("EXPLAIN {SQL}")).await.unwrap().collect().await.unwrap();
        let plan = datafusion::arrow::util::pretty::pretty_format_batches(&plan).unwrap().to_string();
        assert!(plan.contains("percentiles_cont(t.v, Float64(0.5), Float64(0.9))"), "{plan}");
        assert!(plan.contains("percentile_cont(Float64(0.9)) WITHIN GROUP [t.w ASC NULLS LAST]"), "{plan}");

        let separate = SessionContext::new();
        separate.register_udaf(crate::functions::percentile_cont::udaf());
        let separate = with_t(separate).await;
        let (fused, separate) = (rows(&fused).await, rows(&separate).await);
        assert_eq!(fused, separate);
        // Group a: median of 12 values, rank 5.5 between 32 and 64 = 48; p90 rank 9.9 between
        // 512 and 1024 = 512 + 0.9 · 512 (as the float rank gives it).
        let rank = 0.9f64 * 11.0;
        assert_eq!(fused[0], (Some("a".into()), 12, 48.0, 9.0 + (10.0 - 9.0) * (rank - 9.0), 512.0 + 512.0 * (rank - 9.0)));
        assert_eq!(fused.len(), 3);
    }
}
