//! Synthetic ITSM exports with planted, known effects: the five canonical tables over a window
//! of months, and `ground_truth.json` stating what was planted so KPIs can be checked against it.
//!
//! A seed always gives byte-identical files, whatever the thread count: all randomness comes from
//! `rng` streams keyed by purpose and chunk, never from scheduling or hash order.

mod changes;
mod cmdb;
mod incidents;
mod problems;
mod rng;
mod tables;

use std::path::{Path, PathBuf};

use chrono::{Months, NaiveDate, NaiveTime};
use datafusion::arrow::array::RecordBatch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::Table;
use crate::write::{OutputFormat, TableWriter};
use crate::{Error, Result};

use changes::{ByCi, Change, FollowStats};
use cmdb::{CLASSES, Cmdb};
use incidents::Incident;
use problems::Problem;
use rng::{Rng, Stream};
use tables::{BATCH_ROWS, IdFormat};

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

const MAX_INCIDENTS: usize = 100_000_000;
const MIN_CIS: usize = 50;
const INCIDENTS_PER_CI: usize = 20;
const MIN_CHANGES: usize = 20;
const INCIDENTS_PER_CHANGE: usize = 4;

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Directory the files are written to; created if missing.
    pub out: PathBuf,
    /// Exact number of incidents written.
    pub incidents: usize,
    /// Window length in calendar months.
    pub months: u32,
    /// First day of the window (UTC).
    pub start: NaiveDate,
    /// Seed of every random draw: the same seed gives byte-identical files.
    pub seed: u64,
    /// Which format each table is written in.
    pub layout: FormatLayout,
    /// A planted change in resolution times from a date on, for before/after comparisons.
    pub shift: Option<Shift>,
    /// How many CIs and changes, and the share of patches; by default they follow the incidents.
    pub shape: Shape,
}

/// The size of the CMDB and of the change log, for data sets shaped like a given service desk
/// (the peer benchmark: 10 M incidents, 1 M changes, 20,000 CIs, 60 % patches).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// CIs; None: one per 20 incidents, at least 50.
    pub cis: Option<usize>,
    /// Changes; None: one per 4 incidents, at least 20.
    pub changes: Option<usize>,
    /// The share of changes that are patches.
    pub patch_share: f64,
}

impl Default for Shape {
    fn default() -> Shape {
        Shape { cis: None, changes: None, patch_share: changes::PATCH_SHARE }
    }
}

/// From `from` (UTC midnight) on, the resolution times of the incidents of one priority or one
/// assignment group are `factor` times what they would have been: an improvement below 1, a
/// deterioration above. Every other draw is the same as without it.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub from: NaiveDate,
    pub target: ShiftTarget,
    pub factor: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ShiftTarget {
    Priority(u8),
    Group(String),
}

/// The planted shift, as ground_truth.json states it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShiftTruth {
    /// First instant of the shift, RFC 3339 UTC.
    pub from: String,
    /// Which incidents: `priority=3` or `assignment_group=Service Desk`.
    pub incidents: String,
    /// Resolution times (opened to resolved) are multiplied by this.
    pub factor: f64,
    /// Incidents opened from `from` on that the shift changed.
    pub shifted: u64,
}

/// Which format each table is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatLayout {
    /// Every table in one format, optionally gzipped (CSV and NDJSON only).
    Uniform { format: OutputFormat, gzip: bool },
    /// One table per format, as a heterogeneous real-world export would arrive: incidents as
    /// gzipped CSV, problems as NDJSON, changes and events as Parquet, CIs as CSV.
    Mixed,
}

impl FormatLayout {
    /// The format `table` is written in and whether it is gzipped.
    pub fn format_of(self, table: Table) -> (OutputFormat, bool) {
        match self {
            FormatLayout::Uniform { format, gzip } => (format, gzip),
            FormatLayout::Mixed => match table {
                Table::Incidents => (OutputFormat::Csv, true),
                Table::Problems => (OutputFormat::Ndjson, false),
                Table::Changes | Table::Events => (OutputFormat::Parquet, false),
                Table::Cis => (OutputFormat::Csv, false),
            },
        }
    }

    /// `<table>.<ext>[.gz]`.
    pub fn file_name(self, table: Table) -> String {
        let (format, gzip) = self.format_of(table);
        let suffix = if gzip { ".gz" } else { "" };
        format!("{}.{}{}", table.name(), format.extension(), suffix)
    }
}

#[derive(Debug, Clone)]
pub struct GenerateSummary {
    /// Each table's file and its row count, in `Table::ALL` order.
    pub files: Vec<(PathBuf, u64)>,
    pub ground_truth: GroundTruth,
}

