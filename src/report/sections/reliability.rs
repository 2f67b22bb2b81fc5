//! Reliability: availability on agreed service time, MTBF and MTBSI by service and CI, and where
//! the outages came from.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, section, target_of, text};
use crate::evidence::comparison::number as num;
use crate::kpi::document::KpiValues;
use crate::report::charts::{BarSeries, Bars, Chart, ChartKind};
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{Scale, format_value, month_name};

/// The most rows of each scope the chart and the table show.
const SHOWN: usize = 10;

pub(crate) fn reliability(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    let Some(kpi) = find(inputs.current, "mtbf") else {
        return section("reliability", "Reliability", blocks);
    };
    blocks.push(Block::Paragraph(explanation(inputs, kpi)));
    for (scope, noun) in [("service", "services"), ("ci", "configuration items")] {
        let mut rows: Vec<&Map<String, Value>> = kpi.rows.iter().filter(|r| text(r, "scope") == scope && count(r, "outages") > 0.0).collect();
        // The month a review is about first, then the longer view.
        rows.sort_by(|a, b| {
            let key = |r: &Map<String, Value>| (num(r, "month_availability").unwrap_or(1.0), num(r, "availability").unwrap_or(1.0));
            key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal).then_with(|| text(a, "key").cmp(&text(b, "key")))
        });
        let failing = rows.len();
        rows.truncate(SHOWN);
        let low = rows.iter().filter_map(|r| num(r, "month_availability")).fold(1.0f64, f64::min);
        let axis_from = ((low * 100.0) - (100.0 - low * 100.0) * 0.25).clamp(0.0, 99.0).floor();
        let chart = Chart {
            name: format!("availability_{scope}"),
            title: format!("Least available {noun}, {}", month_name(inputs.period)),
            kind: ChartKind::Bars(Bars {
                categories: rows.iter().map(|r| text(r, "key")).collect(),
                category_desc: scope.into(),
                value_desc: format!("availability of agreed service time (%, axis from {axis_from}%)"),
                series: vec![BarSeries { name: "availability".into(), values: rows.iter().map(|r| num(r, "month_availability").map(|a| a * 100.0)).collect() }],
                references: Vec::new(),
                horizontal: true,
                value_range: Some((axis_from, 100.0)),
                label_decimals: 2,
                label_suffix: "%".into(),
            }),
        };
        blocks.push(chart_block(
            &chart,
            format!(
                "Of the {noun} with an outage in the rolling window, the {SHOWN} (at most) least available in {}; the axis starts at {axis_from}%, not 0, so that differences of hundredths show.",
                month_name(inputs.period)
            ),
        ));
        charts.push(chart);
        if !rows.is_empty() {
            blocks.push(Block::Table(table(inputs, kpi, scope, noun, &rows, failing)));
        }
    }
    section("reliability", "Reliability", blocks)
}

/// What the figures are, over which windows, and where the outages came from.
fn explanation(inputs: &Inputs, kpi: &KpiValues) -> String {
    let first = kpi.rows.first();
    let source = match first.map(|r| text(r, "source")).as_deref() {
        Some("outages") => "Outages come from the outages table; degradations and planned outages are shown beside downtime, not in it.".to_string(),
        _ => match inputs.current.parameters.failure_priority {
            Some(p) => format!(
                "No outages table was loaded, so outages are derived from incidents: every major incident and every incident of priority {p} or higher, from its start (or opening) to its resolution."
            ),
            None => "No outages table was loaded, so outages are derived from incidents: every major incident, from its start (or opening) to its resolution."
                .to_string(),
        },
    };
    let months = inputs.current.parameters.availability_months;
    let window = first.map(|r| format!(" (here from {} to {} UTC)", minute(&text(r, "window_start")), minute(&text(r, "window_end")))).unwrap_or_default();
    format!(
        "{source} Availability = (agreed service time − downtime) / agreed service time, for {} and for the rolling {months} months to its end{window}, clipped where the data starts. Agreed service time follows the calendar the SLA policy names for each service (a CI takes its service's), 24×7 where it names none. Over the rolling window, MTBF = available agreed time / outages and MTBSI = agreed time / outages; an outage counts when it overlaps the window.",
        month_name(inputs.period)
    )
}

fn table(inputs: &Inputs, kpi: &KpiValues, scope: &str, noun: &str, rows: &[&Map<String, Value>], failing: usize) -> Table {
    let mut table = Table::new(&[
        (scope, false),
        ("agreed time", false),
        ("month", true),
        ("rolling", true),
        ("outages", true),
        ("downtime", true),
        ("MTBF", true),
        ("MTBSI", true),
        ("mean outage", true),
        ("degraded · planned", true),
    ]);
    for row in rows {
        let policy = num(row, "availability_target");
        let month_target = policy.or_else(|| target_of(inputs, kpi, "month_availability", row));
        let rolling_target = policy.or_else(|| target_of(inputs, kpi, "availability", row));
        table.rows.push(vec![
            Cell::plain(text(row, "key")),
            Cell::plain(text(row, "calendar")),
            availability_cell(num(row, "month_availability"), month_target),
            availability_cell(num(row, "availability"), rolling_target),
            Cell::plain(text(row, "outages")),
            Cell::plain(format_value(num(row, "downtime_hours"), Scale::Hours)),
            Cell::plain(format_value(num(row, "mtbf_hours"), Scale::Hours)),
            Cell::plain(format_value(num(row, "mtbsi_hours"), Scale::Hours)),
            Cell::plain(format_value(num(row, "mean_outage_hours"), Scale::Hours)),
            Cell::plain(format!(
                "{} ({}) · {} ({})",
                text(row, "degradations"),
                format_value(num(row, "degradation_hours"), Scale::Hours),
                text(row, "planned_outages"),
                format_value(num(row, "planned_hours"), Scale::Hours)
            )),
        ]);
    }
    let total: f64 = kpi.rows.iter().filter(|r| text(r, "scope") == scope).filter_map(|r| num(r, "downtime_hours")).sum();
    table.note = Some(format!(
        "{} with an outage in the rolling window: {failing}; their downtime in agreed service time adds up to {}. \"month\" is {}, \"rolling\" the rolling window; both are measured against the service's availability target in the SLA policy, or else targets.toml. Degraded and planned: records (agreed hours).",
        capitalised(noun),
        format_value(Some(total), Scale::Hours),
        month_name(inputs.period)
    ));
    table
}

fn availability_cell(value: Option<f64>, target: Option<f64>) -> Cell {
    let shown = value.map_or_else(|| "—".to_string(), |v| format!("{:.2}%", v * 100.0));
    match (value, target) {
        (Some(a), Some(t)) if a >= t => Cell::toned(shown, Tone::Good),
        (Some(_), Some(_)) => Cell::toned(shown, Tone::Bad),
        _ => Cell::plain(shown),
    }
}

fn count(row: &Map<String, Value>, column: &str) -> f64 {
    num(row, column).unwrap_or(0.0)
}

/// An RFC 3339 instant in UTC to the minute: `2026-08-31 22:00`.
fn minute(instant: &str) -> String {
    instant.get(..16).unwrap_or(instant).replacen('T', " ", 1)
}

fn capitalised(noun: &str) -> String {
    let mut chars = noun.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
