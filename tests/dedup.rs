//! Audit-style exports: one row per update; dedup keeps the newest version of each ticket and
//! counts the others as merged.

use datafusion::arrow::array::AsArray;
use mttx::model::Table;

use crate::util::{fixture, load, table};

/// tests/fixtures/audit/incident_audit.csv has six records:
///   1 INC1 New      (08:00, mod 0)
///   2 INC2 New      (08:00, mod 0)      ← INC2's only good version
///   3 INC1 Active   (09:00, mod 1)
///   4 INC1 Resolved (12:00, mod 3)      ← INC1's newest: same time as 5, higher mod count
///   5 INC1 Active   (12:00, mod 2)
///   6 INC2 Active   (`not a date`)      → bad_dedup_key
/// So read 6 = loaded 2 + merged 3 + rejected 1.
#[test]
fn newest_version_wins_and_counts_reconcile() {
    let profile = fixture("audit/profile.toml");
    let (sink, summary) = load(&[fixture("audit/incident_audit.csv")], profile.to_str().unwrap(), None).unwrap();
    let t = summary.total();
    assert_eq!((t.read, t.loaded, t.merged, t.rejected), (6, 2, 3, 1));
    assert_eq!(summary.rejects_by_reason.get("bad_dedup_key"), Some(&1));
    let batch = table(&sink, Table::Incidents);
    let ids: Vec<&str> = batch.column_by_name("id").unwrap().as_string::<i32>().iter().flatten().collect();
    let states: Vec<&str> = batch.column_by_name("state").unwrap().as_string::<i32>().iter().flatten().collect();
    assert_eq!(ids, ["INC2", "INC1"]);
    assert_eq!(states, ["New", "Resolved"]);
    assert!(batch.column_by_name("resolved_at").unwrap().is_valid(1));
}

/// See: issue 30. In a ServiceNow audit export, a ticket's opened_at can be edited after its first
/// audit row, so the acknowledgement derived from that row (the creation, already Active) lies
/// before opened_at. INC1: opened_at 10:00, first row 09:00 Active, resolved 12:00: acknowledged_at
/// is clamped to 10:00 and counted, not a negative duration that costs the ticket. INC2: resolved_at
/// as the source writes it (07:00) is before opened_at (08:00): a value read from the source stays a
/// reject. INC3 has both: its acknowledgement is clamped, but its source resolved_at rejects it, so
/// the clamp is not counted. Each ticket's two rows fold into one: read 6 = loaded 1 (INC1) +
/// merged 3 + rejected 2 (INC2, INC3).
#[test]
fn a_derived_milestone_before_opened_at_is_clamped_not_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("incident_audit.csv");
    std::fs::write(
        &csv,
        "number,incident_state,sys_mod_count,opened_at,sys_updated_at,priority,resolved_at\n\
         INC1,Active,0,2026-10-01 10:00:00,2026-10-01 09:00:00,3 - Moderate,\n\
         INC1,Resolved,1,2026-10-01 10:00:00,2026-10-01 12:00:00,3 - Moderate,2026-10-01 12:00:00\n\
         INC2,New,0,2026-10-02 08:00:00,2026-10-02 08:00:00,3 - Moderate,\n\
         INC2,Resolved,1,2026-10-02 08:00:00,2026-10-02 09:00:00,3 - Moderate,2026-10-02 07:00:00\n\
         INC3,Active,0,2026-10-03 10:00:00,2026-10-03 09:00:00,3 - Moderate,\n\
         INC3,Resolved,1,2026-10-03 10:00:00,2026-10-03 11:00:00,3 - Moderate,2026-10-03 08:00:00\n",
    )
    .unwrap();
    let (sink, summary) = load(&[csv], "servicenow", None).unwrap();
    let t = summary.total();
    assert_eq!((t.read, t.loaded, t.merged, t.rejected), (6, 1, 3, 2), "{summary:?}");
    assert_eq!(summary.rejects_by_reason.get("negative_duration"), Some(&2));
    assert_eq!(summary.clamped.get("incidents.acknowledged_at"), Some(&1));
    let batch = table(&sink, Table::Incidents);
    let column = |name: &str| batch.column_by_name(name).unwrap().as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>().value(0);
    assert_eq!(column("acknowledged_at"), column("opened_at"), "clamped to opened_at");
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["clamped"]["incidents.acknowledged_at"], 1, "summary.json carries the count");
}
