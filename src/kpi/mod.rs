//! KPIs: the catalog of SQL definitions with their headers, the parameters and tables that carry a
//! period into SQL, the SLA policy, the versioned results document, and the parallel runner.

pub mod breakdown;
pub mod catalog;
pub mod direction;
pub mod document;
pub mod params;
pub mod renames;
pub mod rows;
pub mod run;
pub mod selector;
pub mod significance;
pub mod sla;
pub mod timing;
pub mod tolerance;

use datafusion::prelude::SessionContext;

use crate::error::Result;
pub use breakdown::Breakdown;
pub use catalog::{Better, Kpi, KpiMeta, Significance, SignificanceTest};
pub use document::KpiDocument;
pub use params::{KpiParams, PeriodRequest, Tuning, YearMonth};
pub use run::KpiOutcome;
pub use sla::SlaPolicy;

/// Registers mttx's scalar functions for the period, the SLA policy's tables and the period's
/// parameter tables on a session whose canonical tables are already registered.
pub async fn register(ctx: &SessionContext, params: &KpiParams, policy: &sla::SlaPolicy) -> Result<()> {
    register_functions(ctx, params, policy)?;
    breakdown::register(ctx, params.by).await?;
    params.register(ctx).await
}

/// mttx's scalar functions for the period's window and the SLA policy's tables: what SQL of the
/// user's own can call, without the parameter tables KPIs read.
pub fn register_functions(ctx: &SessionContext, params: &KpiParams, policy: &sla::SlaPolicy) -> Result<()> {
    crate::functions::register_scalars(ctx, params.timezone, params.bucket_list(), policy.calendars());
    policy.register(ctx)
}

/// The KPIs to run with a breakdown: of those selected, the ones that can be cut (whose keys
/// include `by_group`); naming one that cannot in `only` is an error.
pub fn select_by(user_dir: Option<&std::path::Path>, only: &[String], by: Option<Breakdown>) -> Result<Vec<Kpi>> {
    let kpis = select(user_dir, only)?;
    let Some(by) = by else { return Ok(kpis) };
    let (can, cannot): (Vec<Kpi>, Vec<Kpi>) = kpis.into_iter().partition(|k| breakdown::supports(&k.meta.keys, by));
    if !only.is_empty() && !cannot.is_empty() {
        let names: Vec<&str> = cannot.iter().map(|k| k.id.as_str()).collect();
        let cuttable: Vec<String> = select(user_dir, &[])?.into_iter().filter(|k| breakdown::supports(&k.meta.keys, by)).map(|k| k.id).collect();
        return Err(crate::Error::Usage(format!(
            "--by {by}: {} cannot be cut by {by} (its keys have no `by_group`, or already hold {by}); the KPIs that can are: {}",
            names.join(", "),
            cuttable.join(", ")
        )));
    }
    Ok(can)
}

/// The KPIs to run: built-ins, then the user's own, narrowed to `only` when given.
pub fn select(user_dir: Option<&std::path::Path>, only: &[String]) -> Result<Vec<Kpi>> {
    let mut kpis = catalog::builtin()?;
    if let Some(dir) = user_dir {
        for kpi in catalog::from_dir(dir)? {
            if let Some(existing) = kpis.iter_mut().find(|k| k.id == kpi.id) {
                *existing = kpi; // a user's file of the same name replaces the built-in
            } else {
                kpis.push(kpi);
            }
        }
    }
    if only.is_empty() {
        return Ok(kpis);
    }
    let ids: Vec<String> = kpis.iter().map(|k| k.id.clone()).collect();
    for wanted in only {
        if !ids.contains(wanted) {
            return Err(crate::Error::Usage(format!("--only {wanted}: no such KPI; KPIs are: {}", ids.join(", "))));
        }
    }
    Ok(kpis.into_iter().filter(|k| only.contains(&k.id)).collect())
}
