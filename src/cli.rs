//! Command-line flags (clap derive only; `commands` does the work).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::kpi::Breakdown;
use crate::time::{MonthRange, YearMonth};

#[derive(Debug, Parser)]
#[command(name = "mttx", version, about = "ITSM metrics and benchmarking on Apache Arrow and DataFusion")]
pub struct Cli {
    /// Reporting cut-off: RFC 3339 (2026-11-01T00:00:00Z) or a date, read as midnight in --timezone.
    /// Each ticket as it stood then: later timestamps read as null, and tickets opened later are
    /// left out. Default: the data's latest timestamp; no result ever depends on the wall clock.
    #[arg(long, global = true, value_name = "TIME")]
    pub as_of: Option<String>,

    /// Reporting time zone (IANA name, e.g. Europe/Amsterdam).
    #[arg(long, global = true, default_value = "UTC", value_name = "ZONE")]
    pub timezone: String,

    /// Memory the queries' sorts, aggregates, joins and windows may hold at once, such as 4G or
    /// 512M (or none). A query that needs more fails (code 2) naming the KPI and the limit; nothing
    /// spills to disk. Default: half of the machine's memory.
    #[arg(long, global = true, value_name = "SIZE")]
    pub memory_limit: Option<String>,

    /// Where kpi, report, check, diff, compare and sql run their queries: local (this process), or
    /// ballista://HOST:PORT, the scheduler of an Apache DataFusion Ballista cluster (a build with
    /// the cargo feature `ballista`). On a cluster, --input must be a store every executor can read.
    #[arg(long, global = true, default_value = "local", value_name = "ENGINE")]
    pub engine: String,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load exports into a store (canonical Parquet and a manifest) that every command can read:
    /// a new one with --out, or this month's export added to one with --into.
    Load(LoadArgs),
    /// Compute the KPIs (queries/*.sql and your own) for a period, all queries in parallel.
    Kpi(KpiArgs),
    /// Write the monthly service report (HTML, Markdown, charts, KPI values) with its benchmark
    /// against the previous month, a year earlier, targets, a baseline and peers.
    Report(ReportArgs),
    /// Compare KPI values with a baseline and gates, for CI: exit 0 pass, 1 regression, 2 error.
    Check(CheckArgs),
    /// Run the golden cases of the KPI queries (DIR/tests/<kpi>/<case>/).
    Test(TestArgs),
    /// Run two sets of KPI definitions on the same data and show how the numbers move.
    Diff(DiffArgs),
    /// Before and after a change to the process: every selected KPI over two windows of months,
    /// each measure tested, with a verdict (improved, worse, no evidence).
    Compare(CompareArgs),
    /// List the KPIs and their definitions (built-in, plus --queries DIR).
    Catalog(CatalogArgs),
    /// Run SQL over the canonical tables (incidents, problems, changes, cis, events).
    Sql(SqlArgs),
    /// Write realistic synthetic exports with planted, known effects (see ground_truth.json).
    Generate(GenerateArgs),
    /// List the built-in mapping profiles, or print one as TOML to start your own.
    Profiles(ProfilesArgs),
    /// Run the scheduler of a Ballista cluster, for `--engine ballista://HOST:PORT` (no
    /// authentication: bind to a private network).
    #[cfg(feature = "ballista")]
    Scheduler(SchedulerArgs),
    /// Run an executor of a Ballista cluster; it reads stores from paths that must be the same on
    /// every node.
    #[cfg(feature = "ballista")]
    Executor(ExecutorArgs),
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

#[derive(Debug, Args)]
pub struct InputArgs {
    /// A store (made by `mttx load`), or export files and directories (searched recursively);
    /// repeat the flag for more exports.
    #[arg(long, short, required = true, value_name = "PATH")]
    pub input: Vec<PathBuf>,

    /// Mapping profile of the exports: a built-in name (see `mttx profiles`) or a path to a TOML
    /// file. Default: canonical; for `load --into`, the store's own profile.
    #[arg(long, short, value_name = "NAME|PATH")]
    pub profile: Option<String>,
}

impl InputArgs {
    pub fn profile_name(&self) -> &str {
        self.profile.as_deref().unwrap_or("canonical")
    }
}

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

/// What selects and shapes a KPI run: the data, the definitions, the period and the parameters.
#[derive(Debug, Args)]
pub struct KpiRunArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// A directory of your own KPI queries (*.sql with the same header); they run and report like
    /// the built-in ones, and a file named like a built-in KPI replaces it.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// Run only these KPIs (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub only: Vec<String>,

    /// One month, YYYY-MM. Default: from the first incident's month to the month of the cut-off's last instant.
    #[arg(long, value_name = "YYYY-MM", conflicts_with_all = ["from", "to"])]
    pub period: Option<YearMonth>,

    /// First month of a range (with --to), YYYY-MM.
    #[arg(long, value_name = "YYYY-MM", requires = "to")]
    pub from: Option<YearMonth>,

    /// Last month of a range, inclusive, YYYY-MM.
    #[arg(long, value_name = "YYYY-MM", requires = "from")]
    pub to: Option<YearMonth>,

    /// Cut the KPIs that can be cut (durations, SLA, backlog, volume, reopens, first-contact
    /// resolution) by this incident field: service, assignment_group, category, contact_type or ci.
    /// Only those KPIs run; incidents with no value form their own group.
    #[arg(long, value_name = "FIELD")]
    pub by: Option<Breakdown>,

    /// Also write the rows rejected while loading to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// SLA policy (targets per priority, calendars, pause states). Default: the built-in policy,
    /// the same as sample-data/sla.toml.
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,

