//! Windows of months as one bucket each: a window's KPI run with the samples behind its rank tests
//! and the hours it covers, the check that a window ends by the cut-off, and every measure of one
//! window set against another's. `mttx compare` and the improvement register both use them. A
//! window may also be run on its cohort: the incidents opened in it, followed to the cut-off.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{col, lit};
use datafusion::scalar::ScalarValue;

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

/// The incidents opened in a window and how many of them were still open at the cut-off, overall
/// and by priority (None for incidents with none).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Cohort {
    pub opened: u64,
    pub still_open: u64,
    pub by_priority: Vec<(Option<i64>, u64, u64)>,
}

impl Cohort {
    /// (opened, still open) for a row of `priority`, or for all when the row has none.
    pub fn of(&self, priority: Option<i64>) -> (u64, u64) {
        match priority {
            Some(p) => self.by_priority.iter().find(|(q, _, _)| *q == Some(p)).map(|(_, o, s)| (*o, *s)).unwrap_or((0, 0)),
            None => (self.opened, self.still_open),
        }
    }
}

/// Runs `kpis` on the cohort of `window`: only the incidents opened in it, each followed to the
/// cut-off (a resolution after the window counts, one after the cut-off does not), as one bucket.
/// Duration measures judged this way compare like with like: a ticket opened before a go-live
/// and resolved after it belongs to "before".
pub fn run_cohort(pipeline: &Pipeline, window: MonthRange, kpis: &[Kpi], tuning: Tuning, by: Option<Breakdown>) -> Result<(WindowRun, Cohort)> {
    let opened = pipeline.params(PeriodRequest::Months(window.first, window.last), tuning)?;
    let (opened_from, opened_to) = (opened.period_start, opened.period_end);
    // The bucket runs from the window's start to just past the cut-off, so that every resolution
    // up to the cut-off falls in it; the incidents table holds the window's openings only.
    let params = KpiParams { period_end: opened.as_of.saturating_add(1).max(opened_to), ..opened }.with_buckets(Buckets::Whole).with_breakdown(by);
    pipeline.runtime().block_on(async {
        let ctx = pipeline.session(&params).await?;
        let stamp = |micros: i64| lit(ScalarValue::TimestampMicrosecond(Some(micros), Some(crate::model::UTC.into())));
        let cohort = ctx.table("incidents").await?.filter(col("opened_at").gt_eq(stamp(opened_from)).and(col("opened_at").lt(stamp(opened_to))))?;
        ctx.deregister_table("incidents")?;
        ctx.register_table("incidents", cohort.into_view())?;
        let outcomes = kpi::run::run_parallel(&ctx, kpis.to_vec()).await;
        kpi::run::failures(&outcomes)?;
        let document = KpiDocument::new(&params, &outcomes)?;
        let samples = Samples::collect(&ctx, kpis).await?;
        let counts = ctx.sql(STILL_OPEN).await?.collect().await?;
        let mut cohort = Cohort::default();
        for batch in &counts {
            let priority = batch.column(0).as_primitive::<Int64Type>();
            let (opened, open) = (batch.column(1).as_primitive::<Int64Type>(), batch.column(2).as_primitive::<Int64Type>());
            for r in 0..batch.num_rows() {
                let (o, s) = (opened.value(r).max(0) as u64, open.value(r).max(0) as u64);
                cohort.opened += o;
                cohort.still_open += s;
                cohort.by_priority.push((priority.is_valid(r).then(|| priority.value(r)), o, s));
            }
        }
        Ok::<_, Error>((WindowRun { params, document, samples }, cohort))
    })
}

/// The cohorts before and after.
pub type Cohorts = (Cohort, Cohort);

/// A KPI of durations (its unit is hours): the kind judged on cohorts.
pub fn is_duration(kpi: &Kpi) -> bool {
    kpi.meta.unit == "hours"
}

/// Two windows' runs set against each other.
pub struct WindowComparison {
    pub comparisons: Vec<Comparison>,
    /// With cohorts, each cohort's incidents and those still open.
    pub cohorts: Option<Cohorts>,
    /// The runs behind the comparisons, before and after, each with the KPIs it ran.
    pub runs: Vec<(Vec<String>, WindowRun, WindowRun)>,
}

impl WindowComparison {
    /// The runs (before, after) that measured `kpi`.
    pub fn runs_of(&self, kpi: &str) -> Option<(&WindowRun, &WindowRun)> {
        self.runs.iter().find(|(ids, _, _)| ids.iter().any(|id| id == kpi)).map(|(_, b, a)| (b, a))
    }
}

/// Runs `kpis` over `before` and `after` and sets them against each other: by window, or, with
/// `cohorts`, the durations on the cohorts opened in each window and the rest by window.
pub fn compare_windows(
    pipeline: &Pipeline,
    (before, after): (MonthRange, MonthRange),
    kpis: &[Kpi],
    tuning: Tuning,
    by: Option<Breakdown>,
    cohorts: bool,
) -> Result<WindowComparison> {
    let (durations, others): (Vec<Kpi>, Vec<Kpi>) = kpis.iter().cloned().partition(|k| cohorts && is_duration(k));
    let ids = |kpis: &[Kpi]| kpis.iter().map(|k| k.id.clone()).collect::<Vec<_>>();
    let mut result = WindowComparison { comparisons: Vec::new(), cohorts: None, runs: Vec::new() };
    if !others.is_empty() {
        let (b, a) = (run_window(pipeline, before, &others, tuning, by)?, run_window(pipeline, after, &others, tuning, by)?);
        result.comparisons.extend(comparisons(&others, &b, &a));
        result.runs.push((ids(&others), b, a));
    }
    if !durations.is_empty() {
        let ((b, b_cohort), (a, a_cohort)) = (run_cohort(pipeline, before, &durations, tuning, by)?, run_cohort(pipeline, after, &durations, tuning, by)?);
        result.comparisons.extend(comparisons(&durations, &b, &a));
        result.cohorts = Some((b_cohort, a_cohort));
        result.runs.push((ids(&durations), b, a));
    }
    Ok(result)
}

/// The cohort's incidents by priority, and those not resolved by the cut-off.
const STILL_OPEN: &str = "SELECT i.priority, count(*) AS opened, \
     count(CASE WHEN i.resolved_at IS NULL OR i.resolved_at > p.as_of THEN 1 END) AS still_open \
     FROM incidents i CROSS JOIN params p GROUP BY i.priority";

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
