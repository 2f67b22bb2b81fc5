//! The generated world as Arrow record batches in the canonical schemas, one fixed-size chunk at
//! a time so batches can be built in parallel and written in order.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::error::ArrowError;

use crate::model::{CHANGE_OUTCOMES, CHANGE_TYPES, OUTAGE_TYPES, Table, UTC};
use crate::{Error, Result};

use super::World;
use super::assignments::{Reassignment, assignment_group, assignments};
use super::incidents::{CONTACT_TYPES, Transition};
use super::outages::Task;

/// Rows per batch for every table but events.
pub(super) const BATCH_ROWS: usize = 65_536;
/// Incidents whose events make up one events batch (about four events each).
pub(super) const INCIDENTS_PER_EVENT_BATCH: usize = 16_384;

const MICROS: i64 = 1_000_000;

/// The rows of chunk `chunk` of `rows` rows cut into chunks of `size`.
pub(super) fn chunk_range(chunk: usize, size: usize, rows: usize) -> Range<usize> {
    chunk * size..((chunk + 1) * size).min(rows)
}

/// Ids are the table's prefix, the run's `--id-prefix`, and a zero-padded number from 1, padded
/// to `width` digits or as many as the largest number needs.
#[derive(Debug, Clone)]
pub(super) struct IdFormat {
    prefix: &'static str,
    run: Arc<str>,
    width: usize,
}

impl IdFormat {
    pub fn new(prefix: &'static str, run: &Arc<str>, min_width: usize, count: usize) -> IdFormat {
        IdFormat { prefix, run: Arc::clone(run), width: min_width.max(count.to_string().len()) }
    }

    /// The id of the row at `index` (0-based).
    pub fn id(&self, index: usize) -> String {
        format!("{}{}{:0width$}", self.prefix, self.run, index + 1, width = self.width)
    }
}

fn timestamps(seconds: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let micros: TimestampMicrosecondArray = seconds.map(|s| s.map(|s| s * MICROS)).collect();
    Arc::new(micros.with_timezone(UTC))
}

