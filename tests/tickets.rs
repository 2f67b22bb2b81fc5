//! `mttx report` on hand-computed fixtures: the tickets behind the red items (tickets.csv and the
//! Tickets section), the ageing and running-clock tables of Flow and ageing, and the
//! reconciliation with the source tool's SLA flag. The golden cases of backlog_age, sla_at_risk,
//! open_incident_list, sla_breach_list, sla_reconciliation and sla_disagreement_list work out
//! each KPI row; these tests check what the report makes of them.

use std::path::Path;

use crate::util::mttx;

fn report(as_of: &str, input: &str, extra: &[&str]) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    mttx().current_dir(env!("CARGO_MANIFEST_DIR")).args(["--as-of", as_of, "report", "--input", input, "--out"]).arg(out.path()).args(extra).assert().success();
    out
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// tickets.csv as (list, rank, of, id) and the facts, in file order.
fn tickets(dir: &Path) -> Vec<(String, String, String, String, String)> {
    let text = read(dir, "tickets.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["list", "rank", "of", "id", "priority", "service", "opened_at", "facts"]);
    reader.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string(), r[3].to_string(), r[7].to_string())).collect()
}

fn ids(rows: &[(String, String, String, String, String)], list: &str) -> Vec<String> {
    rows.iter().filter(|r| r.0 == list).map(|r| r.3.clone()).collect()
}

#[test]
fn the_worlds_red_items_list_their_tickets() {
    // The world (queries/tests/_data/README.md), October, cut-off 11-01 00:00.
    // P1/P2 breaches decided in October: only I2's response (P1, 30 min against 15); I4's breaches
    // are P3. Open at the cut-off: I4 alone, opened 10-05 09:00, 26.625 days, never touched → idle.
    // No clock runs within its target at the cut-off (I4's both breached). Majors of October
    // resolved by 10-22 00:00 without a problem: I1 (10-01) and I11 (10-21); I5 has PRB1. The world
    // maps no source_made_sla, so there is nothing to reconcile.
    let out = report("2026-11-01", "queries/tests/_data/world", &[]);
    let rows = tickets(out.path());
    assert_eq!(ids(&rows, "p1_p2_breaches"), ["I2"]);
    let breach = &rows.iter().find(|r| r.0 == "p1_p2_breaches").unwrap().4;
    assert_eq!(breach, "response clock breached 2026-10-01 10:15 (target 15 min); stopped 2026-10-01 10:30 after 30 min");
    assert_eq!(ids(&rows, "oldest_open"), ["I4"]);
    assert!(
        rows.iter().any(|r| r.3 == "I4" && r.4.starts_with("open 26.6 days; last activity 2026-10-05 09:00 (26.6 days before the cut-off, idle)")),
        "{rows:?}"
    );
    assert!(ids(&rows, "about_to_breach").is_empty());
    assert_eq!(ids(&rows, "majors_without_problem"), ["I1", "I11"]);
    assert!(ids(&rows, "source_disagrees").is_empty());

    let md = read(out.path(), "report.md");
    assert!(md.contains("| P3 | 0 | 0 | 1 | 0 | 0 | 1 | **1** | 26.6 d |"), "I4 in the 8-30 days band, idle");
    assert!(md.contains("| All priorities | 0 | 0 | 1 | 0 | 0 | 1 | **1** | 26.6 d |"));
    assert!(md.contains("No SLA clock is running at the cut-off within its target."));
    assert!(md.contains("Of the 1 incident open at the cut-off, 1 had nothing recorded on them for 14 days or more; the oldest, I4, has been open 26.6 days."));
    assert!(md.contains("No incident resolved in the month carries the source tool's own SLA flag (source\\_made\\_sla)"));
    let html = read(out.path(), "report.html");
    assert!(html.contains("<section id=\"tickets\">\n<details>\n<summary><h2>Tickets</h2></summary>"), "the Tickets section is collapsed");
}

#[test]
fn lists_are_capped_and_say_so() {
    // The world's two majors without a problem, cut to one.
    let out = report("2026-11-01", "queries/tests/_data/world", &["--tickets", "1"]);
    let rows = tickets(out.path());
    let majors: Vec<_> = rows.iter().filter(|r| r.0 == "majors_without_problem").collect();
    assert_eq!(majors.len(), 1);
    assert_eq!((majors[0].1.as_str(), majors[0].2.as_str(), majors[0].3.as_str()), ("1", "2", "I1"));
    let md = read(out.path(), "report.md");
    assert!(md.contains("The first 1 of 2 tickets (at most 1 per list, --tickets)."));
}

