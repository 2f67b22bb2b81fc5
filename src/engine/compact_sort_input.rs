//! The physical optimizer rule and operator that give a sort, and a join's build side, compact
//! batches: a batch that is a small slice of much larger buffers is copied out before the
//! operator holds it.
//!
//! An aggregate emits its groups as one batch and hands it on in slices of `batch_size` rows,
//! each still holding the whole batch's buffers, and so does a sort of what fits in memory.
//! DataFusion 55's sort reserves the memory of every buffer each batch holds, so it counts the
//! aggregate's output once per slice, and a breakdown with millions of groups (`mttr --by ci`)
//! would be refused by the memory limit while holding a fraction of it. A join collecting its
//! build side counts the same way: mtbf's join of a year's outages with its two windows reserved
//! 1.5 GB for what takes well under 100 MB. Copying a slice costs what the slice holds; batches
//! that are not mostly someone else's buffers pass through untouched.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, UInt32Array};
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::utils::memory::get_record_batch_memory_size;
use datafusion::execution::TaskContext;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::joins::{CrossJoinExec, HashJoinExec, NestedLoopJoinExec};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PhysicalExpr, PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::StreamExt;

/// A batch is copied when the buffers it holds take more than this many times the memory its
/// rows use (and more than `SLACK` bytes besides): a tenth of an aggregate's output or less.
const WASTE_FACTOR: usize = 4;
const SLACK: usize = 1 << 20;

/// The rule: every sort's input, and every join's build side (its left input), goes through
/// `CompactSlicesExec`.
pub fn rule() -> Arc<dyn PhysicalOptimizerRule + Send + Sync> {
    Arc::new(CompactSortInput)
}

#[derive(Debug)]
struct CompactSortInput;

/// True for the operators that hold their (first) input's batches and count them.
fn holds_first_input(node: &Arc<dyn ExecutionPlan>) -> bool {
    node.downcast_ref::<SortExec>().is_some()
        || node.downcast_ref::<NestedLoopJoinExec>().is_some()
        || node.downcast_ref::<HashJoinExec>().is_some()
        || node.downcast_ref::<CrossJoinExec>().is_some()
}

impl PhysicalOptimizerRule for CompactSortInput {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if !holds_first_input(&node) {
                return Ok(Transformed::no(node));
            }
            let mut children: Vec<Arc<dyn ExecutionPlan>> = node.children().into_iter().cloned().collect();
            if children.first().is_none_or(|held| held.downcast_ref::<CompactSlicesExec>().is_some()) {
                return Ok(Transformed::no(node));
            }
            children[0] = Arc::new(CompactSlicesExec::new(Arc::clone(&children[0])));
            // The operator's inputs keep their properties: CompactSlicesExec passes them on.
            let node = Arc::clone(&node).replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep))?;
            Ok(Transformed::yes(node))
        })
        .data()
    }

    fn name(&self) -> &str {
        "mttx_compact_sort_input"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Passes its input's batches on, copying those that are small slices of large buffers.
#[derive(Debug)]
pub struct CompactSlicesExec {
    input: Arc<dyn ExecutionPlan>,
}

impl CompactSlicesExec {
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        CompactSlicesExec { input }
    }
}

impl DisplayAs for CompactSlicesExec {
    fn fmt_as(&self, _: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "CompactSlicesExec")
    }
}

impl ExecutionPlan for CompactSlicesExec {
    fn name(&self) -> &str {
        "CompactSlicesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn apply_expressions(&self, _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>, _options: ReplaceChildrenOptions) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(CompactSlicesExec::new(children.swap_remove(0))))
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(children, ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let compacted = input.map(|batch| batch.and_then(|b| Ok(compact(b)?)));
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, compacted)))
    }
}

/// `batch` itself, or a copy holding only its rows when it mostly holds other rows' buffers.
pub fn compact(batch: RecordBatch) -> datafusion::arrow::error::Result<RecordBatch> {
    let held = get_record_batch_memory_size(&batch);
    let used: usize = batch.columns().iter().map(|c| c.to_data().get_slice_memory_size().unwrap_or(held)).sum();
    if held <= used.saturating_mul(WASTE_FACTOR).saturating_add(SLACK) {
        return Ok(batch);
    }
    let rows = UInt32Array::from_iter_values(0..batch.num_rows() as u32);
    let columns = batch.columns().iter().map(|column| compact_column(column, &rows)).collect::<datafusion::arrow::error::Result<Vec<_>>>()?;
    RecordBatch::try_new(batch.schema(), columns)
}

