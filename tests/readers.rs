//! Every reader (CSV, CSV with BOM/semicolons/CRLF, JSON array, NDJSON, Parquet), plain and
//! gzipped, yields the same canonical rows from the same three incidents.

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use mttx::model::Table;
use mttx::write::{OutputFormat, TableWriter};

use crate::util::{fixture, gzip, load, table};

fn incidents_from(path: &std::path::Path) -> RecordBatch {
    let (sink, summary) = load(&[path.to_path_buf()], "canonical", None).unwrap();
    let t = summary.total();
    assert_eq!((t.read, t.loaded, t.rejected), (3, 3, 0), "{}: {summary:#?}", path.display());
    table(&sink, Table::Incidents)
}

fn micros(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_micros()
}

#[test]
fn csv_values_are_parsed_exactly() {
    let batch = incidents_from(&fixture("formats/incidents.csv"));
    let col = |name: &str| batch.column_by_name(name).unwrap().clone();
    let opened = col("opened_at");
    let opened = opened.as_primitive::<TimestampMicrosecondType>();
    // INC002 has no offset: read in the canonical profile's zone, UTC.
    // INC003 is 23:00 at +01:00, i.e. 22:00 UTC.
    assert_eq!(opened.value(1), micros("2026-10-02T09:15:00Z"));
    assert_eq!(opened.value(2), micros("2026-10-31T22:00:00Z"));
    let service = col("service");
    assert_eq!(service.as_string::<i32>().value(0), "Payments, EU");
    let group = col("assignment_group");
    assert_eq!(group.as_string::<i32>().value(1), "Desk \"Tier 1\"");
    let resolved = col("resolved_at");
    assert!(resolved.is_null(1), "an empty cell is null");
    let major = col("major");
    assert!(major.as_boolean().value(0));
    assert!(col("source_made_sla").is_null(1));
}

#[test]
fn every_reader_and_gzip_agree() {
    let expected = incidents_from(&fixture("formats/incidents.csv"));
    let dir = tempfile::tempdir().unwrap();
    let mut paths = vec![fixture("formats/incidents_excel.csv"), fixture("formats/incidents.json"), fixture("formats/incidents.ndjson")];
    for name in ["incidents.csv", "incidents_excel.csv", "incidents.json", "incidents.ndjson"] {
        let gz = dir.path().join(format!("{name}.gz"));
        gzip(&fixture(&format!("formats/{name}")), &gz);
        paths.push(gz);
    }
    let parquet = dir.path().join("incidents.parquet");
    let mut writer = TableWriter::create(&parquet, OutputFormat::Parquet, false, Table::Incidents.schema()).unwrap();
    writer.write(&expected).unwrap();
    writer.finish().unwrap();
    let parquet_gz = dir.path().join("incidents_copy.parquet.gz");
    gzip(&parquet, &parquet_gz);
    paths.push(parquet);
    paths.push(parquet_gz);
    for path in paths {
        assert_eq!(incidents_from(&path), expected, "{}", path.display());
    }
}

#[test]
fn a_directory_is_read_in_path_order_and_unrelated_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("formats/incidents.csv"), dir.path().join("incidents.csv")).unwrap();
    std::fs::write(dir.path().join("README.md"), "not data").unwrap();
    std::fs::write(dir.path().join("notes.csv"), "a,b\n1,2\n").unwrap();
    let (_, summary) = load(&[dir.path().to_path_buf()], "canonical", None).unwrap();
    assert_eq!(summary.total().loaded, 3);
    let skipped: Vec<&str> = summary.skipped.iter().map(|s| s.path.rsplit('/').next().unwrap()).collect();
    assert_eq!(skipped, ["README.md", "notes.csv"]);
}

/// Typed Parquet columns convert with Arrow kernels and CSV cells through text: the same generated
/// data in both formats loads into the same tables, with the same rejects by reason.
#[test]
fn typed_and_text_columns_load_alike() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["csv", "parquet"] {
        let out = dir.path().join(format);
        crate::util::mttx().args(["generate", "--incidents", "3000", "--months", "3", "--seed", "5", "--format", format, "--out"]).arg(&out).assert().success();
    }
    let (csv, csv_summary) = load(&[dir.path().join("csv")], "canonical", None).unwrap();
    let (parquet, parquet_summary) = load(&[dir.path().join("parquet")], "canonical", None).unwrap();
    for t in Table::ALL {
        let rows = table(&csv, t);
        assert!(rows.num_rows() > 0 || t == Table::Events, "{t} has rows");
        assert_eq!(table(&parquet, t), rows, "{t}");
    }
    assert_eq!(parquet_summary.rejects_by_reason, csv_summary.rejects_by_reason);
    assert_eq!(parquet_summary.total().loaded, csv_summary.total().loaded);
}
