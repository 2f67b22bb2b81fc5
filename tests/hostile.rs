//! Hostile and sloppy input (see: issue 11): sentinel and implausible dates, a default cut-off that
//! one stray value would stretch, periods too long to compute, and a corpus of broken files run
//! through every subcommand. Nothing may panic or hang; each failure is exit 2 naming the file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::str::contains;

use crate::util::{mttx, rejects};

fn world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/_data/world")
}

/// A copy of the hand-computed world whose incidents.csv gets one more row: a copy of I2 with
/// `id` and `resolved_at` replaced.
fn world_with(dir: &Path, id: &str, resolved_at: &str) -> PathBuf {
    let copy = dir.join("world");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(world()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let path = copy.join("incidents.csv");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!("{id},2026-10-01T10:00:00Z,,2026-10-01T10:30:00Z,{resolved_at},1,CI1,S1,network,0,0,false,,,\n"));
    std::fs::write(&path, text).unwrap();
    copy
}

/// The world has 20+ timestamps, so the default cut-off guard applies to it.
#[test]
fn a_sentinel_date_reads_as_null_and_the_run_is_normal() {
    let dir = tempfile::tempdir().unwrap();
    let data = world_with(dir.path(), "I_NEVER", "9999-12-31T00:00:00Z");
    // Without --as-of: the cut-off is the data's own latest timestamp (2026-10-31), not the year 9999.
    let out = mttx().args(["kpi", "--only", "mttr", "--format", "json", "--input"]).arg(&data).timeout(Duration::from_secs(60)).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["window"]["last_month"], "2026-10", "{:#}", doc["window"]);
    // It is an open incident now, not a resolved one: the SQL sees a null resolved_at.
    let out = mttx().args(["sql", "--format", "json", "--input"]).arg(&data).arg("SELECT resolved_at FROM incidents WHERE id = 'I_NEVER'").output().unwrap();
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["resolved_at"], serde_json::Value::Null, "{rows}");
    // The report finishes too.
    let report = dir.path().join("report");
    mttx().args(["report", "--input"]).arg(&data).arg("--out").arg(&report).timeout(Duration::from_secs(120)).assert().success();
}

#[test]
fn a_timestamp_outside_the_plausible_range_is_rejected_naming_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let data = world_with(dir.path(), "I_TYPO", "2206-10-01T12:00:00Z");
    let out = dir.path().join("out");
    mttx().args(["load", "--input"]).arg(&data).arg("--out").arg(&out).assert().success().stdout(contains("rejected 1 row(s): implausible_timestamp"));
    let rows = rejects(&crate::util::first_load(&out).join("rejects.csv"));
    let reject = rows.iter().find(|r| r[6] == "implausible_timestamp").expect("an implausible_timestamp reject");
    assert_eq!((reject[4].as_str(), reject[8].as_str()), ("resolved_at", "I_TYPO"));
    assert!(reject[7].contains("1990-01-01 to 2100-01-01") && reject[7].contains("parse.plausible_range"), "{}", reject[7]);
}

#[test]
fn one_stray_late_timestamp_does_not_set_the_default_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    // 2099 is inside the plausible range, so it loads; as the cut-off it would stretch the period.
    let data = world_with(dir.path(), "I_STRAY", "2099-03-01T00:00:00Z");
    mttx()
        .args(["kpi", "--only", "mttr", "--input"])
        .arg(&data)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(contains("2099-03-01T00:00:00Z on incident I_STRAY"))
        .stderr(contains("Give --as-of"));
    mttx().args(["--as-of", "2026-11-01", "kpi", "--only", "mttr", "--input"]).arg(&data).assert().success();
}

