//! `mttx report`: the monthly service report and its benchmark, from loading to files on disk.
//! It runs the trend charts' month-grained KPIs once over every month it shows (the trend window,
//! the previous month, the same month a year earlier), the other month-grained KPIs over the
//! period with the month before and over the month a year earlier, the rest for each of those
//! periods, and MTTR and SLA breaches by service for the period and the month before (on a session
//! of its own over the same tables); it compares them, and writes
//! report.html, report.md, kpis.json, kpis.csv, benchmark.csv, trend.csv, tickets.csv and charts/. kpis.json
//! carries the process-behaviour charts, the first page's lists, the reviewer's notes and every
//! charted month beside the KPI values.
//!
//! Kept whole: it is the report's plan of runs, from the period's checks through each window's KPI
//! runs to the files written, and reads top to bottom in the order the work happens.

pub mod build;
pub mod charts;
pub mod document;
pub mod fields;
pub mod format;
pub mod html;
pub mod markdown;
pub mod notes;
pub mod sections;
pub mod trend;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono_tz::Tz;
use datafusion::prelude::SessionContext;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::evidence::comparison::{self as compare, Comparison, PeriodValues};
use crate::evidence::improvements;
use crate::evidence::peers::Peers;
use crate::evidence::samples::Samples;
use crate::evidence::targets::Targets;
use crate::kpi::document::Provenance;
use crate::kpi::{self, Breakdown, Kpi, KpiDocument, KpiParams, PeriodRequest, Tuning, YearMonth};
use crate::pipeline::Pipeline;
use crate::progress::Progress;
use crate::time::rfc3339;

pub struct ReportOptions {
    pub period: Option<YearMonth>,
    /// Months in the trend window, the period included.
    pub months: u32,
    pub benchmark: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub targets: Option<PathBuf>,
    /// An improvement register (`improvements.toml`) whose initiatives get a section.
    pub improvements: Option<PathBuf>,
    /// The Teams and services section ranks only groups with at least this many tickets.
    pub min_n: u64,
    /// The months the process-behaviour limits come from; None: every month shown.
    pub limits_from: Option<crate::time::MonthRange>,
    /// The reviewer's notes (`notes.toml`): comments per KPI and actions.
    pub notes: Option<PathBuf>,
    /// The service the pipeline's tables were narrowed to (`--service`), for the title.
    pub service: Option<String>,
    /// Tickets per list in the Tickets section and tickets.csv.
    pub ticket_limit: usize,
    pub out: PathBuf,
}

/// The longest trend window: three years of months is what a chart can show month by month.
pub const MAX_TREND_MONTHS: u32 = 36;

/// What the data and flags fix before any KPI runs.
pub struct Setting<'a> {
    pub kpis: Vec<Kpi>,
    pub tuning: Tuning,
    /// The opened input: tables, SLA policy, extent, time zone, cut-off and load summary.
    pub pipeline: &'a Pipeline,
}

/// One period's run: its KPI values and the samples behind their rank tests.
struct Run {
    params: KpiParams,
    document: KpiDocument,
    samples: Samples,
}

impl Run {
    fn covered_hours(&self) -> f64 {
        covered_hours(self.params.period_start, self.params.period_end, self.params.as_of)
    }

    fn values(&self) -> PeriodValues<'_> {
        PeriodValues {
            label: format::month_name(self.params.first),
            document: &self.document,
            samples: Some(&self.samples),
            covered_hours: self.covered_hours(),
        }
    }
}

/// The month a report is for unless `--period` says: the latest month whose last day the data
/// reaches. An export taken late on the 31st reports that month (labelled partial, by the minutes
/// it lacks); one taken on the 2nd reports the month before, not two days of the new one. A
/// cut-off at midnight belongs to the day before it. Data shorter than that reports its only month.
pub fn default_period(as_of: i64, first_month: YearMonth, timezone: Tz) -> YearMonth {
    let month = YearMonth::of_micros(as_of - 1, timezone);
    if as_of > month.last_day_start(timezone) || month.previous() < first_month { month } else { month.previous() }
}

fn covered_hours(start: i64, end: i64, as_of: i64) -> f64 {
    (end.min(as_of) - start).max(0) as f64 / 3.6e9
}

/// Which files a report wrote.
pub struct Written {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub period: YearMonth,
}

