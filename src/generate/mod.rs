//! Synthetic ITSM exports with planted, known effects: the six canonical tables over a window
//! of months, and `ground_truth.json` stating what was planted so KPIs can be checked against it.
//!
//! A seed always gives byte-identical files, whatever the thread count: all randomness comes from
//! `rng` streams keyed by purpose and chunk, never from scheduling or hash order.

mod assignments;
mod changes;
mod cmdb;
mod incidents;
mod options;
mod outages;
mod output;
mod problems;
mod rng;
mod tables;
#[cfg(test)]
mod tests;
mod truth;

pub use options::{FormatLayout, GenerateOptions, Shape, Shift, ShiftTarget};
pub use output::GenerateSummary;
pub use truth::{CiClassTruth, GroundTruth, PatchTruth, RowCounts, ShiftTruth};

use std::sync::Arc;

use chrono::{Months, NaiveDate, NaiveTime};

use crate::model::Table;
use crate::write::OutputFormat;
use crate::{Error, Result};

use changes::{ByCi, Change, FollowStats};
use cmdb::Cmdb;
use incidents::Incident;
use output::{table_position, write_tables};
use problems::Problem;
use rng::{Rng, Stream};
use tables::IdFormat;
use truth::class_truth;

const MINUTE: i64 = 60;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

const MAX_INCIDENTS: usize = 100_000_000;
const MIN_CIS: usize = 50;
const INCIDENTS_PER_CI: usize = 20;
const MIN_CHANGES: usize = 20;
const INCIDENTS_PER_CHANGE: usize = 4;

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
    outages: IdFormat,
}

/// Everything generated, in id order.
struct World {
    window: Window,
    cmdb: Cmdb,
    incidents: Vec<Incident>,
    changes: Vec<Change>,
    problems: Vec<Problem>,
    outages: Vec<outages::Outage>,
    ids: Ids,
    /// The seed, for the draws made as tables are written (assignment changes).
    seed: u64,
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
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if opts.id_prefix.len() > 16 || !opts.id_prefix.chars().all(allowed) {
        return Err(Error::Usage(format!("--id-prefix {:?}: give at most 16 letters, digits, - or _", opts.id_prefix)));
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
        outages: count(Table::Outages),
    };
    let path = opts.out.join("ground_truth.json");
    let mut json = serde_json::to_string_pretty(&truth)?;
    json.push('\n');
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    Ok(GenerateSummary { files, ground_truth: truth })
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
                ShiftTarget::Group(g) => assignments::assignment_group(incident, &cmdb) == g,
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
    let outages = outages::draw(&incidents, &changes, &window, seed);
    // The CMDB is one across the runs of a series: its ids take no run prefix.
    let (run, none): (Arc<str>, Arc<str>) = (opts.id_prefix.as_str().into(), "".into());
    let ids = Ids {
        incidents: IdFormat::new("INC", &run, 7, incidents.len()),
        problems: IdFormat::new("PRB", &run, 7, problems.len()),
        changes: IdFormat::new("CHG", &run, 7, changes.len()),
        cis: IdFormat::new("CI", &none, 5, cmdb.cis.len()),
        // Events are numbered once counted, below.
        events: IdFormat::new("EV", &run, 8, 0),
        outages: IdFormat::new("OUT", &run, 7, outages.len()),
    };
    let mut world = World { window, cmdb, incidents, changes, problems, outages, ids, seed, event_starts: Vec::new() };
    let mut events = 0;
    for count in world.event_counts() {
        world.event_starts.push(events);
        events += count;
    }
    world.ids.events = IdFormat::new("EV", &run, 8, events);
    (world, truth)
}
