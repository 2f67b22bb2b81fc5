//! What readers hand to conversion: source columns as Arrow batches, each row's position in its
//! file, and the rows a reader could not even split into columns.

use datafusion::arrow::record_batch::RecordBatch;
use serde::Serialize;

/// Rows per batch that readers aim for.
pub const BATCH_ROWS: usize = 8192;

/// A batch of source rows, in the source's own column names and types.
pub struct RawChunk {
    pub batch: RecordBatch,
    /// For each batch row, its 1-based record number in the file (the header is not a record).
    pub rows: Vec<u64>,
    /// For each batch row, the line it starts on, where the format has lines; otherwise empty.
    pub lines: Vec<u64>,
    /// Records that could not be read into columns at all.
    pub malformed: Vec<RowProblem>,
    /// The batch's columns are the file's columns (CSV, Parquet). JSON records each carry their own
    /// keys, so there a column absent from a chunk may still exist in the file.
    pub complete_schema: bool,
}

/// Why a row was rejected, as a stable code for counting and scripting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    MalformedRow,
    MissingRequired,
    UnparseableTimestamp,
    ImplausibleTimestamp,
    InvalidInteger,
    InvalidBoolean,
    OutOfRange,
    UnmappedValue,
    NegativeDuration,
    AfterAsOf,
    DuplicateId,
    BadDedupKey,
    OutOfScope,
}

impl RejectCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MalformedRow => "malformed_row",
            RejectCode::MissingRequired => "missing_required",
            RejectCode::UnparseableTimestamp => "unparseable_timestamp",
            RejectCode::ImplausibleTimestamp => "implausible_timestamp",
            RejectCode::InvalidInteger => "invalid_integer",
            RejectCode::InvalidBoolean => "invalid_boolean",
            RejectCode::OutOfRange => "out_of_range",
            RejectCode::UnmappedValue => "unmapped_value",
            RejectCode::NegativeDuration => "negative_duration",
            RejectCode::AfterAsOf => "after_as_of",
            RejectCode::DuplicateId => "duplicate_id",
            RejectCode::BadDedupKey => "bad_dedup_key",
            RejectCode::OutOfScope => "out_of_scope",
        }
    }
}

/// One rejected row: where it is, which column and value broke it, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowProblem {
    pub row: u64,
    pub line: Option<u64>,
    /// The source column (or the canonical field, where no source column applies).
    pub column: String,
    pub value: String,
    pub code: RejectCode,
    pub reason: String,
    /// The ticket's id as the source gives it, where one was read: users look tickets up by it.
    pub id: Option<String>,
}
