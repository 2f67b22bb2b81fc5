//! What a profile says about one canonical table: the files that feed it and their format, the
//! column mapping, constants and value maps, deduplication, status histories and row filters.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ParseSettings;

/// How one canonical table is fed.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TableProfile {
    /// File name patterns (`*` and `?`, case-insensitive) of the inputs that feed this table.
    pub files: Vec<String>,
    /// Force a format instead of going by the file extension: csv, json, parquet or xes.
    pub format: Option<Format>,
    /// Map every source column whose name equals a canonical field name.
    #[serde(default)]
    pub auto_columns: bool,
    /// Canonical field → source column, or a list of alternatives of which the first present wins.
    #[serde(default)]
    pub columns: BTreeMap<String, ColumnSource>,
    /// Canonical field → fixed value for every row, for fields the source does not have.
    #[serde(default)]
    pub constants: BTreeMap<String, toml::Value>,
    /// Canonical field → { source value → canonical value }. Keys match exactly, then ignoring case.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, toml::Value>>,
    /// What a source column that maps to nothing means: "ignore" it, or an "error" (for formats
    /// whose columns are all canonical, where an unknown column is a typo).
    #[serde(default)]
    pub unknown_columns: UnknownColumns,
    /// What a mapped column missing from a file means: an "error", or "null" for every row (the
    /// load summary lists each such file and field once). Required fields are always an error.
    #[serde(default)]
    pub missing_columns: MissingColumns,
    /// Columns the export repeats on purpose, one per value (Jira's Labels, Watchers, Sprint); the
    /// first is used. Any other column named twice in a header is an error.
    #[serde(default)]
    pub repeated_columns: Vec<String>,
    #[serde(default)]
    pub parse: ParseSettings,
    /// Audit-style exports: keep one row per id, the one with the greatest `order_by` values.
    pub dedup: Option<Dedup>,
    /// Status histories: derive one ticket per case from its events (see `eventlog`).
    pub eventlog: Option<EventLog>,
    /// Keep only rows whose column holds one of these values; others are rejected as out of scope.
    pub filter: Option<RowFilter>,
    /// Canonical text field → the values it may hold (after value maps, ignoring case); any other
    /// value is rejected, e.g. an unknown state code.
    #[serde(default)]
    pub allowed: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RowFilter {
    pub column: ColumnSource,
    /// Values that belong in this table, matched ignoring case.
    pub keep: Vec<String>,
}

/// A status history: one row per event, several per ticket. Each ticket becomes one canonical row,
/// and each change of status one row of the `events` table.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EventLog {
    /// The ticket key (becomes `id`).
    pub case: ColumnSource,
    /// When the event happened, parsed with the table's timestamp formats.
    pub timestamp: ColumnSource,
    /// The status the event leaves the ticket in.
    pub status: ColumnSource,
    /// A second status column, joined to the first as `status/detail` (e.g. Status/Sub Status).
    pub status_detail: Option<ColumnSource>,
    /// Canonical field → column, taken from the ticket's first event.
    #[serde(default)]
    pub first: BTreeMap<String, ColumnSource>,
    /// Canonical field → column, taken from the ticket's last event.
    #[serde(default)]
    pub last: BTreeMap<String, ColumnSource>,
    /// Canonical timestamp field → rule. `opened_at` defaults to the first event.
    #[serde(default)]
    pub milestones: BTreeMap<String, Milestone>,
    /// reopen_count: transitions from one of these states to a state not among them.
    #[serde(default)]
    pub reopen_from: Vec<String>,
    /// States during which SLA clocks stand still; they join the SLA policy's pause states.
    #[serde(default)]
    pub pause_states: Vec<String>,
    /// Attributes (fields of `first` or `last`) whose every change of value from one event to the
    /// next is an `events` row of that field, as the status's changes are of `state`: ServiceNow's
    /// `assignment_group`, for the time each group held a ticket.
    #[serde(default)]
    pub changes: Vec<String>,
    /// The events that record a ticket's creation (ServiceNow: `sys_mod_count` 0). Without it, no
    /// event is known to be one: a list export's only row is the ticket's latest state.
    pub creation: Option<Creation>,
}

