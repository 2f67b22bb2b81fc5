//! The report's first page: the Needs attention, On track and Notable changes lists with their
//! figures, targets and n, recomputed here from kpis.json; the volume line; the compact headline
//! tables; and the reviewer's notes (`--notes`), printed, carried in kpis.json and checked.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{kpi_rows, mttx, thousands};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sample() -> PathBuf {
    root().join("reports/sample")
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(dir: &Path) -> Value {
    serde_json::from_str(&read(dir, "kpis.json")).unwrap()
}

/// The text of a report.md section, from its heading to the next.
fn section(md: &str, title: &str) -> String {
    let start = md.find(&format!("## {title}\n")).unwrap_or_else(|| panic!("no section {title}"));
    let rest = &md[start + 3..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
}

/// The bullets under a paragraph `title:`.
fn bullets(text: &str, title: &str) -> Vec<String> {
    let start = text.find(&format!("\n{title}:\n\n")).unwrap_or_else(|| panic!("no list {title} in {text}"));
    text[start..].lines().skip(3).take_while(|l| l.starts_with("- ")).map(|l| l[2..].to_string()).collect()
}

#[test]
fn the_lists_say_what_needs_attention_with_figure_target_and_n() {
    let doc = json(&sample());
    let md = read(&sample(), "report.md");
    let summary = section(&md, "Summary");
    let attention = &doc["attention"];
    let needs = attention["needs_attention"].as_array().unwrap();

    // P1 resolution SLA from its kpis.json row: met = measured − breached, as a share; the
    // built-in target is a breach rate ≤ 2%, so ≥ 98.0% met.
    let p1 = kpi_rows(&doc, "sla_breach").iter().find(|r| r["scope"] == "priority" && r["priority"] == 1 && r["sla"] == "resolution").unwrap();
    let (measured, breached) = (p1["measured"].as_i64().unwrap(), p1["breached"].as_i64().unwrap());
    let want = format!("P1 resolution SLA: {} of {} met ({:.1}%", measured - breached, measured, 100.0 * (measured - breached) as f64 / measured as f64);
    let item = needs.iter().find(|i| i["key"] == "scope=priority,priority=1,sla=resolution").expect("the P1 resolution SLA misses its target");
    let text = item["text"].as_str().unwrap();
    assert!(item["reason"] == "target_missed" && text.starts_with(&want) && text.contains("against ≥ 98.0% met") && text.contains("month"), "{text}");

    // Majors resolved 10 days or more before the cut-off without a problem record, recomputed.
    let as_of = chrono::DateTime::parse_from_rfc3339(doc["window"]["as_of"].as_str().unwrap()).unwrap();
    let due = as_of - chrono::Duration::days(10);
    let majors = kpi_rows(&doc, "major_incident_list");
    let resolved: Vec<&Value> =
        majors.iter().filter(|r| r["resolved_at"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap() <= due)).collect();
    let missing: Vec<&str> = resolved.iter().filter(|r| r["problem_id"].is_null()).map(|r| r["id"].as_str().unwrap()).collect();
    assert!(!missing.is_empty(), "the sample has majors without a problem record");
    let item = needs.iter().find(|i| i["reason"] == "major_without_problem").unwrap();
    let text = item["text"].as_str().unwrap();
    assert!(text.starts_with(&format!("{} of the {} major incidents resolved more than 10 days", missing.len(), resolved.len())), "{text}");
    assert!(missing.iter().take(5).all(|id| text.contains(id)), "{text}");

    // At most 8 per list on the page, the rest in the appendix, in the same order.
    let appendix = section(&md, "Appendix: month on month");
    for (key, title) in [("needs_attention", "Needs attention"), ("on_track", "On track"), ("notable_changes", "Notable changes")] {
        let items: Vec<&str> = attention[key].as_array().unwrap().iter().map(|i| i["text"].as_str().unwrap()).collect();
        let shown = bullets(&summary, title);
        let on_page: Vec<&str> = shown.iter().map(String::as_str).filter(|b| !b.ends_with("more in the appendix.")).collect();
        if items.is_empty() {
            assert_eq!(shown, ["Nothing this month."]);
            continue;
        }
        assert_eq!(on_page, items.iter().take(8).copied().collect::<Vec<_>>(), "{title}");
        if items.len() > 8 {
            assert_eq!(shown.last().unwrap(), &format!("{} more in the appendix.", items.len() - 8));
            assert_eq!(bullets(&appendix, &format!("{title}, beyond the first page's 8")), items[8..].iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
    }
    assert!(needs.len() > 8, "the sample overflows Needs attention, so the appendix part is tested");

    // The backlog fell from September (179) to October (153): on track, not needing attention.
    let fell = attention["on_track"].as_array().unwrap().iter().find(|i| i["reason"] == "backlog_fell").expect("the backlog fell");
    assert!(fell["text"].as_str().unwrap().starts_with("Open backlog fell to 153 at month end, from 179 at the end of Sep 2026"), "{fell}");
}

#[test]
fn the_first_page_gives_volume_and_compact_headline_tables() {
    let doc = json(&sample());
    let md = read(&sample(), "report.md");
    let summary = section(&md, "Summary");
    // Opened is the sum of the month's volume rows; resolved is MTTR's n over all priorities.
    let opened: i64 = kpi_rows(&doc, "volume").iter().filter(|r| r["month"] == "2026-10").map(|r| r["incidents"].as_i64().unwrap()).sum();
    let resolved = kpi_rows(&doc, "mttr").iter().find(|r| r["scope"] == "all").unwrap()["n"].as_i64().unwrap();
    assert!(summary.contains(&format!("Opened: {} incidents (Sep 2026 ", thousands(opened))), "{summary}");
    assert!(summary.contains(&format!("Resolved: {} (Sep 2026 ", thousands(resolved))), "{summary}");

    let table: Vec<Vec<String>> = summary
        .lines()
        .skip_while(|l| !l.starts_with("| measure | All |"))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("| ---"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().to_string()).collect())
        .collect();
    let labels: Vec<&str> = table.iter().skip(1).map(|r| r[0].as_str()).collect();
    assert_eq!(
        labels,
        ["MTTA median (minutes)", "MTTR median (hours)", "Response SLA met (% of clocks)", "Resolution SLA met (% of clocks)", "Open backlog at month end"]
    );
    assert_eq!(table[0][1..], ["All", "P1", "P2", "P3", "P4", "P5"]);
    for row in &table[1..] {
        let empty = row[1..].iter().filter(|c| c.is_empty() || *c == "—").count();
        let cells = row[1..].len();
        assert!(empty * 2 <= cells, "more than half empty: {row:?}");
        if !row[0].starts_with("Open backlog") {
            assert!(row[1..].iter().all(|c| c.contains("n=")), "every cell gives its n: {row:?}");
        }
    }
    // Acknowledgement in minutes; SLAs as the share met, 1 − breach rate, with n the clocks.
    assert!(table[1][1..].iter().all(|c| c.contains("min")), "{:?}", table[1]);
    let p1 = kpi_rows(&doc, "sla_breach").iter().find(|r| r["scope"] == "priority" && r["priority"] == 1 && r["sla"] == "resolution").unwrap();
    let met = 100.0 * (1.0 - p1["breach_rate"].as_f64().unwrap());
    assert_eq!(table[4][2], format!("**{met:.1}%\u{a0}✗, n={}**", p1["measured"]));
    // Near-duplicates live in their own sections.
    assert!(!summary.contains("MTRS") && !summary.contains("business hours"), "{summary}");
    let response = section(&md, "Response and restoration");
    assert!(response.contains("| MTRS p50 |") && response.contains("| MTTR p50, business hours |"), "{response}");
    // Measures without a priority: a table of their own, not a row that is mostly empty.
    assert!(summary.contains("| Major incidents opened |") && summary.contains("| Change failure rate |"), "{summary}");
}

fn world_with_notes(notes: &str) -> (tempfile::TempDir, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.toml");
    std::fs::write(&path, notes).unwrap();
    let output = mttx()
        .current_dir(root())
        .args(["--as-of", "2026-11-01", "report", "--input", "queries/tests/_data/world", "--notes"])
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    (dir, output)
}

#[test]
fn the_reviewers_notes_are_printed_carried_over_and_checked() {
    let notes = r#"
[comments."2026-10"]
mttr = "P1 <b>restoration</b> slipped."

[[action]]
what = "Review the escalation path"
owner = "Desk lead"
raised = "2026-09"
due = 2026-10-15
status = "open"
kpi = "mttr"

[[action]]
what = "Done last month"
owner = "Ops"
raised = "2026-09"
due = 2026-09-30
status = "done"

[[action]]
what = "Staff the night shift"
owner = "Ops"
raised = "2026-10"
due = 2026-12-01
status = "open"
"#;
    let (dir, output) = world_with_notes(notes);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let out = dir.path().join("out");
    let summary = section(&read(&out, "report.md"), "Summary");
    assert!(summary.contains("- Mean time to resolve (MTTR): P1 &lt;b&gt;restoration&lt;/b&gt; slipped."), "{summary}");
    assert!(
        summary.contains("| Review the escalation path | Desk lead | Mean time to resolve (MTTR) | 2026-09 | 2026-10-15 | **open, carried over, OVERDUE** |"),
        "{summary}"
    );
    assert!(summary.contains("| Staff the night shift | Ops |  | 2026-10 | 2026-12-01 | open |"), "{summary}");
    assert!(!summary.contains("Done last month"), "a closed action of an earlier month is not carried over");
    let html = read(&out, "report.html");
    assert!(html.contains("P1 &lt;b&gt;restoration&lt;/b&gt; slipped.") && !html.contains("<b>restoration"), "notes are escaped");
    let doc = json(&out);
    let actions = doc["notes"]["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 2);
    assert_eq!(
        (actions[0]["what"].as_str(), actions[0]["carried_over"].as_bool(), actions[0]["overdue"].as_bool()),
        (Some("Review the escalation path"), Some(true), Some(true))
    );
    assert_eq!(doc["notes"]["comments"][0]["kpi"], "mttr");

    let (_dir, output) = world_with_notes("[comments.\"2026-10\"]\nmtr = \"typo\"\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("notes.toml") && stderr.contains("no KPI `mtr`"), "{stderr}");
    let (_dir, output) = world_with_notes("[[action]]\nwhat = \"x\"\nowner = \"y\"\nraised = \"2026-10\"\ndue = 2026-11-01\nstatus = \"open\"\nwho = \"z\"\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("unknown field `who`"), "{stderr}");
}

/// P3 software incidents: 40 opened in September, 120 in October. The Poisson test on the counts
/// per day (40/30 against 120/31) is far below any threshold, and volume is neutral (workload), so
/// it is a notable change, never better or worse.
#[test]
fn a_jump_in_volume_is_a_notable_change() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,opened_at,acknowledged_at,resolved_at,priority,ci,category\n");
    for (month, count) in [(9u32, 40u32), (10, 120)] {
        for i in 0..count {
            let opened = chrono::NaiveDate::from_ymd_opt(2026, month, 1 + i % 28).unwrap().and_hms_opt(6, 0, 0).unwrap();
            let f = |t: chrono::NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            csv.push_str(&format!(
                "I{month}-{i},{},{},{},3,CI{},software\n",
                f(opened),
                f(opened + chrono::Duration::minutes(10)),
                f(opened + chrono::Duration::hours(5)),
                i % 7
            ));
        }
    }
    std::fs::write(dir.path().join("incidents.csv"), csv).unwrap();
    let out = dir.path().join("out");
    mttx().args(["--as-of", "2026-11-01", "report", "--input"]).arg(dir.path().join("incidents.csv")).arg("--out").arg(&out).assert().success();
    let doc = json(&out);
    let notable = doc["attention"]["notable_changes"].as_array().unwrap();
    let item = notable.iter().find(|i| i["kpi"] == "volume").expect("the jump is notable");
    assert!(item["text"].as_str().unwrap().starts_with("Incidents opened, software P3: 120 (Sep 2026 40; +"), "{item}");
    assert!(!doc["attention"]["needs_attention"].as_array().unwrap().iter().any(|i| i["kpi"] == "volume"), "volume is never a problem in itself");
}

/// A service owner's pack. Hand-computed: of the four incidents opened in October, A has the
/// service Payments and B none but a CI of Payments (CI1 in cis.csv), so both belong; C is Email's
/// and D has no service and Email's CI. "Opened: 2 incidents". A name no incident has is an error
/// naming the services there are, and the name, which is data, is escaped like any other.
#[test]
fn a_service_owner_gets_the_pack_of_one_service() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cis.csv"), "id,name,service\nCI1,pay-db,Payments\nCI2,mail-1,Email\n").unwrap();
    std::fs::write(
        dir.path().join("incidents.csv"),
        "id,opened_at,acknowledged_at,resolved_at,priority,ci,service\n\
         A,2026-10-05T09:00:00Z,2026-10-05T09:10:00Z,2026-10-05T12:00:00Z,2,CI1,Payments\n\
         B,2026-10-06T09:00:00Z,2026-10-06T09:20:00Z,2026-10-06T15:00:00Z,3,CI1,\n\
         C,2026-10-07T09:00:00Z,2026-10-07T09:30:00Z,2026-10-07T10:00:00Z,3,CI2,Email\n\
         D,2026-10-08T09:00:00Z,2026-10-08T09:40:00Z,2026-10-08T11:00:00Z,4,CI2,\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let run = |service: &str| {
        mttx().args(["--as-of", "2026-11-01", "report", "--input"]).arg(dir.path()).args(["--service", service, "--out"]).arg(&out).output().unwrap()
    };
    let output = run("Payments");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let md = read(&out, "report.md");
    assert!(md.starts_with("# Service report: October 2026, Payments\n"), "{md}");
    assert!(md.contains("Opened: 2 incidents") && md.contains("Resolved: 2"), "{md}");
    let doc = json(&out);
    let volume: i64 = kpi_rows(&doc, "volume").iter().map(|r| r["incidents"].as_i64().unwrap()).sum();
    assert_eq!(volume, 2);

    let output = run("Payroll");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--service Payroll: no incident has this service; the incidents' services are: Email, Payments"), "{stderr}");

    let output = run("<script>x</script>");
    assert_eq!(output.status.code(), Some(2));
}