pub fn generate(setting: &Setting, options: &ReportOptions, progress: &Progress) -> Result<Written> {
    let pipeline = setting.pipeline;
    let timezone = pipeline.timezone;
    // Flags that name files fail before the work.
    let targets = match &options.targets {
        Some(path) => Targets::load(path, &setting.kpis)?,
        None => Targets::default_targets(&setting.kpis)?,
    };
    let review_notes = options.notes.as_deref().map(|p| notes::Notes::load(p, &setting.kpis)).transpose()?;
    let peers = options.benchmark.as_deref().map(|p| Peers::load(p, &setting.kpis)).transpose()?;
    let register = options.improvements.as_deref().map(|p| improvements::Register::load(p, &setting.kpis)).transpose()?;
    let baseline = options.baseline.as_deref().map(crate::check::read_baseline).transpose()?;
    if let (Some(doc), Some(path)) = (&baseline, &options.baseline)
        && doc.window.first_month != doc.window.last_month
    {
        return Err(Error::input(
            path,
            format!(
                "a baseline for a report covers one month, and this one covers {} to {}; use the kpis.json of an earlier report, or `mttx kpi --period YYYY-MM --format json`",
                doc.window.first_month, doc.window.last_month
            ),
        ));
    }
    if options.months == 0 || options.months > MAX_TREND_MONTHS {
        return Err(Error::Usage(format!(
            "--months {}: give 1 to {MAX_TREND_MONTHS} months for the trend and its process-behaviour charts; for a longer view, run `mttx kpi --from YYYY-MM --to YYYY-MM`",
            options.months
        )));
    }
    let runtime = pipeline.runtime();
    let extent = pipeline.params(PeriodRequest::All, setting.tuning)?;
    let first_month = extent.first;
    let period = options.period.unwrap_or_else(|| default_period(extent.as_of, first_month, timezone));
    if period < first_month {
        return Err(Error::Usage(format!(
            "--period {}: the data starts in {} (its first incident); choose {} or later",
            period.label(),
            first_month.label(),
            first_month.label()
        )));
    }
    if period.start(timezone) >= extent.as_of {
        return Err(Error::Usage(format!(
            "--period {}: it starts after the cut-off {}, so nothing in it has happened yet; choose {} or earlier, or a later --as-of",
            period.label(),
            rfc3339(extent.as_of),
            extent.last.label()
        )));
    }
    let mut notes = Vec::new();
    let mut window_first = period;
    for _ in 1..options.months {
        if window_first.previous() < first_month {
            notes.push(format!(
                "The data starts in {}, so the trend covers fewer than the {} months asked for.",
                format::month_name(first_month),
                options.months
            ));
            break;
        }
        window_first = window_first.previous();
    }
    if let Some(range) = options.limits_from
        && (range.first < window_first || range.last > period)
    {
        return Err(Error::Usage(format!(
            "--limits-from {range}: the process-behaviour limits come from months the charts show, {} to {}; choose months within them",
            window_first.label(),
            period.label()
        )));
    }
    let previous = Some(period.previous()).filter(|m| *m >= first_month);
    let year_ago = {
        let mut m = period;
        for _ in 0..12 {
            m = m.previous();
        }
        Some(m).filter(|m| *m >= first_month)
    };
    if year_ago.is_none() {
        notes.push("The data does not reach back a year, so there is no same-month-last-year comparison.".into());
    }

    // The month-grained KPIs give each month's rows alone (see `Kpi::slices_by_month`), so one
    // run over several months gives them for all of those months at once. The trend charts' KPIs
    // run once over every month the report shows (the trend window, the month before it and the
    // same month a year ago); the other month-grained KPIs are only compared, so they run over the
    // period and the month before it, and apart over the month a year ago, not over the months
    // between (for sla_breach, the most expensive KPI, that is 3 months of clocks instead of 13).
    // The rank tests' samples come from those two runs, for the compared months only. The KPIs
    // without a month grain, or whose rows depend on the window, run once per period shown.
    let order: Vec<&str> = setting.kpis.iter().map(|k| k.id.as_str()).collect();
    let (sliced, per_period): (Vec<Kpi>, Vec<Kpi>) = setting.kpis.iter().cloned().partition(Kpi::slices_by_month);
    let (sliced_trend, sliced_compared): (Vec<Kpi>, Vec<Kpi>) = sliced.iter().cloned().partition(|k| build::TREND_KPIS.contains(&k.id.as_str()));
    let trend_ids: Vec<&str> = sliced_trend.iter().map(|k| k.id.as_str()).collect();
    let compared_ids: Vec<&str> = sliced_compared.iter().map(|k| k.id.as_str()).collect();
    let span_first = [Some(window_first), previous, year_ago].into_iter().flatten().min().unwrap_or(period);
    let recent_first = previous.unwrap_or(period);
    // The trend charts draw only these; the ones that cannot be sliced run over the trend window.
    let trend_apart: Vec<Kpi> = per_period.iter().filter(|k| build::TREND_KPIS.contains(&k.id.as_str())).cloned().collect();
    progress.stage("running KPI queries", 9);
    // Under a tight memory limit the runs below go one at a time: each run's queries already
    // share every core among them, and the runs' documents and intermediates together took a
    // report of 100 M tickets past 3 GiB.
    let runs_at_once = if crate::engine::limit_of(pipeline.tables()).is_tight() { 1 } else { tokio::sync::Semaphore::MAX_PERMITS };
    let runs_at_once = tokio::sync::Semaphore::new(runs_at_once);
    let turn = || async { runs_at_once.acquire().await.map_err(|e| Error::Query { origin: "report".into(), message: e.to_string() }) };
    // Month-grained KPIs over first..=last, and the samples of every month-grained KPI by month.
    let sliced_run = |first: YearMonth, last: YearMonth, kpis: Vec<Kpi>, with_samples: bool| {
        let (sliced, turn) = (&sliced, &turn);
        async move {
            let _turn = turn().await?;
            let params = pipeline.params(PeriodRequest::Months(first, last), setting.tuning)?;
            let ctx = pipeline.session(&params).await?;
            // The samples' queries queue for slots with the KPIs', not after them.
            let samples = async { if with_samples { Samples::collect_by_month(&ctx, sliced, true).await } else { Ok(HashMap::new()) } };
            let (outcomes, samples) = tokio::join!(kpi::run::run_parallel(&ctx, kpis), samples);
            let document = into_document(&params, outcomes)?;
            let samples = samples?;
            progress.advance();
            Ok::<_, Error>((document, samples))
        }
    };
    let compared_run = |month: Option<YearMonth>| {
        let sliced_run = &sliced_run;
        let kpis = sliced_compared.clone();
        async move {
            match month {
                Some(m) => sliced_run(m, m, kpis, true).await.map(Some),
                None => {
                    progress.advance();
                    Ok(None)
                }
            }
        }
    };
    let run = |first: YearMonth, last: YearMonth, kpis: &[Kpi], with_samples: bool, by: Option<Breakdown>| {
        let (kpis, turn) = (kpis.to_vec(), &turn);
        async move {
            let _turn = turn().await?;
            let params = pipeline.params(PeriodRequest::Months(first, last), setting.tuning)?.with_breakdown(by);
            let ctx = pipeline.session(&params).await?;
            let samples = async { if with_samples { Samples::collect(&ctx, &kpis).await } else { Ok(Samples::default()) } };
            let (outcomes, samples) = tokio::join!(kpi::run::run_parallel(&ctx, kpis.clone()), samples);
            let document = into_document(&params, outcomes)?;
            let samples = samples?;
            progress.advance();
            Ok::<_, Error>(Run { params, document, samples })
        }
    };
    // The KPIs at the cut-off describe the tickets as they stand then, whatever the period: only
    // the period's own run has them, and nothing compares them with another month.
    let per_period_compared: Vec<Kpi> = per_period.iter().filter(|k| !k.meta.at_cut_off).cloned().collect();
    let optional = |month: Option<YearMonth>, kpis: &[Kpi]| {
        let run = &run;
        let kpis = kpis.to_vec();
        async move {
            match month {
                Some(m) => run(m, m, &kpis, true, None).await.map(Some),
                None => {
                    progress.advance();
                    Ok(None)
                }
            }
        }
    };
    // Teams and services: the period and the month before, cut by service (groups are judged on
    // their own time, group_time, which runs with the period's KPIs).
    let team_kpis: Vec<Kpi> = setting.kpis.iter().filter(|k| sections::teams::KPIS.contains(&k.id.as_str())).cloned().collect();
    let team_first = recent_first;
    let ((span, _), recent, year_compared, trend_run, current, previous_run, year_ago_run, by_service) = runtime.block_on(async {
        tokio::try_join!(
            sliced_run(span_first, period, sliced_trend.clone(), false),
            sliced_run(recent_first, period, sliced_compared.clone(), true),
            compared_run(year_ago),
            run(window_first, period, &trend_apart, false, None),
            optional(Some(period), &per_period),
            optional(previous, &per_period_compared),
            optional(year_ago, &per_period_compared),
            run(team_first, period, &team_kpis, false, Some(Breakdown::Service)),
        )
    })?;
    // Each period's document and samples: its months of the trend run and of the compared run
    // that covers it, and its own run of the rest.
    let (recent, mut sliced_samples) = recent;
    let year_compared = year_compared.map(|(document, samples)| {
        sliced_samples.extend(samples);
        document
    });
    let mut complete = |run: Run| {
        let month = run.params.first.label();
        let compared = if run.params.first >= recent_first { &recent } else { year_compared.as_ref().expect("the year-ago month ran") };
        let mut samples = sliced_samples.remove(&month).unwrap_or_default();
        samples.merge(run.samples);
        let document = span.months(&run.params, &trend_ids).merged(compared.months(&run.params, &compared_ids), &order).merged(run.document, &order);
        Run { document, samples, params: run.params }
    };
    let mut current = complete(current.expect("the period always runs"));
    // kpis.json says what its values depend on: the SLA policy and the targets they are judged by.
    current.document.provenance = Provenance { targets_sha256: targets.sha256.clone(), ..pipeline.provenance() };
    let previous_run = previous_run.map(&mut complete);
    let year_ago_run = year_ago_run.map(&mut complete);
    let trend = Run { document: span.months(&trend_run.params, &trend_ids).merged(trend_run.document, &order), ..trend_run };
    // The runs over several months have given each period its months; what they hold besides
    // (a month's lists, twice over) is not needed again.
    drop((span, recent, year_compared));
    crate::engine::release_freed();
    let teams = [(Breakdown::Service, by_service.document)];
    let coverage = runtime.block_on(coverage(pipeline.tables()))?;
    let field_coverage = runtime.block_on(fields::coverage(pipeline.tables(), current.params.period_start, current.params.period_end, current.params.as_of))?;
    let evaluated = register.as_ref().map(|r| improvements::evaluate(r, pipeline, &setting.kpis, setting.tuning)).transpose()?;
    progress.finish();
    check_header_columns(&setting.kpis, &current.document)?;

    let baseline_values = baseline.as_ref().map(|doc| PeriodValues {
        label: format!("baseline ({} to {})", doc.window.first_month, doc.window.last_month),
        document: doc,
        samples: None,
        covered_hours: baseline_hours(doc),
    });
    let (current_values, previous_values, year_values) = (current.values(), previous_run.as_ref().map(Run::values), year_ago_run.as_ref().map(Run::values));
    let comparisons =
        compare::compare(&setting.kpis, &current_values, previous_values.as_ref(), year_values.as_ref(), baseline_values.as_ref(), &targets, peers.as_ref());
    let partial = (current.params.as_of < current.params.period_end)
        .then(|| current.covered_hours() / covered_hours(current.params.period_start, current.params.period_end, i64::MAX));
    // Actions are overdue by the last day the period's pack covers: the cut-off, or the period's
    // last day when the period ended before it.
    let last_day = chrono::DateTime::from_timestamp_micros(extent.as_of.min(period.next().start(timezone)) - 1)
        .map(|t| t.with_timezone(&timezone).date_naive())
        .unwrap_or_default();
    let month_notes = review_notes.as_ref().map(|n| n.for_month(period, last_day));
    let inputs = sections::Inputs {
        period,
        partial,
        as_of: rfc3339(extent.as_of),
        timezone: timezone.name().to_string(),
        window: trend.params.months(),
        trend: &trend.document,
        current: &current.document,
        current_samples: &current.samples,
        previous_label: previous.map(format::month_name),
        comparisons: &comparisons,
        targets: &targets,
        kpis: &setting.kpis,
        load: &pipeline.load,
        coverage,
        sla_description: if pipeline.policy.description.is_empty() { pipeline.policy.origin.clone() } else { pipeline.policy.description.clone() },
        notes,
        has_baseline: baseline.is_some(),
        has_year_ago: year_ago_run.is_some(),
        has_peers: peers.is_some(),
        improvements: register.as_ref().zip(evaluated.as_deref()).map(|(r, e)| (r.origin.as_str(), e)),
        teams: &teams,
        min_n: options.min_n,
        limits_from: options.limits_from,
        review_notes: month_notes.as_ref(),
        service: options.service.clone(),
        fields: &field_coverage,
        ticket_limit: options.ticket_limit,
    };
    let built = build::build(&inputs);
    let files = write(&options.out, &built, &current.document, month_notes.as_ref(), &comparisons, progress)?;
    Ok(Written { dir: options.out.clone(), files, period })
}