/// What the generator planted, and what it realised in this data set. Written as
/// `ground_truth.json` next to the tables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Seed the data was generated from; the same seed gives byte-identical files.
    pub seed: u64,
    /// Incident rows written.
    pub incidents: usize,
    /// Window length in calendar months.
    pub months: u32,
    /// First instant of the window, RFC 3339 UTC.
    pub window_start: String,
    /// End of the window, RFC 3339 UTC: the `--as-of` to analyse with. No timestamp that records
    /// something that happened lies after it.
    pub as_of: String,
    /// Planted share of incidents raised by monitoring (contact type `monitoring`), which arrive
    /// round the clock rather than in working hours.
    pub monitoring_share: f64,
    /// Planted mean of `opened_at - started_at`, in hours (exponentially distributed).
    pub detection_delay_mean_hours: f64,
    /// Realised mean of `opened_at - started_at` over incidents that have `started_at`, hours.
    pub detection_delay_realised_mean_hours: f64,
    /// Planted share of incidents with `started_at`: every monitoring incident and a share of
    /// the others.
    pub detection_share: f64,
    /// Realised share of incidents with `started_at`.
    pub detection_share_realised: f64,
    /// Planted share of incidents linked to a problem.
    pub problem_link_share: f64,
    /// Realised share of incidents with a `problem_id`.
    pub problem_link_share_realised: f64,
    /// Planted lift: how many times as likely a completed failed patch (outcome `failed` or
    /// `backed_out`) is to be followed by an incident on its CI within
    /// `correlation_window_hours` after `actual_end` as a completed successful patch (outcome
    /// `successful` or `successful_with_issues`). See `patches.planted_factor` for clamping.
    pub failed_patch_factor: f64,
    /// The window after a patch's `actual_end`, `(actual_end, actual_end + window]`, in hours.
    pub correlation_window_hours: i64,
    /// A planted change in resolution times (`mttx generate --shift-…`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_shift: Option<ShiftTruth>,
    /// How the failed-patch effect was planted and what it realised.
    pub patches: PatchTruth,
    /// Per CI class: planted multiplier and incident rates.
    pub ci_classes: Vec<CiClassTruth>,
    /// Rows written per table.
    pub rows: RowCounts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatchTruth {
    /// `q`: share of completed patches followed by an incident before planting.
    pub background_rate: f64,
    /// The factor planted: `failed_patch_factor`, or less when `failed_patch_factor · q` would
    /// exceed 0.9.
    pub planted_factor: f64,
    /// Whether `planted_factor` was clamped below `failed_patch_factor`.
    pub factor_clamped: bool,
    /// `r = (F·q - q) / (1 - q)`: chance that a failed patch not already followed received an
    /// incident moved onto its CI within the window.
    pub relocation_probability: f64,
    /// Incidents moved onto a failed patch's CI to plant the effect.
    pub relocated_incidents: u64,
    /// Relocated incidents whose `caused_by_change` names the patch (no others have one).
    pub caused_by_change_set: u64,
    /// Completed patches with outcome `failed` or `backed_out`.
    pub failed_patches: u64,
    /// Of those, followed by at least one incident on the same CI within the window.
    pub failed_followed: u64,
    /// `failed_followed / failed_patches`.
    pub failed_rate: f64,
    /// Completed patches with outcome `successful` or `successful_with_issues`.
    pub successful_patches: u64,
    /// Of those, followed by at least one incident on the same CI within the window.
    pub successful_followed: u64,
    /// `successful_followed / successful_patches`.
    pub successful_rate: f64,
    /// `failed_rate / successful_rate`, as the KPI measures it; null when undefined.
    pub realised_lift: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CiClassTruth {
    /// CI class as written in `cis.class`.
    pub class: String,
    /// CIs of this class.
    pub cis: u64,
    /// Planted relative incident rate of the class; each CI also has a log-normal frailty.
    pub rate_multiplier: f64,
    /// Mean frailty of the class's CIs as drawn.
    pub mean_frailty: f64,
    /// In-service time of the class's CIs within the window, in months of average length.
    pub ci_months: f64,
    /// Incidents per CI-month the model expects for the class, given the CIs and incident
    /// times drawn (before failed-patch planting moves a few incidents).
    pub expected_incidents_per_ci_month: f64,
    /// Incidents per CI-month in the written data.
    pub realised_incidents_per_ci_month: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RowCounts {
    pub incidents: u64,
    pub problems: u64,
    pub changes: u64,
    pub cis: u64,
    pub events: u64,
}

/// The analysis window in epoch seconds: `[start, as_of)`.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: i64,
    as_of: i64,
    months: u32,
}

impl Window {
    fn new(start: NaiveDate, months: u32) -> Result<Window> {
        if months == 0 {
            return Err(Error::Usage("--months must be at least 1".into()));
        }
        let end = start.checked_add_months(Months::new(months)).ok_or_else(|| Error::Usage(format!("--start {start} plus {months} months is out of range")))?;
        let epoch = |date: NaiveDate| date.and_time(NaiveTime::MIN).and_utc().timestamp();
        Ok(Window { start: epoch(start), as_of: epoch(end), months })
    }

    fn month_seconds(&self) -> f64 {
        (self.as_of - self.start) as f64 / f64::from(self.months)
    }
}

fn rfc3339(seconds: i64) -> String {
    crate::time::rfc3339(seconds * 1_000_000)
}

/// Id formats per table, widened as the row counts need.
struct Ids {
    incidents: IdFormat,
    problems: IdFormat,
    changes: IdFormat,
    cis: IdFormat,
    events: IdFormat,
}

/// Everything generated, in id order.
struct World {
    window: Window,
    cmdb: Cmdb,
    incidents: Vec<Incident>,
    changes: Vec<Change>,
    problems: Vec<Problem>,
    ids: Ids,
    /// Id number (0-based) of the first event of each events batch.
    event_starts: Vec<usize>,
}

/// Generates the tables into `opts.out` and writes `ground_truth.json` beside them.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary> {
    if !(1..=MAX_INCIDENTS).contains(&opts.incidents) {
        return Err(Error::Usage(format!("--incidents must be between 1 and {MAX_INCIDENTS}")));
    }
    for (flag, count) in [("--cis", opts.shape.cis), ("--changes", opts.shape.changes)] {
        if count.is_some_and(|n| !(1..=MAX_INCIDENTS).contains(&n)) {
            return Err(Error::Usage(format!("{flag} must be at least 1 and at most {MAX_INCIDENTS}")));
        }
    }
    if !(0.0..=1.0).contains(&opts.shape.patch_share) {
        return Err(Error::Usage(format!("--patch-share {}: give a share from 0 to 1, e.g. 0.6", opts.shape.patch_share)));
    }
    if let FormatLayout::Uniform { format: OutputFormat::Parquet, gzip: true } = opts.layout {
        return Err(Error::Usage("--gzip applies to csv and ndjson only; parquet compresses internally".into()));
    }
    let window = Window::new(opts.start, opts.months)?;
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;

    let (world, mut truth) = build_world(opts, window);
    let files = write_tables(&world, &opts.out, opts.layout)?;
    let count = |table: Table| files[table_position(table)].1;
    truth.rows = RowCounts {
        incidents: count(Table::Incidents),
        problems: count(Table::Problems),
        changes: count(Table::Changes),
        cis: count(Table::Cis),
        events: count(Table::Events),
    };
    let path = opts.out.join("ground_truth.json");
    let mut json = serde_json::to_string_pretty(&truth)?;
    json.push('\n');
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    Ok(GenerateSummary { files, ground_truth: truth })
}

