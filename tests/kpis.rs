//! `mttx kpi` as a command: its JSON document and versioning, the `--by` cut and its errors, the
//! window in the reporting time zone, effects planted in sample-data/ recovered, users' own queries,
//! bad queries and headers, unknown ids, csv and parquet outputs, the default period and a period
//! after the cut-off, month rows that do not depend on the rest of the window, and parameters read
//! as values. Most runs use queries/tests/_data/world/, the hand-computed world that
//! queries/tests/_data/README.md describes.
//!
//! The KPIs' numbers are not asserted here. Each KPI's hand-computed tests have one home, its golden
//! cases `queries/tests/<kpi>/<case>/`: `expected.csv` holds the result and the comments at the top
//! of `case.toml` work every value of it out by hand from the world's README. `mttx test` runs them,
//! and so does `cargo test` (`golden_cases_pass_for_the_built_in_queries` in tests/check.rs).

use predicates::str::contains;
use serde_json::Value;

use crate::util::{fixture, mttx};

fn world() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/_data/world")
}

const AS_OF: &str = "2026-11-01T00:00:00Z";

/// The JSON document of a run over the world, September and October 2026, with `extra` arguments.
fn run_json(extra: &[&str]) -> Value {
    let output = mttx()
        .args(["--as-of", AS_OF, "kpi", "--from", "2026-09", "--to", "2026-10", "--format", "json", "--input"])
        .arg(world())
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The row of `kpi` whose key columns read `key` (e.g. "month=2026-10,scope=priority,priority=2").
fn row<'a>(doc: &'a Value, kpi: &str, key: &str) -> &'a serde_json::Map<String, Value> {
    let entry = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == kpi).unwrap_or_else(|| panic!("no KPI {kpi}"));
    let keys: Vec<&str> = entry["keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    entry["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_object().unwrap())
        .find(|r| {
            let rendered: Vec<String> = keys
                .iter()
                .map(|k| match &r[*k] {
                    Value::String(s) => format!("{k}={s}"),
                    Value::Null => format!("{k}="),
                    other => format!("{k}={other}"),
                })
                .collect();
            rendered.join(",") == key
        })
        .unwrap_or_else(|| panic!("{kpi} has no row {key}"))
}

fn expect_in(doc: &Value, kpi: &str, key: &str, values: &[(&str, Option<f64>)]) {
    let r = row(doc, kpi, key);
    for (column, expected) in values {
        let got = r.get(*column).unwrap_or_else(|| panic!("{kpi} has no column {column}"));
        match expected {
            None => assert!(got.is_null(), "{kpi} {key} {column}: expected null, got {got}"),
            Some(x) => {
                let g = got.as_f64().unwrap_or_else(|| panic!("{kpi} {key} {column}: expected {x}, got {got}"));
                assert!((g - x).abs() < 1e-6, "{kpi} {key} {column}: expected {x}, got {g}");
            }
        }
    }
}

#[test]
fn a_cut_by_a_field_is_recorded_in_the_document() {
    // The values of this run are the golden case queries/tests/mttr/by_service.
    let doc = run_json(&["--only", "mttr", "--by", "service"]);
    assert_eq!(doc["window"]["breakdown"], "service");
    let mttr = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == "mttr").unwrap();
    assert_eq!(mttr["keys"], serde_json::json!(["month", "service", "scope", "priority"]));
}

#[test]
fn by_rejects_kpis_that_cannot_be_cut_and_unknown_fields() {
    // KPIs that cannot be cut are not run, and naming one is an error that lists those that can.
    let output = mttx().args(["kpi", "--by", "service", "--only", "mtbf", "-i"]).arg(world()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("mtbf cannot be cut") && stderr.contains("mttr"), "{stderr}");
    // volume is reported by category already: --by category leaves it out, and naming it is an
    // error, where its category column used to clash with the cut's.
    let output = mttx().args(["kpi", "--by", "category", "--only", "volume", "-i"]).arg(world()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("volume cannot be cut by category") && stderr.contains("already hold category"), "{stderr}");
    let doc = run_json(&["--by", "category"]);
    let ids: Vec<&str> = doc["kpis"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"mttr") && !ids.contains(&"volume"), "{ids:?}");
    let output = mttx().args(["kpi", "--by", "team", "-i"]).arg(world()).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("use one of service, assignment_group, category, contact_type, ci"));
}

