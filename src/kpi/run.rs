//! Running KPIs: every selected query concurrently on one session (tables registered once),
//! results kept in catalog order. One failing query does not stop the others.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use tokio::task::JoinSet;

use super::catalog::Kpi;
use crate::engine::slots::{Cost, Slots};

/// A KPI and what its query returned, or the engine's message naming the file.
pub struct KpiOutcome {
    pub kpi: Kpi,
    pub result: Result<Vec<RecordBatch>, String>,
}

/// The KPI's query on a session `kpi::register` prepared, its columns shaped for the session's
/// breakdown: what every run of it executes.
pub async fn frame(ctx: &SessionContext, kpi: &Kpi) -> datafusion::error::Result<datafusion::prelude::DataFrame> {
    super::breakdown::shape(ctx.sql(&kpi.sql).await?, super::breakdown::of_session(ctx))
}

/// Why a KPI's query gave no rows: the message, and whether it was refused at the memory limit.
struct Failure {
    message: String,
    out_of_memory: bool,
}

async fn execute(ctx: &SessionContext, kpi: &Kpi) -> Result<Vec<RecordBatch>, Failure> {
    let _slot = Slots::process().acquire(Cost::of_kpi(&kpi.id)).await;
    let what = format!("{} ({})", kpi.id, kpi.origin);
    let _named = crate::engine::resident::working_on(what.clone());
    let run = async {
        let frame = frame(ctx, kpi).await?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let (batches, plan) = collect_spilling_where_correct(frame).await?;
        if let Some(dir) = std::env::var_os(PLANS_VARIABLE) {
            write_plan(plan.as_ref(), &kpi.id, std::path::Path::new(&dir))?;
        }
        // A query with no rows may return no batches at all; keep its columns for the output.
        Ok::<_, datafusion::error::DataFusionError>(if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches })
    };
    run.await.map_err(|e| match crate::engine::out_of_memory(&e, &what, crate::engine::limit_of(ctx)) {
        Some(exhausted) => Failure { message: exhausted.to_string(), out_of_memory: true },
        None => Failure { message: format!("{what}: {e}"), out_of_memory: false },
    })
}

/// The frame's rows, and its executed plan with the metrics. Its sorts, aggregates and
/// repartitions spill to temporary files past the memory limit when no operator of the plan
/// spills incorrectly (`engine::memory::spills_correctly`).
async fn collect_spilling_where_correct(frame: datafusion::prelude::DataFrame) -> datafusion::error::Result<(Vec<RecordBatch>, Arc<dyn ExecutionPlan>)> {
    let task = frame.task_ctx();
    let plan = frame.create_physical_plan().await?;
    let task = match crate::engine::memory::spills_correctly(&plan) {
        true => {
            let spilling = crate::engine::memory::spilling(&task.runtime_env())?;
            task.with_runtime(spilling)
        }
        false => task,
    };
    Ok((datafusion::physical_plan::collect(plan.clone(), Arc::new(task)).await?, plan))
}

/// With this environment variable set to a directory, each KPI's executed plan, with the time and
/// rows of every operator, goes to `<kpi>.txt` there (docs/development.md, "Where a query's time goes").
pub const PLANS_VARIABLE: &str = "MTTX_PLANS";

/// The executed `plan` with its metrics, to `<id>.txt` in `dir`.
fn write_plan(plan: &dyn datafusion::physical_plan::ExecutionPlan, id: &str, dir: &std::path::Path) -> std::io::Result<()> {
    let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan).indent(true).to_string();
    std::fs::create_dir_all(dir).and_then(|()| std::fs::write(dir.join(format!("{id}.txt")), shown))
}

/// Ok when every query ran; else an error listing the failures.
pub fn failures(outcomes: &[KpiOutcome]) -> crate::Result<()> {
    let failed: Vec<&String> = outcomes.iter().filter_map(|o| o.result.as_ref().err()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(crate::Error::KpisFailed { failed: failed.len(), details: failed.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n") })
}

/// All KPIs at once; DataFusion also parallelises inside each query. The memory limit holds for
/// them together, so a query refused at the limit while others ran runs again by itself once they
/// are done, and fails only if it needs more than the limit alone.
pub async fn run_parallel(ctx: &SessionContext, kpis: Vec<Kpi>) -> Vec<KpiOutcome> {
    let mut tasks = JoinSet::new();
    let mut index_of = HashMap::new();
    for (index, kpi) in kpis.iter().cloned().enumerate() {
        let ctx = ctx.clone();
        let handle = tasks.spawn(async move { execute(&ctx, &kpi).await });
        index_of.insert(handle.id(), index);
    }
    let mut results: Vec<Option<Result<Vec<RecordBatch>, Failure>>> = kpis.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, result)) => results[index_of[&id]] = Some(result),
            Err(e) => {
                let index = index_of[&e.id()];
                let message = format!("{} ({}): the query task failed: {e}", kpis[index].id, kpis[index].origin);
                results[index] = Some(Err(Failure { message, out_of_memory: false }));
            }
        }
    }
    if kpis.len() > 1 {
        for (kpi, result) in kpis.iter().zip(results.iter_mut()) {
            if matches!(result, Some(Err(Failure { out_of_memory: true, .. }))) {
                crate::engine::release_freed();
                *result = Some(execute(ctx, kpi).await);
            }
        }
    }
    kpis.into_iter().zip(results).map(|(kpi, result)| KpiOutcome { kpi, result: result.expect("every task reports once").map_err(|f| f.message) }).collect()
}

