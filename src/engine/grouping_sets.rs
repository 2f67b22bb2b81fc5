//! The physical optimizer rule and operator that find each row's group once for `GROUPING SETS`,
//! in the finest set, and derive the coarser sets from that set's partial states.
//!
//! DataFusion's partial aggregate of `GROUP BY GROUPING SETS ((month, by_group, priority),
//! (month, by_group))` finds the group of every row once per set: twice over every duration of a
//! month × priority KPI, which was most of such a KPI's time. Every group of a coarser set is a
//! union of groups of the finest set, and partial states merge (the final step merges them), so
//! the rule aggregates the rows for the finest set alone and, on each partition, merges the states
//! of its groups into those of each coarser set. The final step then receives what it received
//! before, one state per group and partition: counts, exact percentiles and the KPIs' integer
//! sums are the same. A floating-point sum would add the finest groups' sums where it added the
//! rows one by one, which can change its last bits but gives the same bits on every run.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt8Array, UInt16Array, UInt32Array, UInt64Array, new_null_array};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::utils::memory::get_record_batch_memory_size;
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::logical_expr::{Aggregate, EmitTo};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode, PhysicalGroupBy};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties, SendableRecordBatchStream};
use futures::{StreamExt, TryStreamExt};

/// The rule to add to a session's physical optimizer rules.
pub fn rule() -> Arc<dyn PhysicalOptimizerRule + Send + Sync> {
    Arc::new(DeriveGroupingSets)
}

#[derive(Debug)]
struct DeriveGroupingSets;

impl PhysicalOptimizerRule for DeriveGroupingSets {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else { return Ok(Transformed::no(node)) };
            match derived(aggregate)? {
                Some(derived) => Ok(Transformed::yes(derived)),
                None => Ok(Transformed::no(node)),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "mttx_derive_grouping_sets"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The partial aggregate of the finest set under a `DerivedGroupingSetsExec`, for a partial
/// aggregate of grouping sets that has a set of every expression and no set twice; None for
/// anything else, which stays as it is.
fn derived(aggregate: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let group_by = aggregate.group_expr();
    let sets = group_by.groups();
    let distinct = sets.iter().enumerate().all(|(i, set)| !sets[..i].contains(set));
    let has_finest = sets.iter().any(|set| set.iter().all(|is_null| !is_null));
    if *aggregate.mode() != AggregateMode::Partial
        || !group_by.has_grouping_set()
        || sets.len() < 2
        || !distinct
        || !has_finest
        || aggregate.limit_options().is_some()
    {
        return Ok(None);
    }
    let finest = AggregateExec::try_new(
        AggregateMode::Partial,
        PhysicalGroupBy::new_single(group_by.expr().to_vec()),
        aggregate.aggr_expr().to_vec(),
        aggregate.filter_expr().to_vec(),
        Arc::clone(aggregate.input()),
        aggregate.input_schema(),
    )?;
    let exec = DerivedGroupingSetsExec::try_new(Arc::new(finest), sets.to_vec())?;
    // The plan above reads the columns by position and type: anything but the same schema stays.
    Ok((exec.schema() == aggregate.schema()).then(|| Arc::new(exec) as Arc<dyn ExecutionPlan>))
}

/// Each grouping set's partial states, merged on each partition from its input's: the partial
/// aggregate of the finest set, whose groups it merges into those of every set.
#[derive(Debug)]
pub struct DerivedGroupingSetsExec {
    input: Arc<dyn ExecutionPlan>,
    aggregates: Vec<Arc<AggregateFunctionExpr>>,
    keys: usize,
    sets: Vec<Vec<bool>>,
    properties: Arc<PlanProperties>,
}

impl DerivedGroupingSetsExec {
    /// `input` must be a partial AggregateExec of one grouping set, the finest of `sets`.
    pub fn try_new(input: Arc<dyn ExecutionPlan>, sets: Vec<Vec<bool>>) -> Result<Self> {
        let Some(finest) = input.downcast_ref::<AggregateExec>() else {
            return internal_err!("DerivedGroupingSetsExec needs a partial aggregate as its input, not {}", input.name());
        };
        let aggregates = finest.aggr_expr().to_vec();
        let keys = finest.group_expr().expr().len();
        if sets.iter().any(|set| set.len() != keys) {
            return internal_err!("DerivedGroupingSetsExec: each grouping set must name all {keys} group expressions");
        }
        let schema = output_schema(&input.schema(), keys, &sets);
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            input.properties().output_partitioning().clone(),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Ok(DerivedGroupingSetsExec { input, aggregates, keys, sets, properties: Arc::new(properties) })
    }

    pub fn sets(&self) -> &[Vec<bool>] {
        &self.sets
    }
}

/// A partial aggregate of grouping sets' columns: the keys (nullable where a set leaves them out),
/// the grouping id, then the states, as DataFusion's own gives them.
fn output_schema(finest: &Schema, keys: usize, sets: &[Vec<bool>]) -> SchemaRef {
    let mut fields: Vec<Field> = Vec::with_capacity(finest.fields().len() + 1);
    for (i, field) in finest.fields().iter().take(keys).enumerate() {
        let nullable = field.is_nullable() || sets.iter().any(|set| set[i]);
        fields.push(field.as_ref().clone().with_nullable(nullable));
    }
    fields.push(Field::new(Aggregate::INTERNAL_GROUPING_ID, Aggregate::grouping_id_type(keys, 0), false));
    fields.extend(finest.fields().iter().skip(keys).map(|f| f.as_ref().clone()));
    Arc::new(Schema::new_with_metadata(fields, finest.metadata().clone()))
}

impl DisplayAs for DerivedGroupingSetsExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DerivedGroupingSetsExec: sets={:?}", self.sets())
    }
}

