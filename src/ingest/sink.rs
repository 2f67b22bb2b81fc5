//! Where loaded rows and rejects go: into memory for queries, or into a directory of canonical
//! Parquet files with a rejects CSV beside them.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use datafusion::arrow::record_batch::RecordBatch;

use super::raw::RowProblem;
use crate::error::{Error, Result};
use crate::escape::spreadsheet_safe;
use crate::model::Table;
use crate::write::{OutputFormat, TableWriter};

/// Receives canonical batches, table by table.
pub trait TableSink {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()>;
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

/// Streams each table to `<dir>/<table>.parquet`; `finish` writes the tables no input fed as empty
/// files, so that every canonical table exists downstream.
pub struct ParquetDirSink {
    dir: PathBuf,
    writers: BTreeMap<Table, TableWriter>,
}

impl ParquetDirSink {
    pub fn new(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(ParquetDirSink { dir: dir.to_path_buf(), writers: BTreeMap::new() })
    }

    fn writer(&mut self, table: Table) -> Result<&mut TableWriter> {
        if !self.writers.contains_key(&table) {
            let path = self.dir.join(format!("{}.parquet", table.name()));
            let writer = TableWriter::create(&path, OutputFormat::Parquet, false, table.schema())?;
            self.writers.insert(table, writer);
        }
        Ok(self.writers.get_mut(&table).expect("inserted above"))
    }

    pub fn finish(mut self) -> Result<Vec<(PathBuf, u64)>> {
        for table in Table::ALL {
            self.writer(table)?;
        }
        let mut written = Vec::new();
        for (table, writer) in self.writers {
            let rows = writer.finish()?;
            written.push((self.dir.join(format!("{}.parquet", table.name())), rows));
        }
        Ok(written)
    }
}

impl TableSink for ParquetDirSink {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()> {
        self.writer(table)?.write(&batch)
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
