//! The `compare` command: two windows of months, every selected KPI, a verdict per measure.

use std::io::Write;

use super::Settings;
use crate::cli::{CompareArgs, ResultFormat};
use crate::compare::{self, CompareDocument};
use crate::error::{Error, Result};
use crate::evidence::verdict::Verdict;
use crate::kpi;
use crate::progress::Progress;
use crate::render;
use crate::report::format::{Scale, format_p, format_q, format_value, scale};

pub fn compare(args: &CompareArgs, settings: &Settings, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
    let kpis = kpi::select_by(args.queries.as_deref(), &args.only, args.by)?;
    let progress = Progress::for_stderr();
    let pipeline = super::open(&args.input, args.sla.as_deref(), None, settings, &progress, err)?;
    progress.stage("comparing windows", 0);
    let cohorts = args.cohort == crate::cli::CohortArg::Opened;
    let document = compare::compare(&pipeline, args.before, args.after, &kpis, super::tuning(&args.tuning), args.by, cohorts)?;
    progress.finish();
    let mut file;
    let sink: &mut dyn Write = match &args.out {
        Some(path) => {
            file = std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| Error::io(path, e))?);
            &mut file
        }
        None => out,
    };
    match args.format {
        ResultFormat::Table => table(&document, sink)?,
        ResultFormat::Json => {
            serde_json::to_writer_pretty(&mut *sink, &document)?;
            writeln!(sink).map_err(render::stdout_error)?;
        }
        ResultFormat::Csv => csv(&document, sink)?,
    }
    sink.flush().map_err(render::stdout_error)
}

fn number(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn csv(document: &CompareDocument, out: &mut dyn Write) -> Result<()> {
    use crate::escape::spreadsheet_safe;
    let mut writer = ::csv::Writer::from_writer(out);
    writer
        .write_record([
            "kpi", "key", "measure", "better", "before", "before_n", "after", "after_n", "change", "relative", "per_day", "test", "p_value", "q_value",
            "verdict",
        ])
        .map_err(render::csv_error)?;
    for r in &document.rows {
        writer
            .write_record([
                r.kpi.clone(),
                spreadsheet_safe(&r.key).into_owned(),
                r.measure.clone(),
                r.better.word().into(),
                number(r.before),
                number(r.before_n),
                number(r.after),
                number(r.after_n),
                number(r.change),
                number(r.relative),
                r.per_day.to_string(),
                r.test.clone().unwrap_or_default(),
                number(r.p_value),
                number(r.q_value),
                r.verdict.word().into(),
            ])
            .map_err(render::csv_error)?;
    }
    writer.flush().map_err(render::stdout_error)
}

/// An aligned table of the measures that were tested, verdicts first in words.
fn table(document: &CompareDocument, out: &mut dyn Write) -> Result<()> {
    let (b, a) = (&document.before, &document.after);
    writeln!(
        out,
        "before {} and after {} ({}; cut-off {}{}); {} tests, Benjamini–Hochberg q < {} is evidence",
        b.months,
        a.months,
        document.timezone,
        document.as_of,
        document.breakdown.map(|by| format!("; by {by}")).unwrap_or_default(),
        document.tests,
        document.fdr
    )
    .map_err(render::stdout_error)?;
    for group in &document.cohorts {
        let share = |c: &crate::evidence::windows::Cohort| 100.0 * c.share(None);
        let (b, a) = (&group.before, &group.after);
        writeln!(
            out,
            "{} on the incidents opened in each window, each followed {} days for its {}: before {} opened, {} not there within them ({:.1}%); after {} opened, {} ({:.1}%){}",
            group.kpis.join(", "),
            group.rule.days,
            group.rule.column,
            b.opened,
            b.still_open,
            share(b),
            a.opened,
            a.still_open,
            share(a),
            if share(b).max(share(a)) > 100.0 * crate::evidence::improvements::STILL_OPEN_WARNING { "; more than 1%, cut at the follow-up in both alike" } else { "" }
        )
        .map_err(render::stdout_error)?;
    }
    let mut rows: Vec<[String; 8]> = vec![["KPI", "key", "measure", "before", "after", "change", "test", "verdict"].map(String::from)];
    for r in document.rows.iter().filter(|r| r.test.is_some()) {
        let s = scale(&r.kpi, &r.unit, &r.measure);
        let with_n = |v: Option<f64>, n: Option<f64>| match n {
            Some(n) => format!("{} (n={})", format_value(v, s), n.round()),
            None => format_value(v, s),
        };
        let change = match (r.change, r.relative) {
            (Some(c), _) if s == Scale::Percent => format!("{:+.1} pts", c * 100.0),
            (Some(_), Some(rel)) => format!("{:+.1}%{}", rel * 100.0, if r.per_day { " per day" } else { "" }),
            (Some(c), None) => format!("{c:+.2}"),
            _ => "—".into(),
        };
        let test = match (r.p_value, r.q_value) {
            (Some(p), Some(q)) => format!("{}: {} {}", r.test.as_deref().unwrap_or_default(), format_p(p), format_q(q)),
            _ => String::new(),
        };
        rows.push([
            r.kpi.clone(),
            if r.key.is_empty() { "all".into() } else { r.key.clone() },
            r.measure.clone(),
            with_n(r.before, r.before_n),
            with_n(r.after, r.after_n),
            change.replace('-', "−"),
            test,
            r.verdict.word().into(),
        ]);
    }
    let widths: Vec<usize> = (0..8).map(|i| rows.iter().map(|r| crate::escape::terminal(&r[i]).chars().count()).max().unwrap_or(0)).collect();
    for row in &rows {
        let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{:<w$}", crate::escape::terminal(c))).collect();
        writeln!(out, "{}", line.join("  ").trim_end()).map_err(render::stdout_error)?;
    }
    let counts = |v: Verdict| document.rows.iter().filter(|r| r.verdict == v).count();
    writeln!(
        out,
        "\n{} improved, {} worse, {} changed (neutral measures), {} with no evidence; {} measures without a test are in --format json or csv",
        counts(Verdict::Improved),
        counts(Verdict::Worse),
        counts(Verdict::Changed),
        counts(Verdict::NoEvidence),
        counts(Verdict::NotTested)
    )
    .map_err(render::stdout_error)
}
