//! `mttx report`: snapshots of the Markdown and JSON for the hand-computed world, chart contents,
//! hostile data escaped in every output, the committed sample report, and the errors.

use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;

use crate::util::mttx;

/// Inputs are given relative to the repository root, as a user gives them: the data-quality
/// table names the files as given, and snapshots must not depend on where the clone lives.
const WORLD: &str = "queries/tests/_data/world";
const HOSTILE: &str = "tests/fixtures/hostile";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn world() -> PathBuf {
    PathBuf::from(WORLD)
}

fn in_root() -> assert_cmd::Command {
    let mut command = mttx();
    command.current_dir(root());
    command
}

fn report(args: &[&str], input: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    // stderr is a pipe here: no progress bars, and these inputs load without a reject to report.
    in_root().args(args).arg("report").arg("--input").arg(input).arg("--out").arg(out.path()).assert().success().stderr(predicates::str::is_empty());
    out
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn world_report_markdown_and_json_snapshots() {
    let out = report(&["--as-of", "2026-11-01"], WORLD);
    // The world's October: MTTR P1 is I1 (4 h) and I2 (4 h), so the headline p50 is 4.00 h; its
    // target is 4 h and equal meets it (queries/tests/_data/README.md works the world through).
    let md = read(out.path(), "report.md");
    assert!(md.contains("# Service report: October 2026"), "{md}");
    insta::assert_snapshot!("world_report_md", md);
    insta::assert_snapshot!("world_kpis_json", read(out.path(), "kpis.json"));
}

#[test]
fn world_report_takes_its_period_and_labels_a_partial_month() {
    let out = tempfile::tempdir().unwrap();
    // Rows stamped after the cut-off are rejected, and the load says so on stderr.
    in_root()
        .args(["--as-of", "2026-10-16T12:00:00Z", "report", "--period", "2026-10", "--input", WORLD, "--out"])
        .arg(out.path())
        .assert()
        .success()
        .stderr(contains("rejected").and(contains("after_as_of")));
    let md = read(out.path(), "report.md");
    // 15.5 of October's 31 days lie before the cut-off: 50.0%.
    assert!(md.contains("October 2026, a partial month: data to the cut-off 2026-10-16 12:00 UTC (50.0% of the month)"), "{md}");
    let out = report(&["--as-of", "2026-11-01"], WORLD);
    let html = read(out.path(), "report.html");
    assert!(html.contains("October 2026, cut-off 2026-11-01 00:00 UTC"));
    // Unasked, a cut-off in the middle of October reports September, the last month whose last
    // day the data reaches; a cut-off on October's last day reports October.
    let period_for = |as_of: &str| {
        let out = tempfile::tempdir().unwrap();
        let assert = in_root().args(["--as-of", as_of, "report", "--input", WORLD, "--out"]).arg(out.path()).assert().success();
        String::from_utf8_lossy(&assert.get_output().stdout).lines().next().unwrap_or_default().to_string()
    };
    assert!(period_for("2026-10-16T12:00:00Z").starts_with("report for 2026-09:"));
    assert!(period_for("2026-10-31T08:00:00Z").starts_with("report for 2026-10:"));
}

#[test]
fn a_period_outside_the_data_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let run = |period: &str| {
        in_root().args(["--as-of", "2026-11-01", "report", "--period", period, "--out"]).arg(out.path()).arg("--input").arg(world()).assert().code(2)
    };
    run("2020-01").stderr(contains("--period 2020-01: the data starts in 2026-08 (its first incident)"));
    run("2027-01").stderr(contains("it starts after the cut-off 2026-11-01T00:00:00Z"));
    run("2026-13").stderr(contains("give a month as YYYY-MM"));
}

