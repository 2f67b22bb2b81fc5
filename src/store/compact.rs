//! Compaction: monthly loads leave one more file per table each month, most of them far smaller
//! than a full file. Compaction merges neighbouring part-filled files into files of up to
//! `FILE_ROWS` rows, each sorted as a load writes it, so that a store of ten years opens and scans
//! a few dozen files per table rather than hundreds.
//!
//! - A file is *small* under a quarter of `FILE_ROWS` rows, *part-filled* under half. Fuller
//!   files are never rewritten.
//! - A table (or event-log history) needs compaction when it has more than `MAX_FILES` files or
//!   more than `MAX_SMALL_FILES` small ones.
//! - The plan (`plan`) orders the part-filled files by their first sort key and packs neighbours,
//!   greedily, into groups of at most `FILE_ROWS` rows; each group of two or more files becomes
//!   one file.
//! - A load compacts the tables that need it when the stored rows it would rewrite are no more
//!   than the rows it read, and passes over a table without planning when the least its plan
//!   could rewrite is already more; `mttx compact` compacts every table whose plan merges
//!   anything.
//!
//! Rows are copied as they are, hidden columns included, so every query reads the same rows
//! before and after. `mttx compact` changes the store the way a load does: new files, an atomic
//! manifest switch under the load lock, then the old files deleted once their readers are done.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::datatypes::SchemaRef;

use super::fault::{Fault, fault};
use super::hash::file_sha256;
use super::manifest::{CompactionRecord, DataFile, Manifest, TableCompaction, TableFiles};
use super::reader::{file_schema, read_file};
use super::writer::{KEY_COLUMNS, key_ranges, stored_schema, write_sorted};
use super::{extent, lock, plan, tidy};
use crate::error::{Error, Result};
use crate::model::Table;
use crate::progress::Progress;

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
        if matches!(by, By::Load { .. }) && !plan::needs_compaction(files) {
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
        // Planning reads the first row of every part-filled file, so a load that cannot afford
        // the rewrite says so before it: the plan's cost is known from below without it.
        if let Some(least) = plan::least_cost(&files.files, dataset.schema.is_none(), &own)
            && least > budget
        {
            compacted.left.push((dataset.name.clone(), files.files.len(), least));
            continue;
        }
        let groups = plan::groups(store, &files.files, &dataset.sort, dataset.schema.is_none())?;
        if groups.is_empty() {
            continue;
        }
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
        return Err(Error::store(store, "there is no store here to compact"));
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