/// A copy of `column` holding only its own values. `take` copies values, but a view array's
/// copy would still point into the original data buffers, so views are garbage-collected.
fn compact_column(column: &ArrayRef, rows: &UInt32Array) -> datafusion::arrow::error::Result<ArrayRef> {
    Ok(match column.data_type() {
        DataType::Utf8View => Arc::new(column.as_string_view().gc()),
        DataType::BinaryView => Arc::new(column.as_binary_view().gc()),
        _ => take(column.as_ref(), rows, None)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, StringViewArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    fn big_batch(rows: usize) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8View, false), Field::new("v", DataType::Float64, false)]));
        let keys = StringViewArray::from_iter_values((0..rows).map(|i| format!("a key long enough not to be inlined {i}")));
        let values = Float64Array::from_iter_values((0..rows).map(|i| i as f64));
        RecordBatch::try_new(schema, vec![Arc::new(keys), Arc::new(values)]).unwrap()
    }

    /// A slice of a million-row batch is copied down to its own rows, with the same values; a
    /// whole batch passes through as it is.
    #[test]
    fn slices_of_large_batches_are_copied_and_whole_ones_kept() {
        let batch = big_batch(1_000_000);
        let slice = batch.slice(500_000, 8192);
        let compacted = compact(slice.clone()).unwrap();
        assert_eq!(compacted, slice);
        assert!(get_record_batch_memory_size(&slice) > 50 * get_record_batch_memory_size(&compacted));
        let whole = compact(batch.clone()).unwrap();
        assert!(whole.column(1).to_data().buffers()[0].as_ptr() == batch.column(1).to_data().buffers()[0].as_ptr(), "copied a whole batch");
    }

    /// 300,000 groups sorted under a 128 MiB limit: the aggregates hold less than 80 MB, but
    /// DataFusion's sort, given the final aggregates' output as slices, counts every slice's
    /// buffers (gigabytes) and refuses; with the rule it sorts.
    #[tokio::test]
    async fn a_sort_of_many_groups_fits_the_memory_it_uses() {
        use datafusion::datasource::MemTable;
        use datafusion::execution::SessionStateBuilder;
        use datafusion::prelude::SessionContext;

        let groups = 300_000usize;
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Utf8, false), Field::new("v", DataType::Float64, false)]));
        let part = |offset: usize| {
            let keys = datafusion::arrow::array::StringArray::from_iter_values((0..groups).map(|i| format!("group {:07}", (i * 7919 + offset) % groups)));
            RecordBatch::try_new(schema.clone(), vec![Arc::new(keys), Arc::new(Float64Array::from_iter_values((0..groups).map(|i| i as f64)))]).unwrap()
        };
        let table = || Arc::new(MemTable::try_new(schema.clone(), vec![vec![part(0)], vec![part(1)]]).unwrap());
        let runtime = crate::engine::MemoryLimit::Bytes(128 << 20).runtime_env().unwrap();
        // Batches of 1,024 rows make 150 slices per partition, so the margin either way is wide.
        let config = || crate::engine::config("UTC").with_target_partitions(2).with_batch_size(1024);
        let sql = "SELECT k, count(*) AS n, avg(v) AS mean FROM t GROUP BY k ORDER BY k";

        let ours = crate::engine::session_with(config(), runtime.clone());
        ours.register_table("t", table()).unwrap();
        let batches = ours.sql(sql).await.unwrap().collect().await.unwrap();
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), groups);

        let state = SessionStateBuilder::new().with_config(config()).with_runtime_env(runtime).with_default_features().build();
        let plain = SessionContext::new_with_state(state);
        plain.register_table("t", table()).unwrap();
        let refused = plain.sql(sql).await.unwrap().collect().await.expect_err("DataFusion's sort alone counts every slice");
        assert!(refused.to_string().contains("Resources exhausted"), "{refused}");
    }
}
