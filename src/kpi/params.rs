//! The reporting window and KPI parameters, and the tables that carry them into SQL: a one-row
//! `params` table, a `months` calendar of the window in the reporting time zone, and the
//! `month_priority` and `kpi_grid` grids. Values reach queries as data, never as SQL text.

use std::sync::Arc;

use chrono_tz::Tz;
use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use super::breakdown::Breakdown;
use crate::error::{Error, Result};
pub use crate::functions::Bucket;
use crate::model::{UTC, timestamp_type};
use crate::store::extent::Extent;
pub use crate::time::YearMonth;
use crate::time::rfc3339;

/// The longest period a KPI run computes: a century of months. Longer is a mistake (a stray date,
/// a typo in --from), and every KPI would compute a grid of all those months.
pub const MAX_PERIOD_MONTHS: i64 = 1200;

/// `2026-01..2026-03`, or `2026-10` for a window of one month.
pub fn window_label(first: YearMonth, last: YearMonth) -> String {
    if first == last { first.label() } else { format!("{}..{}", first.label(), last.label()) }
}

/// Which months to report, as asked on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodRequest {
    /// From the month of the first incident to the month of the cut-off.
    All,
    /// First and last month, inclusive.
    Months(YearMonth, YearMonth),
}

/// Tunable KPI parameters and the levels of the tests and intervals, with their defaults. A
/// document written before a field existed reads it as its default.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Tuning {
    /// Outages derived from incidents (where no outages table was loaded): a major incident is
    /// one, and so, when this is set, is an incident of this priority or higher (numerically ≤).
    pub failure_priority: Option<i64>,
    /// MTBF, MTBSI and availability: the rolling window's length in months, ending with the
    /// period's last month.
    pub availability_months: i64,
    /// Hours after a patch in which an incident on its CI counts as following it.
    pub correlation_window_hours: i64,
    /// Problem candidates: at least this many incidents on one (CI, category) …
    pub candidate_min_incidents: i64,
    /// … within this many days.
    pub candidate_window_days: i64,
    /// Riskiest CIs to patch: a CI is tested with at least this many patches in the period.
    pub risk_min_patches: i64,
    /// Open backlog: an open incident is idle when nothing happened to it (no event, no
    /// acknowledgement) for at least this many days before the cut-off.
    pub idle_days: i64,
    /// Problem growth is measured against the problems opened in this month; None: the first
    /// month that starts at or after the data's first incident.
    pub problem_base_month: Option<YearMonth>,
    /// The two-sided confidence of every interval (rates, the patch lift, the CI rate ratios).
    pub confidence: f64,
    /// The false discovery rate of every Benjamini–Hochberg family: a test is significant when its
    /// q-value is below it.
    pub fdr: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            failure_priority: None,
            availability_months: 12,
            correlation_window_hours: 72,
            candidate_min_incidents: 3,
            candidate_window_days: 30,
            risk_min_patches: 5,
            idle_days: 14,
            problem_base_month: None,
            confidence: 0.95,
            fdr: 0.05,
        }
    }
}

impl Tuning {
    /// Refuses values no run can mean: a confidence outside (0.5, 1), a false discovery rate
    /// outside (0, 0.5), a window or count below 1.
    pub fn validate(&self) -> Result<()> {
        let level = |name: &str, v: f64, low: f64, high: f64| {
            if v.is_finite() && v > low && v < high {
                Ok(())
            } else {
                Err(Error::Usage(format!("--{name} {v} is outside ({low}, {high}); give a level such as {}", if name == "fdr" { "0.05" } else { "0.95" })))
            }
        };
        level("confidence", self.confidence, 0.5, 1.0)?;
        level("fdr", self.fdr, 0.0, 0.5)?;
        for (name, v) in [
            ("window-hours", self.correlation_window_hours),
            ("candidate-min-incidents", self.candidate_min_incidents),
            ("candidate-window-days", self.candidate_window_days),
            ("risk-min-patches", self.risk_min_patches),
            ("idle-days", self.idle_days),
            ("availability-months", self.availability_months),
        ] {
            if v < 1 {
                return Err(Error::Usage(format!("--{name} {v} must be at least 1")));
            }
        }
        if self.availability_months > MAX_PERIOD_MONTHS {
            return Err(Error::Usage(format!("--availability-months {} is more than a century ({MAX_PERIOD_MONTHS})", self.availability_months)));
        }
        if let Some(p) = self.failure_priority
            && !(1..=5).contains(&p)
        {
            return Err(Error::Usage(format!("--failure-priority {p}: priorities are 1 (highest) to 5")));
        }
        Ok(())
    }