#[test]
fn charts_have_titles_axes_legends_and_series() {
    let out = report(&["--as-of", "2026-11-01"], WORLD);
    let svg = |name: &str| {
        let text = read(out.path(), &format!("charts/{name}.svg"));
        let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{name}.svg is not XML: {e}"));
        doc.descendants().filter(|n| n.has_tag_name("text")).map(|n| n.text().unwrap_or("").trim().to_string()).collect::<Vec<String>>()
    };
    let texts = svg("mttr_trend");
    for expected in [
        "Mean time to resolve (MTTR) by priority: median, with whiskers to p90",
        "hours (log scale)",
        "month (resolved)",
        "P1 p50",
        "P2 p50",
        "p50 to p90",
        "Sep 26",
        "Oct 26",
    ] {
        assert!(texts.iter().any(|t| t == expected), "mttr_trend.svg lacks {expected:?}: {texts:?}");
    }
    let texts = svg("sla_met");
    for expected in ["SLA met by priority, October 2026", "met (% of clocks decided)", "priority", "response met", "resolution met", "target", "P1"] {
        assert!(texts.iter().any(|t| t == expected), "sla_met.svg lacks {expected:?}: {texts:?}");
    }
    let texts = svg("availability_ci");
    assert!(texts.iter().any(|t| t == "availability of agreed service time (%, axis from 95%)") && texts.iter().any(|t| t == "CI1"), "{texts:?}");
    // Every chart is drawn twice: SVG for HTML, PNG for Markdown.
    let md = read(out.path(), "report.md");
    for entry in std::fs::read_dir(out.path().join("charts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "svg") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let png = std::fs::read(path.with_extension("png")).unwrap();
            assert_eq!(&png[1..4], b"PNG", "{stem}.png");
            assert!(md.contains(&format!("(charts/{stem}.png)")) || md.contains("no data for this period"), "{stem} is not in report.md");
        }
    }
}

#[test]
fn a_chart_with_no_data_says_so() {
    // No CI of the world has an outage (a major incident) in the rolling window ending with
    // September (it starts where the data does, 08-31 22:00): no availability to chart.
    let out = tempfile::tempdir().unwrap();
    in_root().args(["--as-of", "2026-11-01", "report", "--period", "2026-09", "--out"]).arg(out.path()).arg("--input").arg(world()).assert().success();
    let html = read(out.path(), "report.html");
    assert!(html.contains("<p class=\"no-data\">Least available configuration items, September 2026: no data for this period.</p>"), "{html}");
    let md = read(out.path(), "report.md");
    assert!(md.contains("*Least available configuration items, September 2026: no data for this period.*"), "{md}");
    let svg = read(out.path(), "charts/availability_ci.svg");
    assert!(svg.contains("No data for this period") && !svg.contains("availability of agreed"), "the SVG says so and draws no axes");
}

#[test]
fn hostile_values_are_escaped_in_html_markdown_svg_and_csv() {
    let out = report(&[], HOSTILE);
    let html = read(out.path(), "report.html");
    assert!(!html.contains("<script"), "no script element at all");
    assert!(!html.contains("<img"), "no image element");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("&lt;script&gt;window.__mttx_pwned=1;alert(2)&lt;/script&gt;"));
    assert!(html.contains("[click](javascript:alert(1)) | &quot;quoted&quot; &#39;single&#39;"));
    assert!(html.contains("Content-Security-Policy"));

    let md = read(out.path(), "report.md");
    assert!(!md.contains("<img") && !md.contains("<script") && !md.contains("<b>"), "raw HTML in report.md");
    assert!(md.contains("\\[click\\](javascript:alert(1)) \\| \"quoted\" 'single'"), "links and pipes are escaped");
    assert!(md.contains("\\*\\*bold\\*\\* \\_em\\_ \\`code\\`") || !md.contains("**bold**"), "emphasis is escaped");
    // Every table row has as many cell separators as its header: no pipe leaked from the data.
    let mut header_pipes = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            header_pipes = None;
            continue;
        }
        let pipes = line.replace("\\|", "").matches('|').count();
        match header_pipes {
            None => header_pipes = Some(pipes),
            Some(expected) => assert_eq!(pipes, expected, "a data pipe split this row: {line}"),
        }
    }

    for name in ["availability_ci", "availability_service"] {
        let svg = read(out.path(), &format!("charts/{name}.svg"));
        roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg: {e}"));
        assert!(!svg.contains("<img") && !svg.contains("<script"), "{name}.svg");
    }
    assert!(read(out.path(), "charts/availability_ci.svg").contains("&lt;img src=x onerror=alert(1)&gt;"));

    for name in ["kpis.csv", "benchmark.csv", "tickets.csv"] {
        let text = read(out.path(), name);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                let dangerous = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
                assert!(!dangerous || cell.parse::<f64>().is_ok(), "{name}: formula cell {cell:?}");
            }
        }
    }
}

