//! The KPI commands: compute (`kpi`), gate against a baseline (`check`), compare two sets of
//! definitions (`diff`), run golden cases (`test`) and list definitions (`catalog`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Settings, Status};
use crate::check::{self, CheckReport, Pairing, Verdict, rules::Rules};
use crate::cli::{CatalogArgs, CatalogFormat, CheckArgs, CheckFormat, DiffArgs, KpiArgs, KpiFormat, KpiRunArgs, TestArgs};
use crate::error::{Error, Result};
use crate::golden::{self, CaseOutcome};
use crate::kpi::document::BatchRows;
use crate::kpi::{self, Kpi, KpiDocument, KpiOutcome, KpiParams, PeriodRequest};
use crate::pipeline::Pipeline;
use crate::progress::Progress;
use crate::render;

/// The input opened once through the pipeline, with the window resolved, ready for any set of KPIs.
struct Prepared {
    pipeline: Pipeline,
    params: KpiParams,
    progress: Progress,
}

impl Prepared {
    fn new(run: &KpiRunArgs, settings: &Settings, err: &mut dyn Write) -> Result<Prepared> {
        let request = match (run.period, run.from, run.to) {
            (Some(month), _, _) => PeriodRequest::Months(month, month),
            (None, Some(from), Some(to)) => PeriodRequest::Months(from, to),
            _ => PeriodRequest::All,
        };
        let progress = Progress::for_stderr();
        let pipeline = super::open(&run.input, run.sla.as_deref(), run.rejects.as_deref(), settings, &progress, err)?;
        let params = pipeline.params(request, super::tuning(&run.tuning))?.with_breakdown(run.by);
        Ok(Prepared { pipeline, params, progress })
    }

    /// The results document of `outcomes`, with the run's provenance.
    fn document(&self, outcomes: &[KpiOutcome]) -> Result<KpiDocument> {
        Ok(KpiDocument::new(&self.params, outcomes)?.with_provenance(self.pipeline.provenance()))
    }

    /// The run's document for writing out, its rows made objects a batch at a time.
    fn streamed<'a>(&self, outcomes: &'a [KpiOutcome]) -> KpiDocument<BatchRows<'a>> {
        KpiDocument::streamed(&self.params, outcomes).with_provenance(self.pipeline.provenance())
    }

    fn run(&self, kpis: Vec<Kpi>) -> Result<Vec<KpiOutcome>> {
        self.progress.stage("running KPI queries", 0);
        let outcomes = self.pipeline.run(&self.params, kpis);
        self.progress.finish();
        outcomes
    }
}

use kpi::run::failures as failed_queries;

pub fn kpi(args: &KpiArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let selected = kpi::select_by(args.run.queries.as_deref(), &args.run.only, args.run.by)?;
    if args.format == KpiFormat::Parquet && args.out.is_none() {
        return Err(Error::Usage("--format parquet writes one file per KPI: give --out DIR".into()));
    }
    let prepared = Prepared::new(&args.run, settings, err)?;
    let outcomes = prepared.run(selected)?;
    let mut file;
    let sink: &mut dyn Write = match (&args.out, args.format) {
        (Some(path), KpiFormat::Table | KpiFormat::Json | KpiFormat::Csv) => {
            file = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| Error::io(path, e))?);
            &mut file
        }
        _ => out,
    };
    match args.format {
        KpiFormat::Table => render::kpis::table(&prepared.params, &outcomes, args.limit, sink)?,
        KpiFormat::Json => render::kpis::json(&prepared.streamed(&outcomes), sink)?,
        KpiFormat::Csv => render::kpis::csv(&prepared.streamed(&outcomes), sink)?,
        KpiFormat::Parquet => render::kpis::parquet(&outcomes, args.out.as_deref().expect("checked above"))?,
    }
    sink.flush().map_err(render::stdout_error)?;
    failed_queries(&outcomes)
}

fn write_report(report: &CheckReport, format: CheckFormat, out: &mut dyn Write) -> Result<()> {
    match format {
        CheckFormat::Text => render::check::text(report, out),
        CheckFormat::Github => render::check::github(report, out),
        CheckFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out).map_err(render::stdout_error)
        }
    }
}

