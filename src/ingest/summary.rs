//! The run summary of a load: rows read, loaded, merged and rejected per file and per table, and
//! rejects by reason. `read = loaded + merged + rejected` holds for every file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::LoadOptions;
use super::profile::Format;
use super::profile::Profile;
use super::raw::RejectCode;
use super::source::{Skipped, SourceFile};
use crate::model::Table;
use crate::time::rfc3339;

/// Version of the summary.json layout; bumped on any incompatible change.
/// 2: rejects.csv gained its `id` column, and the summary `absent_columns`.
pub const SUMMARY_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize)]
pub struct LoadSummary {
    pub summary_version: u32,
    pub profile: String,
    /// The `--as-of` cut-off, RFC 3339, when one was given.
    pub as_of: Option<String>,
    pub files: Vec<FileCounts>,
    /// Totals per canonical table, over its files.
    pub tables: BTreeMap<String, Counts>,
    /// Rejected rows by reason code, over all files.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Files found in input directories that feed no table.
    pub skipped: Vec<Skipped>,
    /// `events` rows derived from status histories (changes of status), beyond any loaded.
    pub derived_events: u64,
    /// Milestones derived from a status history that fell before the ticket's opened_at and were
    /// clamped to it, by `table.field`; the tickets are loaded, not rejected.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub clamped: BTreeMap<String, u64>,
    /// Pause states declared by event-log profiles; the KPI run adds them to the SLA policy's.
    pub pause_states: Vec<String>,
    /// Mapped columns a file does not have, read as null for all its rows (profiles with
    /// `missing_columns = "null"`); one entry per file and field.
    pub absent_columns: Vec<AbsentColumn>,
}

/// A mapped column that a file does not have.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct AbsentColumn {
    pub path: String,
    pub table: String,
    /// The canonical field, null for every row of the file.
    pub field: String,
    /// The column names the profile looked for.
    pub columns: Vec<String>,
}

impl AbsentColumn {
    /// `x.csv has no `Component/s` or `Components`, so incidents.category is null for its rows`.
    pub fn describe(&self) -> String {
        let names: Vec<String> = self.columns.iter().map(|c| format!("`{c}`")).collect();
        format!("{} has no {}, so {}.{} is null for its rows", self.path, names.join(" or "), self.table, self.field)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FileCounts {
    pub path: String,
    pub table: String,
    pub format: Format,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Row counts. `read = loaded + merged + rejected`.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Counts {
    /// Records in the source (a header is not a record).
    pub read: u64,
    /// Rows now in the canonical table.
    pub loaded: u64,
    /// Older versions of a ticket that dedup folded into its newest row.
    pub merged: u64,
    /// Rows written to the rejects file with a reason.
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.loaded += other.loaded;
        self.merged += other.merged;
        self.rejected += other.rejected;
    }

    pub fn reconciles(&self) -> bool {
        self.read == self.loaded + self.merged + self.rejected
    }
}

impl std::ops::Deref for FileCounts {
    type Target = Counts;
    fn deref(&self) -> &Counts {
        &self.counts
    }
}

impl std::ops::DerefMut for FileCounts {
    fn deref_mut(&mut self) -> &mut Counts {
        &mut self.counts
    }
}

impl LoadSummary {
    pub(super) fn new(profile: &Profile, options: &LoadOptions, files: &[SourceFile], skipped: Vec<Skipped>) -> Self {
        LoadSummary {
            summary_version: SUMMARY_VERSION,
            profile: profile.name.clone(),
            as_of: options.as_of.map(rfc3339),
            files: files
                .iter()
                .map(|f| FileCounts { path: f.path.display().to_string(), table: f.table.name().to_string(), format: f.format, counts: Counts::default() })
                .collect(),
            tables: BTreeMap::new(),
            rejects_by_reason: BTreeMap::new(),
            skipped,
            derived_events: 0,
            clamped: BTreeMap::new(),
            absent_columns: Vec::new(),
            pause_states: profile.tables.values().filter_map(|t| t.eventlog.as_ref()).flat_map(|log| log.pause_states.iter().cloned()).collect(),
        }
    }

    /// Records once per file and field that the file lacks a mapped column.
    pub(super) fn note_absent(&mut self, file: usize, table: Table, field: &str, columns: Vec<String>) {
        let path = &self.files[file].path;
        if !self.absent_columns.iter().any(|a| &a.path == path && a.table == table.name() && a.field == field) {
            self.absent_columns.push(AbsentColumn { path: path.clone(), table: table.name().into(), field: field.into(), columns });
        }
    }

    pub(super) fn count_reject(&mut self, file: usize, code: RejectCode) {
        self.files[file].rejected += 1;
        *self.rejects_by_reason.entry(code.as_str().to_string()).or_default() += 1;
    }

    /// Totals per table, from the files' counts.
    pub fn finish(&mut self) {
        self.tables.clear();
        for f in &self.files {
            self.tables.entry(f.table.clone()).or_default().add(&f.counts);
        }
    }

    pub fn total(&self) -> Counts {
        let mut total = Counts::default();
        for c in self.tables.values() {
            total.add(c);
        }
        total
    }

    /// True when every file's rows are accounted for.
    pub fn reconciles(&self) -> bool {
        self.files.iter().all(|f| f.counts.reconciles())
    }

    /// A plain-text table for the terminal.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let width = self.files.iter().map(|f| f.path.len()).max().unwrap_or(4).max(5);
        let _ = writeln!(out, "{:<width$}  {:<9}  {:>9}  {:>9}  {:>9}  {:>9}", "file", "table", "read", "loaded", "merged", "rejected");
        for f in &self.files {
            let _ = writeln!(out, "{:<width$}  {:<9}  {:>9}  {:>9}  {:>9}  {:>9}", f.path, f.table, f.read, f.loaded, f.merged, f.rejected);
        }
        let t = self.total();
        let _ = writeln!(out, "{:<width$}  {:<9}  {:>9}  {:>9}  {:>9}  {:>9}", "total", "", t.read, t.loaded, t.merged, t.rejected);
        for (reason, n) in &self.rejects_by_reason {
            let _ = writeln!(out, "rejected {n} row(s): {reason}");
        }
        if self.derived_events > 0 {
            let _ = writeln!(out, "derived {} change(s) of status or assignment group into events from status histories", self.derived_events);
        }
        for a in &self.absent_columns {
            let _ = writeln!(out, "absent column: {}", a.describe());
        }
        for s in &self.skipped {
            let _ = writeln!(out, "skipped {}: {}", s.path, s.reason);
        }
        out
    }
}