/// A run's document from its queries' outcomes, which go with it: what the queries freed goes
/// back to the system (see `release_freed`) before the next run or the pages are built.
fn into_document(params: &KpiParams, outcomes: Vec<kpi::run::KpiOutcome>) -> Result<KpiDocument> {
    kpi::run::failures(&outcomes)?;
    let document = KpiDocument::new(params, &outcomes)?;
    drop(outcomes);
    crate::engine::release_freed();
    Ok(document)
}

/// A header's `n:` or `significance:` that names a column the query does not return would
/// silently drop the n or the test; it is an error that names the file instead.
fn check_header_columns(kpis: &[Kpi], document: &KpiDocument) -> Result<()> {
    use kpi::SignificanceTest;
    for values in &document.kpis {
        let Some(kpi) = kpis.iter().find(|k| k.id == values.id) else { continue };
        let has = |column: &str| values.columns.iter().any(|c| c.name == column);
        let mut named: Vec<(&str, &str)> = kpi.meta.n.iter().map(|n| ("n", n.as_str())).collect();
        named.extend(kpi.meta.n_by_measure.iter().map(|(_, column)| ("n", column.as_str())));
        named.extend(kpi.meta.headline.iter().map(|h| ("headline", h.measure.as_str())));
        for clause in &kpi.meta.significance {
            named.extend(clause.measures.iter().map(|m| ("significance", m.as_str())));
            match &clause.test {
                SignificanceTest::Mean { .. } | SignificanceTest::Quantile { .. } | SignificanceTest::Rank { .. } => {}
                SignificanceTest::Proportion { successes, trials } => named.extend([("significance", successes.as_str()), ("significance", trials.as_str())]),
                SignificanceTest::Poisson { count } => named.push(("significance", count.as_str())),
            }
        }
        if let Some((key, column)) = named.into_iter().find(|(_, column)| !has(column)) {
            let columns: Vec<&str> = values.columns.iter().map(|c| c.name.as_str()).collect();
            return Err(Error::Query {
                origin: kpi.origin.clone(),
                message: format!("{}: header `{key}:` names column `{column}`, which the query does not return; it returns {}", kpi.id, columns.join(", ")),
            });
        }
    }
    Ok(())
}

