//! Compaction: monthly loads leave one more file per table each month, most of them far smaller
//! than a full file. Compaction merges neighbouring part-filled files into files of up to
//! `FILE_ROWS` rows, each sorted as a load writes it, so that a store of ten years opens and scans
//! a few dozen files per table rather than hundreds.
//!
//! - A file is *small* under a quarter of `FILE_ROWS` rows, *part-filled* under half. Fuller
//!   files are never rewritten.
//! - A table (or event-log history) needs compaction when it has more than `MAX_FILES` files or
//!   more than `MAX_SMALL_FILES` small ones.
//! - The plan orders the part-filled files by their first sort key and packs neighbours, greedily,
//!   into groups of at most `FILE_ROWS` rows; each group of two or more files becomes one file.
//! - A load compacts the tables that need it when the stored rows it would rewrite are no more
//!   than the rows it read; `mttx compact` compacts every table whose plan merges anything.
//!
//! Rows are copied as they are, hidden columns included, so every query reads the same rows
//! before and after. `mttx compact` changes the store the way a load does: new files, an atomic
//! manifest switch under the load lock, then the old files deleted once their readers are done.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};

use super::fault::{Fault, fault};
use super::hash::file_sha256;
use super::manifest::{CompactionRecord, DataFile, Manifest, TableCompaction, TableFiles};
use super::reader::{file_schema, open_file, projection, read_file};
use super::writer::{FILE_ROWS, KEY_COLUMNS, key_ranges, stored_schema, write_sorted};
use super::{extent, lock, tidy};
use crate::error::{Error, Result};
use crate::model::Table;
use crate::progress::Progress;

/// More files than this in one table make it need compaction.
pub const MAX_FILES: usize = 32;
/// More small files than this in one table make it need compaction.
pub const MAX_SMALL_FILES: usize = 4;
/// A file of fewer rows is small.
pub const SMALL_ROWS: u64 = FILE_ROWS as u64 / 4;
/// A file of fewer rows is part-filled, and may be merged with its neighbours.
pub const PART_FILLED_ROWS: u64 = FILE_ROWS as u64 / 2;

/// Who compacts: a load, within a budget of rows, or `mttx compact`.
pub enum By<'a> {
    /// The load's own new files (named with `prefix`) are rewritten at no cost; stored rows
    /// rewritten count against `budget`, the rows the load read.
    Load {
        budget: u64,
        prefix: &'a str,
    },
    Command,
}

/// What a compaction did, and what it left for `mttx compact`.
#[derive(Debug, Default)]
pub struct Compacted {
    pub tables: BTreeMap<String, TableCompaction>,
    /// Tables that need compaction and were left: (name, files, stored rows it would rewrite).
    pub left: Vec<(String, usize, u64)>,
}

/// One table's or history's files, with how its rows sort.
struct Dataset {
    /// The table's name, or `history/<table>`.
    name: String,
    dir: String,
    sort: Vec<&'static str>,
    /// The stored schema every file is read into (a table's), or None for a history, whose files
    /// merge only with files of the same schema.
    schema: Option<SchemaRef>,
    /// The table, for a table's files.
    table: Option<Table>,
}

impl Dataset {
    fn table(name: &str) -> Option<Dataset> {
        let table = Table::from_name(name)?;
        Some(Dataset {
            name: name.into(),
            dir: format!("data/{name}"),
            sort: vec![table.sort_field(), "id"],
            schema: Some(stored_schema(table)),
            table: Some(table),
        })
    }

    fn history(name: &str) -> Dataset {
        Dataset { name: format!("history/{name}"), dir: format!("history/{name}"), sort: vec!["case_id", "ts", "file", "row"], schema: None, table: None }
    }
}

/// True when a table's files call for compaction.
pub fn needs_compaction(files: &TableFiles) -> bool {
    let small = files.files.iter().filter(|f| f.rows < SMALL_ROWS).count();
    files.files.len() > MAX_FILES || small > MAX_SMALL_FILES
}

