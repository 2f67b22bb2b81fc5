//! Bad input: every row-level problem becomes a reject naming file, row, column, value and reason,
//! and rejects + loaded = read; a file that cannot be read at all stops with an error naming it.

use std::path::PathBuf;

use crate::util::{fixture, mttx, rejects};

/// tests/fixtures/bad/incidents.csv, loaded with --as-of 2026-11-01, holds ten records:
///   1 INC100  good                                  → loaded
///   2 INC101  opened_at `2026-13-45 25:00`          → unparseable_timestamp
///   3 INC102  resolved a day before opened          → negative_duration
///   4 INC103  resolved 2026-12-01, after --as-of    → loaded, open: resolved_at null at the cut-off
///   5 INC104  priority 7                            → out_of_range
///   6 INC105  four fields under a five-field header → malformed_row
///   7 INC100  again                                 → duplicate_id, naming record 1
///   8 INC106  opened_at empty                       → missing_required
///   9 INC107  major `maybe`                         → invalid_boolean
///  10 INC108  good                                  → loaded
/// So read 10 = loaded 3 + rejected 7.
#[test]
fn every_bad_row_is_rejected_with_its_reason() {
    let out = tempfile::tempdir().unwrap();
    let assert = mttx().args(["--as-of", "2026-11-01", "load", "--input"]).arg(fixture("bad/incidents.csv")).arg("--out").arg(out.path()).assert().success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("total") && stdout.contains("10") && stdout.contains("7"), "{stdout}");

    let rows = rejects(&crate::util::first_load(out.path()).join("rejects.csv"));
    let got: Vec<(String, String, String)> = rows.iter().map(|r| (r[1].clone(), r[4].clone(), r[6].clone())).collect();
    let expected = [
        ("2", "opened_at", "unparseable_timestamp"),
        ("3", "resolved_at", "negative_duration"),
        ("5", "priority", "out_of_range"),
        ("6", "", "malformed_row"),
        ("7", "id", "duplicate_id"),
        ("8", "opened_at", "missing_required"),
        ("9", "major", "invalid_boolean"),
    ];
    let expected: Vec<(String, String, String)> = expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, expected);
    for row in &rows {
        assert!(row[0].ends_with("incidents.csv"), "the file is named: {row:?}");
        assert!(!row[7].is_empty(), "every reject has a reason: {row:?}");
    }
    let reason = |code: &str| rows.iter().find(|r| r[6] == code).unwrap()[7].clone();
    assert!(reason("duplicate_id").contains("record 1"), "{}", reason("duplicate_id"));
    assert!(reason("unparseable_timestamp").contains("2026-13-45 25:00"));
    assert!(reason("malformed_row").contains("4 fields") && reason("malformed_row").contains("header has 5"));
    assert_eq!(rows.iter().find(|r| r[6] == "malformed_row").unwrap()[2], "7", "CSV rejects carry the line");
    // See: issue 10. The ticket's id is the last column, where one was read: users look tickets up
    // by number. A malformed row could not be split into columns, so it has none.
    let header = csv::Reader::from_path(crate::util::first_load(out.path()).join("rejects.csv")).unwrap().headers().unwrap().clone();
    assert_eq!(header.iter().collect::<Vec<_>>(), ["file", "row", "line", "table", "column", "value", "code", "reason", "id"]);
    let ids: Vec<&str> = rows.iter().map(|r| r[8].as_str()).collect();
    assert_eq!(ids, ["INC101", "INC102", "INC104", "", "INC100", "INC106", "INC107"]);

    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(crate::util::first_load(out.path()).join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["summary_version"], 2, "rejects.csv gained a column");
    let file = &summary["files"][0];
    assert_eq!((file["read"].as_u64(), file["loaded"].as_u64(), file["rejected"].as_u64()), (Some(10), Some(3), Some(7)));
    // INC103, resolved after the cut-off, is open as it stood then.
    let out = mttx().args(["sql", "--format", "csv", "--input"]).arg(out.path()).arg("SELECT id, resolved_at FROM incidents ORDER BY id").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("INC103,\n"), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(summary["rejects_by_reason"]["duplicate_id"], 1);
}

