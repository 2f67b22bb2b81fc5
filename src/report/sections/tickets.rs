//! Tickets: the tickets behind the first page's red items, by number, with the facts that put
//! each one there: the period's P1 and P2 SLA breaches, the oldest open incidents, the clocks
//! about to breach, the major incidents without a problem record and the disagreements with the
//! source tool's SLA flag. Each list is capped at `--tickets`, with the cap stated; the section
//! (collapsed in the HTML) and tickets.csv hold the same lists.

use serde::Serialize;
use serde_json::{Map, Value};

use super::attention::{ABOUT_TO_BREACH, PROBLEM_RECORD_DAYS, majors_due_a_problem};
use super::{Inputs, find, flag, priority_label, section, text};
use crate::error::{Error, Result};
use crate::escape::spreadsheet_safe;
use crate::evidence::comparison::number as num;
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, duration, format_value, local_time, thousands};

/// Tickets per list unless `--tickets N` says otherwise.
pub const DEFAULT_LIMIT: usize = 25;

#[derive(Debug, Clone, Serialize)]
pub struct TicketList {
    /// Stable name, the `list` column of tickets.csv.
    pub name: &'static str,
    pub title: &'static str,
    /// What puts a ticket on the list, and in what order it comes.
    pub rule: String,
    /// Tickets on the list before the cap.
    pub total: usize,
    /// The first `limit` of them.
    pub tickets: Vec<Ticket>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ticket {
    pub id: String,
    pub priority: String,
    pub service: String,
    /// opened_at as the data gives it (RFC 3339).
    pub opened_at: String,
    /// The facts that put the ticket on the list, in words.
    pub facts: String,
}

/// The lists, each cut to `--tickets`; a list whose KPI did not run is left out.
pub fn lists(inputs: &Inputs) -> Vec<TicketList> {
    let limit = inputs.ticket_limit;
    let zone = inputs.zone();
    let time = |row: &Map<String, Value>, column: &str| local_time(&text(row, column), zone);
    let hours = |row: &Map<String, Value>, column: &str| duration(num(row, column));
    let period = inputs.period.label();
    let ticket = |row: &Map<String, Value>, facts: String| Ticket {
        id: text(row, "id"),
        priority: text(row, "priority"),
        service: text(row, "service"),
        opened_at: text(row, "opened_at"),
        facts,
    };
    let mut out = Vec::new();
    if let Some(kpi) = find(inputs.current, "sla_breach_list") {
        let rows = kpi.rows.iter().filter(|r| text(r, "month") == period && matches!(text(r, "priority").as_str(), "1" | "2"));
        let tickets = rows
            .map(|r| {
                let end = match text(r, "stopped_at").as_str() {
                    "" => format!("still running at the cut-off, {} so far", hours(r, "elapsed_hours")),
                    _ => format!("stopped {} after {}", time(r, "stopped_at"), hours(r, "elapsed_hours")),
                };
                ticket(r, format!("{} clock breached {} (target {}); {end}", text(r, "sla"), time(r, "breached_at"), hours(r, "target_hours")))
            })
            .collect();
        out.push(capped(
            "p1_p2_breaches",
            "P1 and P2 SLA breaches",
            "The response and resolution clocks of P1 and P2 incidents that passed their target in the month, by priority and the instant they breached (sla_breach_list).".into(),
            tickets,
            limit,
        ));
    }
    if let Some(kpi) = find(inputs.current, "open_incident_list") {
        // The KPI's rows come ordered by opened_at and id: oldest first, as the list wants.
        let tickets = kpi
            .rows
            .iter()
            .map(|r| {
                let group = match text(r, "assignment_group").as_str() {
                    "" => String::new(),
                    g => format!("; with {g}"),
                };
                ticket(
                    r,
                    format!(
                        "open {:.1} days; last activity {} ({:.1} days before the cut-off{}){group}",
                        num(r, "age_days").unwrap_or(0.0),
                        time(r, "last_activity_at"),
                        num(r, "idle_days").unwrap_or(0.0),
                        if flag(r, "idle") { ", idle" } else { "" }
                    ),
                )
            })
            .collect();
        out.push(capped(
            "oldest_open",
            "Oldest open incidents",
            format!(
                "Incidents open at the cut-off, oldest first (open_incident_list); idle means nothing recorded on them for {} days or more.",
                inputs.current.parameters.idle_days
            ),
            tickets,
            limit,
        ));
    }
    if let Some(kpi) = find(inputs.current, "sla_at_risk") {
        let tickets = kpi
            .rows
            .iter()
            .filter(|r| num(r, "elapsed_share").is_some_and(|s| s >= ABOUT_TO_BREACH))
            .map(|r| {
                let paused = if flag(r, "paused") { "; paused at the cut-off" } else { "" };
                ticket(
                    r,
                    format!(
                        "{} clock at {} of its {} target; breaches {} if it runs on{paused}",
                        text(r, "sla"),
                        format_value(num(r, "elapsed_share"), Scale::Percent),
                        hours(r, "target_hours"),
                        time(r, "deadline")
                    ),
                )
            })
            .collect();
        out.push(capped(
            "about_to_breach",
            "Clocks about to breach",
            format!(
                "SLA clocks running at the cut-off with {:.0}% or more of their target elapsed, the soonest deadline first (sla_at_risk).",
                ABOUT_TO_BREACH * 100.0
            ),
            tickets,
            limit,
        ));
    }
    if let Some(majors) = majors_due_a_problem(inputs) {
        let tickets = majors.missing.iter().map(|r| ticket(r, format!("major incident resolved {}; no problem record", time(r, "resolved_at")))).collect();
        out.push(capped(
            "majors_without_problem",
            "Major incidents without a problem record",
            format!(
                "Major incidents of the month resolved more than {} days before the cut-off with no problem_id, by opened_at (major_incident_list).",
                PROBLEM_RECORD_DAYS
            ),
            tickets,
            limit,
        ));
    }
    if let Some(kpi) = find(inputs.current, "sla_disagreement_list") {
        let verdict = |met: Option<bool>| match met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "unknown",
        };
        let tickets = kpi
            .rows
            .iter()
            .filter(|r| text(r, "month") == period)
            .map(|r| {
                ticket(
                    r,
                    format!(
                        "source: {}, mttx: {} ({} of {} on the policy's clock, {} on the wall clock); cause: {}",
                        verdict(r.get("source_made_sla").and_then(Value::as_bool)),
                        verdict(r.get("mttx_met").and_then(Value::as_bool)),
                        hours(r, "hours"),
                        hours(r, "target_hours"),
                        hours(r, "wall_hours"),
                        text(r, "cause")
                    ),
                )
            })
            .collect();
        out.push(capped(
            "source_disagrees",
            "Disagreements with the source tool's SLA flag",
            "Incidents resolved in the month on which the source tool's SLA flag and mttx's resolution clock disagree, by cause, priority and id (sla_disagreement_list).".into(),
            tickets,
            limit,
        ));
    }
    out
}