    /// The standard normal quantile of the intervals' confidence: 1.96 at 95 %.
    pub fn z(&self) -> f64 {
        crate::distributions::normal_quantile(0.5 + self.confidence / 2.0)
    }
}

/// The resolved window: every KPI reads these values from the `params` table.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiParams {
    pub first: YearMonth,
    pub last: YearMonth,
    /// How the window is cut into the `month` buckets KPIs report by.
    pub buckets: Buckets,
    /// UTC microseconds; the window is [period_start, period_end).
    pub period_start: i64,
    pub period_end: i64,
    pub as_of: i64,
    pub timezone: Tz,
    pub tuning: Tuning,
    /// `--by`: the incident field the KPIs that can be cut are cut by.
    pub by: Option<Breakdown>,
    /// The month problem growth is measured against, whatever the window.
    pub problem_base: YearMonth,
    /// Where the data starts (the first incident's opened_at): reliability windows are clipped to it.
    pub data_start: Option<i64>,
}

/// The buckets a window is reported in: `report_month(ts)` gives the label of the bucket that
/// holds `ts`, and the `months` table lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Buckets {
    /// One per calendar month, labelled `2026-10`.
    #[default]
    Months,
    /// The whole window as one bucket, labelled `2026-01..2026-03` (or `2026-01` for one month):
    /// what `mttx compare` sets against another window.
    Whole,
}

impl KpiParams {
    /// The window in `buckets`.
    pub fn with_buckets(mut self, buckets: Buckets) -> KpiParams {
        self.buckets = buckets;
        self
    }

    /// The window with the KPIs that can be cut cut by `by`.
    pub fn with_breakdown(mut self, by: Option<Breakdown>) -> KpiParams {
        self.by = by;
        self
    }

    /// The window's buckets, in time order.
    pub fn bucket_list(&self) -> Vec<Bucket> {
        match self.buckets {
            Buckets::Months => {
                self.months().into_iter().map(|m| Bucket { label: m.label(), start: m.start(self.timezone), end: m.next().start(self.timezone) }).collect()
            }
            Buckets::Whole => vec![Bucket { label: window_label(self.first, self.last), start: self.period_start, end: self.period_end }],
        }
    }

    /// The end of the reliability windows: the period's end, or the cut-off if that comes first.
    pub fn reliability_end(&self) -> i64 {
        self.period_end.min(self.as_of)
    }

    /// The start of the rolling reliability window: `availability_months` months ending with the
    /// period's last month, clipped where the data starts (and never after its end).
    pub fn availability_start(&self) -> i64 {
        let first = self.last.plus(1 - self.tuning.availability_months as i32);
        self.clipped_to_data(first.start(self.timezone))
    }

    /// The start of the reliability month: the period's last month, clipped where the data starts.
    pub fn availability_month_start(&self) -> i64 {
        self.clipped_to_data(self.last.start(self.timezone))
    }

    fn clipped_to_data(&self, start: i64) -> i64 {
        start.max(self.data_start.unwrap_or(i64::MIN)).min(self.reliability_end())
    }

    pub fn months(&self) -> Vec<YearMonth> {
        let mut months = vec![self.first];
        while *months.last().expect("non-empty") < self.last {
            let next = months.last().expect("non-empty").next();
            months.push(next);
        }
        months
    }

