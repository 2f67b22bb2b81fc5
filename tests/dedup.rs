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
