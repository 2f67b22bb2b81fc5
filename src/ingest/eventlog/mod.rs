//! Status histories into tickets. Readers hand over one row per event; `Extractor` keeps the case,
//! time, status and mapped attributes of each, with a flag per state set of the profile's rules
//! (so no state name ever enters SQL text). `derive` then runs DataFusion over all events: one
//! ticket per case with its milestones, and one `events` row per change of status or of a tracked
//! attribute (the profile's `changes`, e.g. the assignment group).

mod derive;

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, RecordBatch, StringArray, StringBuilder, TimestampMicrosecondBuilder, UInt32Array, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::profile::{ColumnSource, EventLog, TableRules};
use super::raw::{RawChunk, RejectCode, RowProblem};
use super::timestamp::Reading;
use crate::error::{Error, Result};
use crate::model::{UTC, timestamp_type};
pub use derive::{Derived, derive};

/// Keeps what the derivation needs of each event.
pub struct Extractor<'a> {
    log: &'a EventLog,
    rules: &'a TableRules,
    as_of: Option<i64>,
    /// Lower-cased state sets, referred to by index as flag columns `s0`, `s1`, ….
    sets: Vec<HashSet<String>>,
    /// (canonical field, take the first event's value?, source column)
    attributes: Vec<(String, bool, ColumnSource)>,
    /// The set of every state the profile names, for milestone fallbacks.
    known: usize,
}

fn set_of(states: &[String]) -> HashSet<String> {
    states.iter().map(|s| s.trim().to_lowercase()).collect()
}

impl<'a> Extractor<'a> {
    pub fn new(log: &'a EventLog, rules: &'a TableRules, as_of: Option<i64>) -> Self {
        let mut sets: Vec<HashSet<String>> = Vec::new();
        let mut index = |states: &[String]| {
            let set = set_of(states);
            sets.iter().position(|s| *s == set).unwrap_or_else(|| {
                sets.push(set);
                sets.len() - 1
            })
        };
        for m in log.milestones.values() {
            if !m.states.is_empty() {
                index(&m.states);
            }
            if !m.only_if_final_in.is_empty() {
                index(&m.only_if_final_in);
            }
        }
        if !log.reopen_from.is_empty() {
            index(&log.reopen_from);
        }
        // Every state the profile names, for milestones that fall back on logs it does not know.
        let known: Vec<String> = log.milestones.values().flat_map(|m| m.states.iter().chain(&m.only_if_final_in)).chain(&log.reopen_from).cloned().collect();
        let known = index(&known);
        let attributes =
            log.first.iter().map(|(f, c)| (f.clone(), true, c.clone())).chain(log.last.iter().map(|(f, c)| (f.clone(), false, c.clone()))).collect();
        Extractor { log, rules, as_of, sets, attributes, known }
    }

    fn set_index(&self, states: &[String]) -> usize {
        let set = set_of(states);
        self.sets.iter().position(|s| *s == set).expect("every rule's set is indexed in new()")
    }

    pub fn schema(&self) -> SchemaRef {
        let mut fields = vec![
            Field::new("file", DataType::UInt32, false),
            Field::new("row", DataType::UInt64, false),
            Field::new("case_id", DataType::Utf8, false),
            Field::new("ts", timestamp_type(), false),
            Field::new("status", DataType::Utf8, true),
        ];
        fields.extend((0..self.attributes.len()).map(|i| Field::new(format!("a{i}"), DataType::Utf8, true)));
        fields.extend((0..self.sets.len()).map(|i| Field::new(format!("s{i}"), DataType::Boolean, false)));
        fields.push(Field::new("created", DataType::Boolean, false));
        Arc::new(Schema::new(fields))
    }

