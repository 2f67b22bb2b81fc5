//! Golden cases for KPI queries, the sqllogictest idea for mttx: `DIR/tests/<kpi>/<case>/` holds a
//! `case.toml` (cut-off, months, parameters, inputs) and `expected.csv`, the KPI's result on those
//! inputs. `mttx test` runs every case and shows the rows that differ; `--bless` rewrites the
//! expected files after a reviewed change.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::escape::spreadsheet_safe;
use crate::ingest::Profile;
use crate::kpi::document::key_text;
use crate::kpi::{Breakdown, Kpi, PeriodRequest, Tuning, YearMonth, breakdown};
use crate::pipeline::{Open, Pipeline};
use crate::progress::Progress;

/// `case.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    /// The cut-off, RFC 3339.
    pub as_of: String,
    /// First and last month, YYYY-MM; default as in `mttx kpi`.
    pub from: Option<String>,
    pub to: Option<String>,
    #[serde(default = "utc")]
    pub timezone: String,
    /// Input files or directories, relative to the case directory. Default: the case directory.
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default = "canonical")]
    pub profile: String,
    /// An SLA policy file relative to the case directory; default: the built-in policy.
    pub sla: Option<String>,
    pub failure_priority: Option<i64>,
    pub availability_months: Option<i64>,
    pub window_hours: Option<i64>,
    pub candidate_min_incidents: Option<i64>,
    pub candidate_window_days: Option<i64>,
    pub risk_min_patches: Option<i64>,
    pub idle_days: Option<i64>,
    pub problem_base_month: Option<YearMonth>,
    /// `--by`: the incident field the KPI is cut by.
    pub by: Option<Breakdown>,
}

fn utc() -> String {
    "UTC".into()
}

fn canonical() -> String {
    "canonical".into()
}

/// A case on disk.
#[derive(Debug, Clone)]
pub struct Case {
    pub kpi: String,
    pub name: String,
    pub dir: PathBuf,
}

pub const EXPECTED: &str = "expected.csv";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseOutcome {
    Passed,
    Blessed,
    /// The rows that differ, as a readable diff.
    Failed(String),
}

