//! End-to-end tests of `generate`: determinism across seeds and thread counts, every row
//! within the model, the planted effects present in the data, and the ground truth round-tripping.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;

mod events;
use crate::model::{Domain, FieldKind};

fn options(out: &Path, incidents: usize, seed: u64, layout: FormatLayout) -> GenerateOptions {
    GenerateOptions {
        out: out.to_path_buf(),
        incidents,
        months: 12,
        start: NaiveDate::from_ymd_opt(2025, 11, 1).expect("valid date"),
        seed,
        layout,
        shift: None,
        shape: Default::default(),
        id_prefix: String::new(),
    }
}

const PARQUET: FormatLayout = FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: false };

/// Every file in `dir`, by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|entry| {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().expect("file name").to_string_lossy().into_owned();
            (name, std::fs::read(&path).expect("readable file"))
        })
        .collect();
    files.sort();
    files
}

fn read(dir: &Path, table: Table) -> RecordBatch {
    let file = File::open(dir.join(PARQUET.file_name(table))).expect("table file");
    let batches: Vec<RecordBatch> =
        ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet").build().expect("reader").collect::<Result<_, _>>().expect("batches");
    concat_batches(&table.schema(), &batches).expect("same schema")
}

pub(super) fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = batch.column_by_name(name).expect(name).as_string::<i32>();
    column.iter().map(|v| v.map(str::to_string)).collect()
}

pub(super) fn times(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let column = batch.column_by_name(name).expect(name);
    column.as_primitive::<TimestampMicrosecondType>().iter().collect()
}

pub(super) fn integers(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    let column = batch.column_by_name(name).expect(name);
    column.as_primitive::<datafusion::arrow::datatypes::Int64Type>().iter().collect()
}

fn micros(date: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(date).expect("rfc3339").timestamp_micros()
}

/// Required fields, domains, `happened` timestamps and ordering rules as model.rs states
/// them, plus unique ids.
fn assert_model_invariants(table: Table, batch: &RecordBatch, as_of: i64) {
    for spec in table.fields() {
        let column = batch.column_by_name(spec.name).expect(spec.name);
        if spec.required {
            assert_eq!(column.null_count(), 0, "{table}.{} is required", spec.name);
        }
        match spec.domain {
            Domain::Range(lo, hi) => {
                for v in column.as_primitive::<Int64Type>().iter().flatten() {
                    assert!((lo..=hi).contains(&v), "{table}.{} = {v}", spec.name);
                }
            }
            Domain::OneOf(allowed) => {
                for v in column.as_string::<i32>().iter().flatten() {
                    assert!(allowed.contains(&v), "{table}.{} = {v}", spec.name);
                }
            }
            Domain::Any => {}
        }
        if spec.kind == FieldKind::Timestamp && spec.happened {
            for t in times(batch, spec.name).into_iter().flatten() {
                assert!(t <= as_of, "{table}.{} after as_of", spec.name);
            }
        }
    }
    for (earlier, later) in table.ordering_rules() {
        for (a, b) in times(batch, earlier).into_iter().zip(times(batch, later)) {
            if let (Some(a), Some(b)) = (a, b) {
                assert!(a <= b, "{table}: {earlier} {a} after {later} {b}");
            }
        }
    }
    let ids = strings(batch, "id");
    let unique: HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "{table} ids are unique");
}

#[test]
fn same_seed_gives_identical_files_whatever_the_thread_count() {
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    single.install(|| generate(&options(a.path(), 3_000, 7, FormatLayout::Mixed))).expect("generate");
    let quad = rayon::ThreadPoolBuilder::new().num_threads(4).build().expect("pool");
    quad.install(|| generate(&options(b.path(), 3_000, 7, FormatLayout::Mixed))).expect("generate");
    let (first, second) = (files(a.path()), files(b.path()));
    let names: Vec<&str> = first.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["changes.parquet", "cis.csv", "events.parquet", "ground_truth.json", "incidents.csv.gz", "outages.csv", "problems.ndjson"]);
    assert!(first == second, "files differ between runs");
}

#[test]
fn different_seeds_give_different_data() {
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let layout = FormatLayout::Uniform { format: OutputFormat::Ndjson, gzip: true };
    generate(&options(a.path(), 3_000, 1, layout)).expect("generate");
    generate(&options(b.path(), 3_000, 2, layout)).expect("generate");
    for table in Table::ALL {
        let name = layout.file_name(table);
        let read = |dir: &Path| std::fs::read(dir.join(&name)).expect("file");
        assert_ne!(read(a.path()), read(b.path()), "{name}");
    }
}

