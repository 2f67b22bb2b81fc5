//! Columns renamed and KPIs redefined between releases, and what meets an old name: a baseline
//! `kpis.json` of the version before (read under the new names, without a redefined column or
//! KPI), the "before" side of
//! `mttx diff` (read under the new names, so a redefinition shows how it moves the numbers), and
//! a selector in checks.toml, targets.toml or improvements.toml (an error naming the new one).
//! CHANGELOG.md lists every rename.

use super::document::{KpiDocument, VERSION};

/// One column of one KPI, renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rename {
    pub kpi: &'static str,
    pub old: &'static str,
    pub new: &'static str,
    /// The first `kpis.json` version that carries the new name.
    pub document_version: u32,
    /// The column was measured differently from that version on: an old value is not read under
    /// the new name (it would compare unlike with like), it is dropped.
    pub redefined: bool,
}

/// Every rename, oldest first. CHANGELOG.md lists each (a test keeps it so).
pub const RENAMES: &[Rename] = &[
    // A second "MTTR", meaning the mean outage of a CI's or service's failures, beside mttr's
    // mean over every resolved incident; measured on agreed service time since.
    Rename { kpi: "mtbf", old: "mttr_hours", new: "mean_outage_hours", document_version: 3, redefined: true },
    // Outages that overlap a rolling window, on agreed service time.
    Rename { kpi: "mtbf", old: "failures", new: "outages", document_version: 3, redefined: true },
    Rename { kpi: "mtbf", old: "observation_hours", new: "agreed_hours", document_version: 3, redefined: true },
    // Growth against a fixed base month, no longer against the window's first month.
    Rename { kpi: "problem_trend", old: "problem_growth_vs_first_month", new: "problem_growth_vs_base", document_version: 3, redefined: true },
];

/// KPIs whose every measure was redefined, with the first `kpis.json` version of the new
/// definitions: a baseline of an older version leaves them out (there is nothing like to compare).
/// CHANGELOG.md says how each changed.
pub const REDEFINED_KPIS: &[(&str, u32)] = &[
    // Availability on agreed service time over a rolling window and the month, from outage records.
    ("mtbf", 3),
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
        let how = if r.redefined { "was replaced by" } else { "was renamed" };
        let mind = if r.redefined { ", and mind that it is measured differently (a threshold for the old one may not fit)" } else { "" };
        format!("`{kpi}.{column}` {how} `{kpi}.{}` (kpis.json version {}; see CHANGELOG.md); write `{kpi}.{}`{mind}", r.new, r.document_version, r.new)
    })
}

/// Reads `document`, written at an older version, under the current names: each renamed column
/// of its rows, its columns, measures, directions and n. Sets the current version.
pub fn upgrade(document: &mut KpiDocument) {
    let from = document.version;
    document.kpis.retain(|k| !REDEFINED_KPIS.iter().any(|&(id, version)| id == k.id && version > from && version <= VERSION));
    for rename in RENAMES.iter().filter(|r| r.document_version > from && r.document_version <= VERSION) {
        apply(document, rename, Redefined::Drop);
    }
    document.version = VERSION;
}

/// Reads `document`, made by definitions that may predate a rename (`mttx diff --git-rev`), under
/// the current names: a KPI that has an old column and not its new one has it renamed.
pub fn read_as_current(document: &mut KpiDocument) {
    for rename in RENAMES {
        let has = |name: &str| document.kpis.iter().any(|k| k.id == rename.kpi && k.columns.iter().any(|c| c.name == name));
        if has(rename.old) && !has(rename.new) {
            apply(document, rename, Redefined::Rename);
        }
    }
}

/// What becomes of a redefined column's old values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Redefined {
    /// Dropped: a baseline's old values must not be gated against the new definition's.
    Drop,
    /// Read under the new name: a diff of definitions shows how the redefinition moves them.
    Rename,
}

/// Renames `rename.old` to `rename.new` in `document`, or drops a redefined column as `redefined`
/// says.
fn apply(document: &mut KpiDocument, rename: &Rename, redefined: Redefined) {
    let drop = rename.redefined && redefined == Redefined::Drop;
    for kpi in document.kpis.iter_mut().filter(|k| k.id == rename.kpi) {
        for row in &mut kpi.rows {
            if let Some(value) = row.remove(rename.old)
                && !drop
            {
                row.insert(rename.new.to_string(), value);
            }
        }
        if drop {
            kpi.columns.retain(|c| c.name != rename.old);
            kpi.measures.retain(|m| m != rename.old);
            kpi.n.take_if(|n| n == rename.old);
            kpi.directions.remove(rename.old);
            continue;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A version 2 document with both renamed columns, as mttx 0.1 wrote them.
    fn version_2() -> KpiDocument {
        let kpi = |id: &str, column: &str| {
            serde_json::json!({
                "id": id, "title": id, "unit": "hours", "better": "lower", "grain": "month", "keys": ["month"],
                "measures": [column], "directions": { column: "higher" }, "definition": "", "origin": "built-in",
                "columns": [{"name": "month", "type": "Utf8"}, {"name": column, "type": "Float64"}],
                "rows": [{"month": "2026-10", column: 5.0}]
            })
        };
        serde_json::from_value(serde_json::json!({
            "schema": "mttx.kpis", "version": 2, "mttx_version": "0.1.0",
            "window": {"first_month": "2026-10", "last_month": "2026-10", "start": "", "end": "", "as_of": "", "timezone": "UTC"},
            "parameters": {},
            "kpis": [kpi("mtbf", "mttr_hours"), kpi("problem_trend", "problem_growth_vs_first_month")],
            "errors": []
        }))
        .unwrap()
    }

    /// A baseline reads a renamed column under its new name, and leaves a redefined one out; a
    /// diff of definitions reads both under the new names.
    #[test]
    fn renamed_columns_are_mapped_and_redefined_ones_dropped() {
        let mut baseline = version_2();
        upgrade(&mut baseline);
        assert_eq!(baseline.version, VERSION);
        // mtbf was redefined as a whole: a version 2 baseline has nothing to compare with it.
        assert_eq!(baseline.kpis.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(), ["problem_trend"]);
        let trend = &baseline.kpis[0];
        assert!(!trend.rows[0].contains_key("problem_growth_vs_first_month") && !trend.rows[0].contains_key("problem_growth_vs_base"));
        assert!(trend.columns.iter().all(|c| c.name == "month") && trend.measures.is_empty());
        let mut before = version_2();
        read_as_current(&mut before);
        assert_eq!(before.kpis[1].rows[0].get("problem_growth_vs_base"), Some(&serde_json::json!(5.0)));
        assert_eq!(before.kpis[0].rows[0].get("mean_outage_hours"), Some(&serde_json::json!(5.0)), "a diff reads a redefined KPI under the new names");
        assert!(old_name_message("problem_trend", "problem_growth_vs_first_month").unwrap().contains("was replaced by `problem_trend.problem_growth_vs_base`"));
        assert!(old_name_message("mtbf", "mttr_hours").unwrap().contains("was replaced by `mtbf.mean_outage_hours`"));
        assert!(old_name_message("mtbf", "failures").unwrap().contains("was replaced by `mtbf.outages`"));
        assert_eq!(old_name_message("mtbf", "mtbf_hours"), None);
    }
}
