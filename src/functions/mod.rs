//! mttx's SQL functions, one module each, and the one registry of them: what a session registers,
//! and what a Ballista plan carries to the executors (`engine::ballista::functions` encodes each
//! `Scalar` and aggregate it finds here, by an exhaustive match, so a function added here cannot
//! be forgotten by either side).
//!
//! Scalar functions carry state fixed when they are registered (the reporting zone and buckets,
//! the SLA policy's calendars), never parameter text in SQL; aggregates carry none.

pub mod business_time;
pub mod calendar;
pub mod exact_mean;
pub mod fisher_exact_p;
mod grouped;
pub mod max_in_window;
pub mod outage_union;
pub mod percentile_cont;
pub mod percentiles_cont;
pub mod poisson_rate_p;
pub mod report_month;
pub mod ungrouped;

use chrono_tz::Tz;
use datafusion::logical_expr::{AggregateUDF, ScalarUDF};
use datafusion::prelude::SessionContext;

pub use business_time::{BusinessClock, BusinessTime, Calendars};
pub use fisher_exact_p::{FisherExact, fisher_exact_p};
pub use poisson_rate_p::PoissonRate;
pub use report_month::{Bucket, ReportMonth};
pub use ungrouped::Ungrouped;

/// One of mttx's scalar functions with the state it is made with.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    /// `report_month(ts)` in a zone, over a window's buckets.
    ReportMonth { timezone: Tz, buckets: Vec<Bucket> },
    /// `fisher_exact_p(a, b, c, d)`.
    FisherExactP,
    /// `poisson_rate_p(c1, t1, c0, t0)`.
    PoissonRateP,
    /// `ungrouped(x)`.
    Ungrouped,
    /// `business_hours`, `sla_running_hours` or `sla_deadline` on a policy's calendars.
    BusinessTime { clock: BusinessClock, calendars: Calendars },
}

impl Scalar {
    /// The scalar functions of a session for one window: every one of mttx's.
    pub fn all(timezone: Tz, buckets: Vec<Bucket>, calendars: Calendars) -> Vec<Scalar> {
        let clocks = [BusinessClock::Hours, BusinessClock::RunningHours, BusinessClock::Deadline];
        let mut all = vec![Scalar::ReportMonth { timezone, buckets }, Scalar::FisherExactP, Scalar::PoissonRateP, Scalar::Ungrouped];
        all.extend(clocks.map(|clock| Scalar::BusinessTime { clock, calendars: calendars.clone() }));
        all
    }

    /// The function to register.
    pub fn udf(&self) -> ScalarUDF {
        match self {
            Scalar::ReportMonth { timezone, buckets } => ReportMonth::udf(*timezone, buckets),
            Scalar::FisherExactP => FisherExact::udf(),
            Scalar::PoissonRateP => PoissonRate::udf(),
            Scalar::Ungrouped => Ungrouped::udf(),
            Scalar::BusinessTime { clock, calendars } => BusinessTime::udf(*clock, calendars.clone()),
        }
    }

    /// Which of mttx's functions `udf` is, with its state; None for DataFusion's own.
    pub fn of(udf: &ScalarUDF) -> Option<Scalar> {
        let inner = udf.inner();
        if let Some(f) = inner.downcast_ref::<ReportMonth>() {
            Some(Scalar::ReportMonth { timezone: f.timezone(), buckets: f.buckets() })
        } else if inner.is::<FisherExact>() {
            Some(Scalar::FisherExactP)
        } else if inner.is::<PoissonRate>() {
            Some(Scalar::PoissonRateP)
        } else if inner.is::<Ungrouped>() {
            Some(Scalar::Ungrouped)
        } else {
            inner.downcast_ref::<BusinessTime>().map(|f| Scalar::BusinessTime { clock: f.clock(), calendars: f.calendars().clone() })
        }
    }
}

/// The aggregates every session has: `percentile_cont` with an exact weight (over DataFusion's),
/// `percentiles_cont`, `outage_union`, `max_in_window` and `exact_mean`.
pub fn aggregates() -> [AggregateUDF; 5] {
    [percentile_cont::udaf(), percentiles_cont::udaf(), outage_union::udaf(), max_in_window::udaf(), exact_mean::udaf()]
}

/// Registers the aggregates on `ctx`.
pub fn register_aggregates(ctx: &SessionContext) {
    for udaf in aggregates() {
        ctx.register_udaf(udaf);
    }
}

/// Registers the scalar functions of one window on `ctx`.
pub fn register_scalars(ctx: &SessionContext, timezone: Tz, buckets: Vec<Bucket>, calendars: Calendars) {
    for scalar in Scalar::all(timezone, buckets, calendars) {
        ctx.register_udf(scalar.udf());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    /// Every registered function is found again from its UDF, state and all: what the codec and a
    /// session's registration both rely on.
    #[test]
    fn every_scalar_is_known_by_its_udf() {
        let calendars = Calendars { policy: "<test>".into(), by_name: Arc::new([("always".to_string(), calendar::Calendar::always_open())].into()) };
        let buckets = vec![Bucket { label: "2026-10".into(), start: 1, end: 2 }];
        for scalar in Scalar::all(chrono_tz::Europe::Amsterdam, buckets, calendars) {
            assert_eq!(Scalar::of(&scalar.udf()).as_ref(), Some(&scalar));
        }
        let datafusion_own = datafusion::functions::string::upper();
        assert!(Scalar::of(&datafusion_own).is_none());
    }
}
