//! The whole KPI suite on 1,000,000 generated incidents (with their problems, changes, CIs and
//! events): all queries at once on one session, and one after another, so the gain from running
//! them concurrently is visible. The data is generated when the bench starts.

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::prelude::SessionContext;
use mttx::generate::{FormatLayout, GenerateOptions, generate};
use mttx::ingest::{self, LoadOptions, MemorySink, Profile, RejectsCsv};
use mttx::kpi::{self, PeriodRequest, SlaPolicy, Tuning, run};
use mttx::write::OutputFormat;

const INCIDENTS: usize = 1_000_000;

fn session(runtime: &tokio::runtime::Runtime) -> SessionContext {
    let dir = tempfile::tempdir().unwrap();
    generate(&GenerateOptions {
        out: dir.path().to_path_buf(),
        incidents: INCIDENTS,
        months: 12,
        start: chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
        seed: 7,
        layout: FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: false },
    })
    .unwrap();
    let mut tables = MemorySink::default();
    let profile = Profile::resolve("canonical").unwrap();
    ingest::load(&[dir.path().to_path_buf()], &profile, &LoadOptions::default(), &mut tables, &mut RejectsCsv::discard()).unwrap();
    let ctx = mttx::engine::session("UTC");
    mttx::engine::register(&ctx, tables).unwrap();
    let policy = SlaPolicy::default_policy().unwrap();
    runtime.block_on(kpi::prepare(&ctx, PeriodRequest::All, None, chrono_tz::UTC, Tuning::default(), &policy)).unwrap();
    ctx
}

fn suite(c: &mut Criterion) {
    let runtime = mttx::commands::runtime().unwrap();
    let ctx = session(&runtime);
    let kpis = kpi::select(None, &[]).unwrap();
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