fn baseline_hours(doc: &KpiDocument) -> f64 {
    let micros = |text: &str| chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_micros());
    match (micros(&doc.window.start), micros(&doc.window.end), micros(&doc.window.as_of)) {
        (Some(s), Some(e), Some(a)) => covered_hours(s, e, a),
        _ => f64::NAN,
    }
}

async fn coverage(ctx: &SessionContext) -> Result<sections::Coverage> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
    let batches = ctx.sql("SELECT count(*) AS n, min(opened_at) AS first, max(opened_at) AS last FROM incidents").await?.collect().await?;
    let batch = batches.first().ok_or_else(|| Error::Query { origin: "report".into(), message: "the incidents summary query returned nothing".into() })?;
    let n = batch.column(0).as_primitive::<Int64Type>().value(0) as u64;
    let stamp = |i: usize| {
        let column = batch.column(i).as_primitive::<TimestampMicrosecondType>();
        column.is_valid(0).then(|| rfc3339(column.value(0)))
    };
    Ok(sections::Coverage { incidents: n, first_opened: stamp(1), last_opened: stamp(2) })
}

/// The report's kpis.json: the period's KPI document, and after it the process-behaviour charts
/// (readers of kpis.json that do not know them pass over them). A struct rather than a JSON map,
/// so the keys keep the document's order whatever serde_json's features.
#[derive(serde::Serialize)]
struct ReportKpis<'a> {
    #[serde(flatten)]
    document: &'a KpiDocument,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    process_behaviour: &'a [crate::evidence::xmr::ProcessChart],
    /// The first page's lists, each whole (the page shows the first `LIST_LIMIT`).
    attention: &'a sections::attention::Attention,
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<&'a notes::MonthNotes>,
    /// Every month the line charts show (trend.csv holds the same).
    trend: &'a [trend::TrendSeries],
    /// How many of the period's incidents carry each optional field the KPIs use.
    coverage: &'a fields::Coverage,
}

