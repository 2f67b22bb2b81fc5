//! Problem management: incidents linked to problems, the problem backlog, and problem
//! candidates.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, month_labels, monthly, section, text};
use crate::evidence::comparison::number as num;
use crate::report::charts::{Chart, ChartKind, LineSeries, Lines};
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, format_value, local_time, month_abbrev};

pub(crate) fn problems(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    if let Some(kpi) = find(inputs.trend, "problem_trend") {
        let all = |_: &Map<String, Value>| true;
        let chart = Chart {
            name: "incidents_and_problems".into(),
            title: "Incidents opened, and those linked to a problem".into(),
            kind: ChartKind::Lines(Lines {
                x_labels: month_labels(inputs),
                x_desc: "month opened".into(),
                y_desc: "incidents".into(),
                series: vec![
                    LineSeries { name: "incidents".into(), values: monthly(inputs, kpi, "incidents", &all), whiskers: None },
                    LineSeries { name: "linked to a problem".into(), values: monthly(inputs, kpi, "incidents_with_problem", &all), whiskers: None },
                ],
                whisker_label: None,
                references: Vec::new(),
                log_y: false,
                band: None,
            }),
        };
        blocks.push(chart_block(&chart, "Incidents by the month they were opened; the lower line counts those with a problem_id.".into()));
        charts.push(chart);
        let chart = Chart {
            name: "problems".into(),
            title: "Problems opened, resolved and open at month end".into(),
            kind: ChartKind::Lines(Lines {
                x_labels: month_labels(inputs),
                x_desc: "month".into(),
                y_desc: "problems".into(),
                series: ["problems_opened", "problems_resolved", "problems_open_at_month_end"]
                    .iter()
                    .map(|m| LineSeries { name: m.replace("problems_", "").replace('_', " "), values: monthly(inputs, kpi, m, &all), whiskers: None })
                    .collect(),
                whisker_label: None,
                references: Vec::new(),
                log_y: false,
                band: None,
            }),
        };
        blocks.push(chart_block(&chart, "Problem records by month; open at month end is the problem backlog.".into()));
        charts.push(chart);
        let mut table = Table::new(&[
            ("month", false),
            ("incidents", true),
            ("% linked", true),
            ("problems opened", true),
            ("growth vs base", true),
            ("left the queue", true),
            ("queue rate", true),
            ("open at month end", true),
            ("open age p50", true),
        ]);
        for month in &inputs.window {
            let Some(row) = kpi.rows.iter().find(|r| text(r, "month") == month.label()) else { continue };
            table.rows.push(vec![
                Cell::plain(month_abbrev(&month.label())),
                Cell::plain(format_value(num(row, "incidents"), Scale::Count)),
                Cell::plain(num(row, "pct_with_problem").map(|v| format!("{v:.1}%")).unwrap_or_else(|| "—".into())),
                Cell::plain(format_value(num(row, "problems_opened"), Scale::Count)),
                Cell::plain(num(row, "problem_growth_vs_base").map(|v| format!("{v:+.0}%").replace('-', "−")).unwrap_or_else(|| "—".into())),
                Cell::plain(format_value(num(row, "problems_left_queue"), Scale::Count)),
                Cell::plain(num(row, "queue_rate").map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into())),
                Cell::plain(format_value(num(row, "problems_open_at_month_end"), Scale::Count)),
                Cell::plain(num(row, "p50_open_age_days").map(|v| format!("{v:.1} d")).unwrap_or_else(|| "—".into())),
            ]);
        }
        let base = kpi.rows.first().map(|r| (text(r, "base_month"), text(r, "base_opened")));
        table.note = Some(match base {
            Some((month, opened)) => format!(
                "Growth compares each month's problems opened with the {opened} opened in the base month, {} (the first whole month of data unless --problem-base-month sets it), so a month's figure does not move with the window. Left the queue: resolved or closed in the month; queue rate = left ÷ opened, above 1 the backlog shrinks. Open age: the median of the open problems' days since opened, at month end.",
                month_abbrev(&month)
            ),
            None => "No months.".into(),
        });
        blocks.push(Block::Table(table));
    }
    if let Some(kpi) = find(inputs.current, "problem_resolution") {
        let mut table = Table::new(&[("problems resolved in the month", false), ("n", true), ("mean", true), ("p50", true), ("p90", true)]);
        for (milestone, label) in [("known_error", "time to known error"), ("resolved", "time to resolve")] {
            let Some(row) = kpi.rows.iter().find(|r| text(r, "milestone") == milestone) else { continue };
            table.rows.push(vec![
                Cell::plain(label),
                Cell::plain(format_value(num(row, "n"), Scale::Count)),
                Cell::plain(format_value(num(row, "mean_hours"), Scale::Days)),
                Cell::plain(format_value(num(row, "p50_hours"), Scale::Days)),
                Cell::plain(format_value(num(row, "p90_hours"), Scale::Days)),
            ]);
        }
        table.note = Some("From opened_at, over the problems resolved in the month; time to known error over those of them that became known errors.".into());
        blocks.push(Block::Table(table));
    }
    if let Some(table) = candidates_table(inputs, 10) {
        blocks.push(Block::Paragraph("Problem candidates: recurring incidents on one CI and category with no problem record.".into()));
        blocks.push(Block::Table(table));
    }
    blocks.extend(super::measures::measures_blocks(
        inputs,
        &|id| ["problem_trend"].contains(&id),
        "Incidents linked to problems, and the growth of problems opened",
    ));
    section("problems", "Problem management", blocks)
}

pub(crate) fn candidates_table(inputs: &Inputs, limit: usize) -> Option<Table> {
    let kpi = find(inputs.current, "problem_candidates")?;
    let zone = inputs.zone();
    let mut table =
        Table::new(&[("CI", false), ("category", false), ("most in a window", true), ("incidents", true), ("first opened", false), ("last opened", false)]);
    for row in kpi.rows.iter().take(limit) {
        table.rows.push(vec![
            Cell::plain(text(row, "ci")),
            Cell::plain(text(row, "category")),
            Cell::plain(text(row, "max_in_window")),
            Cell::plain(text(row, "incidents")),
            Cell::plain(local_time(&text(row, "first_opened"), zone)),
            Cell::plain(local_time(&text(row, "last_opened"), zone)),
        ]);
    }
    if kpi.rows.is_empty() {
        table.note = Some("No (CI, category) pair recurred often enough to be a candidate.".into());
    } else if kpi.rows.len() > limit {
        table.note = Some(format!("{limit} of {} candidates.", kpi.rows.len()));
    }
    Some(table)
}
