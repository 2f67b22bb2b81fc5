//! The DataFusion session: canonical tables registered once under their names, SQL over them,
//! and the memory its operators may hold.

use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::ingest::MemorySink;
use crate::model::Table;

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

/// How much memory the operators of a command's queries (sorts, aggregates, joins, windows) may
/// hold at once, all of its queries together. A query that needs more fails with an error naming
/// the KPI and the limit, instead of the operating system killing the process. The tables
/// themselves and the batches in flight are not counted, so the default leaves the other half of
/// the machine to them.
///
/// Nothing spills to disk: in DataFusion 55 a nested-loop join that runs out of memory falls back
/// to re-executing its input, which panics when a repartition lies below it, and by its own
/// comment can repeat rows of left joins. An answer that is late or refused beats a wrong one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryLimit {
    Bytes(usize),
    Unbounded,
}

impl Default for MemoryLimit {
    /// Half of the machine's physical memory; 4 GiB where that cannot be read.
    fn default() -> MemoryLimit {
        MemoryLimit::Bytes(physical_memory().map_or(4 << 30, |total| total / 2))
    }
}

impl MemoryLimit {
    /// `4G`, `512M`, `1.5GiB`, `2000000000` (bytes) or `none`. Units are powers of 1024.
    pub fn parse(text: &str) -> Result<MemoryLimit, String> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("none") {
            return Ok(MemoryLimit::Unbounded);
        }
        let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let scale: u64 = match unit.trim().to_ascii_uppercase().trim_end_matches("IB").trim_end_matches('B') {
            "" => 1,
            "K" => 1 << 10,
            "M" => 1 << 20,
            "G" => 1 << 30,
            "T" => 1 << 40,
            _ => return Err(format!("`{text}`: give a size such as 4G, 512M or 1.5GiB, or none")),
        };
        let value: f64 = number.parse().map_err(|_| format!("`{text}`: give a size such as 4G, 512M or 1.5GiB, or none"))?;
        let bytes = value * scale as f64;
        if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
            return Err(format!("`{text}`: the limit must be at least one byte (or none)"));
        }
        Ok(MemoryLimit::Bytes(bytes as usize))
    }

    /// As a person reads it: `2 GiB`, `512 MiB`, `none`.
    pub fn describe(self) -> String {
        match self {
            MemoryLimit::Unbounded => "none".into(),
            MemoryLimit::Bytes(bytes) => human_bytes(bytes),
        }
    }

    /// The runtime a command's sessions share, so the limit holds for all of its queries together.
    pub fn runtime_env(self) -> Result<Arc<RuntimeEnv>> {
        let builder = RuntimeEnvBuilder::new().with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled));
        let builder = match self {
            MemoryLimit::Unbounded => builder,
            // Greedy: with nothing to spill, a share per operator would only refuse queries that
            // fit; the limit holds for the total. Tracked: the error names the largest consumers.
            MemoryLimit::Bytes(bytes) => {
                builder.with_memory_pool(Arc::new(TrackConsumersPool::new(GreedyMemoryPool::new(bytes), NonZeroUsize::new(3).expect("3 > 0"))))
            }
        };
        Ok(builder.build_arc()?)
    }
}

/// Bytes in the largest binary unit that leaves at least one: `2 GiB`, `1.5 GiB`, `512 MiB`.
fn human_bytes(bytes: usize) -> String {
    let units = [(1usize << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in units {
        if bytes >= size {
            let value = bytes as f64 / size as f64;
            let text = format!("{value:.1}");
            return format!("{} {unit}", text.trim_end_matches(".0"));
        }
    }
    format!("{bytes} bytes")
}

/// Physical memory in bytes, from /proc/meminfo (Linux); None elsewhere.
fn physical_memory() -> Option<usize> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: usize = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// `error` as the error of reaching the memory limit, naming `what` ran out and the limit; None
/// when the query failed for another reason.
pub fn out_of_memory(error: &datafusion::error::DataFusionError, what: &str, limit: MemoryLimit) -> Option<crate::Error> {
    matches!(error.find_root(), datafusion::error::DataFusionError::ResourcesExhausted(_)).then(|| crate::Error::OutOfMemory {
        what: what.into(),
        limit: limit.describe(),
        detail: error.to_string(),
    })
}

/// The limit a session's queries run under (see `MemoryLimit::runtime_env`).
pub fn limit_of(ctx: &SessionContext) -> MemoryLimit {
    match ctx.runtime_env().memory_pool.memory_limit() {
        datafusion::execution::memory_pool::MemoryLimit::Finite(bytes) => MemoryLimit::Bytes(bytes),
        _ => MemoryLimit::Unbounded,
    }
}

/// `result`, with an error from reaching the memory limit turned into one that names `what` ran
/// out and the limit.
pub fn within_limit<T>(result: Result<T>, what: &str, limit: MemoryLimit) -> Result<T> {
    result.map_err(|error| match error {
        crate::Error::DataFusion(e) => out_of_memory(&e, what, limit).unwrap_or(crate::Error::DataFusion(e)),
        other => other,
    })
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
/// rename it, where it still runs before any repartition is added), and `compact_slices` last,
/// once every sort is in place.
fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let before = rules.iter().position(|rule| rule.name() == "EnsureRequirements").unwrap_or(0);
    rules.insert(before, crate::kpi::gathered_final_rule());
    rules.push(crate::kpi::compact_slices_rule());
    rules
}

/// Functions every session has, whatever it runs: `percentile_cont` with an exact weight,
/// `percentiles_cont` (several of them over the same values, and the rule that fuses such calls
/// into it), `outage_union` (MTBF's downtime) and `max_in_window` (problem candidates).
pub(crate) fn with_functions(ctx: SessionContext) -> SessionContext {
    ctx.register_udaf(crate::kpi::percentile::udaf());
    ctx.register_udaf(crate::kpi::fused_percentiles::udaf());
    ctx.add_optimizer_rule(crate::kpi::fused_percentiles::rule());
    ctx.register_udaf(crate::kpi::outages::udaf());
    ctx.register_udaf(crate::kpi::recurrence::udaf());
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

    #[test]
    fn memory_limits_read_as_people_write_them() {
        assert_eq!(MemoryLimit::parse("4G"), Ok(MemoryLimit::Bytes(4 << 30)));
        assert_eq!(MemoryLimit::parse("512MiB"), Ok(MemoryLimit::Bytes(512 << 20)));
        assert_eq!(MemoryLimit::parse("1.5gb"), Ok(MemoryLimit::Bytes(3 << 29)));
        assert_eq!(MemoryLimit::parse("2000000"), Ok(MemoryLimit::Bytes(2_000_000)));
        assert_eq!(MemoryLimit::parse("None"), Ok(MemoryLimit::Unbounded));
        for bad in ["", "4X", "G", "-1G", "0", "1.2.3M"] {
            assert!(MemoryLimit::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(MemoryLimit::Bytes(3 << 29).describe(), "1.5 GiB");
        assert_eq!(MemoryLimit::Bytes(512 << 20).describe(), "512 MiB");
        assert!(matches!(MemoryLimit::default(), MemoryLimit::Bytes(bytes) if bytes >= 1 << 20));
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
