//! Where loaded rows and rejects go: into memory for queries (a store has its own sink, see
//! `store::sink`), and rejects into a CSV file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::BinaryArray;
use datafusion::arrow::record_batch::RecordBatch;

use super::raw::RowProblem;
use crate::error::{Error, Result};
use crate::escape::spreadsheet_safe;
use crate::model::Table;

/// Receives canonical batches, table by table.
pub trait TableSink {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()>;

    /// Rows of a deduplicated table, with each row's version key (its dedup ordering, see
    /// `version_key::key_column`). A store keeps the key, to compare with later loads; other sinks
    /// need only the rows.
    fn write_versioned(&mut self, table: Table, batch: RecordBatch, _versions: BinaryArray) -> Result<()> {
        self.write(table, batch)
    }

    /// Events of an event-log table's status history that the load added (the extractor's
    /// schema, `file` counted across the store's loads). A store keeps them, so that a later
    /// export with more of a ticket's history derives the ticket again from all of it.
    fn history(&mut self, _table: Table, _events: RecordBatch) -> Result<()> {
        Ok(())
    }
}

/// Receives rejected rows.
pub trait RejectSink {
    fn reject(&mut self, file: &Path, table: Table, problem: &RowProblem) -> Result<()>;
}

/// Keeps every table in memory, for SQL over the loaded data.
#[derive(Default)]
pub struct MemorySink {
    pub tables: BTreeMap<Table, Vec<RecordBatch>>,
}

impl TableSink for MemorySink {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()> {
        self.tables.entry(table).or_default().push(batch);
        Ok(())
    }
}

/// The columns of rejects.csv. New columns go at the end, so scripts that read by position keep
/// working; `summary.json`'s `summary_version` changes with them.
pub const REJECT_COLUMNS: [&str; 9] = ["file", "row", "line", "table", "column", "value", "code", "reason", "id"];

/// Writes rejects as CSV, one line per rejected row. Cells holding source text are neutralised
/// against spreadsheet formulas (see `escape::spreadsheet_safe`).
pub struct RejectsCsv {
    path: PathBuf,
    writer: Option<::csv::Writer<BufWriter<File>>>,
    pub count: u64,
}

impl RejectsCsv {
    pub fn create(path: &Path) -> Result<Self> {
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let mut writer = ::csv::Writer::from_writer(BufWriter::new(file));
        writer.write_record(REJECT_COLUMNS).map_err(|e| csv_error(path, e))?;
        Ok(RejectsCsv { path: path.to_path_buf(), writer: Some(writer), count: 0 })
    }

    /// Counts rejects without writing them anywhere.
    pub fn discard() -> Self {
        RejectsCsv { path: PathBuf::new(), writer: None, count: 0 }
    }

    pub fn finish(self) -> Result<u64> {
        if let Some(mut w) = self.writer {
            w.flush().map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(self.count)
    }
}

impl RejectSink for RejectsCsv {
    fn reject(&mut self, file: &Path, table: Table, p: &RowProblem) -> Result<()> {
        self.count += 1;
        let Some(w) = self.writer.as_mut() else { return Ok(()) };
        let file = file.display().to_string();
        let row = p.row.to_string();
        let line = p.line.map(|l| l.to_string()).unwrap_or_default();
        let record = [
            spreadsheet_safe(&file),
            row.as_str().into(),
            line.as_str().into(),
            table.name().into(),
            spreadsheet_safe(&p.column),
            spreadsheet_safe(&p.value),
            p.code.as_str().into(),
            spreadsheet_safe(&p.reason),
            spreadsheet_safe(p.id.as_deref().unwrap_or_default()),
        ];
        w.write_record(record.iter().map(|c| c.as_bytes())).map_err(|e| csv_error(&self.path, e))
    }
}

fn csv_error(path: &Path, e: ::csv::Error) -> Error {
    Error::io(path, std::io::Error::other(e))
}
