//! The canonical store (see: issue 12): a store gives the same KPIs as the exports it was loaded
//! from; monthly loads converge in any order, for plain and event-log profiles; a load killed at
//! any point, or two at once, leave a correct store; a damaged store is a clear error; and a
//! cut-off before the data's end reads each ticket as it stood. Fixtures: tests/fixtures/store/.

use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::str::contains;
use serde_json::Value;

use crate::util::{fixture, mttx, same};

fn load(args: &[&str], inputs: &[PathBuf]) -> assert_cmd::assert::Assert {
    let mut cmd = mttx();
    cmd.args(args);
    for input in inputs {
        cmd.arg("--input").arg(input);
    }
    cmd.timeout(Duration::from_secs(120)).assert()
}

/// A table's rows as CSV, ordered by id: what the store holds.
fn table(store: &Path, name: &str) -> String {
    let out = mttx().args(["sql", "--format", "csv", "--input"]).arg(store).arg(format!("SELECT * FROM {name} ORDER BY id")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn manifest(store: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap()
}

fn last_load(store: &Path) -> Value {
    manifest(store)["loads"].as_array().unwrap().last().unwrap().clone()
}

fn counts(load: &Value) -> [u64; 5] {
    ["read", "inserted", "replaced", "merged", "rejected"].map(|k| load[k].as_u64().unwrap())
}

fn september() -> PathBuf {
    fixture("store/2026-09")
}

fn october() -> PathBuf {
    fixture("store/2026-10")
}

#[test]
fn overlapping_monthly_exports_converge_in_either_order() {
    let dir = tempfile::tempdir().unwrap();
    let (in_order, out_of_order) = (dir.path().join("a"), dir.path().join("b"));
    load(&["load", "--out", in_order.to_str().unwrap()], &[september()]).success();
    load(&["load", "--into", in_order.to_str().unwrap()], &[october()]).success().stdout(contains("read 3 = inserted 1 + replaced 2 + merged 0 + rejected 0"));
    load(&["load", "--out", out_of_order.to_str().unwrap()], &[october()]).success();
    // September's I2 and I3 are older versions (their latest timestamps are earlier): they lose.
    load(&["load", "--into", out_of_order.to_str().unwrap()], &[september()])
        .success()
        .stdout(contains("read 3 = inserted 1 + replaced 0 + merged 2 + rejected 0"));
    assert_eq!(counts(&last_load(&out_of_order)), [3, 1, 0, 2, 0]);
    let expected = table(&in_order, "incidents");
    assert_eq!(table(&out_of_order, "incidents"), expected);
    assert!(expected.contains("I2,2026-09-20T09:00:00Z") && expected.contains("2026-10-03T12:00:00Z"), "{expected}");
    assert_eq!(expected.lines().count(), 5, "a header and I1–I4: {expected}");
    // Loading the same export again changes nothing: each row ties with its stored version, and
    // the later load wins the tie with the same values.
    let again = dir.path().join("again");
    load(&["load", "--out", again.to_str().unwrap()], &[september()]).success();
    let once = table(&again, "incidents");
    load(&["load", "--into", again.to_str().unwrap()], &[september()]).success().stdout(contains("read 3 = inserted 0 + replaced 3 + merged 0 + rejected 0"));
    assert_eq!(table(&again, "incidents"), once);
}

/// Splits the vinst-like status history into two slices, before and from 12 April 2012.
fn slices(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let whole = fixture("profiles/eventlog/vinst_like.csv");
    let text = std::fs::read_to_string(&whole).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let (mut early, mut late) = (format!("{header}\n"), format!("{header}\n"));
    for line in lines {
        let slice = if line.split(',').nth(1).unwrap_or_default() < "2012-04-12" { &mut early } else { &mut late };
        slice.push_str(line);
        slice.push('\n');
    }
    let (a, b) = (dir.join("slice-a"), dir.join("slice-b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(a.join("vinst_like.csv"), early).unwrap();
    std::fs::write(b.join("vinst_like.csv"), late).unwrap();
    (whole, a, b)
}

#[test]
fn event_log_slices_derive_the_same_tickets_as_the_whole_log() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, a, b) = slices(dir.path());
    let all = dir.path().join("whole");
    load(&["--as-of", "2013-01-01", "load", "--profile", "eventlog", "--out", all.to_str().unwrap()], std::slice::from_ref(&whole)).success();
    for (name, first, second) in [("in-order", &a, &b), ("out-of-order", &b, &a)] {
        let store = dir.path().join(name);
        load(&["--as-of", "2013-01-01", "load", "--profile", "eventlog", "--out", store.to_str().unwrap()], std::slice::from_ref(first)).success();
        load(&["--as-of", "2013-01-01", "load", "--into", store.to_str().unwrap()], std::slice::from_ref(second)).success();
        let record = last_load(&store);
        let [read, inserted, replaced, merged, rejected] = counts(&record);
        assert_eq!(read, inserted + replaced + merged + rejected, "{name}: {record}");
        assert!(replaced > 0, "{name}: a ticket with events in both slices is derived again: {record}");
        for table_name in ["incidents", "events"] {
            assert_eq!(table(&store, table_name), table(&all, table_name), "{name}: {table_name}");
        }
        // Loading a slice again adds nothing: every event is already in the history.
        load(&["--as-of", "2013-01-01", "load", "--into", store.to_str().unwrap()], std::slice::from_ref(second)).success();
        assert_eq!(table(&store, "incidents"), table(&all, "incidents"), "{name}: again");
        assert_eq!(table(&store, "events"), table(&all, "events"), "{name}: events again");
    }
}

#[test]
fn a_load_killed_at_any_point_leaves_a_correct_store() {
    let dir = tempfile::tempdir().unwrap();
    let expected = {
        let store = dir.path().join("expected");
        load(&["load", "--out", store.to_str().unwrap()], &[september()]).success();
        load(&["load", "--into", store.to_str().unwrap()], &[october()]).success();
        table(&store, "incidents")
    };
    for point in ["after-data-files", "before-switch", "after-switch"] {
        let store = dir.path().join(point);
        load(&["load", "--out", store.to_str().unwrap()], &[september()]).success();
        let before = table(&store, "incidents");
        let killed = mttx().args(["load", "--into"]).arg(&store).arg("--input").arg(october()).env("MTTX_FAULT", point).output().unwrap();
        assert!(!killed.status.success(), "{point}: the fault stops the load");
        // Readable, and whole: the old store before the switch, the new one after it.
        let now = table(&store, "incidents");
        assert_eq!(now, if point == "after-switch" { expected.clone() } else { before }, "{point}");
        // A second load finishes the work, and tidies what the killed one left behind.
        load(&["load", "--into", store.to_str().unwrap()], &[october()]).success();
        assert_eq!(table(&store, "incidents"), expected, "{point}: after a second load");
        let (on_disk, listed) = (crate::monthly::data_files_on_disk(&store), crate::monthly::listed_files(&store));
        assert_eq!(on_disk, listed, "{point}: no file is left that the manifest does not list");
    }
}

#[test]
fn two_concurrent_loads_into_one_store_take_turns() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    load(&["load", "--out", store.to_str().unwrap()], &[fixture("store/asof")]).success();
    let sequential = dir.path().join("sequential");
    load(&["load", "--out", sequential.to_str().unwrap()], &[fixture("store/asof")]).success();
    load(&["load", "--into", sequential.to_str().unwrap()], &[september()]).success();
    load(&["load", "--into", sequential.to_str().unwrap()], &[october()]).success();
    let spawn = |input: PathBuf| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mttx"))
            .args(["load", "--into"])
            .arg(&store)
            .arg("--input")
            .arg(input)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(september()), spawn(october()));
    for child in [first, second] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(table(&store, "incidents"), table(&sequential, "incidents"));
    assert_eq!(manifest(&store)["generation"], 3);
}