/// The cases under `queries_dir/tests`, sorted; directories starting with `_` hold shared data.
pub fn discover(queries_dir: &Path) -> Result<Vec<Case>> {
    let root = queries_dir.join("tests");
    let mut cases = Vec::new();
    if !root.is_dir() {
        return Ok(cases);
    }
    for kpi_dir in sorted_dirs(&root)? {
        let kpi = file_name(&kpi_dir);
        if kpi.starts_with('_') {
            continue;
        }
        for case_dir in sorted_dirs(&kpi_dir)? {
            cases.push(Case { kpi: kpi.clone(), name: file_name(&case_dir), dir: case_dir });
        }
    }
    Ok(cases)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sorted_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Where a case's inputs are read from.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// The exports, loaded into memory with the case's cut-off.
    Exports,
    /// A store made at this path from the exports (everything, no cut-off), then read with the
    /// case's cut-off: the results must be the same as from the exports.
    Store(&'a Path),
    /// As `Store`, with the queries run on `engine` (a cluster's executors read the store).
    StoreOn(&'a Path, &'a crate::engine::Engine),
}

/// A case's result as golden CSV, and the key columns it has.
pub struct CaseRun {
    pub csv: String,
    pub keys: Vec<String>,
}

/// Runs one case's KPI on its inputs.
pub fn run_case(case: &Case, kpi: &Kpi) -> Result<CaseRun> {
    run_case_via(case, kpi, Via::Exports)
}

pub fn run_case_via(case: &Case, kpi: &Kpi, via: Via) -> Result<CaseRun> {
    let spec_path = case.dir.join("case.toml");
    let text = std::fs::read_to_string(&spec_path).map_err(|e| Error::io(&spec_path, e))?;
    let spec: CaseSpec = toml::from_str(&text).map_err(|e| Error::GoldenCase { origin: spec_path.display().to_string(), message: e.to_string() })?;
    let fail = |message: String| Error::GoldenCase { origin: spec_path.display().to_string(), message };
    let timezone: chrono_tz::Tz = spec.timezone.parse().map_err(|_| fail(format!("timezone `{}` is not an IANA zone", spec.timezone)))?;
    let as_of = crate::time::parse_iso(&spec.as_of, timezone).ok_or_else(|| fail(format!("as_of `{}` is not RFC 3339", spec.as_of)))?;
    let request = match (&spec.from, &spec.to) {
        (Some(from), Some(to)) => {
            let month = |key: &str, text: &str| text.parse::<YearMonth>().map_err(|e| fail(format!("{key}: {e}")));
            PeriodRequest::Months(month("from", from)?, month("to", to)?)
        }
        (None, None) => PeriodRequest::All,
        _ => return Err(fail("give both from and to, or neither".into())),
    };
    let defaults = Tuning::default();
    let tuning = Tuning {
        failure_priority: spec.failure_priority.or(defaults.failure_priority),
        availability_months: spec.availability_months.unwrap_or(defaults.availability_months),
        correlation_window_hours: spec.window_hours.unwrap_or(defaults.correlation_window_hours),
        candidate_min_incidents: spec.candidate_min_incidents.unwrap_or(defaults.candidate_min_incidents),
        candidate_window_days: spec.candidate_window_days.unwrap_or(defaults.candidate_window_days),
        risk_min_patches: spec.risk_min_patches.unwrap_or(defaults.risk_min_patches),
        idle_days: spec.idle_days.unwrap_or(defaults.idle_days),
        problem_base_month: spec.problem_base_month,
        ..defaults
    };
    let sla = spec.sla.as_ref().map(|p| case.dir.join(p));
    let exports: Vec<PathBuf> = if spec.inputs.is_empty() { vec![case.dir.clone()] } else { spec.inputs.iter().map(|i| case.dir.join(i)).collect() };
    let engine = match via {
        Via::StoreOn(_, engine) => engine.clone(),
        Via::Exports | Via::Store(_) => crate::engine::Engine::Local,
    };
    let inputs = match via {
        Via::Exports => exports,
        Via::Store(dir) | Via::StoreOn(dir, _) => {
            let (profile, text) = Profile::resolve_with_text(&spec.profile)?;
            let request = crate::store::LoadRequest {
                inputs: &exports,
                profile: &profile,
                profile_text: &text,
                as_of: None,
                mode: crate::store::Mode::Out { replace: true },
                strict: false,
            };
            crate::store::load::load(dir, &request, &Progress::hidden(), &mut std::io::sink())?;
            vec![dir.to_path_buf()]
        }
    };
    let open = Open {
        inputs: &inputs,
        profile: &spec.profile,
        timezone,
        as_of: Some(as_of),
        sla: sla.as_deref(),
        rejects: None,
        memory_limit: Default::default(),
        engine,
    };
    let pipeline = Pipeline::open(&open, &Progress::hidden(), &mut std::io::sink())?;
    let params = pipeline.params(request, tuning)?.with_breakdown(spec.by);
    let batches = pipeline.runtime().block_on(async {
        let ctx = pipeline.session(&params).await?;
        Ok::<_, Error>(breakdown::shape(ctx.sql(&kpi.sql).await?, spec.by)?.collect().await?)
    })?;
    Ok(CaseRun { csv: golden_csv(&batches)?, keys: breakdown::keys(&kpi.meta.keys, spec.by) })
}

/// Results as CSV for comparison: floats rounded to nine decimals so that the last bits of
/// parallel sums cannot make a case flaky; nulls empty; text neutralised like every CSV mttx writes.
pub fn golden_csv(batches: &[RecordBatch]) -> Result<String> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let csv_err = |e: ::csv::Error| Error::io("<golden csv>", std::io::Error::other(e));
    if let Some(first) = batches.first() {
        let header: Vec<String> = first.schema().fields().iter().map(|f| f.name().clone()).collect();
        writer.write_record(&header).map_err(csv_err)?;
    }
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let mut columns: Vec<Vec<String>> = Vec::new();
        for array in batch.columns() {
            let cells: Vec<String> = match array.data_type() {
                DataType::Float64 => {
                    let floats = array.as_primitive::<Float64Type>();
                    (0..floats.len()).map(|i| if floats.is_null(i) { String::new() } else { round9(floats.value(i)) }).collect()
                }
                DataType::Utf8 => {
                    let text = array.as_string::<i32>();
                    (0..text.len()).map(|i| if text.is_null(i) { String::new() } else { spreadsheet_safe(text.value(i)).into_owned() }).collect()
                }
                _ => {
                    let formatter = ArrayFormatter::try_new(array.as_ref(), &options)?;
                    (0..array.len()).map(|i| formatter.value(i).to_string()).collect()
                }
            };
            columns.push(cells);
        }
        for row in 0..batch.num_rows() {
            writer.write_record(columns.iter().map(|c| c[row].as_str())).map_err(csv_err)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| Error::io("<golden csv>", std::io::Error::other(e.to_string())))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn round9(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let text = format!("{x:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.into() }
}

/// Compares a result with the expected file, or rewrites the file when blessing.
pub fn judge(case: &Case, actual: &str, keys: &[String], bless: bool) -> Result<CaseOutcome> {
    let path = case.dir.join(EXPECTED);
    if bless {
        std::fs::write(&path, actual).map_err(|e| Error::io(&path, e))?;
        return Ok(CaseOutcome::Blessed);
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(CaseOutcome::Failed(format!("no {EXPECTED}; review the result and create it with `mttx test --bless`:\n{actual}")));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    if expected == actual {
        return Ok(CaseOutcome::Passed);
    }
    Ok(CaseOutcome::Failed(diff_rows(&expected, actual, keys)))
}

/// A row-level diff: the header once, then each differing row as `-` expected and `+` actual,
/// with its row number and its key (the KPI's `keys` columns, named as checks name rows).
pub fn diff_rows(expected: &str, actual: &str, keys: &[String]) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut out = String::new();
    if e.first() != a.first() {
        out.push_str(&format!("  columns differ:\n  - {}\n  + {}\n", e.first().unwrap_or(&""), a.first().unwrap_or(&"")));
    } else if let Some(header) = e.first() {
        out.push_str(&format!("    {header}\n"));
    }
    let header = csv_fields(a.first().or(e.first()).copied().unwrap_or_default());
    let key_of = |line: &str| -> String {
        let fields = csv_fields(line);
        let pairs: Vec<(&str, String)> =
            keys.iter().filter_map(|k| header.iter().position(|h| h == k).map(|i| (k.as_str(), fields.get(i).cloned().unwrap_or_default()))).collect();
        if pairs.is_empty() { String::new() } else { format!(" ({})", key_text(&pairs)) }
    };
    for i in 1..e.len().max(a.len()) {
        match (e.get(i), a.get(i)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => {
                out.push_str(&format!("  row {i}{}:\n", key_of(y.or(x).copied().unwrap_or_default())));
                if let Some(x) = x {
                    out.push_str(&format!("  - {x}\n"));
                }
                if let Some(y) = y {
                    out.push_str(&format!("  + {y}\n"));
                }
            }
        }
    }
    out
}

/// The fields of one CSV line.
fn csv_fields(line: &str) -> Vec<String> {
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).from_reader(line.as_bytes());
    reader.records().next().and_then(|r| r.ok()).map(|r| r.iter().map(str::to_string).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_diffs() {
        assert_eq!(round9(0.1 + 0.2), "0.3");
        assert_eq!(round9(2.0), "2");
        assert_eq!(round9(-1e-12), "0");
        let d = diff_rows("a,b\n1,2\n3,4\n", "a,b\n1,2\n3,5\n6,7\n", &["a".to_string()]);
        assert!(d.contains("row 2 (a=3):\n  - 3,4\n  + 3,5") && d.contains("row 3 (a=6):\n  + 6,7"), "{d}");
        // Keys name rows as checks do, so a value holding a separator cannot pass for another key.
        let d = diff_rows("ci,n\n\"x,y\",1\n", "ci,n\n\"x,y\",2\n", &["ci".to_string()]);
        assert!(d.contains("row 1 (ci=x\\,y):"), "{d}");
    }
}
