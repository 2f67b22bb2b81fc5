//! What to generate and in which files: the options of a run (size, window, seed, the planted
//! resolution shift, the shape of the CMDB and change log) and the format layout of the tables.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::model::Table;
use crate::write::OutputFormat;

use super::changes;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Directory the files are written to; created if missing.
    pub out: PathBuf,
    /// Exact number of incidents written.
    pub incidents: usize,
    /// Window length in calendar months.
    pub months: u32,
    /// First day of the window (UTC).
    pub start: NaiveDate,
    /// Seed of every random draw: the same seed gives byte-identical files.
    pub seed: u64,
    /// Which format each table is written in.
    pub layout: FormatLayout,
    /// A planted change in resolution times from a date on, for before/after comparisons.
    pub shift: Option<Shift>,
    /// How many CIs and changes, and the share of patches; by default they follow the incidents.
    pub shape: Shape,
    /// Put between each id's table prefix and its number, in every table but the CIs: the runs
    /// of a series (a month each) get ids of their own over one CMDB.
    pub id_prefix: String,
}

/// The size of the CMDB and of the change log, for data sets shaped like a given service desk
/// (the peer benchmark: 10 M incidents, 1 M changes, 20,000 CIs, 60 % patches).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// CIs; None: one per 20 incidents, at least 50.
    pub cis: Option<usize>,
    /// Changes; None: one per 4 incidents, at least 20.
    pub changes: Option<usize>,
    /// The share of changes that are patches.
    pub patch_share: f64,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape { cis: None, changes: None, patch_share: changes::PATCH_SHARE }
    }
}

/// From `from` (UTC midnight) on, the resolution times of the incidents of one priority or one
/// assignment group are `factor` times what they would have been: an improvement below 1, a
/// deterioration above. Every other draw is the same as without it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub from: NaiveDate,
    pub target: ShiftTarget,
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShiftTarget {
    Priority(u8),
    Group(String),
}

/// Which format each table is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatLayout {
    /// Every table in one format, optionally gzipped (CSV and NDJSON only).
    Uniform { format: OutputFormat, gzip: bool },
    /// One table per format, as a heterogeneous real-world export would arrive: incidents as
    /// gzipped CSV, problems as NDJSON, changes and events as Parquet, CIs and outages as CSV.
    Mixed,
}

impl FormatLayout {
    /// The format `table` is written in and whether it is gzipped.
    pub fn format_of(self, table: Table) -> (OutputFormat, bool) {
        match self {
            FormatLayout::Uniform { format, gzip } => (format, gzip),
            FormatLayout::Mixed => match table {
                Table::Incidents => (OutputFormat::Csv, true),
                Table::Problems => (OutputFormat::Ndjson, false),
                Table::Changes | Table::Events => (OutputFormat::Parquet, false),
                Table::Cis | Table::Outages => (OutputFormat::Csv, false),
            },
        }
    }

    /// `<table>.<ext>[.gz]`.
    pub fn file_name(self, table: Table) -> String {
        let (format, gzip) = self.format_of(table);
        let suffix = if gzip { ".gz" } else { "" };
        format!("{}.{}{}", table.name(), format.extension(), suffix)
    }
}
