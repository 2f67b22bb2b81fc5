//! The library's error type. Each variant says what went wrong and where, and what to fix.

use std::path::PathBuf;

use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;
use datafusion::parquet::errors::ParquetError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An input file cannot be read at all: not the format its name says, corrupt, or missing a
    /// column the profile needs. Row-level problems are rejects, not this.
    #[error("{path}: {message}")]
    Input { path: PathBuf, message: String },

    /// A mapping profile is malformed or does not fit the input.
    #[error("profile {profile}: {message}")]
    Profile { profile: String, message: String },

    /// A KPI query file is malformed or failed to run; `origin` is its path or "built-in".
    #[error("{origin}: {message}")]
    Query { origin: String, message: String },

    /// The rules file of `mttx check` (tolerances and gates) is malformed or names what the run
    /// does not have.
    #[error("{origin}: {message}")]
    Rules { origin: String, message: String },

    /// An SLA policy file (`--sla`) is malformed.
    #[error("{origin}: {message}")]
    SlaPolicy { origin: String, message: String },

    /// A KPI targets file (`--targets`) is malformed or names what the KPIs do not have.
    #[error("{origin}: {message}")]
    Targets { origin: String, message: String },

    /// The reviewer's notes (`--notes`) are malformed or name a KPI the catalog lacks.
    #[error("{origin}: {message}")]
    Notes { origin: String, message: String },

    /// A peer benchmark CSV (`--benchmark`) is malformed or names what the KPIs do not have.
    #[error("{origin}: {message}")]
    Peers { origin: String, message: String },

    /// An improvement register (`improvements.toml`) is malformed or names what the KPIs do not have.
    #[error("{origin}: {message}")]
    Improvements { origin: String, message: String },

    /// A golden case's `case.toml` is malformed.
    #[error("{origin}: {message}")]
    GoldenCase { origin: String, message: String },

    /// A baseline (`--baseline`) cannot be compared with this run.
    #[error("{origin}: {message}")]
    Baseline { origin: String, message: String },

    /// Some KPI queries failed; the others were still reported.
    #[error("{failed} KPI quer{} failed:\n{details}", if *.failed == 1 { "y" } else { "ies" })]
    KpisFailed { failed: usize, details: String },

    /// A store (a directory written by `mttx load`) cannot be read or written as it is: another
    /// layout version, a missing data file, a schema that does not match, a load in the way.
    #[error("{path}: {message}")]
    Store { path: PathBuf, message: String },

    /// A command-line value is malformed; the message names the flag.
    #[error("{0}")]
    Usage(String),

    /// `--strict` was given and rows were rejected.
    #[error("{rejected} row(s) rejected and --strict was given; see {rejects_file}")]
    Strict { rejected: u64, rejects_file: String },

    /// A chart of the report could not be drawn.
    #[error("report: chart {chart}: {message}")]
    Chart { chart: String, message: String },

    #[error("arrow: {0}")]
    Arrow(#[from] ArrowError),

    #[error("parquet: {0}")]
    Parquet(#[from] ParquetError),

    /// A query that needs more than `--memory-limit` (see `engine::MemoryLimit`).
    #[error("{what} needs more memory than --memory-limit {limit} allows; raise the limit (or give none), or narrow the period. {detail}")]
    OutOfMemory { what: String, limit: String, detail: String },
    #[error("query engine: {0}")]
    DataFusion(#[from] Box<DataFusionError>),

    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        Error::DataFusion(Box::new(e))
    }
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    pub fn input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Input { path: path.into(), message: message.into() }
    }

    /// Something wrong with a store or one of its files.
    pub fn store(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Store { path: path.into(), message: message.into() }
    }

    pub fn profile(profile: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Profile { profile: profile.into(), message: message.into() }
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| payload.downcast_ref::<String>().cloned()).unwrap_or_else(|| "no message".into())
}