impl EventLog {
    /// The fields its milestones derive from the history (not `opened_at`, which they are
    /// measured from): the ones clamped to `opened_at` when they fall before it.
    pub fn derived_milestones(&self) -> Vec<String> {
        self.milestones.keys().filter(|field| *field != "opened_at").cloned().collect()
    }
}

/// Which events are a ticket's creation: those whose `column` holds one of `values` (trimmed).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Creation {
    pub column: ColumnSource,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Milestone {
    pub rule: MilestoneRule,
    /// The states the rule speaks of (matched ignoring case).
    #[serde(default)]
    pub states: Vec<String>,
    /// Only when the ticket's final status is one of these (e.g. resolved_at only while resolved).
    #[serde(default)]
    pub only_if_final_in: Vec<String>,
    /// first_event or last_event, used when none of the case's statuses is one the profile names
    /// anywhere: logs whose vocabulary is unknown (activity codes) still get durations.
    pub fallback: Option<MilestoneRule>,
    /// For first_out_of: a ticket created outside `states` (its creation event, see
    /// `eventlog.creation`, is not in them) moved out of them when it was created.
    #[serde(default)]
    pub include_creation: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneRule {
    /// The ticket's first event.
    FirstEvent,
    /// The ticket's last event.
    LastEvent,
    /// The first event that moves the ticket into one of `states`.
    FirstInto,
    /// The last event that moves the ticket into one of `states`.
    LastInto,
    /// The first event whose status is not one of `states`.
    FirstNotIn,
    /// The first event that moves the ticket out of one of `states` (e.g. the first update that is
    /// no longer New); none when the history never shows the ticket in them.
    FirstOutOf,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ColumnSource {
    One(String),
    FirstOf(Vec<String>),
}

impl ColumnSource {
    pub fn candidates(&self) -> &[String] {
        match self {
            ColumnSource::One(c) => std::slice::from_ref(c),
            ColumnSource::FirstOf(cs) => cs,
        }
    }

    /// The index of the first candidate the schema has.
    pub fn index_in(&self, schema: &datafusion::arrow::datatypes::Schema) -> Option<usize> {
        self.candidates().iter().find_map(|c| schema.index_of(c).ok())
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownColumns {
    #[default]
    Ignore,
    Error,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingColumns {
    #[default]
    Error,
    Null,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dedup {
    /// Source columns compared in order; the greatest wins, and on a full tie the later row.
    pub order_by: Vec<DedupKey>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DedupKey {
    pub column: String,
    #[serde(default = "DedupKind::timestamp")]
    pub kind: DedupKind,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DedupKind {
    Timestamp,
    Number,
    Text,
}

impl DedupKind {
    fn timestamp() -> Self {
        DedupKind::Timestamp
    }
}

impl TableProfile {
    /// The source column that holds a row's ticket id: the one mapped to `id`, the event log's case
    /// column, or `id` itself where canonical names map automatically.
    pub fn id_source(&self) -> Option<ColumnSource> {
        if let Some(log) = &self.eventlog {
            return Some(log.case.clone());
        }
        self.columns.get("id").cloned().or_else(|| self.auto_columns.then(|| ColumnSource::One("id".into())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
/// The reader of an input file: chosen by extension, or forced by a table's `format`.
pub enum Format {
    Csv,
    Json,
    Parquet,
    /// OpenXES event logs (XML).
    Xes,
}

impl Format {
    pub(crate) fn from_extension(ext: &str) -> Option<Format> {
        match ext.to_ascii_lowercase().as_str() {
            "csv" | "tsv" | "txt" => Some(Format::Csv),
            "json" | "ndjson" | "jsonl" => Some(Format::Json),
            "parquet" | "pq" => Some(Format::Parquet),
            "xes" => Some(Format::Xes),
            _ => None,
        }
    }
}