fn write(
    dir: &Path,
    built: &build::Built,
    current: &KpiDocument,
    notes: Option<&notes::MonthNotes>,
    comparisons: &[Comparison],
    progress: &Progress,
) -> Result<Vec<PathBuf>> {
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(&charts_dir).map_err(|e| Error::io(&charts_dir, e))?;
    // The charts draw on rayon's threads while the other files render beside them; only the HTML
    // waits for the SVGs it embeds. Each file goes to disk as it renders, not as one buffer: for a
    // month of 0.9 M incidents, kpis.json, kpis.csv and benchmark.csv come to 480 MB.
    let names = ["report.md", "kpis.json", "kpis.csv", "benchmark.csv", "trend.csv", "tickets.csv"];
    let (svgs, written) = rayon::join(
        || draw_charts(&built.charts, &charts_dir, true, progress),
        || -> Result<()> {
            put_bytes(dir, "report.md", markdown::render(&built.document).as_bytes())?;
            put(dir, "kpis.json", |out| {
                let kpis = ReportKpis {
                    document: current,
                    process_behaviour: &built.process,
                    attention: &built.attention,
                    notes,
                    trend: &built.trend,
                    coverage: &built.fields,
                };
                serde_json::to_writer_pretty(&mut *out, &kpis)?;
                out.write_all(b"\n").map_err(|e| Error::io(dir.join("kpis.json"), e))
            })?;
            put(dir, "kpis.csv", |out| crate::render::kpis::csv(current, out))?;
            put(dir, "benchmark.csv", |out| benchmark_csv(comparisons, out))?;
            put_bytes(dir, "trend.csv", &trend::csv(&built.trend)?)?;
            put_bytes(dir, "tickets.csv", &sections::tickets::csv(&built.tickets)?)
        },
    );
    let svgs = svgs?;
    written?;
    put_bytes(dir, "report.html", html::render(&built.document, &|name| svgs.get(name).cloned()).as_bytes())?;
    let mut files: Vec<PathBuf> = std::iter::once("report.html").chain(names).map(|name| dir.join(name)).collect();
    for chart in &built.charts {
        files.push(charts_dir.join(format!("{}.svg", chart.name)));
        files.push(charts_dir.join(format!("{}.png", chart.name)));
    }
    Ok(files)
}