fn table_position(table: Table) -> usize {
    Table::ALL.iter().position(|&t| t == table).unwrap_or(0)
}

/// Draws the world in dependency order (CIs, incidents, changes, the planted patch effect,
/// problems) and measures what was realised. Row counts are filled in once written.
fn build_world(opts: &GenerateOptions, window: Window) -> (World, GroundTruth) {
    let seed = opts.seed;
    let cis = opts.shape.cis.unwrap_or(MIN_CIS.max(opts.incidents / INCIDENTS_PER_CI));
    let cmdb = Cmdb::generate(cis, &window, &mut Rng::stream(seed, Stream::Cis, 0));
    let mut incidents = incidents::draw(opts.incidents, &window, &cmdb, seed);
    let expected_by_class = cmdb.expected_incidents_by_class(incidents.iter().map(|i| i.opened));
    let changes =
        changes::draw(opts.shape.changes.unwrap_or(MIN_CHANGES.max(opts.incidents / INCIDENTS_PER_CHANGE)), opts.shape.patch_share, &window, &cmdb, seed);
    let planting = changes::plant_failed_patch_effect(&mut incidents, &changes, &cmdb, &window, seed);
    incidents::sort_by_opening(&mut incidents);
    let by_ci = ByCi::new(&incidents, cmdb.cis.len());
    let problems = problems::plant(&mut incidents, &by_ci, &window, seed);
    let follow = FollowStats::measure(&changes, &incidents, &by_ci);
    let resolution_shift = opts.shift.as_ref().map(|shift| {
        let from = shift.from.and_time(NaiveTime::MIN).and_utc().timestamp();
        let mut shifted = 0;
        for incident in incidents.iter_mut().filter(|i| i.opened >= from) {
            let matches = match &shift.target {
                ShiftTarget::Priority(p) => incident.priority == *p,
                ShiftTarget::Group(g) => tables::assignment_group(incident, &cmdb) == g,
            };
            if matches {
                incident.work = incidents::seconds(incident.work as f64 * shift.factor).max(5 * MINUTE);
                incident.ack_delay = incident.ack_delay.min(incident.work);
                shifted += 1;
            }
        }
        let who = match &shift.target {
            ShiftTarget::Priority(p) => format!("priority={p}"),
            ShiftTarget::Group(g) => format!("assignment_group={g}"),
        };
        ShiftTruth { from: rfc3339(from), incidents: who, factor: shift.factor, shifted }
    });

    let n = incidents.len() as f64;
    let delays: Vec<i64> = incidents.iter().filter_map(|i| i.detection).collect();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let failed_rate = ratio(follow.failed_followed as f64, follow.failed as f64);
    let successful_rate = ratio(follow.successful_followed as f64, follow.successful as f64);
    let truth = GroundTruth {
        seed,
        incidents: incidents.len(),
        months: opts.months,
        window_start: rfc3339(window.start),
        as_of: rfc3339(window.as_of),
        monitoring_share: incidents::MONITORING_SHARE,
        detection_delay_mean_hours: incidents::DETECTION_DELAY_MEAN / HOUR as f64,
        detection_delay_realised_mean_hours: ratio(delays.iter().sum::<i64>() as f64 / HOUR as f64, delays.len() as f64),
        detection_share: incidents::DETECTION_SHARE,
        detection_share_realised: delays.len() as f64 / n,
        problem_link_share: problems::PROBLEM_LINK_SHARE,
        problem_link_share_realised: incidents.iter().filter(|i| i.problem.is_some()).count() as f64 / n,
        resolution_shift,
        failed_patch_factor: changes::FAILED_PATCH_FACTOR,
        correlation_window_hours: changes::CORRELATION_WINDOW / HOUR,
        patches: PatchTruth {
            background_rate: planting.background_rate,
            planted_factor: planting.planted_factor,
            factor_clamped: planting.clamped,
            relocation_probability: planting.relocation_probability,
            relocated_incidents: planting.relocated,
            caused_by_change_set: planting.caused_by_set,
            failed_patches: follow.failed,
            failed_followed: follow.failed_followed,
            failed_rate,
            successful_patches: follow.successful,
            successful_followed: follow.successful_followed,
            successful_rate,
            realised_lift: (successful_rate > 0.0).then(|| failed_rate / successful_rate),
        },
        ci_classes: class_truth(&cmdb, &incidents, &window, &expected_by_class),
        rows: RowCounts::default(),
    };
    let ids = Ids {
        incidents: IdFormat::new("INC", 7, incidents.len()),
        problems: IdFormat::new("PRB", 7, problems.len()),
        changes: IdFormat::new("CHG", 7, changes.len()),
        cis: IdFormat::new("CI", 5, cmdb.cis.len()),
        // Events are numbered once counted, below.
        events: IdFormat::new("EV", 8, 0),
    };
    let mut world = World { window, cmdb, incidents, changes, problems, ids, event_starts: Vec::new() };
    let mut events = 0;
    for count in world.event_counts() {
        world.event_starts.push(events);
        events += count;
    }
    world.ids.events = IdFormat::new("EV", 8, events);
    (world, truth)
}