    /// The events of a chunk, and the rows that cannot be events (no case, no readable time, or
    /// after the cut-off).
    pub fn extract(&self, file: u32, chunk: &RawChunk, path: &std::path::Path) -> Result<(RecordBatch, Vec<RowProblem>)> {
        let schema = chunk.batch.schema();
        let text_of = |source: &ColumnSource| -> Result<Option<StringArray>> {
            source.index_in(&schema).map(|i| Ok(cast(chunk.batch.column(i), &DataType::Utf8)?.as_string::<i32>().clone())).transpose()
        };
        let column = |source: &ColumnSource, what: &str| -> Result<Option<StringArray>> {
            match text_of(source)? {
                Some(text) => Ok(Some(text)),
                None if chunk.complete_schema => Err(Error::input(
                    path,
                    format!(
                        "the eventlog's {what} column ({}) is not in the file; it has: {}",
                        source.candidates().join(" or "),
                        schema.fields().iter().map(|f| f.name().as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )),
                None => Ok(None),
            }
        };
        let case = column(&self.log.case, "case")?;
        let time = column(&self.log.timestamp, "timestamp")?;
        let status = column(&self.log.status, "status")?;
        // The detail column is optional: logs without it have plain statuses.
        let detail = match &self.log.status_detail {
            Some(d) => text_of(d)?,
            None => None,
        };
        let attributes: Vec<Option<StringArray>> = self.attributes.iter().map(|(_, _, c)| text_of(c)).collect::<Result<_>>()?;
        // A file without the creation column marks no event as a creation.
        let creation = match &self.log.creation {
            Some(c) => text_of(&c.column)?.map(|column| (column, &c.values)),
            None => None,
        };

        let text = |a: &Option<StringArray>, i: usize| -> Option<String> {
            let a = a.as_ref()?;
            if a.is_null(i) {
                return None;
            }
            let v = a.value(i).trim();
            (!self.rules.null_tokens.contains(v)).then(|| v.to_string())
        };
        let n = chunk.batch.num_rows();
        let mut problems = Vec::new();
        let (mut files, mut rows) = (Vec::new(), Vec::new());
        let mut cases = StringBuilder::new();
        let mut times = TimestampMicrosecondBuilder::new().with_timezone(UTC);
        let mut statuses = StringBuilder::new();
        let mut attrs: Vec<StringBuilder> = self.attributes.iter().map(|_| StringBuilder::new()).collect();
        let mut flags: Vec<BooleanBuilder> = self.sets.iter().map(|_| BooleanBuilder::new()).collect();
        let mut created = BooleanBuilder::new();
        // Rejects name the column the file has, not every candidate the profile lists.
        let present = |source: &ColumnSource| -> String {
            source.candidates().iter().find(|c| schema.index_of(c).is_ok()).cloned().unwrap_or_else(|| source.candidates().join(" or "))
        };
        let case_name = present(&self.log.case);
        let time_name = present(&self.log.timestamp);
        for i in 0..n {
            let problem = |column: &str, value: String, code, reason: String| RowProblem {
                row: chunk.rows[i],
                line: chunk.lines.get(i).copied(),
                column: column.to_string(),
                value,
                code,
                reason,
                id: text(&case, i),
            };
            let Some(case_id) = text(&case, i) else {
                problems.push(problem(&case_name, String::new(), RejectCode::MissingRequired, "the event has no case id".into()));
                continue;
            };
            let raw_time = text(&time, i).unwrap_or_default();
            let ts = match self.rules.timestamps.parse(&raw_time).map(|t| self.rules.plausibility.read(t)) {
                Some(Reading::Instant(t)) => Some(t),
                Some(Reading::Sentinel) => {
                    let reason = format!("event time `{raw_time}` is a sentinel date (parse.sentinel_dates): the event has no time");
                    problems.push(problem(&time_name, raw_time, RejectCode::MissingRequired, reason));
                    continue;
                }
                Some(Reading::Implausible) => {
                    let reason = self.rules.plausibility.reason("event time", &raw_time);
                    problems.push(problem(&time_name, raw_time, RejectCode::ImplausibleTimestamp, reason));
                    continue;
                }
                None => None,
            };
            let Some(ts) = ts else {
                let reason = format!(
                    "event time `{raw_time}` matches none of the timestamp formats [{}]; add its format to parse.timestamp_formats",
                    self.rules.timestamps.describe_formats()
                );
                problems.push(problem(&time_name, raw_time, RejectCode::UnparseableTimestamp, reason));
                continue;
            };
            if let Some(as_of) = self.as_of.filter(|a| ts > *a) {
                let (at, cut) = (crate::time::rfc3339(ts), crate::time::rfc3339(as_of));
                problems.push(problem(&time_name, at.clone(), RejectCode::AfterAsOf, format!("the event ({at}) is after --as-of ({cut})")));
                continue;
            }
            let state = match (text(&status, i), text(&detail, i)) {
                (Some(s), Some(d)) => Some(format!("{s}/{d}")),
                (s, None) => s,
                (None, Some(d)) => Some(d),
            };
            let lowered = state.as_deref().map(str::to_lowercase);
            files.push(file);
            rows.push(chunk.rows[i]);
            cases.append_value(&case_id);
            times.append_value(ts);
            statuses.append_option(state);
            for (builder, values) in attrs.iter_mut().zip(&attributes) {
                builder.append_option(text(values, i));
            }
            for (builder, set) in flags.iter_mut().zip(&self.sets) {
                builder.append_value(lowered.as_ref().is_some_and(|s| set.contains(s)));
            }
            created.append_value(
                creation.as_ref().is_some_and(|(column, values)| column.is_valid(i) && values.iter().any(|v| v.trim() == column.value(i).trim())),
            );
        }
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(UInt32Array::from(files)),
            Arc::new(UInt64Array::from(rows)),
            Arc::new(cases.finish()),
            Arc::new(times.finish()),
            Arc::new(statuses.finish()),
        ];
        columns.extend(attrs.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.extend(flags.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        columns.push(Arc::new(created.finish()));
        let mut all_problems = chunk.malformed.clone();
        all_problems.extend(problems);
        Ok((RecordBatch::try_new(self.schema(), columns)?, all_problems))
    }
}

/// The case ids of extracted events.
pub fn case_ids(events: &RecordBatch) -> impl Iterator<Item = String> + '_ {
    let cases = events.column_by_name("case_id").expect("extracted events have case_id").as_string::<i32>();
    (0..events.num_rows()).map(move |r| cases.value(r).to_string())
}

/// What an event says, whichever file and row it came from: its case, time, status and mapped
/// attributes. Two events with the same content are one event recorded twice.
pub fn content_keys(events: &RecordBatch) -> Vec<String> {
    let schema = events.schema();
    let text: Vec<(usize, StringArray)> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| f.name() == "case_id" || f.name() == "status" || f.name().starts_with('a'))
        .map(|(i, _)| (i, events.column(i).as_string::<i32>().clone()))
        .collect();
    let times = events.column_by_name("ts").expect("extracted events have ts").as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    (0..events.num_rows())
        .map(|r| {
            let mut key = times.value(r).to_string();
            for (_, column) in &text {
                // Each value with its length in front, so that no text from the data can make two
                // different events' keys equal.
                if column.is_valid(r) {
                    let value = column.value(r);
                    key.push_str(&format!("|{}:{value}", value.len()));
                } else {
                    key.push_str("|-");
                }
            }
            key
        })
        .collect()
}

/// The status changes of the tickets in `tickets`, without empty batches.
pub fn changes_of(changes: Vec<RecordBatch>, tickets: &HashSet<String>) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::with_capacity(changes.len());
    for batch in changes {
        let ids = batch.column_by_name("ticket_id").expect("changes have ticket_id").as_string::<i32>();
        let keep: datafusion::arrow::array::BooleanArray = (0..batch.num_rows()).map(|r| Some(tickets.contains(ids.value(r)))).collect();
        let kept = datafusion::arrow::compute::filter_record_batch(&batch, &keep)?;
        if kept.num_rows() > 0 {
            out.push(kept);
        }
    }
    Ok(out)
}