#[test]
fn the_window_starts_at_midnight_in_the_reporting_time_zone() {
    // September in Amsterdam starts at 00:00 on 1 September there, 2026-08-31 22:00 UTC, so I10
    // (opened then) is a September incident: the golden case queries/tests/mtta/amsterdam has the
    // values of this run.
    let output = mttx()
        .args(["--as-of", AS_OF, "--timezone", "Europe/Amsterdam", "kpi", "--from", "2026-09", "--to", "2026-10", "--only", "mtta", "-f", "json", "-i"])
        .arg(world())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["window"]["start"], "2026-08-31T22:00:00Z");
}

#[test]
fn document_is_versioned_and_carries_definitions() {
    let doc = run_json(&[]);
    assert_eq!(doc["schema"], "mttx.kpis");
    assert_eq!(doc["version"], 3);
    assert_eq!(doc["window"]["breakdown"], Value::Null);
    assert_eq!(doc["window"]["as_of"], AS_OF);
    assert_eq!(doc["window"]["first_month"], "2026-09");
    let mttr = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == "mttr").unwrap();
    assert_eq!(mttr["better"], "lower");
    assert_eq!(mttr["keys"], serde_json::json!(["month", "scope", "priority"]));
    assert!(mttr["definition"].as_str().unwrap().starts_with("resolved_at − opened_at"));
    assert!(doc["errors"].as_array().unwrap().is_empty());
}

