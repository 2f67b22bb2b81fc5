//! The command line: exit codes, output formats, global flags, and repeatable loads.

use predicates::str::contains;

use crate::util::{fixture, mttx};

#[test]
fn sql_prints_table_csv_and_json() {
    let input = fixture("formats/incidents.csv");
    let query = "SELECT id, priority, service FROM incidents ORDER BY id";
    mttx()
        .args(["sql", "--input"])
        .arg(&input)
        .arg(query)
        .assert()
        .success()
        .stdout(contains("| INC001 | 1        | Payments, EU |"))
        .stdout(contains("3 row(s)"));
    mttx()
        .args(["sql", "--format", "csv", "--input"])
        .arg(&input)
        .arg(query)
        .assert()
        .success()
        .stdout("id,priority,service\nINC001,1,\"Payments, EU\"\nINC002,3,Email\nINC003,2,Payments\n");
    let out = mttx().args(["sql", "-f", "json", "-i"]).arg(&input).arg(query).output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["service"], "Payments, EU");
    assert_eq!(rows.as_array().unwrap().len(), 3);
}

#[test]
fn every_canonical_table_is_queryable_even_when_empty() {
    mttx()
        .args(["sql", "--input"])
        .arg(fixture("formats/incidents.csv"))
        .arg("SELECT (SELECT count(*) FROM problems) p, (SELECT count(*) FROM changes) c, (SELECT count(*) FROM cis) ci, (SELECT count(*) FROM events) e")
        .assert()
        .success()
        .stdout(contains("| 0 | 0 | 0  | 0 |"));
}

#[test]
fn sql_errors_exit_2_with_the_engine_message() {
    mttx().args(["sql", "--input"]).arg(fixture("formats/incidents.csv")).arg("SELECT nope FROM incidents").assert().code(2).stderr(contains("nope"));
}

#[test]
fn sql_warns_about_rejected_rows() {
    mttx()
        .args(["sql", "--input"])
        .arg(fixture("bad/incidents.csv"))
        .arg("SELECT count(*) FROM incidents")
        .assert()
        .success()
        .stderr(contains("rejected 7"))
        .stderr(contains("--rejects FILE"));
}

#[test]
fn bad_global_flags_say_which_flag() {
    let input = fixture("formats/incidents.csv");
    mttx().args(["--as-of", "last tuesday", "sql", "-i"]).arg(&input).arg("SELECT 1").assert().code(2).stderr(contains("--as-of last tuesday"));
    mttx().args(["--timezone", "Mars/Base", "sql", "-i"]).arg(&input).arg("SELECT 1").assert().code(2).stderr(contains("--timezone Mars/Base"));
    mttx().args(["sql", "-i", "/no/such/dir", "SELECT 1"]).assert().code(2).stderr(contains("--input /no/such/dir"));
    mttx().args(["frobnicate"]).assert().code(2);
}

#[test]
fn the_same_load_gives_byte_identical_output() {
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str| {
        mttx()
            .args(["--as-of", "2026-11-01", "load", "--input"])
            .arg(fixture("formats/incidents.csv"))
            .arg("--input")
            .arg(fixture("bad/incidents.csv"))
            .arg("--out")
            .arg(dir.path().join(out))
            .assert()
            .success();
    };
    run("a");
    run("b");
    for name in ["incidents.parquet", "problems.parquet", "changes.parquet", "cis.parquet", "events.parquet", "rejects.csv", "summary.json"] {
        let a = std::fs::read(dir.path().join("a").join(name)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(name)).unwrap();
        assert!(a == b, "{name} differs between runs");
    }
}

#[test]
fn load_output_reads_back_through_the_canonical_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    mttx().args(["load", "--input"]).arg(fixture("formats/incidents.csv")).arg("--out").arg(&out).assert().success();
    mttx().args(["sql", "--format", "csv", "--input"]).arg(&out).arg("SELECT count(*) AS n FROM incidents").assert().success().stdout("n\n3\n");
}

/// Chunks are converted in parallel windows; the output must still be in file order. The sample
/// events (85,489 rows: eleven chunks, three windows) have ascending ids in their file.
#[test]
fn parallel_conversion_keeps_file_order() {
    use datafusion::arrow::array::AsArray;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let dir = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/events.parquet");
    mttx().args(["load", "--input"]).arg(&sample).arg("--out").arg(dir.path()).assert().success();
    let file = std::fs::File::open(dir.path().join("events.parquet")).unwrap();
    let mut ids = Vec::new();
    for batch in ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap() {
        let batch = batch.unwrap();
        ids.extend(batch.column(0).as_string::<i32>().iter().map(|v| v.unwrap().to_string()));
    }
    assert_eq!(ids.len(), 85_489);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "rows out of file order");
}
