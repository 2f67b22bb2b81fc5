//! Ageing, part of the Flow section: the backlog open at the cut-off by age and priority with its
//! idle incidents, and the SLA clocks still running by the share of their target gone.

use serde_json::{Map, Value};

use super::{Inputs, find, flag, overall, priorities, priority_label, row_priority_label, text};
use crate::evidence::comparison::number as num;
use crate::report::document::{Block, Cell, Table, Tone};
use crate::report::format::{instant, local_time, thousands};

pub const AGE_BANDS: [&str; 5] = ["0-2 days", "3-7 days", "8-30 days", "31-90 days", "over 90 days"];
pub const CLOCK_BANDS: [&str; 4] = ["under 50%", "50-75%", "75-90%", "90-100%"];

/// The open backlog at the cut-off: one row per priority and one for all, a column per age band.
pub(crate) fn backlog_by_age(inputs: &Inputs) -> Vec<Block> {
    let Some(kpi) = find(inputs.current, "backlog_age") else { return Vec::new() };
    let mut columns: Vec<(&str, bool)> = vec![("priority", false)];
    columns.extend(AGE_BANDS.iter().map(|b| (*b, true)));
    columns.extend([("open", true), ("idle", true), ("oldest", true)]);
    let mut table = Table::new(&columns);
    let groups: Vec<Option<String>> = priorities(kpi).into_iter().map(Some).chain([None]).collect();
    for group in &groups {
        let rows: Vec<&Map<String, Value>> = kpi
            .rows
            .iter()
            .filter(|r| match group {
                Some(p) => !overall(r) && text(r, "priority") == *p,
                None => overall(r),
            })
            .collect();
        let Some(first) = rows.first() else { continue };
        let count = |band: &str, column: &str| rows.iter().filter(|r| text(r, "age_band") == band).filter_map(|r| num(r, column)).sum::<f64>();
        let mut cells = vec![Cell::plain(row_priority_label(first))];
        for band in AGE_BANDS {
            let n = count(band, "open_incidents");
            let tone = if band == "over 90 days" && n > 0.0 { Tone::Bad } else { Tone::Plain };
            cells.push(Cell::toned(thousands(n as i64), tone));
        }
        let open: f64 = rows.iter().filter_map(|r| num(r, "open_incidents")).sum();
        let idle: f64 = rows.iter().filter_map(|r| num(r, "idle_incidents")).sum();
        let oldest = rows.iter().filter_map(|r| num(r, "oldest_days")).fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
        cells.push(Cell::plain(thousands(open as i64)));
        cells.push(Cell::toned(thousands(idle as i64), if idle > 0.0 { Tone::Bad } else { Tone::Plain }));
        cells.push(Cell::plain(oldest.map(|d| format!("{d:.1} d")).unwrap_or_else(|| "—".into())));
        table.rows.push(cells);
    }
    table.note = Some(format!(
        "Incidents open at the cut-off, {}, by whole days since opened_at (backlog_age). Idle: nothing recorded on them (no event, no acknowledgement) for {} days or more (--idle-days). The Tickets section lists the oldest.",
        instant(&inputs.as_of, inputs.zone()),
        inputs.current.parameters.idle_days
    ));
    vec![Block::Paragraph("Open at the cut-off, by age".into()), Block::Table(table)]
}

/// The running SLA clocks at the cut-off by priority and SLA, a column per band of target gone.
pub(crate) fn running_clocks(inputs: &Inputs) -> Vec<Block> {
    let Some(kpi) = find(inputs.current, "sla_at_risk") else { return Vec::new() };
    if kpi.rows.is_empty() {
        return vec![Block::Paragraph("No SLA clock is running at the cut-off within its target.".into())];
    }
    let mut columns: Vec<(&str, bool)> = vec![("priority", false), ("SLA", false), ("running", true)];
    columns.extend(CLOCK_BANDS.iter().map(|b| (*b, true)));
    columns.extend([("paused", true), ("next deadline", false)]);
    let mut table = Table::new(&columns);
    let mut keys: Vec<(i64, String, u8, String)> = Vec::new();
    for r in &kpi.rows {
        let (p, sla) = (text(r, "priority"), text(r, "sla"));
        let key = (p.parse().unwrap_or(i64::MAX), p, if sla == "response" { 0 } else { 1 }, sla);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.sort();
    for (_, priority, _, sla) in &keys {
        // Rows come soonest deadline first, so the first is the next to breach.
        let rows: Vec<&Map<String, Value>> = kpi.rows.iter().filter(|r| text(r, "priority") == *priority && text(r, "sla") == *sla).collect();
        let mut cells = vec![Cell::plain(priority_label(priority)), Cell::plain(sla.clone()), Cell::plain(thousands(rows.len() as i64))];
        for band in CLOCK_BANDS {
            let n = rows.iter().filter(|r| text(r, "band") == band).count();
            let tone = if band == "90-100%" && n > 0 { Tone::Bad } else { Tone::Plain };
            cells.push(Cell::toned(thousands(n as i64), tone));
        }
        let paused = rows.iter().filter(|r| flag(r, "paused")).count();
        cells.push(Cell::plain(thousands(paused as i64)));
        cells.push(Cell::plain(rows.first().map(|r| local_time(&text(r, "deadline"), inputs.zone())).unwrap_or_default()));
        table.rows.push(cells);
    }
    table.note = Some(
        "SLA clocks running at the cut-off and not yet breached, by the share of their target already gone on the policy's calendar, less pauses (sla_at_risk). The next deadline is the soonest, if the clock runs on; a paused clock is counted with the others. The Tickets section lists those at 75% or more.".into(),
    );
    vec![Block::Paragraph("SLA clocks running at the cut-off".into()), Block::Table(table)]
}