/// Compacts `tables` and `histories` in place, writing new files named `<prefix>-cNNN-000.parquet`.
pub fn compact_files(
    store: &Path,
    tables: &mut BTreeMap<String, TableFiles>,
    histories: &mut BTreeMap<String, TableFiles>,
    prefix: &str,
    by: &By,
    progress: &Progress,
) -> Result<Compacted> {
    let mut compacted = Compacted::default();
    let mut budget = match by {
        By::Load { budget, .. } => *budget,
        By::Command => u64::MAX,
    };
    let datasets = tables
        .iter_mut()
        .filter_map(|(name, files)| Dataset::table(name).map(|d| (d, files)))
        .chain(histories.iter_mut().map(|(name, files)| (Dataset::history(name), files)));
    let mut next = 0usize;
    for (dataset, files) in datasets {
        if matches!(by, By::Load { .. }) && !needs_compaction(files) {
            continue;
        }
        let groups = plan(store, &dataset, &files.files)?;
        if groups.is_empty() {
            continue;
        }
        // The load's new rows are in its files `<prefix>-NNN` and `<prefix>-sNNN-NNN`; its
        // `<prefix>-rNNN` files hold stored rows it rewrote, and count as stored.
        let own = |file: &DataFile| match by {
            By::Load { prefix, .. } => Path::new(&file.path).file_name().is_some_and(|n| {
                let n = n.to_string_lossy();
                n.starts_with(&format!("{prefix}-")) && !n.starts_with(&format!("{prefix}-r"))
            }),
            By::Command => false,
        };
        let cost: u64 = groups.iter().flatten().map(|&i| &files.files[i]).filter(|f| !own(f)).map(|f| f.rows).sum();
        if cost > budget {
            compacted.left.push((dataset.name.clone(), files.files.len(), cost));
            continue;
        }
        budget -= cost;
        progress.stage(&format!("compacting {}", dataset.name), groups.len() as u64);
        let before = files.files.len() as u64;
        let mut rewritten = 0;
        let mut merged = vec![false; files.files.len()];
        let mut written = Vec::new();
        for group in &groups {
            written.extend(rewrite(store, &dataset, &files.files, group, &format!("{prefix}-c{next:03}"))?);
            next += 1;
            for &i in group {
                merged[i] = true;
                rewritten += files.files[i].rows;
            }
            progress.advance();
        }
        let kept = files.files.iter().zip(&merged).filter(|(_, m)| !**m).map(|(f, _)| f.clone());
        files.files = kept.chain(written).collect();
        compacted.tables.insert(dataset.name, TableCompaction { files_before: before, files_after: files.files.len() as u64, rows_rewritten: rewritten });
    }
    Ok(compacted)
}

/// The groups of part-filled files to merge, as indices into `files`: neighbours by first sort
/// key, at most `FILE_ROWS` rows a group, two or more files each.
fn plan(store: &Path, dataset: &Dataset, files: &[DataFile]) -> Result<Vec<Vec<usize>>> {
    let candidates: Vec<usize> = (0..files.len()).filter(|&i| files[i].rows < PART_FILLED_ROWS).collect();
    if candidates.len() < 2 {
        return Ok(Vec::new());
    }
    let mut firsts = Vec::with_capacity(candidates.len());
    for &i in &candidates {
        firsts.push(first_row(&store.join(&files[i].path), &dataset.sort)?);
    }
    // Keys compare as Arrow's row format: ascending, nulls last, as the files are sorted.
    let types: Vec<SortField> = firsts
        .iter()
        .find_map(|(key, _)| key.as_ref())
        .map(|key| key.iter().map(|c| SortField::new_with_options(c.data_type().clone(), SortOptions { descending: false, nulls_first: false })).collect())
        .unwrap_or_default();
    let converter = RowConverter::new(types)?;
    let mut ordered: Vec<(Option<OwnedRow>, &str, usize, SchemaRef)> = Vec::with_capacity(candidates.len());
    for (&i, (key, schema)) in candidates.iter().zip(firsts) {
        let row = match key {
            Some(key) => Some(converter.convert_columns(&key)?.row(0).owned()),
            None => None,
        };
        ordered.push((row, files[i].path.as_str(), i, schema));
    }
    ordered.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let in_order: Vec<(usize, u64, SchemaRef)> = ordered.into_iter().map(|(_, _, i, schema)| (i, files[i].rows, schema)).collect();
    Ok(pack(&in_order, dataset.schema.is_none()))
}

