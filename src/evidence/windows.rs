//! Windows of months as one bucket each: a window's KPI run with the samples behind its rank tests
//! and the hours it covers, the check that a window ends by the cut-off, and every measure of one
//! window set against another's. `mttx compare` and the improvement register both use them.

use crate::error::{Error, Result};
use crate::evidence::comparison::{self, Comparison, PeriodValues};
use crate::evidence::samples::Samples;
use crate::evidence::targets::Targets;
use crate::kpi::params::{Buckets, KpiParams, window_label};
use crate::kpi::{self, Breakdown, Kpi, KpiDocument, PeriodRequest, Tuning};
use crate::pipeline::Pipeline;
use crate::time::{MonthRange, rfc3339};

/// One window's run: its values, the samples behind rank tests, and the hours it covers.
pub struct WindowRun {
    pub params: KpiParams,
    pub document: KpiDocument,
    pub samples: Samples,
}

impl WindowRun {
    pub fn covered_hours(&self) -> f64 {
        (self.params.period_end.min(self.params.as_of) - self.params.period_start).max(0) as f64 / 3.6e9
    }

    pub(crate) fn values(&self, label: String) -> PeriodValues<'_> {
        PeriodValues { label, document: &self.document, samples: Some(&self.samples), covered_hours: self.covered_hours() }
    }
}

/// Runs `kpis` over `window` as one bucket: every month-grained KPI gives one row per key for the
/// whole window, pooling its tickets.
pub fn run_window(pipeline: &Pipeline, window: MonthRange, kpis: &[Kpi], tuning: Tuning, by: Option<Breakdown>) -> Result<WindowRun> {
    let params = pipeline.params(PeriodRequest::Months(window.first, window.last), tuning)?.with_buckets(Buckets::Whole).with_breakdown(by);
    pipeline.runtime().block_on(async {
        let ctx = pipeline.session(&params).await?;
        let outcomes = kpi::run::run_parallel(&ctx, kpis.to_vec()).await;
        kpi::run::failures(&outcomes)?;
        let document = KpiDocument::new(&params, &outcomes)?;
        let samples = Samples::collect(&ctx, kpis).await?;
        Ok::<_, Error>(WindowRun { params, document, samples })
    })
}

/// A window's end must not lie past the cut-off: its last month would be partial, and a partial
/// month compared with whole ones says nothing.
pub fn check_window(pipeline: &Pipeline, flag: &str, window: MonthRange, tuning: Tuning) -> Result<()> {
    let params = pipeline.params(PeriodRequest::Months(window.first, window.last), tuning)?;
    if params.period_end > params.as_of {
        return Err(Error::Usage(format!(
            "{flag} {window}: it reaches past the cut-off {} (its last month ends {}); choose months that end by the cut-off, or a later --as-of",
            rfc3339(params.as_of),
            rfc3339(params.period_end)
        )));
    }
    Ok(())
}

/// Every measure of `after` against `before`, tested and corrected for the number of tests.
pub fn comparisons(kpis: &[Kpi], before: &WindowRun, after: &WindowRun) -> Vec<Comparison> {
    let label = |run: &WindowRun| window_label(run.params.first, run.params.last);
    let (b, a) = (before.values(label(before)), after.values(label(after)));
    comparison::compare(kpis, &a, Some(&b), None, None, &Targets::none(), None)
}
