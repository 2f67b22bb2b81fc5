//! Writing rows as the store's data files. Each file is sorted by its table's UTC sort column (then
//! id), with row groups small enough that their min/max statistics let a period filter skip most of
//! a year. Every row carries two hidden columns that the next load needs to tell which version of a
//! ticket wins: `_version` (an order-preserving encoding of the version key) and `_load` (the
//! generation that wrote it).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::{concat_batches, max_string, min_string};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampMicrosecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{ArrowRowGroupWriterFactory, compute_leaves};
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::file::writer::SerializedFileWriter;
use datafusion::parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::extent::FileStamps;
use super::hash::hex;
use super::manifest::{DataFile, KeyRange};
use super::sort::Sorted;
use crate::error::{Error, Result};
use crate::ingest::version_key::{KeyValue, key_column};
use crate::model::{FieldKind, Table};

pub const VERSION_COLUMN: &str = "_version";
pub const LOAD_COLUMN: &str = "_load";
/// Rows per row group: about a day of a 10-million-incident year, so a one-month filter reads a
/// few dozen row groups of a year's file.
pub const ROW_GROUP_ROWS: usize = 65_536;
/// Rows per data file; a larger table is several files, each sorted.
pub const FILE_ROWS: usize = 2_097_152;

/// The table's schema as stored: the canonical columns, then `_version` and `_load`.
pub fn stored_schema(table: Table) -> SchemaRef {
    let mut fields: Vec<Field> = table.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(VERSION_COLUMN, DataType::Binary, true));
    fields.push(Field::new(LOAD_COLUMN, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// Each row's latest lifecycle timestamp (the greatest of the timestamps that record something
/// that happened) as a version key: of two versions of a ticket, the one that got further wins.
pub fn lifecycle_versions(table: Table, batch: &RecordBatch) -> BinaryArray {
    let columns: Vec<_> = table
        .fields()
        .iter()
        .filter(|f| f.kind == FieldKind::Timestamp && f.happened)
        .filter_map(|f| batch.column_by_name(f.name))
        .map(|c| c.as_primitive::<TimestampMicrosecondType>().clone())
        .collect();
    key_column((0..batch.num_rows()).map(|row| {
        let latest = columns.iter().filter(|c| c.is_valid(row)).map(|c| c.value(row)).max();
        [latest.map_or(KeyValue::Null, KeyValue::Int)]
    }))
}

/// Canonical rows of one load with their hidden columns added: `versions` as `_version`.
pub fn with_hidden(table: Table, batch: &RecordBatch, versions: ArrayRef, generation: u64) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(versions);
    columns.push(Arc::new(UInt64Array::from(vec![generation; batch.num_rows()])));
    Ok(RecordBatch::try_new(stored_schema(table), columns)?)
}

/// Writes `batches` (of one schema) sorted by `sort` columns (ascending, nulls last) as data files
/// `<dir>/<prefix>-NNN.parquet` under `store`; returns them as the manifest lists them. The rows
/// are never gathered into one batch: each row group is cut from them in sorted order as it is
/// written.
pub fn write_sorted(
    store: &Path,
    dir: &str,
    prefix: &str,
    table: Option<Table>,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    sort: &[&str],
) -> Result<Vec<DataFile>> {
    let sorted = Sorted::new(Arc::clone(schema), batches, sort)?;
    if sorted.rows() == 0 {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(store.join(dir)).map_err(|e| Error::io(store.join(dir), e))?;
    let mut files = Vec::new();
    for (part, start) in (0..sorted.rows()).step_by(FILE_ROWS).enumerate() {
        let end = (start + FILE_ROWS).min(sorted.rows());
        let mut file = DataFileWriter::create(store, &format!("{dir}/{prefix}-{part:03}.parquet"), table, schema)?;
        for group in (start..end).step_by(ROW_GROUP_ROWS) {
            file.write(sorted.rows_at(group..(group + ROW_GROUP_ROWS).min(end))?)?;
        }
        files.push(file.finish()?);
    }
    Ok(files)
}

fn properties(schema: &Schema) -> Result<WriterProperties> {
    let mut builder = WriterProperties::builder()
        // LZ4 rather than ZSTD: every query decompresses what it reads, and LZ4 does so several
        // times faster, for files a few per cent larger.
        .set_compression(Compression::LZ4_RAW)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page);
    // Ids and version keys are (nearly) unique: a dictionary would only be built to be dropped.
    for unique in ["id", VERSION_COLUMN] {
        if schema.field_with_name(unique).is_ok() {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(unique), false);
        }
    }
    // So are timestamps within a row group (a day of events has about as many distinct seconds as
    // events): the dictionary would fit the page limit and be kept, costing a hash per value to
    // write and a lookup per value to read, for a larger file.
    for field in schema.fields().iter().filter(|f| matches!(f.data_type(), DataType::Timestamp(..))) {
        builder = builder.set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
    }
    Ok(builder.build())
}

/// The columns a load looks rows up by: a ticket's `id`, an event's `ticket_id`, a history's
/// `case_id`.
pub const KEY_COLUMNS: [&str; 3] = ["id", "ticket_id", "case_id"];

