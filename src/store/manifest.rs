//! A store's manifest: the one small file that says what the store is. It records the data files
//! that make up each table, the sources and loads that made them, the profile, and the extent.
//! It is replaced whole, by an atomic rename, so a reader sees the old store or the new one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::extent::{Extent, FileStamps};
use crate::error::{Error, Result};
use crate::ingest::profile::Format;
use crate::ingest::summary::Counts;
use crate::model::MODEL_VERSION;

pub const FILE_NAME: &str = "manifest.json";
pub const FORMAT: &str = "mttx.store";
/// Version of the store layout: bump it with any change to what a store holds or how it is laid
/// out, and readers refuse stores of another version with a clear error.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Always "mttx.store".
    pub format: String,
    pub format_version: u32,
    /// The canonical model version that wrote the data (`model::MODEL_VERSION`).
    pub model_version: u32,
    /// How many times the store has changed (each load and each compaction); names the data files
    /// each change wrote.
    pub generation: u64,
    pub profile: ProfileRecord,
    /// The `--as-of` the last load was given, if any: the data reaches no further.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub cut_off: Option<i64>,
    /// First incident, first and latest timestamps, and any straggler: the default cut-off and
    /// period come from here, not from a scan of every table.
    pub extent: Extent,
    /// Pause states declared by the profile's event logs; KPI runs add them to the SLA policy.
    pub pause_states: Vec<String>,
    /// The canonical tables, by name.
    pub tables: BTreeMap<String, TableFiles>,
    /// The status histories of event-log tables (extracted events), kept so that a later export
    /// holding part of a ticket's history can be merged and the ticket derived again.
    #[serde(default)]
    pub histories: BTreeMap<String, TableFiles>,
    /// Every source file loaded, in load order; an event's `file` is its index here.
    pub sources: Vec<SourceRecord>,
    pub loads: Vec<LoadRecord>,
    /// The compactions that rewrote the store's files, by a load or by `mttx compact`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compactions: Vec<CompactionRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProfileRecord {
    pub name: String,
    /// SHA-256 of the profile's TOML text.
    pub sha256: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableFiles {
    pub rows: u64,
    /// The exact data files of the table, relative to the store. Only these are read: a file
    /// being written by a running load is not listed until the manifest switches.
    pub files: Vec<DataFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DataFile {
    /// Relative to the store, with `/` separators.
    pub path: String,
    pub rows: u64,
    pub bytes: u64,
    /// SHA-256 of the file's bytes, for `mttx verify` (none in files written before mttx recorded
    /// it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The least and greatest value of each key column (`id`, `ticket_id`, `case_id`) in the
    /// file: a load leaves a file unread when none of its keys falls in the range (none in files
    /// written before mttx recorded them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub key_ranges: BTreeMap<String, KeyRange>,
    /// What the file adds to the store's extent, so that a load updates the extent from the
    /// files it wrote rather than scanning the store (none in a history's files, nor in files
    /// written before mttx recorded it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamps: Option<FileStamps>,
}

/// The least and greatest value of a text column, in byte order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyRange {
    pub min: String,
    pub max: String,
}

impl DataFile {
    /// False only when the file records the range of `column` and none of `sorted_keys` (in byte
    /// order) falls in it: then the file holds none of those keys.
    pub fn may_hold_any(&self, column: &str, sorted_keys: &[&str]) -> bool {
        let Some(range) = self.key_ranges.get(column) else { return true };
        let from = sorted_keys.partition_point(|k| *k < range.min.as_str());
        sorted_keys.get(from).is_some_and(|k| *k <= range.max.as_str())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SourceRecord {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    /// The load (generation) that read it.
    pub load: u64,
    pub table: String,
    pub format: Format,
    #[serde(flatten)]
    pub counts: Counts,
}

/// What one load did. `read = inserted + replaced + merged + rejected`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoadRecord {
    pub generation: u64,
    /// `out` for a new or replaced store, `into` for a load into an existing one.
    pub mode: String,
    pub profile: ProfileRecord,
    #[serde(with = "crate::time::rfc3339_opt")]
    pub as_of: Option<i64>,
    pub read: u64,
    /// Rows of tickets the store did not hold.
    pub inserted: u64,
    /// Rows that replaced the stored version of their ticket.
    pub replaced: u64,
    /// Rows folded into another version: older versions, duplicates, events of a history.
    pub merged: u64,
    pub rejected: u64,
    /// The load's rejects, relative to the store.
    pub rejects: String,
    /// Rejected rows by reason code.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Mapped columns that a file lacked, read as null.
    pub absent_columns: Vec<crate::ingest::summary::AbsentColumn>,
    /// Derived milestones clamped to opened_at, by `table.field` (none in a store from before).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub clamped: BTreeMap<String, u64>,
}

/// What one compaction did: each table's files before and after, and the rows it rewrote.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CompactionRecord {
    pub generation: u64,
    /// `load` when a load compacted as it went, `compact` for `mttx compact`.
    pub by: String,
    /// By table name; an event-log history as `history/<table>`.
    pub tables: BTreeMap<String, TableCompaction>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableCompaction {
    pub files_before: u64,
    pub files_after: u64,
    /// Rows read and written again, the new load's own included.
    pub rows_rewritten: u64,
}

impl LoadRecord {
    pub fn reconciles(&self) -> bool {
        self.read == self.inserted + self.replaced + self.merged + self.rejected
    }
}

impl Manifest {
    pub fn path(store: &Path) -> PathBuf {
        store.join(FILE_NAME)
    }

