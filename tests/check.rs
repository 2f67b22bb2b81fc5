//! `mttx check`, `mttx test` and `mttx diff`: every exit code, tolerance edges, baseline gaps,
//! gates, JUnit parsed as XML, and golden cases that fail when a query changes a result.
//!
//! The data is queries/tests/_data/world (see queries/tests/_data/README.md for its numbers). The current values
//! used below: mttr October P2 p90_hours = 21.6 and n = 3; reopen_rate September = 1/3;
//! sla_breach October P1 response breach_rate = 0.5.

use std::path::{Path, PathBuf};

use predicates::str::contains;
use serde_json::Value;

use crate::util::mttx;

const AS_OF: &str = "2026-11-01T00:00:00Z";

fn world() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/_data/world")
}

fn check_cmd(dir: &Path, baseline: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = mttx();
    cmd.args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--input"])
        .arg(world())
        .arg("--baseline")
        .arg(baseline)
        .args(extra)
        .current_dir(dir);
    cmd
}

/// A baseline blessed from the current run, then edited by `edit`.
fn baseline(dir: &Path, edit: impl FnOnce(&mut Value)) -> PathBuf {
    let path = dir.join("kpis.json");
    mttx()
        .args(["--as-of", AS_OF, "check", "--bless", "--from", "2026-09", "--to", "2026-10", "--input"])
        .arg(world())
        .arg("--baseline")
        .arg(&path)
        .assert()
        .success()
        .stdout(contains("blessed"));
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

fn cell<'a>(doc: &'a mut Value, kpi: &str, keys: &[(&str, Value)], column: &str) -> &'a mut Value {
    let entry = doc["kpis"].as_array_mut().unwrap().iter_mut().find(|k| k["id"] == kpi).unwrap();
    let row = entry["rows"].as_array_mut().unwrap().iter_mut().find(|r| keys.iter().all(|(k, v)| &r[*k] == v)).unwrap();
    &mut row[column]
}

fn oct_p2() -> Vec<(&'static str, Value)> {
    vec![("month", "2026-10".into()), ("priority", 2.into())]
}

fn rules(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("checks.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn unchanged_values_pass_with_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path(), |_| {});
    check_cmd(dir.path(), &base, &[]).assert().code(0).stdout(contains("PASSED")).stdout(contains("0 failing"));
}

#[test]
fn a_regression_fails_with_exit_1_and_shows_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    // The baseline's p90 was 20; now it is 21.6: worse, for a lower-is-better KPI.
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = 20.0.into());
    check_cmd(dir.path(), &base, &[])
        .assert()
        .code(1)
        .stdout(contains("mttr  month=2026-10,scope=priority,priority=2  p90_hours  20"))
        .stdout(contains("21.6"))
        .stdout(contains("+1.6"))
        .stdout(contains("REGRESSED"))
        .stdout(contains("FAILED"));
}

#[test]
fn an_improvement_passes_unless_the_tolerance_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = 30.0.into());
    check_cmd(dir.path(), &base, &[]).assert().code(0).stdout(contains("IMPROVED"));
    let exact = rules(dir.path(), "[tolerances]\n\"mttr.p90_hours\" = \"exact\"\n");
    check_cmd(dir.path(), &base, &["--rules", exact.to_str().unwrap()]).assert().code(1).stdout(contains("CHANGED")).stdout(contains("exact"));
}

