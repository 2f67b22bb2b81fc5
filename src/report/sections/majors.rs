//! Major incidents: the month's figures over major incidents only (MTTA, MTTD, MTTR, the share with
//! a problem record) and the review list, one row per major incident with its downtime.

use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::{Inputs, find, section, text};
use crate::evidence::comparison::number as num;
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, format_value, month_name, thousands};

pub(crate) fn major_incidents(inputs: &Inputs) -> Section {
    let mut blocks = Vec::new();
    let period = inputs.period.label();
    if let Some(kpi) = find(inputs.current, "major_incidents")
        && let Some(row) = kpi.rows.iter().find(|r| text(r, "month") == period)
    {
        let count = num(row, "major_incidents").unwrap_or(0.0);
        blocks.push(Block::Paragraph(format!(
            "{} major incident{} opened in {}; {} of them ({}) with a problem record. Every figure counts in the month the major incident was opened.",
            thousands(count as i64),
            if count == 1.0 { "" } else { "s" },
            month_name(inputs.period),
            thousands(num(row, "with_problem").unwrap_or(0.0) as i64),
            format_value(num(row, "problem_share"), Scale::Percent)
        )));
        let mut table = Table::new(&[("over major incidents", false), ("n", true), ("mean", true), ("p50", true), ("p90", true)]);
        for (label, n, stem) in [
            ("time to acknowledge", "n_acknowledged", "hours_to_acknowledge"),
            ("time to detect", "n_detected", "hours_to_detect"),
            ("time to resolve", "n_resolved", "hours_to_resolve"),
        ] {
            let value =
                |stat: &str| format_value(num(row, &format!("{stat}_{stem}")), if stem == "hours_to_acknowledge" { Scale::Minutes } else { Scale::Hours });
            table.rows.push(vec![
                Cell::plain(label),
                Cell::plain(thousands(num(row, n).unwrap_or(0.0) as i64)),
                Cell::plain(value("mean")),
                Cell::plain(value("p50")),
                Cell::plain(value("p90")),
            ]);
        }
        blocks.push(Block::Table(table));
    }
    if let Some(kpi) = find(inputs.current, "major_incident_list") {
        let timezone = inputs.zone();
        let mut table = Table::new(&[
            ("id", false),
            ("service", false),
            ("CI", false),
            ("P", true),
            ("opened", false),
            ("acknowledged", false),
            ("resolved", false),
            ("to acknowledge", true),
            ("to resolve", true),
            ("downtime", true),
            ("problem", false),
            ("caused by change", false),
        ]);
        for row in &kpi.rows {
            let hours = |c: &str| format_value(num(row, c), Scale::Hours);
            table.rows.push(vec![
                Cell::plain(text(row, "id")),
                Cell::plain(or_none(text(row, "service"))),
                Cell::plain(or_none(text(row, "ci"))),
                Cell::plain(text(row, "priority")),
                Cell::plain(local_time(row, "opened_at", timezone)),
                Cell::plain(local_time(row, "acknowledged_at", timezone)),
                Cell::plain(local_time(row, "resolved_at", timezone)),
                Cell::plain(format_value(num(row, "hours_to_acknowledge"), Scale::Minutes)),
                Cell::plain(hours("hours_to_resolve")),
                Cell::plain(hours("downtime_hours")),
                Cell::plain(or_none(text(row, "problem_id"))),
                Cell::plain(or_none(text(row, "caused_by_change"))),
            ]);
        }
        table.note = Some(if kpi.rows.is_empty() {
            "No major incident was opened in the month.".into()
        } else {
            format!(
                "Times in {}; a dash is a step not yet taken at the cut-off. Downtime is the outage as MTBF counts it, from the start of the degradation (or the opening) to resolution, within the month.",
                inputs.timezone
            )
        });
        blocks.push(Block::Paragraph("The review list, in the order they were opened:".into()));
        blocks.push(Block::Table(table));
    }
    section("majors", "Major incidents", blocks)
}

/// `2026-10-01 10:00` in the reporting time zone, or a dash for a null.
fn local_time(row: &Map<String, Value>, column: &str, timezone: Tz) -> String {
    crate::report::format::local_time(&text(row, column), timezone)
}

/// "none" where a blank means there is nothing: no problem record, no causing change.
fn or_none(value: String) -> String {
    if value.is_empty() { "none".into() } else { value }
}
