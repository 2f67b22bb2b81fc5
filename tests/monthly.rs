//! Monthly exports of a generated data set, and what a store's manifest says: the helpers of the
//! compaction, verification and load-cost tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::util::{mttx, same_within};

/// Where each table's month comes from; CIs have none and go with the first month.
pub const MONTH_OF: [(&str, &str); 5] =
    [("incidents", "opened_at"), ("problems", "opened_at"), ("changes", "actual_start"), ("events", "at"), ("outages", "begins_at")];

/// A generated data set of 24 months, 2,400 incidents.
pub fn generated(dir: &Path) -> PathBuf {
    let out = dir.join("generated");
    mttx().args(["generate", "--incidents", "2400", "--months", "24", "--start", "2024-11-01", "--out"]).arg(&out).assert().success();
    out
}

/// A generated data set in `dir` and its monthly exports (see `monthly_exports`).
pub fn generated_months(dir: &Path) -> (PathBuf, Vec<PathBuf>) {
    let generated = generated(dir);
    let months = monthly_exports(&generated, &dir.join("exports"));
    (generated, months)
}

/// Compactions of the store, oldest first.
pub fn compactions(store: &Path) -> Vec<Value> {
    manifest(store).get("compactions").and_then(Value::as_array).cloned().unwrap_or_default()
}

/// The generated data as monthly exports `mNN/`, each row in the month of its table's time column
/// (a row without one in the first). Each month also sends again, unchanged, every twentieth
/// incident of the month before, as overlapping exports do.
pub fn monthly_exports(generated: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut by_month: BTreeMap<String, BTreeMap<String, Vec<csv::StringRecord>>> = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for table in ["incidents", "problems", "changes", "events", "outages", "cis"] {
        let mut reader = csv::Reader::from_path(generated.join(format!("{table}.csv"))).unwrap();
        let header = reader.headers().unwrap().clone();
        let column = MONTH_OF.iter().find(|(t, _)| *t == table).map(|(_, c)| header.iter().position(|h| h == *c).unwrap());
        for record in reader.records() {
            let record = record.unwrap();
            let month = column.and_then(|c| record.get(c)).and_then(|v| v.get(..7)).unwrap_or("").to_string();
            by_month.entry(month).or_default().entry(table.to_string()).or_default().push(record);
        }
        headers.insert(table.to_string(), header);
    }
    // Rows without a month go with the first.
    if let Some(undated) = by_month.remove("") {
        let first = by_month.values_mut().next().unwrap();
        for (table, rows) in undated {
            first.entry(table).or_default().extend(rows);
        }
    }
    let months: Vec<BTreeMap<String, Vec<csv::StringRecord>>> = by_month.into_values().collect();
    let mut dirs = Vec::new();
    for (m, tables) in months.iter().enumerate() {
        let month_dir = dir.join(format!("m{m:02}"));
        std::fs::create_dir_all(&month_dir).unwrap();
        for (table, rows) in tables {
            let mut writer = csv::Writer::from_path(month_dir.join(format!("{table}.csv"))).unwrap();
            writer.write_record(&headers[table]).unwrap();
            let again = if table == "incidents" && m > 0 { months[m - 1].get("incidents").map(Vec::as_slice).unwrap_or_default() } else { &[] };
            let resent = again.iter().filter(|r| r[0].trim_start_matches("INC").parse::<u64>().unwrap() % 20 == 0);
            for row in rows.iter().chain(resent) {
                writer.write_record(row).unwrap();
            }
            writer.flush().unwrap();
        }
        dirs.push(month_dir);
    }
    dirs
}

pub fn load(mode: &str, store: &Path, inputs: &[PathBuf]) -> assert_cmd::assert::Assert {
    let mut cmd = mttx();
    cmd.args(["load", mode]).arg(store);
    for input in inputs {
        cmd.arg("--input").arg(input);
    }
    cmd.timeout(Duration::from_secs(120)).assert().success()
}

pub fn manifest(store: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(store.join("manifest.json")).unwrap()).unwrap()
}

/// Files per table, as the manifest lists them.
pub fn file_counts(store: &Path) -> BTreeMap<String, usize> {
    manifest(store)["tables"].as_object().unwrap().iter().map(|(t, f)| (t.clone(), f["files"].as_array().unwrap().len())).collect()
}

/// Every KPI over the whole extent, as JSON.
pub fn kpis(store: &Path) -> Value {
    let out = mttx().args(["kpi", "--format", "json", "--input"]).arg(store).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn table_csv(store: &Path, name: &str) -> String {
    let out = mttx().args(["sql", "--format", "csv", "--input"]).arg(store).arg(format!("SELECT * FROM {name} ORDER BY id")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The data files on disk under data/, relative to the store, sorted.
pub fn data_files_on_disk(store: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut files = Vec::new();
    walk(&store.join("data"), store, &mut files);
    files.sort();
    files
}

pub fn listed_files(store: &Path) -> Vec<String> {
    let mut files: Vec<String> = manifest(store)["tables"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|t| t["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect::<Vec<_>>())
        .collect();
    files.sort();
    files
}

/// Equal to the last bit: the KPIs' means sum whole microseconds as exact integers, so how the
/// rows are split between files and partitions cannot change a float.
pub fn same_kpis(a: &Value, b: &Value, at: &str) {
    same_within(a, b, at, 0.0);
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Loads `months` in order into a new store: the first with `--out`, the rest with `--into`.
pub fn load_monthly(store: &Path, months: &[PathBuf]) {
    load("--out", store, &months[..1]);
    for month in &months[1..] {
        load("--into", store, std::slice::from_ref(month));
    }
}
