//! Compaction of a store (see: issue 34): two years of monthly loads compact to one file per
//! table with the KPIs unchanged, by `mttx compact` or by a load whose export is larger than what
//! it rewrites, event-log histories included; a compaction killed at each step leaves a readable,
//! correct store.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::str::contains;

use crate::monthly::*;
use crate::util::mttx;

#[test]
fn two_years_of_monthly_loads_compact_to_one_file_per_table_with_the_same_kpis() {
    let dir = tempfile::tempdir().unwrap();
    let (generated, months) = generated_months(dir.path());
    assert_eq!(months.len(), 24, "24 months of exports");
    let (once, monthly) = (dir.path().join("once"), dir.path().join("monthly"));
    load("--out", &once, std::slice::from_ref(&generated));
    load_monthly(&monthly, &months);
    // The re-sent incidents replaced their stored versions: loads rewrote files to drop them.
    let loads = manifest(&monthly)["loads"].as_array().unwrap().clone();
    assert!(loads.iter().skip(1).all(|l| l["replaced"].as_u64().unwrap() > 0), "every later month replaced incidents");
    // The loads compacted what their exports paid for (incidents, small beside a month's
    // events), and left the events, whose stored files outweigh any month's export.
    assert!(compactions(&monthly).iter().all(|c| c["by"] == "load" && c["tables"].get("events").is_none()), "{:?}", compactions(&monthly));
    assert!(!compactions(&monthly).is_empty(), "the loads compacted incidents");
    let before = file_counts(&monthly);
    assert!(before["events"] >= 24, "a file per month at least: {before:?}");
    let expected = kpis(&once);
    same_kpis(&kpis(&monthly), &expected, "monthly loads");

    mttx().arg("compact").arg(&monthly).assert().success().stdout(contains(format!("incidents: {} files → 1", before["incidents"])));
    let after = file_counts(&monthly);
    assert!(after.values().all(|n| *n == 1), "one file per table: {after:?}");
    same_kpis(&kpis(&monthly), &expected, "after compaction");
    assert_eq!(table_csv(&monthly, "incidents"), table_csv(&once, "incidents"), "the same rows");
    assert_eq!(data_files_on_disk(&monthly), listed_files(&monthly), "the old files are deleted");
    let compaction = compactions(&monthly).last().cloned().unwrap();
    assert_eq!(compaction["by"], "compact");
    assert_eq!(compaction["generation"], 25, "a generation of its own");
    mttx().arg("verify").arg(&monthly).assert().success().stdout(contains("is intact"));
    // Compacted, there is nothing left to merge.
    mttx().arg("compact").arg(&monthly).assert().success().stdout(contains("nothing to compact"));
    // A load after the compaction merges into the compacted store as into any other.
    load("--into", &monthly, &months[23..]);
    same_kpis(&kpis(&monthly), &expected, "a month loaded again after compaction");
}

#[test]
fn a_load_compacts_when_its_export_is_larger_than_the_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let (generated, months) = generated_months(dir.path());
    let store = dir.path().join("store");
    load_monthly(&store, &months[..5]);
    let events_before = file_counts(&store)["events"];
    assert!(events_before >= 5, "five monthly files of events at least: {events_before}");
    // Nineteen months in one export: more rows than the small files it rewrites.
    load("--into", &store, &months[5..]).stdout(contains(format!("compacted events: {} files → 1", events_before + 1)));
    let compaction = compactions(&store).last().cloned().unwrap();
    assert_eq!(compaction["by"], "load");
    assert_eq!(compaction["generation"], 6, "the load's own generation");
    // The tables that were past the thresholds (more than 4 small files) are compacted; the rest
    // are within them.
    let counts = file_counts(&store);
    assert_eq!(counts["events"], 1);
    assert!(counts.values().all(|n| *n <= 4), "{counts:?}");
    let once = dir.path().join("once");
    load("--out", &once, std::slice::from_ref(&generated));
    same_kpis(&kpis(&store), &kpis(&once), "compacted by the load");
    assert_eq!(data_files_on_disk(&store), listed_files(&store));
}