pub(crate) fn tickets(inputs: &Inputs, lists: &[TicketList]) -> Section {
    let mut blocks = vec![Block::Paragraph(format!(
        "The tickets behind the items that need attention, by number, to follow up in the source tool. Each list shows at most {} tickets (--tickets); tickets.csv holds the same lists with each list's full count.",
        inputs.ticket_limit
    ))];
    for list in lists {
        blocks.push(Block::Paragraph(format!("{}. {} {}", list.title, list.rule, list.count_text(inputs.ticket_limit))));
        if list.tickets.is_empty() {
            continue;
        }
        let mut table = Table::new(&[("ticket", false), ("priority", false), ("service", false), ("opened", false), ("why", false)]);
        for t in &list.tickets {
            table.rows.push(vec![
                Cell::plain(&t.id),
                Cell::plain(priority_label(&t.priority)),
                Cell::plain(if t.service.is_empty() { "—" } else { &t.service }),
                Cell::plain(local_time(&t.opened_at, inputs.zone())),
                Cell::plain(&t.facts),
            ]);
        }
        table.id = Some(format!("tickets-{}", list.name));
        blocks.push(Block::Table(table));
    }
    let mut section = section("tickets", "Tickets", blocks);
    section.collapsed = true;
    section
}

fn capped(name: &'static str, title: &'static str, rule: String, mut tickets: Vec<Ticket>, limit: usize) -> TicketList {
    let total = tickets.len();
    tickets.truncate(limit);
    TicketList { name, title, rule, total, tickets }
}

impl TicketList {
    /// "12 tickets." or "25 of 72 tickets shown (--tickets 25)."
    pub fn count_text(&self, limit: usize) -> String {
        match self.total {
            0 => "None.".into(),
            t if t > self.tickets.len() => {
                format!("The first {} of {} tickets (at most {limit} per list, --tickets).", self.tickets.len(), thousands(t as i64))
            }
            1 => "1 ticket.".into(),
            t => format!("{} tickets.", thousands(t as i64)),
        }
    }
}

/// tickets.csv: one line per ticket shown, with its list, its place in it and the list's size
/// before the cap; text cells neutralised against spreadsheet formulas.
pub fn csv(lists: &[TicketList]) -> Result<Vec<u8>> {
    let csv_error = |e: csv::Error| Error::io("tickets.csv", std::io::Error::other(e));
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["list", "rank", "of", "id", "priority", "service", "opened_at", "facts"]).map_err(csv_error)?;
    for list in lists {
        for (i, t) in list.tickets.iter().enumerate() {
            writer
                .write_record([
                    list.name.to_string(),
                    (i + 1).to_string(),
                    list.total.to_string(),
                    spreadsheet_safe(&t.id).into_owned(),
                    t.priority.clone(),
                    spreadsheet_safe(&t.service).into_owned(),
                    t.opened_at.clone(),
                    spreadsheet_safe(&t.facts).into_owned(),
                ])
                .map_err(csv_error)?;
        }
    }
    writer.into_inner().map_err(|e| Error::io("tickets.csv", std::io::Error::other(e.to_string())))
}