#[test]
fn a_damaged_store_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = |name: &str| {
        let store = dir.path().join(name);
        load(&["load", "--out", store.to_str().unwrap()], &[september()]).success();
        store
    };
    let kpi = |store: &Path| mttx().args(["kpi", "--only", "mttr", "--input"]).arg(store).timeout(Duration::from_secs(60)).assert();

    let store = fresh("version");
    let mut m = manifest(&store);
    m["format_version"] = 99.into();
    std::fs::write(store.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    kpi(&store).code(2).stderr(contains("manifest.json: the store has layout version 99, and this mttx reads version 1"));

    let store = fresh("missing");
    let file = manifest(&store)["tables"]["incidents"]["files"][0]["path"].as_str().unwrap().to_string();
    std::fs::remove_file(store.join(&file)).unwrap();
    kpi(&store).code(2).stderr(contains(&file)).stderr(contains("it is missing"));

    let store = fresh("schema");
    replace_file(&store, "incidents", |batch| {
        // opened_at as text: a file that does not fit the model.
        let columns = batch.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
        let arrays = columns
            .iter()
            .map(|c| {
                let a = batch.column_by_name(c).unwrap().clone();
                if c == "opened_at" { datafusion::arrow::compute::cast(&a, &datafusion::arrow::datatypes::DataType::Utf8).unwrap() } else { a }
            })
            .collect();
        let fields = batch
            .schema()
            .fields()
            .iter()
            .map(|f| {
                if f.name() == "opened_at" {
                    datafusion::arrow::datatypes::Field::new("opened_at", datafusion::arrow::datatypes::DataType::Utf8, false)
                } else {
                    f.as_ref().clone()
                }
            })
            .collect::<Vec<_>>();
        datafusion::arrow::record_batch::RecordBatch::try_new(std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(fields)), arrays).unwrap()
    });
    kpi(&store).code(2).stderr(contains("column `opened_at` of incidents is Utf8 in this file"));

    let store = fresh("again");
    load(&["load", "--out", store.to_str().unwrap()], &[october()]).code(2).stderr(contains("a store is already here"));
    load(&["load", "--out", store.to_str().unwrap(), "--replace"], &[october()]).success();
    assert!(!table(&store, "incidents").lines().any(|l| l.starts_with("I1,")), "--replace replaced the store");

    let not_a_store = dir.path().join("documents");
    std::fs::create_dir_all(&not_a_store).unwrap();
    std::fs::write(not_a_store.join("thesis.txt"), "precious").unwrap();
    load(&["load", "--out", not_a_store.to_str().unwrap()], &[october()]).code(2).stderr(contains("not empty and holds no store"));
    load(&["load", "--into", not_a_store.to_str().unwrap()], &[october()]).code(2).stderr(contains("no store here to load into"));
}

