//! The first page's compact headline tables: the measures a review starts from by priority (MTTA,
//! MTTR, SLAs met, the month-end backlog), each cell with its n and target verdict, and those that
//! have no priority (major incidents, change failure) in a table of their own.

use std::collections::BTreeSet;

use super::{Inputs, find, priority_label};
use crate::evidence::comparison::Comparison;
use crate::report::document::{Cell, Table, Tone};
use crate::report::format::{Scale, format_value, scale, thousands};

/// The KPIs of the first page's tables.
pub const KPIS: [&str; 6] = ["mtta", "mttr", "sla_breach", "backlog", "major_incidents", "change_failure"];

/// One row by priority: the KPI, its measure, the SLA for sla_breach, and the label.
struct ByPriority {
    kpi: &'static str,
    measure: &'static str,
    sla: Option<&'static str>,
    label: &'static str,
}

const BY_PRIORITY: [ByPriority; 5] = [
    ByPriority { kpi: "mtta", measure: "p50_hours", sla: None, label: "MTTA median" },
    ByPriority { kpi: "mttr", measure: "p50_hours", sla: None, label: "MTTR median" },
    ByPriority { kpi: "sla_breach", measure: "breach_rate", sla: Some("response"), label: "Response SLA met" },
    ByPriority { kpi: "sla_breach", measure: "breach_rate", sla: Some("resolution"), label: "Resolution SLA met" },
    ByPriority { kpi: "backlog", measure: "open_incidents", sla: None, label: "Open backlog at month end" },
];

/// "69 min ✓, n=1,696": the value (SLAs as the share met), its verdict against the target, † for a
/// month not settled, and its n (left out where the value is itself the count).
fn cell(inputs: &Inputs, c: &Comparison) -> Cell {
    let shown = scale(&c.kpi, &c.unit, &c.measure);
    let value = if c.kpi == "sla_breach" { format_value(c.value.map(|v| 1.0 - v), Scale::Percent) } else { format_value(c.value, shown) };
    let (mark, tone) = match &c.target {
        Some(t) if t.met => (" ✓", Tone::Good),
        Some(_) => (" ✗", Tone::Bad),
        None => ("", Tone::Plain),
    };
    let settling = settling(inputs, &c.kpi);
    let n = match c.n {
        Some(n) if shown != Scale::Count || c.value != Some(n) => format!(", n={}", thousands(n.round() as i64)),
        _ => String::new(),
    };
    // A cell may break only before its n, so a narrow page shows the n under the value.
    let figure = format!("{value}{mark}{}", if settling { " †" } else { "" }).replace(' ', "\u{a0}");
    Cell::toned(format!("{figure}{n}"), tone)
}

/// Whether the KPI's figures for the period have not settled yet (its `settles:`).
fn settling(inputs: &Inputs, kpi: &str) -> bool {
    find(inputs.current, kpi).is_some_and(|k| k.provisional.contains(&inputs.period.label()))
}

/// The by-priority table and the service-wide table.
pub(crate) fn tables(inputs: &Inputs) -> (Table, Table) {
    let mut priorities: BTreeSet<(i64, String)> = BTreeSet::new();
    let rows_of = |spec: &ByPriority| -> Vec<&Comparison> {
        inputs.comparisons.iter().filter(|c| c.kpi == spec.kpi && c.measure == spec.measure && c.key_value("sla") == spec.sla && c.value.is_some()).collect()
    };
    for spec in &BY_PRIORITY {
        for c in rows_of(spec) {
            if let (Some("priority"), Some(p)) = (c.key_value("scope"), c.key_value("priority")) {
                priorities.insert((p.parse().unwrap_or(i64::MAX), p.to_string()));
            }
        }
    }
    let priorities: Vec<String> = priorities.into_iter().map(|(_, p)| p).collect();
    let labels: Vec<String> = priorities.iter().map(|p| priority_label(p)).collect();
    let mut columns: Vec<(&str, bool)> = vec![("measure", false), ("All", true)];
    columns.extend(labels.iter().map(|l| (l.as_str(), true)));
    let mut by_priority = Table::new(&columns);
    by_priority.id = Some("headline".into());
    for spec in &BY_PRIORITY {
        let rows = rows_of(spec);
        if rows.is_empty() {
            continue;
        }
        let unit = match (spec.kpi, spec.sla) {
            ("mtta", _) => " (minutes)",
            ("mttr", _) => " (hours)",
            (_, Some(_)) => " (% of clocks)",
            _ => "",
        };
        let mut line = vec![Cell::plain(format!("{}{unit}", spec.label))];
        let all = rows.iter().find(|c| c.key_value("scope") == Some("all"));
        line.push(all.map(|c| cell(inputs, c)).unwrap_or_else(|| Cell::plain("—")));
        for p in &priorities {
            let of = rows.iter().find(|c| c.key_value("scope") == Some("priority") && c.key_value("priority") == Some(p.as_str()));
            line.push(of.map(|c| cell(inputs, c)).unwrap_or_else(|| Cell::plain("none")));
        }
        by_priority.rows.push(line);
    }
    by_priority.note = Some(
        "Each cell: the month's value, ✓ or ✗ against its target, and n, the tickets or clocks it is over (the backlog is its own count); † marks a month that has not settled. All is the figure over every incident of the month, not an average of the priorities; SLAs are the share of clocks decided in the month that met their target. The lists above give each miss with its previous month."
            .into(),
    );

    let mut service_wide = Table::new(&[("measure", false), ("value", true), ("previous month", true), ("target", true), ("n", true)]);
    service_wide.id = Some("service-wide".into());
    let previous = inputs.previous_label.clone().unwrap_or_default();
    for (kpi, measure, label, n_label) in
        [("major_incidents", "major_incidents", "Major incidents opened", ""), ("change_failure", "change_failure_rate", "Change failure rate", "changes")]
    {
        let Some(c) = inputs.comparisons.iter().find(|c| c.kpi == kpi && c.measure == measure) else { continue };
        let shown = scale(&c.kpi, &c.unit, &c.measure);
        let prev = c.previous.as_ref().and_then(|p| p.value).map(|v| format_value(Some(v), shown)).unwrap_or_else(|| "—".into());
        let target = match &c.target {
            Some(t) => Cell::toned(
                format!("≤ {} {}", format_value(Some(t.value), shown), if t.met { "✓ met" } else { "✗ missed" }),
                if t.met { Tone::Good } else { Tone::Bad },
            ),
            None => Cell::plain("none set"),
        };
        let settling = settling(inputs, kpi);
        let n = match (c.n, n_label) {
            (Some(n), "") => thousands(n.round() as i64),
            (Some(n), what) => format!("{} {what}", thousands(n.round() as i64)),
            (None, _) => "—".into(),
        };
        service_wide.rows.push(vec![
            Cell::plain(label),
            Cell::plain(format!("{}{}", format_value(c.value, shown), if settling { " †" } else { "" })),
            Cell::plain(prev),
            target,
            Cell::plain(n),
        ]);
    }
    service_wide.note = Some(format!(
        "Measures without a priority, over the month; the previous month is {}.",
        if previous.is_empty() { "not in the data".to_string() } else { previous }
    ));
    (by_priority, service_wide)
}
