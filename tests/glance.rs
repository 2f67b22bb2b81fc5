//! Figures people read at a glance (issue 31, part 3), on the committed sample report: one date
//! format, acknowledgement in minutes and problems in days, every charted month in trend.csv and
//! kpis.json, MTTD as one line with its coverage, the 12-month SLA compliance chart, target bands
//! and availability axes that say where they start.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{kpi_rows, thousands};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/sample")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(sample().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn kpis() -> Value {
    serde_json::from_str(&read("kpis.json")).unwrap()
}

#[test]
fn dates_read_one_way() {
    let md = read("report.md");
    // No RFC 3339 instant anywhere in the text: times are "2026-10-31 23:59" in the reporting zone.
    let stamp = md.char_indices().find(|(i, _)| {
        let rest = &md.as_bytes()[*i..];
        rest.len() > 16 && rest[4] == b'-' && rest[7] == b'-' && rest[10] == b'T' && rest[13] == b':' && rest[..4].iter().all(u8::is_ascii_digit)
    });
    assert!(stamp.is_none(), "an RFC 3339 time in report.md: {}", &md[stamp.unwrap().0..stamp.unwrap().0 + 30]);
    assert!(md.contains("data to the cut-off 2026-10-31 23:59 UTC"), "the subtitle's cut-off");
    // Text gives months as "Sep 2026"; "Sep 26" is left to chart axes.
    assert!(!md.contains("Sep 26 ") && md.contains("Sep 2026"));
}

#[test]
fn trend_csv_and_kpis_json_hold_every_charted_month_in_the_charts_units() {
    let doc = kpis();
    let trend = doc["trend"].as_array().expect("kpis.json carries the charted months");
    let csv = read("trend.csv");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("chart,series,unit,month,value,whisker"));
    let months: usize = trend.iter().map(|s| s["months"].as_array().unwrap().len()).sum();
    assert_eq!(lines.count(), months, "one CSV row per series and month");
    let series = |chart: &str, name: &str| trend.iter().find(|s| s["chart"] == chart && s["series"] == name).unwrap_or_else(|| panic!("no {chart} {name}"));
    let at = |s: &Value, month: &str| {
        let i = s["months"].as_array().unwrap().iter().position(|m| m == month).unwrap();
        s["values"][i].as_f64().unwrap()
    };
    let window = series("mttr_trend", "all p50")["months"].as_array().unwrap().len();
    assert_eq!(window, 12, "every month the sample's charts show, not two");
    // MTTA reads in minutes: the chart's October median is 60 × the KPI's hours.
    let mtta = kpi_rows(&doc, "mtta").iter().find(|r| r["scope"] == "all").unwrap()["p50_hours"].as_f64().unwrap();
    let drawn = series("mtta_trend", "all p50");
    assert_eq!(drawn["unit"], "minutes");
    assert!((at(drawn, "2026-10") - 60.0 * mtta).abs() < 1e-9);
    // SLA compliance: P1 resolution met in October is 100 × (1 − its breach rate).
    let p1 = kpi_rows(&doc, "sla_breach").iter().find(|r| r["scope"] == "priority" && r["priority"] == 1 && r["sla"] == "resolution").unwrap();
    let met = series("sla_compliance", "resolution, P1");
    assert!((at(met, "2026-10") - 100.0 * (1.0 - p1["breach_rate"].as_f64().unwrap())).abs() < 1e-9);
    assert!(csv.contains(&format!("sla_compliance,\"resolution, P1\",met (% of clocks decided),2026-10,{}", at(met, "2026-10"))));
}

#[test]
fn mttd_is_one_line_with_its_coverage() {
    let doc = kpis();
    let trend = doc["trend"].as_array().unwrap();
    let mttd: Vec<&Value> = trend.iter().filter(|s| s["chart"] == "mttd_trend").collect();
    assert_eq!(mttd.len(), 1, "MTTD is drawn over all priorities only");
    assert!(mttd[0]["whiskers"].is_array(), "with its whisker to p90");
    // Coverage: MTTD's n over the incidents opened in October (the volume rows summed).
    let detected = kpi_rows(&doc, "mttd").iter().find(|r| r["scope"] == "all").unwrap()["n"].as_i64().unwrap();
    let opened: i64 = kpi_rows(&doc, "volume").iter().filter(|r| r["month"] == "2026-10").map(|r| r["incidents"].as_i64().unwrap()).sum();
    let want = format!(
        "Coverage: {} of {} incidents opened in October 2026 ({:.1}%)",
        thousands(detected),
        thousands(opened),
        100.0 * detected as f64 / opened as f64
    );
    assert!(read("report.md").contains(&want), "{want}");
}

#[test]
fn charts_show_targets_as_bands_and_say_where_axes_start() {
    // P1 MTTR's target is 4 h (sample-data/targets.toml): the band up to it is in the legend.
    let svg = read("charts/xmr_mttr_1.svg");
    assert!(svg.contains("target ≤ 4.00 h"), "the target band is named");
    // The P1 resolution SLA's breach-rate target of 2% reads as a band from 98% met.
    assert!(read("charts/xmr_sla_resolution_1.svg").contains("target ≥ 98.0%"));
    // Availability bars start where the caption and the axis say.
    let md = read("report.md");
    let caption = md.lines().find(|l| l.contains("least available in October 2026; the axis starts at")).expect("the availability caption");
    let start = caption.split("the axis starts at ").nth(1).unwrap().split('%').next().unwrap();
    assert!(read("charts/availability_service.svg").contains(&format!("axis from {start}%")), "{caption}");
}