fn class_truth(cmdb: &Cmdb, incidents: &[Incident], window: &Window, expected: &[f64; CLASSES.len()]) -> Vec<CiClassTruth> {
    let mut cis = [0u64; CLASSES.len()];
    let mut frailty = [0.0; CLASSES.len()];
    let mut exposure = [0i64; CLASSES.len()];
    for ci in &cmdb.cis {
        cis[ci.class] += 1;
        frailty[ci.class] += ci.frailty;
        exposure[ci.class] += ci.exposure(window);
    }
    let mut realised = [0u64; CLASSES.len()];
    for incident in incidents {
        realised[cmdb.cis[incident.ci as usize].class] += 1;
    }
    CLASSES
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let ci_months = exposure[c] as f64 / window.month_seconds();
            let per_ci_month = |count: f64| {
                if ci_months > 0.0 { count / ci_months } else { 0.0 }
            };
            CiClassTruth {
                class: class.name.to_string(),
                cis: cis[c],
                rate_multiplier: class.multiplier,
                mean_frailty: if cis[c] > 0 { frailty[c] / cis[c] as f64 } else { 0.0 },
                ci_months,
                expected_incidents_per_ci_month: per_ci_month(expected[c]),
                realised_incidents_per_ci_month: per_ci_month(realised[c] as f64),
            }
        })
        .collect()
}

