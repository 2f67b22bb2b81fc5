//! Load throughput: generated exports (data made at bench time, never committed) loaded through
//! the canonical profile, CSV and Parquet, into a sink that only counts rows.

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::record_batch::RecordBatch;
use mttx::generate::{FormatLayout, GenerateOptions, generate};
use mttx::ingest::{self, LoadOptions, Profile, RejectsCsv, TableSink};
use mttx::model::Table;
use mttx::write::OutputFormat;

const INCIDENTS: usize = 200_000;

struct CountingSink(u64);

impl TableSink for CountingSink {
    fn write(&mut self, _: Table, batch: RecordBatch) -> mttx::Result<()> {
        self.0 += batch.num_rows() as u64;
        Ok(())
    }
}

fn generated(dir: &std::path::Path, format: OutputFormat) -> PathBuf {
    let out = dir.join(format.extension());
    generate(&GenerateOptions {
        out: out.clone(),
        incidents: INCIDENTS,
        months: 12,
        start: chrono::NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
        seed: 1,
        layout: FormatLayout::Uniform { format, gzip: false },
        shift: None,
        shape: Default::default(),
        id_prefix: String::new(),
    })
    .expect("generate bench data");
    out.join(format!("incidents.{}", format.extension()))
}

fn load_incidents(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let profile = Profile::resolve("canonical").unwrap();
    let mut group = c.benchmark_group("load_incidents");
    group.sample_size(10);
    group.throughput(Throughput::Elements(INCIDENTS as u64));
    for format in [OutputFormat::Csv, OutputFormat::Parquet] {
        let input = generated(dir.path(), format);
        group.bench_function(format.extension(), |b| {
            b.iter(|| {
                let mut sink = CountingSink(0);
                let mut rejects = RejectsCsv::discard();
                ingest::load(std::slice::from_ref(&input), &profile, &LoadOptions::default(), &mut sink, &mut rejects).unwrap();
                assert_eq!(sink.0, INCIDENTS as u64);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, load_incidents);
criterion_main!(benches);