/// n counts what the figure is about: the problem backlog's n is the open problems (problem_trend's
/// header gives that measure its own n), not the month's incidents.
#[test]
fn n_counts_what_the_figure_is_about() {
    let csv = read("benchmark.csv");
    let field = |line: &str, i: usize| line.split(',').nth(i).unwrap().to_string();
    // kpi, key, measure, better, value, value_low, value_high, n, previous, previous_n, …
    let open = csv.lines().find(|l| l.starts_with("problem_trend,,problems_open_at_month_end,")).unwrap();
    assert_eq!((field(open, 7), field(open, 9)), (field(open, 4), field(open, 8)), "{open}");
    let incidents = csv.lines().find(|l| l.starts_with("problem_trend,,incidents,")).unwrap();
    assert_eq!(field(incidents, 7), field(incidents, 4), "{incidents}");
    let opened: i64 = kpi_rows(&kpis(), "volume").iter().filter(|r| r["month"] == "2026-10").map(|r| r["incidents"].as_i64().unwrap()).sum();
    assert_eq!(field(incidents, 7), opened.to_string());
}

/// The appendix's benchmark table leaves lists out and, where a KPI has more rows than it shows,
/// shows the largest: the incident volume by category and priority in descending order, and the
/// services least available first (availability is better higher), never one row per CI.
#[test]
fn the_appendix_drops_lists_and_shows_the_largest_rows() {
    let md = read("report.md");
    let appendix = &md[md.find("## Appendix: month on month").unwrap()..md.find("## Definitions").unwrap()];
    let block = |title: &str| -> Vec<Vec<String>> {
        let start = appendix.find(&format!("| {title} |")).unwrap_or_else(|| panic!("no {title}"));
        appendix[start..]
            .lines()
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with("|  |"))
            .map(|(_, l)| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
            .collect()
    };
    let volume: Vec<f64> = block("Incident volume").iter().map(|r| r[3].replace(',', "").parse().unwrap()).collect();
    assert_eq!(volume.len(), 12);
    assert!(volume.windows(2).all(|w| w[0] >= w[1]), "{volume:?}");
    let availability: Vec<(String, f64)> = block("Availability, MTBF and MTBSI on agreed service time")
        .iter()
        .filter(|r| r[2] == "availability")
        .map(|r| (r[1].clone(), r[3].trim_end_matches('%').parse().unwrap()))
        .collect();
    assert!(!availability.is_empty() && availability.iter().all(|(key, _)| key.starts_with("service, ")), "{availability:?}");
    assert!(availability.windows(2).all(|w| w[0].1 <= w[1].1), "{availability:?}");
    for list in ["major_incident_list", "problem_candidates", "patch_risk_by_ci", "mtbf by CI"] {
        // Markdown escapes the underscores of a KPI id.
        assert!(appendix.contains(&list.replace('_', "\\_")), "the note names {list} as left out");
    }
    assert!(!appendix.contains("| Major-incident review list |"));
}

/// Flow: the October point of each line of opened_resolved is the month's volume rows summed, MTTR's
/// n over all priorities and the all-priority backlog, from kpis.json.
#[test]
fn opened_and_resolved_are_drawn_from_volume_mttr_and_backlog() {
    let doc = kpis();
    let trend = doc["trend"].as_array().unwrap();
    let october = |name: &str| {
        let s = trend.iter().find(|s| s["chart"] == "opened_resolved" && s["series"] == name).unwrap_or_else(|| panic!("no {name}"));
        let i = s["months"].as_array().unwrap().iter().position(|m| m == "2026-10").unwrap();
        s["values"][i].as_f64().unwrap()
    };
    let opened: f64 = kpi_rows(&doc, "volume").iter().filter(|r| r["month"] == "2026-10").map(|r| r["incidents"].as_f64().unwrap()).sum();
    let resolved = kpi_rows(&doc, "mttr").iter().find(|r| r["scope"] == "all").unwrap()["n"].as_f64().unwrap();
    let open = kpi_rows(&doc, "backlog").iter().find(|r| r["scope"] == "all").unwrap()["open_incidents"].as_f64().unwrap();
    assert_eq!((october("opened"), october("resolved"), october("open at month end")), (opened, resolved, open));
    assert!(read("report.md").contains("## Flow"));
}

/// Coverage of what the KPIs depend on (issue 32, part 2), from kpis.json's `coverage`, against
/// the KPIs that rest on each field: the period's incidents are volume's, those with started_at are
/// MTTD's n, those with a problem_id problem_trend's incidents_with_problem.
#[test]
fn coverage_of_each_field_matches_the_kpis_that_rest_on_it() {
    let doc = kpis();
    let coverage = &doc["coverage"];
    let with = |field: &str| coverage["fields"].as_array().unwrap().iter().find(|f| f["field"] == field).unwrap()["with"].as_i64().unwrap();
    let opened: i64 = kpi_rows(&doc, "volume").iter().filter(|r| r["month"] == "2026-10").map(|r| r["incidents"].as_i64().unwrap()).sum();
    assert_eq!(coverage["incidents"].as_i64(), Some(opened));
    let mttd = kpi_rows(&doc, "mttd").iter().find(|r| r["scope"] == "all").unwrap()["n"].as_i64().unwrap();
    assert_eq!(with("started_at"), mttd);
    let problems = kpi_rows(&doc, "problem_trend").iter().find(|r| r["month"] == "2026-10").unwrap()["incidents_with_problem"].as_i64().unwrap();
    assert_eq!(with("problem_id"), problems);
    let md = read("report.md");
    assert!(md.contains(&format!("MTTD covers {} of {} incidents (started\\_at known)", thousands(mttd), thousands(opened))), "the fallback in words");
}
