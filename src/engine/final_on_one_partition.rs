//! The physical optimizer rule that finishes an aggregate of exact percentiles on one partition,
//! instead of hashing its partial states to every partition first.
//!
//! An exact percentile's partial state is every value of its group, as a list. With the final
//! step split across partitions, DataFusion hashes those lists to the partition of their group,
//! which copies every value once more (the repartition's `take`) on top of flattening it into
//! the state and merging it into the final group. The KPIs that take percentiles group by month
//! and priority (or milestone), so the final step has a few hundred groups and little to share
//! between partitions; gathering the partial states on one partition passes the lists on without
//! a copy. Aggregates without a percentile keep their partitioned final step: `sla_breach` groups
//! a million tickets at 1 M incidents, and one partition would finish them on one core.
//!
//! The results are the same: counts and exact percentiles do not depend on the order partial
//! states arrive in, and a mean adds the two partitions' partial sums, which commute.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};

/// The aggregates whose partial state holds every value: `percentile_cont` (ours or DataFusion's,
/// see `percentile`) and `percentiles_cont` (see `fused_percentiles`).
const VALUE_COLLECTING: [&str; 2] = ["percentile_cont", crate::functions::percentiles_cont::NAME];

/// The rule; it must run before DataFusion's `EnsureRequirements`, which then gathers the input
/// of each rewritten aggregate on one partition (see `engine::optimizer_rules`).
pub fn rule() -> Arc<dyn PhysicalOptimizerRule + Send + Sync> {
    Arc::new(GatheredFinal)
}

#[derive(Debug)]
struct GatheredFinal;

impl PhysicalOptimizerRule for GatheredFinal {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            let collects_values = aggregate.aggr_expr().iter().any(|e| VALUE_COLLECTING.contains(&e.fun().name()));
            if *aggregate.mode() != AggregateMode::FinalPartitioned || !collects_values {
                return Ok(Transformed::no(node));
            }
            let gathered = AggregateExec::try_new(
                AggregateMode::Final,
                aggregate.group_expr().clone(),
                aggregate.aggr_expr().to_vec(),
                aggregate.filter_expr().to_vec(),
                Arc::clone(aggregate.input()),
                aggregate.input_schema(),
            )?
            .with_limit_options(aggregate.limit_options());
            Ok(Transformed::yes(Arc::new(gathered) as Arc<dyn ExecutionPlan>))
        })
        .data()
    }

    fn name(&self) -> &str {
        "mttx_gathered_final"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;

    /// `t` (k, v) in two partitions, so that its aggregates have a partial and a final step.
    fn with_t(ctx: SessionContext) -> SessionContext {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, true), Field::new("v", DataType::Float64, false)]));
        let batch = |keys: Vec<Option<&str>>, values: Vec<f64>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from(keys)), Arc::new(Float64Array::from(values))]).unwrap()
        };
        let first = batch(vec![Some("a"), Some("b"), Some("b")], vec![1.0, 2.0, 10.0]);
        let second = batch(vec![Some("a"), Some("b"), None], vec![4.0, 3.0, 7.0]);
        ctx.register_table("t", Arc::new(MemTable::try_new(schema.clone(), vec![vec![first], vec![second]]).unwrap())).unwrap();
        ctx
    }

    fn mttx_session() -> SessionContext {
        with_t(crate::engine::two_partition_session())
    }

    fn without_rule() -> SessionContext {
        with_t(crate::engine::two_partition_session_without_rules())
    }

    async fn plan_of(ctx: &SessionContext, sql: &str) -> String {
        let plan = ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
        displayable(plan.as_ref()).indent(false).to_string()
    }

    async fn rows_of(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
    }

    /// With a percentile, the final step reads the partial states on one partition, with no hash
    /// repartition between; a plain aggregate keeps both, and without the rule so does the first.
    #[tokio::test]
    async fn only_aggregates_of_percentiles_finish_on_one_partition() {
        let percentile = "SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY v), avg(v) FROM t GROUP BY k";
        let gathered = plan_of(&mttx_session(), percentile).await;
        assert!(gathered.contains("mode=Final,") && !gathered.contains("FinalPartitioned"), "{gathered}");
        assert!(!gathered.contains("RepartitionExec: partitioning=Hash"), "{gathered}");
        let partitioned = plan_of(&without_rule(), percentile).await;
        assert!(partitioned.contains("FinalPartitioned") && partitioned.contains("RepartitionExec: partitioning=Hash"), "{partitioned}");
        let plain = plan_of(&mttx_session(), "SELECT k, avg(v) FROM t GROUP BY k").await;
        assert!(plain.contains("FinalPartitioned") && plain.contains("RepartitionExec: partitioning=Hash"), "{plain}");
    }

    /// Grouping sets, two percentiles fused and a mean: the same rows as without the rule.
    #[tokio::test]
    async fn gathered_results_equal_partitioned_ones() {
        let sql = "SELECT k, count(v) AS n, avg(v) AS mean, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50, \
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90 FROM t GROUP BY GROUPING SETS ((k), ()) ORDER BY k NULLS LAST, n";
        let gathered = rows_of(&mttx_session(), sql).await;
        assert_eq!(gathered, rows_of(&without_rule(), sql).await);
        // a: 1, 4: mean 2.5; p50 at rank 0.5 → 1 + 0.5·3 = 2.5; p90 at rank 0.9 → 1 + 0.9·3 = 3.7.
        // b: 2, 3, 10: mean 5; p50 at rank 1 → 3; p90 at rank 1.8 → 3 + 0.8·7 = 8.6.
        // The null key's one value 7; and all six, 1 2 3 4 7 10: mean 27 / 6 = 4.5; p50 at rank 2.5
        // → 3.5; p90 at rank 4.5 → 7 + 0.5·3 = 8.5.
        for expected in
            ["| a | 2 | 2.5  | 2.5 | 3.7 ", "| b | 3 | 5.0  | 3.0 | 8.600000000000001 ", "|   | 1 | 7.0  | 7.0 | 7.0 ", "|   | 6 | 4.5  | 3.5 | 8.5 "]
        {
            assert!(gathered.contains(expected), "{expected} not in\n{gathered}");
        }
    }
}
