//! Windows of months as one bucket each: a window's KPI run with the samples behind its rank tests
//! and the hours it covers, the check that a window ends by the cut-off, and every measure of one
//! window set against another's. `mttx compare` and the improvement register both use them. A
//! window may also be run on its cohort: the incidents opened in it, followed to the cut-off.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::{cast, when};
use datafusion::prelude::{SessionContext, col, lit};
use datafusion::scalar::ScalarValue;

use crate::error::{Error, Result};
use crate::evidence::comparison::{self, Comparison, PeriodValues};
use crate::evidence::samples::Samples;
use crate::evidence::targets::Targets;
use crate::kpi::catalog::CohortRule;
use crate::kpi::params::{Buckets, KpiParams, window_label};
use crate::kpi::{self, Breakdown, Kpi, KpiDocument, PeriodRequest, Tuning};
use crate::pipeline::Pipeline;
use crate::time::{MonthRange, days_micros, rfc3339};

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
        measure(&ctx, params, kpis).await
    })
}

/// Runs `kpis` on `ctx`, a session prepared for `params`, with the samples behind their tests.
async fn measure(ctx: &SessionContext, params: KpiParams, kpis: &[Kpi]) -> Result<WindowRun> {
    let outcomes = kpi::run::run_parallel(ctx, kpis.to_vec()).await;
    kpi::run::failures(&outcomes)?;
    let document = KpiDocument::new(&params, &outcomes)?;
    let samples = Samples::collect(ctx, kpis).await?;
    Ok(WindowRun { params, document, samples })
}

/// The incidents opened in a window and how many of them had not reached the cohort's timestamp
/// within its follow-up, overall and by priority (None for incidents with none).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Cohort {
    pub opened: u64,
    pub still_open: u64,
    pub by_priority: Vec<(Option<i64>, u64, u64)>,
}

impl Cohort {
    /// (opened, not there) for a row of `priority` (None: the row of incidents with none), or
    /// for all when the row is not one priority's.
    pub fn of(&self, priority: Option<Option<i64>>) -> (u64, u64) {
        match priority {
            Some(p) => self.by_priority.iter().find(|(q, _, _)| *q == p).map(|(_, o, s)| (*o, *s)).unwrap_or((0, 0)),
            None => (self.opened, self.still_open),
        }
    }

    /// The share of the row's incidents (as `of` picks them) not there within the follow-up.
    pub fn share(&self, priority: Option<Option<i64>>) -> f64 {
        match self.of(priority) {
            (0, _) => 0.0,
            (opened, open) => open as f64 / opened as f64,
        }
    }
}

/// The durations that share a cohort rule, with the cohorts before and after.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortGroup {
    pub kpis: Vec<String>,
    pub rule: CohortRule,
    pub before: Cohort,
    pub after: Cohort,
}

/// Runs `kpis` on the cohort of `window`: only the incidents opened in it, each followed
/// `rule.days` for `rule.column` (a later value reads as not yet there), as one bucket that
/// reaches the cut-off. Every cohort gets the same follow-up, so the one with more time behind it
/// is not favoured, and a ticket opened before a go-live and resolved after it belongs to
/// "before". The window must end `rule.days` before the cut-off (see `cohort_horizon`).
pub fn run_cohort(
    pipeline: &Pipeline,
    window: MonthRange,
    kpis: &[Kpi],
    tuning: Tuning,
    by: Option<Breakdown>,
    rule: &CohortRule,
) -> Result<(WindowRun, Cohort)> {
    let opened = pipeline.params(PeriodRequest::Months(window.first, window.last), tuning)?;
    let (opened_from, opened_to) = (opened.period_start, opened.period_end);
    let params = KpiParams { period_end: opened.as_of.saturating_add(1).max(opened_to), ..opened }.with_buckets(Buckets::Whole).with_breakdown(by);
    let follow_up = days_micros(rule.days);
    pipeline.runtime().block_on(async {
        let ctx = pipeline.session(&params).await?;
        let stamp = |micros: Option<i64>| lit(ScalarValue::TimestampMicrosecond(micros, Some(crate::model::UTC.into())));
        let micros = |name: &str| cast(col(name), DataType::Int64);
        let late = micros(&rule.column).gt(micros("opened_at") + lit(follow_up));
        let cohort = ctx
            .table("incidents")
            .await?
            .filter(col("opened_at").gt_eq(stamp(Some(opened_from))).and(col("opened_at").lt(stamp(Some(opened_to)))))?
            .with_column(&rule.column, when(late, stamp(None)).otherwise(col(&rule.column))?)?;
        ctx.deregister_table("incidents")?;
        ctx.register_table("incidents", cohort.clone().into_view())?;
        let run = measure(&ctx, params, kpis).await?;
        let missing = when(col(&rule.column).is_null(), lit(1i64)).otherwise(lit(0i64))?;
        let counts = cohort
            .aggregate(vec![col("priority")], vec![count(lit(1i64)).alias("opened"), sum(missing).alias("still_open")])?
            .select(vec![col("priority"), cast(col("opened"), DataType::Int64), cast(col("still_open"), DataType::Int64)])?
            .collect()
            .await?;
        let mut cohort = Cohort::default();
        for batch in &counts {
            let priority = batch.column(0).as_primitive::<Int64Type>();
            let (opened, open) = (batch.column(1).as_primitive::<Int64Type>(), batch.column(2).as_primitive::<Int64Type>());
            for r in 0..batch.num_rows() {
                let (o, s) = (opened.value(r).max(0) as u64, if open.is_valid(r) { open.value(r).max(0) as u64 } else { 0 });
                cohort.opened += o;
                cohort.still_open += s;
                cohort.by_priority.push((priority.is_valid(r).then(|| priority.value(r)), o, s));
            }
        }
        cohort.by_priority.sort();
        Ok::<_, Error>((run, cohort))
    })
}

