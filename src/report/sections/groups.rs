//! Assignment groups, part of Teams and services: each group's own time on the incidents resolved
//! in the month (group_time), by priority, and the share within its OLA, worst first. A group is
//! judged on the time it held each incident against that incident's priority's OLA, so a group
//! that takes the hard cases is not ranked below one that takes the easy ones.

use serde_json::{Map, Value};

use super::{Inputs, find, overall, priorities, priority_label, text};
use crate::evidence::comparison::number as num;
use crate::report::document::{Block, Cell, Table};
use crate::report::format::{duration, thousands};

pub(crate) fn group_time(inputs: &Inputs) -> Vec<Block> {
    let Some(kpi) = find(inputs.current, "group_time") else { return Vec::new() };
    let period = inputs.period.label();
    let rows: Vec<&Map<String, Value>> = kpi.rows.iter().filter(|r| text(r, "month") == period).collect();
    let heading = Block::Paragraph("Assignment groups: time with each group, against its OLA.".into());
    if rows.is_empty() {
        return vec![heading, Block::Paragraph("No incident resolved in the month.".into())];
    }
    let group_of = |r: &Map<String, Value>| match r.get("assignment_group") {
        Some(Value::Null) | None => "(none)".to_string(),
        Some(_) => text(r, "assignment_group"),
    };
    let order = priorities(kpi);
    let mut pooled: Vec<&Map<String, Value>> = rows.iter().copied().filter(|r| overall(r)).collect();
    // Least within its OLA first; groups with no OLA after those with one; then most incidents.
    pooled.sort_by(|a, b| {
        let share = |r: &Map<String, Value>| num(r, "within_ola").unwrap_or(f64::INFINITY);
        share(a)
            .total_cmp(&share(b))
            .then(num(b, "incidents").unwrap_or(0.0).total_cmp(&num(a, "incidents").unwrap_or(0.0)))
            .then_with(|| group_of(a).cmp(&group_of(b)))
    });
    type Rows<'a> = Vec<&'a Map<String, Value>>;
    let (ranked, small): (Rows, Rows) = pooled.into_iter().partition(|r| num(r, "incidents").unwrap_or(0.0) >= inputs.min_n as f64);
    let mut columns: Vec<(String, bool)> =
        vec![("assignment group".into(), false), ("incidents".into(), true), ("within OLA".into(), true), ("previous month".into(), true)];
    columns.extend(order.iter().map(|p| (format!("{} p50", priority_label(p)), true)));
    let titles: Vec<(&str, bool)> = columns.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    let mut table = Table::new(&titles);
    for r in &ranked {
        let group = group_of(r);
        let within = match (num(r, "within"), num(r, "ola_judged"), num(r, "within_ola")) {
            (Some(w), Some(j), Some(share)) => format!("{} of {} ({:.1}%)", thousands(w as i64), thousands(j as i64), share * 100.0),
            _ => "no OLA".into(),
        };
        let previous = inputs
            .comparisons
            .iter()
            .find(|c| {
                c.kpi == "group_time"
                    && c.measure == "within_ola"
                    && c.key_value("scope") == Some("all")
                    && c.key_value("assignment_group").unwrap_or("") == text(r, "assignment_group")
            })
            .and_then(|c| c.previous.as_ref())
            .and_then(|p| p.value)
            .map(|v| format!("{:.1}%", v * 100.0))
            .unwrap_or_else(|| "—".into());
        let mut cells =
            vec![Cell::plain(group.clone()), Cell::plain(thousands(num(r, "incidents").unwrap_or(0.0) as i64)), Cell::plain(within), Cell::plain(previous)];
        for p in &order {
            let cell = rows
                .iter()
                .find(|q| !overall(q) && group_of(q) == group && text(q, "priority") == *p)
                .map(|q| format!("{} (n={})", duration(num(q, "p50_hours")), thousands(num(q, "incidents").unwrap_or(0.0) as i64)))
                .unwrap_or_else(|| "—".into());
            cells.push(Cell::plain(cell));
        }
        table.rows.push(cells);
    }
    table.note = Some(format!(
        "Each group's own time on the incidents resolved in {}: from each change of assignment group to the next, in business hours on the calendar of the incident's priority, less pauses (group_time). Within OLA: the incidents whose time with the group is within the [ola] hours of the SLA policy for the group and the incident's priority. Least within its OLA first; p50 per priority, so no group is judged by its priority mix.",
        crate::report::format::month_name(inputs.period)
    ));
    let mut blocks = vec![heading];
    if ranked.is_empty() {
        blocks.push(Block::Paragraph(format!("No group held {} or more of the month's incidents.", inputs.min_n)));
    } else {
        blocks.push(Block::Table(table));
    }
    if !small.is_empty() {
        let listed: Vec<String> = small.iter().map(|r| format!("{} (n={})", group_of(r), thousands(num(r, "incidents").unwrap_or(0.0) as i64))).collect();
        blocks.push(Block::Paragraph(format!("Not ranked, fewer than {} incidents in the month: {}.", inputs.min_n, listed.join(", "))));
    }
    blocks
}
