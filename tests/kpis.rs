//! Every built-in KPI against queries/tests/_data/world/ (shared with the golden cases), a small world whose numbers are worked out by
//! hand below. Run: --as-of 2026-11-01T00:00:00Z, --from 2026-09 --to 2026-10, time zone UTC, the
//! default SLA policy (P1/P2 24×7; P3–P5 office hours Mon–Fri 08:00–12:00 and 13:00–17:30 UTC,
//! 8.5 h a day), failure priority 2, patch window 72 h, candidates 3 incidents in 30 days.
//!
//! The incidents (all times UTC; O opened, S started, A acknowledged, R resolved):
//!   I1  P1 CI1/S1 network      O 10-01 08:00  S 07:30  A 08:10  R 10-01 12:00  major
//!   I2  P1 CI1/S1 network      O 10-01 10:00           A 10:30  R 10-01 14:00
//!   I3  P3 CI2/S2 database     O 09-30 20:00 (Wed)     A 22:00  R 10-02 20:00 (Fri)
//!   I4  P3 CI4/S2 database     O 10-05 09:00 (Mon), never acknowledged or resolved
//!   I5  P2 CI2/S2 database     O 10-10 09:00  S 08:00  A 09:20  R 13:00; problem PRB1, caused by CHG1
//!   I6  P4 CI3/S1 application  O 09-15 09:00 (Tue)     A 12:00  R 09-16 09:00; reopened once;
//!                              paused "Awaiting User Info" 13:00–15:00
//!   I7  P4 CI3/S1 application  O 09-20 10:00 (Sun)     A 10:30  R 12:00
//!   I8  P5 CI3/S1 application  O 10-10 10:00 (Sat)     A 10-12 08:00 (Mon)  R 10-12 10:00
//!   I9  P2 CI1/S1 network      O 10-02 14:00           A 14:05  R 16:00
//!   I10 P1 CI4/S2 storage      O 08-31 22:00  S 20:00  A 22:05  R 09-01 02:00
//!   I11 P2 CI5/-  network      O 10-20 09:00           A 09:10  R 10-21 11:00; paused 12:00–15:00;
//!                              major
//!
//! I5 is major too. Reopen and reassignment counts are in incidents.csv; I9 has no reopen_count.
//! I7's source flags it not resolved at first contact (first_contact false), I8's resolved at first
//! contact (true); the others have no flag.

use std::sync::OnceLock;

use predicates::str::contains;
use serde_json::Value;

use crate::util::{fixture, mttx};

fn world() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/_data/world")
}

const AS_OF: &str = "2026-11-01T00:00:00Z";

fn run_json(extra: &[&str]) -> Value {
    run_json_at(AS_OF, extra, "2026-09", "2026-10")
}

fn run_json_at(as_of: &str, extra: &[&str], from: &str, to: &str) -> Value {
    let output = mttx().args(["--as-of", as_of, "kpi", "--from", from, "--to", to, "--format", "json", "--input"]).arg(world()).args(extra).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| run_json(&[]))
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

fn rows(doc: &Value, kpi: &str) -> usize {
    doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == kpi).unwrap()["rows"].as_array().unwrap().len()
}

