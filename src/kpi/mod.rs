//! KPIs: the catalog of SQL definitions, the parameters and calendar tables they read, the scalar
//! functions they call, and the parallel runner.

pub mod calendar;
pub mod catalog;
pub mod document;
pub mod extent;
pub mod params;
pub mod run;
pub mod sla;
pub mod tolerance;
pub mod udf;

use datafusion::prelude::SessionContext;

use crate::error::Result;
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
    let calendars = udf::Calendars { policy: policy.origin.clone(), by_name: std::sync::Arc::new(policy.calendars.clone()) };
    for clock in [udf::BusinessClock::Hours, udf::BusinessClock::RunningHours, udf::BusinessClock::Deadline] {
        ctx.register_udf(udf::BusinessTime::udf(clock, calendars.clone()));
    }
    policy.register(ctx)?;
    params.register(ctx).await
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