/// Each outage was recorded against an incident of priority 1 or 2 (or a major one), beginning when
/// it started (or opened) and over by its resolution, or against a normal change, over its
/// implementation. Most P1s took their service down, most P2s only degraded it, and every type
/// occurs.
fn outages_follow_their_tasks(tables: &HashMap<Table, RecordBatch>, as_of: i64) {
    let (outages, incidents, changes) = (&tables[&Table::Outages], &tables[&Table::Incidents], &tables[&Table::Changes]);
    let index = |batch: &RecordBatch| -> HashMap<String, usize> { strings(batch, "id").into_iter().flatten().enumerate().map(|(i, id)| (id, i)).collect() };
    let (incident_row, change_row) = (index(incidents), index(changes));
    let (kinds, tasks) = (strings(outages, "type"), strings(outages, "task_id"));
    let (begins, ends) = (times(outages, "begins_at"), times(outages, "ends_at"));
    let priorities = incidents.column_by_name("priority").expect("priority").as_primitive::<Int64Type>();
    let (opened, started, resolved) = (times(incidents, "opened_at"), times(incidents, "started_at"), times(incidents, "resolved_at"));
    let major = incidents.column_by_name("major").expect("major").as_boolean();
    let mut by_priority: HashMap<(i64, String), usize> = HashMap::new();
    for o in 0..outages.num_rows() {
        let (kind, task) = (kinds[o].clone().expect("type"), tasks[o].clone().expect("task"));
        assert!(begins[o].expect("begins") <= as_of && ends[o].is_none_or(|e| e >= begins[o].expect("begins") && e <= as_of));
        if let Some(&row) = incident_row.get(&task) {
            let priority = priorities.value(row);
            assert!(priority <= 2 || major.value(row), "{task} P{priority}");
            assert_ne!(kind, "planned", "{task}");
            assert_eq!(begins[o], started[row].or(opened[row]), "{task} begins when it started");
            if let (Some(end), Some(resolved)) = (ends[o], resolved[row]) {
                assert!(end <= resolved, "{task}'s outage ends by its resolution");
            }
            *by_priority.entry((priority, kind)).or_default() += 1;
        } else {
            assert!(change_row.contains_key(&task), "{task} is neither an incident nor a change");
            assert_eq!(kind, "planned", "{task}");
        }
    }
    let n = |p: i64, kind: &str| by_priority.get(&(p, kind.to_string())).copied().unwrap_or(0);
    assert!(n(1, "outage") > n(1, "degradation"), "{by_priority:?}");
    assert!(n(2, "degradation") > n(2, "outage") && n(2, "outage") > 0, "{by_priority:?}");
    assert!(kinds.iter().any(|k| k.as_deref() == Some("planned")));
}

#[test]
fn every_row_satisfies_the_model() {
    let dir = tempfile::tempdir().expect("dir");
    let summary = generate(&options(dir.path(), 5_000, 11, PARQUET)).expect("generate");
    let as_of = micros(&summary.ground_truth.as_of);
    let tables: HashMap<Table, RecordBatch> = Table::ALL.into_iter().map(|t| (t, read(dir.path(), t))).collect();
    for (table, batch) in &tables {
        assert_model_invariants(*table, batch, as_of);
        let (path, rows) = &summary.files[table_position(*table)];
        assert_eq!(*rows, batch.num_rows() as u64, "{}", path.display());
    }
    let incidents = &tables[&Table::Incidents];
    assert_eq!(incidents.num_rows(), 5_000);
    assert_eq!(strings(incidents, "id")[0].as_deref(), Some("INC0000001"));

    let ids = |table: Table| -> HashSet<String> { strings(&tables[&table], "id").into_iter().flatten().collect() };
    let refers = |table: Table, column: &str, target: Table| {
        let targets = ids(target);
        for v in strings(&tables[&table], column).into_iter().flatten() {
            assert!(targets.contains(&v), "{table}.{column} = {v} not in {target}");
        }
    };
    refers(Table::Incidents, "ci", Table::Cis);
    refers(Table::Incidents, "problem_id", Table::Problems);
    refers(Table::Incidents, "caused_by_change", Table::Changes);
    refers(Table::Problems, "ci", Table::Cis);
    refers(Table::Changes, "ci", Table::Cis);
    refers(Table::Events, "ticket_id", Table::Incidents);
    refers(Table::Outages, "ci", Table::Cis);
    outages_follow_their_tasks(&tables, as_of);

    // Incidents open only on CIs in service, and ids follow opening order.
    let cis = &tables[&Table::Cis];
    let service: HashMap<String, (i64, Option<i64>)> = strings(cis, "id")
        .into_iter()
        .flatten()
        .zip(times(cis, "in_service_from").into_iter().flatten())
        .zip(times(cis, "in_service_to"))
        .map(|((id, from), to)| (id, (from, to)))
        .collect();
    let opened: Vec<i64> = times(incidents, "opened_at").into_iter().flatten().collect();
    assert!(opened.windows(2).all(|w| w[0] <= w[1]));
    for (ci, t) in strings(incidents, "ci").into_iter().flatten().zip(&opened) {
        let (from, to) = service[&ci];
        assert!(from <= *t && to.is_none_or(|to| *t < to), "{ci} not in service");
    }

    events::events_follow_their_incidents(&tables, as_of);
}

