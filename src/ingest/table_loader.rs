//! Loading one canonical table from its files: each window of chunks converted in parallel, rows
//! out of the table's scope rejected, ids checked for duplicates (or versions deduplicated), and
//! for status histories the tickets derived from their events at the end.

use std::collections::HashMap;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;

use super::convert::{Converted, Converter};
use super::raw::{RawChunk, RejectCode, RowProblem};
use super::version_key::KeyValue;
use super::{LoadOptions, LoadSummary, PARALLEL_CHUNKS, PriorHistory, RejectSink, TableSink, convert, eventlog, ids, profile, tickets_profile};
use crate::error::Result;
use crate::model::Table;

pub(super) struct TableLoader<'a> {
    table: Table,
    /// First place each loaded id was seen: (file index, record number).
    ids: ids::IdIndex,
    /// Converted chunks held back until every version of each ticket has been seen.
    pending: Vec<(usize, Converted)>,
    dedup: bool,
    /// Where rows name their ticket id, for rejects.
    id_source: Option<profile::ColumnSource>,
    /// Rows must hold one of these (lower-cased) values in the column to belong to the table.
    filter: Option<(profile::ColumnSource, std::collections::HashSet<String>)>,
    /// For status histories: the extractor and the events kept so far.
    eventlog: Option<(eventlog::Extractor<'a>, Vec<RecordBatch>)>,
    /// Events kept per file, to count the ones folded into tickets.
    kept_events: HashMap<usize, u64>,
    /// The global index of this load's first file (see `LoadOptions::first_file`).
    first_file: u32,
    /// A store's history of the same tables, merged with new events before derivation.
    prior: Option<&'a dyn PriorHistory>,
    /// Chunks read but not yet converted: converted a window at a time, in parallel.
    waiting: Vec<RawChunk>,
    /// The window converted last, taken while the next one converts.
    converted: Vec<Result<Converted>>,
    summary: &'a mut LoadSummary,
    tables: &'a mut dyn TableSink,
    rejects: &'a mut dyn RejectSink,
}

impl<'a> TableLoader<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        table: Table,
        table_profile: &'a profile::TableProfile,
        rules: &'a profile::TableRules,
        options: &LoadOptions,
        prior: Option<&'a dyn PriorHistory>,
        summary: &'a mut LoadSummary,
        tables: &'a mut dyn TableSink,
        rejects: &'a mut dyn RejectSink,
    ) -> Self {
        let eventlog = table_profile.eventlog.as_ref().map(|log| (eventlog::Extractor::new(log, rules, options.as_of), Vec::new()));
        TableLoader {
            table,
            ids: ids::IdIndex::default(),
            pending: Vec::new(),
            dedup: table_profile.dedup.is_some(),
            id_source: table_profile.id_source(),
            filter: table_profile.filter.as_ref().map(|f| (f.column.clone(), f.keep.iter().map(|k| k.trim().to_lowercase()).collect())),
            eventlog,
            kept_events: HashMap::new(),
            first_file: options.first_file,
            prior,
            waiting: Vec::new(),
            converted: Vec::new(),
            summary,
            tables,
            rejects,
        }
    }
}

