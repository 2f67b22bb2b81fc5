//! What the first page says in words: the items that need attention, those on track and the
//! notable changes of neutral measures, gathered from the target verdicts, the process-behaviour
//! signals, the month-end backlog, the major incidents still without a problem record and the work
//! standing at the cut-off.

mod open_work;
mod targets;

pub(crate) use open_work::ABOUT_TO_BREACH;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Inputs, MIN_N_FOR_HIGHLIGHT, find, priority_label, text};
use crate::evidence::comparison::{Comparison, Direction, key_value};
use crate::evidence::xmr::ProcessChart;
use crate::report::format::{Scale, change_text, format_value, month_abbrev, scale, thousands};

/// Items per list on the first page; the rest are listed in the appendix.
pub const LIST_LIMIT: usize = 8;

/// Days after its resolution by which a major incident should have a problem record.
pub const PROBLEM_RECORD_DAYS: u32 = 10;

/// A month-end backlog that moved by at least this share of the month before (and by at least
/// `BACKLOG_MIN_CHANGE` incidents) is an item.
pub const BACKLOG_CHANGE: f64 = 0.10;
pub const BACKLOG_MIN_CHANGE: f64 = 5.0;

/// Signals in the last this many months of the window are items; older ones are history.
pub const RECENT_MONTHS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    TargetMissed,
    TargetMet,
    BackOnTarget,
    Signal,
    BacklogGrew,
    BacklogFell,
    MajorWithoutProblem,
    ClocksAboutToBreach,
    IdleOrOld,
    Change,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub reason: Reason,
    pub kpi: String,
    pub measure: String,
    /// The row's key, `scope=priority,priority=1,sla=resolution`; empty for a KPI's only row.
    pub key: String,
    pub text: String,
    /// Sort order within a list: lower first.
    #[serde(skip)]
    rank: (u8, u8, i64),
}

/// The three lists, each in the order the first page gives them, before the cut to `LIST_LIMIT`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Attention {
    pub needs_attention: Vec<Item>,
    pub on_track: Vec<Item>,
    pub notable_changes: Vec<Item>,
}

