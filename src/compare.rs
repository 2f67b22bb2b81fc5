//! `mttx compare`: before and after a change to the process. The same KPIs over two windows of
//! months (durations, with `--cohort opened`, on the incidents opened in each), every measure
//! tested for a change with the test its KPI's header names (the report's), Benjamini–Hochberg
//! over all the tests made, and a verdict per measure: improved, worse, or no evidence. The
//! arithmetic is `evidence`'s, which the report's improvement register shares.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::evidence::comparison::{self, Comparison};
use crate::evidence::verdict::Verdict;
use crate::evidence::windows::{CohortGroup, check_window, cohort_horizon, compare_windows};
use crate::kpi::params::{KpiParams, window_label};
use crate::kpi::{Better, Breakdown, Kpi, Tuning};
use crate::pipeline::Pipeline;
use crate::time::{MonthRange, rfc3339};

/// Version of the compare document's layout.
/// 2: rows of month × priority KPIs carry `scope`, and the document records `breakdown`.
pub const VERSION: u32 = 2;

/// The window a comparison speaks of.
#[derive(Debug, Clone, Serialize)]
pub struct WindowInfo {
    pub months: String,
    pub start: String,
    pub end: String,
    pub covered_hours: f64,
}

impl WindowInfo {
    fn of(params: &KpiParams) -> WindowInfo {
        WindowInfo {
            months: window_label(params.first, params.last),
            start: rfc3339(params.period_start),
            end: rfc3339(params.period_end),
            covered_hours: (params.period_end.min(params.as_of) - params.period_start).max(0) as f64 / 3.6e9,
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
            verdict: Verdict::judge(c.previous.as_ref(), c.better),
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
    /// The false discovery rate a q-value is held to (`--fdr`).
    pub fdr: f64,
    /// `opened` when durations were judged on the cohorts opened in each window, else `window`.
    pub cohort: &'static str,
    /// With `--cohort opened`, each group of durations sharing a cohort rule, with each cohort's
    /// size and how much of it was not there within the follow-up.
    pub cohorts: Vec<CohortGroup>,
    pub rows: Vec<Row>,
}

/// Compares `kpis` over the two windows of `pipeline`'s data.
pub fn compare(
    pipeline: &Pipeline,
    before: MonthRange,
    after: MonthRange,
    kpis: &[Kpi],
    tuning: Tuning,
    by: Option<Breakdown>,
    cohorts: bool,
) -> Result<CompareDocument> {
    if before.overlaps(&after) {
        return Err(Error::Usage(format!("--before {before} and --after {after} overlap; a month can be on one side only")));
    }
    // The before-window is followed to the cut-off like the after-window, which ends later.
    let follow_up = if cohorts { cohort_horizon(kpis) } else { 0 };
    let before_params = check_window(pipeline, "--before", before, tuning, follow_up)?;
    let after_params = check_window(pipeline, "--after", after, tuning, follow_up)?;
    let compared = compare_windows(pipeline, (before, after), kpis, tuning, by, cohorts)?;
    let (comparisons, open) = (compared.comparisons, compared.cohorts);
    Ok(CompareDocument {
        schema: "mttx.compare".into(),
        version: VERSION,
        before: WindowInfo::of(&before_params),
        after: WindowInfo::of(&after_params),
        as_of: rfc3339(after_params.as_of),
        timezone: pipeline.timezone.name().into(),
        breakdown: by,
        tests: comparison::tests_against_previous(&comparisons),
        fdr: tuning.fdr,
        cohort: if cohorts { "opened" } else { "window" },
        cohorts: open,
        rows: comparisons.iter().map(Row::of).collect(),
    })
}