/// `kpis` on `ctx`, all at once, or one after another under a tight memory limit
/// (`MemoryLimit::is_tight`): there, overlapping queries of the whole-history suite held more
/// memory outside the pool than the process had, while each query alone fits.
pub async fn run_within_memory(ctx: &SessionContext, kpis: Vec<Kpi>) -> Vec<KpiOutcome> {
    if crate::engine::limit_of(ctx).is_tight() { run_serial(ctx, kpis).await } else { run_parallel(ctx, kpis).await }
}

/// One KPI after another: under a tight memory limit, and for measuring what parallelism gains.
pub async fn run_serial(ctx: &SessionContext, kpis: Vec<Kpi>) -> Vec<KpiOutcome> {
    let mut outcomes = Vec::with_capacity(kpis.len());
    for kpi in kpis {
        // What the last query freed is given back before the next one takes its own.
        crate::engine::release_freed();
        let result = execute(ctx, &kpi).await.map_err(|f| f.message);
        outcomes.push(KpiOutcome { kpi, result });
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Float64Array, Int64Array};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::datasource::MemTable;

    use super::*;
    use crate::engine::MemoryLimit;

    /// 400,000 durations in 200,000 groups of two: the final aggregate's groups, with the values
    /// exact percentiles keep, need far more than 24 MiB.
    fn session(limit: MemoryLimit) -> SessionContext {
        let schema = Arc::new(Schema::new(vec![Field::new("key", DataType::Int64, false), Field::new("hours", DataType::Float64, false)]));
        let rows: Vec<i64> = (0..400_000).collect();
        let batches = rows
            .chunks(8192)
            .map(|chunk| {
                let keys = Int64Array::from_iter_values(chunk.iter().map(|i| i % 200_000));
                let hours = Float64Array::from_iter_values(chunk.iter().map(|&i| (i * 7 % 1000) as f64 / 8.0));
                RecordBatch::try_new(schema.clone(), vec![Arc::new(keys), Arc::new(hours)]).unwrap()
            })
            .collect();
        let ctx = crate::engine::session_in("UTC", limit.runtime_env().unwrap());
        ctx.register_table("durations", Arc::new(MemTable::try_new(schema, vec![batches]).unwrap())).unwrap();
        ctx
    }

    /// No ORDER BY: a sort would hold its own 10 MB merge reservation of the small pool.
    const QUERY: &str = "SELECT key, count(*) AS n, sum(hours) AS total, percentile_cont(0.5) WITHIN GROUP (ORDER BY hours) AS p50 \
                         FROM durations GROUP BY key";

    async fn in_order(ctx: &SessionContext, batches: Vec<RecordBatch>) -> String {
        let table = MemTable::try_new(batches[0].schema(), vec![batches]).unwrap();
        let sorted = ctx.read_table(Arc::new(table)).unwrap().sort_by(vec![datafusion::prelude::col("key")]).unwrap().collect().await.unwrap();
        pretty_format_batches(&sorted).unwrap().to_string()
    }

    fn spills(plan: &Arc<dyn ExecutionPlan>) -> usize {
        let own = plan.metrics().and_then(|m| m.spill_count()).unwrap_or(0);
        own + plan.children().into_iter().map(spills).sum::<usize>()
    }

    #[tokio::test]
    async fn an_aggregate_past_the_limit_spills_and_answers_as_without_one() {
        let unlimited = session(MemoryLimit::Unbounded);
        let expected = unlimited.sql(QUERY).await.unwrap().collect().await.unwrap();
        let limited = session(MemoryLimit::Bytes(24 << 20));
        let (batches, plan) = collect_spilling_where_correct(limited.sql(QUERY).await.unwrap()).await.unwrap();
        assert!(
            spills(&plan) > 0,
            "the query fitted in 24 MiB, so this test shows nothing:\n{}",
            datafusion::physical_plan::displayable(plan.as_ref()).indent(true)
        );
        assert_eq!(in_order(&unlimited, batches).await, in_order(&unlimited, expected).await);
    }

    #[tokio::test]
    async fn a_plan_with_a_nested_loop_join_runs_without_temporary_files() {
        let ctx = session(MemoryLimit::Unbounded);
        let plan = |sql: &'static str| {
            let ctx = ctx.clone();
            async move { ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap() }
        };
        assert!(crate::engine::memory::spills_correctly(&plan(QUERY).await));
        let inequality = plan("SELECT a.key FROM durations a JOIN durations b ON a.hours < b.hours").await;
        assert!(!crate::engine::memory::spills_correctly(&inequality));
    }
}