#[test]
fn tolerance_edges() {
    let dir = tempfile::tempdir().unwrap();
    let half = rules(dir.path(), "[tolerances]\n\"mttr.p90_hours{priority=2}\" = \"absolute 0.5\"\n");
    // 21.1 → 21.6 moves exactly 0.5: within an absolute tolerance of 0.5.
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = 21.1.into());
    check_cmd(dir.path(), &base, &["--rules", half.to_str().unwrap()]).assert().code(0);
    // 21.09 → 21.6 moves 0.51: just over it.
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = 21.09.into());
    check_cmd(dir.path(), &base, &["--rules", half.to_str().unwrap()]).assert().code(1).stdout(contains("REGRESSED"));
    // A relative tolerance of a zero baseline allows only zero: 0 → 1/3 fails even at 1000 %.
    let loose = rules(dir.path(), "[tolerances]\nreopen_rate = \"relative 10\"\n");
    let base = baseline(dir.path(), |d| *cell(d, "reopen_rate", &[("month", "2026-09".into())], "reopen_rate") = 0.0.into());
    check_cmd(dir.path(), &base, &["--rules", loose.to_str().unwrap()]).assert().code(1).stdout(contains("reopen_rate  month=2026-09"));
}

#[test]
fn counts_without_direction_fail_on_any_change() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "n") = 4.into());
    check_cmd(dir.path(), &base, &[]).assert().code(1).stdout(contains("CHANGED")).stdout(contains("not a measure"));
}

#[test]
fn baseline_gaps_null_and_nan_are_explicit() {
    let dir = tempfile::tempdir().unwrap();
    // A KPI in the baseline but not in this run fails.
    let base = baseline(dir.path(), |_| {});
    check_cmd(dir.path(), &base, &["--only", "mtta,mttr"]).assert().code(1).stdout(contains("MISSING")).stdout(contains("volume"));
    // A KPI new in this run is reported and passes.
    let base = baseline(dir.path(), |d| d["kpis"].as_array_mut().unwrap().retain(|k| k["id"] != "volume"));
    check_cmd(dir.path(), &base, &[]).assert().code(0).stdout(contains("NEW"));
    // A row in the baseline but not now fails.
    let base = baseline(dir.path(), |d| {
        let volume = d["kpis"].as_array_mut().unwrap().iter_mut().find(|k| k["id"] == "volume").unwrap();
        let mut extra = volume["rows"][0].clone();
        extra["category"] = "printers".into();
        volume["rows"].as_array_mut().unwrap().push(extra);
    });
    check_cmd(dir.path(), &base, &[]).assert().code(1).stdout(contains("category=printers")).stdout(contains("MISSING"));
    // NaN and null never pass silently.
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = "NaN".into());
    check_cmd(dir.path(), &base, &[]).assert().code(1).stdout(contains("was NaN"));
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = Value::Null);
    check_cmd(dir.path(), &base, &[]).assert().code(1).stdout(contains("was null"));
}

#[test]
fn gates_pass_and_fail() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path(), |_| {});
    // P1 MTTR p90 is 4 h in both months; the P1 response breach rate is 0.5 in October and null
    // (nothing measured) in September: both rows violate a 0.2 gate.
    // min_n = 0: these rows have n of 1 or 2, and the gates are evaluated all the same.
    let gates =
        rules(dir.path(), "min_n = 0\ngates = [\n  \"mttr.p90_hours{priority=1} <= 8\",\n  \"sla_breach.breach_rate{priority=1,sla=response} <= 0.2\",\n]\n");
    check_cmd(dir.path(), &base, &["--rules", gates.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(contains("FAILED:"))
        .stdout(contains("2 passed"))
        .stdout(contains("2 violated"))
        .stdout(contains("gate: sla_breach.breach_rate{priority=1,sla=response} <= 0.2"));
    // Gates alone, without a baseline, are a valid check.
    let ok = rules(dir.path(), "min_n = 0\ngates = [\"mttr.p90_hours{priority=1} <= 8\"]\n");
    mttx()
        .args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--rules"])
        .arg(&ok)
        .arg("--input")
        .arg(world())
        .assert()
        .code(0)
        .stdout(contains("2 passed"));
}

#[test]
fn errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path(), |_| {});
    // A malformed rule names its line and column.
    let bad = rules(dir.path(), "gates = [\n  \"mttr.p90_hours{priority=1} =< 8\",\n]\n");
    check_cmd(dir.path(), &base, &["--rules", bad.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("checks.toml: line 2, column"))
        .stderr(contains("expected a comparison"));
    // A rule naming a KPI or column that does not exist.
    let typo = rules(dir.path(), "gates = [\"mttr.p99_hours <= 8\"]\n");
    check_cmd(dir.path(), &base, &["--rules", typo.to_str().unwrap()]).assert().code(2).stderr(contains("line 1: mttr has no column `p99_hours`"));
    // Not a baseline.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"hello\": 1}").unwrap();
    check_cmd(dir.path(), &junk, &[]).assert().code(2).stderr(contains("not a KPI document"));
    // Nothing to check.
    mttx().args(["check", "--input"]).arg(world()).assert().code(2).stderr(contains("nothing to check"));
}