fn write_tables(world: &World, dir: &Path, layout: FormatLayout) -> Result<Vec<(PathBuf, u64)>> {
    let chunks = |rows: usize| rows.div_ceil(BATCH_ROWS);
    Table::ALL
        .into_iter()
        .map(|table| {
            let file = dir.join(layout.file_name(table));
            let (format, gzip) = layout.format_of(table);
            let write = |batches: usize, build: &(dyn Fn(usize) -> Result<RecordBatch> + Sync)| write_table(&file, format, gzip, table, batches, build);
            let rows = match table {
                Table::Incidents => write(chunks(world.incidents.len()), &|c| world.incident_batch(c)),
                Table::Problems => write(chunks(world.problems.len()), &|c| world.problem_batch(c)),
                Table::Changes => write(chunks(world.changes.len()), &|c| world.change_batch(c)),
                Table::Cis => write(chunks(world.cmdb.cis.len()), &|c| world.ci_batch(c)),
                Table::Events => write(world.event_starts.len(), &|c| world.event_batch(c, world.event_starts[c])),
            }?;
            Ok((file, rows))
        })
        .collect()
}

/// Builds a table's batches a few at a time in parallel and writes them in order, so memory
/// stays bounded and the file does not depend on scheduling.
fn write_table(
    path: &Path,
    format: OutputFormat,
    gzip: bool,
    table: Table,
    batches: usize,
    build: &(dyn Fn(usize) -> Result<RecordBatch> + Sync),
) -> Result<u64> {
    let mut writer = TableWriter::create(path, format, gzip, table.schema())?;
    let in_flight = 2 * rayon::current_num_threads().max(1);
    for first in (0..batches).step_by(in_flight) {
        let built = (first..(first + in_flight).min(batches)).into_par_iter().map(build).collect::<Result<Vec<_>>>()?;
        for batch in &built {
            writer.write(batch)?;
        }
    }
    writer.finish()
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};
    use std::fs::File;

    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::concat_batches;
    use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
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

    fn strings(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
        let column = batch.column_by_name(name).expect(name).as_string::<i32>();
        column.iter().map(|v| v.map(str::to_string)).collect()
    }

    fn times(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
        let column = batch.column_by_name(name).expect(name);
        column.as_primitive::<TimestampMicrosecondType>().iter().collect()
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
        assert_eq!(names, ["changes.parquet", "cis.csv", "events.parquet", "ground_truth.json", "incidents.csv.gz", "problems.ndjson"]);
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

        // Events: per ticket in time order within [opened_at, as_of], ending in the row's state.
        let events = &tables[&Table::Events];
        let incident_ids: Vec<String> = strings(incidents, "id").into_iter().flatten().collect();
        let row_of: HashMap<&str, usize> = incident_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        let states = strings(incidents, "state");
        let tickets: Vec<String> = strings(events, "ticket_id").into_iter().flatten().collect();
        let at: Vec<i64> = times(events, "at").into_iter().flatten().collect();
        let to = strings(events, "to_value");
        let event_ids: Vec<String> = strings(events, "id").into_iter().flatten().collect();
        assert!(event_ids.windows(2).all(|w| w[0] < w[1]), "event ids ascend");
        for e in 0..tickets.len() {
            let row = row_of[tickets[e].as_str()];
            assert!(opened[row] <= at[e] && at[e] <= as_of);
            if e + 1 < tickets.len() && tickets[e + 1] == tickets[e] {
                assert!(at[e] <= at[e + 1], "events of {} out of order", tickets[e]);
            } else {
                assert_eq!(to[e], states[row], "last event of {} is its state", tickets[e]);
            }
            if e > 0 && tickets[e - 1] != tickets[e] {
                assert!(row_of[tickets[e - 1].as_str()] < row, "tickets in id order");
            }
        }
        assert_eq!(row_of.len(), tickets.iter().collect::<HashSet<_>>().len());
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
}
