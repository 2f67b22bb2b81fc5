//! KPIs: the catalog of SQL definitions, the parameters and calendar tables they read, the scalar
//! functions they call, and the parallel runner.

pub mod breakdown;
pub mod calendar;
pub mod catalog;
mod compact_slices;
#[cfg(feature = "ballista")]
pub(crate) use compact_slices::CompactSlicesExec;
pub(crate) use compact_slices::rule as compact_slices_rule;
mod constant_row;
pub mod document;
pub mod extent;
pub mod fused_percentiles;
mod gathered_final;
pub(crate) use gathered_final::rule as gathered_final_rule;
pub mod grouped;
pub mod outages;
pub mod params;
pub mod percentile;
pub mod recurrence;
pub mod run;
pub mod sla;
pub mod slots;
mod timeline;
pub mod tolerance;
pub mod udf;

use datafusion::prelude::SessionContext;

use crate::error::Result;
pub use breakdown::Breakdown;
pub use catalog::{Better, Kpi, KpiMeta, Significance, SignificanceTest};
pub use document::KpiDocument;
pub use params::{KpiParams, PeriodRequest, Tuning, YearMonth};
pub use run::KpiOutcome;
pub use sla::SlaPolicy;

/// Registers the KPI functions, the SLA policy's tables and the period's parameter tables on a
/// session whose canonical tables are already registered.
pub async fn register(ctx: &SessionContext, params: &KpiParams, policy: &sla::SlaPolicy) -> Result<()> {
    ctx.register_udf(udf::ReportMonth::udf(params.timezone, &params.bucket_list()));
    ctx.register_udf(udf::FisherExact::udf());
    ctx.register_udf(breakdown::Ungrouped::udf());
    let calendars = udf::Calendars { policy: policy.origin.clone(), by_name: std::sync::Arc::new(policy.calendars.clone()) };
    for clock in [udf::BusinessClock::Hours, udf::BusinessClock::RunningHours, udf::BusinessClock::Deadline] {
        ctx.register_udf(udf::BusinessTime::udf(clock, calendars.clone()));
    }
    policy.register(ctx)?;
    breakdown::register(ctx, params.by).await?;
    params.register(ctx).await
}

/// The KPIs to run with a breakdown: of those selected, the ones that can be cut (whose keys
/// include `by_group`); naming one that cannot in `only` is an error.
pub fn select_by(user_dir: Option<&std::path::Path>, only: &[String], by: Option<Breakdown>) -> Result<Vec<Kpi>> {
    let kpis = select(user_dir, only)?;
    let Some(by) = by else { return Ok(kpis) };
    let (can, cannot): (Vec<Kpi>, Vec<Kpi>) = kpis.into_iter().partition(|k| breakdown::supports(&k.meta.keys));
    if !only.is_empty() && !cannot.is_empty() {
        let names: Vec<&str> = cannot.iter().map(|k| k.id.as_str()).collect();
        let cuttable: Vec<String> = select(user_dir, &[])?.into_iter().filter(|k| breakdown::supports(&k.meta.keys)).map(|k| k.id).collect();
        return Err(crate::Error::Usage(format!(
            "--by {by}: {} cannot be cut by a field (its keys have no `by_group`); the KPIs that can are: {}",
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
