//! The first page: the month's volume, what needs attention, what is on track and what changed
//! notably, in words; the reviewer's comments and actions; and the compact headline tables.

use super::attention::{Attention, LIST_LIMIT};
use super::{Inputs, find, headline, month_sum, overall, section, text};
use crate::evidence::comparison::number as num;
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{format_value, month_abbrev, month_name, scale, thousands};
use crate::report::notes::MonthNotes;

pub(crate) fn executive_summary(inputs: &Inputs, attention: &Attention, notes: Option<&MonthNotes>) -> Section {
    let against = match &inputs.previous_label {
        Some(previous) => format!("against {previous}"),
        None => "with no previous month in the data".into(),
    };
    let mut intro = format!("{} {against}, and against targets ({}).", month_name(inputs.period), inputs.targets.origin);
    for note in &inputs.notes {
        intro.push(' ');
        intro.push_str(note);
    }
    let mut blocks = vec![Block::Paragraph(intro)];
    if let Some(volume) = volume(inputs) {
        blocks.push(Block::Paragraph(volume));
    }
    if let Some(line) = super::reconciliation::first_page_line(inputs) {
        blocks.push(Block::Paragraph(line));
    }
    for (title, items) in attention.lists() {
        blocks.push(Block::Paragraph(format!("{title}:")));
        let mut bullets: Vec<String> = items.iter().take(LIST_LIMIT).map(|i| i.text.clone()).collect();
        if bullets.is_empty() {
            bullets.push("Nothing this month.".into());
        }
        if items.len() > LIST_LIMIT {
            bullets.push(format!("{} more in the appendix.", items.len() - LIST_LIMIT));
        }
        blocks.push(Block::Bullets(bullets));
    }
    if let Some(notes) = notes {
        blocks.extend(notes_blocks(inputs, notes));
    }
    let (by_priority, service_wide) = headline::tables(inputs);
    blocks.push(Block::Table(by_priority));
    blocks.push(Block::Table(service_wide));
    if let Some(note) = provisional_note(inputs) {
        blocks.push(Block::Paragraph(note));
    }
    section("summary", "Summary", blocks)
}

/// Incidents opened and resolved in the month against the month before, per day where the months
/// differ in length: the first figure a review asks for.
fn volume(inputs: &Inputs) -> Option<String> {
    let period = inputs.period;
    let previous = period.previous();
    let doc = |id: &str| find(inputs.trend, id).or_else(|| find(inputs.current, id));
    let opened = |month: crate::kpi::YearMonth| Some(month_sum(doc("volume")?, "incidents", month).unwrap_or(0.0));
    let resolved = |month: crate::kpi::YearMonth| {
        let label = month.label();
        doc("mttr")?.rows.iter().find(|r| text(r, "month") == label && overall(r)).and_then(|r| num(r, "n"))
    };
    let against = |now: f64, before: Option<f64>| match before {
        Some(before) if before > 0.0 => {
            let change = (now / inputs.days_covered(period)) / (before / inputs.days_covered(previous)) - 1.0;
            format!(" ({} {}; {:+.1}% per day)", month_abbrev(&previous.label()), thousands(before as i64), change * 100.0).replace('-', "−")
        }
        _ => String::new(),
    };
    let now_opened = opened(period)?;
    let mut text = format!("Opened: {} incidents{}.", thousands(now_opened as i64), against(now_opened, opened(previous)));
    if let Some(now_resolved) = resolved(period) {
        text.push_str(&format!(" Resolved: {}{}.", thousands(now_resolved as i64), against(now_resolved, resolved(previous))));
    }
    Some(text)
}

/// The reviewer's comments per KPI and the actions, overdue ones first.
fn notes_blocks(inputs: &Inputs, notes: &MonthNotes) -> Vec<Block> {
    let mut blocks = Vec::new();
    let title = |id: &str| inputs.kpis.iter().find(|k| k.id == id).map(|k| k.meta.title.clone()).unwrap_or_else(|| id.to_string());
    blocks.push(Block::Paragraph(format!("Reviewer's comments ({}):", notes.origin)));
    blocks.push(Block::Bullets(if notes.comments.is_empty() {
        vec![format!("None for {}.", month_name(inputs.period))]
    } else {
        notes.comments.iter().map(|c| format!("{}: {}", title(&c.kpi), c.text)).collect()
    }));
    let mut table = Table::new(&[("action", false), ("owner", false), ("KPI", false), ("raised", false), ("due", false), ("status", false)]);
    table.id = Some("actions".into());
    for a in &notes.actions {
        let mut status = a.action.status.word().to_string();
        if a.carried_over {
            status.push_str(", carried over");
        }
        if a.overdue {
            status.push_str(", OVERDUE");
        }
        table.rows.push(vec![
            Cell::plain(a.action.what.clone()),
            Cell::plain(a.action.owner.clone()),
            Cell::plain(a.action.kpi.as_deref().map(title).unwrap_or_default()),
            Cell::plain(a.action.raised.clone()),
            Cell::plain(a.action.due.clone()),
            Cell::toned(status, if a.overdue { Tone::Bad } else { Tone::Plain }),
        ]);
    }
    if table.rows.is_empty() {
        blocks.push(Block::Paragraph("No open actions.".into()));
    } else {
        let overdue = notes.actions.iter().filter(|a| a.overdue).count();
        table.note = Some(format!(
            "Actions raised this month, and those raised before it still open (carried over); {} overdue (open past its due date at the cut-off).",
            thousands(overdue as i64)
        ));
        blocks.push(Block::Paragraph("Actions:".into()));
        blocks.push(Block::Table(table));
    }
    blocks
}

/// The headline measures whose month has not settled by the cut-off (their KPI's `settles:`), with
/// the latest settled month's value where that is the previous month.
fn provisional_note(inputs: &Inputs) -> Option<String> {
    let period = inputs.period.label();
    let zone = inputs.zone();
    let as_of = crate::time::parse_iso(&inputs.as_of, zone)?;
    let mut items = Vec::new();
    for kpi in inputs.current.kpis.iter().filter(|k| k.provisional.contains(&period) && headline::KPIS.contains(&k.id.as_str())) {
        let Some(meta) = inputs.kpis.iter().find(|k| k.id == kpi.id) else { continue };
        let settle = crate::time::days_micros(kpi.settles_days);
        let previous = inputs.period.previous();
        let previous_settled = previous.next().start(zone).saturating_add(settle) <= as_of;
        for entry in &meta.meta.headline {
            let all = inputs.comparisons.iter().find(|c| {
                c.kpi == kpi.id
                    && c.measure == entry.measure
                    && c.key_values.iter().all(|(k, v)| k != "scope" || v == "all")
                    && c.key_values.iter().all(|(k, _)| k != "sla")
            });
            let settled = match all.and_then(|c| c.previous.as_ref().and_then(|p| p.value).map(|v| (c, v))) {
                Some((c, value)) if previous_settled => {
                    format!("; {}, settled: {}", month_name(previous), format_value(Some(value), scale(&c.kpi, &c.unit, &c.measure)))
                }
                _ => String::new(),
            };
            items.push(format!("{} (settles {} after the month{settled})", entry.label.replace("{sla}", "").trim(), crate::time::days(kpi.settles_days)));
        }
    }
    (!items.is_empty()).then(|| {
        format!(
            "† Provisional: facts about {} can still arrive (reopens, problem and change links), so these figures may still change: {}.",
            month_name(inputs.period),
            items.join("; ")
        )
    })
}
