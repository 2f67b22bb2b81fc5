//! What each subcommand does, as a pipeline: flags → validated settings → work → output.

mod kpis;
mod report;

use std::io::Write;
use std::path::Path;

use chrono_tz::Tz;

use crate::cli::{Cli, Command, GenerateArgs, GenerateFormat, InputArgs, LoadArgs, ProfilesArgs, SqlArgs};
use crate::error::{Error, Result};
use crate::generate::{self, FormatLayout, GenerateOptions};
use crate::ingest::profile::BUILTIN;
use crate::ingest::timestamp::parse_iso;
use crate::ingest::{self, LoadOptions, LoadSummary, MemorySink, ParquetDirSink, Profile, RejectsCsv};
use crate::write::OutputFormat;
use crate::{engine, render};

/// Settings shared by every command, validated.
pub struct Settings {
    pub timezone: Tz,
    pub as_of: Option<i64>,
}

impl Settings {
    pub fn from_cli(cli: &Cli) -> Result<Settings> {
        let timezone: Tz =
            cli.timezone.parse().map_err(|_| Error::Usage(format!("--timezone {}: not an IANA time zone such as UTC or Europe/Amsterdam", cli.timezone)))?;
        let as_of = match &cli.as_of {
            None => None,
            Some(text) => Some(
                parse_iso(text, timezone)
                    .ok_or_else(|| Error::Usage(format!("--as-of {text}: give RFC 3339 such as 2026-11-01T00:00:00Z, or a date such as 2026-11-01")))?,
            ),
        };
        Ok(Settings { timezone, as_of })
    }
}

/// How a command that ran to the end came out: `Failure` is a check that found regressions or a
/// diff that found changes (exit code 1); errors are `Err` (exit code 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
}

/// Runs the command, writing results to `out` and notes (summaries, warnings) to `err`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status> {
    let settings = Settings::from_cli(cli)?;
    let done = |r: Result<()>| r.map(|()| Status::Success);
    match &cli.command {
        Command::Load(args) => done(load(args, &settings, out)),
        Command::Sql(args) => done(sql(args, &settings, out, err)),
        Command::Kpi(args) => done(kpis::kpi(args, &settings, out, err)),
        Command::Report(args) => done(report::report(args, &settings, out, err)),
        Command::Check(args) => kpis::check(args, &settings, out, err),
        Command::Test(args) => kpis::test(args, out),
        Command::Diff(args) => kpis::diff(args, &settings, out, err),
        Command::Catalog(args) => done(kpis::catalog(args, out)),
        Command::Generate(args) => done(generate(args, out)),
        Command::Profiles(args) => done(profiles(args, out)),
    }
}

fn load(args: &LoadArgs, settings: &Settings, out: &mut dyn Write) -> Result<()> {
    let profile = Profile::resolve(&args.input.profile)?;
    let mut tables = ParquetDirSink::new(&args.out)?;
    let rejects_path = args.out.join("rejects.csv");
    let mut rejects = RejectsCsv::create(&rejects_path)?;
    let options = LoadOptions { as_of: settings.as_of };
    let summary = ingest::load(&args.input.input, &profile, &options, &mut tables, &mut rejects)?;
    tables.finish()?;
    rejects.finish()?;
    write_summary(&args.out.join("summary.json"), &summary)?;
    write!(out, "{}", summary.render_text()).map_err(render::stdout_error)?;
    writeln!(out, "wrote {}", args.out.display()).map_err(render::stdout_error)?;
    let rejected = summary.total().rejected;
    if args.strict && rejected > 0 {
        return Err(Error::Strict { rejected, rejects_file: rejects_path.display().to_string() });
    }
    Ok(())
}

