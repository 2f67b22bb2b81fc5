//! Ingest: loads ticket exports (CSV, JSON/NDJSON, Parquet, each optionally gzipped) through a
//! mapping profile into the canonical tables, streaming batch by batch. Every input row is loaded,
//! merged into a newer version of the same ticket (dedup), or rejected with a reason; the summary
//! reconciles the three.

pub mod convert;
pub mod csv;
pub mod json;
pub mod parquet;
pub mod profile;
pub mod raw;
pub mod sink;
pub mod source;
pub mod summary;
pub mod timestamp;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{AsArray, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::model::Table;
use convert::{Converted, Converter, KeyValue};
pub use profile::Profile;
use raw::{RawChunk, RejectCode, RowProblem};
pub use sink::{MemorySink, ParquetDirSink, RejectSink, RejectsCsv, TableSink};
use source::{Format, SourceFile};
pub use summary::LoadSummary;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Reporting cut-off in UTC microseconds: rows with a happened-timestamp after it are rejected.
    pub as_of: Option<i64>,
}

/// Loads `inputs` through `profile`, writing canonical batches to `tables` and rejects to `rejects`.
pub fn load(
    inputs: &[PathBuf],
    profile: &Profile,
    options: &LoadOptions,
    tables: &mut dyn TableSink,
    rejects: &mut dyn RejectSink,
) -> Result<LoadSummary> {
    let (files, skipped) = source::discover(inputs, profile)?;
    let mut summary = LoadSummary::new(profile, options, &files, skipped);
    for table in Table::ALL {
        let mine: Vec<(usize, &SourceFile)> = files.iter().enumerate().filter(|(_, f)| f.table == table).collect();
        if mine.is_empty() {
            continue;
        }
        let mut loader = TableLoader {
            table,
            ids: HashMap::new(),
            pending: Vec::new(),
            dedup: profile.table(table).is_some_and(|tp| tp.dedup.is_some()),
            summary: &mut summary,
            tables: &mut *tables,
            rejects: &mut *rejects,
        };
        let rules = profile.rules(table, &profile.name)?;
        let table_profile = profile.table(table).expect("discover only assigns profiled tables");
        for (index, file) in mine {
            let converter = Converter {
                table,
                table_profile,
                rules: &rules,
                as_of: options.as_of,
                path: &file.path,
            };
            let mut on_chunk = |chunk: RawChunk| loader.chunk(index, &file.path, &converter, chunk);
            match file.format {
                Format::Csv => csv::read(&file.path, &rules, &mut on_chunk)?,
                Format::Json => json::read(&file.path, &mut on_chunk)?,
                Format::Parquet => parquet::read(&file.path, &mut on_chunk)?,
            }
        }
        loader.finish()?;
    }
    summary.finish();
    Ok(summary)
}

struct TableLoader<'a> {
    table: Table,
    /// First place each loaded id was seen: (file index, record number).
    ids: HashMap<String, (usize, u64)>,
    /// Converted chunks held back until every version of each ticket has been seen.
    pending: Vec<(usize, Converted)>,
    dedup: bool,
    summary: &'a mut LoadSummary,
    tables: &'a mut dyn TableSink,
    rejects: &'a mut dyn RejectSink,
}

impl TableLoader<'_> {
    fn chunk(&mut self, file: usize, path: &Path, converter: &Converter, chunk: RawChunk) -> Result<()> {
        self.summary.files[file].read += (chunk.rows.len() + chunk.malformed.len()) as u64;
        let mut converted = converter.convert(chunk)?;
        if self.dedup {
            self.reject_all(file, path, &converted.rejects)?;
            self.pending.push((file, converted));
            return Ok(());
        }
        let (batch, duplicates) = self.unique_ids(file, &converted)?;
        converted.rejects.extend(duplicates);
        converted.rejects.sort_by_key(|p| p.row);
        self.reject_all(file, path, &converted.rejects)?;
        self.summary.files[file].loaded += batch.num_rows() as u64;
        if batch.num_rows() > 0 {
            self.tables.write(self.table, batch)?;
        }
        Ok(())
    }

    fn reject_all(&mut self, file: usize, path: &Path, problems: &[RowProblem]) -> Result<()> {
        for problem in problems {
            self.rejects.reject(path, self.table, problem)?;
            self.summary.count_reject(file, problem.code);
        }
        Ok(())
    }

    /// Drops rows whose id was already loaded, rejecting them with both places named.
    fn unique_ids(&mut self, file: usize, converted: &Converted) -> Result<(RecordBatch, Vec<RowProblem>)> {
        let (batch, rows) = (&converted.batch, &converted.rows);
        let ids = batch.column(0).as_string::<i32>();
        let mut keep = Vec::with_capacity(batch.num_rows());
        let mut duplicates = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            let id = ids.value(i);
            match self.ids.get(id) {
                Some(&(first_file, first_row)) => {
                    keep.push(false);
                    duplicates.push(RowProblem {
                        row: *row,
                        line: converted.lines.get(i).copied(),
                        column: "id".into(),
                        value: id.to_string(),
                        code: RejectCode::DuplicateId,
                        reason: format!(
                            "duplicate id `{id}`: already loaded from {} record {first_row}; ids must be unique (configure dedup for audit-style exports)",
                            self.summary.files[first_file].path
                        ),
                    });
                }
                None => {
                    self.ids.insert(id.to_string(), (file, *row));
                    keep.push(true);
                }
            }
        }
        let batch = filter_record_batch(batch, &BooleanArray::from(keep))?;
        Ok((batch, duplicates))
    }

    /// For deduplicated tables: keeps the greatest version of each id and counts the rest merged.
    fn finish(mut self) -> Result<()> {
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
            let batch = filter_record_batch(&converted.batch, &BooleanArray::from(keep))?;
            if batch.num_rows() > 0 {
                self.tables.write(self.table, batch)?;
            }
        }
        Ok(())
    }
}

fn is_greater(a: &[KeyValue], b: &[KeyValue]) -> bool {
    for (x, y) in a.iter().zip(b) {
        match x.cmp(y) {
            std::cmp::Ordering::Equal => continue,
            other => return other == std::cmp::Ordering::Greater,
        }
    }
    false
}
