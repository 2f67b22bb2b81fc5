//! The report as renderer-neutral blocks: sections of paragraphs, tables and charts. Text is held
//! raw, data values included, so each renderer escapes every string exactly once, for its format.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ReportDocument {
    pub title: String,
    /// Lines under the title: period, cut-off, data.
    pub subtitle: Vec<String>,
    pub sections: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Anchor id, e.g. `sla`.
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
    /// Closed until opened, where the renderer can (HTML): long lists a reader looks up.
    pub collapsed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub enum Block {
    Paragraph(String),
    Bullets(Vec<String>),
    Table(Table),
    Chart(ChartRef),
}

/// A chart as the text refers to it; the drawing itself is `charts::Chart` of the same name.
#[derive(Debug, Clone, Serialize)]
pub struct ChartRef {
    pub name: String,
    pub title: String,
    pub caption: String,
    pub has_data: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Said under the table, e.g. how many rows were left out.
    pub note: Option<String>,
    /// An anchor for renderers that have them (HTML), e.g. `headline`.
    pub id: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub title: String,
    /// Right-aligned.
    pub numeric: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub text: String,
    pub tone: Tone,
}

/// How a cell reads against its target or its previous value. Renderers show it in words as
/// well as colour, so it survives printing in grey and colour-blindness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Tone {
    Plain,
    Good,
    Bad,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), tone: Tone::Plain }
    }

    pub fn toned(text: impl Into<String>, tone: Tone) -> Cell {
        Cell { text: text.into(), tone }
    }
}

impl Table {
    pub fn new(columns: &[(&str, bool)]) -> Table {
        Table {
            columns: columns.iter().map(|(t, numeric)| Column { title: t.to_string(), numeric: *numeric }).collect(),
            rows: Vec::new(),
            note: None,
            id: None,
        }
    }
}
