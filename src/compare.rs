//! Before and after a change to the process: the same KPIs over two windows of months, every
//! measure tested for a change with the report's tests (Mann–Whitney U on the tickets, a
//! two-proportion or Fisher's exact test on rates, an exact Poisson test on counts per day of
//! covered time), Benjamini–Hochberg over all the tests made, and a verdict per measure:
//! improved, worse, or no evidence. `mttx compare` and the report's improvement register use it.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::kpi::params::{Buckets, KpiParams};
use crate::kpi::{self, Better, Breakdown, Kpi, KpiDocument, PeriodRequest, Tuning};
use crate::pipeline::Pipeline;
use crate::report::compare::{self as evidence, Comparison, Direction, PeriodValues};
use crate::report::samples::Samples;
use crate::report::targets::Targets;
use crate::time::{MonthRange, rfc3339};

/// Version of the compare document's layout.
/// 2: rows of month × priority KPIs carry `scope`, and the document records `breakdown`.
pub const VERSION: u32 = 2;

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

    fn values(&self, label: String) -> PeriodValues<'_> {
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

/// The verdict on one measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A significant change (q < 0.05) in the KPI's good direction.
    Improved,
    /// A significant change in the bad direction.
    Worse,
    /// Tested, and not significant.
    NoEvidence,
    /// The KPI's header names no test for this measure, or a side has no value.
    NotTested,
}

impl Verdict {
    pub fn of(comparison: &Comparison) -> Verdict {
        let Some(v) = &comparison.previous else { return Verdict::NotTested };
        if v.test.is_none() || v.q_value.is_none() {
            return Verdict::NotTested;
        }
        match (v.significant(), v.direction) {
            (true, Some(Direction::Better)) => Verdict::Improved,
            (true, Some(Direction::Worse)) => Verdict::Worse,
            _ => Verdict::NoEvidence,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Worse => "worse",
            Verdict::NoEvidence => "no evidence",
            Verdict::NotTested => "not tested",
        }
    }
}

/// The window a comparison speaks of.
#[derive(Debug, Clone, Serialize)]
pub struct WindowInfo {
    pub months: String,
    pub start: String,
    pub end: String,
    pub covered_hours: f64,
}

impl WindowInfo {
    fn of(run: &WindowRun) -> WindowInfo {
        WindowInfo {
            months: crate::kpi::params::window_label(run.params.first, run.params.last),
            start: rfc3339(run.params.period_start),
            end: rfc3339(run.params.period_end),
            covered_hours: run.covered_hours(),
        }
    }
}

/// One measure of one KPI row, before and after.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub kpi: String,
    pub title: String,
    pub unit: String,
    pub better: Better,
    /// The row's key columns other than month, e.g. `priority=3`.
    pub key: String,
    pub measure: String,
    pub before: Option<f64>,
    pub before_n: Option<f64>,
    pub after: Option<f64>,
    pub after_n: Option<f64>,
    /// after − before; for counts, per day of covered time.
    pub change: Option<f64>,
    /// change / |before|.
    pub relative: Option<f64>,
    pub per_day: bool,
    /// The test, as reports name it (with the variant: `Mann–Whitney U (exact)`).
    pub test: Option<String>,
    pub p_value: Option<f64>,
    /// Benjamini–Hochberg over every test of the comparison.
    pub q_value: Option<f64>,
    pub verdict: Verdict,
}

impl Row {
    pub fn of(c: &Comparison) -> Row {
        let v = c.previous.as_ref();
        Row {
            kpi: c.kpi.clone(),
            title: c.title.clone(),
            unit: c.unit.clone(),
            better: c.better,
            key: c.key.clone(),
            measure: c.measure.clone(),
            before: v.and_then(|v| v.value),
            before_n: v.and_then(|v| v.n),
            after: c.value,
            after_n: c.n,
            change: v.and_then(|v| v.change),
            relative: v.and_then(|v| v.relative),
            per_day: v.is_some_and(|v| v.per_day),
            test: v.and_then(|v| v.test).map(|t| t.method.name().to_string()),
            p_value: v.and_then(|v| v.test).map(|t| t.p_value),
            q_value: v.and_then(|v| v.q_value),
            verdict: Verdict::of(c),
        }
    }
}

/// `mttx compare`'s result (`--format json`).
#[derive(Debug, Clone, Serialize)]
pub struct CompareDocument {
    /// Always "mttx.compare".
    pub schema: String,
    pub version: u32,
    pub before: WindowInfo,
    pub after: WindowInfo,
    pub as_of: String,
    pub timezone: String,
    /// The field the KPIs were cut by (`--by`), if any.
    pub breakdown: Option<Breakdown>,
    /// Distinct tests made, the m of the Benjamini–Hochberg correction.
    pub tests: usize,
    pub rows: Vec<Row>,
}

/// Compares `kpis` over the two windows of `pipeline`'s data.
pub fn compare(pipeline: &Pipeline, before: MonthRange, after: MonthRange, kpis: &[Kpi], tuning: Tuning, by: Option<Breakdown>) -> Result<CompareDocument> {
    if before.overlaps(&after) {
        return Err(Error::Usage(format!("--before {before} and --after {after} overlap; a month can be on one side only")));
    }
    check_window(pipeline, "--before", before, tuning)?;
    check_window(pipeline, "--after", after, tuning)?;
    let (before_run, after_run) = (run_window(pipeline, before, kpis, tuning, by)?, run_window(pipeline, after, kpis, tuning, by)?);
    let comparisons = comparisons(kpis, &before_run, &after_run);
    Ok(CompareDocument {
        schema: "mttx.compare".into(),
        version: VERSION,
        before: WindowInfo::of(&before_run),
        after: WindowInfo::of(&after_run),
        as_of: rfc3339(after_run.params.as_of),
        timezone: pipeline.timezone.name().into(),
        breakdown: by,
        tests: evidence::tests_against_previous(&comparisons),
        rows: comparisons.iter().map(Row::of).collect(),
    })
}

/// Every measure of `after` against `before`, tested and corrected for the number of tests.
pub fn comparisons(kpis: &[Kpi], before: &WindowRun, after: &WindowRun) -> Vec<Comparison> {
    let label = |run: &WindowRun| crate::kpi::params::window_label(run.params.first, run.params.last);
    let (b, a) = (before.values(label(before)), after.values(label(after)));
    evidence::compare(kpis, &a, Some(&b), None, None, &Targets::none(), None)
}