impl ExecutionPlan for DerivedGroupingSetsExec {
    fn name(&self) -> &str {
        "DerivedGroupingSetsExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(&self, _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(DerivedGroupingSetsExec::try_new(children.swap_remove(0), self.sets.clone())?))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let (schema, aggregates, keys, sets) = (self.schema(), self.aggregates.clone(), self.keys, self.sets.clone());
        let reservation = MemoryConsumer::new(format!("DerivedGroupingSetsExec[{partition}]")).register(context.memory_pool());
        let finest_schema = input.schema();
        let output = Arc::clone(&schema);
        let derive = async move {
            let batches: Vec<RecordBatch> = input
                .and_then(|batch| {
                    let grown = reservation.try_grow(get_record_batch_memory_size(&batch)).map(|()| batch);
                    futures::future::ready(grown)
                })
                .try_collect()
                .await?;
            let finest = concat_batches(&finest_schema, &batches)?;
            drop(batches);
            let derived = derive_sets(&finest, &aggregates, keys, &sets, &output)?;
            drop(reservation);
            Ok(derived)
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::once(derive).boxed())))
    }
}

/// Every set's rows from the finest set's groups `finest` (keys, then states).
fn derive_sets(finest: &RecordBatch, aggregates: &[Arc<AggregateFunctionExpr>], keys: usize, sets: &[Vec<bool>], schema: &SchemaRef) -> Result<RecordBatch> {
    let key_columns = &finest.columns()[..keys];
    let state_columns = &finest.columns()[keys..];
    let id_type = schema.field(keys).data_type().clone();
    let mut parts = Vec::with_capacity(sets.len());
    for set in sets {
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        if set.iter().all(|is_null| !is_null) {
            // The finest set is the input's own groups, passed on as they are.
            columns.extend(key_columns.iter().cloned());
            columns.push(grouping_id(set, &id_type, finest.num_rows())?);
            columns.extend(state_columns.iter().cloned());
        } else {
            let (groups, first_rows) = group_rows(key_columns, set)?;
            for (i, column) in key_columns.iter().enumerate() {
                columns.push(if set[i] { new_null_array(column.data_type(), first_rows.len()) } else { take(column, &first_rows, None)? });
            }
            columns.push(grouping_id(set, &id_type, first_rows.len())?);
            columns.extend(merged_states(aggregates, state_columns, &groups, first_rows.len())?);
        }
        parts.push(RecordBatch::try_new(Arc::clone(schema), columns)?);
    }
    Ok(concat_batches(schema, &parts)?)
}