/// Asserts the named columns of a row, `None` meaning null.
fn expect(kpi: &str, key: &str, values: &[(&str, Option<f64>)]) {
    expect_in(document(), kpi, key, values)
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

fn n_mean_p50_p90(n: f64, mean: Option<f64>, p50: Option<f64>, p90: Option<f64>) -> [(&'static str, Option<f64>); 4] {
    [("n", Some(n)), ("mean_hours", mean), ("p50_hours", p50), ("p90_hours", p90)]
}

#[test]
fn mtta() {
    // September (by opened_at): I3 P3 2 h; I6 P4 3 h, I7 P4 0.5 h. I10 opened in August.
    expect("mtta", "month=2026-09,scope=priority,priority=3", &n_mean_p50_p90(1.0, Some(2.0), Some(2.0), Some(2.0)));
    // P4 [0.5, 3]: mean 1.75; p50 1.75; p90 = 0.5 + 0.9 × 2.5 = 2.75.
    expect("mtta", "month=2026-09,scope=priority,priority=4", &n_mean_p50_p90(2.0, Some(1.75), Some(1.75), Some(2.75)));
    // n = 0 gives nulls, not zeros.
    expect("mtta", "month=2026-09,scope=priority,priority=1", &n_mean_p50_p90(0.0, None, None, None));
    // October P1: I1 10 min, I2 30 min → [1/6, 1/2]: mean 1/3; p90 = 1/6 + 0.9 × 1/3 = 0.4667.
    expect("mtta", "month=2026-10,scope=priority,priority=1", &n_mean_p50_p90(2.0, Some(1.0 / 3.0), Some(1.0 / 3.0), Some(0.466_666_666_7)));
    // P2: I9 5 min, I11 10 min, I5 20 min → [1/12, 1/6, 1/3]: mean 7/36 = 0.19444; p50 1/6;
    // p90 at rank 1.8 = 1/6 + 0.8 × 1/6 = 0.3.
    expect("mtta", "month=2026-10,scope=priority,priority=2", &n_mean_p50_p90(3.0, Some(7.0 / 36.0), Some(1.0 / 6.0), Some(0.3)));
    // I4 is never acknowledged, so October P3 has n = 0; I8 waited the weekend: 46 h.
    expect("mtta", "month=2026-10,scope=priority,priority=3", &n_mean_p50_p90(0.0, None, None, None));
    expect("mtta", "month=2026-10,scope=priority,priority=5", &n_mean_p50_p90(1.0, Some(46.0), Some(46.0), Some(46.0)));
    // All priorities pooled, never averaged from the rows above. September: [0.5, 2, 3]: mean
    // 5.5 / 3; p50 2; p90 at rank 1.8 = 2 + 0.8 × 1 = 2.8.
    expect("mtta", "month=2026-09,scope=all,priority=", &n_mean_p50_p90(3.0, Some(5.5 / 3.0), Some(2.0), Some(2.8)));
    // October: [1/12, 1/6, 1/6, 1/3, 1/2, 46] (I4 never acknowledged): sum 47.25, mean 7.875; p50 at
    // rank 2.5 = 1/6 + 0.5 × 1/6 = 0.25; p90 at rank 4.5 = 0.5 + 0.5 × 45.5 = 23.25. The mean of the
    // per-priority means would be (1/3 + 7/36 + 46) / 3 = 15.51, which is not it.
    expect("mtta", "month=2026-10,scope=all,priority=", &n_mean_p50_p90(6.0, Some(7.875), Some(0.25), Some(23.25)));
    assert_eq!(rows(document(), "mtta"), 12, "2 months × (priorities 1–5 and all)");
}

#[test]
fn mttd() {
    // Only I1 (30 min) and I5 (1 h) have started_at in the period; I10's is in August.
    expect("mttd", "month=2026-10,scope=priority,priority=1", &n_mean_p50_p90(1.0, Some(0.5), Some(0.5), Some(0.5)));
    expect("mttd", "month=2026-10,scope=priority,priority=2", &n_mean_p50_p90(1.0, Some(1.0), Some(1.0), Some(1.0)));
    expect("mttd", "month=2026-09,scope=priority,priority=1", &n_mean_p50_p90(0.0, None, None, None));
}

#[test]
fn mttr_counts_in_the_month_of_resolution() {
    // I10 opened in August but was resolved on 1 September after 4 h: it counts in September.
    expect("mttr", "month=2026-09,scope=priority,priority=1", &n_mean_p50_p90(1.0, Some(4.0), Some(4.0), Some(4.0)));
    // September P4: I7 2 h, I6 24 h: mean 13; p90 = 2 + 0.9 × 22 = 21.8.
    expect("mttr", "month=2026-09,scope=priority,priority=4", &n_mean_p50_p90(2.0, Some(13.0), Some(13.0), Some(21.8)));
    // I3 opened in September, resolved in October after 48 h: it counts in October.
    expect("mttr", "month=2026-10,scope=priority,priority=3", &n_mean_p50_p90(1.0, Some(48.0), Some(48.0), Some(48.0)));
    // October P2: I9 2 h, I5 4 h, I11 26 h: mean 32/3; p50 4; p90 = 4 + 0.8 × 22 = 21.6.
    expect("mttr", "month=2026-10,scope=priority,priority=2", &n_mean_p50_p90(3.0, Some(32.0 / 3.0), Some(4.0), Some(21.6)));
    expect("mttr", "month=2026-10,scope=priority,priority=4", &n_mean_p50_p90(0.0, None, None, None));
    // All priorities. September [2, 4, 24]: mean 10; p90 at rank 1.8 = 4 + 0.8 × 20 = 20. October
    // [2, 4, 4, 4, 26, 48, 48] (I9, I1, I2, I5, I11, I3, I8): sum 136, mean 136/7; p50 4; p90 at
    // rank 5.4 = 48.
    expect("mttr", "month=2026-09,scope=all,priority=", &n_mean_p50_p90(3.0, Some(10.0), Some(4.0), Some(20.0)));
    expect("mttr", "month=2026-10,scope=all,priority=", &n_mean_p50_p90(7.0, Some(136.0 / 7.0), Some(4.0), Some(48.0)));
}

#[test]
fn mttr_by_service_lists_the_groups_that_have_incidents() {
    let doc = run_json(&["--only", "mttr", "--by", "service"]);
    assert_eq!(doc["window"]["breakdown"], "service");
    let mttr = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == "mttr").unwrap();
    assert_eq!(mttr["keys"], serde_json::json!(["month", "service", "scope", "priority"]));
    // October S1: I9 2, I1 4, I2 4, I8 48: mean 14.5; p50 4; p90 at rank 2.7 = 4 + 0.7 × 44 = 34.8.
    expect_in(&doc, "mttr", "month=2026-10,service=S1,scope=all,priority=", &n_mean_p50_p90(4.0, Some(14.5), Some(4.0), Some(34.8)));
    // S2: I5 4, I3 48: mean 26; p90 = 4 + 0.9 × 44 = 43.6. I11 has no service: its own group.
    expect_in(&doc, "mttr", "month=2026-10,service=S2,scope=all,priority=", &n_mean_p50_p90(2.0, Some(26.0), Some(26.0), Some(43.6)));
    expect_in(&doc, "mttr", "month=2026-10,service=,scope=all,priority=", &n_mean_p50_p90(1.0, Some(26.0), Some(26.0), Some(26.0)));
    expect_in(&doc, "mttr", "month=2026-10,service=S1,scope=priority,priority=1", &n_mean_p50_p90(2.0, Some(4.0), Some(4.0), Some(4.0)));
    // Only groups with incidents, no empty grid: September S1 (all, P4) and S2 (all, P1); October
    // S1 (all, P1, P2, P5), S2 (all, P2, P3) and no service (all, P2).
    assert_eq!(rows(&doc, "mttr"), 13);
    // KPIs that cannot be cut are not run, and naming one is an error that lists those that can.
    let output = mttx().args(["kpi", "--by", "service", "--only", "mtbf", "-i"]).arg(world()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("mtbf cannot be cut") && stderr.contains("mttr"), "{stderr}");
    let output = mttx().args(["kpi", "--by", "team", "-i"]).arg(world()).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("use one of service, assignment_group, category, contact_type, ci"));
}