#[test]
fn a_period_of_centuries_is_refused_not_attempted() {
    mttx()
        .args(["--as-of", "2026-11-01", "kpi", "--only", "mttr", "--from", "1000-01", "--to", "2026-10", "--input"])
        .arg(world())
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(contains("spans 12322 months, more than the 1200"));
    let dir = tempfile::tempdir().unwrap();
    mttx()
        .args(["--as-of", "2026-11-01", "report", "--months", "5000", "--input"])
        .arg(world())
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(contains("--months 5000: give 1 to 36 months"));
    mttx().args(["--as-of", "2026-11-01", "report", "--months", "37", "--input"]).arg(world()).arg("--out").arg(dir.path()).assert().code(2);
    mttx().args(["--as-of", "2026-11-01", "report", "--months", "36", "--input"]).arg(world()).arg("--out").arg(dir.path()).assert().success();
}

/// One broken input: a file name (which picks the reader) and its bytes.
struct Hostile {
    name: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
}

/// The corpus, generated here rather than committed: some files are megabytes.
fn corpus() -> Vec<Hostile> {
    let valid = std::fs::read(world().join("incidents.csv")).unwrap();
    let header_line = valid.split(|b| *b == b'\n').next().unwrap().to_vec();
    let mut gzip = Vec::new();
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(&mut gzip, flate2::Compression::default());
        enc.write_all(&valid).unwrap();
        enc.finish().unwrap();
    }
    let truncated_gzip = gzip[..gzip.len() / 2].to_vec();
    let parquet = valid_parquet();
    let mut pseudo_random = Vec::with_capacity(64 * 1024);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..64 * 1024 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        pseudo_random.push((state >> 24) as u8);
    }
    let mut big_cell = b"id,opened_at,category\nINC1,2026-10-01T00:00:00Z,".to_vec();
    big_cell.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    big_cell.push(b'\n');
    let wide: Vec<String> = (0..10_000).map(|i| format!("c{i}")).collect();
    let mut wide = format!("id,opened_at,{}\n", wide.join(",")).into_bytes();
    wide.extend(b"INC1,2026-10-01T00:00:00Z\n");
    let mut invalid_utf8 = b"id,opened_at,category\nINC1,2026-10-01T00:00:00Z,caf".to_vec();
    invalid_utf8.extend([0xff, 0xfe, b'\n']);
    let deep_json = [vec![b'['; 100_000], vec![b']'; 100_000]].concat();
    let mut deep_ndjson = b"{\"id\":\"INC1\",\"opened_at\":\"2026-10-01T00:00:00Z\",\"category\":".to_vec();
    deep_ndjson.extend(std::iter::repeat_n(b'[', 100_000));
    deep_ndjson.extend(std::iter::repeat_n(b']', 100_000));
    deep_ndjson.extend(b"}\n");
    vec![
        Hostile { name: "empty csv", file: "incidents.csv", bytes: Vec::new() },
        Hostile { name: "empty json", file: "incidents.json", bytes: Vec::new() },
        Hostile { name: "empty parquet", file: "incidents.parquet", bytes: Vec::new() },
        Hostile { name: "header only", file: "incidents.csv", bytes: [header_line.clone(), b"\n".to_vec()].concat() },
        Hostile { name: "binary csv", file: "incidents.csv", bytes: pseudo_random.clone() },
        Hostile { name: "binary parquet", file: "incidents.parquet", bytes: [b"PAR1".to_vec(), pseudo_random.clone(), b"PAR1".to_vec()].concat() },
        Hostile { name: "truncated parquet", file: "incidents.parquet", bytes: parquet[..parquet.len() * 2 / 3].to_vec() },
        Hostile { name: "binary xes", file: "incidents.xes", bytes: pseudo_random },
        Hostile { name: "truncated gzip", file: "incidents.csv.gz", bytes: truncated_gzip },
        Hostile { name: "duplicate header", file: "incidents.csv", bytes: b"id,opened_at,id\nINC1,2026-10-01T00:00:00Z,INC2\n".to_vec() },
        Hostile { name: "unterminated quote", file: "incidents.csv", bytes: b"id,opened_at,category\nINC1,2026-10-01T00:00:00Z,\"never closed\n".to_vec() },
        Hostile { name: "invalid utf-8", file: "incidents.csv", bytes: invalid_utf8 },
        Hostile { name: "deep json", file: "incidents.json", bytes: deep_json },
        Hostile { name: "deep ndjson", file: "incidents.ndjson", bytes: deep_ndjson },
        Hostile { name: "10 MB cell", file: "incidents.csv", bytes: big_cell },
        Hostile { name: "10,000 columns", file: "incidents.csv", bytes: wide },
        Hostile { name: "unclosed xes", file: "incidents.xes", bytes: b"<log><trace><string key=\"concept:name\" value=\"1\"/><event>".to_vec() },
    ]
}