/// Rewrites the first data file of `table` through `edit`, and updates its size in the manifest.
fn replace_file(store: &Path, table: &str, edit: impl Fn(&datafusion::arrow::record_batch::RecordBatch) -> datafusion::arrow::record_batch::RecordBatch) {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut m = manifest(store);
    let relative = m["tables"][table]["files"][0]["path"].as_str().unwrap().to_string();
    let path = store.join(&relative);
    let batches: Vec<_> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap()).unwrap().build().unwrap().map(|b| b.unwrap()).collect();
    let edited: Vec<_> = batches.iter().map(&edit).collect();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), edited[0].schema(), None).unwrap();
    for batch in &edited {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
    m["tables"][table]["files"][0]["bytes"] = std::fs::metadata(&path).unwrap().len().into();
    std::fs::write(store.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
}

/// A store written by an older canonical model, whose files lack a nullable column the model has
/// since added, reads that column as null.
#[test]
fn an_older_model_without_a_later_column_reads_it_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("old");
    load(&["load", "--out", store.to_str().unwrap()], &[september()]).success();
    replace_file(&store, "incidents", |batch| {
        let keep: Vec<usize> = (0..batch.num_columns()).filter(|&i| batch.schema().field(i).name() != "source_made_sla").collect();
        batch.project(&keep).unwrap()
    });
    let mut m = manifest(&store);
    m["model_version"] = 0.into();
    std::fs::write(store.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let out = mttx()
        .args(["sql", "--format", "json", "--input"])
        .arg(&store)
        .arg("SELECT count(*) AS n, count(source_made_sla) AS known FROM incidents")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((rows[0]["n"].as_i64(), rows[0]["known"].as_i64()), (Some(3), Some(0)));
}

/// See: issue 30. A store written before the outages table existed (model version 2, no
/// `outages` in its manifest) reads it as empty, and mtbf falls back to outages derived from
/// incidents.
#[test]
fn a_store_from_before_outages_reads_them_as_empty() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("old");
    load(&["load", "--out", store.to_str().unwrap()], &[september()]).success();
    let mut m = manifest(&store);
    m["model_version"] = 2.into();
    m["tables"].as_object_mut().unwrap().remove("outages").expect("a store lists its outages");
    std::fs::write(store.join("manifest.json"), serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let out = mttx().args(["sql", "--format", "json", "--input"]).arg(&store).arg("SELECT count(*) AS n FROM outages").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["n"].as_i64(), Some(0));
    let out = mttx().args(["kpi", "--only", "mtbf", "--failure-priority", "2", "--format", "csv", "--input"]).arg(&store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // I2 (P2, open) on CI2 is an outage derived from its incident.
    assert!(String::from_utf8_lossy(&out.stdout).contains("scope=ci,key=CI2\",source,incidents"), "{}", String::from_utf8_lossy(&out.stdout));
}

/// tests/fixtures/store/README.md works the numbers out: with a cut-off of 10 October, A1 is
/// resolved (96 h), A2 and A3 are open, A4 does not exist yet. The store and the exports agree.
#[test]
fn a_cut_off_before_the_end_reads_each_ticket_as_it_stood() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    load(&["load", "--out", store.to_str().unwrap()], &[fixture("store/asof")]).success();
    let run = |input: &Path| -> Value {
        let out =
            mttx().args(["--as-of", "2026-10-10T00:00:00Z", "kpi", "--only", "mttr,mtta,backlog", "--format", "json", "--input"]).arg(input).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let from_store = run(&store);
    let row = |doc: &Value, kpi: &str, priority: i64| -> Value {
        let k = doc["kpis"].as_array().unwrap().iter().find(|k| k["id"] == kpi).unwrap();
        k["rows"].as_array().unwrap().iter().find(|r| r["month"] == "2026-10" && r["priority"] == priority).unwrap().clone()
    };
    assert_eq!((row(&from_store, "mttr", 2)["n"].as_i64(), row(&from_store, "mttr", 2)["mean_hours"].as_f64()), (Some(1), Some(96.0)));
    assert_eq!(row(&from_store, "mttr", 3)["n"], 0, "A2 and A3 were not resolved yet");
    assert_eq!(row(&from_store, "mtta", 2)["mean_hours"].as_f64(), Some(1.0));
    assert_eq!((row(&from_store, "mtta", 3)["n"].as_i64(), row(&from_store, "mtta", 3)["mean_hours"].as_f64()), (Some(1), Some(0.5)));
    assert_eq!(row(&from_store, "backlog", 3)["open_incidents"], 2);
    assert_eq!(row(&from_store, "backlog", 1)["open_incidents"], 0, "A4 was not opened yet");
    // The exports loaded with the same cut-off: A4 is rejected as not yet opened, A2 and A3
    // keep their rows with what had not happened yet read as null, and every number agrees.
    let from_exports = run(&fixture("store/asof"));
    assert_eq!(from_store["kpis"], from_exports["kpis"]);
}

/// The whole suite gives identical results from a store and from the exports it was loaded from.
#[test]
fn every_kpi_is_the_same_from_a_store_as_from_its_exports() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    load(&["load", "--out", store.to_str().unwrap()], std::slice::from_ref(&sample)).success();
    let run = |input: &Path| -> Value {
        let out = mttx().args(["--as-of", "2026-11-01", "kpi", "--format", "json", "--input"]).arg(input).timeout(Duration::from_secs(300)).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let (from_store, from_exports) = (run(&store), run(&sample));
    assert_eq!(from_store["window"], from_exports["window"]);
    assert_eq!(from_store["kpis"].as_array().unwrap().len(), mttx::kpi::catalog::BUILTIN.len());
    for (a, b) in from_store["kpis"].as_array().unwrap().iter().zip(from_exports["kpis"].as_array().unwrap()) {
        same(&a["rows"], &b["rows"], &format!("{}", a["id"]));
    }
}

/// Every golden case gives its expected result from a store of its inputs (loaded whole, read with
/// the case's cut-off), as from the inputs themselves.
#[test]
fn golden_cases_pass_from_a_store() {
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    let kpis = mttx::kpi::select(Some(&queries), &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases = mttx::golden::discover(&queries).unwrap();
    assert!(cases.len() > 20);
    for (i, case) in cases.iter().enumerate() {
        let kpi = kpis.iter().find(|k| k.id == case.kpi).unwrap();
        let store = dir.path().join(format!("case-{i}"));
        let actual = mttx::golden::run_case_via(case, kpi, mttx::golden::Via::Store(&store)).unwrap().csv;
        let expected = std::fs::read_to_string(case.dir.join(mttx::golden::EXPECTED)).unwrap();
        assert_eq!(actual, expected, "{}/{}", case.kpi, case.name);
    }
}

/// Event-log tickets from a store read with a cut-off are derived again from the events up to it:
/// their state, milestones and status changes are those of the cut-off, as from the export itself.
#[test]
fn an_event_log_store_read_with_a_cut_off_derives_tickets_as_they_stood() {
    let dir = tempfile::tempdir().unwrap();
    let log = fixture("profiles/eventlog/vinst_like.csv");
    let store = dir.path().join("store");
    load(&["load", "--profile", "eventlog", "--out", store.to_str().unwrap()], std::slice::from_ref(&log)).success();
    let query = |input: &Path, extra: &[&str], sql: &str| -> String {
        let out = mttx().args(["--as-of", "2012-04-12T12:00:00Z", "sql", "--format", "csv"]).args(extra).arg("--input").arg(input).arg(sql).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    for sql in ["SELECT * FROM incidents ORDER BY id", "SELECT * FROM events ORDER BY id"] {
        let from_store = query(&store, &[], sql);
        assert_eq!(from_store, query(&log, &["--profile", "eventlog"], sql), "{sql}");
        assert!(from_store.lines().count() > 2, "{from_store}");
    }
    // 1-100000005 was resolved on 16 April: at the cut-off (12 April) it did not exist yet; and
    // 1-100000001, resolved on 3 April, was.
    let tickets = query(&store, &[], "SELECT id, resolved_at FROM incidents ORDER BY id");
    assert!(!tickets.contains("1-100000005") && tickets.contains("1-100000001,2012-04-03T14:00:00Z"), "{tickets}");
    // A load into the store with a cut-off before its data's end is refused: the store keeps
    // everything, and the cut-off belongs to the commands that read it.
    load(&["--as-of", "2012-04-12", "load", "--into", store.to_str().unwrap()], std::slice::from_ref(&log))
        .code(2)
        .stderr(contains("the cut-off belongs to the commands that read it"));
}

/// A load refused by --strict leaves the store as it was, and a directory that holds only what a
/// failed first load left behind can take a store.
#[test]
fn a_refused_load_leaves_the_store_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let bad = fixture("bad/incidents.csv");
    load(&["--as-of", "2026-11-01", "load", "--strict", "--out", store.to_str().unwrap()], std::slice::from_ref(&bad))
        .code(2)
        .stderr(contains("--strict was given"))
        .stderr(contains("the store is unchanged"));
    assert!(!store.join("manifest.json").exists());
    load(&["load", "--out", store.to_str().unwrap()], &[september()]).success();
    let before = table(&store, "incidents");
    load(&["--as-of", "2026-11-01", "load", "--strict", "--into", store.to_str().unwrap()], std::slice::from_ref(&bad)).code(2);
    assert_eq!(table(&store, "incidents"), before);
    assert_eq!(manifest(&store)["generation"], 1);
}

/// A reader of the old manifest keeps its files until it is done: the load that replaced them
/// waits for it, saying so, and deletes them then; a reader of the new manifest holds no load up.
#[test]
fn a_load_deletes_old_files_once_their_readers_are_done() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    load(&["load", "--out", store.to_str().unwrap()], &[fixture("store/asof")]).success();
    let old = table_files(&store);
    let reader = mttx::store::Store::open(&store).unwrap();
    assert_eq!(reader.manifest.generation, 1);

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mttx"))
        .args(["load", "--replace", "--out"])
        .arg(&store)
        .arg("--input")
        .arg(september())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The new manifest switches while the old one is still read; its files stay.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while manifest(&store)["generation"] != 2 {
        assert!(std::time::Instant::now() < deadline, "the load did not switch the manifest");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(child.try_wait().unwrap().is_none(), "the load finished while a reader of the old manifest was running");
    let replaced: Vec<&String> = old.iter().filter(|f| !table_files(&store).contains(*f)).collect();
    assert!(!replaced.is_empty(), "the load replaced no file, so the test shows nothing");
    assert!(replaced.iter().all(|f| store.join(f).exists()), "a file the old reader may open was deleted");

    // A reader of the new manifest does not hold the load up; the old one's end lets it finish.
    let new_reader = mttx::store::Store::open(&store).unwrap();
    assert_eq!(new_reader.manifest.generation, 2);
    drop(reader);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("waiting for the commands still reading"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(replaced.iter().all(|f| !store.join(f).exists()), "the old files were not deleted once their reader was done");
    assert!(!store.join(".readers/g000001.lock").exists(), "the old generation's lock file was left");
    drop(new_reader);
}

fn table_files(store: &Path) -> Vec<String> {
    let m = manifest(store);
    m["tables"].as_object().unwrap().values().flat_map(|t| t["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string())).collect()
}