#[test]
fn mtrs_starts_at_the_degradation() {
    // I10: 20:00 (started) to 02:00 = 6 h, where MTTR says 4 h.
    expect("mtrs", "month=2026-09,scope=priority,priority=1", &n_mean_p50_p90(1.0, Some(6.0), Some(6.0), Some(6.0)));
    // October P1: I1 07:30–12:00 = 4.5 h, I2 4 h: mean 4.25; p90 = 4 + 0.9 × 0.5 = 4.45.
    expect("mtrs", "month=2026-10,scope=priority,priority=1", &n_mean_p50_p90(2.0, Some(4.25), Some(4.25), Some(4.45)));
    // October P2: I9 2, I5 08:00–13:00 = 5, I11 26: mean 11; p90 = 5 + 0.8 × 21 = 21.8.
    expect("mtrs", "month=2026-10,scope=priority,priority=2", &n_mean_p50_p90(3.0, Some(11.0), Some(5.0), Some(21.8)));
}

#[test]
fn mttr_business_uses_the_priority_calendar() {
    // P4 is on office hours. I6: Tue 09:00–12:00 (3) + 13:00–17:30 (4.5) + Wed 08:00–09:00 (1)
    // = 8.5 h; I7 opened and was resolved on a Sunday: 0 h. Mean 4.25; p90 = 0.9 × 8.5 = 7.65.
    expect("mttr_business", "month=2026-09,scope=priority,priority=4", &n_mean_p50_p90(2.0, Some(4.25), Some(4.25), Some(7.65)));
    // I3: Wed 20:00 to Fri 20:00 covers Thu and Fri in full: 2 × 8.5 = 17 h (48 h on the wall clock).
    expect("mttr_business", "month=2026-10,scope=priority,priority=3", &n_mean_p50_p90(1.0, Some(17.0), Some(17.0), Some(17.0)));
    // I8: Sat 10:00 to Mon 10:00 = Mon 08:00–10:00 = 2 h.
    expect("mttr_business", "month=2026-10,scope=priority,priority=5", &n_mean_p50_p90(1.0, Some(2.0), Some(2.0), Some(2.0)));
    // P2 runs 24×7: the same as the wall clock.
    expect("mttr_business", "month=2026-10,scope=priority,priority=2", &n_mean_p50_p90(3.0, Some(32.0 / 3.0), Some(4.0), Some(21.6)));
}