/// Draws each chart as `dir/<name>.svg` and `dir/<name>.png`, in parallel on rayon unless
/// `parallel` is false (for measuring what that gains); returns each SVG by chart name.
pub fn draw_charts(charts: &[charts::Chart], dir: &Path, parallel: bool, progress: &Progress) -> Result<HashMap<String, String>> {
    progress.stage("drawing charts", charts.len() as u64);
    let draw = |chart: &charts::Chart| -> Result<(String, String)> {
        let svg = chart.svg()?;
        let svg_path = dir.join(format!("{}.svg", chart.name));
        std::fs::write(&svg_path, &svg).map_err(|e| Error::io(&svg_path, e))?;
        chart.png(&dir.join(format!("{}.png", chart.name)))?;
        progress.advance();
        Ok((chart.name.clone(), svg))
    };
    let rendered: Vec<(String, String)> =
        if parallel { charts.par_iter().map(draw).collect::<Result<_>>()? } else { charts.iter().map(draw).collect::<Result<_>>()? };
    progress.finish();
    Ok(rendered.into_iter().collect())
}

/// Writes `dir/name` through a buffer with `render`.
fn put(dir: &Path, name: &str, render: impl FnOnce(&mut dyn std::io::Write) -> Result<()>) -> Result<()> {
    let path = dir.join(name);
    let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    render(&mut out)?;
    std::io::Write::flush(&mut out).map_err(|e| Error::io(&path, e))
}