#[test]
fn planted_effects_are_present_in_the_data() {
    let dir = tempfile::tempdir().expect("dir");
    let summary = generate(&options(dir.path(), 20_000, 2026, PARQUET)).expect("generate");
    let truth = &summary.ground_truth;
    let incidents = read(dir.path(), Table::Incidents);
    let changes = read(dir.path(), Table::Changes);
    let cis = read(dir.path(), Table::Cis);

    // Detection delay: mean of opened_at - started_at, and the share that has it.
    let started = times(&incidents, "started_at");
    let opened: Vec<i64> = times(&incidents, "opened_at").into_iter().flatten().collect();
    let delays: Vec<f64> = started.iter().zip(&opened).filter_map(|(s, o)| s.map(|s| (o - s) as f64 / 3.6e9)).collect();
    let mean_delay = delays.iter().sum::<f64>() / delays.len() as f64;
    let planted = truth.detection_delay_mean_hours;
    assert!((mean_delay - planted).abs() < 0.1 * planted, "detection {mean_delay} h");
    let detection_share = delays.len() as f64 / opened.len() as f64;
    assert!((detection_share - truth.detection_share).abs() < 0.02, "{detection_share}");

    // Problem links.
    let linked = strings(&incidents, "problem_id").iter().filter(|p| p.is_some()).count();
    let link_share = linked as f64 / opened.len() as f64;
    assert!((0.10..=0.20).contains(&link_share), "problem link share {link_share}");

    // Failed patches: the follow rate of each group, exactly as the KPI defines it.
    let mut on_ci: HashMap<String, Vec<i64>> = HashMap::new();
    for (ci, t) in strings(&incidents, "ci").into_iter().flatten().zip(&opened) {
        on_ci.entry(ci).or_default().push(*t);
    }
    let window = truth.correlation_window_hours * 3_600_000_000;
    let outcome = strings(&changes, "outcome");
    let patch = changes.column_by_name("is_patch").expect("is_patch").as_boolean().clone();
    let change_ci = strings(&changes, "ci");
    let actual_end = times(&changes, "actual_end");
    let (mut failed, mut failed_followed, mut ok, mut ok_followed) = (0, 0, 0, 0);
    for c in 0..changes.num_rows() {
        let (Some(end), Some(outcome), Some(ci)) = (actual_end[c], &outcome[c], &change_ci[c]) else {
            continue;
        };
        if !patch.value(c) {
            continue;
        }
        let followed = on_ci.get(ci).is_some_and(|ts| ts.iter().any(|&t| end < t && t <= end + window));
        match outcome.as_str() {
            "failed" | "backed_out" => {
                failed += 1;
                failed_followed += usize::from(followed);
            }
            "successful" | "successful_with_issues" => {
                ok += 1;
                ok_followed += usize::from(followed);
            }
            _ => {}
        }
    }
    let failed_share = failed as f64 / (failed + ok) as f64;
    assert!((0.02..=0.08).contains(&failed_share), "failed patch share {failed_share}");
    let lift = (failed_followed as f64 / failed as f64) / (ok_followed as f64 / ok as f64);
    let factor = truth.patches.planted_factor;
    assert!((lift - factor).abs() < 0.35 * factor, "lift {lift}, planted {factor}");
    assert_eq!(truth.patches.failed_patches, failed as u64);
    assert_eq!(truth.patches.failed_followed, failed_followed as u64);
    assert_eq!(truth.patches.successful_followed, ok_followed as u64);
    assert!((0.05..=0.3).contains(&truth.patches.background_rate), "{:?}", truth.patches);

    // caused_by_change names a failed patch on the incident's CI, at most 72 h earlier.
    let change_row: HashMap<String, usize> = strings(&changes, "id").into_iter().flatten().enumerate().map(|(i, id)| (id, i)).collect();
    let caused = strings(&incidents, "caused_by_change");
    let incident_ci = strings(&incidents, "ci");
    let mut caused_count = 0;
    for (i, change) in caused.iter().enumerate() {
        let Some(change) = change else { continue };
        caused_count += 1;
        let c = change_row[change];
        assert_eq!(incident_ci[i], change_ci[c]);
        assert!(matches!(outcome[c].as_deref(), Some("failed" | "backed_out")));
        let end = actual_end[c].expect("completed");
        assert!(end < opened[i] && opened[i] <= end + window);
    }
    assert_eq!(caused_count as u64, truth.patches.caused_by_change_set);

    // CI classes: a higher multiplier means more incidents per CI.
    let class_of: HashMap<String, String> = strings(&cis, "id").into_iter().flatten().zip(strings(&cis, "class").into_iter().flatten()).collect();
    let mut per_class: HashMap<&str, (usize, usize)> = HashMap::new();
    for class in class_of.values() {
        per_class.entry(class).or_default().0 += 1;
    }
    for ci in incident_ci.iter().flatten() {
        per_class.entry(class_of[ci].as_str()).or_default().1 += 1;
    }
    let per_ci = |class: &str| {
        let (cis, incidents) = per_class[class];
        incidents as f64 / cis as f64
    };
    assert!(per_ci("application") > per_ci("server"));
    assert!(per_ci("server") > per_ci("storage"));
    for class in &truth.ci_classes {
        let (expected, realised) = (class.expected_incidents_per_ci_month, class.realised_incidents_per_ci_month);
        assert!((realised - expected).abs() < 0.1 * expected, "{class:?}");
    }
    let rows = &truth.rows;
    assert_eq!(rows.incidents, 20_000);
    assert_eq!(rows.cis, 1_000);
    assert_eq!(rows.changes, 5_000);
}

