//! Flags of the KPI runs and the commands built on them: `kpi`, `check`, `test`, `diff` and
//! `catalog`, with the run arguments they share and their output formats.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::kpi::Breakdown;
use crate::time::YearMonth;

use super::{InputArgs, TuningArgs};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KpiFormat {
    Table,
    Json,
    Csv,
    Parquet,
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

    /// Compare with a baseline whose KPI definitions (SQL) or SLA policy differ from this run's.
    /// Without it such a check stops with code 2 and names what differs: a changed definition is
    /// reviewed with `mttx diff`, not gated as a regression.
    #[arg(long, requires = "baseline", conflicts_with = "bless")]
    pub allow_definition_change: bool,

    /// Fail on regressions and violated gates in rows whose month has not settled (a KPI's
    /// `settles:`, such as reopens arriving up to 14 days after the month). Without it they are
    /// shown as provisional and pass.
    #[arg(long, conflicts_with = "bless")]
    pub gate_provisional: bool,
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
