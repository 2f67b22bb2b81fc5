//! Reconciliation with the source tool, part of the SLA section: the source's own SLA flag
//! against mttx's resolution clock for the month's resolved incidents, by priority, with each
//! disagreement put down to its cause and example tickets.

use serde_json::{Map, Value};

use super::{Inputs, find, overall, row_priority_label, text};
use crate::evidence::comparison::number as num;
use crate::report::document::{Block, Cell, Table, Tone};
use crate::report::format::{month_abbrev, thousands};

/// The source tool's flag and mttx agree on at least this share of the month's incidents, or the
/// first page says so (`first_page_line`).
pub const SOURCE_AGREEMENT: f64 = 0.95;

/// The first page's line when the source tool's flag and mttx agree on less than
/// `SOURCE_AGREEMENT` of the month's incidents: a pack that differs from the source tool without
/// a word is dismissed.
pub(crate) fn first_page_line(inputs: &Inputs) -> Option<String> {
    let kpi = find(inputs.current, "sla_reconciliation")?;
    let period = inputs.period.label();
    let row = kpi.rows.iter().find(|r| overall(r) && text(r, "month") == period)?;
    let count = |column: &str| num(row, column).unwrap_or(0.0);
    let compared = count("compared");
    if compared == 0.0 || num(row, "agreement").is_none_or(|a| a >= SOURCE_AGREEMENT) {
        return None;
    }
    let share = |n: f64| format!("{:.1}%", 100.0 * n / compared);
    let disagreed = compared - count("agreed");
    Some(format!(
        "Against the source tool: its own SLA flag disagrees with mttx's resolution clock on {} of the {} incidents resolved in {} ({}): the source has {} missed ({}), mttx {} breached ({}). Causes: {}. The SLA section explains; the Tickets section lists them.",
        thousands(disagreed as i64),
        thousands(compared as i64),
        month_abbrev(&period),
        share(disagreed),
        thousands(count("source_missed") as i64),
        share(count("source_missed")),
        thousands(count("mttx_breached") as i64),
        share(count("mttx_breached")),
        causes(row).join(", "),
    ))
}

/// Example tickets named for each cause.
const EXAMPLES: usize = 3;

pub(crate) fn reconciliation(inputs: &Inputs) -> Vec<Block> {
    let Some(kpi) = find(inputs.current, "sla_reconciliation") else { return Vec::new() };
    let period = inputs.period.label();
    let rows: Vec<&Map<String, Value>> = kpi.rows.iter().filter(|r| text(r, "month") == period).collect();
    let count = |r: &Map<String, Value>, column: &str| num(r, column).unwrap_or(0.0);
    let Some(all) = rows.iter().find(|r| overall(r)) else { return Vec::new() };
    let heading = Block::Paragraph("Against the source tool's SLA flag".into());
    if count(all, "compared") == 0.0 {
        return vec![
            heading,
            Block::Paragraph(
                "No incident resolved in the month carries the source tool's own SLA flag (source_made_sla), so there is nothing to reconcile; map it in the profile to compare.".into(),
            ),
        ];
    }
    let mut columns: Vec<(&str, bool)> = vec![("priority", false), ("compared", true), ("source: missed", true), ("mttx: breached", true), ("agree", true)];
    columns.extend(CAUSES.iter().map(|(_, label)| (*label, true)));
    let mut table = Table::new(&columns);
    let share = |n: f64, of: f64| if of > 0.0 { format!("{} ({:.1}%)", thousands(n as i64), 100.0 * n / of) } else { thousands(n as i64) };
    for r in rows.iter().filter(|r| !overall(r) && count(r, "compared") > 0.0).chain([all]) {
        let compared = count(r, "compared");
        let agreement = num(r, "agreement");
        let tone = if agreement.is_some_and(|a| a < SOURCE_AGREEMENT) { Tone::Bad } else { Tone::Plain };
        let mut cells = vec![
            Cell::plain(row_priority_label(r)),
            Cell::plain(thousands(compared as i64)),
            Cell::plain(share(count(r, "source_missed"), compared)),
            Cell::plain(share(count(r, "mttx_breached"), compared)),
            Cell::toned(share(count(r, "agreed"), compared), tone),
        ];
        cells.extend(CAUSES.iter().map(|(column, _)| Cell::plain(thousands(count(r, column) as i64))));
        table.rows.push(cells);
    }
    table.note = Some(format!(
        "Incidents resolved in {} whose source_made_sla is known, the source tool's flag against mttx's resolution clock (sla_reconciliation). A disagreement is put down to the first change that alone gives the source's verdict: the pauses left in, the 24x7 calendar, both, the clock stopped at closed_at; otherwise the target or something else.",
        month_abbrev(&period)
    ));
    let mut blocks = vec![heading, Block::Table(table)];
    let found = causes(all);
    if !found.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "Causes of the {} disagreements: {}.",
            thousands((count(all, "compared") - count(all, "agreed")) as i64),
            found.join(", ")
        )));
    }
    if let Some(list) = find(inputs.current, "sla_disagreement_list") {
        let mut examples = Vec::new();
        for (_, cause) in CAUSES {
            let ids: Vec<String> =
                list.rows.iter().filter(|r| text(r, "month") == period && text(r, "cause") == cause).take(EXAMPLES).map(|r| text(r, "id")).collect();
            if !ids.is_empty() {
                examples.push(format!("{cause}: {}", ids.join(", ")));
            }
        }
        if !examples.is_empty() {
            blocks.push(Block::Bullets(examples));
        }
    }
    blocks
}

/// The disagreements' causes with their counts, largest first, as "calendar 221".
fn causes(row: &Map<String, Value>) -> Vec<String> {
    let mut found: Vec<(f64, &str)> = CAUSES.iter().filter_map(|(column, label)| num(row, column).filter(|n| *n > 0.0).map(|n| (n, *label))).collect();
    found.sort_by(|a, b| b.0.total_cmp(&a.0));
    found.into_iter().map(|(n, label)| format!("{label} {}", thousands(n as i64))).collect()
}

/// sla_reconciliation's cause columns and the causes they count.
const CAUSES: [(&str, &str); 5] = [
    ("by_calendar", "calendar"),
    ("by_pauses", "pauses"),
    ("by_calendar_and_pauses", "calendar and pauses"),
    ("by_clock_stopped", "clock stopped"),
    ("by_target_or_other", "target or other"),
];
