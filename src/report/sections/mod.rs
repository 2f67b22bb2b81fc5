//! The report's sections, one module each, in the order a monthly service review reads them, and
//! what they share: the inputs every section reads and the helpers that find rows and measures
//! in them.

pub mod ageing;
pub mod appendix;
pub mod attention;
pub mod behaviour;
pub mod benchmark;
pub mod changes;
pub mod data_quality;
pub mod definitions;
pub mod flow;
pub mod groups;
pub mod headline;
pub mod improvements;
pub mod majors;
pub mod measures;
pub mod problems;
pub mod reconciliation;
pub mod reliability;
pub mod response;
pub mod sla;
pub mod summary;
pub mod teams;
pub mod tickets;

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::charts::Chart;
use super::document::{Block, ChartRef, Section};
use super::format::short_month;
use crate::evidence::comparison::{Comparison, number as num};
use crate::evidence::samples::Samples;
use crate::evidence::targets::Targets;
use crate::ingest::LoadSummary;
use crate::kpi::document::{KpiValues, plain};
use crate::kpi::{Breakdown, KpiDocument, YearMonth};

/// A change needs at least this n on both sides to be called one of the biggest; smaller groups
/// swing by chance.
pub const MIN_N_FOR_HIGHLIGHT: f64 = 10.0;

/// Rows per KPI in the benchmark table; kpis.csv and benchmark.csv hold them all.
pub const BENCHMARK_ROWS_PER_KPI: usize = 12;

pub struct Inputs<'a> {
    pub period: YearMonth,
    /// Share of the period before the cut-off, when the cut-off falls inside it.
    pub partial: Option<f64>,
    pub as_of: String,
    pub timezone: String,
    pub window: Vec<YearMonth>,
    pub trend: &'a KpiDocument,
    pub current: &'a KpiDocument,
    pub current_samples: &'a Samples,
    pub previous_label: Option<String>,
    pub comparisons: &'a [Comparison],
    pub targets: &'a Targets,
    pub kpis: &'a [crate::kpi::Kpi],
    pub load: &'a LoadSummary,
    pub coverage: Coverage,
    pub sla_description: String,
    pub notes: Vec<String>,
    pub has_baseline: bool,
    pub has_year_ago: bool,
    pub has_peers: bool,
    /// The improvement register's origin and its initiatives, measured.
    pub improvements: Option<(&'a str, &'a [crate::evidence::improvements::Evaluated])>,
    /// The period and the month before it cut by service.
    pub teams: &'a [(Breakdown, KpiDocument)],
    /// Groups with fewer tickets than this are listed apart, not ranked (`--min-n`).
    pub min_n: u64,
    /// `--limits-from`: the months the process-behaviour limits come from.
    pub limits_from: Option<crate::time::MonthRange>,
    /// `--notes`: the reviewer's comments and actions for the period.
    pub review_notes: Option<&'a crate::report::notes::MonthNotes>,
    /// `--service`: the one service the tables hold.
    pub service: Option<String>,
    /// How many of the period's incidents carry each optional field the KPIs use.
    pub fields: &'a crate::report::fields::Coverage,
    /// Tickets per list in the Tickets section and tickets.csv (`--tickets`).
    pub ticket_limit: usize,
}

impl Inputs<'_> {
    /// The reporting time zone.
    pub(crate) fn zone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// Days of `month` the data covers: all of it, or for the period cut short by the cut-off,
    /// the share before it; counts per day compare across months of any length this way.
    pub(crate) fn days_covered(&self, month: YearMonth) -> f64 {
        let zone = self.zone();
        let days = (month.next().start(zone) - month.start(zone)) as f64 / 8.64e10;
        if month == self.period { days * self.partial.unwrap_or(1.0) } else { days }
    }
}

/// `measure` summed over a KPI's rows of `month`; None when the month has no rows.
pub(crate) fn month_sum(kpi: &KpiValues, measure: &str, month: YearMonth) -> Option<f64> {
    let label = month.label();
    let mut rows = kpi.rows.iter().filter(|r| text(r, "month") == label).peekable();
    rows.peek()?;
    Some(rows.filter_map(|r| num(r, measure)).sum())
}

/// What the incidents table spans.
pub struct Coverage {
    pub incidents: u64,
    pub first_opened: Option<String>,
    pub last_opened: Option<String>,
}

pub(crate) fn find<'a>(doc: &'a KpiDocument, id: &str) -> Option<&'a KpiValues> {
    doc.kpis.iter().find(|k| k.id == id)
}

pub(crate) fn text(row: &Map<String, Value>, column: &str) -> String {
    row.get(column).map(plain).unwrap_or_default()
}

/// A boolean column of a row: true only where the value is true (null and absent read as false).
pub(crate) fn flag(row: &Map<String, Value>, column: &str) -> bool {
    row.get(column).and_then(Value::as_bool) == Some(true)
}

/// Whether a row pools every priority (`scope` all) rather than giving one.
pub(crate) fn overall(row: &Map<String, Value>) -> bool {
    text(row, "scope") == "all"
}

/// Priorities present in a KPI's per-priority rows, in order.
pub(crate) fn priorities(kpi: &KpiValues) -> Vec<String> {
    let mut found: BTreeSet<(i64, String)> = BTreeSet::new();
    for row in kpi.rows.iter().filter(|r| !overall(r)) {
        let p = text(row, "priority");
        found.insert((p.parse().unwrap_or(i64::MAX), p));
    }
    found.into_iter().map(|(_, p)| p).collect()
}

pub(crate) fn priority_label(p: &str) -> String {
    if p.is_empty() { "no priority".into() } else { format!("P{p}") }
}

/// "All priorities" for an overall row, else the row's priority label.
pub(crate) fn row_priority_label(row: &Map<String, Value>) -> String {
    if overall(row) { "All priorities".into() } else { priority_label(&text(row, "priority")) }
}

pub(crate) fn section(id: &str, title: &str, blocks: Vec<Block>) -> Section {
    Section { id: id.into(), title: title.into(), blocks, collapsed: false }
}

pub(crate) fn chart_block(chart: &Chart, caption: String) -> Block {
    Block::Chart(ChartRef { name: chart.name.clone(), title: chart.title.clone(), caption, has_data: chart.has_data() })
}

pub(crate) fn month_labels(inputs: &Inputs) -> Vec<String> {
    inputs.window.iter().map(|m| short_month(&m.label())).collect()
}

/// A measure by month for the rows matching `filter`, over the trend window.
pub(crate) fn monthly(inputs: &Inputs, kpi: &KpiValues, measure: &str, filter: &dyn Fn(&Map<String, Value>) -> bool) -> Vec<Option<f64>> {
    inputs
        .window
        .iter()
        .map(|m| {
            let label = m.label();
            kpi.rows.iter().find(|r| text(r, "month") == label && filter(r)).and_then(|r| num(r, measure))
        })
        .collect()
}

pub(crate) fn target_of(inputs: &Inputs, kpi: &KpiValues, measure: &str, row: &Map<String, Value>) -> Option<f64> {
    inputs.targets.find(&kpi.id, measure, row)
}
