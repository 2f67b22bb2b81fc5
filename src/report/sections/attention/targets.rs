//! The first page's items from targets: each miss with its figure, n, previous month and how many
//! months it has lasted; a measure missed across many services as one item; targets met again;
//! and the other targets met, one item per measure. Also the labels the lists give rows.

use serde_json::{Map, Value};

use super::{Attention, Item, Reason, priority_rank};
use crate::evidence::comparison::{Comparison, number as num};
use crate::kpi::Better;
use crate::report::format::{Scale, format_value, month_abbrev, scale, thousands};
use crate::report::sections::{Inputs, find, priority_label, text};

/// The row in words: "P1 resolution SLA", "MTTR median, P4", "Availability, ERP".
pub(super) fn row_label(inputs: &Inputs, c: &Comparison) -> String {
    let priority = match (c.key_value("scope"), c.key_value("priority")) {
        (Some("priority"), Some(p)) => Some(priority_label(p)),
        (Some("all"), _) => Some("all priorities".to_string()),
        _ => None,
    };
    if c.kpi == "sla_breach" {
        let who = match c.key_value("scope") {
            Some("priority") => priority.clone().unwrap_or_default(),
            _ => "All-priority".into(),
        };
        return format!("{who} {} SLA", c.key_value("sla").unwrap_or_default());
    }
    let name = measure_name(inputs, c);
    let others: Vec<String> = c
        .key_values
        .iter()
        .filter(|(k, _)| !["scope", "priority", "month"].contains(&k.as_str()))
        .map(|(_, v)| if v.is_empty() { "none".into() } else { v.clone() })
        .collect();
    let mut parts = vec![name];
    parts.extend(priority);
    parts.extend(others);
    parts.join(", ")
}

/// A value as the page reads it: SLAs as the share met with its counts, others in their scale
/// with n.
fn figure(c: &Comparison, value: Option<f64>, n: Option<f64>) -> String {
    if c.kpi == "sla_breach" {
        let met = value.map(|v| 1.0 - v);
        return match n {
            Some(n) => {
                let breached = value.map(|v| (v * n).round()).unwrap_or(0.0);
                format!("{} of {} met ({})", thousands((n - breached) as i64), thousands(n as i64), format_value(met, Scale::Percent))
            }
            None => format!("{} met", format_value(met, Scale::Percent)),
        };
    }
    let shown = format_value(value, scale(&c.kpi, &c.unit, &c.measure));
    match n {
        Some(n) => format!("{shown} (n={})", thousands(n.round() as i64)),
        None => shown,
    }
}

/// The period's figure with the previous month's inside its brackets: "18 of 23 met (78.3%; Sep
/// 2026 72.2%)", "5.07 h (n=23; Sep 2026 4.81 h)".
fn figure_versus(c: &Comparison, before: Option<&str>) -> String {
    let now = figure(c, c.value, c.n);
    match (before, now.strip_suffix(')')) {
        (Some(before), Some(open)) => format!("{open}; {before})"),
        (Some(before), None) => format!("{now} ({before})"),
        (None, _) => now,
    }
}

/// The target as the page reads it: "≥ 98% met", "≤ 4.00 h".
fn target_text(c: &Comparison, target: f64) -> String {
    if c.kpi == "sla_breach" {
        return format!("≥ {} met", format_value(Some(1.0 - target), Scale::Percent));
    }
    let sign = if c.better == Better::Higher { "≥" } else { "≤" };
    format!("{sign} {}", format_value(Some(target), scale(&c.kpi, &c.unit, &c.measure)))
}

fn meets(better: Better, value: f64, target: f64) -> bool {
    if better == Better::Higher { value >= target } else { value <= target }
}

/// How many months in a row, ending with the period, the row missed (or met) its target, from
/// the trend window where the KPI is charted, else from the previous month alone.
fn streak(inputs: &Inputs, c: &Comparison, target: f64, missed: bool) -> (usize, bool) {
    let Some(kpi) = find(inputs.trend, &c.kpi) else {
        let before = c.previous.as_ref().and_then(|p| p.value).map(|v| meets(c.better, v, target) != missed);
        return (1 + usize::from(before == Some(true)), before.is_none());
    };
    let matches = |r: &Map<String, Value>| c.key_values.iter().all(|(k, v)| text(r, k) == *v);
    let mut count = 0;
    for month in inputs.window.iter().rev() {
        let label = month.label();
        let value = kpi.rows.iter().find(|r| text(r, "month") == label && matches(r)).and_then(|r| num(r, &c.measure));
        match value {
            Some(v) if meets(c.better, v, target) != missed => count += 1,
            _ => break,
        }
    }
    (count.max(1), count == inputs.window.len())
}