#[test]
fn junit_is_well_formed_xml_with_one_case_per_kpi_and_key() {
    let dir = tempfile::tempdir().unwrap();
    // A hostile key value must be escaped: a category named like markup.
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = 20.0.into());
    let gates = rules(dir.path(), "min_n = 0\ngates = [\"mttr.p90_hours{priority=1} <= 8\"]\n");
    let junit = dir.path().join("out.xml");
    check_cmd(dir.path(), &base, &["--rules", gates.to_str().unwrap(), "--junit", junit.to_str().unwrap()]).assert().code(1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases: Vec<_> = root.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    let failures: Vec<_> = root.descendants().filter(|n| n.has_tag_name("failure")).collect();
    assert_eq!(failures.len(), 1, "{xml}");
    assert_eq!(root.attribute("failures"), Some("1"));
    assert_eq!(root.attribute("tests"), Some(cases.len().to_string().as_str()));
    let failing = failures[0].parent().unwrap();
    assert_eq!(failing.attribute("classname"), Some("mttx.mttr"));
    assert_eq!(failing.attribute("name"), Some("month=2026-10,scope=priority,priority=2"));
    assert!(failures[0].attribute("message").unwrap().contains("p90_hours regressed: 20 → 21.6"));
    // 12 mttr rows (two months × priorities 1–5 and all), and the gate over the two P1 rows.
    assert_eq!(cases.iter().filter(|c| c.attribute("classname") == Some("mttx.mttr")).count(), 12);
    assert_eq!(cases.iter().filter(|c| c.attribute("classname") == Some("mttx.gates")).count(), 2);
}

#[test]
fn junit_escapes_values_from_the_data() {
    let report = mttx::check::CheckReport {
        version: 1,
        passed: false,
        counts: Default::default(),
        comparisons: vec![mttx::check::Comparison {
            kpi: "volume".into(),
            key: "category=<script>alert(\"x\")</script> & co".into(),
            column: "incidents".into(),
            baseline: Some(1.into()),
            current: Some(2.into()),
            delta: Some(1.0),
            tolerance: "±0%".into(),
            verdict: mttx::check::Verdict::Regressed,
            note: "'quoted'\u{1}".into(),
        }],
        gates: vec![],
    };
    let xml = mttx::render::junit::render(&report);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let case = doc.descendants().find(|n| n.has_tag_name("testcase")).unwrap();
    assert_eq!(case.attribute("name"), Some("category=<script>alert(\"x\")</script> & co"));
    assert!(!xml.contains("<script>"));
}

#[test]
fn github_format_annotates_failures() {
    let dir = tempfile::tempdir().unwrap();
    let base = baseline(dir.path(), |d| *cell(d, "mttr", &oct_p2(), "p90_hours") = 20.0.into());
    check_cmd(dir.path(), &base, &["--format", "github"])
        .assert()
        .code(1)
        .stdout(contains("::error title=mttx check%3A mttr REGRESSED::mttr.p90_hours [month=2026-10,scope=priority,priority=2]: 20 → 21.6"));
    let json = check_cmd(dir.path(), &base, &["--format", "json"]).output().unwrap();
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["passed"], false);
    assert_eq!(report["counts"]["regressed"], 1);
}