#[test]
fn benchmark_against_a_baseline_and_peers() {
    let dir = tempfile::tempdir().unwrap();
    let september = dir.path().join("september");
    in_root().args(["--as-of", "2026-11-01", "report", "--period", "2026-09", "--out"]).arg(&september).arg("--input").arg(world()).assert().success();
    let peers = dir.path().join("peers.csv");
    std::fs::write(&peers, "kpi,key,measure,p25,median,p75\nmttr,priority=1,p50_hours,2,5,9\nreopen_rate,,,0.01,0.02,0.03\n").unwrap();
    let out = dir.path().join("october");
    in_root()
        .args(["--as-of", "2026-11-01", "report", "--period", "2026-10", "--baseline"])
        .arg(september.join("kpis.json"))
        .arg("--benchmark")
        .arg(&peers)
        .arg("--out")
        .arg(&out)
        .arg("--input")
        .arg(world())
        .assert()
        .success();
    let md = read(&out, "report.md");
    assert!(md.contains("| baseline | change | peers p25–p75 | among peers |"), "{md}");
    let csv = read(&out, "benchmark.csv");
    // The peer key `priority=1` names no scope, so it means the per-priority row.
    let mttr_p50 = csv.lines().find(|l| l.starts_with("mttr,\"scope=priority,priority=1\",p50_hours,")).unwrap();
    assert!(mttr_p50.ends_with(",2,5,9"), "peer quartiles in benchmark.csv: {mttr_p50}");

    // Each refused file is named with what to fix, before any work.
    let refused = |flag: &str, file: &Path| {
        in_root()
            .args(["--as-of", "2026-11-01", "report", flag])
            .arg(file)
            .arg("--out")
            .arg(dir.path().join("bad"))
            .arg("--input")
            .arg(world())
            .assert()
            .code(2)
    };
    std::fs::write(&peers, "kpi,key,p25,median,p75\nmttr,priority=1,2,five,9\n").unwrap();
    refused("--benchmark", &peers).stderr(contains("peers.csv: line 2, column median: `five` is not a number"));
    std::fs::write(&peers, "kpi,key,p25,median,p75\nmttr,prio=1,2,5,9\n").unwrap();
    refused("--benchmark", &peers).stderr(contains("line 2, column key: `prio` is not a key of mttr"));

    // A baseline is one month; a whole-window KPI document would compare against its first.
    let window = dir.path().join("window.json");
    in_root().args(["--as-of", "2026-11-01", "kpi", "--format", "json", "--out"]).arg(&window).arg("--input").arg(world()).assert().success();
    refused("--baseline", &window).stderr(contains("a baseline for a report covers one month, and this one covers 2026-08 to 2026-10"));
}

/// reports/sample/ is what the current code writes for sample-data. After a change that moves
/// it, regenerate with the README's main command:
/// `cargo run -q -- report --input sample-data --out reports/sample`.
#[test]
fn committed_sample_report_is_current() {
    let committed = root().join("reports/sample");
    let out = report(&[], "sample-data");
    let list = |dir: &Path| {
        let mut files: Vec<PathBuf> = Vec::new();
        for sub in [dir.to_path_buf(), dir.join("charts")] {
            for entry in std::fs::read_dir(&sub).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    files.push(path.strip_prefix(dir).unwrap().to_path_buf());
                }
            }
        }
        files.sort();
        files
    };
    assert_eq!(list(&committed), list(out.path()), "reports/sample lists other files; regenerate it (see this test's doc)");
    for file in list(out.path()) {
        let (want, got) = (std::fs::read(committed.join(&file)).unwrap(), std::fs::read(out.path().join(&file)).unwrap());
        let same = match file.extension().and_then(|e| e.to_str()) {
            // Full-precision means may differ in the last bit where a machine with more cores
            // sums partial aggregates in another order; everything shown to people is rounded.
            Some("json" | "csv") => same_up_to_float_noise(&String::from_utf8_lossy(&want), &String::from_utf8_lossy(&got)),
            _ => want == got,
        };
        assert!(
            same,
            "reports/sample/{} differs from what the code writes now; regenerate it: cargo run -q -- report --input sample-data --out reports/sample",
            file.display()
        );
    }
}

fn same_up_to_float_noise(a: &str, b: &str) -> bool {
    let tokens = |s: &str| s.split(|c: char| ",:\"\n[]{} ".contains(c)).filter(|t| !t.is_empty()).map(str::to_string).collect::<Vec<_>>();
    let (a, b) = (tokens(a), tokens(b));
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| match (x.parse::<f64>(), y.parse::<f64>()) {
            (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
            _ => x == y,
        })
}