/// The range of each key column of `batch` that has a non-null value.
pub(super) fn key_ranges(batch: &RecordBatch) -> BTreeMap<String, KeyRange> {
    let mut ranges = BTreeMap::new();
    for name in KEY_COLUMNS {
        let Some(values) = batch.column_by_name(name).and_then(|c| c.as_string_opt::<i32>()) else { continue };
        if let (Some(min), Some(max)) = (min_string(values), max_string(values)) {
            ranges.insert(name.to_string(), KeyRange { min: min.to_string(), max: max.to_string() });
        }
    }
    ranges
}

/// A file that hashes what is written to it, so that a data file's SHA-256 costs no second read.
struct Hashing {
    file: File,
    hasher: Sha256,
}

impl Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes one data file and syncs it, so that it is on disk before a manifest lists it.
pub fn write_file(store: &Path, relative: &str, table: Option<Table>, batch: &RecordBatch) -> Result<DataFile> {
    let mut file = DataFileWriter::create(store, relative, table, &batch.schema())?;
    file.write(batch.clone())?;
    file.finish()
}

/// A data file written a batch at a time: the rows are cut into row groups of `ROW_GROUP_ROWS`,
/// hashed as they are written, and the file's key ranges and stamps gathered from them, so that
/// memory holds one row group, not the file.
pub struct DataFileWriter {
    path: PathBuf,
    relative: String,
    table: Option<Table>,
    schema: SchemaRef,
    writer: SerializedFileWriter<BufWriter<Hashing>>,
    row_groups: ArrowRowGroupWriterFactory,
    /// Rows of the next row group, not yet written.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    groups_written: usize,
    rows: u64,
    key_ranges: BTreeMap<String, KeyRange>,
    /// The stamps of the rows written so far: a table's file starts with those of no rows.
    stamps: Option<FileStamps>,
}

impl DataFileWriter {
    /// A new data file at `store`/`relative` of rows of `schema`.
    pub fn create(store: &Path, relative: &str, table: Option<Table>, schema: &SchemaRef) -> Result<DataFileWriter> {
        let path = store.join(relative);
        let file = Hashing { file: File::create(&path).map_err(|e| Error::io(&path, e))?, hasher: Sha256::new() };
        let writer = ArrowWriter::try_new(BufWriter::with_capacity(1 << 20, file), Arc::clone(schema), Some(properties(schema)?))?;
        let (writer, row_groups) = writer.into_serialized_writer()?;
        Ok(DataFileWriter {
            path,
            relative: relative.to_string(),
            table,
            schema: Arc::clone(schema),
            writer,
            row_groups,
            pending: Vec::new(),
            pending_rows: 0,
            groups_written: 0,
            rows: 0,
            key_ranges: BTreeMap::new(),
            stamps: table.and_then(|t| super::extent::file_stamps(t, &RecordBatch::new_empty(Arc::clone(schema)))),
        })
    }

    /// Adds `batch`'s rows, writing each row group as it fills.
    pub fn write(&mut self, mut batch: RecordBatch) -> Result<()> {
        while batch.num_rows() > 0 {
            let fits = (ROW_GROUP_ROWS - self.pending_rows).min(batch.num_rows());
            self.pending.push(batch.slice(0, fits));
            self.pending_rows += fits;
            batch = batch.slice(fits, batch.num_rows() - fits);
            if self.pending_rows == ROW_GROUP_ROWS {
                self.write_row_group()?;
            }
        }
        Ok(())
    }