#[test]
fn golden_cases_pass_for_the_built_in_queries() {
    let out = mttx().args(["test", "--queries"]).arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("queries")).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("0 failed"), "{text}");
    // Every built-in KPI has at least one case.
    for kpi in mttx::kpi::catalog::BUILTIN.iter().map(|(id, _)| id) {
        assert!(text.contains(&format!("ok      {kpi}/")), "no golden case for {kpi}:\n{text}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn golden_cases_fail_when_a_query_changes_a_result_and_bless_accepts_it() {
    let dir = tempfile::tempdir().unwrap();
    let queries = dir.path().join("queries");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"), &queries);
    // A definition change: p90 becomes p80.
    let mttr = queries.join("mttr.sql");
    let sql = std::fs::read_to_string(&mttr).unwrap().replace("percentile_cont(0.9)", "percentile_cont(0.8)");
    std::fs::write(&mttr, sql).unwrap();
    mttx()
        .args(["test", "--only", "mttr", "--queries"])
        .arg(&queries)
        .assert()
        .code(1)
        .stdout(contains("FAILED  mttr/world"))
        // October P2 [2, 4, 26]: p90 21.6, p80 at rank 1.6 = 4 + 0.6 × 22 = 17.2.
        .stdout(contains("- 2026-10,priority,2,3,10.666666667,4,21.6"))
        .stdout(contains("+ 2026-10,priority,2,3,10.666666667,4,17.2"))
        .stdout(contains("FAILED  mttr/by_service"))
        .stdout(contains("2 failed"));
    mttx().args(["test", "--only", "mttr", "--bless", "--queries"]).arg(&queries).assert().code(0);
    mttx().args(["test", "--only", "mttr", "--queries"]).arg(&queries).assert().code(0).stdout(contains("ok      mttr/world"));
}

#[test]
fn diff_shows_how_a_definition_change_moves_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before");
    let after = dir.path().join("after");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"), &before);
    copy_dir(&before, &after);
    // The kind of denominator fix the issue describes: count backed-out changes as successful.
    let path = after.join("change_failure.sql");
    let sql = std::fs::read_to_string(&path).unwrap().replace("c.outcome IN ('failed', 'backed_out') AS failed", "c.outcome = 'failed' AS failed");
    std::fs::write(&path, sql).unwrap();
    let run = |a: &Path, b: &Path| {
        let mut cmd = mttx();
        cmd.args(["--as-of", AS_OF, "diff", "--from", "2026-09", "--to", "2026-10", "--only", "change_failure", "--input"])
            .arg(world())
            .arg("--queries-a")
            .arg(a)
            .arg("--queries-b")
            .arg(b);
        cmd
    };
    // October: CHG5 (backed out) no longer fails: failed 2 → 1, rate 0.5 → 0.25.
    run(&before, &after)
        .assert()
        .code(1)
        .stdout(contains("change_failure  month=2026-10  change_failure_rate  0.5       0.25"))
        .stdout(contains("IMPROVED"))
        .stdout(contains("change_failure  month=2026-10  failed"));
    run(&before, &before).assert().code(0).stdout(contains("PASSED"));
}

#[test]
fn diff_against_a_git_revision() {
    // The working tree's queries against HEAD's. In a clean checkout (as in CI) they are the same,
    // so nothing moves; with local edits the numbers may or may not move.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if !root.join(".git").exists() {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipped: not a git checkout");
        return;
    }
    let status = std::process::Command::new("git").args(["diff", "--quiet", "HEAD", "--", "queries"]).current_dir(root).status().unwrap();
    let out = mttx()
        .args(["--as-of", AS_OF, "diff", "--git-rev", "HEAD", "--from", "2026-09", "--to", "2026-10", "--input"])
        .arg(world())
        .current_dir(root)
        .output()
        .unwrap();
    let code = out.status.code();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if status.success() {
        assert_eq!(code, Some(0), "{report}");
        assert!(report.contains("PASSED"), "{report}");
    } else {
        assert!(matches!(code, Some(0) | Some(1)), "{report}");
    }
}