/// A planted change must come out as the one significant deterioration: September and October
/// each have 40 P3 incidents; October's take twice as long to resolve (8 h + i/4 against 4 h +
/// i/8 for i = 0..40, so every October value exceeds every September one: Mann–Whitney U = 0,
/// p ≈ 3e-14 before correction). Nothing else moves, so nothing else may be flagged.
#[test]
fn a_planted_slowdown_is_the_significant_deterioration() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,opened_at,acknowledged_at,resolved_at,priority,ci,category\n");
    for (month, base, step) in [("09", 4.0, 0.125), ("10", 8.0, 0.25)] {
        for i in 0..40u32 {
            let day = 1 + i % 28;
            let minutes = ((base + step * i as f64) * 60.0).round() as i64;
            let opened = chrono::NaiveDate::from_ymd_opt(2026, month.parse().unwrap(), day).unwrap().and_hms_opt(6, 0, 0).unwrap();
            let resolved = opened + chrono::Duration::minutes(minutes);
            let acknowledged = opened + chrono::Duration::minutes(10);
            let f = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            csv.push_str(&format!("I{month}-{i},{},{},{},3,CI{},software\n", f(opened), f(acknowledged), f(resolved), i % 7));
        }
    }
    std::fs::write(dir.path().join("incidents.csv"), csv).unwrap();
    let out = dir.path().join("out");
    mttx().args(["--as-of", "2026-11-01", "report", "--input"]).arg(dir.path().join("incidents.csv")).arg("--out").arg(&out).assert().success();
    let md = read(&out, "report.md");
    let section = |title: &str| md.split(title).nth(1).and_then(|rest| rest.split("\n\n").nth(1)).unwrap_or_else(|| panic!("no {title} in {md}")).to_string();
    let worse = section("Biggest deteriorations");
    assert!(worse.contains("Mean time to resolve (MTTR)") && worse.contains("p50 (P3)") && worse.contains("n=40 vs n=40"), "{worse}");
    assert_eq!(section("Biggest improvements"), "- None significant.", "{md}");
    let csv = read(&out, "benchmark.csv");
    // The key holds commas, so the CSV quotes it: kpi, "key", measure, better, value, value_low,
    // value_high, n, previous, previous_n, previous_p_value, previous_q_value, …
    let mttr = csv.lines().find(|l| l.starts_with("mttr,\"scope=priority,priority=3\",p50_hours,")).unwrap();
    let fields: Vec<&str> = mttr.split(',').skip(1).collect();
    let (p, q): (f64, f64) = (fields[10].parse().unwrap(), fields[11].parse().unwrap());
    assert!(p < 1e-10 && q < 1e-8, "{mttr}");
}

/// A user's KPI whose header names a column its query does not return fails the report with the
/// file and the columns it has, instead of silently losing the test.
#[test]
fn a_header_naming_a_missing_column_is_an_error() {
    let queries = tempfile::tempdir().unwrap();
    let mttr = std::fs::read_to_string(root().join("queries/mttr.sql")).unwrap();
    let broken = mttr.replace("= quantile(durations.hours, 0.5)", "= proportion(breached, measured)");
    assert_ne!(broken, mttr, "the header changed");
    std::fs::write(queries.path().join("mttr.sql"), broken).unwrap();
    let out = tempfile::tempdir().unwrap();
    in_root()
        .args(["--as-of", "2026-11-01", "report", "--queries"])
        .arg(queries.path())
        .arg("--out")
        .arg(out.path())
        .arg("--input")
        .arg(world())
        .assert()
        .code(2)
        .stderr(contains(
            "mttr.sql: mttr: header `significance:` names column `breached`, which the query does not return; it returns month, scope, priority, n,",
        ));
}