#[test]
fn planted_effects_are_recovered_from_sample_data() {
    // sample-data/ was generated with a failed-patch factor of 3 and a mean detection delay of
    // 0.5 h (sample-data/ground_truth.json).
    let output = mttx()
        .args(["kpi", "--only", "patch_incident_correlation,mttd", "-f", "json", "-i"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let failed = row(&doc, "patch_incident_correlation", "outcome_group=failed");
    let lift = failed["lift"].as_f64().unwrap();
    assert!((lift - 3.0).abs() < 0.35 * 3.0, "lift {lift} should be near the planted 3");
    assert!(failed["p_value"].as_f64().unwrap() < 0.001, "and significant: {}", failed["p_value"]);
    let mttd = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == "mttd").unwrap();
    let (mut n, mut total) = (0.0, 0.0);
    for r in mttd["rows"].as_array().unwrap() {
        let count = r["n"].as_f64().unwrap();
        if count > 0.0 {
            n += count;
            total += count * r["mean_hours"].as_f64().unwrap();
        }
    }
    let mean = total / n;
    assert!((mean - 0.5).abs() < 0.05, "mean detection delay {mean} h should be near the planted 0.5 h");
}

/// See: issue 29. `--confidence` sets every interval: the patch lift's Katz interval is ln(lift) ±
/// z × se, so the log-width at 90% over that at 95% is z(0.95) / z(0.975) = 1.644854 / 1.959964 =
/// 0.839228. Levels outside their range are refused, naming the flag.
#[test]
fn the_confidence_level_sets_the_intervals() {
    let lift_interval = |confidence: &str| {
        let output = mttx()
            .args(["kpi", "--only", "patch_incident_correlation", "-f", "json", "--confidence", confidence, "-i"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(doc["parameters"]["confidence"].as_f64().unwrap().to_string(), confidence, "kpis.json records the level");
        let failed = row(&doc, "patch_incident_correlation", "outcome_group=failed");
        (failed["lift_low"].as_f64().unwrap(), failed["lift_high"].as_f64().unwrap())
    };
    let ((low95, high95), (low90, high90)) = (lift_interval("0.95"), lift_interval("0.9"));
    let ratio = (high90 / low90).ln() / (high95 / low95).ln();
    assert!((ratio - 0.839228).abs() < 1e-5, "{ratio}");
    for (flag, value) in [("--confidence", "1.2"), ("--fdr", "0.7"), ("--risk-min-patches", "0")] {
        mttx().args(["kpi", flag, value, "-i"]).arg(world()).assert().code(2).stderr(contains(flag));
    }
}

#[test]
fn users_own_queries_run_like_built_ins() {
    // tests/fixtures/user_queries/office_hours_open.sql calls business_hours() on the office
    // calendar: I4 has been open from Mon 10-05 09:00 to the cut-off, Sun 11-01 00:00. That is
    // Mon 7.5 h + 19 full weekdays (10-06 … 10-30) × 8.5 h = 169 h.
    let output = mttx()
        .args(["--as-of", AS_OF, "kpi", "--from", "2026-09", "--to", "2026-10", "-f", "json", "--queries"])
        .arg(fixture("user_queries"))
        .args(["--only", "office_hours_open,mttr", "-i"])
        .arg(world())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mine = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == "office_hours_open").unwrap();
    assert!(mine["origin"].as_str().unwrap().ends_with("office_hours_open.sql"));
    assert_eq!(mine["title"], "Open incidents' office hours so far");
    expect_in(&doc, "office_hours_open", "id=I4", &[("office_hours", Some(169.0))]);
    expect_in(&doc, "mttr", "month=2026-10,scope=priority,priority=3", &[("n", Some(1.0))]);
}

#[test]
fn a_bad_user_query_names_its_file_and_the_others_still_finish() {
    let dir = tempfile::tempdir().unwrap();
    let header = "-- title: T\n-- unit: x\n-- better: lower\n-- grain: all\n-- keys: n\n-- definition: d\n";
    std::fs::write(dir.path().join("broken_syntax.sql"), format!("{header}SELEC count(*) FROM incidents\n")).unwrap();
    std::fs::write(dir.path().join("unknown_column.sql"), format!("{header}SELECT count(nope) AS n FROM incidents\n")).unwrap();
    mttx()
        .args(["--as-of", AS_OF, "kpi", "--from", "2026-09", "--to", "2026-10", "--only", "broken_syntax,unknown_column,volume", "--queries"])
        .arg(dir.path())
        .arg("-i")
        .arg(world())
        .assert()
        .code(2)
        .stdout(contains("volume — Incident volume"))
        .stdout(contains("| 2026-10 | network     | 1        | 2         |"))
        .stderr(contains("2 KPI queries failed"))
        .stderr(contains("broken_syntax.sql"))
        .stderr(contains("unknown_column.sql"))
        .stderr(contains("nope"));
}

#[test]
fn a_bad_header_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.sql"), "-- title: T\n-- units: x\nSELECT 1\n").unwrap();
    mttx().args(["kpi", "--queries"]).arg(dir.path()).arg("-i").arg(world()).assert().code(2).stderr(contains("x.sql: line 2: unknown header key `units`"));
}

#[test]
fn unknown_kpi_ids_are_listed() {
    mttx().args(["kpi", "--only", "mtbx", "-i"]).arg(world()).assert().code(2).stderr(contains("--only mtbx: no such KPI")).stderr(contains("mtbf"));
}

#[test]
fn csv_and_parquet_outputs() {
    let output = mttx()
        .args(["--as-of", AS_OF, "kpi", "--from", "2026-09", "--to", "2026-10", "--only", "reopen_rate", "-f", "csv", "-i"])
        .arg(world())
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("kpi,key,column,value\nreopen_rate,month=2026-09,resolved,3\n"), "{text}");
    let dir = tempfile::tempdir().unwrap();
    mttx().args(["--as-of", AS_OF, "kpi", "--only", "mtta,mtbf", "-f", "parquet", "-i"]).arg(world()).arg("--out").arg(dir.path()).assert().success();
    assert!(dir.path().join("mtta.parquet").exists() && dir.path().join("mtbf.parquet").exists());
    mttx().args(["kpi", "-f", "parquet", "-i"]).arg(world()).assert().code(2).stderr(contains("--out DIR"));
}

