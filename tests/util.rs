//! Shared helpers: fixture paths, in-memory loads, and the CLI under test.

use std::path::{Path, PathBuf};

use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::record_batch::RecordBatch;
use mttx::ingest::{self, LoadOptions, LoadSummary, MemorySink, Profile, RejectsCsv};
use mttx::model::Table;
use serde_json::Value;

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

pub fn mttx() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_mttx"))
}

/// Loads `inputs` with `profile` into memory; returns the tables and the summary.
pub fn load(inputs: &[PathBuf], profile: &str, as_of: Option<&str>) -> mttx::Result<(MemorySink, LoadSummary)> {
    let profile = Profile::resolve(profile)?;
    let as_of = as_of.map(|s| mttx::time::parse_iso(s, chrono_tz::UTC).expect("test as-of parses"));
    let mut tables = MemorySink::default();
    let mut rejects = RejectsCsv::discard();
    let summary = ingest::load(inputs, &profile, &LoadOptions { as_of, ..LoadOptions::default() }, &mut tables, &mut rejects)?;
    assert!(summary.reconciles(), "read = loaded + merged + rejected must hold: {summary:#?}");
    Ok((tables, summary))
}

/// One table's rows as a single batch (empty with the canonical schema when nothing loaded).
pub fn table(sink: &MemorySink, table: Table) -> RecordBatch {
    let batches = sink.tables.get(&table).cloned().unwrap_or_default();
    concat_batches(&table.schema(), &batches).expect("canonical batches share a schema")
}

pub fn gzip(src: &Path, dst: &Path) {
    use std::io::Write;
    let bytes = std::fs::read(src).unwrap();
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(dst).unwrap(), flate2::Compression::default());
    enc.write_all(&bytes).unwrap();
    enc.finish().unwrap();
}

/// Reads a rejects CSV into rows of (row, column, value, code, reason).
pub fn rejects(path: &Path) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

/// The directory of a store's first load: its rejects.csv and summary.json.
pub fn first_load(store: &Path) -> PathBuf {
    store.join("loads/000001")
}

/// Equal JSON, where floats may differ in their last bits: a store's rows come sorted, so parallel
/// sums add them in another order. |a − b| ≤ 1e-9 · max(1, |a|).
pub fn same(a: &Value, b: &Value, at: &str) {
    same_within(a, b, at, 1e-9);
}

/// Equal JSON, floats within `tolerance` · max(1, |a|).
pub fn same_within(a: &Value, b: &Value, at: &str, tolerance: f64) {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths");
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same_within(x, y, &format!("{at}[{i}]"), tolerance);
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            assert_eq!(x.keys().collect::<Vec<_>>(), y.keys().collect::<Vec<_>>(), "{at}: keys");
            for (k, v) in x {
                same_within(v, &y[k], &format!("{at}.{k}"), tolerance);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= tolerance * x.abs().max(1.0), "{at}: {x} vs {y}");
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

/// A KPI's rows in a kpis.json document.
pub fn kpi_rows<'a>(doc: &'a Value, kpi: &str) -> &'a Vec<Value> {
    doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == kpi).unwrap_or_else(|| panic!("no {kpi}"))["rows"].as_array().unwrap()
}

/// A count as the report writes it: 1,698.
pub fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