/// See: issue 10. A baseline blessed for September checked against October used to report every
/// row missing and new (thousands of lines) without a word about the windows; now it is one error,
/// and `--across-periods` compares the months row by row on their other keys.
#[test]
fn a_baseline_of_other_months_is_one_clear_error_unless_across_periods() {
    let dir = tempfile::tempdir().unwrap();
    let september = dir.path().join("september.json");
    let one_month = |period: &str| {
        let mut cmd = mttx();
        cmd.args(["--as-of", AS_OF, "check", "--period", period, "--only", "mttr,reopen_rate", "--input"]).arg(world()).arg("--baseline").arg(&september);
        cmd
    };
    one_month("2026-09").arg("--bless").assert().success();
    one_month("2026-10")
        .assert()
        .code(2)
        .stderr(contains("september.json: the baseline covers 2026-09 (UTC) and this run 2026-10 (UTC), so no row could match"))
        .stderr(contains("--across-periods"))
        .stdout(predicates::str::is_empty());
    // Month over month: reopen_rate is 1/3 in September and 0 of 6 in October (queries/tests/reopen_rate/world), a
    // lower rate, so it improves; MTTR P2 has n = 0 in September and 3 in October, so it changes.
    let assert = one_month("2026-10").arg("--across-periods").arg("--format").arg("json").assert().code(1);
    let report: Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let verdict = |kpi: &str, key: &str, column: &str| {
        report["comparisons"].as_array().unwrap().iter().find(|c| c["kpi"] == kpi && c["key"] == key && c["column"] == column).map(|c| c["verdict"].clone())
    };
    assert_eq!(verdict("reopen_rate", "", "reopen_rate"), Some("improved".into()), "{report:#}");
    assert_eq!(verdict("mttr", "scope=priority,priority=2", "p50_hours"), Some("changed".into()), "{report:#}");
    assert_eq!(report["counts"].get("missing"), None, "no row goes missing across the two months: {report:#}");
    // A multi-month window has no single month to compare.
    mttx()
        .args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--across-periods", "--only", "mttr", "--input"])
        .arg(world())
        .arg("--baseline")
        .arg(&september)
        .assert()
        .code(2)
        .stderr(contains("--across-periods compares one month with one month"));
}

/// See: issue 10. `mttx diff --git-rev` works from a subdirectory of the repository (git names paths
/// relative to where it runs), and leaves no scratch directory behind, also when it fails.
#[test]
fn diff_git_rev_from_a_subdirectory_leaves_no_scratch_behind() {
    let git_ok = std::process::Command::new("git").arg("--version").output().is_ok_and(|o| o.status.success());
    if !git_ok {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "skipped: git is not on PATH");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("queries"), &repo.join("queries"));
    std::fs::create_dir_all(repo.join("docs/deep")).unwrap();
    let git = |args: &[&str]| {
        let status = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(status.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&status.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "queries"]);
    git(&["commit", "-q", "-m", "queries"]);
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let diff = |rev: &str| {
        let mut cmd = mttx();
        cmd.args(["--as-of", AS_OF, "diff", "--git-rev", rev, "--period", "2026-10", "--only", "change_failure", "--input"])
            .arg(world())
            .current_dir(repo.join("docs/deep"))
            .env("TMPDIR", &tmp);
        cmd
    };
    diff("HEAD").assert().code(0).stdout(contains("PASSED"));
    diff("no-such-revision").assert().code(2).stderr(contains("--git-rev no-such-revision"));
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "scratch left behind: {left:?}");
}