/// Each finest group's group in `set`, numbered in order of first appearance, and the first
/// finest group of each.
fn group_rows(key_columns: &[ArrayRef], set: &[bool]) -> Result<(Vec<usize>, UInt32Array)> {
    let kept: Vec<ArrayRef> = key_columns.iter().zip(set).filter(|(_, is_null)| !**is_null).map(|(c, _)| Arc::clone(c)).collect();
    let rows = key_columns.first().map_or(0, |c| c.len());
    if kept.is_empty() {
        return Ok((vec![0; rows], UInt32Array::from(if rows == 0 { vec![] } else { vec![0] })));
    }
    let converter = RowConverter::new(kept.iter().map(|c| SortField::new(c.data_type().clone())).collect())?;
    let converted = converter.convert_columns(&kept)?;
    let mut index_of = HashMap::with_capacity(rows);
    let mut first_rows = Vec::new();
    let groups = (0..rows)
        .map(|row| {
            *index_of.entry(converted.row(row)).or_insert_with(|| {
                first_rows.push(row as u32);
                first_rows.len() - 1
            })
        })
        .collect();
    Ok((groups, UInt32Array::from(first_rows)))
}

/// DataFusion's `__grouping_id` of `set`: a bit per expression, the first the highest, set where
/// the set leaves the expression out.
fn grouping_id(set: &[bool], id_type: &DataType, rows: usize) -> Result<ArrayRef> {
    let id = set.iter().fold(0u64, |acc, &is_null| (acc << 1) | u64::from(is_null));
    Ok(match id_type {
        DataType::UInt8 => Arc::new(UInt8Array::from(vec![id as u8; rows])),
        DataType::UInt16 => Arc::new(UInt16Array::from(vec![id as u16; rows])),
        DataType::UInt32 => Arc::new(UInt32Array::from(vec![id as u32; rows])),
        DataType::UInt64 => Arc::new(UInt64Array::from(vec![id; rows])),
        other => return internal_err!("DerivedGroupingSetsExec: a grouping id of type {other}"),
    })
}