/// Packs files, given in key order as (index, rows, schema), greedily into groups of at most
/// `FILE_ROWS` rows; with `same_schema`, a group holds files of one schema only. Groups of one
/// file are dropped: there is nothing to merge.
fn pack(in_order: &[(usize, u64, SchemaRef)], same_schema: bool) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let (mut rows, mut group_schema) = (0u64, None::<&SchemaRef>);
    for (i, file_rows, schema) in in_order {
        let fits = rows + file_rows <= FILE_ROWS as u64 && (!same_schema || group_schema.is_none_or(|s| s.fields() == schema.fields()));
        if !fits {
            groups.push(std::mem::take(&mut group));
            rows = 0;
        }
        group.push(*i);
        rows += file_rows;
        group_schema = Some(schema);
    }
    groups.push(group);
    groups.retain(|g| g.len() > 1);
    groups
}

/// A file's first row of the `sort` columns (None for a file of no rows), and its schema.
fn first_row(path: &Path, sort: &[&str]) -> Result<(Option<Vec<ArrayRef>>, SchemaRef)> {
    let builder = open_file(path)?;
    let schema = builder.schema().clone();
    let mask = projection(path, &builder, sort)?;
    let mut reader = builder.with_projection(mask).with_batch_size(1).with_limit(1).build().map_err(|e| store_error(path, e.to_string()))?;
    let first = reader.next().transpose().map_err(|e| store_error(path, e.to_string()))?;
    let key = first.filter(|b| b.num_rows() > 0).map(|b| sort.iter().map(|n| b.column_by_name(n).expect("projected").clone()).collect());
    Ok((key, schema))
}

/// Merges one group's files into one sorted file.
fn rewrite(store: &Path, dataset: &Dataset, files: &[DataFile], group: &[usize], prefix: &str) -> Result<Vec<DataFile>> {
    let mut batches = Vec::new();
    for &i in group {
        let path = store.join(&files[i].path);
        for batch in read_file(&path, None)? {
            batches.push(match &dataset.schema {
                Some(schema) => conform(&batch, schema)?,
                None => batch,
            });
        }
    }
    let Some(schema) = dataset.schema.clone().or_else(|| batches.first().map(RecordBatch::schema)) else { return Ok(Vec::new()) };
    write_sorted(store, &dataset.dir, prefix, dataset.table, &schema, &batches, &dataset.sort)
}

/// A stored batch in the table's stored schema: a nullable column that an older file lacks reads
/// as null, as the reader reads it.
fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> =
        schema.fields().iter().map(|f| batch.column_by_name(f.name()).cloned().unwrap_or_else(|| new_null_array(f.data_type(), batch.num_rows()))).collect();
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

fn store_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Store { path: path.to_path_buf(), message: message.into() }
}

/// What `mttx compact` did: the new manifest, the compaction (None when nothing needed merging),
/// and how many files it recorded the hashes, key ranges and stamps of.
pub struct CompactOutcome {
    pub manifest: Manifest,
    pub record: Option<CompactionRecord>,
    pub described: usize,
}

/// `mttx compact STORE`: merges every table's part-filled files under the load lock, as a
/// generation of its own, then deletes the old files once their readers are done.
pub fn compact(store: &Path, progress: &Progress, notes: &mut dyn std::io::Write) -> Result<CompactOutcome> {
    if !Manifest::exists(store) {
        return Err(store_error(store, "there is no store here to compact"));
    }
    let _load_lock = lock::load(store, notes)?;
    let mut manifest = Manifest::read(store)?;
    let generation = manifest.generation + 1;
    let prefix = format!("g{generation:06}");
    let compacted = compact_files(store, &mut manifest.tables, &mut manifest.histories, &prefix, &By::Command, progress)?;
    let described = describe_files(store, &mut manifest, progress)?;
    progress.finish();
    if compacted.tables.is_empty() && described == 0 {
        // What an interrupted load or compaction left is deleted all the same.
        tidy::collect_garbage(store, &manifest, notes)?;
        return Ok(CompactOutcome { manifest, record: None, described });
    }
    fault(Fault::AfterDataFiles);
    let record = (!compacted.tables.is_empty()).then(|| CompactionRecord { generation, by: "compact".into(), tables: compacted.tables });
    manifest.generation = generation;
    manifest.compactions.extend(record.clone());
    tidy::switch(store, &manifest)?;
    if let Err(e) = tidy::collect_garbage(store, &manifest, notes) {
        let _ = writeln!(notes, "mttx: the compaction is complete, but deleting the old files failed ({e}); the next load or compaction tries again");
    }
    Ok(CompactOutcome { manifest, record, described })
}