fn ordinal(n: usize) -> String {
    match n {
        2 => "second".into(),
        3 => "third".into(),
        4 => "fourth".into(),
        5 => "fifth".into(),
        n => format!("{n}th"),
    }
}

/// Target misses to Needs attention; targets met again after a miss to On track, and the other
/// targets met, one item per measure, after them.
pub(super) fn targets(inputs: &Inputs, lists: &mut Attention) {
    // Per measure met: its name, the rows met, the best rank among them, and one of its rows.
    type Met<'a> = (String, Vec<String>, (u8, u8, i64), &'a Comparison);
    let mut met: Vec<Met> = Vec::new();
    let judged: Vec<&Comparison> = inputs.comparisons.iter().filter(|c| c.target.is_some() && c.value.is_some()).collect();
    let grouped = spread_misses(inputs, &judged, lists);
    for c in judged {
        let verdict = c.target.as_ref().expect("filtered");
        if !verdict.met && grouped.contains(&(c.kpi.as_str(), c.measure.as_str())) {
            continue;
        }
        let previous = c.previous.as_ref().and_then(|p| p.value.map(|v| (p, v)));
        // A comparison's previous value is the month before the period's.
        let before =
            previous.map(|(_, v)| format!("{} {}", month_abbrev(&inputs.period.previous().label()), figure(c, Some(v), None).trim_end_matches(" met")));
        let key = c.key.clone();
        let rank = priority_rank(&c.key_values);
        if !verdict.met {
            let (months, always) = streak(inputs, c, verdict.value, true);
            let run = match months {
                1 => "first month below".to_string(),
                _ if always => format!("below in all {months} months shown"),
                m => format!("{} month below", ordinal(m)),
            };
            lists.needs_attention.push(Item {
                reason: Reason::TargetMissed,
                kpi: c.kpi.clone(),
                measure: c.measure.clone(),
                key,
                text: format!("{}: {} against {}, {run}.", row_label(inputs, c), figure_versus(c, before.as_deref()), target_text(c, verdict.value)),
                // A figure on a few tickets swings by chance: after the others.
                rank: (
                    0,
                    if c.n.is_some_and(|n| crate::report::format::low_n(n, inputs.min_n)) { rank + 10 } else { rank },
                    -(1000.0 * shortfall(c, verdict.value)) as i64,
                ),
            });
        } else if previous.is_some_and(|(_, v)| !meets(c.better, v, verdict.value)) {
            lists.on_track.push(Item {
                reason: Reason::BackOnTarget,
                kpi: c.kpi.clone(),
                measure: c.measure.clone(),
                key,
                text: format!("{}: back on target at {} against {}.", row_label(inputs, c), figure_versus(c, before.as_deref()), target_text(c, verdict.value)),
                rank: (1, rank, 0),
            });
        } else {
            let group = measure_group(inputs, c);
            let place = place(c);
            match met.iter_mut().find(|m| m.0 == group) {
                Some(entry) => {
                    entry.1.push(place);
                    entry.2 = entry.2.min((2, rank, 0));
                }
                None => met.push((group, vec![place], (2, rank, 0), c)),
            }
        }
    }
    for (group, places, rank, c) in met {
        let places: Vec<String> = places.into_iter().filter(|p| !p.is_empty()).collect();
        let text = if places.is_empty() { format!("{group}: within target.") } else { format!("{group}: within target for {}.", places.join(", ")) };
        lists.on_track.push(Item { reason: Reason::TargetMet, kpi: c.kpi.clone(), measure: c.measure.clone(), key: String::new(), text, rank });
    }
}

/// Which row of its measure a comparison is: "P3", "all priorities", a service's name; empty
/// for a KPI's only row.
fn place(c: &Comparison) -> String {
    match c.key_value("scope") {
        Some("all" | "priority") => row_priority(c),
        _ => c.key_values.iter().filter(|(k, _)| !["scope", "month"].contains(&k.as_str())).map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(" "),
    }
}

