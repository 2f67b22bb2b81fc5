//! Generator throughput: incidents (with their problems, changes, CIs and events) per second,
//! written as Parquet.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mttx::generate::{FormatLayout, GenerateOptions, generate};
use mttx::write::OutputFormat;

const INCIDENTS: usize = 200_000;

fn generate_parquet(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("generate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(INCIDENTS as u64));
    group.bench_function("parquet", |b| {
        b.iter(|| {
            generate(&GenerateOptions {
                out: dir.path().join("gen"),
                incidents: INCIDENTS,
                months: 12,
                start: chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
                seed: 1,
                layout: FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: false },
                shift: None,
                shape: Default::default(),
                id_prefix: String::new(),
            })
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, generate_parquet);
criterion_main!(benches);