    fn write_row_group(&mut self) -> Result<()> {
        let rows = match self.pending.len() {
            0 => return Ok(()),
            1 => self.pending.pop().expect("one batch"),
            _ => concat_batches(&self.schema, &self.pending)?,
        };
        self.pending.clear();
        self.pending_rows = 0;
        // Each column of a row group encodes and compresses on its own: on all cores at once.
        let leaves =
            self.schema.fields().iter().zip(rows.columns()).map(|(field, array)| compute_leaves(field, array)).collect::<std::result::Result<Vec<_>, _>>()?;
        let chunks = self
            .row_groups
            .create_column_writers(self.groups_written)?
            .into_par_iter()
            .zip(leaves.into_iter().flatten().collect::<Vec<_>>())
            .map(|(mut column, leaf)| {
                column.write(&leaf)?;
                column.close()
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut row_group = self.writer.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        self.groups_written += 1;
        self.rows += rows.num_rows() as u64;
        for (name, range) in key_ranges(&rows) {
            let KeyRange { min, max } = self.key_ranges.entry(name).or_insert_with(|| range.clone());
            *min = std::cmp::min(std::mem::take(min), range.min);
            *max = std::cmp::max(std::mem::take(max), range.max);
        }
        if let (Some(so_far), Some(group)) = (self.stamps, self.table.and_then(|t| super::extent::file_stamps(t, &rows))) {
            self.stamps = Some(so_far.and(group));
        }
        Ok(())
    }

    /// Writes what is pending and the footer, and syncs the file.
    pub fn finish(mut self) -> Result<DataFile> {
        self.write_row_group()?;
        let path = self.path;
        let Hashing { file, hasher } = self.writer.into_inner()?.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        let bytes = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        Ok(DataFile { path: self.relative, rows: self.rows, bytes, sha256: Some(hex(&hasher.finalize())), key_ranges: self.key_ranges, stamps: self.stamps })
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};

    use super::*;

    /// Rows in many unsorted batches are written sorted, in full row groups, and the file's key
    /// ranges and stamps, gathered a row group at a time, are those of all its rows at once.
    #[test]
    fn rows_in_many_batches_are_written_sorted_in_full_row_groups() {
        use datafusion::arrow::array::new_null_array;
        use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = tempfile::tempdir().unwrap();
        let table = Table::Incidents;
        let schema = stored_schema(table);
        let n = ROW_GROUP_ROWS + 4464;
        // Opened in an order that the sort has to move, resolved (a stamp) in every third row.
        let opened = |i: usize| ((i * 7919) % 50_000) as i64 * 1_000_000;
        let column = |field: &Field, rows: std::ops::Range<usize>| -> ArrayRef {
            match field.name().as_str() {
                "id" => Arc::new(StringArray::from_iter_values(rows.map(|i| format!("INC{i:06}")))),
                "opened_at" => Arc::new(TimestampMicrosecondArray::from_iter_values(rows.map(opened)).with_timezone("UTC")),
                "resolved_at" => {
                    Arc::new(TimestampMicrosecondArray::from_iter(rows.map(|i| (i % 3 == 0).then(|| opened(i) + 3_600_000_000))).with_timezone("UTC"))
                }
                LOAD_COLUMN => Arc::new(UInt64Array::from_iter_values(rows.map(|_| 1))),
                _ => new_null_array(field.data_type(), rows.len()),
            }
        };
        let batch_of =
            |rows: std::ops::Range<usize>| RecordBatch::try_new(schema.clone(), schema.fields().iter().map(|f| column(f, rows.clone())).collect()).unwrap();
        let batches: Vec<RecordBatch> = (0..n).step_by(9000).map(|at| batch_of(at..(at + 9000).min(n))).collect();
        let files = write_sorted(dir.path(), "data", "t", Some(table), &schema, &batches, &["opened_at", "id"]).unwrap();
        assert_eq!(files.len(), 1);
        let file = &files[0];
        let whole = batch_of(0..n);
        assert_eq!((file.rows, &file.key_ranges, file.stamps), (n as u64, &key_ranges(&whole), super::super::extent::file_stamps(table, &whole)));
        let path = dir.path().join(&file.path);
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        let groups: Vec<i64> = reader.metadata().row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(groups, [ROW_GROUP_ROWS as i64, 4464]);
        let read = super::super::reader::read_file(&path, Some(&["opened_at", "id"])).unwrap();
        let keys: Vec<(i64, String)> = read
            .iter()
            .flat_map(|b| {
                let at = b.column_by_name("opened_at").unwrap().as_primitive::<TimestampMicrosecondType>().clone();
                let id = b.column_by_name("id").unwrap().as_string::<i32>().clone();
                (0..b.num_rows()).map(move |r| (at.value(r), id.value(r).to_string()))
            })
            .collect();
        assert_eq!(keys.len(), n);
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted by opened_at, then id");
    }

    /// Timestamps and ids are written plain, low-cardinality text with a dictionary; the values
    /// read back are the ones written.
    #[test]
    fn near_unique_columns_are_written_without_a_dictionary() {
        use datafusion::parquet::basic::Encoding;
        use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
        let dir = tempfile::tempdir().unwrap();
        let n = 10_000i64;
        let batch = RecordBatch::try_from_iter([
            ("id", Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("EV{i}")))) as ArrayRef),
            ("at", Arc::new(TimestampMicrosecondArray::from_iter_values((0..n).map(|i| i * 1_000_000 / 3)).with_timezone("UTC")) as ArrayRef),
            ("field", Arc::new(StringArray::from_iter_values((0..n).map(|i| ["state", "priority"][(i % 2) as usize]))) as ArrayRef),
        ])
        .unwrap();
        let file = write_file(dir.path(), "events.parquet", None, &batch).unwrap();
        let reader = SerializedFileReader::new(File::open(dir.path().join(&file.path)).unwrap()).unwrap();
        let chunks = reader.metadata().row_group(0).columns().to_vec();
        let dictionary = |name: &str| {
            let chunk = chunks.iter().find(|c| c.column_path().string() == name).unwrap();
            chunk.encodings().any(|e| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY))
        };
        assert!(!dictionary("id"), "ids are unique");
        assert!(!dictionary("at"), "timestamps are nearly unique");
        assert!(dictionary("field"), "a field name repeats");
        let read = super::super::reader::read_file(&dir.path().join(&file.path), None).unwrap();
        assert_eq!(datafusion::arrow::compute::concat_batches(&read[0].schema(), &read).unwrap(), batch);
    }
}
