//! `mttx report`: the whole report (four KPI runs, comparisons, charts, files) on 200,000 generated
//! incidents, and the chart drawing alone, in parallel on rayon and one chart after another, so
//! the gain from drawing in parallel is visible. The data is generated when the bench starts.

use criterion::{Criterion, criterion_group, criterion_main};
use mttx::generate::{FormatLayout, GenerateOptions, generate};
use mttx::kpi::Tuning;
use mttx::pipeline::{Open, Pipeline};
use mttx::progress::Progress;
use mttx::report::charts::{BarSeries, Bars, BoxStats, Boxes, Chart, ChartKind, LineSeries, Lines};
use mttx::report::{self, ReportOptions, Setting};
use mttx::write::OutputFormat;

const INCIDENTS: usize = 200_000;

fn whole_report(c: &mut Criterion) {
    let data = tempfile::tempdir().unwrap();
    generate(&GenerateOptions {
        out: data.path().to_path_buf(),
        incidents: INCIDENTS,
        months: 12,
        start: chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
        seed: 7,
        layout: FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: false },
        shift: None,
        shape: Default::default(),
        id_prefix: String::new(),
    })
    .unwrap();
    let inputs = [data.path().to_path_buf()];
    let open = Open {
        inputs: &inputs,
        profile: "canonical",
        timezone: chrono_tz::UTC,
        as_of: None,
        sla: None,
        rejects: None,
        memory_limit: Default::default(),
        engine: Default::default(),
    };
    let pipeline = Pipeline::open(&open, &Progress::hidden(), &mut std::io::sink()).unwrap();
    let setting = Setting { kpis: mttx::kpi::select(None, &[]).unwrap(), tuning: Tuning::default(), pipeline: &pipeline };
    let out = tempfile::tempdir().unwrap();
    let options = ReportOptions {
        period: None,
        months: 13,
        benchmark: None,
        baseline: None,
        targets: None,
        improvements: None,
        min_n: 10,
        limits_from: None,
        notes: None,
        service: None,
        ticket_limit: mttx::report::sections::tickets::DEFAULT_LIMIT,
        out: out.path().to_path_buf(),
    };
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.bench_function("200k_incidents_end_to_end_after_load", |b| b.iter(|| report::generate(&setting, &options, &Progress::hidden()).unwrap()));
    group.finish();
}

/// Eleven charts shaped like a report's: trends of 13 months × 5 priorities with whiskers,
/// grouped and horizontal bars, and box plots.
fn report_like_charts() -> Vec<Chart> {
    let months: Vec<String> = (0..13).map(|m| format!("M{m}")).collect();
    let line = |name: &str, whiskers: bool| Chart {
        name: name.into(),
        title: format!("{name} by priority"),
        kind: ChartKind::Lines(Lines {
            x_labels: months.clone(),
            x_desc: "month".into(),
            y_desc: "hours".into(),
            series: (1..=5)
                .map(|p| LineSeries {
                    name: format!("P{p}"),
                    values: (0..13).map(|m| Some((p * p) as f64 * (1.0 + 0.05 * (m % 4) as f64))).collect(),
                    whiskers: whiskers.then(|| (0..13).map(|m| Some((p * p) as f64 * (2.5 + 0.1 * (m % 3) as f64))).collect()),
                })
                .collect(),
            whisker_label: whiskers.then(|| "p50 to p90".into()),
            references: Vec::new(),
            log_y: whiskers,
            band: None,
        }),
    };
    let bars = |name: &str, horizontal: bool| Chart {
        name: name.into(),
        title: name.into(),
        kind: ChartKind::Bars(Bars {
            categories: (0..if horizontal { 10 } else { 5 }).map(|i| format!("CI{i:05}")).collect(),
            category_desc: "category".into(),
            value_desc: "%".into(),
            series: (0..if horizontal { 1 } else { 2 })
                .map(|s| BarSeries { name: format!("series {s}"), values: (0..10).map(|i| Some(90.0 + i as f64 + s as f64)).collect() })
                .collect(),
            references: Vec::new(),
            horizontal,
            value_range: horizontal.then_some((80.0, 100.0)),
            label_decimals: 1,
            label_suffix: "%".into(),
        }),
    };
    let boxes = Chart {
        name: "boxes".into(),
        title: "boxes".into(),
        kind: ChartKind::Boxes(Boxes {
            categories: (1..=5).map(|p| format!("P{p}")).collect(),
            category_desc: "priority".into(),
            value_desc: "hours".into(),
            boxes: (1..=5)
                .map(|p| Some(BoxStats { p10: p as f64, p25: 2.0 * p as f64, p50: 3.0 * p as f64, p75: 5.0 * p as f64, p90: 9.0 * p as f64, n: 100 }))
                .collect(),
            legend: "box".into(),
        }),
    };
    vec![
        line("mtta", true),
        line("mttd", true),
        line("mttr", true),
        boxes,
        bars("sla", false),
        bars("ci", true),
        bars("service", true),
        line("incidents", false),
        line("problems", false),
        line("changes", false),
        bars("patches", false),
    ]
}

fn charts(c: &mut Criterion) {
    let charts = report_like_charts();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("report_charts");
    group.sample_size(20);
    group.bench_function("11_charts_parallel", |b| b.iter(|| report::draw_charts(&charts, dir.path(), true, &Progress::hidden()).unwrap()));
    group.bench_function("11_charts_serial", |b| b.iter(|| report::draw_charts(&charts, dir.path(), false, &Progress::hidden()).unwrap()));
    group.finish();
}

criterion_group!(benches, charts, whole_report);
criterion_main!(benches);
