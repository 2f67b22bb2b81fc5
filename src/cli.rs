//! Command-line flags (clap derive only; `commands` does the work).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "mttx", version, about = "ITSM metrics and benchmarking on Apache Arrow and DataFusion")]
pub struct Cli {
    /// Reporting cut-off: RFC 3339 (2026-11-01T00:00:00Z) or a date, read as midnight in --timezone.
    /// Loads reject rows with a timestamp after it; no result ever depends on the wall clock.
    #[arg(long, global = true, value_name = "TIME")]
    pub as_of: Option<String>,

    /// Reporting time zone (IANA name, e.g. Europe/Amsterdam).
    #[arg(long, global = true, default_value = "UTC", value_name = "ZONE")]
    pub timezone: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load exports into canonical Parquet tables, with a rejects file and a run summary.
    Load(LoadArgs),
    /// Run SQL over the canonical tables (incidents, problems, changes, cis, events).
    Sql(SqlArgs),
    /// Write realistic synthetic exports with planted, known effects (see ground_truth.json).
    Generate(GenerateArgs),
    /// List the built-in mapping profiles, or print one as TOML to start your own.
    Profiles(ProfilesArgs),
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// An input file or directory (searched recursively); repeat the flag for more.
    #[arg(long, short, required = true, value_name = "PATH")]
    pub input: Vec<PathBuf>,

    /// Mapping profile: a built-in name (see `mttx profiles`) or a path to a TOML file.
    #[arg(long, short, default_value = "canonical", value_name = "NAME|PATH")]
    pub profile: String,
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output directory for <table>.parquet, rejects.csv and summary.json.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Exit with an error (code 2) when any row is rejected.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = ResultFormat::Table)]
    pub format: ResultFormat,

    /// Also write the rows rejected while loading to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// The query, e.g. "SELECT priority, count(*) FROM incidents GROUP BY 1 ORDER BY 1".
    pub query: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output directory.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,

    /// Number of incidents (exact).
    #[arg(long, default_value_t = 20_000)]
    pub incidents: usize,

    /// Length of the window in calendar months.
    #[arg(long, default_value_t = 12)]
    pub months: u32,

    /// First day of the window (UTC).
    #[arg(long, default_value = "2025-11-01", value_name = "YYYY-MM-DD")]
    pub start: chrono::NaiveDate,

    /// Random seed; a given seed always produces byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// File format of every table, or `mixed` (incidents csv.gz, problems ndjson, changes parquet,
    /// cis csv, events parquet) to exercise every reader.
    #[arg(long, short, value_enum, default_value_t = GenerateFormat::Csv)]
    pub format: GenerateFormat,

    /// Gzip the csv or ndjson files.
    #[arg(long)]
    pub gzip: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Csv,
    Ndjson,
    Parquet,
    Mixed,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// A built-in profile to print.
    pub name: Option<String>,
}