    #[command(flatten)]
    pub tuning: TuningArgs,
}

#[derive(Debug, Args)]
pub struct KpiArgs {
    #[command(flatten)]
    pub run: KpiRunArgs,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = KpiFormat::Table)]
    pub format: KpiFormat,

    /// Write to this file instead of stdout (for parquet: a directory, one file per KPI).
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// For --format table: show at most this many rows per KPI (0 for all).
    #[arg(long, default_value_t = 25, value_name = "N")]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub run: KpiRunArgs,

    /// The baseline: a kpis.json from `mttx kpi --format json`, a report, or `--bless`.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Tolerances and gates (see the README's "Use in CI").
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// Also write the result as JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,

    /// Write the current values to --baseline as the new baseline, deliberately, and pass.
    #[arg(long, requires = "baseline")]
    pub bless: bool,

    /// Month-over-month gating: compare a one-month run with a one-month baseline of another month,
    /// row by row on the keys other than month. Without it the baseline must cover the run's months.
    #[arg(long, requires = "baseline", conflicts_with = "bless")]
    pub across_periods: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Github,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// The queries under test; their golden cases are in DIR/tests/<kpi>/<case>/.
    #[arg(long, default_value = "queries", value_name = "DIR")]
    pub queries: PathBuf,

    /// Rewrite every case's expected.csv from the current results, after a reviewed change.
    #[arg(long)]
    pub bless: bool,

    /// Run only the cases of these KPIs (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub only: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub run: KpiRunArgs,

    /// The definitions before the change: a directory of *.sql …
    #[arg(long, value_name = "DIR", conflicts_with = "git_rev", required_unless_present = "git_rev")]
    pub queries_a: Option<PathBuf>,

    /// … and after it (default: the built-in queries, or ./queries with --git-rev).
    #[arg(long, value_name = "DIR")]
    pub queries_b: Option<PathBuf>,

    /// Take the "before" definitions from queries/ at this git revision of the current repository.
    #[arg(long, value_name = "REV")]
    pub git_rev: Option<String>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The months before the change: YYYY-MM..YYYY-MM, or one month.
    #[arg(long, value_name = "YYYY-MM..YYYY-MM")]
    pub before: MonthRange,

    /// The months after it; the two windows may not overlap.
    #[arg(long, value_name = "YYYY-MM..YYYY-MM")]
    pub after: MonthRange,

    /// A directory of your own KPI queries, as for `mttx kpi`.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// Compare only these KPIs (comma-separated ids).
    #[arg(long, value_delimiter = ',', value_name = "ID,...")]
    pub only: Vec<String>,

    /// Compare each group of this incident field (as `mttx kpi --by`); only the KPIs that can be
    /// cut run.
    #[arg(long, value_name = "FIELD")]
    pub by: Option<Breakdown>,

    /// SLA policy. Default: the built-in policy.
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = ResultFormat::Table)]
    pub format: ResultFormat,

    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub tuning: TuningArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The report month, YYYY-MM. Default: the latest month whose last day the data reaches
    /// (labelled partial when the cut-off falls before its end).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<YearMonth>,

    /// Months in the trend charts, the report month included.
    #[arg(long, default_value_t = 13, value_name = "N")]
    pub months: u32,

    /// Peer benchmark: CSV with columns kpi, key, p25, median, p75 (and optionally measure).
    #[arg(long, value_name = "FILE")]
    pub benchmark: Option<PathBuf>,

    /// An earlier run's kpis.json (from `mttx report`, `mttx kpi --format json` or `mttx check --bless`).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// KPI targets (TOML). Default: the built-in targets, the same as sample-data/targets.toml.
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// An improvement register: initiatives, when they went live, and the measures they should
    /// move. Default: improvements.toml in an input directory, when there is one.
    #[arg(long, value_name = "FILE")]
    pub improvements: Option<PathBuf>,

    /// A directory of your own KPI queries, as for `mttx kpi`.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// SLA policy. Default: the built-in policy, the same as sample-data/sla.toml.
    #[arg(long, value_name = "FILE")]
    pub sla: Option<PathBuf>,

    /// Also write the rows rejected while loading to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Teams and services: groups with fewer incidents than this in the month are listed apart,
    /// not ranked.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub min_n: u64,

    #[command(flatten)]
    pub tuning: TuningArgs,

    /// Output directory; created if missing, files in it are replaced.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
}

/// KPI parameters; each reaches the queries through the `params` table.
#[derive(Debug, Args)]
pub struct TuningArgs {
    /// MTBF: an incident of this priority or higher (1 is highest) is a failure, as is any major one.
    #[arg(long, default_value_t = 2, value_name = "P")]
    pub failure_priority: i64,

    /// Patch correlation: hours after a patch ends in which an incident on its CI follows it.
    #[arg(long, default_value_t = 72, value_name = "HOURS")]
    pub window_hours: i64,

    /// Problem candidates: this many incidents on one CI and category …
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub candidate_min_incidents: i64,

    /// … within this many days.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub candidate_window_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KpiFormat {
    Table,
    Json,
    Csv,
    Parquet,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    Csv,
    Ndjson,
    Parquet,
    Mixed,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Include your own KPI queries from this directory.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,

    /// Output format: a text list, a Markdown table (as in the README), or JSON.
    #[arg(long, short, value_enum, default_value_t = CatalogFormat::Text)]
    pub format: CatalogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatalogFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// A built-in profile to print.
    pub name: Option<String>,
}