#[test]
fn mtbf_merges_overlapping_failures() {
    // The window is 2026-09-01 to 2026-11-01: 61 days = 1464 h. Failures (P1/P2 or major):
    // I1, I2, I9 on CI1; I5 on CI2; I10 on CI4; I11 on CI5.
    // CI1: I1 [10-01 07:30, 12:00] and I2 [10:00, 14:00] overlap → one outage of 6.5 h, not 8.5;
    // I9 [10-02 14:00, 16:00] adds 2 h. Downtime 8.5 h, 3 failures:
    // MTBF = (1464 − 8.5) / 3 = 485.1667; MTTR = 8.5 / 3 = 2.8333; availability = 1455.5 / 1464;
    // the gap from 10-01 14:00 to 10-02 14:00 is 24 h.
    let ci1 = [
        ("failures", Some(3.0)),
        ("observation_hours", Some(1464.0)),
        ("downtime_hours", Some(8.5)),
        ("mtbf_hours", Some(1455.5 / 3.0)),
        ("mttr_hours", Some(8.5 / 3.0)),
        ("availability", Some(1455.5 / 1464.0)),
        ("mean_gap_hours", Some(24.0)),
    ];
    expect("mtbf", "scope=ci,key=CI1", &ci1);
    // Service S1 holds CI1's failures only (CI3 has none): the same figures.
    expect("mtbf", "scope=service,key=S1", &ci1);
    // CI2 entered service on 10-01: observed 31 days = 744 h; I5 [08:00, 13:00] = 5 h.
    expect(
        "mtbf",
        "scope=ci,key=CI2",
        &[
            ("failures", Some(1.0)),
            ("observation_hours", Some(744.0)),
            ("mtbf_hours", Some(739.0)),
            ("availability", Some(739.0 / 744.0)),
            ("mean_gap_hours", None),
        ],
    );
    // CI4: I10's outage [08-31 20:00, 09-01 02:00] is clipped to 2 h in the window, but it started
    // before the window, so it is not a failure of the window: MTBF and MTTR are null.
    expect(
        "mtbf",
        "scope=ci,key=CI4",
        &[("failures", Some(0.0)), ("downtime_hours", Some(2.0)), ("mtbf_hours", None), ("mttr_hours", None), ("availability", Some(1462.0 / 1464.0))],
    );
    // CI3 never failed.
    expect("mtbf", "scope=ci,key=CI3", &[("failures", Some(0.0)), ("downtime_hours", Some(0.0)), ("mtbf_hours", None), ("availability", Some(1.0))]);
    // CI5 is in no CMDB row: observed over the whole window. I11: 10-20 09:00 to 10-21 11:00 = 26 h.
    expect("mtbf", "scope=ci,key=CI5", &[("failures", Some(1.0)), ("downtime_hours", Some(26.0)), ("mtbf_hours", Some(1438.0))]);
    // S2: I10's clipped 2 h and I5's 5 h; one failure in the window; the gap runs from
    // 09-01 02:00 to 10-10 08:00 = 39 days 6 h = 942 h.
    expect(
        "mtbf",
        "scope=service,key=S2",
        &[("failures", Some(1.0)), ("downtime_hours", Some(7.0)), ("mtbf_hours", Some(1457.0)), ("mttr_hours", Some(7.0)), ("mean_gap_hours", Some(942.0))],
    );
    assert_eq!(rows(document(), "mtbf"), 7, "CI1–CI5 and services S1, S2");
}

#[test]
fn mtbf_failure_threshold_is_a_parameter() {
    // With --failure-priority 1 only P1 or major incidents fail: I1 and I2 on CI1 (6.5 h merged),
    // so MTBF = (1464 − 6.5) / 2 = 728.75.
    let doc = run_json(&["--only", "mtbf", "--failure-priority", "1"]);
    expect_in(&doc, "mtbf", "scope=ci,key=CI1", &[("failures", Some(2.0)), ("downtime_hours", Some(6.5)), ("mtbf_hours", Some(728.75))]);
}

