//! First-page items about the work standing at the cut-off: the SLA clocks about to breach and the
//! open incidents gone idle or grown old.

use serde_json::{Map, Value};

use super::{Attention, Item, Reason, priority_order};
use crate::evidence::comparison::number as num;
use crate::report::format::thousands;
use crate::report::sections::{Inputs, find, overall, priority_label, text};

/// A running clock at or past this share of its target is about to breach.
pub const ABOUT_TO_BREACH: f64 = 0.75;

/// A running clock at or past this share of its target is named first: it breaches soonest.
pub const NEARLY_BREACHED: f64 = 0.9;

/// Incidents open longer than this many days are old, whatever their activity.
const OLD_DAYS: f64 = 90.0;

pub(super) fn clocks_about_to_breach(inputs: &Inputs, lists: &mut Attention) {
    let Some(kpi) = find(inputs.current, "sla_at_risk") else { return };
    let share = |r: &Map<String, Value>| num(r, "elapsed_share").unwrap_or(0.0);
    let at_risk: Vec<&Map<String, Value>> = kpi.rows.iter().filter(|r| share(r) >= ABOUT_TO_BREACH).collect();
    // The rows come soonest deadline first.
    let Some(first) = at_risk.first() else { return };
    let nearly = at_risk.iter().filter(|r| share(r) >= NEARLY_BREACHED).count();
    let mut by_priority: Vec<(u8, String, usize)> = Vec::new();
    for r in &at_risk {
        let p = text(r, "priority");
        match by_priority.iter_mut().find(|(_, q, _)| *q == p) {
            Some(entry) => entry.2 += 1,
            None => by_priority.push((priority_order(&p), p, 1)),
        }
    }
    by_priority.sort();
    // Sorted with the target misses of the same priority: P1, P2, all priorities, then P3 onwards.
    let top_priority = by_priority.first().map_or(20, |(order, _, _)| *order);
    let split = by_priority.iter().map(|(_, p, n)| format!("{} {n}", priority_label(p))).collect::<Vec<_>>().join(", ");
    lists.needs_attention.push(Item {
        reason: Reason::ClocksAboutToBreach,
        kpi: "sla_at_risk".into(),
        measure: "elapsed_share".into(),
        key: String::new(),
        text: format!(
            "{} SLA clock{} running at the cut-off {} {:.0}% or more of {} target gone ({split}), {nearly} of them {:.0}% or more; the first breaches {} ({}, {}). Tickets: clocks about to breach.",
            thousands(at_risk.len() as i64),
            if at_risk.len() == 1 { "" } else { "s" },
            if at_risk.len() == 1 { "has" } else { "have" },
            ABOUT_TO_BREACH * 100.0,
            if at_risk.len() == 1 { "its" } else { "their" },
            NEARLY_BREACHED * 100.0,
            crate::report::format::local_time(&text(first, "deadline"), inputs.zone()),
            text(first, "id"),
            text(first, "sla"),
        ),
        rank: (0, top_priority, 0),
    });
}

/// The open backlog's idle and old incidents, when there are any.
pub(super) fn idle_and_old(inputs: &Inputs, lists: &mut Attention) {
    let Some(kpi) = find(inputs.current, "backlog_age") else { return };
    let all: Vec<&Map<String, Value>> = kpi.rows.iter().filter(|r| overall(r)).collect();
    let sum =
        |column: &str, band: Option<&str>| -> f64 { all.iter().filter(|r| band.is_none_or(|b| text(r, "age_band") == b)).filter_map(|r| num(r, column)).sum() };
    let (open, idle, old) = (sum("open_incidents", None), sum("idle_incidents", None), sum("open_incidents", Some("over 90 days")));
    if idle == 0.0 && old == 0.0 {
        return;
    }
    let old_text = if old > 0.0 {
        format!(" and {} {} been open more than {OLD_DAYS:.0} days", thousands(old as i64), if old == 1.0 { "has" } else { "have" })
    } else {
        String::new()
    };
    let oldest = find(inputs.current, "open_incident_list")
        .and_then(|list| list.rows.iter().max_by(|a, b| num(a, "age_days").unwrap_or(0.0).total_cmp(&num(b, "age_days").unwrap_or(0.0))))
        .map(|r| format!("; the oldest, {}, has been open {:.1} days", text(r, "id"), num(r, "age_days").unwrap_or(0.0)))
        .unwrap_or_default();
    lists.needs_attention.push(Item {
        reason: Reason::IdleOrOld,
        kpi: "backlog_age".into(),
        measure: "idle_incidents".into(),
        key: String::new(),
        text: format!(
            "Of the {} incident{} open at the cut-off, {} had nothing recorded on them for {} days or more{old_text}{oldest}. Tickets: oldest open incidents.",
            thousands(open as i64),
            if open == 1.0 { "" } else { "s" },
            thousands(idle as i64),
            inputs.current.parameters.idle_days,
        ),
        rank: (2, 2, 1),
    });
}