/// The world's incidents as a valid Parquet file, to truncate.
fn valid_parquet() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    mttx().args(["load", "--input"]).arg(world().join("incidents.csv")).arg("--out").arg(dir.path()).assert().success();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    std::fs::read(dir.path().join(manifest["tables"]["incidents"]["files"][0]["path"].as_str().unwrap())).unwrap()
}

/// Whole-data errors that name no file, because no single file is at fault.
const DATA_ERRORS: [&str; 3] = ["no incidents were loaded", "holds no timestamps", "no input file feeds any table"];

/// Every subcommand that reads data, over every broken file: exit 0 (the file loaded, or its rows
/// were rejected with reasons) or exit 2 with an error naming the file; never a panic, never a hang.
#[test]
fn every_subcommand_survives_the_hostile_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let cases = corpus();
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for chunk in cases.chunks(cases.len().div_ceil(2)) {
            let (dir, failures) = (dir.path(), &failures);
            scope.spawn(move || {
                for case in chunk {
                    let input = dir.join(case.name.replace([' ', ','], "_"));
                    std::fs::create_dir_all(&input).unwrap();
                    std::fs::write(input.join(case.file), &case.bytes).unwrap();
                    let profile = if case.file.ends_with(".xes") { "xes" } else { "canonical" };
                    let out = input.join("out");
                    let baseline = input.join("baseline.json");
                    let runs: Vec<(&str, Vec<String>)> = vec![
                        ("load", vec!["load".into(), "--out".into(), out.display().to_string()]),
                        ("sql", vec!["sql".into(), "SELECT count(*) FROM incidents".into()]),
                        ("kpi", vec!["kpi".into(), "--only".into(), "mttr,volume".into()]),
                        ("report", vec!["report".into(), "--months".into(), "2".into(), "--out".into(), out.join("report").display().to_string()]),
                        ("check", vec!["check".into(), "--bless".into(), "--only".into(), "mttr".into(), "--baseline".into(), baseline.display().to_string()]),
                        (
                            "diff",
                            vec![
                                "diff".into(),
                                "--only".into(),
                                "mttr".into(),
                                "--queries-a".into(),
                                Path::new(env!("CARGO_MANIFEST_DIR")).join("queries").display().to_string(),
                            ],
                        ),
                    ];
                    for (command, args) in runs {
                        let output = mttx()
                            .args(["--as-of", "2026-11-01"])
                            .args(&args)
                            .arg("--profile")
                            .arg(profile)
                            .arg("--input")
                            .arg(&input)
                            .timeout(Duration::from_secs(120))
                            .output()
                            .unwrap();
                        let stderr = String::from_utf8_lossy(&output.stderr);
                        let verdict = match output.status.code() {
                            None => Some("did not finish within 120 s".to_string()),
                            Some(_) if stderr.contains("panicked") || stderr.contains("internal error") => Some(format!("panicked: {stderr}")),
                            Some(0) | Some(1) => None,
                            Some(2) if stderr.contains(case.file) || DATA_ERRORS.iter().any(|e| stderr.contains(e)) => None,
                            Some(code) => Some(format!("exit {code} without naming the file: {stderr}")),
                        };
                        if let Some(verdict) = verdict {
                            failures.lock().unwrap().push(format!("{} × mttx {command}: {verdict}", case.name));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