#[test]
fn sla_breach() {
    // September: I10's response was met on 08-31 (August, outside the period); its resolution was
    // met on 09-01 after 4 h of 8.
    expect("sla_breach", "month=2026-09,scope=priority,priority=1,sla=response", &[("measured", Some(0.0)), ("breach_rate", None)]);
    expect(
        "sla_breach",
        "month=2026-09,scope=priority,priority=1,sla=resolution",
        &[("measured", Some(1.0)), ("breached", Some(0.0)), ("breach_rate", Some(0.0))],
    );
    // I3 (P3, office) was acknowledged the evening it opened: 0 business hours, met in September.
    expect("sla_breach", "month=2026-09,scope=priority,priority=3,sla=response", &[("measured", Some(1.0)), ("breached", Some(0.0))]);
    // I6 and I7 (P4) met both in September. I6's resolution ran 8.5 h less the 2 paused hours.
    expect("sla_breach", "month=2026-09,scope=priority,priority=4,sla=resolution", &[("measured", Some(2.0)), ("breached", Some(0.0))]);
    // October P1: I2 was acknowledged after 30 min against a 15-minute target; I1 after 10.
    expect(
        "sla_breach",
        "month=2026-10,scope=priority,priority=1,sla=response",
        &[("measured", Some(2.0)), ("breached", Some(1.0)), ("breach_rate", Some(0.5)), ("open_breached", Some(0.0))],
    );
    // I4 (P3) is still open at the cut-off. Response: 4 office hours from Mon 09:00 ran out at
    // 14:00 that day (09–12, then 13–14). Resolution: 40 h ran out on Fri 10-09 at 16:00
    // (Mon 7.5 + Tue–Thu 25.5 + Fri 7). Both breached in October and both are open breaches. I3's
    // resolution (17 h of 40) was met in October.
    expect(
        "sla_breach",
        "month=2026-10,scope=priority,priority=3,sla=response",
        &[("measured", Some(1.0)), ("breached", Some(1.0)), ("breach_rate", Some(1.0)), ("open_breached", Some(1.0))],
    );
    expect(
        "sla_breach",
        "month=2026-10,scope=priority,priority=3,sla=resolution",
        &[("measured", Some(2.0)), ("breached", Some(1.0)), ("breach_rate", Some(0.5)), ("open_breached", Some(1.0))],
    );
    // I11 (P2, 24 h target) took 26 h on the clock, but 3 h were paused: 23 h, met.
    expect("sla_breach", "month=2026-10,scope=priority,priority=2,sla=resolution", &[("measured", Some(3.0)), ("breached", Some(0.0))]);
    // All priorities. September response: I3, I6, I7 met (I10's was in August); resolution: I10,
    // I6, I7 met. October response: I1, I2 (breached), I5, I9, I11 (P2 targets 30 min: 20, 5 and
    // 10 min), I4 (breached, open), I8 (0 office hours over the weekend) → 2 of 7, 1 open.
    // Resolution: I1, I2 (4 h of 8), I5, I9, I11, I3, I4 (breached, open), I8 (2 h of 160) → 1 of 8.
    expect("sla_breach", "month=2026-09,scope=all,priority=,sla=response", &[("measured", Some(3.0)), ("breached", Some(0.0))]);
    expect("sla_breach", "month=2026-09,scope=all,priority=,sla=resolution", &[("measured", Some(3.0)), ("breached", Some(0.0))]);
    expect(
        "sla_breach",
        "month=2026-10,scope=all,priority=,sla=response",
        &[("measured", Some(7.0)), ("breached", Some(2.0)), ("breach_rate", Some(2.0 / 7.0)), ("open_breached", Some(1.0))],
    );
    expect(
        "sla_breach",
        "month=2026-10,scope=all,priority=,sla=resolution",
        &[("measured", Some(8.0)), ("breached", Some(1.0)), ("breach_rate", Some(0.125)), ("open_breached", Some(1.0))],
    );
    assert_eq!(rows(document(), "sla_breach"), 24, "2 months × (5 priorities and all) × 2 SLAs");
}