/// See: issue 10. Golden cases add the profile's event-log pause states to the SLA policy, as
/// `mttx kpi` does, so a case and a run of the same data agree. The vinst-like log pauses incident
/// 1-100000001 in `Accepted/Wait - User` for 23.5 hours (2 April 11:00 to 3 April 10:30).
#[test]
fn golden_cases_pause_sla_clocks_like_kpi_runs() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("queries/tests/sla_breach/eventlog");
    std::fs::create_dir_all(&case).unwrap();
    let log = crate::util::fixture("profiles/eventlog/vinst_like.csv");
    std::fs::write(
        case.join("case.toml"),
        format!("as_of = \"2012-05-01T00:00:00Z\"\nfrom = \"2012-04\"\nto = \"2012-04\"\nprofile = \"eventlog\"\ninputs = [{:?}]\n", log.display().to_string()),
    )
    .unwrap();
    mttx().args(["test", "--bless", "--queries"]).arg(dir.path().join("queries")).assert().success();
    let golden = std::fs::read_to_string(case.join("expected.csv")).unwrap();
    let golden: Vec<Vec<String>> = golden.lines().skip(1).map(|l| l.split(',').map(str::to_string).collect()).collect();
    let out = mttx()
        .args(["--as-of", "2012-05-01T00:00:00Z", "kpi", "--only", "sla_breach", "--period", "2012-04", "--format", "json", "--profile", "eventlog", "--input"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["kpis"][0]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), golden.len());
    // Columns: month, scope, priority, sla, measured, breached, …
    for (row, expected) in rows.iter().zip(&golden) {
        let plain = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| if v.is_null() { String::new() } else { v.to_string() });
        let got = [plain(&row["scope"]), plain(&row["priority"]), plain(&row["sla"]), plain(&row["measured"]), plain(&row["breached"])];
        assert_eq!(got.as_slice(), &expected[1..6], "golden and kpi disagree: {row}");
    }
}

/// See: issue 14. A gate that does not name `scope` keeps meaning the per-priority rows; the
/// overall row is gated only by name. A baseline records its `--by`, and a run cut differently is
/// refused; a version 1 baseline (before the overall rows) is refused with what to do.
#[test]
fn overall_rows_are_gated_by_name_and_a_breakdown_must_match_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    // mttr.n: 2 months × priorities 1–5 = 10 per-priority values, all ≥ 0. The overall rows have
    // n 3 (September) and 7 (October): `>= 7` holds for one.
    let gates = rules(dir.path(), "min_n = 0\ngates = [\"mttr.n >= 0\", \"mttr.n{scope=all} >= 7\"]\n");
    mttx()
        .args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--only", "mttr", "--rules"])
        .arg(&gates)
        .arg("--input")
        .arg(world())
        .assert()
        .code(1)
        .stdout(contains("11 passed"))
        .stdout(contains("1 violated"));
    // A baseline cut by service cannot gate a run that is not, and the other way round.
    let by_service = dir.path().join("by_service.json");
    let run = |extra: &[&str]| {
        let mut cmd = mttx();
        cmd.args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--only", "mttr", "--input"])
            .arg(world())
            .arg("--baseline")
            .arg(&by_service)
            .args(extra);
        cmd
    };
    run(&["--by", "service", "--bless"]).assert().success();
    run(&["--by", "service"]).assert().success();
    run(&[]).assert().code(2).stderr(contains("the baseline was made with --by service and this run with no --by"));
    run(&["--by", "category"]).assert().code(2).stderr(contains("check with --by service"));
    // A breakdown row is gated by its group: October S2's MTTR p50 is 26 h.
    let gate = rules(dir.path(), "min_n = 0\ngates = [\"mttr.p50_hours{service=S2,scope=all,month=2026-10} <= 24\"]\n");
    run(&["--by", "service", "--rules", gate.to_str().unwrap()]).assert().code(1).stdout(contains("1 violated"));
    // A layout-1 baseline says to bless again.
    let old = baseline(dir.path(), |doc| doc["version"] = 1.into());
    check_cmd(dir.path(), &old, &[]).assert().code(2).stderr(contains("version 1 is not mttx.kpis version 2 to 3")).stderr(contains("--bless"));
}