pub fn check(args: &CheckArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status> {
    let selected = kpi::select_by(args.run.queries.as_deref(), &args.run.only, args.run.by)?;
    let mut rules = match &args.rules {
        Some(path) => Rules::load(path)?,
        None => Rules::default(),
    };
    rules.gate_provisional = args.gate_provisional;
    // Read the baseline before the work, so a bad path fails fast.
    let baseline = match (&args.baseline, args.bless) {
        (Some(path), false) => Some(check::read_baseline(path)?),
        _ => None,
    };
    if baseline.is_none() && rules.gates.is_empty() && !args.bless {
        return Err(Error::Usage("nothing to check: give --baseline FILE, or --rules FILE with gates".into()));
    }
    let prepared = Prepared::new(&args.run, settings, err)?;
    let outcomes = prepared.run(selected)?;
    failed_queries(&outcomes)?;
    let current = prepared.document(&outcomes)?;
    if args.bless {
        let path = args.baseline.as_ref().expect("clap requires --baseline with --bless");
        let mut text = serde_json::to_string_pretty(&current)?;
        text.push('\n');
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
        writeln!(out, "blessed: wrote the current values of {} KPIs to {}", current.kpis.len(), path.display()).map_err(render::stdout_error)?;
        return Ok(Status::Success);
    }
    let pairing = if args.across_periods { Pairing::AcrossPeriods } else { Pairing::SameWindow };
    if let (Some(baseline), Some(path)) = (&baseline, &args.baseline) {
        check::comparable(baseline, &current, pairing).map_err(|message| Error::Baseline { origin: path.display().to_string(), message })?;
        let changed = check::definitions_changed(baseline, &current);
        if !changed.is_empty() && !args.allow_definition_change {
            return Err(Error::Baseline {
                origin: path.display().to_string(),
                message: format!(
                    "the definitions differ from the baseline's: {}. Values from other definitions are not regressions of the data; review the change (`mttx diff`), then bless a new baseline, or give --allow-definition-change to compare anyway",
                    changed.join("; ")
                ),
            });
        }
    }
    let report = check::check(baseline.as_ref(), &current, &rules, pairing)?;
    if let Some(path) = &args.junit {
        std::fs::write(path, render::junit::render(&report)).map_err(|e| Error::io(path, e))?;
    }
    write_report(&report, args.format, out)?;
    Ok(if report.passed { Status::Success } else { Status::Failure })
}

/// A scratch directory removed when dropped, so that an error on the way leaves nothing behind.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn create(purpose: &str) -> Result<ScratchDir> {
        let path = std::env::temp_dir().join(format!("mttx-{purpose}-{}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        Ok(ScratchDir(path))
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs git in `dir` (the current directory when None); a failure names the command and `--git-rev`.
fn git(rev: &str, dir: Option<&Path>, args: &[&str]) -> Result<Vec<u8>> {
    let mut command = std::process::Command::new("git");
    if let Some(dir) = dir {
        command.arg("-C").arg(dir);
    }
    let output = command.args(args).output().map_err(|e| Error::Usage(format!("--git-rev needs git on PATH: {e}")))?;
    if !output.status.success() {
        return Err(Error::Usage(format!("--git-rev {rev}: git {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim())));
    }
    Ok(output.stdout)
}

/// Writes the `queries/*.sql` files of the repository around the current directory, as they were
/// at `rev`, to `dir`, and returns the repository's top directory. git names paths relative to the
/// directory it runs in, so every command runs at the top, whichever subdirectory mttx started in.
fn queries_at_revision(rev: &str, dir: &Path) -> Result<PathBuf> {
    let top = PathBuf::from(String::from_utf8_lossy(&git(rev, None, &["rev-parse", "--show-toplevel"])?).trim());
    let listing = String::from_utf8_lossy(&git(rev, Some(&top), &["ls-tree", "--name-only", rev, "--", "queries/"])?).into_owned();
    for path in listing.lines().filter(|p| p.ends_with(".sql")) {
        let text = git(rev, Some(&top), &["show", &format!("{rev}:{path}")])?;
        let target = dir.join(Path::new(path).file_name().expect("ls-tree lists files"));
        std::fs::write(&target, text).map_err(|e| Error::io(&target, e))?;
    }
    Ok(top)
}

pub fn diff(args: &DiffArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<Status> {
    let mut scratch = None;
    let (before_dir, after_dir): (PathBuf, Option<PathBuf>) = match (&args.queries_a, &args.git_rev) {
        (Some(a), _) => (a.clone(), args.queries_b.clone()),
        (None, Some(rev)) => {
            let dir = scratch.insert(ScratchDir::create("diff")?);
            let top = queries_at_revision(rev, &dir.0)?;
            (dir.0.clone(), Some(args.queries_b.clone().unwrap_or_else(|| top.join("queries"))))
        }
        (None, None) => unreachable!("clap requires --queries-a or --git-rev"),
    };
    let before = kpi::select_by(Some(&before_dir), &args.run.only, args.run.by)?;
    let after = kpi::select_by(after_dir.as_deref(), &args.run.only, args.run.by)?;
    drop(scratch);
    let prepared = Prepared::new(&args.run, settings, err)?;
    let (a, b) = (prepared.run(before)?, prepared.run(after)?);
    failed_queries(&a)?;
    failed_queries(&b)?;
    // Definitions from before a rename are read under the new names, so a renamed column shows
    // its values, not a column gone and a new one.
    let mut before = KpiDocument::new(&prepared.params, &a)?;
    kpi::renames::read_as_current(&mut before);
    // Both sides read the same data, so a month that has not settled moves only with the
    // definitions: every change counts.
    let rules = Rules { gate_provisional: true, ..Rules::default() };
    let report = check::check(Some(&before), &KpiDocument::new(&prepared.params, &b)?, &rules, Pairing::SameWindow)?;
    write_report(&report, args.format, out)?;
    let moved = report.comparisons.iter().any(|c| c.verdict != Verdict::Ok);
    Ok(if moved { Status::Failure } else { Status::Success })
}

pub fn test(args: &TestArgs, out: &mut dyn Write) -> Result<Status> {
    let kpis = kpi::select(Some(&args.queries), &[])?;
    let cases: Vec<golden::Case> = golden::discover(&args.queries)?.into_iter().filter(|c| args.only.is_empty() || args.only.contains(&c.kpi)).collect();
    if cases.is_empty() {
        return Err(Error::Usage(format!("no golden cases in {}/tests/<kpi>/<case>/", args.queries.display())));
    }
    let (mut passed, mut failed) = (0, 0);
    for case in &cases {
        let Some(kpi) = kpis.iter().find(|k| k.id == case.kpi) else {
            return Err(Error::Usage(format!("{}: no KPI `{}` among the queries", case.dir.display(), case.kpi)));
        };
        let actual = golden::run_case(case, kpi)?;
        let label = format!("{}/{}", case.kpi, case.name);
        match golden::judge(case, &actual.csv, &actual.keys, args.bless)? {
            CaseOutcome::Passed => {
                passed += 1;
                writeln!(out, "ok      {label}")
            }
            CaseOutcome::Blessed => {
                passed += 1;
                writeln!(out, "blessed {label}")
            }
            CaseOutcome::Failed(diff) => {
                failed += 1;
                writeln!(out, "FAILED  {label} ({})\n{diff}", case.dir.join(golden::EXPECTED).display())
            }
        }
        .map_err(render::stdout_error)?;
    }
    writeln!(out, "\ngolden cases: {passed} passed, {failed} failed").map_err(render::stdout_error)?;
    Ok(if failed == 0 { Status::Success } else { Status::Failure })
}

pub fn catalog(args: &CatalogArgs, out: &mut dyn Write) -> Result<()> {
    let kpis = kpi::select(args.queries.as_deref(), &[])?;
    match args.format {
        CatalogFormat::Text => render::catalog::text(&kpis, out),
        CatalogFormat::Markdown => render::catalog::markdown_reference(&kpis, out),
        CatalogFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &kpis)?;
            writeln!(out).map_err(render::stdout_error)
        }
    }
}