    fn params_batch(&self) -> Result<RecordBatch> {
        let ts = |v: i64| Arc::new(TimestampMicrosecondArray::from(vec![v]).with_timezone(UTC)) as ArrayRef;
        let int = |v: i64| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
        let schema = Schema::new(vec![
            Field::new("period_start", timestamp_type(), false),
            Field::new("period_end", timestamp_type(), false),
            Field::new("as_of", timestamp_type(), false),
            Field::new("timezone", DataType::Utf8, false),
            Field::new("failure_priority", DataType::Int64, true),
            Field::new("availability_months", DataType::Int64, false),
            Field::new("availability_start", timestamp_type(), false),
            Field::new("availability_month_start", timestamp_type(), false),
            Field::new("availability_end", timestamp_type(), false),
            Field::new("correlation_window_hours", DataType::Int64, false),
            Field::new("candidate_min_incidents", DataType::Int64, false),
            Field::new("candidate_window_days", DataType::Int64, false),
            Field::new("risk_min_patches", DataType::Int64, false),
            Field::new("idle_days", DataType::Int64, false),
            Field::new("problem_base_month", DataType::Utf8, false),
            Field::new("problem_base_start", timestamp_type(), false),
            Field::new("problem_base_end", timestamp_type(), false),
            Field::new("confidence", DataType::Float64, false),
            Field::new("z", DataType::Float64, false),
            Field::new("breakdown", DataType::Utf8, true),
        ]);
        let t = &self.tuning;
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                ts(self.period_start),
                ts(self.period_end),
                ts(self.as_of),
                Arc::new(StringArray::from(vec![self.timezone.name()])),
                Arc::new(Int64Array::from(vec![t.failure_priority])),
                int(t.availability_months),
                ts(self.availability_start()),
                ts(self.availability_month_start()),
                ts(self.reliability_end()),
                int(t.correlation_window_hours),
                int(t.candidate_min_incidents),
                int(t.candidate_window_days),
                int(t.risk_min_patches),
                int(t.idle_days),
                Arc::new(StringArray::from(vec![self.problem_base.label()])),
                ts(self.problem_base.start(self.timezone)),
                ts(self.problem_base.next().start(self.timezone)),
                Arc::new(Float64Array::from(vec![t.confidence])),
                Arc::new(Float64Array::from(vec![t.z()])),
                Arc::new(StringArray::from(vec![self.by.map(|b| b.field())])),
            ],
        )?)
    }

    fn months_batch(&self) -> Result<RecordBatch> {
        let buckets = self.bucket_list();
        let starts: Vec<i64> = buckets.iter().map(|b| b.start).collect();
        let ends: Vec<i64> = buckets.iter().map(|b| b.end).collect();
        let schema = Schema::new(vec![
            Field::new("month", DataType::Utf8, false),
            Field::new("month_start", timestamp_type(), false),
            Field::new("month_end", timestamp_type(), false),
            Field::new("partial", DataType::Boolean, false),
        ]);
        Ok(RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(buckets.iter().map(|b| b.label.clone()).collect::<Vec<_>>())),
                Arc::new(TimestampMicrosecondArray::from(starts).with_timezone(UTC)),
                Arc::new(TimestampMicrosecondArray::from(ends.clone()).with_timezone(UTC)),
                Arc::new(BooleanArray::from(ends.iter().map(|e| *e > self.as_of).collect::<Vec<_>>())),
            ],
        )?)
    }

    /// Registers `params`, `months` and the `month_priority` and `kpi_grid` grids on `ctx`.
    pub async fn register(&self, ctx: &SessionContext) -> Result<()> {
        let params = self.params_batch()?;
        let provider = Arc::new(MemTable::try_new(params.schema(), vec![vec![params.clone()]])?);
        ctx.register_table("params", provider.clone())?;
        ctx.add_optimizer_rule(crate::engine::inline_params::rule(provider, params));
        let months = self.months_batch()?;
        ctx.register_table("months", Arc::new(MemTable::try_new(months.schema(), vec![vec![months]])?))?;
        ctx.sql(
            "CREATE VIEW month_priority AS SELECT m.month, p.priority FROM months m CROSS JOIN \
             (SELECT column1 AS priority FROM (VALUES (1), (2), (3), (4), (5)) UNION SELECT DISTINCT priority FROM incidents) p",
        )
        .await?;
        ctx.sql(KPI_GRID).await?;
        Ok(())
    }

    pub fn describe(&self) -> String {
        format!("{} to {} ({}), cut-off {}", self.first.label(), self.last.label(), self.timezone.name(), rfc3339(self.as_of))
    }
}