/// The longest follow-up among `kpis`' cohort rules, in microseconds: a window judged on cohorts
/// must end that long before the cut-off.
pub fn cohort_horizon(kpis: &[Kpi]) -> i64 {
    kpis.iter().filter_map(|k| k.meta.cohort.as_ref()).map(|r| days_micros(r.days)).max().unwrap_or(0)
}

/// Two windows' runs set against each other.
pub struct WindowComparison {
    pub comparisons: Vec<Comparison>,
    /// With cohorts, each group of durations with its cohorts.
    pub cohorts: Vec<CohortGroup>,
    /// The runs behind the comparisons, before and after, each with the KPIs it ran.
    pub runs: Vec<(Vec<String>, WindowRun, WindowRun)>,
}

impl WindowComparison {
    /// The runs (before, after) that measured `kpi`.
    pub fn runs_of(&self, kpi: &str) -> Option<(&WindowRun, &WindowRun)> {
        self.runs.iter().find(|(ids, _, _)| ids.iter().any(|id| id == kpi)).map(|(_, b, a)| (b, a))
    }

    /// The cohorts that measured `kpi`, if it was judged on cohorts.
    pub fn cohorts_of(&self, kpi: &str) -> Option<&CohortGroup> {
        self.cohorts.iter().find(|g| g.kpis.iter().any(|id| id == kpi))
    }
}

/// Runs `kpis` over `before` and `after` and sets them against each other: by window, or, with
/// `cohorts`, each KPI whose header names a cohort rule on the cohorts opened in each window and
/// the rest by window. One Benjamini–Hochberg family over all of it; rows in `kpis`' order.
pub fn compare_windows(
    pipeline: &Pipeline,
    (before, after): (MonthRange, MonthRange),
    kpis: &[Kpi],
    tuning: Tuning,
    by: Option<Breakdown>,
    cohorts: bool,
) -> Result<WindowComparison> {
    let (cohorted, others): (Vec<Kpi>, Vec<Kpi>) = kpis.iter().cloned().partition(|k| cohorts && k.meta.cohort.is_some());
    let ids = |kpis: &[Kpi]| kpis.iter().map(|k| k.id.clone()).collect::<Vec<_>>();
    let mut result = WindowComparison { comparisons: Vec::new(), cohorts: Vec::new(), runs: Vec::new() };
    if !others.is_empty() {
        let (b, a) = (run_window(pipeline, before, &others, tuning, by)?, run_window(pipeline, after, &others, tuning, by)?);
        result.comparisons.extend(comparisons(&others, &b, &a));
        result.runs.push((ids(&others), b, a));
    }
    let mut rules: Vec<CohortRule> = cohorted.iter().filter_map(|k| k.meta.cohort.clone()).collect();
    rules.sort_by(|x, y| (&x.column, x.days).cmp(&(&y.column, y.days)));
    rules.dedup();
    for rule in rules {
        let group: Vec<Kpi> = cohorted.iter().filter(|k| k.meta.cohort.as_ref() == Some(&rule)).cloned().collect();
        let ((b, b_cohort), (a, a_cohort)) =
            (run_cohort(pipeline, before, &group, tuning, by, &rule)?, run_cohort(pipeline, after, &group, tuning, by, &rule)?);
        result.comparisons.extend(comparisons(&group, &b, &a));
        result.cohorts.push(CohortGroup { kpis: ids(&group), rule, before: b_cohort, after: a_cohort });
        result.runs.push((ids(&group), b, a));
    }
    let position = |id: &str| kpis.iter().position(|k| k.id == id).unwrap_or(usize::MAX);
    result.comparisons.sort_by_key(|c| position(&c.kpi));
    comparison::correct_for_multiple_tests(&mut result.comparisons, tuning.fdr);
    Ok(result)
}

/// A window's end must not lie past the cut-off: its last month would be partial, and a partial
/// month compared with whole ones says nothing. A window judged on cohorts followed `follow_up`
/// microseconds (`cohort_horizon`) must end that much earlier. Gives the window's parameters.
pub fn check_window(pipeline: &Pipeline, flag: &str, window: MonthRange, tuning: Tuning, follow_up: i64) -> Result<KpiParams> {
    let params = pipeline.params(PeriodRequest::Months(window.first, window.last), tuning)?;
    if params.period_end > params.as_of {
        return Err(Error::Usage(format!(
            "{flag} {window}: it reaches past the cut-off {} (its last month ends {}); choose months that end by the cut-off, or a later --as-of",
            rfc3339(params.as_of),
            rfc3339(params.period_end)
        )));
    }
    if params.period_end.saturating_add(follow_up) > params.as_of {
        return Err(Error::Usage(format!(
            "--cohort opened follows each incident {} days after it opened, so {flag} {window} must end that long before the cut-off {}; choose earlier months or a later --as-of",
            follow_up / days_micros(1),
            rfc3339(params.as_of)
        )));
    }
    Ok(params)
}

/// Every measure of `after` against `before`, tested and corrected for the number of tests.
pub fn comparisons(kpis: &[Kpi], before: &WindowRun, after: &WindowRun) -> Vec<Comparison> {
    let label = |run: &WindowRun| window_label(run.params.first, run.params.last);
    let (b, a) = (before.values(label(before)), after.values(label(after)));
    comparison::compare(kpis, &a, Some(&b), None, None, &Targets::none(), None)
}