/// See: issue 29. A gate on a row of fewer tickets than `min_n` (default 30) is not evaluated and
/// passes, saying so: October's P1 MTTR p90 rests on 2 incidents, September's on 1.
#[test]
fn gates_on_small_rows_are_not_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let strict = rules(dir.path(), "gates = [\"mttr.p90_hours{priority=1} <= 1\"]\n");
    let run = |rules: &Path| {
        let mut cmd = mttx();
        cmd.args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--only", "mttr", "--rules"]).arg(rules).arg("--input").arg(world());
        cmd
    };
    run(&strict)
        .assert()
        .code(0)
        .stdout(contains("not evaluated (n = 2 < 30)"))
        .stdout(contains("not evaluated (n = 1 < 30)"))
        .stdout(contains("2 not evaluated"));
    // With min_n = 1 the same gate is evaluated: 4 h > 1 h in both months.
    let evaluated = rules(dir.path(), "min_n = 1\ngates = [\"mttr.p90_hours{priority=1} <= 1\"]\n");
    run(&evaluated).assert().code(1).stdout(contains("2 violated"));
}

/// See: issue 29. Volume is neutral: its change is shown as MOVED and passes, unless a tolerance
/// rule of the rules file names it. October's network P1 volume is 2.
#[test]
fn a_neutral_measure_moves_without_failing_unless_a_rule_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let network_p1 = vec![("month", Value::from("2026-10")), ("category", "network".into()), ("priority", 1.into())];
    let base = baseline(dir.path(), |d| *cell(d, "volume", &network_p1, "incidents") = 5.into());
    check_cmd(dir.path(), &base, &[]).assert().code(0).stdout(contains("MOVED")).stdout(contains("a neutral measure"));
    let ruled = rules(dir.path(), "[tolerances]\nvolume = \"relative 0.1\"\n");
    check_cmd(dir.path(), &base, &["--rules", ruled.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(contains("CHANGED"))
        .stdout(contains("beyond its tolerance rule"));
}

/// See: issue 29. A baseline made with other definitions (a KPI's SQL, the SLA policy) is not
/// compared: the check names what differs and exits 2, unless --allow-definition-change.
#[test]
fn changed_definitions_stop_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let edited_sql = baseline(dir.path(), |d| {
        let mttr = d["kpis"].as_array_mut().unwrap().iter_mut().find(|k| k["id"] == "mttr").unwrap();
        assert_eq!(mttr["sql_sha256"].as_str().map(str::len), Some(64), "kpis.json records each KPI's SQL hash");
        mttr["sql_sha256"] = "0".repeat(64).into();
    });
    check_cmd(dir.path(), &edited_sql, &[]).assert().code(2).stderr(contains("mttr's SQL")).stderr(contains("--allow-definition-change"));
    check_cmd(dir.path(), &edited_sql, &["--allow-definition-change"]).assert().code(0);
    let other_policy = baseline(dir.path(), |d| d["provenance"]["sla_policy_sha256"] = "1".repeat(64).into());
    check_cmd(dir.path(), &other_policy, &[]).assert().code(2).stderr(contains("the SLA policy"));
    // A baseline from before the hashes were recorded is compared as before.
    let older = baseline(dir.path(), |d| {
        d.as_object_mut().unwrap().remove("provenance");
        for kpi in d["kpis"].as_array_mut().unwrap() {
            kpi.as_object_mut().unwrap().remove("sql_sha256");
        }
    });
    check_cmd(dir.path(), &older, &[]).assert().code(0);
}

