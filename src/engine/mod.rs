//! The DataFusion session: canonical tables registered once under their names, SQL over them,
//! mttx's planner rules and functions on every session, and where queries run (this process or a
//! Ballista cluster).

#[cfg(feature = "ballista")]
pub mod ballista;
pub(crate) mod compact_sort_input;
mod final_on_one_partition;
mod fuse_percentiles;
pub(crate) mod grouping_sets;
pub mod inline_params;
pub mod memory;
pub mod resident;
pub mod scope;
pub mod slots;

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::ingest::MemorySink;
use crate::model::Table;
pub use memory::{MemoryLimit, limit_of, out_of_memory, release_freed, within_limit};

/// Where a command's queries run: in this process, or on an Apache DataFusion Ballista cluster
/// (`--engine ballista://HOST:PORT`, with the cargo feature `ballista`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Engine {
    #[default]
    Local,
    /// The scheduler's `host:port`.
    Ballista { scheduler: String },
}

impl Engine {
    /// `local` or `ballista://HOST:PORT`.
    pub fn parse(text: &str) -> Result<Engine, String> {
        if text == "local" {
            return Ok(Engine::Local);
        }
        let Some(address) = text.strip_prefix("ballista://") else {
            return Err(format!("`{text}`: give local, or ballista://HOST:PORT for a Ballista scheduler"));
        };
        let address = address.trim_end_matches('/');
        match host_and_port(address) {
            Some((_, port)) if port > 0 => Ok(Engine::Ballista { scheduler: address.to_string() }),
            _ => Err(format!("`{text}`: give the scheduler as ballista://HOST:PORT, such as ballista://10.0.0.5:50050")),
        }
    }
}

/// `HOST:PORT` as its host (an IPv6 address without its brackets) and port; None when it is not
/// one.
pub fn host_and_port(text: &str) -> Option<(&str, u16)> {
    let (host, port) = text.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.parse().ok()?;
    (!host.is_empty()).then_some((host, port))
}

/// A session whose `now()`-free time functions and casts use `timezone`, with no memory limit.
pub fn session(timezone: &str) -> SessionContext {
    session_with(config(timezone), Arc::new(RuntimeEnv::default()))
}

/// A session like `session`, on a shared runtime (see `MemoryLimit::runtime_env`).
pub fn session_in(timezone: &str, runtime: Arc<RuntimeEnv>) -> SessionContext {
    session_with(config(timezone), runtime)
}

/// A local session with mttx's functions and physical optimizer rules.
pub(crate) fn session_with(config: SessionConfig, runtime: Arc<RuntimeEnv>) -> SessionContext {
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_physical_optimizer_rules(physical_optimizer_rules())
        .build();
    with_functions(SessionContext::new_with_state(state))
}

/// DataFusion's physical optimizer rules, with `gathered_final` just before the rule that adds
/// the repartitions its rewrite relies on (`EnsureRequirements`; first, should a later DataFusion
/// rename it, where it still runs before any repartition is added), `derive_grouping_sets` once
/// DataFusion has placed every aggregate, and `compact_slices` last, once every sort is in place.
fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let before = rules.iter().position(|rule| rule.name() == "EnsureRequirements").unwrap_or(0);
    rules.insert(before, final_on_one_partition::rule());
    rules.push(grouping_sets::rule());
    rules.push(compact_sort_input::rule());
    rules
}

/// A session of mttx's on two partitions, whatever this machine's cores, for the rules' tests.
#[cfg(test)]
pub(crate) fn two_partition_session() -> SessionContext {
    session_with(config("UTC").with_target_partitions(2), Arc::new(RuntimeEnv::default()))
}

/// The same, with mttx's functions but DataFusion's physical optimizer rules only: what a rule's
/// results are compared with.
#[cfg(test)]
pub(crate) fn two_partition_session_without_rules() -> SessionContext {
    let state = SessionStateBuilder::new().with_config(config("UTC").with_target_partitions(2)).with_default_features().build();
    with_functions(SessionContext::new_with_state(state))
}

/// Functions every session has, whatever it runs: the aggregates of `functions` (they carry no
/// state), and the rule that fuses `percentile_cont` calls into `percentiles_cont`.
pub(crate) fn with_functions(ctx: SessionContext) -> SessionContext {
    crate::functions::register_aggregates(&ctx);
    ctx.add_optimizer_rule(fuse_percentiles::rule());
    ctx
}

pub(crate) fn config(timezone: &str) -> SessionConfig {
    let mut config = SessionConfig::new().with_information_schema(true);
    config.options_mut().execution.time_zone = Some(timezone.to_string());
    // DataFusion 55 skips partial aggregation when a partition's groups are nearly all distinct
    // (≥ 100,000 rows, > 80 % distinct), and then hands `percentile_cont`'s groups accumulator its
    // raw arguments in `convert_to_state`, which asserts one column and panics on the two or three
    // it gets. Any high-cardinality GROUP BY with a percentile reaches it (a period of thousands of
    // months, a breakdown by CI). A ratio of 1.0 turns the skip off; results are the same.
    config.options_mut().execution.skip_partial_aggregation_probe_ratio_threshold = 1.0;
    // A partition that runs out of work reads row groups assigned to its sibling (DataFusion 55's
    // work stealing), so which rows each partition sums depends on timing, and a mean's last bit
    // moved from run to run once the window filters reached the scans (1 M report, one run in
    // three). Each partition reads its own byte ranges instead: the same rows give the same bits.
    config.options_mut().execution.enable_file_stream_work_stealing = false;
    config
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
/// Its threads get 32 MiB stacks, as Ballista's own scheduler has: a cluster encodes and decodes
/// plans recursively, and a KPI's plan is deep. The memory is reserved, not used.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().thread_stack_size(32 << 20).enable_all().build().map_err(|e| crate::Error::io("<tokio runtime>", e))
}

/// Runs `work` to completion on a runtime of its own, on a thread of its own, so that synchronous
/// library code (loads, the store) can query DataFusion whether or not its caller is already
/// inside a runtime.
pub fn block_on<T: Send>(work: impl std::future::Future<Output = Result<T>> + Send) -> Result<T> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| runtime()?.block_on(work))
            .join()
            .unwrap_or_else(|payload| Err(crate::Error::Query { origin: "engine".into(), message: crate::error::panic_message(payload.as_ref()) }))
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

    #[test]
    fn engines_read_as_people_write_them() {
        assert_eq!(Engine::parse("local"), Ok(Engine::Local));
        assert_eq!(Engine::parse("ballista://10.0.0.5:50050"), Ok(Engine::Ballista { scheduler: "10.0.0.5:50050".into() }));
        assert_eq!(Engine::parse("ballista://sched.example:7000/"), Ok(Engine::Ballista { scheduler: "sched.example:7000".into() }));
        assert_eq!(host_and_port("[::1]:50050"), Some(("::1", 50050)));
        assert_eq!(host_and_port("127.0.0.1:0"), Some(("127.0.0.1", 0)));
        for bad in ["", "ballista://", "ballista://host", "ballista://:50050", "ballista://host:0", "ballista://host:99999", "df://host:50050", "LOCAL"] {
            assert!(Engine::parse(bad).is_err(), "{bad}");
        }
    }

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