#[test]
fn backlog_volume_reopen_reassignment_major() {
    // Open at the end of September: I3 (resolved 10-02). At the cut-off: I4.
    expect("backlog", "month=2026-09,scope=priority,priority=3", &[("open_incidents", Some(1.0))]);
    expect("backlog", "month=2026-10,scope=priority,priority=3", &[("open_incidents", Some(1.0))]);
    expect("backlog", "month=2026-10,scope=priority,priority=1", &[("open_incidents", Some(0.0))]);
    expect("backlog", "month=2026-09,scope=all,priority=", &[("open_incidents", Some(1.0))]);
    expect("backlog", "month=2026-10,scope=all,priority=", &[("open_incidents", Some(1.0))]);
    // October network incidents: I1, I2 (P1) and I9, I11 (P2).
    expect("volume", "month=2026-10,category=network,priority=1", &[("incidents", Some(2.0))]);
    expect("volume", "month=2026-10,category=network,priority=2", &[("incidents", Some(2.0))]);
    expect("volume", "month=2026-09,category=application,priority=4", &[("incidents", Some(2.0))]);
    assert_eq!(rows(document(), "volume"), 7);
    // Resolved in September: I6 (reopened), I7, I10 → 1/3. October: 7 resolved, I9's reopen_count
    // unknown, so 0 of the 6 measured.
    expect("reopen_rate", "month=2026-09", &[("resolved", Some(3.0)), ("unknown", Some(0.0)), ("reopened", Some(1.0)), ("reopen_rate", Some(1.0 / 3.0))]);
    expect("reopen_rate", "month=2026-10", &[("resolved", Some(7.0)), ("unknown", Some(1.0)), ("measured", Some(6.0)), ("reopen_rate", Some(0.0))]);
    // First contact. September: I6 reassigned and reopened (no); I7 never reassigned or reopened,
    // but its flag says no, and the flag wins; I10 (0, 0) yes → 1 of 3, one decided by a flag.
    // October: I2 (0, 0) yes; I8 reassigned once, but flagged yes; I9 has no reopen_count and no
    // flag: unknown, left out; I1, I3, I5, I11 reassigned → 2 of 6.
    expect(
        "first_contact_resolution",
        "month=2026-09",
        &[
            ("resolved", Some(3.0)),
            ("unknown", Some(0.0)),
            ("measured", Some(3.0)),
            ("first_contact", Some(1.0)),
            ("fcr_rate", Some(1.0 / 3.0)),
            ("by_flag", Some(1.0)),
        ],
    );
    expect(
        "first_contact_resolution",
        "month=2026-10",
        &[
            ("resolved", Some(7.0)),
            ("unknown", Some(1.0)),
            ("measured", Some(6.0)),
            ("first_contact", Some(2.0)),
            ("fcr_rate", Some(2.0 / 6.0)),
            ("by_flag", Some(1.0)),
        ],
    );
    // Reassignments of October's resolved: [0, 0, 1, 1, 1, 3, 4]: mean 10/7; p90 at rank 5.4 = 3.4.
    expect("reassignment", "month=2026-10", &[("n", Some(7.0)), ("mean_reassignments", Some(10.0 / 7.0)), ("p90_reassignments", Some(3.4))]);
    // September [0, 0, 2]: mean 2/3; p90 at rank 1.8 = 0.8 × 2 = 1.6.
    expect("reassignment", "month=2026-09", &[("n", Some(3.0)), ("mean_reassignments", Some(2.0 / 3.0)), ("p90_reassignments", Some(1.6))]);
    expect("major_incidents", "month=2026-09", &[("major_incidents", Some(0.0)), ("problem_share", None), ("mean_hours_to_resolve", None)]);
}

#[test]
fn major_incident_review() {
    // October's majors, all counted in October (opened then): I1, I5 (problem PRB1, caused by CHG1)
    // and I11. Acknowledged after 10, 20 and 10 min → [1/6, 1/6, 1/3]: mean 2/9; p50 1/6; p90 at
    // rank 1.8 = 1/6 + 0.8 × 1/6 = 0.3. Detected (I11 has no started_at): I1 0.5 h, I5 1 h → mean
    // 0.75; p90 = 0.5 + 0.9 × 0.5 = 0.95. Resolved: [4, 4, 26] → mean 34/3; p50 4; p90 at rank 1.8 =
    // 4 + 0.8 × 22 = 21.6. One of three has a problem record.
    expect(
        "major_incidents",
        "month=2026-10",
        &[
            ("major_incidents", Some(3.0)),
            ("with_problem", Some(1.0)),
            ("problem_share", Some(1.0 / 3.0)),
            ("n_acknowledged", Some(3.0)),
            ("mean_hours_to_acknowledge", Some(2.0 / 9.0)),
            ("p50_hours_to_acknowledge", Some(1.0 / 6.0)),
            ("p90_hours_to_acknowledge", Some(0.3)),
            ("n_detected", Some(2.0)),
            ("mean_hours_to_detect", Some(0.75)),
            ("p90_hours_to_detect", Some(0.95)),
            ("n_resolved", Some(3.0)),
            ("mean_hours_to_resolve", Some(34.0 / 3.0)),
            ("p50_hours_to_resolve", Some(4.0)),
            ("p90_hours_to_resolve", Some(21.6)),
        ],
    );
    // The list: downtime is the mtbf outage, [started or opened, resolved): I1 07:30–12:00 = 4.5 h,
    // I5 08:00–13:00 = 5 h, I11 10-20 09:00 to 10-21 11:00 = 26 h.
    expect(
        "major_incident_list",
        "month=2026-10,id=I1",
        &[("hours_to_acknowledge", Some(1.0 / 6.0)), ("hours_to_resolve", Some(4.0)), ("downtime_hours", Some(4.5))],
    );
    expect("major_incident_list", "month=2026-10,id=I5", &[("hours_to_acknowledge", Some(1.0 / 3.0)), ("downtime_hours", Some(5.0))]);
    expect("major_incident_list", "month=2026-10,id=I11", &[("hours_to_resolve", Some(26.0)), ("downtime_hours", Some(26.0))]);
    let i5 = row(document(), "major_incident_list", "month=2026-10,id=I5");
    assert_eq!((&i5["problem_id"], &i5["caused_by_change"], &i5["service"]), (&Value::from("PRB1"), &Value::from("CHG1"), &Value::from("S2")));
    assert_eq!(rows(document(), "major_incident_list"), 3);
    // Clipped to the period: a September-only run ends at 10-01 00:00, before any of them opened;
    // an October run that stops at 10-21 00:00 cuts I11's outage to 15 h and leaves it unresolved.
    let doc = run_json_at("2026-10-21T00:00:00Z", &["--only", "major_incident_list"], "2026-10", "2026-10");
    expect_in(&doc, "major_incident_list", "month=2026-10,id=I11", &[("downtime_hours", Some(15.0)), ("hours_to_resolve", None)]);
    assert!(row(&doc, "major_incident_list", "month=2026-10,id=I11")["resolved_at"].is_null());
}