/// See: issues 29 and 30. A baseline of kpis.json version 2 names mtbf's mean outage `mttr_hours`,
/// and measured it before mtbf was redefined on agreed service time: check leaves that baseline's
/// mtbf out (there is nothing like to compare), so a value moved under the old name is no
/// regression, and a gate naming the old name is one clear error naming the new one.
#[test]
fn a_baseline_and_rules_with_renamed_columns() {
    let dir = tempfile::tempdir().unwrap();
    let rename = |doc: &mut Value, value: Option<f64>| {
        doc["version"] = 2.into();
        let mtbf = doc["kpis"].as_array_mut().unwrap().iter_mut().find(|k| k["id"] == "mtbf").unwrap();
        for column in mtbf["columns"].as_array_mut().unwrap() {
            if column["name"] == "mean_outage_hours" {
                column["name"] = "mttr_hours".into();
            }
        }
        for row in mtbf["rows"].as_array_mut().unwrap() {
            let row = row.as_object_mut().unwrap();
            let outage = row.remove("mean_outage_hours").expect("every mtbf row has a mean outage");
            row.insert("mttr_hours".into(), value.map(Value::from).unwrap_or(outage));
        }
    };
    let same = baseline(dir.path(), |d| rename(d, None));
    check_cmd(dir.path(), &same, &[]).assert().code(0);
    // The same layout with every mean outage at 1000 h: the old definition's values are left out.
    let moved = baseline(dir.path(), |d| rename(d, Some(1000.0)));
    let output = check_cmd(dir.path(), &moved, &["--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["comparisons"].as_array().unwrap().iter().filter(|c| c["kpi"] == "mtbf").all(|c| c["verdict"] == "new"), "{report}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("mttr_hours"));
    let old_gate = rules(dir.path(), "gates = [\"mtbf.mttr_hours{scope=ci} <= 10\"]\n");
    check_cmd(dir.path(), &same, &["--rules", old_gate.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(contains("`mtbf.mttr_hours` was replaced by `mtbf.mean_outage_hours`"))
        .stderr(contains("write `mtbf.mean_outage_hours`"));
}

/// See: issue 30. reopen_rate settles 14 days after a month ends, so at the cut-off 11-01 October's
/// rows are provisional and September's (ended 31 days before) are not. A change in October (the
/// baseline's `reopened` 5 against this run's 0, a count that fails on any change) is shown as
/// provisional and passes; with --gate-provisional it fails. The same change in September fails
/// either way. A violated gate on October (7 resolved, gated at ≤ 1) behaves alike.
#[test]
fn unsettled_months_are_provisional_unless_gated() {
    let dir = tempfile::tempdir().unwrap();
    let month = |m: &str| vec![("month", Value::from(m))];
    let october = baseline(dir.path(), |d| *cell(d, "reopen_rate", &month("2026-10"), "reopened") = 5.into());
    let doc: Value = serde_json::from_slice(&std::fs::read(&october).unwrap()).unwrap();
    let reopen = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == "reopen_rate").unwrap();
    assert_eq!((reopen["settles_days"].as_u64(), reopen["provisional"].clone()), (Some(14), serde_json::json!(["2026-10"])), "kpis.json says so");
    check_cmd(dir.path(), &october, &[]).assert().code(0).stdout(contains("PROVISIONAL"));
    check_cmd(dir.path(), &october, &["--gate-provisional"]).assert().code(1).stdout(contains("CHANGED"));
    let september = baseline(dir.path(), |d| *cell(d, "reopen_rate", &month("2026-09"), "reopened") = 5.into());
    check_cmd(dir.path(), &september, &[]).assert().code(1).stdout(contains("CHANGED"));
    let gate = rules(dir.path(), "min_n = 0\ngates = [\"reopen_rate.resolved{month=2026-10} <= 1\"]\n");
    let run_gate = |extra: &[&str]| {
        let mut cmd = mttx();
        cmd.args(["--as-of", AS_OF, "check", "--from", "2026-09", "--to", "2026-10", "--only", "reopen_rate", "--rules"])
            .arg(&gate)
            .arg("--input")
            .arg(world())
            .args(extra)
            .current_dir(dir.path());
        cmd
    };
    run_gate(&[]).assert().code(0).stdout(contains("PROVISIONAL"));
    run_gate(&["--gate-provisional"]).assert().code(1).stdout(contains("VIOLATED"));
}