/// A measure that misses its target in at least `SPREAD` rows not cut by priority (services,
/// outcome groups) is one item, its lowest rows named; returns the (KPI, measure) pairs so told.
fn spread_misses<'a>(inputs: &Inputs, judged: &[&'a Comparison], lists: &mut Attention) -> Vec<(&'a str, &'a str)> {
    const SPREAD: usize = 3;
    const NAMED: usize = 3;
    let mut told = Vec::new();
    for c in judged {
        let pair = (c.kpi.as_str(), c.measure.as_str());
        if told.contains(&pair) || matches!(c.key_value("scope"), Some("all" | "priority")) || c.key.is_empty() {
            continue;
        }
        let rows: Vec<&&Comparison> = judged.iter().filter(|o| o.kpi == c.kpi && o.measure == c.measure).collect();
        let mut missed: Vec<&&Comparison> = rows.iter().copied().filter(|o| o.target.as_ref().is_some_and(|t| !t.met)).collect();
        if missed.len() < SPREAD {
            continue;
        }
        told.push(pair);
        missed.sort_by(|a, b| shortfall(b, b.target.as_ref().map_or(0.0, |t| t.value)).total_cmp(&shortfall(a, a.target.as_ref().map_or(0.0, |t| t.value))));
        let noun = match c.key_value("scope") {
            Some(scope) => format!("{scope}s"),
            None => "rows".into(),
        };
        let worst: Vec<String> = missed.iter().take(NAMED).map(|o| format!("{} {}", place(o), figure(o, o.value, o.n))).collect();
        let target = c.target.as_ref().map(|t| target_text(c, t.value)).unwrap_or_default();
        lists.needs_attention.push(Item {
            reason: Reason::TargetMissed,
            kpi: c.kpi.clone(),
            measure: c.measure.clone(),
            key: String::new(),
            text: format!(
                "{}: below target ({target}) for {} of {} {noun}; furthest off {}.",
                measure_name(inputs, c),
                missed.len(),
                rows.len(),
                worst.join(", ")
            ),
            rank: (0, 2, 0),
        });
    }
    told
}

/// "all priorities" or "P3".
pub(super) fn row_priority(c: &Comparison) -> String {
    match (c.key_value("scope"), c.key_value("priority")) {
        (Some("priority"), Some(p)) => priority_label(p),
        _ => "all priorities".into(),
    }
}

/// The measure without its priority: "Resolution SLA", "MTTR median".
fn measure_group(inputs: &Inputs, c: &Comparison) -> String {
    if c.kpi == "sla_breach" {
        let sla = c.key_value("sla").unwrap_or_default();
        let mut chars = sla.chars();
        return format!("{}{} SLA", chars.next().map(|f| f.to_uppercase().to_string()).unwrap_or_default(), chars.as_str());
    }
    measure_name(inputs, c)
}

/// A measure's name: "MTTA median", "Availability", the SQL header's headline label where it
/// has one ("Reopened"), else the KPI's title with the measure.
fn measure_name(inputs: &Inputs, c: &Comparison) -> String {
    match (c.kpi.as_str(), c.measure.as_str()) {
        ("mtta", "p50_hours") => return "MTTA median".into(),
        ("mttr", "p50_hours") => return "MTTR median".into(),
        ("mtbf", "availability") => return "Availability".into(),
        _ => {}
    }
    let meta = inputs.kpis.iter().find(|k| k.id == c.kpi);
    if let Some(h) = meta.and_then(|k| k.meta.headline.iter().find(|h| h.measure == c.measure)) {
        return h.label.replace("{sla}", "").replace("  ", " ").trim().to_string();
    }
    if meta.is_some_and(|k| k.meta.measures.first() == Some(&c.measure)) {
        return c.title.clone();
    }
    format!("{}, {}", c.title, c.measure.strip_suffix("_hours").unwrap_or(&c.measure).replace('_', " "))
}

/// How far a value falls short of its target, relative to the target.
fn shortfall(c: &Comparison, target: f64) -> f64 {
    let value = c.value.unwrap_or(target);
    let gap = if c.better == Better::Higher { target - value } else { value - target };
    if c.kpi == "sla_breach" { gap / (1.0 - target).max(1e-9) } else { gap / target.abs().max(1e-9) }
}