impl TableLoader<'_> {
    pub(super) fn chunk(&mut self, file: usize, path: &Path, converter: &Converter, chunk: RawChunk) -> Result<()> {
        self.summary.files[file].read += (chunk.rows.len() + chunk.malformed.len()) as u64;
        let chunk = self.in_scope(file, path, chunk)?;
        if let Some((extractor, _)) = &self.eventlog {
            let (events, problems) = extractor.extract(self.first_file + file as u32, &chunk, path)?;
            self.reject_all(file, path, &problems)?;
            *self.kept_events.entry(file).or_default() += events.num_rows() as u64;
            self.eventlog.as_mut().expect("checked above").1.push(events);
            return Ok(());
        }
        self.waiting.push(chunk);
        if self.waiting.len() >= PARALLEL_CHUNKS {
            self.flush(file, path, converter)?;
        }
        Ok(())
    }

    /// Converts the waiting chunks on all cores while this thread takes the previous window's
    /// results (duplicate ids, rejects, writing), so that neither waits for the other. Results
    /// are taken in file order, so the output is the same as converting one chunk after another.
    fn flush(&mut self, file: usize, path: &Path, converter: &Converter) -> Result<()> {
        use rayon::prelude::*;
        let waiting = std::mem::take(&mut self.waiting);
        let previous = std::mem::take(&mut self.converted);
        let mut converted = Vec::new();
        let mut taken = Ok(());
        rayon::in_place_scope(|scope| {
            scope.spawn(|_| converted = waiting.into_par_iter().map(|chunk| converter.convert(chunk)).collect());
            taken = previous.into_iter().try_for_each(|result| self.accept(file, path, result?));
        });
        self.converted = converted;
        taken
    }

    /// Converts and takes every chunk of the file read so far: at the end of each file.
    pub(super) fn drain(&mut self, file: usize, path: &Path, converter: &Converter) -> Result<()> {
        self.flush(file, path, converter)?;
        std::mem::take(&mut self.converted).into_iter().try_for_each(|result| self.accept(file, path, result?))
    }

    /// Rejects, duplicate ids and writing, for one converted chunk, in file order.
    fn accept(&mut self, file: usize, path: &Path, mut converted: Converted) -> Result<()> {
        for (field, columns) in std::mem::take(&mut converted.absent) {
            self.summary.note_absent(file, self.table, field, columns);
        }
        if self.dedup {
            self.reject_all(file, path, &converted.rejects)?;
            self.pending.push((file, converted));
            return Ok(());
        }
        let (batch, duplicates) = self.unique_ids(file, path, &converted)?;
        converted.rejects.extend(duplicates);
        converted.rejects.sort_by_key(|p| p.row);
        self.reject_all(file, path, &converted.rejects)?;
        self.summary.files[file].loaded += batch.num_rows() as u64;
        if batch.num_rows() > 0 {
            self.tables.write(self.table, batch)?;
        }
        Ok(())
    }

    /// Drops the rows the table's filter does not keep, rejecting them as out of scope.
    fn in_scope(&mut self, file: usize, path: &Path, mut chunk: RawChunk) -> Result<RawChunk> {
        let Some((column, keep)) = &self.filter else { return Ok(chunk) };
        let schema = chunk.batch.schema();
        let Some(index) = column.index_in(&schema) else {
            if !chunk.complete_schema {
                return Ok(chunk);
            }
            return Err(crate::Error::input(path, format!("the filter column {} is not in the file", column.candidates().join(" or "))));
        };
        let name = schema.field(index).name().clone();
        let values = convert::text_column(chunk.batch.column(index))?;
        let ids = self.id_source.as_ref().and_then(|s| s.index_in(&schema)).map(|i| convert::text_column(chunk.batch.column(i))).transpose()?;
        let mut mask = Vec::with_capacity(values.len());
        let mut out = Vec::new();
        for i in 0..values.len() {
            let value = if values.is_null(i) { "" } else { values.value(i).trim() };
            let kept = keep.contains(&value.to_lowercase());
            mask.push(kept);
            if !kept {
                out.push(RowProblem {
                    row: chunk.rows[i],
                    line: chunk.lines.get(i).copied(),
                    column: name.clone(),
                    value: value.to_string(),
                    code: RejectCode::OutOfScope,
                    id: ids.as_ref().and_then(|ids| convert::source_id(ids, i)),
                    reason: format!(
                        "`{value}` does not belong in {}: the profile keeps {name} values {}",
                        self.table,
                        keep.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        self.reject_all(file, path, &out)?;
        let mask = BooleanArray::from(mask);
        chunk.batch = filter_record_batch(&chunk.batch, &mask)?;
        let pick = |v: &[u64]| -> Vec<u64> { v.iter().zip(mask.iter()).filter(|(_, k)| k == &Some(true)).map(|(x, _)| *x).collect() };
        chunk.rows = pick(&chunk.rows);
        if !chunk.lines.is_empty() {
            chunk.lines = pick(&chunk.lines);
        }
        Ok(chunk)
    }

    fn reject_all(&mut self, file: usize, path: &Path, problems: &[RowProblem]) -> Result<()> {
        for problem in problems {
            self.rejects.reject(path, self.table, problem)?;
            self.summary.count_reject(file, problem.code);
        }
        Ok(())
    }

    /// Drops rows whose id was already loaded, rejecting them with both places named.
    fn unique_ids(&mut self, file: usize, path: &Path, converted: &Converted) -> Result<(RecordBatch, Vec<RowProblem>)> {
        let (batch, rows) = (&converted.batch, &converted.rows);
        let ids = batch.column(0).as_string::<i32>();
        let firsts = self.ids.first_or_insert_all(ids, |i| (file, rows[i])).map_err(|ids::Full| {
            crate::Error::input(path, format!("more than {} ids in one load; load the exports in parts with `mttx load --into`", u32::MAX))
        })?;
        let mut duplicates = Vec::new();
        for (i, first) in firsts.iter().enumerate() {
            let Some((first_file, first_row)) = *first else { continue };
            let id = ids.value(i);
            duplicates.push(RowProblem {
                row: rows[i],
                line: converted.lines.get(i).copied(),
                column: "id".into(),
                value: id.to_string(),
                code: RejectCode::DuplicateId,
                id: Some(id.to_string()),
                reason: format!(
                    "duplicate id `{id}`: already loaded from {} record {first_row}; ids must be unique (configure dedup for audit-style exports)",
                    self.summary.files[first_file].path
                ),
            });
        }
        if duplicates.is_empty() {
            return Ok((batch.clone(), duplicates));
        }
        let keep: BooleanArray = firsts.iter().map(|first| Some(first.is_none())).collect();
        let batch = filter_record_batch(batch, &keep)?;
        Ok((batch, duplicates))
    }

    /// For status histories: derives the tickets and their status changes. For deduplicated
    /// tables: keeps the greatest version of each id. Either way the rest count as merged.
    pub(super) fn finish(mut self, paths: &[&Path], table_profile: &profile::TableProfile, rules: &profile::TableRules, as_of: Option<i64>) -> Result<()> {
        if let Some((extractor, events)) = self.eventlog.take() {
            return self.finish_eventlog(&extractor, events, paths, table_profile, rules, as_of);
        }
        if !self.dedup {
            return Ok(());
        }
        let mut best: HashMap<&str, (usize, usize)> = HashMap::new();
        for (p, (_, converted)) in self.pending.iter().enumerate() {
            let ids = converted.batch.column(0).as_string::<i32>();
            for r in 0..converted.batch.num_rows() {
                let entry = best.entry(ids.value(r)).or_insert((p, r));
                let (bp, br) = *entry;
                let current = &self.pending[bp].1.dedup_keys[br];
                if !is_greater(current, &converted.dedup_keys[r]) {
                    *entry = (p, r); // later rows win ties: exports list versions oldest first
                }
            }
        }
        let mut keep: Vec<Vec<bool>> = self.pending.iter().map(|(_, c)| vec![false; c.batch.num_rows()]).collect();
        for (p, r) in best.into_values() {
            keep[p][r] = true;
        }
        let pending = std::mem::take(&mut self.pending);
        for ((file, converted), keep) in pending.into_iter().zip(keep) {
            let kept = keep.iter().filter(|k| **k).count() as u64;
            let stats = &mut self.summary.files[file];
            stats.loaded += kept;
            stats.merged += converted.batch.num_rows() as u64 - kept;
            let versions = super::version_key::key_column(converted.dedup_keys.iter().zip(&keep).filter(|(_, k)| **k).map(|(key, _)| key));
            let batch = filter_record_batch(&converted.batch, &BooleanArray::from(keep))?;
            if batch.num_rows() > 0 {
                self.tables.write_versioned(self.table, batch, versions)?;
            }
        }
        Ok(())
    }
}

impl TableLoader<'_> {
    fn finish_eventlog(
        &mut self,
        extractor: &eventlog::Extractor,
        events: Vec<RecordBatch>,
        paths: &[&Path],
        table_profile: &profile::TableProfile,
        rules: &profile::TableRules,
        as_of: Option<i64>,
    ) -> Result<()> {
        use datafusion::arrow::datatypes::{UInt32Type, UInt64Type};
        // An event recorded twice (overlapping exports, or a history the store already holds) is
        // one event: new events whose content the history already has are merged into it.
        let cases: std::collections::HashSet<String> = events.iter().flat_map(eventlog::case_ids).collect();
        let prior = match self.prior {
            Some(prior) if !cases.is_empty() => prior.events_of(self.table, &extractor.schema(), &cases)?,
            _ => Vec::new(),
        };
        // A ticket counts for the file of its first event; where that event came with an earlier
        // load, for the file of this load's first event of the case (which may be one the history
        // already had).
        let first_file = self.first_file;
        let local = move |global: u32| global.checked_sub(first_file).map(|f| f as usize);
        let mut first_new: HashMap<String, (i64, usize, u64)> = HashMap::new();
        for batch in &events {
            let cases = batch.column_by_name("case_id").expect("extracted").as_string::<i32>();
            let times = batch.column_by_name("ts").expect("extracted").as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
            let (files, rows) = (
                batch.column_by_name("file").expect("extracted").as_primitive::<UInt32Type>(),
                batch.column_by_name("row").expect("extracted").as_primitive::<UInt64Type>(),
            );
            for r in 0..batch.num_rows() {
                let place = (times.value(r), local(files.value(r)).expect("new events are of this load"), rows.value(r));
                first_new.entry(cases.value(r).to_string()).and_modify(|p| *p = (*p).min(place)).or_insert(place);
            }
        }
        // Content already in the history, or in an earlier file of this load, is merged; repeats
        // within one file stay, since a file can record the same status twice on purpose.
        let mut seen: HashMap<String, Option<u32>> = prior.iter().flat_map(eventlog::content_keys).map(|k| (k, None)).collect();
        let mut fresh = Vec::with_capacity(events.len());
        for batch in events {
            let keys = eventlog::content_keys(&batch);
            let files = batch.column_by_name("file").expect("extracted").as_primitive::<UInt32Type>().clone();
            let keep: Vec<bool> = keys
                .into_iter()
                .enumerate()
                .map(|(r, k)| match seen.get(&k) {
                    Some(Some(file)) => *file == files.value(r),
                    Some(None) => false,
                    None => {
                        seen.insert(k, Some(files.value(r)));
                        true
                    }
                })
                .collect();
            let fresh_batch = filter_record_batch(&batch, &BooleanArray::from(keep))?;
            if fresh_batch.num_rows() > 0 {
                self.tables.history(self.table, fresh_batch.clone())?;
            }
            fresh.push(fresh_batch);
        }
        let mut all = prior;
        all.extend(fresh);
        let derived = eventlog::derive(extractor, all)?;
        let as_tickets = tickets_profile(table_profile);
        let derived_milestones = table_profile.eventlog.as_ref().map(|log| log.derived_milestones()).unwrap_or_default();
        let mut accepted: std::collections::HashSet<String> = std::collections::HashSet::new();
        let mut tickets_per_file: HashMap<usize, u64> = HashMap::new();
        for batch in derived.tickets {
            let ids = batch.column_by_name("id").expect("derived").as_string::<i32>().clone();
            let files = batch.column_by_name("first_file").expect("derived").as_primitive::<UInt32Type>().clone();
            let rows = batch.column_by_name("first_row").expect("derived").as_primitive::<UInt64Type>().clone();
            let keep: Vec<usize> =
                (0..batch.num_columns()).filter(|&i| !["first_file", "first_row", "event_count"].contains(&batch.schema().field(i).name().as_str())).collect();
            let tickets = batch.project(&keep)?;
            let mut by_file: std::collections::BTreeMap<usize, (Vec<u32>, Vec<u64>)> = std::collections::BTreeMap::new();
            for r in 0..tickets.num_rows() {
                let (file, row) = match local(files.value(r)) {
                    Some(file) => (file, rows.value(r)),
                    None => {
                        let (_, file, row) = first_new[ids.value(r)];
                        (file, row)
                    }
                };
                let entry = by_file.entry(file).or_default();
                entry.0.push(r as u32);
                entry.1.push(row);
            }
            for (file, (indices, rows)) in by_file {
                let batch = datafusion::arrow::compute::take_record_batch(&tickets, &datafusion::arrow::array::UInt32Array::from(indices))?;
                *tickets_per_file.entry(file).or_default() += batch.num_rows() as u64;
                let chunk = RawChunk { batch, rows, lines: Vec::new(), malformed: Vec::new(), complete_schema: true };
                let converter = Converter { table: self.table, table_profile: &as_tickets, rules, as_of, path: paths[file], derived: &derived_milestones };
                let converted = converter.convert(chunk)?;
                for (field, n) in &converted.clamped {
                    *self.summary.clamped.entry(format!("{}.{field}", self.table)).or_default() += n;
                }
                self.reject_all(file, paths[file], &converted.rejects)?;
                self.summary.files[file].loaded += converted.batch.num_rows() as u64;
                let ids = converted.batch.column(0).as_string::<i32>();
                accepted.extend((0..ids.len()).map(|r| ids.value(r).to_string()));
                if converted.batch.num_rows() > 0 {
                    self.tables.write(self.table, converted.batch)?;
                }
            }
        }
        for (file, kept) in &self.kept_events {
            self.summary.files[*file].merged += kept - tickets_per_file.get(file).copied().unwrap_or(0);
        }
        // The status changes of tickets that were loaded; a rejected ticket leaves none behind.
        for batch in eventlog::changes_of(derived.changes, &accepted)? {
            self.summary.derived_events += batch.num_rows() as u64;
            self.tables.write(Table::Events, batch)?;
        }
        Ok(())
    }
}

fn is_greater(a: &[KeyValue], b: &[KeyValue]) -> bool {
    for (x, y) in a.iter().zip(b) {
        match x.order(y) {
            std::cmp::Ordering::Equal => continue,
            other => return other == std::cmp::Ordering::Greater,
        }
    }
    false
}
