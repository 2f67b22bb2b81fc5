//! A load's cost follows its export (see: issue 34): it reads only the stored files whose key
//! ranges hold its ids, and keeps the extent from the files' stamps, equal to a scan.

use predicates::str::contains;

use crate::monthly::*;
use crate::util::mttx;

/// A load reads a stored file only when the file's recorded key range holds one of the export's
/// ids: a file of earlier months, here made unreadable, is not read by a load of later tickets,
/// and is by a load that sends its tickets again.
#[test]
fn a_load_reads_only_the_files_whose_key_ranges_hold_its_ids() {
    let dir = tempfile::tempdir().unwrap();
    let (_, months) = generated_months(dir.path());
    let store = dir.path().join("store");
    load_monthly(&store, &months[..2]);
    let m = manifest(&store);
    let first_month = m["tables"]["incidents"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key_ranges"]["id"]["min"] == "INC0000001")
        .expect("the first month's incidents, with their id range")["path"]
        .as_str()
        .unwrap()
        .to_string();
    let path = store.join(&first_month);
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    std::fs::write(&path, vec![0u8; size]).unwrap();
    // The third month's export: its own incidents and the second month's sent again.
    load("--into", &store, &months[2..3]);
    mttx().arg("verify").arg(&store).assert().code(1).stdout(contains(format!("damaged: {first_month}")));
    // The second month's export sends the first month's incidents again: that file must be read.
    mttx().args(["load", "--into"]).arg(&store).arg("--input").arg(&months[1]).assert().code(2).stderr(contains(first_month.as_str()));
}

/// A load's extent, from the stamps its files record and the few files that may hold the latest
/// timestamps, equals a scan of the whole store: with a straggler loaded last and then early.
#[test]
fn the_extent_from_the_files_stamps_equals_a_scan_of_the_store() {
    use mttx::store::stamps;
    let dir = tempfile::tempdir().unwrap();
    let (_, months) = generated_months(dir.path());
    // One incident resolved in 2099: a straggler, as a typo in the source would make.
    let stray = dir.path().join("stray");
    std::fs::create_dir_all(&stray).unwrap();
    let mut reader = csv::Reader::from_path(months[3].join("incidents.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let mut row: Vec<String> = reader.records().next().unwrap().unwrap().iter().map(str::to_string).collect();
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    row[column("id")] = "INC9999999".into();
    for late in ["resolved_at", "closed_at"] {
        row[column(late)] = "2099-03-01T00:00:00Z".into();
    }
    let mut writer = csv::Writer::from_path(stray.join("incidents.csv")).unwrap();
    writer.write_record(&header).unwrap();
    writer.write_record(&row).unwrap();
    writer.flush().unwrap();

    let store = dir.path().join("store");
    load("--out", &store, &months[..1]);
    for month in months[1..8].iter().chain([&stray]).chain(&months[8..10]) {
        load("--into", &store, std::slice::from_ref(month));
        let manifest = mttx::store::Manifest::read(&store).unwrap();
        let mut unstamped = manifest.clone();
        for files in unstamped.tables.values_mut() {
            files.files.iter_mut().for_each(|f| f.stamps = None);
        }
        let scanned = stamps::extent(&store, &unstamped).unwrap();
        assert_eq!(manifest.extent, scanned, "after loading {}", month.display());
        assert_eq!(stamps::extent(&store, &manifest).unwrap(), scanned);
    }
    let extent = mttx::store::Manifest::read(&store).unwrap().extent;
    assert_eq!(extent.straggler.expect("the 2099 incident is a straggler").id, "INC9999999");
}
