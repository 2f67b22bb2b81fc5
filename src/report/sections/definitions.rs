//! Definitions: every KPI's definition, as its SQL header states it.

use super::{Inputs, section};
use crate::report::document::{Block, Section};

pub(crate) fn definitions(inputs: &Inputs) -> Section {
    let items =
        inputs.kpis.iter().map(|k| format!("{} ({}; {}, better {}): {}", k.meta.title, k.id, k.meta.unit, k.meta.better.word(), k.meta.definition)).collect();
    section(
        "definitions",
        "Definitions",
        vec![Block::Paragraph("Every number above comes from these queries (`mttx catalog` prints them).".into()), Block::Bullets(items)],
    )
}
