//! Columns renamed between releases, and what meets an old name: a baseline `kpis.json` of the
//! version before and the "before" side of `mttx diff` (read under the new names), and a selector in checks.toml, targets.toml
//! or improvements.toml (an error naming the new one). CHANGELOG.md lists every rename.

use super::document::{KpiDocument, VERSION};

/// One column of one KPI, renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rename {
    pub kpi: &'static str,
    pub old: &'static str,
    pub new: &'static str,
    /// The first `kpis.json` version that carries the new name.
    pub document_version: u32,
}

/// Every rename, oldest first.
pub const RENAMES: &[Rename] = &[
    // A second "MTTR", meaning the mean outage of a CI's or service's failures, beside mttr's
    // mean over every resolved incident.
    Rename { kpi: "mtbf", old: "mttr_hours", new: "mean_outage_hours", document_version: 3 },
    // Growth against a fixed base month, no longer against the window's first month.
    Rename { kpi: "problem_trend", old: "problem_growth_vs_first_month", new: "problem_growth_vs_base", document_version: 3 },
];

/// The oldest `kpis.json` version a baseline may have: its names are mapped by `upgrade`.
pub const OLDEST_READABLE_VERSION: u32 = 2;

/// The rename of `kpi`'s column `column`, when that is an old name.
pub fn renamed(kpi: &str, column: &str) -> Option<&'static Rename> {
    RENAMES.iter().find(|r| r.kpi == kpi && r.old == column)
}

/// What to say of a selector naming `kpi`'s old column `column`: the new name to write instead.
pub fn old_name_message(kpi: &str, column: &str) -> Option<String> {
    renamed(kpi, column).map(|r| {
        format!("`{kpi}.{column}` was renamed `{kpi}.{}` (kpis.json version {}; see CHANGELOG.md); write `{kpi}.{}`", r.new, r.document_version, r.new)
    })
}

/// Reads `document`, written at an older version, under the current names: each renamed column
/// of its rows, its columns, measures, directions and n. Sets the current version.
pub fn upgrade(document: &mut KpiDocument) {
    let from = document.version;
    for rename in RENAMES.iter().filter(|r| r.document_version > from && r.document_version <= VERSION) {
        apply(document, rename);
    }
    document.version = VERSION;
}

/// Reads `document`, made by definitions that may predate a rename (`mttx diff --git-rev`), under
/// the current names: a KPI that has an old column and not its new one has it renamed.
pub fn read_as_current(document: &mut KpiDocument) {
    for rename in RENAMES {
        let has = |name: &str| document.kpis.iter().any(|k| k.id == rename.kpi && k.columns.iter().any(|c| c.name == name));
        if has(rename.old) && !has(rename.new) {
            apply(document, rename);
        }
    }
}

fn apply(document: &mut KpiDocument, rename: &Rename) {
    for kpi in document.kpis.iter_mut().filter(|k| k.id == rename.kpi) {
        for row in &mut kpi.rows {
            if let Some(value) = row.remove(rename.old) {
                row.insert(rename.new.to_string(), value);
            }
        }
        for column in &mut kpi.columns {
            if column.name == rename.old {
                column.name = rename.new.to_string();
            }
        }
        for name in kpi.measures.iter_mut().chain(kpi.n.iter_mut()) {
            if name == rename.old {
                *name = rename.new.to_string();
            }
        }
        if let Some(direction) = kpi.directions.remove(rename.old) {
            kpi.directions.insert(rename.new.to_string(), direction);
        }
    }
}
