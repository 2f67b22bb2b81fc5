//! The DataFusion session: canonical tables registered once under their names, and SQL over them.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::ingest::MemorySink;
use crate::model::Table;

/// A session whose `now()`-free time functions and casts use `timezone`.
pub fn session(timezone: &str) -> SessionContext {
    let mut config = SessionConfig::new().with_information_schema(true);
    config.options_mut().execution.time_zone = Some(timezone.to_string());
    // DataFusion 55 skips partial aggregation when a partition's groups are nearly all distinct
    // (≥ 100,000 rows, > 80 % distinct), and then hands `percentile_cont`'s groups accumulator its
    // raw arguments in `convert_to_state`, which asserts one column and panics on the two or three
    // it gets. Any high-cardinality GROUP BY with a percentile reaches it (a period of thousands of
    // months, a breakdown by CI). A ratio of 1.0 turns the skip off; results are the same.
    config.options_mut().execution.skip_partial_aggregation_probe_ratio_threshold = 1.0;
    SessionContext::new_with_config(config)
}

/// Registers every canonical table, empty where no input fed it, so queries can always name them.
pub fn register(ctx: &SessionContext, mut loaded: MemorySink) -> Result<()> {
    for table in Table::ALL {
        let batches = loaded.tables.remove(&table).unwrap_or_default();
        let provider = MemTable::try_new(table.schema(), vec![batches])?;
        ctx.register_table(table.name(), Arc::new(provider))?;
    }
    Ok(())
}

/// Registers `from`'s canonical tables on `to` as well: the data is shared, not copied, so
/// sessions with different parameters can run over one load.
pub async fn share_tables(from: &SessionContext, to: &SessionContext) -> Result<()> {
    for table in Table::ALL {
        let provider = from.table_provider(table.name()).await?;
        to.register_table(table.name(), provider)?;
    }
    Ok(())
}

/// A multi-threaded runtime for a command's queries.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| crate::Error::io("<tokio runtime>", e))
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own, so that synchronous
/// library code (loads, the store) can query DataFusion whether or not its caller is already
/// inside a runtime.
pub fn block_on<T: Send>(work: impl std::future::Future<Output = Result<T>> + Send) -> Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime()?.block_on(work))
            .join()
            .unwrap_or_else(|payload| Err(crate::Error::Query { origin: "engine".into(), message: crate::ingest::source::panic_message(payload.as_ref()) }))
    })
}

pub async fn sql(ctx: &SessionContext, query: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(query).await?.collect().await?)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;

    use super::*;

    /// See: issue 11. With partial aggregation skipped (≥ 100,000 rows in a partition, > 80 %
    /// distinct groups), DataFusion 55's percentile_cont panicked in `convert_to_state`: "assertion
    /// `left == right` failed: one argument to merge_batch". Two partitions and 300,000 distinct
    /// groups reach it; the session's settings must not.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_percentile_over_many_groups_does_not_panic() {
        let ctx = session("UTC");
        let rows = 300_000;
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("v", DataType::Float64, false)]));
        let batches: Vec<RecordBatch> = (0..rows)
            .step_by(10_000)
            .map(|start| {
                let keys: Vec<i64> = (start..start + 10_000).collect();
                let values: Vec<f64> = keys.iter().map(|k| *k as f64).collect();
                RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(keys)), Arc::new(Float64Array::from(values))]).unwrap()
            })
            .collect();
        let halves = batches.chunks(batches.len() / 2).map(<[RecordBatch]>::to_vec).collect();
        ctx.register_table("t", Arc::new(MemTable::try_new(schema, halves).unwrap())).unwrap();
        let frame = ctx.sql("SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50 FROM t GROUP BY k").await.unwrap();
        let batches = frame.collect().await.unwrap();
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), rows as usize);
    }
}