#[test]
fn clocks_about_to_breach_are_counted_and_listed() {
    // queries/tests/sla_at_risk/wednesday_noon works out each clock at Wed 10-07 12:00: at 75% or
    // more, R4's resolution (95%, deadline 15:00) and R2's (75%, 18:00). Running: P1 resolution R1
    // (50%); P2 response R3 (33%), resolution R2 (75%) and R3 (0.7%); P3 response R5 (25%, paused),
    // resolution R4 (95%) and R5 (2.5%, paused).
    let out = report("2026-10-07T12:00:00Z", "queries/tests/sla_at_risk/wednesday_noon/data", &[]);
    let rows = tickets(out.path());
    assert_eq!(ids(&rows, "about_to_breach"), ["R4", "R2"]);
    let r4 = &rows.iter().find(|r| r.0 == "about_to_breach").unwrap().4;
    assert_eq!(r4, "resolution clock at 95.0% of its 40 h target; breaches 2026-10-07 15:00 if it runs on");
    let md = read(out.path(), "report.md");
    for row in [
        "| P1 | resolution | 1 | 0 | 1 | 0 | 0 | 0 | 2026-10-07 16:00 |",
        "| P2 | response | 1 | 1 | 0 | 0 | 0 | 0 | 2026-10-07 12:20 |",
        "| P2 | resolution | 2 | 1 | 0 | 1 | 0 | 0 | 2026-10-07 18:00 |",
        "| P3 | response | 1 | 1 | 0 | 0 | 0 | 1 | 2026-10-07 16:00 |",
        "| P3 | resolution | 2 | 1 | 0 | 0 | **1** | 1 | 2026-10-07 15:00 |",
    ] {
        assert!(md.contains(row), "{row}");
    }
    assert!(md.contains(
        "2 SLA clocks running at the cut-off have 75% or more of their target gone (P2 1, P3 1), 1 of them 90% or more; the first breaches 2026-10-07 15:00 (R4, resolution)."
    ));
}

#[test]
fn the_source_tools_flag_is_reconciled_by_cause() {
    // queries/tests/sla_reconciliation/october works out each verdict: 7 compared, the source 6
    // missed, mttx 1 breached (D6), 2 agree (D1, D6); one disagreement of each cause.
    let out = report("2026-11-01", "queries/tests/sla_reconciliation/october/data", &["--period", "2026-10"]);
    let md = read(out.path(), "report.md");
    assert!(md.contains(
        "Against the source tool: its own SLA flag disagrees with mttx's resolution clock on 5 of the 7 incidents resolved in Oct 2026 (71.4%): the source has 6 missed (85.7%), mttx 1 breached (14.3%). Causes: calendar 1, pauses 1, calendar and pauses 1, clock stopped 1, target or other 1."
    ));
    for row in [
        "| P1 | 1 | 0 (0.0%) | 0 (0.0%) | 1 (100.0%) | 0 | 0 | 0 | 0 | 0 |",
        "| P2 | 2 | 2 (100.0%) | 1 (50.0%) | **1 (50.0%)** | 0 | 1 | 0 | 0 | 0 |",
        "| P3 | 3 | 3 (100.0%) | 0 (0.0%) | **0 (0.0%)** | 1 | 0 | 1 | 1 | 0 |",
        "| P4 | 1 | 1 (100.0%) | 0 (0.0%) | **0 (0.0%)** | 0 | 0 | 0 | 0 | 1 |",
        "| All priorities | 7 | 6 (85.7%) | 1 (14.3%) | **2 (28.6%)** | 1 | 1 | 1 | 1 | 1 |",
    ] {
        assert!(md.contains(row), "{row}");
    }
    assert!(md.contains("- calendar: D3\n- pauses: D2\n- calendar and pauses: D7\n- clock stopped: D4\n- target or other: D5"));
    let rows = tickets(out.path());
    assert_eq!(ids(&rows, "source_disagrees"), ["D3", "D7", "D4", "D2", "D5"]);
    let d3 = &rows.iter().find(|r| r.3 == "D3").unwrap().4;
    assert_eq!(d3, "source: missed, mttx: met (34 h of 40 h on the policy's clock, 96 h on the wall clock); cause: calendar");
}