/// The states of `groups` coarser groups, each aggregate's finest states merged as its final step
/// merges them: with its groups accumulator where it has one, else one accumulator per group.
fn merged_states(aggregates: &[Arc<AggregateFunctionExpr>], state_columns: &[ArrayRef], groups: &[usize], count: usize) -> Result<Vec<ArrayRef>> {
    let mut out = Vec::with_capacity(state_columns.len());
    let mut at = 0;
    for aggregate in aggregates {
        let width = aggregate.state_fields()?.len();
        let states = &state_columns[at..at + width];
        at += width;
        if aggregate.groups_accumulator_supported() {
            let mut accumulator = aggregate.create_groups_accumulator()?;
            accumulator.merge_batch(states, groups, count)?;
            out.extend(accumulator.state(EmitTo::All)?);
            continue;
        }
        let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); count];
        for (row, &group) in groups.iter().enumerate() {
            rows_of[group].push(row as u32);
        }
        let mut values: Vec<Vec<ScalarValue>> = vec![Vec::with_capacity(count); width];
        for rows in rows_of {
            let indices = UInt32Array::from(rows);
            let taken = states.iter().map(|s| take(s, &indices, None)).collect::<std::result::Result<Vec<_>, _>>()?;
            let mut accumulator = aggregate.create_accumulator()?;
            accumulator.merge_batch(&taken)?;
            for (column, value) in values.iter_mut().zip(accumulator.state()?) {
                column.push(value);
            }
        }
        for (column, state) in values.into_iter().zip(states) {
            out.push(if count == 0 { new_null_array(state.data_type(), 0) } else { ScalarValue::iter_to_array(column)? });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::SessionContext;

    /// `t` (month, priority, hours) in two partitions, with a null priority and a month whose
    /// rows are all in one partition.
    fn with_t(ctx: SessionContext) -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("month", DataType::Utf8, false),
            Field::new("priority", DataType::Int64, true),
            Field::new("hours", DataType::Float64, false),
        ]));
        let batch = |months: Vec<&str>, priorities: Vec<Option<i64>>, hours: Vec<f64>| {
            RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(StringArray::from(months)), Arc::new(Int64Array::from(priorities)), Arc::new(Float64Array::from(hours))],
            )
            .unwrap()
        };
        let first =
            batch(vec!["2026-01", "2026-01", "2026-01", "2026-02", "2026-03"], vec![Some(1), Some(2), Some(2), Some(1), None], vec![1.0, 2.5, 4.0, 8.0, 0.5]);
        let second = batch(vec!["2026-01", "2026-02", "2026-02", "2026-02"], vec![Some(1), Some(3), None, Some(3)], vec![3.0, 16.0, 32.0, 0.25]);
        ctx.register_table("t", Arc::new(MemTable::try_new(schema.clone(), vec![vec![first], vec![second]]).unwrap())).unwrap();
        ctx
    }

    fn mttx_session() -> SessionContext {
        with_t(crate::engine::two_partition_session())
    }

    fn plain_session() -> SessionContext {
        with_t(crate::engine::two_partition_session_without_rules())
    }

    const SQL: &str = "SELECT month, priority, grouping(priority) AS g, count(hours) AS n, avg(hours) AS mean, \
         percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50, percentile_cont(0.9) WITHIN GROUP (ORDER BY hours) AS p90, \
         count(DISTINCT priority) AS priorities, max(hours) AS longest \
         FROM t GROUP BY ROLLUP (month, priority) ORDER BY month NULLS LAST, g, priority NULLS LAST";

    /// The sets derived from the finest give DataFusion's own figures for every set, the grand
    /// total (the set of no expression) and a null priority among them. Hand-computed: 2026-01
    /// over all priorities has 1, 2.5, 4, 3 (n 4, mean 2.625, p50 2.75, p90 3.7); 2026-02 has 8,
    /// 16, 32, 0.25 (n 4, mean 14.0625); the grand total has all nine values (n 9).
    #[tokio::test]
    async fn derived_sets_give_the_same_figures() {
        let ours = mttx_session();
        let plan = ours.sql(SQL).await.unwrap().create_physical_plan().await.unwrap();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        assert!(shown.contains("DerivedGroupingSetsExec"), "the partial aggregate derives its sets:\n{shown}");
        let expected = pretty_format_batches(&plain_session().sql(SQL).await.unwrap().collect().await.unwrap()).unwrap().to_string();
        let got = pretty_format_batches(&ours.sql(SQL).await.unwrap().collect().await.unwrap()).unwrap().to_string();
        assert_eq!(got, expected);
        // The pooled rows, by hand.
        let pooled = format!("SELECT month, n, mean, p50 FROM ({SQL}) WHERE g = 1 ORDER BY month NULLS LAST");
        let batches = ours.sql(&pooled).await.unwrap().collect().await.unwrap();
        let rows = pretty_format_batches(&batches).unwrap().to_string();
        let cells: Vec<Vec<String>> = rows
            .lines()
            .filter(|l| l.starts_with("| ") && !l.contains("month"))
            .map(|l| l.split('|').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect())
            .collect();
        assert_eq!(cells[0], ["2026-01", "4", "2.625", "2.75"], "{rows}");
        assert_eq!(cells[1], ["2026-02", "4", "14.0625", "12.0"], "{rows}");
        assert_eq!(cells.last().unwrap()[..1], ["9"], "the grand total has no month: {rows}");
    }

    /// A partial aggregate of one grouping set, or with a set that is not the finest, stays as
    /// DataFusion plans it.
    #[tokio::test]
    async fn other_aggregates_stay() {
        let ctx = mttx_session();
        for sql in ["SELECT month, count(*) FROM t GROUP BY month", "SELECT month, priority, count(*) FROM t GROUP BY GROUPING SETS ((month), (priority))"] {
            let plan = ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
            assert!(!displayable(plan.as_ref()).indent(true).to_string().contains("DerivedGroupingSetsExec"), "{sql}");
        }
    }
}