#[test]
fn problem_resolution_and_change_depth() {
    // Resolved in September: PRB3, 08-20 10:00 to 09-02 10:00 = 312 h, never a known error. In
    // October: PRB1, 09-05 10:00 to 10-15 10:00 = 960 h; known error 09-10 10:00 = 120 h.
    expect("problem_resolution", "month=2026-09,milestone=resolved", &n_mean_p50_p90(1.0, Some(312.0), Some(312.0), Some(312.0)));
    expect("problem_resolution", "month=2026-09,milestone=known_error", &n_mean_p50_p90(0.0, None, None, None));
    expect("problem_resolution", "month=2026-10,milestone=resolved", &n_mean_p50_p90(1.0, Some(960.0), Some(960.0), Some(960.0)));
    expect("problem_resolution", "month=2026-10,milestone=known_error", &n_mean_p50_p90(1.0, Some(120.0), Some(120.0), Some(120.0)));
    // October's done changes: CHG1, CHG3, CHG4 and CHG5, the emergency one → 1 of 4.
    expect("change_failure", "month=2026-10", &[("emergency", Some(1.0)), ("emergency_share", Some(0.25))]);
    expect("change_failure", "month=2026-09", &[("emergency", Some(0.0)), ("emergency_share", Some(0.0))]);
    // Opened in October: I1, I2, I4, I5, I8, I9, I11; I5 names CHG1 and is major → 1 of 7.
    expect(
        "change_caused_incidents",
        "month=2026-10",
        &[
            ("incidents", Some(7.0)),
            ("caused_by_change", Some(1.0)),
            ("caused_share", Some(1.0 / 7.0)),
            ("majors", Some(3.0)),
            ("major_caused_by_change", Some(1.0)),
        ],
    );
    expect("change_caused_incidents", "month=2026-09", &[("incidents", Some(3.0)), ("caused_by_change", Some(0.0)), ("caused_share", Some(0.0))]);
}

#[test]
fn problem_trend_and_candidates() {
    // September: incidents I3, I6, I7, none linked. PRB1 opened; PRB3 resolved (09-02); open at
    // month end: PRB1 (resolved 10-15).
    expect(
        "problem_trend",
        "month=2026-09",
        &[
            ("incidents", Some(3.0)),
            ("incidents_with_problem", Some(0.0)),
            ("pct_with_problem", Some(0.0)),
            ("problems_opened", Some(1.0)),
            ("problems_resolved", Some(1.0)),
            ("problems_open_at_month_end", Some(1.0)),
            ("problem_growth_vs_first_month", Some(0.0)),
        ],
    );
    // October: 7 incidents, I5 linked → 100/7 %. PRB2 and PRB4 opened (2 against September's 1:
    // +100 %); PRB1 resolved; PRB2 and PRB4 open at the cut-off.
    expect(
        "problem_trend",
        "month=2026-10",
        &[
            ("incidents", Some(7.0)),
            ("incidents_with_problem", Some(1.0)),
            ("pct_with_problem", Some(100.0 / 7.0)),
            ("problems_opened", Some(2.0)),
            ("problems_resolved", Some(1.0)),
            ("problems_open_at_month_end", Some(2.0)),
            ("problem_growth_vs_first_month", Some(100.0)),
        ],
    );
    // (CI1, network): I1, I2, I9 within two days; (CI3, application): I6 09-15, I7 09-20, I8 10-10,
    // all within 30 days of I6. (CI2, database) has I5 linked to PRB1, so it is already managed.
    expect("problem_candidates", "ci=CI1,category=network", &[("max_in_window", Some(3.0)), ("incidents", Some(3.0))]);
    expect("problem_candidates", "ci=CI3,category=application", &[("max_in_window", Some(3.0)), ("incidents", Some(3.0))]);
    assert_eq!(rows(document(), "problem_candidates"), 2);
    // In a 10-day window CI3's three spread over 25 days no longer qualify.
    let doc = run_json(&["--only", "problem_candidates", "--candidate-window-days", "10"]);
    assert_eq!(rows(&doc, "problem_candidates"), 1);
    expect_in(&doc, "problem_candidates", "ci=CI1,category=network", &[("max_in_window", Some(3.0))]);
}