/// The rows a month × priority KPI always shows, whatever the data: without `--by`, every month
/// with each priority (`scope` priority) and with all priorities pooled (`scope` all, priority
/// null). With `--by`, none: a breakdown shows only the groups that have tickets.
const KPI_GRID: &str = "CREATE VIEW kpi_grid AS \
     SELECT g.month, CAST(NULL AS VARCHAR) AS by_group, 'priority' AS scope, g.priority \
     FROM month_priority g CROSS JOIN params p WHERE p.breakdown IS NULL \
     UNION ALL \
     SELECT m.month, CAST(NULL AS VARCHAR) AS by_group, 'all' AS scope, CAST(NULL AS BIGINT) AS priority \
     FROM months m CROSS JOIN params p WHERE p.breakdown IS NULL";

/// Resolves a period of data whose extent is known, against the cut-off `as_of` (resolved once,
/// see `Extent::cut_off`): the period is as asked, else the month of the first incident to the
/// month of the cut-off's last instant (a cut-off at midnight on the 1st ends the month before).
pub fn resolve_in(extent: &Extent, request: PeriodRequest, as_of: i64, timezone: Tz, tuning: Tuning) -> Result<KpiParams> {
    tuning.validate()?;
    let first_incident = extent.first_incident;
    let (first, last) = match request {
        PeriodRequest::Months(first, last) if first > last => {
            return Err(Error::Usage(format!("--from {} is after --to {}", first.label(), last.label())));
        }
        PeriodRequest::Months(first, last) => (first, last),
        PeriodRequest::All => {
            let first =
                first_incident.ok_or_else(|| Error::Usage("no incidents were loaded, so there is no default period; give --period or --from/--to".into()))?;
            // A cut-off at midnight closes the month before it; the last month is that of its last instant.
            (YearMonth::of_micros(first, timezone), YearMonth::of_micros(as_of - 1, timezone).max(YearMonth::of_micros(first, timezone)))
        }
    };
    let months = first.months_through(last);
    if months > MAX_PERIOD_MONTHS {
        return Err(Error::Usage(format!(
            "the period {} to {} spans {months} months, more than the {MAX_PERIOD_MONTHS} (a century) mttx will compute; choose a shorter --period or --from/--to, or give --as-of if a stray timestamp set the cut-off",
            first.label(),
            last.label()
        )));
    }
    if first.start(timezone) > as_of {
        return Err(Error::Usage(format!(
            "the period starts in {}, after the cut-off {}: nothing in it has happened yet; choose an earlier period or a later --as-of",
            first.label(),
            rfc3339(as_of)
        )));
    }
    // The first month that starts at or after the first incident: the first whole month of data.
    let problem_base = tuning.problem_base_month.unwrap_or_else(|| match first_incident {
        Some(t) if YearMonth::of_micros(t, timezone).start(timezone) == t => YearMonth::of_micros(t, timezone),
        Some(t) => YearMonth::of_micros(t, timezone).next(),
        None => first,
    });
    Ok(KpiParams {
        problem_base,
        data_start: first_incident,
        first,
        last,
        buckets: Buckets::Months,
        period_start: first.start(timezone),
        period_end: last.next().start(timezone),
        as_of,
        timezone,
        tuning,
        by: None,
    })
}