    /// True when `dir` holds a store (a manifest), whatever its version.
    pub fn exists(dir: &Path) -> bool {
        Manifest::path(dir).is_file()
    }

    /// Reads and checks the manifest: the format and its version first, so that a store of another
    /// version gets that error and not a parse error of a field it does not have.
    pub fn read(store: &Path) -> Result<Manifest> {
        let path = Manifest::path(store);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::store(&path, format!("not a store manifest: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(Error::store(&path, format!("not a store manifest (no \"format\": \"{FORMAT}\")")));
        }
        let version = value.get("format_version").and_then(|v| v.as_u64());
        if version != Some(u64::from(FORMAT_VERSION)) {
            let found = version.map(|v| v.to_string()).unwrap_or_else(|| "none".into());
            return Err(Error::store(
                &path,
                format!(
                    "the store has layout version {found}, and this mttx reads version {FORMAT_VERSION}; load the exports again into a new store with `mttx load --out`, or use the mttx release that wrote it"
                ),
            ));
        }
        let manifest: Manifest = serde_json::from_value(value).map_err(|e| Error::store(&path, format!("a malformed manifest: {e}")))?;
        if manifest.model_version > MODEL_VERSION {
            return Err(Error::store(
                &path,
                format!("the data was written by canonical model version {}, newer than this mttx's {MODEL_VERSION}; upgrade mttx", manifest.model_version),
            ));
        }
        Ok(manifest)
    }

    /// Writes the manifest next to the current one, syncs it, and renames it over the current one:
    /// a reader sees the old store or the new one, never half of each.
    pub fn switch(&self, store: &Path) -> Result<()> {
        let path = Manifest::path(store);
        let staged = store.join(format!(".{FILE_NAME}.{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        let mut file = std::fs::File::create(&staged).map_err(|e| Error::io(&staged, e))?;
        file.write_all(text.as_bytes()).map_err(|e| Error::io(&staged, e))?;
        file.sync_all().map_err(|e| Error::io(&staged, e))?;
        drop(file);
        std::fs::rename(&staged, &path).map_err(|e| Error::io(&path, e))?;
        sync_dir(store)
    }

    /// A manifest of no data, the start of a new store.
    pub fn empty() -> Manifest {
        Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            model_version: MODEL_VERSION,
            generation: 0,
            profile: ProfileRecord { name: String::new(), sha256: String::new() },
            cut_off: None,
            extent: Extent::default(),
            pause_states: Vec::new(),
            tables: BTreeMap::new(),
            histories: BTreeMap::new(),
            sources: Vec::new(),
            loads: Vec::new(),
            compactions: Vec::new(),
        }
    }

    /// Every data file the manifest lists, relative to the store.
    pub fn data_files(&self) -> impl Iterator<Item = &DataFile> {
        self.tables.values().chain(self.histories.values()).flat_map(|t| t.files.iter())
    }
}

/// The profile file of a store, named by the profile's hash.
pub fn profile_file(profile: &ProfileRecord) -> String {
    format!("profiles/{}.toml", profile.sha256)
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file is passed over only when it records the key's range and no sought key falls in it,
    /// the bounds included.
    #[test]
    fn a_file_may_hold_a_key_within_its_range() {
        let range = KeyRange { min: "INC0100".into(), max: "INC0199".into() };
        let file = DataFile { path: "f".into(), rows: 1, bytes: 1, sha256: None, key_ranges: BTreeMap::from([("id".to_string(), range)]), stamps: None };
        assert!(!file.may_hold_any("id", &[]));
        assert!(!file.may_hold_any("id", &["INC0001", "INC0099", "INC0200"]));
        assert!(file.may_hold_any("id", &["INC0001", "INC0100"]), "the least bound");
        assert!(file.may_hold_any("id", &["INC0199", "INC0300"]), "the greatest bound");
        assert!(file.may_hold_any("id", &["INC0150"]));
        assert!(file.may_hold_any("ticket_id", &[]), "no range recorded: the file must be read");
    }
}
