//! The whole KPI suite on 1,000,000 generated incidents (with their problems, changes, CIs and
//! events): all queries at once on one session, and one after another, so the gain from running
//! them concurrently is visible. The data is generated when the bench starts.

use criterion::{Criterion, criterion_group, criterion_main};
use mttx::generate::{FormatLayout, GenerateOptions, generate};
use mttx::kpi::{self, KpiParams, PeriodRequest, Tuning, run};
use mttx::pipeline::{Open, Pipeline};
use mttx::progress::Progress;
use mttx::write::OutputFormat;

const INCIDENTS: usize = 1_000_000;

/// The generated data opened through the pipeline, with the whole window's parameters.
fn pipeline(dir: &std::path::Path) -> (Pipeline, KpiParams) {
    generate(&GenerateOptions {
        out: dir.to_path_buf(),
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
    let inputs = [dir.to_path_buf()];
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
    let params = pipeline.params(PeriodRequest::All, Tuning::default()).unwrap();
    (pipeline, params)
}

fn suite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, params) = pipeline(dir.path());
    let ctx = pipeline.runtime().block_on(pipeline.session(&params)).unwrap();
    let kpis = kpi::select(None, &[]).unwrap();
    let runtime = pipeline.runtime();
    let mut group = c.benchmark_group("kpi_suite_1m_incidents");
    group.sample_size(10);
    group.bench_function("parallel", |b| {
        b.iter(|| {
            let outcomes = runtime.block_on(run::run_parallel(&ctx, kpis.clone()));
            assert!(outcomes.iter().all(|o| o.result.is_ok()));
        })
    });
    group.bench_function("serial", |b| {
        b.iter(|| {
            let outcomes = runtime.block_on(run::run_serial(&ctx, kpis.clone()));
            assert!(outcomes.iter().all(|o| o.result.is_ok()));
        })
    });
    group.finish();
}

criterion_group!(benches, suite);
criterion_main!(benches);
