//! Mapping profiles: a tool-style export through value maps, null tokens, day-first dates in a
//! source zone and decimal commas; and profile mistakes that must fail loudly.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use mttx::model::Table;

use crate::util::{fixture, load, mttx, table};

/// tests/fixtures/hpsm_like/detail_incident.csv (profile.toml beside it; zone Europe/Amsterdam):
///   IM0000004  "4 - Low", 26 reassignments, opened 05/02/2012 13:32:57 CET = 12:32:57Z → loaded
///   IM0000005  "1 - critical" (case differs from the map), "2,0" reassignments = 2,
///              opened 9-9-2011 9:23 CEST = 07:23Z, resolved 11:23 CEST = 09:23Z     → loaded
///   IM0000006  "Urgent" is not in the priority map                                  → unmapped_value
///   IM0000007  priority "3" is a plain integer (fine) but "1,5" reassignments is not → invalid_integer
#[test]
fn tool_style_export_maps_through_the_profile() {
    let profile = fixture("hpsm_like/profile.toml");
    let (sink, summary) = load(&[fixture("hpsm_like/detail_incident.csv")], profile.to_str().unwrap(), None).unwrap();
    let t = summary.total();
    assert_eq!((t.read, t.loaded, t.rejected), (4, 2, 2));
    assert_eq!(summary.rejects_by_reason.get("unmapped_value"), Some(&1));
    assert_eq!(summary.rejects_by_reason.get("invalid_integer"), Some(&1));

    let batch = table(&sink, Table::Incidents);
    let ids: Vec<&str> = batch.column_by_name("id").unwrap().as_string::<i32>().iter().flatten().collect();
    assert_eq!(ids, ["IM0000004", "IM0000005"]);
    let priority = batch.column_by_name("priority").unwrap().as_primitive::<Int64Type>().clone();
    assert_eq!((priority.value(0), priority.value(1)), (4, 1));
    let reassign = batch.column_by_name("reassignment_count").unwrap().as_primitive::<Int64Type>().clone();
    assert_eq!((reassign.value(0), reassign.value(1)), (26, 2));
    let opened = batch.column_by_name("opened_at").unwrap().as_primitive::<TimestampMicrosecondType>().clone();
    let micros = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros();
    assert_eq!(opened.value(0), micros("2012-02-05T12:32:57Z"));
    assert_eq!(opened.value(1), micros("2011-09-09T07:23:00Z"));
    let closed = batch.column_by_name("closed_at").unwrap();
    assert!(closed.is_null(1), "#N/B is a null token");
    let change = batch.column_by_name("caused_by_change").unwrap().as_string::<i32>().clone();
    assert_eq!(change.value(1), "C00000123");
    let major = batch.column_by_name("major").unwrap().as_boolean().clone();
    assert!(!major.value(0), "constants fill fields the source lacks");
}

fn profile_error(toml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    std::fs::write(&path, toml).unwrap();
    let output = mttx()
        .args(["load", "--profile"])
        .arg(&path)
        .arg("--input")
        .arg(fixture("formats/incidents.csv"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    String::from_utf8(output.stderr).unwrap()
}

#[test]
fn profile_mistakes_fail_with_what_to_fix() {
    let base = "name = \"p\"\n[tables.incidents]\nfiles = [\"incidents*\"]\n";
    let err = profile_error(&format!("{base}auto_columns = true\nfiles_pattern = []\n"));
    assert!(err.contains("unknown field `files_pattern`") && err.contains("line 5"), "{err}");
    let err = profile_error(&format!("{base}[tables.incidents.columns]\nid = \"id\"\nopened_at = \"logged\"\n"));
    assert!(err.contains("`logged`") && err.contains("not in the file") && err.contains("incidents.csv"), "{err}");
    let err = profile_error(&format!("{base}auto_columns = true\n[tables.incidents.parse]\ntimestamp_formats = [\"%Y-%m-%Q\"]\n"));
    assert!(err.contains("%Y-%m-%Q") && err.contains("not a valid strftime pattern"), "{err}");
    let err = profile_error(&format!("{base}auto_columns = true\n[tables.incidents.values.priority]\nHigh = \"urgent\"\n"));
    assert!(err.contains("values.priority"), "{err}");
    let log = "[tables.incidents.eventlog]\ncase = \"n\"\ntimestamp = \"t\"\nstatus = \"s\"\n";
    let acknowledged = "[tables.incidents.eventlog.milestones.acknowledged_at]\nrule = \"first_out_of\"\nstates = [\"New\"]\ninclude_creation = true\n";
    let err = profile_error(&format!("{base}{log}{acknowledged}"));
    assert!(err.contains("include_creation needs") && err.contains("creation = {"), "{err}");
    let err = profile_error(&format!("{base}{log}{}", acknowledged.replace("first_out_of", "first_into")));
    assert!(err.contains("first_out_of only"), "{err}");
    let err = profile_error(&format!("{base}{}", log.replace("status = \"s\"\n", "status = \"s\"\nchanges = [\"assignment_group\"]\n")));
    assert!(err.contains("changes: `assignment_group` is not an attribute") && err.contains("eventlog.last"), "{err}");
}

#[test]
fn unknown_profile_name_lists_the_builtins() {
    mttx()
        .args(["load", "--profile", "servicenw", "--input", "x", "--out", "y"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("built-in profiles are: canonical"));
}

#[test]
fn builtin_profile_prints_as_toml() {
    mttx().args(["profiles"]).assert().success().stdout(predicates::str::contains("canonical"));
    mttx().args(["profiles", "canonical"]).assert().success().stdout(predicates::str::contains("[tables.incidents]"));
}