#[test]
fn ground_truth_json_round_trips() {
    let dir = tempfile::tempdir().expect("dir");
    let summary = generate(&options(dir.path(), 1_000, 3, PARQUET)).expect("generate");
    let text = std::fs::read_to_string(dir.path().join("ground_truth.json")).expect("json");
    let truth: GroundTruth = serde_json::from_str(&text).expect("parses");
    assert_eq!(truth.seed, 3);
    assert_eq!(truth.window_start, "2025-11-01T00:00:00Z");
    assert_eq!(truth.as_of, "2026-11-01T00:00:00Z");
    assert_eq!(truth.rows.incidents, 1_000);
    assert_eq!(truth.ci_classes.len(), summary.ground_truth.ci_classes.len());
}

#[test]
fn bad_options_are_usage_errors() {
    let dir = tempfile::tempdir().expect("dir");
    let mut opts = options(dir.path(), 0, 1, PARQUET);
    assert!(matches!(generate(&opts), Err(Error::Usage(_))));
    opts.incidents = 10;
    opts.months = 0;
    assert!(matches!(generate(&opts), Err(Error::Usage(_))));
    opts.months = 1;
    opts.layout = FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: true };
    assert!(matches!(generate(&opts), Err(Error::Usage(_))));
}

#[test]
#[ignore = "timing; run with --release -- --ignored --nocapture"]
fn generate_million_timing() {
    let dir = tempfile::tempdir().expect("dir");
    let started = std::time::Instant::now();
    let summary = generate(&options(dir.path(), 1_000_000, 1, PARQUET)).expect("generate");
    eprintln!("1,000,000 incidents to parquet in {:?}", started.elapsed());
    eprintln!("{}", serde_json::to_string_pretty(&summary.ground_truth).expect("json"));
}

/// `--id-prefix` goes into every id but the CIs', and every reference follows it: the months of a
/// series get ids of their own over one CMDB, in the same order, with the same rows otherwise.
#[test]
fn an_id_prefix_names_a_run_of_a_series() {
    let (plain, prefixed) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    generate(&options(plain.path(), 500, 5, PARQUET)).expect("generate");
    generate(&GenerateOptions { id_prefix: "M007-".into(), ..options(prefixed.path(), 500, 5, PARQUET) }).expect("generate");
    for table in Table::ALL {
        let (a, b) = (read(plain.path(), table), read(prefixed.path(), table));
        assert_eq!(a.num_rows(), b.num_rows(), "{table}");
        for column in ["id", "ticket_id", "problem_id", "caused_by_change", "task_id", "ci"] {
            let (Some(_), Some(_)) = (a.column_by_name(column), b.column_by_name(column)) else { continue };
            for (x, y) in strings(&a, column).into_iter().zip(strings(&b, column)) {
                let expected = match (table, column) {
                    (Table::Cis, "id") | (_, "ci") => x.clone(),
                    _ => x.as_ref().map(|x| {
                        let digits = x.find(|c: char| c.is_ascii_digit()).expect("a number");
                        format!("{}M007-{}", &x[..digits], &x[digits..])
                    }),
                };
                assert_eq!(y, expected, "{table}.{column}");
            }
        }
    }
    let bad = GenerateOptions { id_prefix: "a,b".into(), ..options(prefixed.path(), 500, 5, PARQUET) };
    assert!(generate(&bad).is_err_and(|e| e.to_string().contains("--id-prefix")));
}