impl Attention {
    pub fn lists(&self) -> [(&'static str, &[Item]); 3] {
        [("Needs attention", &self.needs_attention), ("On track", &self.on_track), ("Notable changes", &self.notable_changes)]
    }
}

pub(crate) fn attention(inputs: &Inputs, process: &[ProcessChart]) -> Attention {
    let mut lists = Attention::default();
    targets::targets(inputs, &mut lists);
    signals(inputs, process, &mut lists);
    backlog(inputs, &mut lists);
    majors_without_problem(inputs, &mut lists);
    open_work::clocks_about_to_breach(inputs, &mut lists);
    open_work::idle_and_old(inputs, &mut lists);
    neutral_changes(inputs, &mut lists);
    for list in [&mut lists.needs_attention, &mut lists.on_track, &mut lists.notable_changes] {
        list.sort_by_key(|i| i.rank);
    }
    lists
}

/// Where a priority sorts: P1 and P2 before all priorities together, the rest after.
fn priority_rank(key_values: &[(String, String)]) -> u8 {
    match (key_value(key_values, "scope"), key_value(key_values, "priority")) {
        (Some("priority"), Some(p)) => priority_order(p),
        _ => 2,
    }
}

/// Where one priority sorts, as `priority_rank` places a row of it.
fn priority_order(priority: &str) -> u8 {
    match priority.parse::<u8>() {
        Ok(1) => 0,
        Ok(2) => 1,
        Ok(p) => p.saturating_add(2),
        Err(_) => 20,
    }
}

/// The latest signal of each chart in the last `RECENT_MONTHS` months: unfavourable ones need
/// attention, favourable ones are on track, and a neutral measure's is a notable change.
fn signals(inputs: &Inputs, process: &[ProcessChart], lists: &mut Attention) {
    let recent: Vec<String> = inputs.window.iter().rev().take(RECENT_MONTHS).map(|m| m.label()).collect();
    for p in process {
        let Some(signal) = p.chart.signals.iter().rev().find(|s| recent.contains(&s.month)) else { continue };
        let unit = find(inputs.trend, &p.kpi).map(|k| k.unit.clone()).unwrap_or_default();
        let shown = scale(&p.kpi, &unit, &p.measure);
        let value = p.chart.points.iter().find(|pt| pt.month == signal.month).and_then(|pt| pt.value);
        let text = format!(
            "{}: {} in {}, {} (centre {}, limits {} to {}{}).",
            p.label,
            format_value(value, shown),
            month_abbrev(&signal.month),
            signal.describe(),
            format_value(Some(p.chart.centre), shown),
            format_value(Some(p.chart.lower_limit.max(0.0)), shown),
            format_value(Some(p.chart.upper_limit), shown),
            if p.chart.provisional { ", provisional" } else { "" }
        );
        let key_values = crate::kpi::document::key_pairs_of(&p.key);
        let item = |list: u8| Item {
            reason: Reason::Signal,
            kpi: p.kpi.clone(),
            measure: p.measure.clone(),
            key: p.key.clone(),
            text: text.clone(),
            rank: (list, priority_rank(&key_values), 0),
        };
        match signal.favourable(p.better) {
            Some(false) => lists.needs_attention.push(item(1)),
            Some(true) => lists.on_track.push(item(0)),
            None => lists.notable_changes.push(item(0)),
        }
    }
}

/// The month-end backlog of all priorities against the month before, when it moved by at least
/// `BACKLOG_CHANGE` and `BACKLOG_MIN_CHANGE` incidents, with the priority that moved most.
fn backlog(inputs: &Inputs, lists: &mut Attention) {
    let rows: Vec<&Comparison> = inputs.comparisons.iter().filter(|c| c.kpi == "backlog" && c.measure == "open_incidents").collect();
    let Some(all) = rows.iter().find(|c| c.key_value("scope") == Some("all")) else { return };
    let (Some(now), Some(before)) = (all.value, all.previous.as_ref().and_then(|p| p.value)) else { return };
    let change = now - before;
    if change.abs() < BACKLOG_MIN_CHANGE || change.abs() < BACKLOG_CHANGE * before {
        return;
    }
    let biggest = rows
        .iter()
        .filter(|c| c.key_value("scope") == Some("priority"))
        .filter_map(|c| Some((c, c.value? - c.previous.as_ref()?.value?)))
        .filter(|(_, d)| d.signum() == change.signum() && *d != 0.0)
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()));
    let most = biggest
        .map(|(c, d)| format!(", most in {}: {}{}", targets::row_priority(c), if d > 0.0 { "+" } else { "−" }, thousands(d.abs() as i64)))
        .unwrap_or_default();
    let relative = all.previous.as_ref().and_then(|p| change_text(p, Scale::Count)).unwrap_or_default();
    let (verb, reason, list) =
        if change > 0.0 { ("grew", Reason::BacklogGrew, &mut lists.needs_attention) } else { ("fell", Reason::BacklogFell, &mut lists.on_track) };
    // A previous value is the previous month's.
    let previous = month_abbrev(&inputs.period.previous().label());
    list.push(Item {
        reason,
        kpi: "backlog".into(),
        measure: "open_incidents".into(),
        key: all.key.clone(),
        text: format!(
            "Open backlog {verb} to {} at month end, from {} at the end of {previous} ({relative}{most}).",
            thousands(now as i64),
            thousands(before as i64)
        ),
        rank: (2, 2, 0),
    });
}

/// The period's major incidents resolved at least `PROBLEM_RECORD_DAYS` before the cut-off, and
/// those of them still without a problem record.
pub(crate) struct MajorsDue<'a> {
    pub resolved_long_ago: Vec<&'a Map<String, Value>>,
    pub missing: Vec<&'a Map<String, Value>>,
}