fn put_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
}

/// Every comparison, one line per KPI row and measure; text cells neutralised against formulas.
fn benchmark_csv(comparisons: &[Comparison], out: &mut dyn std::io::Write) -> Result<()> {
    use crate::escape::spreadsheet_safe;
    let mut writer = csv::Writer::from_writer(out);
    let number = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let csv_error = |e: csv::Error| Error::io("benchmark.csv", std::io::Error::other(e));
    writer
        .write_record([
            "kpi",
            "key",
            "measure",
            "better",
            "value",
            "value_low",
            "value_high",
            "n",
            "previous",
            "previous_n",
            "previous_p_value",
            "previous_q_value",
            "year_ago",
            "year_ago_n",
            "year_ago_p_value",
            "year_ago_q_value",
            "target",
            "target_met",
            "baseline",
            "baseline_n",
            "baseline_p_value",
            "baseline_q_value",
            "peer_p25",
            "peer_median",
            "peer_p75",
        ])
        .map_err(csv_error)?;
    for c in comparisons {
        let side = |v: &Option<compare::Versus>| {
            (
                number(v.as_ref().and_then(|v| v.value)),
                number(v.as_ref().and_then(|v| v.n)),
                number(v.as_ref().and_then(|v| v.test).map(|t| t.p_value)),
                number(v.as_ref().and_then(|v| v.q_value)),
            )
        };
        let (previous, previous_n, previous_p, previous_q) = side(&c.previous);
        let (year, year_n, year_p, year_q) = side(&c.year_ago);
        let (baseline, baseline_n, baseline_p, baseline_q) = side(&c.baseline);
        let peer = c.peer.as_ref().map(|p| &p.quartiles);
        writer
            .write_record([
                c.kpi.clone(),
                spreadsheet_safe(&c.key).into_owned(),
                c.measure.clone(),
                c.better.word().to_string(),
                number(c.value),
                number(c.interval.map(|i| i.0)),
                number(c.interval.map(|i| i.1)),
                number(c.n),
                previous,
                previous_n,
                previous_p,
                previous_q,
                year,
                year_n,
                year_p,
                year_q,
                number(c.target.as_ref().map(|t| t.value)),
                c.target.as_ref().map(|t| t.met.to_string()).unwrap_or_default(),
                baseline,
                baseline_n,
                baseline_p,
                baseline_q,
                number(peer.map(|q| q.p25)),
                number(peer.map(|q| q.median)),
                number(peer.map(|q| q.p75)),
            ])
            .map_err(csv_error)?;
    }
    writer.flush().map_err(|e| Error::io("benchmark.csv", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_period_is_the_latest_month_whose_last_day_the_data_reaches() {
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_micros();
        let month = |text: &str| text.parse::<YearMonth>().unwrap();
        let first = month("2025-11");
        let utc = chrono_tz::UTC;
        assert_eq!(default_period(at("2026-11-01T00:00:00Z"), first, utc), month("2026-10"), "midnight belongs to the day before");
        assert_eq!(default_period(at("2026-10-31T23:32:26Z"), first, utc), month("2026-10"));
        assert_eq!(default_period(at("2026-10-31T00:00:00Z"), first, utc), month("2026-09"), "the 31st itself is not reached");
        assert_eq!(default_period(at("2026-11-02T12:04:51Z"), first, utc), month("2026-10"));
        assert_eq!(default_period(at("2025-11-16T00:00:00Z"), first, utc), month("2025-11"), "data of less than a month reports its only month");
        // In Amsterdam, 23:30 UTC on 31 October is already 1 November: November is two days short.
        let amsterdam: Tz = "Europe/Amsterdam".parse().unwrap();
        assert_eq!(default_period(at("2026-10-31T23:30:00Z"), first, amsterdam), month("2026-10"));
        // 31 October 2027 lasts 25 hours in Amsterdam (clocks go back): it starts at 22:00 UTC on the
        // 30th, so half an hour later the data reaches it. The next month's start minus 24 hours
        // would put its start an hour late, at 23:00 UTC, and report September.
        assert_eq!(default_period(at("2027-10-30T22:30:00Z"), month("2026-11"), amsterdam), month("2027-10"));
    }
}
