//! Running KPIs: every selected query concurrently on one session (tables registered once),
//! results kept in catalog order. One failing query does not stop the others.

use std::collections::HashMap;

use datafusion::arrow::record_batch::RecordBatch;
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

async fn execute(ctx: &SessionContext, kpi: &Kpi) -> Result<Vec<RecordBatch>, String> {
    let _slot = Slots::process().acquire(Cost::of_kpi(&kpi.id)).await;
    let run = async {
        let frame = frame(ctx, kpi).await?;
        let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
        let batches = match std::env::var_os(PLANS_VARIABLE) {
            Some(dir) => collect_and_write_plan(frame, &kpi.id, std::path::Path::new(&dir)).await?,
            None => frame.collect().await?,
        };
        // A query with no rows may return no batches at all; keep its columns for the output.
        Ok::<_, datafusion::error::DataFusionError>(if batches.is_empty() { vec![RecordBatch::new_empty(schema)] } else { batches })
    };
    run.await.map_err(|e| {
        let what = format!("{} ({})", kpi.id, kpi.origin);
        match crate::engine::out_of_memory(&e, &what, crate::engine::limit_of(ctx)) {
            Some(exhausted) => exhausted.to_string(),
            None => format!("{what}: {e}"),
        }
    })
}

/// With this environment variable set to a directory, each KPI's executed plan, with the time and
/// rows of every operator, goes to `<kpi>.txt` there (docs/development.md, "Where a query's time goes").
pub const PLANS_VARIABLE: &str = "MTTX_PLANS";

async fn collect_and_write_plan(frame: datafusion::prelude::DataFrame, id: &str, dir: &std::path::Path) -> datafusion::error::Result<Vec<RecordBatch>> {
    let task = std::sync::Arc::new(frame.task_ctx());
    let plan = frame.create_physical_plan().await?;
    let batches = datafusion::physical_plan::collect(plan.clone(), task).await?;
    let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(plan.as_ref()).indent(true).to_string();
    std::fs::create_dir_all(dir).and_then(|()| std::fs::write(dir.join(format!("{id}.txt")), shown))?;
    Ok(batches)
}

/// Ok when every query ran; else an error listing the failures.
pub fn failures(outcomes: &[KpiOutcome]) -> crate::Result<()> {
    let failed: Vec<&String> = outcomes.iter().filter_map(|o| o.result.as_ref().err()).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(crate::Error::KpisFailed { failed: failed.len(), details: failed.iter().map(|f| format!("  {f}")).collect::<Vec<_>>().join("\n") })
}

/// All KPIs at once; DataFusion also parallelises inside each query.
pub async fn run_parallel(ctx: &SessionContext, kpis: Vec<Kpi>) -> Vec<KpiOutcome> {
    let mut tasks = JoinSet::new();
    let mut index_of = HashMap::new();
    for (index, kpi) in kpis.iter().cloned().enumerate() {
        let ctx = ctx.clone();
        let handle = tasks.spawn(async move { execute(&ctx, &kpi).await });
        index_of.insert(handle.id(), index);
    }
    let mut results: Vec<Option<Result<Vec<RecordBatch>, String>>> = kpis.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next_with_id().await {
        match joined {
            Ok((id, result)) => results[index_of[&id]] = Some(result),
            Err(e) => {
                let index = index_of[&e.id()];
                results[index] = Some(Err(format!("{} ({}): the query task failed: {e}", kpis[index].id, kpis[index].origin)));
            }
        }
    }
    kpis.into_iter().zip(results).map(|(kpi, result)| KpiOutcome { kpi, result: result.expect("every task reports once") }).collect()
}

/// One KPI after another, for measuring what parallelism gains.
pub async fn run_serial(ctx: &SessionContext, kpis: Vec<Kpi>) -> Vec<KpiOutcome> {
    let mut outcomes = Vec::with_capacity(kpis.len());
    for kpi in kpis {
        let result = execute(ctx, &kpi).await;
        outcomes.push(KpiOutcome { kpi, result });
    }
    outcomes
}
