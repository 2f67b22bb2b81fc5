//! What each subcommand does, as a pipeline: flags → validated settings → work → output.

#[cfg(feature = "ballista")]
mod cluster;
mod compare;
mod help;
mod kpis;
mod report;
#[cfg(feature = "serve")]
mod serve;
mod store;

use std::io::Write;
use std::path::Path;

use chrono_tz::Tz;

use crate::cli::{Cli, Command, GenerateArgs, GenerateFormat, InputArgs, ProfilesArgs, SqlArgs};
use crate::error::{Error, Result};
use crate::generate::{self, FormatLayout, GenerateOptions};
use crate::ingest::Profile;
use crate::ingest::profile::BUILTIN;
use crate::pipeline::{self, Pipeline};
use crate::progress::Progress;
use crate::time::parse_iso;
use crate::write::OutputFormat;
use crate::{engine, render};

/// Settings shared by every command, validated.
pub struct Settings {
    pub timezone: Tz,
    pub as_of: Option<i64>,
    pub memory_limit: crate::engine::MemoryLimit,
    pub engine: crate::engine::Engine,
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
        let memory_limit = match &cli.memory_limit {
            None => crate::engine::MemoryLimit::default(),
            Some(text) => crate::engine::MemoryLimit::parse(text).map_err(|e| Error::Usage(format!("--memory-limit {e}")))?,
        };
        let engine = crate::engine::Engine::parse(&cli.engine).map_err(|e| Error::Usage(format!("--engine {e}")))?;
        Ok(Settings { timezone, as_of, memory_limit, engine })
    }
}

/// How a command that ran to the end came out: `Failure` is a check that found regressions, a
/// diff that found changes or a verify that found damage (exit code 1); errors are `Err` (exit
/// code 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
}

/// Runs the command, writing results to `out` and notes (summaries, warnings) to `err`.
pub fn run(cli: &Cli, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status> {
    let settings = Settings::from_cli(cli)?;
    let done = |r: Result<()>| r.map(|()| Status::Success);
    let queries = matches!(cli.command, Command::Sql(_) | Command::Kpi(_) | Command::Report(_) | Command::Check(_) | Command::Diff(_) | Command::Compare(_));
    if !queries && settings.engine != crate::engine::Engine::Local {
        return Err(Error::Usage(format!("--engine {}: applies to kpi, report, check, diff, compare and sql", cli.engine)));
    }
    match &cli.command {
        Command::Load(args) => done(store::load(args, &settings, out, err)),
        Command::Compact(args) => done(store::compact(args, out, err)),
        Command::Verify(args) => store::verify(args, out),
        Command::Sql(args) => done(sql(args, &settings, out, err)),
        Command::Kpi(args) => done(kpis::kpi(args, &settings, out, err)),
        Command::Report(args) => done(report::report(args, &settings, out, err)),
        Command::Check(args) => kpis::check(args, &settings, out, err),
        Command::Test(args) => kpis::test(args, out),
        Command::Diff(args) => kpis::diff(args, &settings, out, err),
        Command::Compare(args) => done(compare::compare(args, &settings, out, err)),
        Command::Catalog(args) => done(kpis::catalog(args, out)),
        Command::Generate(args) => done(generate(args, out)),
        Command::Profiles(args) => done(profiles(args, out)),
        Command::Completions(args) => done(help::completions(args.shell, out)),
        Command::Man => done(help::man(out)),
        #[cfg(feature = "ballista")]
        Command::Scheduler(args) => done(cluster::scheduler(args, err)),
        #[cfg(feature = "ballista")]
        Command::Executor(args) => done(cluster::executor(args, err)),
        #[cfg(feature = "serve")]
        Command::Serve(args) => done(serve::serve(args, &settings)),
    }
}

/// Opens the input through the one pipeline, with the command's settings.
pub fn open(input: &InputArgs, sla: Option<&Path>, rejects: Option<&Path>, settings: &Settings, progress: &Progress, err: &mut dyn Write) -> Result<Pipeline> {
    let spec = pipeline::Open {
        inputs: &input.input,
        profile: input.profile_name(),
        timezone: settings.timezone,
        as_of: settings.as_of,
        sla,
        rejects,
        memory_limit: settings.memory_limit,
        engine: settings.engine.clone(),
    };
    Pipeline::open(&spec, progress, err)
}

fn sql(args: &SqlArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let pipeline = open(&args.input, None, args.rejects.as_deref(), settings, &Progress::hidden(), err)?;
    let batches =
        engine::within_limit(pipeline.runtime().block_on(engine::sql(pipeline.tables(), &args.query)), "the query", engine::limit_of(pipeline.tables()))?;
    render::render(&batches, result_format(args.format), out)
}

/// The KPI parameters from their flags.
pub fn tuning(t: &crate::cli::TuningArgs) -> crate::kpi::Tuning {
    crate::kpi::Tuning {
        failure_priority: t.failure_priority,
        availability_months: t.availability_months,
        correlation_window_hours: t.window_hours,
        candidate_min_incidents: t.candidate_min_incidents,
        candidate_window_days: t.candidate_window_days,
        risk_min_patches: t.risk_min_patches,
        idle_days: t.idle_days,
        problem_base_month: t.problem_base_month,
        confidence: t.confidence,
        fdr: t.fdr,
    }
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
    let shift = match (args.shift_from, args.shift_factor, args.shift_priority, &args.shift_group) {
        (None, ..) => None,
        (Some(_), Some(f), ..) if !(f.is_finite() && f > 0.0) => return Err(Error::Usage(format!("--shift-factor {f}: give a positive number, e.g. 0.6"))),
        (Some(from), Some(factor), Some(p), None) if (1..=5).contains(&p) => Some(generate::Shift { from, target: generate::ShiftTarget::Priority(p), factor }),
        (Some(from), Some(factor), None, Some(group)) => Some(generate::Shift { from, target: generate::ShiftTarget::Group(group.clone()), factor }),
        _ => return Err(Error::Usage("--shift-from needs --shift-factor and one of --shift-priority (1 to 5) or --shift-group".into())),
    };
    let shape = generate::Shape { cis: args.cis, changes: args.changes, patch_share: args.patch_share.unwrap_or(generate::Shape::default().patch_share) };
    let options = GenerateOptions {
        out: args.out.clone(),
        incidents: args.incidents,
        months: args.months,
        start: args.start,
        seed: args.seed,
        layout,
        shift,
        shape,
        id_prefix: args.id_prefix.clone(),
    };
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

/// The renderer's format for `--format`.
fn result_format(format: crate::cli::ResultFormat) -> render::Format {
    match format {
        crate::cli::ResultFormat::Table => render::Format::Table,
        crate::cli::ResultFormat::Csv => render::Format::Csv,
        crate::cli::ResultFormat::Json => render::Format::Json,
    }
}