/// The default period starts at the first incident's month even when another table (here an
/// event in July) starts earlier. The window's inputs are read from a parallel UNION ALL whose
/// branches arrive in any order, so the command runs several times.
#[test]
fn default_period_starts_at_the_first_incident() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("incidents.csv"), "id,opened_at,resolved_at,priority\nI1,2026-10-05T09:00:00Z,2026-10-05T10:00:00Z,3\n").unwrap();
    std::fs::write(dir.path().join("events.csv"), "id,ticket_id,at,field,to_value\nE1,X,2026-07-01T00:00:00Z,state,New\n").unwrap();
    for _ in 0..6 {
        let out = mttx().args(["kpi", "--only", "volume", "-f", "json", "-i"]).arg(dir.path()).output().unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(doc["window"]["first_month"], "2026-10");
        assert_eq!(doc["window"]["as_of"], "2026-10-05T10:00:00Z", "the cut-off is the latest timestamp of any table");
    }
}

#[test]
fn a_period_after_the_cut_off_is_an_error_and_empty_results_keep_their_columns() {
    mttx()
        .args(["--as-of", AS_OF, "kpi", "--period", "2030-01", "-i"])
        .arg(world())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("the period starts in 2030-01, after the cut-off 2026-11-01T00:00:00Z"));
    // Nothing was opened in June 2026: volume has no rows, but its table and columns still print.
    mttx()
        .args(["--as-of", AS_OF, "kpi", "--period", "2026-06", "--only", "volume", "-i"])
        .arg(world())
        .assert()
        .success()
        .stdout(predicates::str::contains("| month | category | priority | incidents |"));
    let out = mttx().args(["--as-of", AS_OF, "kpi", "--period", "2026-06", "--only", "volume", "-f", "json", "-i"]).arg(world()).output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["kpis"][0]["columns"].as_array().unwrap().len(), 4);
    assert!(doc["kpis"][0]["rows"].as_array().unwrap().is_empty());
}

/// The report takes the months of its trend, the previous month and the same month a year ago
/// from one run over all of them. That holds only if a month's rows do not depend on the rest of
/// the window: every built-in KPI with a month key (apart from those whose header says `window:
/// whole`) must give each month's rows alike in a run over three months of sample-data and in a run
/// over that month alone. Floats may differ in the last bits (sums in another order).
#[test]
fn month_rows_of_a_long_run_equal_runs_of_single_months() {
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let kpis = mttx::kpi::catalog::builtin().unwrap();
    let sliced: Vec<&str> = kpis.iter().filter(|k| k.slices_by_month()).map(|k| k.id.as_str()).collect();
    assert!(sliced.len() >= 14, "{sliced:?}");
    // problem_trend's growth is against a fixed base month, not the window's first: it slices too.
    assert!(sliced.contains(&"problem_trend"), "{sliced:?}");
    let only = sliced.join(",");
    let run = |period: &[&str]| -> Value {
        let output = mttx().args(["kpi", "--format", "json", "--only", &only]).args(period).arg("--input").arg(&sample).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let long = run(&["--from", "2026-08", "--to", "2026-10"]);
    let same = |a: &Value, b: &Value| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if !(a.is_i64() && b.is_i64()) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => a == b,
    };
    for month in ["2026-08", "2026-09", "2026-10"] {
        let single = run(&["--period", month]);
        for id in &sliced {
            let rows = |doc: &Value| -> Vec<serde_json::Map<String, Value>> {
                let entry = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == *id).unwrap();
                entry["rows"].as_array().unwrap().iter().filter(|r| r["month"] == month).map(|r| r.as_object().unwrap().clone()).collect()
            };
            let (from_long, alone) = (rows(&long), rows(&single));
            assert_eq!(from_long.len(), alone.len(), "{id} {month}: {from_long:?}\n{alone:?}");
            assert!(!alone.is_empty(), "{id} {month} has no rows to compare");
            for (a, b) in from_long.iter().zip(&alone) {
                assert!(a.keys().eq(b.keys()) && a.iter().all(|(k, v)| same(v, &b[k])), "{id} {month}:\n  3 months: {a:?}\n  1 month:  {b:?}");
            }
        }
    }
}

