//! Data quality: rows read, loaded, merged and rejected per file, and the incidents covered.

use super::{Inputs, section};
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{instant, thousands};

pub(crate) fn data_quality(inputs: &Inputs) -> Section {
    let load = inputs.load;
    let mut table = Table::new(&[("file", false), ("table", false), ("format", false), ("read", true), ("loaded", true), ("merged", true), ("rejected", true)]);
    for file in &load.files {
        let c = &file.counts;
        table.rows.push(vec![
            Cell::plain(&file.path),
            Cell::plain(&file.table),
            Cell::plain(format!("{:?}", file.format).to_lowercase()),
            Cell::plain(thousands(c.read as i64)),
            Cell::plain(thousands(c.loaded as i64)),
            Cell::plain(thousands(c.merged as i64)),
            Cell::toned(thousands(c.rejected as i64), if c.rejected > 0 { Tone::Bad } else { Tone::Plain }),
        ]);
    }
    let total = load.total();
    let mut blocks = vec![Block::Table(table)];
    blocks.push(Block::Paragraph(format!(
        "{} rows read: {} loaded, {} merged (duplicates and event-log rows folded into tickets), {} rejected. {}",
        thousands(total.read as i64),
        thousands(total.loaded as i64),
        thousands(total.merged as i64),
        thousands(total.rejected as i64),
        if load.reconciles() { "Every row is accounted for." } else { "The counts do not reconcile: please report this." }
    )));
    if !load.rejects_by_reason.is_empty() {
        blocks.push(Block::Paragraph("Rejected rows by reason (list them with `mttx load`):".into()));
        blocks.push(Block::Bullets(load.rejects_by_reason.iter().map(|(reason, n)| format!("{reason}: {}", thousands(*n as i64))).collect()));
    }
    let c = &inputs.coverage;
    blocks.push(Block::Paragraph(format!(
        "Incidents opened from {} to {}; cut-off {}.",
        instant(c.first_opened.as_deref().unwrap_or_default(), inputs.zone()),
        instant(c.last_opened.as_deref().unwrap_or_default(), inputs.zone()),
        instant(&inputs.as_of, inputs.zone()),
    )));
    blocks.extend(field_coverage(inputs));
    section("data-quality", "Data quality", blocks)
}

/// Of the period's incidents, how many carry each optional field, with what rests on it, and the
/// fallbacks applied where one is missing.
fn field_coverage(inputs: &Inputs) -> Vec<Block> {
    let f = inputs.fields;
    if f.incidents == 0 {
        return Vec::new();
    }
    let mut table = Table::new(&[("field", false), ("incidents with it", true), ("share", true), ("used by", false)]);
    for field in &f.fields {
        table.rows.push(vec![
            Cell::plain(field.field.clone()),
            Cell::plain(thousands(field.with as i64)),
            Cell::plain(format!("{:.1}%", 100.0 * field.with as f64 / f.incidents as f64)),
            Cell::plain(field.used_by.clone()),
        ]);
    }
    table.note = Some(format!(
        "Over the {} incidents opened in {}. A figure that rests on a field covers only the incidents that have it.",
        thousands(f.incidents as i64),
        crate::report::format::month_name(inputs.period)
    ));
    let mut blocks = vec![Block::Paragraph("What the KPIs depend on, and how much of it the data has:".into()), Block::Table(table)];
    let started = f.fields.iter().find(|x| x.field == "started_at").map_or(0, |x| x.with);
    let mut fallbacks = vec![format!(
        "MTTD covers {} of {} incidents (started_at known); MTRS counts the others from opened_at.",
        thousands(started as i64),
        thousands(f.incidents as i64)
    )];
    if f.response_stopped_at_resolution > 0 {
        fallbacks.push(format!(
            "Response clocks stopped at resolution, no acknowledgement recorded: {} resolved incidents.",
            thousands(f.response_stopped_at_resolution as i64)
        ));
    }
    let assigned = f.fields.iter().find(|x| x.field == "assignment events").map_or(0, |x| x.with);
    if assigned < f.incidents {
        fallbacks.push(format!(
            "Time with each assignment group: {} of {} incidents have no assignment-group events, so their assignment_group is taken to have held them throughout.",
            thousands((f.incidents - assigned) as i64),
            thousands(f.incidents as i64)
        ));
    }
    blocks.push(Block::Paragraph("Fallbacks applied:".into()));
    blocks.push(Block::Bullets(fallbacks));
    blocks
}