#[test]
fn a_compaction_killed_at_each_step_leaves_a_readable_correct_store() {
    let dir = tempfile::tempdir().unwrap();
    let (_, months) = generated_months(dir.path());
    let template = dir.path().join("template");
    load_monthly(&template, &months[..6]);
    let expected_rows = table_csv(&template, "incidents");
    let expected_kpis = kpis(&template);
    for point in ["after-data-files", "before-switch", "after-switch"] {
        let store = dir.path().join(point);
        copy_dir(&template, &store);
        let killed = mttx().arg("compact").arg(&store).env("MTTX_FAULT", point).timeout(Duration::from_secs(120)).output().unwrap();
        assert!(!killed.status.success(), "{point}: the fault stops the compaction");
        assert_eq!(table_csv(&store, "incidents"), expected_rows, "{point}: the same rows");
        same_kpis(&kpis(&store), &expected_kpis, point);
        let compacted = point == "after-switch";
        assert_eq!(file_counts(&store).values().all(|n| *n == 1), compacted, "{point}: compacted only once the manifest switched");
        // Intact either way; what the killed compaction wrote or left is unlisted.
        mttx().arg("verify").arg(&store).assert().success().stdout(contains("is intact")).stdout(contains("files the manifest does not list"));
        // A second compaction finishes the work and tidies up.
        mttx().arg("compact").arg(&store).assert().success();
        assert!(file_counts(&store).values().all(|n| *n == 1), "{point}: compacted");
        assert_eq!(data_files_on_disk(&store), listed_files(&store), "{point}: nothing left over");
        same_kpis(&kpis(&store), &expected_kpis, &format!("{point}, then compacted"));
    }
}

/// An event-log store: its status histories and derived tables compact too, and the tickets
/// derived from the compacted histories are those of the whole log loaded at once.
#[test]
fn an_event_log_store_compacts_its_histories() {
    let dir = tempfile::tempdir().unwrap();
    let whole = crate::util::fixture("profiles/eventlog/vinst_like.csv");
    let text = std::fs::read_to_string(&whole).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut events: Vec<&str> = lines.collect();
    events.sort_by_key(|line| line.split(',').nth(1).unwrap_or_default().to_string());
    // Six slices in time order, as six monthly exports of the log.
    let slices: Vec<PathBuf> = events
        .chunks(events.len().div_ceil(6))
        .enumerate()
        .map(|(i, chunk)| {
            let slice = dir.path().join(format!("slice-{i}"));
            std::fs::create_dir_all(&slice).unwrap();
            std::fs::write(slice.join("vinst_like.csv"), format!("{header}\n{}\n", chunk.join("\n"))).unwrap();
            slice
        })
        .collect();
    let load_log = |mode: &str, store: &Path, input: &Path| {
        mttx().args(["--as-of", "2013-01-01", "load", "--profile", "eventlog", mode]).arg(store).arg("--input").arg(input).assert().success();
    };
    let once = dir.path().join("once");
    load_log("--out", &once, &whole);
    let store = dir.path().join("store");
    load_log("--out", &store, &slices[0]);
    for slice in &slices[1..] {
        load_log("--into", &store, slice);
    }
    let histories = manifest(&store)["histories"]["incidents"]["files"].as_array().unwrap().len();
    assert!(histories >= 5, "a history file per load: {histories}");
    mttx().arg("compact").arg(&store).assert().success().stdout(contains(format!("history/incidents: {histories} files → 1")));
    assert_eq!(manifest(&store)["histories"]["incidents"]["files"].as_array().unwrap().len(), 1);
    for name in ["incidents", "events"] {
        assert_eq!(table_csv(&store, name), table_csv(&once, name), "{name}");
    }
    // A slice loaded again into the compacted store merges into its history as before.
    load_log("--into", &store, &slices[2]);
    for name in ["incidents", "events"] {
        assert_eq!(table_csv(&store, name), table_csv(&once, name), "{name}, loaded again");
    }
    mttx().arg("verify").arg(&store).assert().success();
}
