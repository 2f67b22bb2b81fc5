//! Flags of the period views over the KPIs: `report` (the monthly service report and its
//! benchmark) and `compare` (before and after a change to the process).

use std::path::PathBuf;

use clap::Args;

use crate::kpi::Breakdown;
use crate::time::{MonthRange, YearMonth};

use super::{InputArgs, ResultFormat, TuningArgs};

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The report month, YYYY-MM. Default: the latest month whose last day the data reaches
    /// (labelled partial when the cut-off falls before its end).
    #[arg(long, value_name = "YYYY-MM")]
    pub period: Option<YearMonth>,

    /// Months in the trend and process-behaviour charts, the report month included (1 to 36).
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

    /// Tickets: at most this many tickets in each list of the tickets behind the red items (the
    /// report's Tickets section and tickets.csv).
    #[arg(long = "tickets", default_value_t = crate::report::sections::tickets::DEFAULT_LIMIT, value_name = "N")]
    pub ticket_limit: usize,

    /// Process behaviour: take the charts' centre lines and limits from these months of the trend
    /// window (YYYY-MM..YYYY-MM), so a shift after them shows against the old limits. Default:
    /// every month shown.
    #[arg(long, value_name = "YYYY-MM..YYYY-MM")]
    pub limits_from: Option<crate::time::MonthRange>,

    /// The reviewer's notes: a comment per KPI for each month and the actions agreed (what, owner,
    /// raised, due, status), printed on the first page and carried in kpis.json. Open actions of
    /// earlier months carry over; overdue ones are flagged. See docs/reports.md for the format.
    #[arg(long, value_name = "FILE")]
    pub notes: Option<PathBuf>,

    /// A service owner's pack: every table narrowed to the service's records (its incidents,
    /// problems, changes, CIs and outages, and those without a service whose CI is the service's).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,

    #[command(flatten)]
    pub tuning: TuningArgs,

    /// Output directory; created if missing, files in it are replaced.
    #[arg(long, short, value_name = "DIR")]
    pub out: PathBuf,
}

/// `--cohort`: what `mttx compare` judges durations on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CohortArg {
    Window,
    Opened,
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

    /// What a duration (MTTR, MTTA, …) is judged on: `window`, each KPI's own rule (MTTR by the
    /// month of resolution), or `opened`, the incidents opened in each window followed to the
    /// cut-off, so a ticket opened before the change and resolved after it counts before.
    #[arg(long, value_enum, default_value_t = CohortArg::Window, value_name = "COHORT")]
    pub cohort: CohortArg,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = ResultFormat::Table)]
    pub format: ResultFormat,

    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub tuning: TuningArgs,
}