#[test]
fn strict_turns_rejects_into_exit_code_2() {
    let out = tempfile::tempdir().unwrap();
    mttx()
        .args(["load", "--strict", "--input"])
        .arg(fixture("bad/incidents.csv"))
        .arg("--out")
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("rejected and --strict was given"));
}

fn load_fails(file_name: &str, contents: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join(file_name);
    std::fs::write(&path, contents).unwrap();
    let output = mttx().args(["load", "--input"]).arg(&path).arg("--out").arg(dir.path().join("out")).output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains(file_name), "the error names the file: {stderr}");
    stderr
}

#[test]
fn unreadable_files_stop_with_an_error_naming_the_file() {
    let err = load_fails("incidents.parquet", b"PAR1 this is not parquet");
    assert!(err.contains("not a readable Parquet file"), "{err}");
    let err = load_fails("incidents.json", b"id,opened_at\nINC1,2026-01-01\n");
    assert!(err.contains("not JSON input"), "{err}");
    let err = load_fails("incidents.json", b"[{\"id\": \"INC1\", \"opened_at\": \"2026-01-01\"},");
    assert!(err.contains("not valid JSON at line 1"), "{err}");
    let err = load_fails("incidents.csv", b"id,priority\nINC1,3\n");
    assert!(err.contains("required field incidents.opened_at"), "{err}");
    let err = load_fails("incidents.csv", b"id,opened_at,opend_at\nINC1,2026-01-01,x\n");
    assert!(err.contains("unknown column `opend_at`") && err.contains("did you mean `opened_at`"), "{err}");
    let err = load_fails("incidents.csv", b"");
    assert!(err.contains("empty"), "{err}");
    let err = load_fails("incidents.csv.gz", b"\x1f\x8b\x08\x00garbage");
    assert!(err.contains("incidents.csv.gz"), "{err}");
}

#[test]
fn ndjson_row_problems_are_rejects_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.ndjson");
    std::fs::write(
        &path,
        "{\"id\":\"A\",\"opened_at\":\"2026-01-01T00:00:00Z\"}\n\n[1,2]\n{\"id\":\"B\",\"opened_at\":\n{\"id\":\"C\",\"opened_at\":\"2026-01-02\",\"priority\":\"high\"}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    mttx().args(["load", "--input"]).arg(&path).arg("--out").arg(&out).assert().success();
    let rows = rejects(&crate::util::first_load(&out).join("rejects.csv"));
    let got: Vec<(&str, &str)> = rows.iter().map(|r| (r[1].as_str(), r[6].as_str())).collect();
    // The blank line is not a record: records are A=1, [1,2]=2, B=3, C=4.
    assert_eq!(got, [("2", "malformed_row"), ("3", "malformed_row"), ("4", "invalid_integer")]);
}

#[test]
fn hostile_values_in_rejects_cannot_run_as_spreadsheet_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incidents.csv");
    std::fs::write(&path, "id,opened_at\nINC1,=HYPERLINK(\"http://x\")\n").unwrap();
    let out = dir.path().join("out");
    mttx().args(["load", "--input"]).arg(&path).arg("--out").arg(&out).assert().success();
    let rows = rejects(&crate::util::first_load(&out).join("rejects.csv"));
    assert_eq!(rows[0][5], "'=HYPERLINK(\"http://x\")");
}

/// See: issue 10. A header naming a column twice used to read "unknown column `opened_at` (did you
/// mean `opened_at`?)": now it says the column is duplicated, and where.
#[test]
fn a_column_named_twice_is_named_with_its_places() {
    let message = load_fails("incidents.csv", b"id,opened_at,priority,state,opened_at\nINC1,2026-10-01T00:00:00Z,1,New,2026-10-01T00:00:00Z\n");
    assert!(message.contains("incidents.csv") && message.contains("column `opened_at` appears 2 times in the header (columns 2 and 5)"), "{message}");
    assert!(!message.contains("did you mean"), "{message}");
}