fn write_summary(path: &Path, summary: &LoadSummary) -> Result<()> {
    let mut text = serde_json::to_string_pretty(summary)?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// Loads the inputs into memory and reports rejects on `err`, so nothing is dropped unseen.
pub fn load_in_memory(input: &InputArgs, settings: &Settings, rejects_file: Option<&Path>, err: &mut dyn Write) -> Result<(MemorySink, LoadSummary)> {
    let profile = Profile::resolve(&input.profile)?;
    let mut tables = MemorySink::default();
    let mut rejects = match rejects_file {
        Some(path) => RejectsCsv::create(path)?,
        None => RejectsCsv::discard(),
    };
    let options = LoadOptions { as_of: settings.as_of };
    let summary = ingest::load(&input.input, &profile, &options, &mut tables, &mut rejects)?;
    rejects.finish()?;
    let total = summary.total();
    if total.rejected > 0 {
        let reasons: Vec<String> = summary.rejects_by_reason.iter().map(|(r, n)| format!("{n} {r}")).collect();
        let hint = match rejects_file {
            Some(p) => format!("listed in {}", p.display()),
            None => "list them with --rejects FILE or `mttx load`".to_string(),
        };
        let _ = writeln!(err, "mttx: loaded {} row(s), rejected {} ({}); {hint}", total.loaded, total.rejected, reasons.join(", "));
    }
    for absent in &summary.absent_columns {
        let _ = writeln!(err, "mttx: {}", absent.describe());
    }
    Ok((tables, summary))
}

/// The data loaded into a registered session, with the SLA policy it is measured against: the
/// start of every command that runs KPIs.
pub struct Loaded {
    pub ctx: datafusion::prelude::SessionContext,
    pub policy: crate::kpi::SlaPolicy,
    pub summary: LoadSummary,
}

/// Reads the SLA policy (`--sla` or the built-in one) first, so a bad file fails before the load,
/// then loads the inputs and registers them on a session in the reporting time zone.
pub fn load_for_kpis(input: &InputArgs, sla: Option<&Path>, rejects: Option<&Path>, settings: &Settings, err: &mut dyn Write) -> Result<Loaded> {
    let mut policy = match sla {
        Some(path) => crate::kpi::SlaPolicy::load(path)?,
        None => crate::kpi::SlaPolicy::default_policy()?,
    };
    let (tables, summary) = load_in_memory(input, settings, rejects, err)?;
    policy.add_source_pause_states(&summary.pause_states);
    let ctx = engine::session(settings.timezone.name());
    engine::register(&ctx, tables)?;
    Ok(Loaded { ctx, policy, summary })
}

fn sql(args: &SqlArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let (tables, _) = load_in_memory(&args.input, settings, args.rejects.as_deref(), err)?;
    let ctx = engine::session(settings.timezone.name());
    engine::register(&ctx, tables)?;
    let batches = runtime()?.block_on(engine::sql(&ctx, &args.query))?;
    render::render(&batches, args.format, out)
}

/// The KPI parameters from their flags.
pub fn tuning(t: &crate::cli::TuningArgs) -> crate::kpi::Tuning {
    crate::kpi::Tuning {
        failure_priority: t.failure_priority,
        correlation_window_hours: t.window_hours,
        candidate_min_incidents: t.candidate_min_incidents,
        candidate_window_days: t.candidate_window_days,
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| Error::io("<tokio runtime>", e))
}

fn generate(args: &GenerateArgs, out: &mut dyn Write) -> Result<()> {
    let layout = match args.format {
        GenerateFormat::Mixed if args.gzip => {
            return Err(Error::Usage("--gzip does not apply to --format mixed, which chooses compression per table".into()));
        }
        GenerateFormat::Mixed => FormatLayout::Mixed,
        GenerateFormat::Csv => FormatLayout::Uniform { format: OutputFormat::Csv, gzip: args.gzip },
        GenerateFormat::Ndjson => FormatLayout::Uniform { format: OutputFormat::Ndjson, gzip: args.gzip },
        GenerateFormat::Parquet if args.gzip => {
            return Err(Error::Usage("--gzip applies to csv and ndjson; Parquet compresses internally".into()));
        }
        GenerateFormat::Parquet => FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: false },
    };
    if args.incidents == 0 || args.months == 0 {
        return Err(Error::Usage("--incidents and --months must be at least 1".into()));
    }
    let options = GenerateOptions { out: args.out.clone(), incidents: args.incidents, months: args.months, start: args.start, seed: args.seed, layout };
    let summary = generate::generate(&options)?;
    for (path, rows) in &summary.files {
        writeln!(out, "{:>9} rows  {}", rows, path.display()).map_err(render::stdout_error)?;
    }
    writeln!(out, "ground truth: {}", args.out.join("ground_truth.json").display()).map_err(render::stdout_error)
}

fn profiles(args: &ProfilesArgs, out: &mut dyn Write) -> Result<()> {
    match &args.name {
        None => {
            for (name, text) in BUILTIN {
                let profile = Profile::parse(text, name)?;
                writeln!(out, "{name:<12} {}", profile.description).map_err(render::stdout_error)?;
            }
        }
        Some(name) => {
            let (_, text) = BUILTIN.iter().find(|(n, _)| n == name).ok_or_else(|| {
                let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
                Error::Usage(format!("no built-in profile `{name}`; built-in profiles are: {}", names.join(", ")))
            })?;
            out.write_all(text.as_bytes()).map_err(render::stdout_error)?;
        }
    }
    Ok(())
}