/// Records the hash, key ranges and stamps of every listed file that lacks them (written by an
/// mttx before they were recorded), so that loads can pass over the file and `verify` can hash
/// it; returns how many files it described.
fn describe_files(store: &Path, manifest: &mut Manifest, progress: &Progress) -> Result<usize> {
    let tables = manifest.tables.iter_mut().map(|(name, files)| (Table::from_name(name), files));
    let datasets: Vec<(Option<Table>, &mut TableFiles)> = tables.chain(manifest.histories.values_mut().map(|files| (None, files))).collect();
    // A table without timestamps of its own (the CIs) has no stamps to record.
    let stamped = |table: Option<Table>| table.is_some_and(|t| !extent::stamp_columns(t).is_empty());
    let bare = |table: Option<Table>, file: &DataFile| file.sha256.is_none() || file.key_ranges.is_empty() || (stamped(table) && file.stamps.is_none());
    let count: usize = datasets.iter().map(|(table, files)| files.files.iter().filter(|f| bare(*table, f)).count()).sum();
    if count == 0 {
        return Ok(0);
    }
    progress.stage("describing older files", count as u64);
    for (table, files) in datasets {
        for file in files.files.iter_mut().filter(|f| bare(table, f)) {
            let path = store.join(&file.path);
            let schema = file_schema(&path)?;
            let mut columns: Vec<&str> = KEY_COLUMNS.to_vec();
            columns.extend(table.map(extent::stamp_columns).unwrap_or_default());
            columns.retain(|c| schema.field_with_name(c).is_ok());
            columns.sort_unstable();
            columns.dedup();
            let batches = read_file(&path, Some(&columns))?;
            let Some(first) = batches.first() else { continue };
            let batch = datafusion::arrow::compute::concat_batches(&first.schema(), &batches)?;
            file.sha256 = Some(file_sha256(&path)?);
            file.key_ranges = key_ranges(&batch);
            file.stamps = table.and_then(|t| extent::file_stamps(t, &batch));
            progress.advance();
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema(column: &str) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, true)]))
    }

    /// Neighbours pack up to a full file; a file that would overflow starts the next group, and a
    /// group of one is left alone. Sizes in eighths of a file: 2 2 2 2 | 3 3 | 3.
    #[test]
    fn neighbours_pack_into_full_files() {
        let eighth = FILE_ROWS as u64 / 8;
        let s = schema("a");
        let files: Vec<(usize, u64, SchemaRef)> = [2, 2, 2, 2, 3, 3, 3].iter().enumerate().map(|(i, e)| (i, e * eighth, s.clone())).collect();
        assert_eq!(pack(&files, false), vec![vec![0, 1, 2, 3], vec![4, 5]]);
    }

    /// A history's files of another schema (another profile's rules) start a group of their own.
    #[test]
    fn a_history_merges_only_files_of_one_schema() {
        let (a, b) = (schema("a"), schema("b"));
        let files = vec![(0, 10, a.clone()), (1, 10, a.clone()), (2, 10, b.clone()), (3, 10, b.clone()), (4, 10, a.clone())];
        assert_eq!(pack(&files, true), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(pack(&files, false), vec![vec![0, 1, 2, 3, 4]], "a table's files are read into one schema");
    }

    /// A table needs compaction past 32 files, or past 4 small ones.
    #[test]
    fn thresholds() {
        let files = |rows: &[u64]| TableFiles {
            rows: rows.iter().sum(),
            files: rows
                .iter()
                .enumerate()
                .map(|(i, r)| DataFile { path: format!("f{i}"), rows: *r, bytes: 0, sha256: None, key_ranges: BTreeMap::new(), stamps: None })
                .collect(),
        };
        assert!(!needs_compaction(&files(&[1; 4])));
        assert!(needs_compaction(&files(&[1; 5])));
        assert!(!needs_compaction(&files(&[SMALL_ROWS; 32])));
        assert!(needs_compaction(&files(&[SMALL_ROWS; 33])));
    }
}