/// Canonical Parquet is input like any other: its typed columns are checked row by row, not copied
/// into the store. incidents.parquet holds seven records:
///   1 INC1  good                                        → loaded
///   2 INC2  resolved 2026-01-04 10:00, opened a day later → negative_duration
///   3 INC3  priority 9 (an Int64 cell)                  → out_of_range
///   4 INC4  opened 1985-06-15, before the plausible range → implausible_timestamp
///   5 INC5  opened_at null                              → missing_required
///   6 INC1  again                                       → duplicate_id, naming record 1
///   7 INC6  good                                        → loaded
/// So read 7 = loaded 2 + rejected 5.
#[test]
fn canonical_parquet_is_checked_row_by_row() {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new("opened_at", utc.clone(), true),
        Field::new("resolved_at", utc, true),
        Field::new("priority", DataType::Int64, true),
        Field::new("major", DataType::Boolean, true),
    ]));
    let opened = [
        Some("2026-01-05T10:00:00Z"),
        Some("2026-01-05T10:00:00Z"),
        Some("2026-01-06T10:00:00Z"),
        Some("1985-06-15T08:00:00Z"),
        None,
        Some("2026-01-07T10:00:00Z"),
        Some("2026-01-08T10:00:00Z"),
    ];
    let resolved = [Some("2026-01-05T12:00:00Z"), Some("2026-01-04T10:00:00Z"), None, None, None, None, Some("2026-01-08T11:30:00Z")];
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["INC1", "INC2", "INC3", "INC4", "INC5", "INC1", "INC6"])),
        Arc::new(TimestampMicrosecondArray::from(opened.iter().map(|t| t.map(at)).collect::<Vec<_>>()).with_timezone("UTC")),
        Arc::new(TimestampMicrosecondArray::from(resolved.iter().map(|t| t.map(at)).collect::<Vec<_>>()).with_timezone("UTC")),
        Arc::new(Int64Array::from(vec![Some(2), Some(3), Some(9), Some(1), Some(2), Some(4), None])),
        Arc::new(BooleanArray::from(vec![Some(false), None, Some(true), None, None, None, Some(true)])),
    ];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("incidents.parquet");
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut writer = datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&input).unwrap(), schema, None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();

    let store = dir.path().join("store");
    mttx().args(["load", "--input"]).arg(&input).arg("--out").arg(&store).assert().success();
    let rows = rejects(&crate::util::first_load(&store).join("rejects.csv"));
    let got: Vec<[&str; 4]> = rows.iter().map(|r| [r[1].as_str(), r[4].as_str(), r[6].as_str(), r[8].as_str()]).collect();
    assert_eq!(
        got,
        [
            ["2", "resolved_at", "negative_duration", "INC2"],
            ["3", "priority", "out_of_range", "INC3"],
            ["4", "opened_at", "implausible_timestamp", "INC4"],
            ["5", "opened_at", "missing_required", "INC5"],
            ["6", "id", "duplicate_id", "INC1"],
        ]
    );
    let reason = |code: &str| rows.iter().find(|r| r[6] == code).unwrap()[7].clone();
    assert!(
        reason("negative_duration").contains("2026-01-04T10:00:00Z") && reason("negative_duration").contains("before opened_at"),
        "{}",
        reason("negative_duration")
    );
    assert!(reason("out_of_range").contains("priority `9` is outside 1..5"), "{}", reason("out_of_range"));
    assert_eq!(rows.iter().find(|r| r[6] == "implausible_timestamp").unwrap()[5], "1985-06-15T08:00:00Z", "the value as an instant");
    assert!(reason("duplicate_id").contains("record 1"), "{}", reason("duplicate_id"));
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(crate::util::first_load(&store).join("summary.json")).unwrap()).unwrap();
    let file = &summary["files"][0];
    assert_eq!((file["read"].as_u64(), file["loaded"].as_u64(), file["rejected"].as_u64()), (Some(7), Some(2), Some(5)));
}