#[test]
fn change_failure_and_patch_correlation() {
    // September: CHG2 (successful patch). October: CHG1 (failed patch, named by I5), CHG3, CHG4
    // (patches), CHG5 (backed out, not a patch); CHG6 was cancelled and is excluded. Failed or
    // caused an incident: CHG1 (both), CHG5 → failed_or_caused 2 (not failed 2 + caused 1), 2 / 4.
    expect(
        "change_failure",
        "month=2026-09",
        &[("changes", Some(1.0)), ("failed", Some(0.0)), ("failed_or_caused", Some(0.0)), ("change_failure_rate", Some(0.0))],
    );
    expect(
        "change_failure",
        "month=2026-10",
        &[
            ("changes", Some(4.0)),
            ("patches", Some(3.0)),
            ("failed", Some(2.0)),
            ("caused_incident", Some(1.0)),
            ("failed_or_caused", Some(2.0)),
            ("change_failure_rate", Some(0.5)),
        ],
    );
    // Failed patches: CHG1, followed 3 h later by I5 on CI2 → 1/1. Successful: CHG2 (I1 on CI1
    // 48 h later), CHG3 and CHG4 (nothing after) → 1/3. Lift 3. Fisher on [[1, 0], [1, 2]]: the
    // two possible tables each have probability 1/2, so p = 1.
    expect(
        "patch_incident_correlation",
        "outcome_group=failed",
        &[
            ("patches", Some(1.0)),
            ("followed_by_incident", Some(1.0)),
            ("rate", Some(1.0)),
            ("lift", Some(3.0)),
            ("p_value", Some(1.0)),
            ("caused_by_link", Some(1.0)),
        ],
    );
    expect(
        "patch_incident_correlation",
        "outcome_group=successful",
        &[("patches", Some(3.0)), ("followed_by_incident", Some(1.0)), ("rate", Some(1.0 / 3.0)), ("caused_by_link", Some(0.0))],
    );
    // CI1: I1 and I2 follow CHG2 within 72 h (I9 comes 78 h after). CI2: I5 follows CHG1.
    expect("post_patch_incidents_by_ci", "ci=CI1", &[("patches", Some(1.0)), ("post_patch_incidents", Some(2.0)), ("after_failed_patches", Some(0.0))]);
    expect("post_patch_incidents_by_ci", "ci=CI2", &[("failed_patches", Some(1.0)), ("post_patch_incidents", Some(1.0)), ("after_failed_patches", Some(1.0))]);
    assert_eq!(rows(document(), "post_patch_incidents_by_ci"), 2);
}

#[test]
fn months_follow_the_reporting_time_zone() {
    // I10 opened 2026-08-31 22:00 UTC, which is 00:00 on 1 September in Amsterdam: there it is a
    // September incident (acknowledged after 5 minutes).
    let output = mttx()
        .args(["--as-of", AS_OF, "--timezone", "Europe/Amsterdam", "kpi", "--from", "2026-09", "--to", "2026-10", "--only", "mtta", "-f", "json", "-i"])
        .arg(world())
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    expect_in(&doc, "mtta", "month=2026-09,scope=priority,priority=1", &[("n", Some(1.0)), ("mean_hours", Some(5.0 / 60.0))]);
    assert_eq!(doc["window"]["start"], "2026-08-31T22:00:00Z");
}

#[test]
fn document_is_versioned_and_carries_definitions() {
    let doc = document();
    assert_eq!(doc["schema"], "mttx.kpis");
    assert_eq!(doc["version"], 2);
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
    assert!(kpis.iter().any(|k| k.id == "problem_trend" && !k.slices_by_month()), "problem_trend's growth depends on the window's first month");
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
/// (see `src/kpi/constant_row.rs`). A KPI whose SQL uses the row in a shape the rule does not
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
            for kpi in kpis.iter().filter(|k| by.is_none() || mttx::kpi::breakdown::supports(&k.meta.keys)) {
                let plan = ctx.sql(&kpi.sql).await.unwrap().into_optimized_plan().unwrap().display_indent().to_string();
                assert!(!plan.contains("TableScan: params"), "{} (by {by:?}) still scans params:\n{plan}", kpi.id);
            }
        }
    });
}