/// None when major_incident_list did not run or the cut-off does not parse.
pub(crate) fn majors_due_a_problem<'a>(inputs: &Inputs<'a>) -> Option<MajorsDue<'a>> {
    let kpi = find(inputs.current, "major_incident_list")?;
    let zone = inputs.zone();
    let as_of = crate::time::parse_iso(&inputs.as_of, zone)?;
    let due = as_of - crate::time::days_micros(PROBLEM_RECORD_DAYS);
    let period = inputs.period.label();
    let resolved_long_ago: Vec<&Map<String, Value>> =
        kpi.rows.iter().filter(|r| text(r, "month") == period && crate::time::parse_iso(&text(r, "resolved_at"), zone).is_some_and(|at| at <= due)).collect();
    let missing = resolved_long_ago.iter().copied().filter(|r| text(r, "problem_id").is_empty()).collect();
    Some(MajorsDue { resolved_long_ago, missing })
}

/// Major incidents of the period resolved at least `PROBLEM_RECORD_DAYS` before the cut-off that
/// still have no problem record: a major incident should get a root-cause analysis.
fn majors_without_problem(inputs: &Inputs, lists: &mut Attention) {
    let Some(MajorsDue { resolved_long_ago, missing }) = majors_due_a_problem(inputs) else { return };
    let missing: Vec<String> = missing.iter().map(|r| text(r, "id")).collect();
    if missing.is_empty() {
        return;
    }
    const SHOWN: usize = 5;
    let more = if missing.len() > SHOWN { format!(" and {} more", missing.len() - SHOWN) } else { String::new() };
    lists.needs_attention.push(Item {
        reason: Reason::MajorWithoutProblem,
        kpi: "major_incident_list".into(),
        measure: "problem_id".into(),
        key: String::new(),
        text: format!(
            "{} of the {} major incident{} resolved more than {} days before the cut-off {} no problem record: {}{more}.",
            missing.len(),
            resolved_long_ago.len(),
            if resolved_long_ago.len() == 1 { "" } else { "s" },
            PROBLEM_RECORD_DAYS,
            if missing.len() == 1 { "has" } else { "have" },
            missing.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ")
        ),
        rank: (0, 0, i64::MIN),
    });
}

/// Neutral measures (workload) whose change on the previous month stays significant after the
/// multiple-testing correction, in rows with n ≥ `MIN_N_FOR_HIGHLIGHT`, largest first.
fn neutral_changes(inputs: &Inputs, lists: &mut Attention) {
    for c in inputs.comparisons {
        let Some(prev) = &c.previous else { continue };
        if prev.direction != Some(Direction::Changed)
            || !prev.significant
            || c.n.is_some_and(|n| n < MIN_N_FOR_HIGHLIGHT)
            || prev.n.is_some_and(|n| n < MIN_N_FOR_HIGHLIGHT)
        {
            continue;
        }
        let shown = scale(&c.kpi, &c.unit, &c.measure);
        let mut label = targets::row_label(inputs, c);
        if c.kpi == "volume" {
            let category = c.key_value("category").map(|v| if v.is_empty() { "no category" } else { v }).unwrap_or_default().to_string();
            let priority = c.key_value("priority").map(priority_label).unwrap_or_default();
            label = format!("Incidents opened, {category} {priority}");
        }
        lists.notable_changes.push(Item {
            reason: Reason::Change,
            kpi: c.kpi.clone(),
            measure: c.measure.clone(),
            key: c.key.clone(),
            text: format!(
                "{label}: {} ({} {}; {}, {}).",
                format_value(c.value, shown),
                month_abbrev(&inputs.period.previous().label()),
                format_value(prev.value, shown),
                change_text(prev, shown).unwrap_or_default(),
                prev.q_value.map(crate::report::format::format_q).unwrap_or_default()
            ),
            rank: (1, 0, -(1000.0 * prev.relative.unwrap_or(0.0).abs()) as i64),
        });
    }
}
