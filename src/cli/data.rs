//! Flags of the commands around the data: `load` into a store, `compact` and `verify` it, `sql` over it, `generate`
//! synthetic exports, list `profiles`, and the Ballista cluster's `scheduler` and `executor`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{InputArgs, ResultFormat};

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// A new store: a directory that does not exist or is empty (or, with --replace, a store).
    #[arg(long, short, value_name = "STORE", required_unless_present = "into", conflicts_with = "into")]
    pub out: Option<PathBuf>,

    /// An existing store to add the exports to, as each month's export arrives: every ticket
    /// converges on its latest version.
    #[arg(long, value_name = "STORE")]
    pub into: Option<PathBuf>,

    /// With --out: replace the store already there. The replacement is atomic.
    #[arg(long, requires = "out")]
    pub replace: bool,

    /// With --into: allow a profile other than the one the store was loaded with.
    #[arg(long, requires = "into")]
    pub profile_change: bool,

    /// Refuse the load (code 2, the store unchanged) when any row is rejected.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store: a directory made by `mttx load --out`.
    #[arg(value_name = "STORE")]
    pub store: PathBuf,
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

    /// Plant a change in resolution times from this date on (with --shift-factor, and
    /// --shift-priority or --shift-group), recorded in ground_truth.json.
    #[arg(long, value_name = "YYYY-MM-DD", requires = "shift_factor")]
    pub shift_from: Option<chrono::NaiveDate>,

    /// The incidents of this priority are shifted.
    #[arg(long, value_name = "P", requires = "shift_from", conflicts_with = "shift_group")]
    pub shift_priority: Option<u8>,

    /// The incidents worked by this assignment group are shifted.
    #[arg(long, value_name = "GROUP", requires = "shift_from")]
    pub shift_group: Option<String>,

    /// Their resolution times are multiplied by this: 0.6 is 40 % faster.
    #[arg(long, value_name = "F", requires = "shift_from")]
    pub shift_factor: Option<f64>,

    /// Number of CIs. Default: one per 20 incidents, at least 50.
    #[arg(long, value_name = "N")]
    pub cis: Option<usize>,

    /// Number of changes. Default: one per 4 incidents, at least 20.
    #[arg(long, value_name = "N")]
    pub changes: Option<usize>,

    /// The share of changes that are patches [default: 0.4].
    #[arg(long, value_name = "SHARE")]
    pub patch_share: Option<f64>,

    /// Put TEXT between every id's prefix and number (INC<TEXT>0000001), except the CIs': each
    /// month of a series of monthly exports gets ids of its own over one CMDB. Letters, digits,
    /// - and _, at most 16.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub id_prefix: String,
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

#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on for clients and executors.
    #[arg(long, default_value = "127.0.0.1:50050", value_name = "HOST:PORT")]
    pub bind: String,
}

#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler to take work from.
    #[arg(long, value_name = "HOST:PORT")]
    pub scheduler: String,

    /// Address to serve shuffle data to the other executors on (Arrow Flight); the next port is
    /// taken too.
    #[arg(long, default_value = "127.0.0.1:50051", value_name = "HOST:PORT")]
    pub bind: String,

    /// Host name the other executors reach this one by. Default: the --bind host.
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,

    /// Directory for shuffle files. Default: a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Tasks at once. Default: the machine's cores.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}
