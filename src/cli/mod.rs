//! Command-line flags (clap derive only; `commands` does the work): the `Cli` with its global
//! flags, the `Command` enum, and the argument groups several commands share (inputs, KPI
//! tuning, the result format). Each area's own arguments live in a submodule.

mod data;
mod kpis;
mod report;
#[cfg(feature = "serve")]
mod serve;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[cfg(feature = "ballista")]
pub use data::{ExecutorArgs, SchedulerArgs};
pub use data::{GenerateArgs, GenerateFormat, LoadArgs, ProfilesArgs, SqlArgs, StoreArgs};
pub use kpis::{CatalogArgs, CatalogFormat, CheckArgs, CheckFormat, DiffArgs, KpiArgs, KpiFormat, KpiRunArgs, TestArgs};
pub use report::{CohortArg, CompareArgs, ReportArgs};
#[cfg(feature = "serve")]
pub use serve::ServeArgs;

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
    /// 512M (or none). Sorts, aggregates and repartitions spill to temporary files past it, except
    /// in a query with a nested-loop join; a query that still needs more fails (code 2) naming the
    /// KPI and the limit. Default: half of the machine's memory, or of its control group's limit
    /// when that is lower (a container, `systemd-run -p MemoryMax=…`).
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
    /// Merge a store's part-filled files (monthly loads add one per table each month) into full
    /// ones, atomically, as a load changes a store.
    Compact(StoreArgs),
    /// Check every file of a store against its manifest (size, SHA-256, schema, rows): exit 0
    /// intact, 1 damage found, 2 error.
    Verify(StoreArgs),
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
    /// Print a completion script for a shell: bash, zsh, fish, elvish or powershell.
    Completions(CompletionsArgs),
    /// Print the man page (roff), to read with `man -l` or install under man1/.
    Man,
    /// Run the scheduler of a Ballista cluster, for `--engine ballista://HOST:PORT` (no
    /// authentication: bind to a private network).
    #[cfg(feature = "ballista")]
    Scheduler(SchedulerArgs),
    /// Run an executor of a Ballista cluster; it reads stores from paths that must be the same on
    /// every node.
    #[cfg(feature = "ballista")]
    Executor(ExecutorArgs),
    /// Serve a store to BI tools over Arrow Flight SQL: the canonical tables, mttx's functions and
    /// every KPI as a view and a table function, read-only (see docs/serve.md).
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultFormat {
    Table,
    Csv,
    Json,
}

/// KPI parameters; each reaches the queries through the `params` table.
#[derive(Debug, Args)]
pub struct TuningArgs {
    /// Outages derived from incidents (no outages table loaded): an incident of this priority or
    /// higher (1 is highest) is an outage, as is any major one. Default: major incidents only.
    #[arg(long, value_name = "P")]
    pub failure_priority: Option<i64>,

    /// MTBF, MTBSI and availability: the rolling window's months, ending with the period's last.
    #[arg(long, default_value_t = 12, value_name = "MONTHS")]
    pub availability_months: i64,

    /// Patch correlation: hours after a patch ends in which an incident on its CI follows it.
    #[arg(long, default_value_t = 72, value_name = "HOURS")]
    pub window_hours: i64,

    /// Problem candidates: this many incidents on one CI and category …
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub candidate_min_incidents: i64,

    /// … within this many days.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    pub candidate_window_days: i64,

    /// Riskiest CIs to patch: test a CI's post-patch incident rate when it has at least this many
    /// patches in the period.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub risk_min_patches: i64,

    /// Open backlog: an open incident with nothing recorded on it for this many days before the
    /// cut-off is idle.
    #[arg(long, default_value_t = 14, value_name = "DAYS")]
    pub idle_days: i64,

    /// Problem growth: the month whose problems opened are the base. Default: the first month
    /// that starts at or after the data's first incident, so no window moves it.
    #[arg(long, value_name = "YYYY-MM")]
    pub problem_base_month: Option<crate::time::YearMonth>,

    /// The two-sided confidence of every interval (rates, the patch lift, CI rate ratios).
    #[arg(long, default_value_t = 0.95, value_name = "LEVEL")]
    pub confidence: f64,

    /// The false discovery rate of each Benjamini–Hochberg family: a change is significant when
    /// its q-value is below it.
    #[arg(long, default_value_t = 0.05, value_name = "RATE")]
    pub fdr: f64,
}