/// Every built-in KPI, alone and cut by a field, reads `params` as values in its plan: no scan of
/// the one-row table and no join with it remains, so the period filters reach the table scans
/// (see `src/engine/inline_params.rs`). A KPI whose SQL uses the row in a shape the rule does not
/// fold fails here, naming it.
#[test]
fn every_kpi_reads_its_parameters_as_values() {
    let timezone = chrono_tz::UTC;
    let inputs = [world()];
    let spec = mttx::pipeline::Open {
        inputs: &inputs,
        profile: "canonical",
        timezone,
        as_of: mttx::time::parse_iso(AS_OF, timezone),
        sla: None,
        rejects: None,
        memory_limit: Default::default(),
        engine: mttx::engine::Engine::Local,
    };
    let pipeline = mttx::pipeline::Pipeline::open(&spec, &mttx::progress::Progress::hidden(), &mut std::io::sink()).unwrap();
    let kpis = mttx::kpi::select(None, &[]).unwrap();
    pipeline.runtime().block_on(async {
        for by in [None, Some(mttx::kpi::Breakdown::AssignmentGroup)] {
            let params = pipeline.params(mttx::kpi::PeriodRequest::All, Default::default()).unwrap().with_breakdown(by);
            let ctx = pipeline.session(&params).await.unwrap();
            for kpi in kpis.iter().filter(|k| by.is_none_or(|by| mttx::kpi::breakdown::supports(&k.meta.keys, by))) {
                let plan = ctx.sql(&kpi.sql).await.unwrap().into_optimized_plan().unwrap().display_indent().to_string();
                assert!(!plan.contains("TableScan: params"), "{} (by {by:?}) still scans params:\n{plan}", kpi.id);
            }
        }
    });
}

/// See: issue 30. First-contact resolution is null, not 0%, when neither a flag nor the policy's
/// service desk groups can decide any incident: here the policy names "Help Desk", which no
/// incident has, so each of D1–D4 is decided "not by the desk" (unknown 0), and none resolved by a
/// desk group leaves the rate null. Without a [first_contact] section no group is named: all four
/// are unknown, and the rate is null. First-group resolution is given all the same: D1 and D3
/// (never reassigned or reopened) of D1–D4 = 0.5.
#[test]
fn first_contact_resolution_is_not_given_when_nothing_can_decide_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("incidents.csv");
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/first_contact_resolution/service_desk/data/incidents.csv"),
    )
    .unwrap();
    std::fs::write(&data, source.lines().take(5).collect::<Vec<_>>().join("\n") + "\n").unwrap();
    let policy_text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/sla.toml")).unwrap();
    for (name, policy, unknown) in [
        ("help_desk.toml", policy_text.replace(r#"service_desk_groups = ["Service Desk"]"#, r#"service_desk_groups = ["Help Desk"]"#), 0),
        ("no_section.toml", policy_text[..policy_text.find("[first_contact]").unwrap()].to_string(), 4),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, policy).unwrap();
        let output = mttx()
            .args(["--as-of", AS_OF, "kpi", "--period", "2026-10", "--only", "first_contact_resolution", "-f", "json", "--sla"])
            .arg(&path)
            .arg("-i")
            .arg(&data)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
        let row = row(&doc, "first_contact_resolution", "month=2026-10");
        assert_eq!(row["fcr_rate"], Value::Null, "{name}: {row:?}");
        assert_eq!((row["resolved"].as_i64(), row["unknown"].as_i64()), (Some(4), Some(unknown)), "{name}");
        assert_eq!(row["first_group_rate"].as_f64(), Some(0.5), "{name}");
    }
    // A group named twice, in other case and spacing, is one group: each incident counts once.
    // D1 (the desk, never reassigned or reopened) of D1–D4 = 0.25.
    let twice = dir.path().join("twice.toml");
    std::fs::write(&twice, policy_text.replace(r#"service_desk_groups = ["Service Desk"]"#, r#"service_desk_groups = ["Service Desk", " service DESK "]"#))
        .unwrap();
    let output = mttx()
        .args(["--as-of", AS_OF, "kpi", "--period", "2026-10", "--only", "first_contact_resolution", "-f", "json", "--sla"])
        .arg(&twice)
        .arg("-i")
        .arg(&data)
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = row(&doc, "first_contact_resolution", "month=2026-10");
    assert_eq!((row["resolved"].as_i64(), row["fcr_rate"].as_f64()), (Some(4), Some(0.25)), "{row:?}");
}
