//! What a load hands the store: each table's new rows with their version keys, and the new events
//! of event-log histories. A load into an existing store keeps its rows in memory until the merge
//! with what the store holds. A new store has nothing to merge with, so its rows go to data files
//! as soon as a file's worth has come, and memory holds one file's worth per table, not the data.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BinaryArray};
use datafusion::arrow::record_batch::RecordBatch;

use super::manifest::DataFile;
use super::writer::{FILE_ROWS, lifecycle_versions, stored_schema, with_hidden, write_sorted};
use crate::error::Result;
use crate::ingest::TableSink;
use crate::model::Table;

/// Rows of one load, in the stored schema (canonical columns, `_version`, `_load`).
#[derive(Default)]
pub struct LoadedRows {
    generation: u64,
    /// Where to write full files early: a new store's directory.
    spill: Option<PathBuf>,
    /// Rows that make a full file.
    file_rows: usize,
    pub tables: BTreeMap<Table, Vec<RecordBatch>>,
    /// Files already written, by table (a new store only); complete after `finish_writing`.
    pub written: BTreeMap<Table, Vec<DataFile>>,
    /// The early file being sorted and encoded on a thread of its own while the load goes on.
    writing: Option<(Table, std::thread::JoinHandle<Result<Vec<DataFile>>>)>,
    pub histories: BTreeMap<Table, Vec<RecordBatch>>,
}

impl LoadedRows {
    /// Rows held for a merge with a stored table.
    pub fn new(generation: u64) -> LoadedRows {
        LoadedRows { generation, file_rows: FILE_ROWS, ..LoadedRows::default() }
    }

    /// Rows of a new store at `store`, written as files as they come.
    pub fn streaming(generation: u64, store: PathBuf) -> LoadedRows {
        LoadedRows { generation, spill: Some(store), file_rows: FILE_ROWS, ..LoadedRows::default() }
    }

    pub fn rows(&self, table: Table) -> usize {
        self.tables.get(&table).map_or(0, |b| b.iter().map(RecordBatch::num_rows).sum())
    }

    /// Writes a full file's worth of `table`'s rows, sorted, when the load streams.
    fn spill_full(&mut self, table: Table) -> Result<()> {
        let Some(store) = &self.spill else { return Ok(()) };
        if self.rows(table) < self.file_rows {
            return Ok(());
        }
        let store = store.clone();
        // One file at a time is written: memory holds at most two files' worth per table.
        self.finish_writing()?;
        let batches = self.tables.remove(&table).unwrap_or_default();
        let prefix = format!("g{:06}-s{:03}", self.generation, self.written.get(&table).map_or(0, Vec::len));
        let writer = std::thread::spawn(move || {
            write_sorted(&store, &format!("data/{}", table.name()), &prefix, Some(table), &stored_schema(table), &batches, &[table.sort_field(), "id"])
        });
        self.writing = Some((table, writer));
        Ok(())
    }

    /// Holds `batch` with its version keys, writing a file once a file's worth has come.
    fn hold(&mut self, table: Table, batch: &RecordBatch, versions: ArrayRef) -> Result<()> {
        let stored = with_hidden(table, batch, versions, self.generation)?;
        self.tables.entry(table).or_default().push(stored);
        self.spill_full(table)
    }

    /// Waits for the early file being written, if any, and lists it under `written`.
    pub fn finish_writing(&mut self) -> Result<()> {
        let Some((table, writer)) = self.writing.take() else { return Ok(()) };
        let files = writer.join().map_err(|panic| {
            let message = format!("writing a data file failed ({}); please report this", crate::error::panic_message(panic.as_ref()));
            crate::Error::store(self.spill.clone().unwrap_or_default(), message)
        })??;
        self.written.entry(table).or_default().extend(files);
        Ok(())
    }
}

impl TableSink for LoadedRows {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()> {
        let versions = Arc::new(lifecycle_versions(table, &batch));
        self.hold(table, &batch, versions)
    }

    fn write_versioned(&mut self, table: Table, batch: RecordBatch, versions: BinaryArray) -> Result<()> {
        self.hold(table, &batch, Arc::new(versions))
    }

    fn history(&mut self, table: Table, events: RecordBatch) -> Result<()> {
        self.histories.entry(table).or_default().push(events);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{self, LoadOptions, Profile, RejectsCsv};

    /// A streaming load writes each full file's worth at once, sorted; the rest waits for the end.
    #[test]
    fn a_new_store_writes_full_files_as_rows_come() {
        let dir = tempfile::tempdir().unwrap();
        let world = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/tests/_data/world/incidents.csv");
        let mut rows = LoadedRows { file_rows: 4, ..LoadedRows::streaming(1, dir.path().to_path_buf()) };
        let profile = Profile::resolve("canonical").unwrap();
        ingest::load(&[world], &profile, &LoadOptions::default(), &mut rows, &mut RejectsCsv::discard()).unwrap();
        rows.finish_writing().unwrap();
        let written = &rows.written[&Table::Incidents];
        let held = rows.rows(Table::Incidents);
        assert!(!written.is_empty(), "the world's incidents fill at least one file of four rows");
        assert!(held < 4, "fewer than a file's worth is held: {held}");
        let total: u64 = written.iter().map(|f| f.rows).sum::<u64>() + held as u64;
        assert_eq!(total, 11, "the world has 11 incidents");
        for file in written {
            let batches = super::super::reader::read_file(&dir.path().join(&file.path), Some(&["opened_at"])).unwrap();
            let opened: Vec<i64> = batches
                .iter()
                .flat_map(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>().unwrap().values().to_vec())
                .collect();
            assert!(opened.windows(2).all(|w| w[0] <= w[1]), "each file is sorted by opened_at: {opened:?}");
        }
    }
}