/// Groups are judged on their own time against their OLA (the default policy's "*": P2 12 h on
/// 24×7). The incidents have no assignment events, so each group held its incidents throughout.
/// October: group B has 15 P2 incidents of 20 h (none within 12 h: 0 of 15; none in September), A
/// 12 of 10 h (all within; September 12 of 5 h, all within: 100.0%), C 3 of 100 h: below the
/// minimum of 10, not ranked.
#[test]
fn teams_are_ranked_worst_first_and_small_groups_listed_apart() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,opened_at,acknowledged_at,resolved_at,priority,assignment_group,service\n");
    let mut add = |group: &str, month: u32, count: u32, hours: i64| {
        for i in 0..count {
            let opened = chrono::NaiveDate::from_ymd_opt(2026, month, 2 + i).unwrap().and_hms_opt(8, 0, 0).unwrap();
            let f = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            let (ack, resolved) = (opened + chrono::Duration::minutes(5), opened + chrono::Duration::hours(hours));
            csv.push_str(&format!("{group}-{month}-{i},{},{},{},2,{group},Web\n", f(opened), f(ack), f(resolved)));
        }
    };
    add("A", 9, 12, 5);
    add("A", 10, 12, 10);
    add("B", 10, 15, 20);
    add("C", 10, 3, 100);
    std::fs::write(dir.path().join("incidents.csv"), csv).unwrap();
    let report = |min_n: &str| {
        let out = dir.path().join(format!("out-{min_n}"));
        mttx()
            .args(["--as-of", "2026-11-01", "report", "--period", "2026-10", "--min-n", min_n, "--input"])
            .arg(dir.path().join("incidents.csv"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let md = read(&out, "report.md");
        let start = md.find("Assignment groups: time with each group, against its OLA.").expect("the ranking");
        md[start..md.find("services with the worst MTTR p50").unwrap()].to_string()
    };
    let ranking = report("10");
    let b = ranking.find("| B | 15 | 0 of 15 (0.0%) | — | 20 h (n=15) |").unwrap_or_else(|| panic!("{ranking}"));
    let a = ranking.find("| A | 12 | 12 of 12 (100.0%) | 100.0% | 10 h (n=12) |").unwrap_or_else(|| panic!("{ranking}"));
    assert!(b < a, "least within its OLA first: {ranking}");
    assert!(ranking.contains("Not ranked, fewer than 10 incidents in the month: C (n=3)."), "{ranking}");
    // With a minimum of 2, C ranks: none within its OLA, as B, after B's 15 incidents.
    let ranking = report("2");
    assert!(ranking.find("| B |").unwrap() < ranking.find("| C | 3 | 0 of 3 (0.0%) | — | 100 h (n=3) |").unwrap(), "{ranking}");
    assert!(!ranking.contains("Not ranked"), "{ranking}");
}

/// See: issue 29. The riskiest CIs to patch, on patch_risk_by_ci's hand-computed data (its case
/// five_patches): D, A and C are tested, B has too few patches. The patch family is the lift's
/// Fisher test (p = 0.509: failed patches A3 and D3 against 17 successful ones) and the rate tests
/// of A (p = 0.000409214) and D (p = 0.001810774); C has no incident, so no test: m = 3.
/// q(lift) = 0.509; q(D) = min(0.001810774 × 3/2 = 0.002716, 0.509) = 0.003;
/// q(A) = min(0.000409214 × 3 = 0.001228, 0.002716) = 0.001.
#[test]
fn the_riskiest_cis_to_patch_share_the_patch_family() {
    let out = tempfile::tempdir().unwrap();
    in_root()
        .args(["--as-of", "2026-11-01T00:00:00Z", "report", "--period", "2026-10", "--input", "queries/tests/patch_risk_by_ci/five_patches/data", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let md = read(out.path(), "report.md");
    assert!(md.contains("holds the lift's test and 2 CIs' rate tests"), "{md}");
    assert!(
        md.contains("| D | 5 (1), low n | 2 (0.50/day) | 0 (0.00/day) | no baseline incident (95% CI 5.40–2343.30) | **p=0.002 q=0.003, significant** |"),
        "{md}"
    );
    assert!(md.contains("| A | 5 (1), low n | 7 (0.50/day) | 5 (0.06/day) | 8.70× (95% CI 2.76–27.41) | **p=4.1e-4 q=0.001, significant** |"), "{md}");
    assert!(md.contains("| C | 5 (0), low n | 0 (0.00/day) | 0 (0.00/day) | — | no test: no incidents |"), "{md}");
    assert!(!md.contains("| B |"), "B has 4 patches, fewer than 5");
    assert!(md.contains("Fisher's exact test p=0.509, q=0.509 in the patch family, not significant"), "{md}");
}

/// See: issue 31. The sample report's process-behaviour charts: kpis.json carries each headline
/// chart with every month's value, and its limits are the mean ± 2.66 × the mean moving range of
/// those values (recomputed here from the points it lists); the section lists each measure in
/// words. The world's two months are too few for a chart, and its report says so.
#[test]
fn process_behaviour_charts_carry_their_limits_and_say_too_few_months() {
    let doc: serde_json::Value = serde_json::from_str(&read(&root().join("reports/sample"), "kpis.json")).unwrap();
    let charts = doc["process_behaviour"].as_array().expect("kpis.json carries process_behaviour");
    let labels: Vec<&str> = charts.iter().map(|c| c["label"].as_str().unwrap()).collect();
    assert_eq!(
        labels,
        [
            "MTTR median, all priorities",
            "MTTR median, P1",
            "MTTR median, P2",
            "MTTA median, all priorities",
            "MTTA median, P1",
            "MTTA median, P2",
            "Resolution SLA met, all priorities",
            "Resolution SLA met, P1",
            "Resolution SLA met, P2",
            "Response SLA met, all priorities",
            "Response SLA met, P1",
            "Response SLA met, P2",
            "Open backlog at month end, all priorities",
            "Open backlog at month end, P1",
            "Open backlog at month end, P2",
            "Incidents opened per day",
            "Major incidents opened per day",
            "Change failure rate"
        ]
    );
    for chart in charts {
        let values: Vec<f64> = chart["points"].as_array().unwrap().iter().filter_map(|p| p["value"].as_f64()).collect();
        assert_eq!(values.len(), 12, "{}", chart["label"]);
        let mean = values.iter().sum::<f64>() / 12.0;
        let mr = values.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / 11.0;
        let close = |key: &str, want: f64| (chart[key].as_f64().unwrap() - want).abs() < 1e-9 * want.abs().max(1.0);
        assert!(close("centre", mean) && close("mean_moving_range", mr), "{}", chart["label"]);
        assert!(close("upper_limit", mean + 2.66 * mr) && close("lower_limit", mean - 2.66 * mr) && close("moving_range_limit", 3.268 * mr));
        assert_eq!(chart["provisional"], true);
        assert!(chart["signals"].is_array());
    }
    let md = read(&root().join("reports/sample"), "report.md");
    assert!(
        md.contains("## Process behaviour") && md.contains("| MTTR median, P1 |") && md.contains("(charts/xmr_mttr_1.png)"),
        "the section lists and draws them"
    );

    let out = report(&["--as-of", "2026-11-01"], WORLD);
    let md = read(out.path(), "report.md");
    assert!(md.contains("No chart: the months the limits come from hold fewer than 6"), "{md}");
    let doc: serde_json::Value = serde_json::from_str(&read(out.path(), "kpis.json")).unwrap();
    assert!(doc.get("process_behaviour").is_none());
}

/// See: issue 31. With the limits fixed on the months before the sample's planted improvement
/// (P3 resolved in 0.7 of the time from 2026-06), the all-priorities MTTR median signals below its
/// centre line after it, favourably, and nowhere before; MTTA, which the shift does not touch,
/// does not signal. Months outside the charts are refused.
#[test]
fn limits_fixed_before_the_planted_shift_show_it() {
    let out = tempfile::tempdir().unwrap();
    in_root()
        .args(["--as-of", "2026-11-01", "report", "--input", "sample-data", "--limits-from", "2025-11..2026-05", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let doc: serde_json::Value = serde_json::from_str(&read(out.path(), "kpis.json")).unwrap();
    let charts = doc["process_behaviour"].as_array().unwrap();
    let chart = |label: &str| charts.iter().find(|c| c["label"] == label).unwrap();
    let mttr = chart("MTTR median, all priorities");
    assert_eq!((mttr["limits_from"].clone(), mttr["limit_points"].as_u64()), (serde_json::json!(["2025-11", "2026-05"]), Some(7)));
    let signals = mttr["signals"].as_array().unwrap();
    assert!(!signals.is_empty() && signals.iter().all(|s| s["side"] == "below" && s["month"].as_str().unwrap() >= "2026-06"), "{signals:?}");
    assert!(chart("MTTA median, all priorities")["signals"].as_array().unwrap().is_empty());
    // The favourable signal is on the first page's On track list, in words.
    let on_track = doc["attention"]["on_track"].as_array().unwrap();
    let item =
        on_track.iter().find(|i| i["reason"] == "signal" && i["kpi"] == "mttr" && i["key"] == "scope=all,priority=").expect("the MTTR signal is on track");
    assert!(item["text"].as_str().unwrap().starts_with("MTTR median, all priorities: "), "{item}");
    assert!(!doc["attention"]["needs_attention"].as_array().unwrap().iter().any(|i| i["reason"] == "signal" && i["kpi"] == "mttr"));
    assert!(read(out.path(), "report.md").contains("| MTTR median, all priorities |") && read(out.path(), "report.md").contains(", favourable"));
    in_root()
        .args(["--as-of", "2026-11-01", "report", "--input", "sample-data", "--limits-from", "2024-01..2024-06", "--out"])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--limits-from 2024-01..2024-06: the process-behaviour limits come from months the charts show, 2025-11 to 2026-10"));
}