fn text<S: AsRef<str>>(values: impl Iterator<Item = Option<S>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn integers(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    Arc::new(values.collect::<Int64Array>())
}

fn booleans(values: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    Arc::new(values.collect::<BooleanArray>())
}

/// A batch of `table` from named columns, refusing any column out of the schema's order: the
/// types alone would not catch two text columns swapped.
fn batch(table: Table, columns: Vec<(&str, ArrayRef)>) -> Result<RecordBatch> {
    let schema = table.schema();
    let names = schema.fields().iter().map(|f| f.name().as_str());
    if !names.eq(columns.iter().map(|(name, _)| *name)) {
        return Err(Error::Arrow(ArrowError::SchemaError(format!("generated {table} columns are not in the canonical order"))));
    }
    Ok(RecordBatch::try_new(schema, columns.into_iter().map(|(_, c)| c).collect())?)
}

impl World {
    pub(super) fn incident_batch(&self, chunk: usize) -> Result<RecordBatch> {
        let range = chunk_range(chunk, BATCH_ROWS, self.incidents.len());
        let rows = &self.incidents[range.clone()];
        let as_of = self.window.as_of;
        let mut timeline = Vec::new();
        let snapshots: Vec<_> = rows
            .iter()
            .map(|incident| {
                incident.timeline(as_of, &mut timeline);
                incident.snapshot(&timeline, as_of)
            })
            .collect();
        let ci = |i: usize| &self.cmdb.cis[rows[i].ci as usize];
        let each = || 0..rows.len();
        batch(
            Table::Incidents,
            vec![
                ("id", text(range.clone().map(|i| Some(self.ids.incidents.id(i))))),
                ("opened_at", timestamps(rows.iter().map(|r| Some(r.opened)))),
                ("started_at", timestamps(snapshots.iter().map(|s| s.started))),
                ("acknowledged_at", timestamps(snapshots.iter().map(|s| s.acknowledged))),
                ("resolved_at", timestamps(snapshots.iter().map(|s| s.resolved))),
                ("closed_at", timestamps(snapshots.iter().map(|s| s.closed))),
                ("priority", integers(rows.iter().map(|r| Some(i64::from(r.priority))))),
                ("impact", integers(rows.iter().map(|r| Some(i64::from(r.impact))))),
                ("urgency", integers(rows.iter().map(|r| Some(i64::from(r.urgency))))),
                ("state", text(snapshots.iter().map(|s| Some(s.state)))),
                ("category", text(each().map(|i| Some(ci(i).class().category)))),
                ("service", text(each().map(|i| Some(ci(i).service_name())))),
                ("ci", text(rows.iter().map(|r| Some(self.ids.cis.id(r.ci as usize))))),
                ("assignment_group", text(each().map(|i| Some(assignment_group(&rows[i], &self.cmdb))))),
                ("contact_type", text(rows.iter().map(|r| Some(CONTACT_TYPES[usize::from(r.contact)])))),
                ("reopen_count", integers(snapshots.iter().map(|s| Some(s.reopen_count)))),
                ("reassignment_count", integers(rows.iter().map(|r| Some(i64::from(r.reassignments))))),
                ("major", booleans(rows.iter().map(|r| Some(r.major)))),
                ("problem_id", text(rows.iter().map(|r| r.problem.map(|p| self.ids.problems.id(p as usize))))),
                ("caused_by_change", text(rows.iter().map(|r| r.caused_by.map(|c| self.ids.changes.id(c as usize))))),
                ("source_made_sla", booleans(snapshots.iter().map(|s| s.made_sla))),
                // No generated source flags first-line resolution: FCR follows the counts.
                ("first_contact", booleans(rows.iter().map(|_| None))),
            ],
        )
    }

    pub(super) fn problem_batch(&self, chunk: usize) -> Result<RecordBatch> {
        let range = chunk_range(chunk, BATCH_ROWS, self.problems.len());
        let rows = &self.problems[range.clone()];
        let ci = |i: usize| &self.cmdb.cis[rows[i].ci as usize];
        let each = || 0..rows.len();
        batch(
            Table::Problems,
            vec![
                ("id", text(range.clone().map(|i| Some(self.ids.problems.id(i))))),
                ("opened_at", timestamps(rows.iter().map(|r| Some(r.opened)))),
                ("resolved_at", timestamps(rows.iter().map(|r| r.resolved))),
                ("closed_at", timestamps(rows.iter().map(|r| r.closed))),
                ("known_error_at", timestamps(rows.iter().map(|r| r.known_error))),
                ("state", text(rows.iter().map(|r| Some(r.state())))),
                ("category", text(each().map(|i| Some(ci(i).class().category)))),
                ("service", text(each().map(|i| Some(ci(i).service_name())))),
                ("ci", text(rows.iter().map(|r| Some(self.ids.cis.id(r.ci as usize))))),
            ],
        )
    }

    pub(super) fn change_batch(&self, chunk: usize) -> Result<RecordBatch> {
        let range = chunk_range(chunk, BATCH_ROWS, self.changes.len());
        let rows = &self.changes[range.clone()];
        batch(
            Table::Changes,
            vec![
                ("id", text(range.clone().map(|i| Some(self.ids.changes.id(i))))),
                ("type", text(rows.iter().map(|r| Some(CHANGE_TYPES[r.kind])))),
                ("is_patch", booleans(rows.iter().map(|r| Some(r.is_patch)))),
                ("ci", text(rows.iter().map(|r| Some(self.ids.cis.id(r.ci as usize))))),
                ("service", text(rows.iter().map(|r| Some(self.cmdb.cis[r.ci as usize].service_name())))),
                ("planned_start", timestamps(rows.iter().map(|r| Some(r.planned_start)))),
                ("planned_end", timestamps(rows.iter().map(|r| Some(r.planned_end)))),
                ("actual_start", timestamps(rows.iter().map(|r| r.actual_start))),
                ("actual_end", timestamps(rows.iter().map(|r| r.actual_end))),
                ("outcome", text(rows.iter().map(|r| r.outcome.map(|o| CHANGE_OUTCOMES[o])))),
            ],
        )
    }

    pub(super) fn ci_batch(&self, chunk: usize) -> Result<RecordBatch> {
        let range = chunk_range(chunk, BATCH_ROWS, self.cmdb.cis.len());
        let rows = &self.cmdb.cis[range.clone()];
        batch(
            Table::Cis,
            vec![
                ("id", text(range.clone().map(|i| Some(self.ids.cis.id(i))))),
                ("name", text(rows.iter().map(|r| Some(r.name.as_str())))),
                ("class", text(rows.iter().map(|r| Some(r.class().name)))),
                ("service", text(rows.iter().map(|r| Some(r.service_name())))),
                ("criticality", text(rows.iter().map(|r| Some(r.criticality)))),
                ("in_service_from", timestamps(rows.iter().map(|r| Some(r.in_service_from)))),
                ("in_service_to", timestamps(rows.iter().map(|r| r.in_service_to))),
            ],
        )
    }

    pub(super) fn outage_batch(&self, chunk: usize) -> Result<RecordBatch> {
        let range = chunk_range(chunk, BATCH_ROWS, self.outages.len());
        let rows = &self.outages[range.clone()];
        let task = |t: Task| match t {
            Task::Incident(i) => self.ids.incidents.id(i as usize),
            Task::Change(c) => self.ids.changes.id(c as usize),
        };
        batch(
            Table::Outages,
            vec![
                ("id", text(range.clone().map(|i| Some(self.ids.outages.id(i))))),
                ("ci", text(rows.iter().map(|r| Some(self.ids.cis.id(r.ci as usize))))),
                ("service", text(rows.iter().map(|r| Some(self.cmdb.cis[r.ci as usize].service_name())))),
                ("type", text(rows.iter().map(|r| Some(OUTAGE_TYPES[usize::from(r.kind)])))),
                ("begins_at", timestamps(rows.iter().map(|r| Some(r.begins)))),
                ("ends_at", timestamps(rows.iter().map(|r| r.ends))),
                ("task_id", text(rows.iter().map(|r| Some(task(r.task))))),
            ],
        )
    }

    /// The events of incident `i` up to the cut-off, into `out` (cleared first): its state
    /// changes and its assignment-group changes, in time order (a state change first at the same
    /// instant). `timeline` and `assigned` are scratch space.
    fn incident_events(&self, i: usize, timeline: &mut Vec<Transition>, assigned: &mut Vec<Reassignment>, out: &mut Vec<EventRow>) {
        out.clear();
        let incident = &self.incidents[i];
        incident.timeline(self.window.as_of, timeline);
        for (k, t) in timeline.iter().enumerate() {
            out.push(EventRow { at: t.at, field: "state", from: k.checked_sub(1).map(|previous| timeline[previous].to), to: t.to });
        }
        assignments(incident, &self.cmdb, self.seed, self.window.as_of, assigned);
        out.extend(assigned.iter().map(|a| EventRow { at: a.at, field: "assignment_group", from: a.from, to: a.to }));
        // Stable: at one instant, the state change stays first.
        out.sort_by_key(|e| e.at);
    }

    /// Events in each events batch, so ids can be numbered before batches are built in
    /// parallel.
    pub(super) fn event_counts(&self) -> Vec<usize> {
        let (mut timeline, mut assigned, mut events) = (Vec::new(), Vec::new(), Vec::new());
        (0..self.incidents.len().div_ceil(INCIDENTS_PER_EVENT_BATCH))
            .map(|chunk| {
                chunk_range(chunk, INCIDENTS_PER_EVENT_BATCH, self.incidents.len())
                    .map(|i| {
                        self.incident_events(i, &mut timeline, &mut assigned, &mut events);
                        events.len()
                    })
                    .sum()
            })
            .collect()
    }

    /// The state and assignment history of the incidents in chunk `chunk`, numbered from
    /// `first_event`.
    pub(super) fn event_batch(&self, chunk: usize, first_event: usize) -> Result<RecordBatch> {
        let range = chunk_range(chunk, INCIDENTS_PER_EVENT_BATCH, self.incidents.len());
        let mut ticket = Vec::new();
        let mut rows: Vec<EventRow> = Vec::new();
        let (mut timeline, mut assigned, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for i in range {
            self.incident_events(i, &mut timeline, &mut assigned, &mut events);
            let id = self.ids.incidents.id(i);
            ticket.extend(events.iter().map(|_| Some(id.clone())));
            rows.extend_from_slice(&events);
        }
        let count = rows.len();
        batch(
            Table::Events,
            vec![
                ("id", text((first_event..first_event + count).map(|e| Some(self.ids.events.id(e))))),
                ("ticket_id", text(ticket.into_iter())),
                ("at", timestamps(rows.iter().map(|e| Some(e.at)))),
                ("field", text(rows.iter().map(|e| Some(e.field)))),
                ("from_value", text(rows.iter().map(|e| e.from))),
                ("to_value", text(rows.iter().map(|e| Some(e.to)))),
            ],
        )
    }
}

/// One row of the events table.
#[derive(Debug, Clone, Copy)]
struct EventRow {
    at: i64,
    field: &'static str,
    from: Option<&'static str>,
    to: &'static str,
}
