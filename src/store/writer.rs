//! Writing rows as the store's data files. Each file is sorted by its table's UTC sort column (then
//! id), with row groups small enough that their min/max statistics let a period filter skip most of
//! a year. Every row carries two hidden columns that the next load needs to tell which version of a
//! ticket wins: `_version` (an order-preserving encoding of the version key) and `_load` (the
//! generation that wrote it).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, RecordBatch, UInt32Array, UInt64Array, make_comparator};
use datafusion::arrow::compute::{SortOptions, concat_batches, max_string, min_string, take};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::compute_leaves;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::hash::hex;
use super::manifest::{DataFile, KeyRange};
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
/// `<dir>/<prefix>-NNN.parquet` under `store`; returns them as the manifest lists them.
pub fn write_sorted(
    store: &Path,
    dir: &str,
    prefix: &str,
    table: Option<Table>,
    schema: &SchemaRef,
    batches: &[RecordBatch],
    sort: &[&str],
) -> Result<Vec<DataFile>> {
    let all = concat_batches(schema, batches)?;
    if all.num_rows() == 0 {
        return Ok(Vec::new());
    }
    // Exports usually come in time order already; then there is nothing to move.
    let sorted = match sort_order(&all, sort)? {
        None => all,
        // Columns move independently: on all cores at once.
        Some(order) => {
            let columns = all.columns().par_iter().map(|c| take(c, &order, None)).collect::<std::result::Result<Vec<_>, _>>()?;
            RecordBatch::try_new(all.schema(), columns)?
        }
    };
    std::fs::create_dir_all(store.join(dir)).map_err(|e| Error::io(store.join(dir), e))?;
    let mut files = Vec::new();
    for (part, start) in (0..sorted.num_rows()).step_by(FILE_ROWS).enumerate() {
        let slice = sorted.slice(start, FILE_ROWS.min(sorted.num_rows() - start));
        let relative = format!("{dir}/{prefix}-{part:03}.parquet");
        files.push(write_file(store, &relative, table, &slice)?);
    }
    Ok(files)
}

/// The order that sorts `all` by the `sort` columns (ascending, nulls last), or None when the rows
/// are in that order already. The first column, a timestamp or integer in every table but one,
/// compares as integers; the rest only break its ties. Sorted on every core: the last file of a
/// load is sorted after reading has ended, with nothing else to do.
pub(super) fn sort_order(all: &RecordBatch, sort: &[&str]) -> Result<Option<UInt32Array>> {
    let options = SortOptions { descending: false, nulls_first: false };
    let columns: Vec<&ArrayRef> = sort.iter().map(|name| all.column_by_name(name).expect("sort columns are in the schema")).collect();
    let ties = columns[1..].iter().map(|c| make_comparator(c.as_ref(), c.as_ref(), options)).collect::<std::result::Result<Vec<_>, _>>()?;
    // Rows equal on every sort column keep their input order, so that the order does not depend
    // on how the parallel sort splits its work.
    let tie = |a: u32, b: u32| ties.iter().map(|compare| compare(a as usize, b as usize)).find(|o| o.is_ne()).unwrap_or_else(|| a.cmp(&b));
    let first = columns[0];
    let integers = match first.data_type() {
        DataType::Timestamp(TimeUnit::Microsecond, _) => Some(first.as_primitive::<TimestampMicrosecondType>().values().clone()),
        DataType::Int64 => Some(first.as_primitive::<Int64Type>().values().clone()),
        _ => None,
    };
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    match integers {
        Some(values) if first.null_count() == 0 => order.par_sort_unstable_by(|&a, &b| values[a as usize].cmp(&values[b as usize]).then_with(|| tie(a, b))),
        Some(values) => {
            // Nulls last: (is null, value), with a null's slot value ignored.
            let keys: Vec<(bool, i64)> = (0..values.len()).map(|i| if first.is_null(i) { (true, 0) } else { (false, values[i]) }).collect();
            order.par_sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]).then_with(|| tie(a, b)));
        }
        None => {
            let compare = make_comparator(first.as_ref(), first.as_ref(), options)?;
            order.par_sort_unstable_by(|&a, &b| compare(a as usize, b as usize).then_with(|| tie(a, b)));
        }
    }
    let in_order = order.iter().enumerate().all(|(i, &at)| at as usize == i);
    Ok((!in_order).then(|| UInt32Array::from(order)))
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
    let path = store.join(relative);
    let file = Hashing { file: File::create(&path).map_err(|e| Error::io(&path, e))?, hasher: Sha256::new() };
    let schema = batch.schema();
    let writer = ArrowWriter::try_new(BufWriter::with_capacity(1 << 20, file), schema.clone(), Some(properties(&schema)?))?;
    let (mut writer, row_groups) = writer.into_serialized_writer()?;
    for (index, start) in (0..batch.num_rows()).step_by(ROW_GROUP_ROWS).enumerate() {
        let rows = batch.slice(start, ROW_GROUP_ROWS.min(batch.num_rows() - start));
        // Each column of a row group encodes and compresses on its own: on all cores at once.
        let leaves =
            schema.fields().iter().zip(rows.columns()).map(|(field, array)| compute_leaves(field, array)).collect::<std::result::Result<Vec<_>, _>>()?;
        let chunks = row_groups
            .create_column_writers(index)?
            .into_par_iter()
            .zip(leaves.into_iter().flatten().collect::<Vec<_>>())
            .map(|(mut column, leaf)| {
                column.write(&leaf)?;
                column.close()
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut row_group = writer.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
    }
    let Hashing { file, hasher } = writer.into_inner()?.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&path, e))?;
    let bytes = file.metadata().map_err(|e| Error::io(&path, e))?.len();
    Ok(DataFile {
        path: relative.to_string(),
        rows: batch.num_rows() as u64,
        bytes,
        sha256: Some(hex(&hasher.finalize())),
        key_ranges: key_ranges(batch),
        stamps: table.and_then(|t| super::extent::file_stamps(t, batch)),
    })
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray};
    use datafusion::arrow::compute::{SortColumn, lexsort_to_indices};

    use super::*;

    /// The integer first key with ties broken by the rest sorts as Arrow's lexicographic sort,
    /// nulls last: over ties, nulls and text-first keys alike.
    #[test]
    fn sort_order_is_the_lexicographic_order() {
        let n = 5000u64;
        let times: TimestampMicrosecondArray = (0..n).map(|i| (i % 7 != 3).then_some(((i * 7919) % 101) as i64 - 50)).collect();
        let ids: StringArray = (0..n).map(|i| Some(format!("T{}", (i * 104_729) % n))).collect();
        let batch = RecordBatch::try_from_iter([("at", Arc::new(times) as ArrayRef), ("id", Arc::new(ids) as ArrayRef)]).unwrap();
        for sort in [["at", "id"], ["id", "at"]] {
            let expected = lexsort_to_indices(
                &sort.map(|c| SortColumn {
                    values: batch.column_by_name(c).unwrap().clone(),
                    options: Some(SortOptions { descending: false, nulls_first: false }),
                }),
                None,
            )
            .unwrap();
            let order = sort_order(&batch, &sort).unwrap().expect("the rows are not in order");
            assert_eq!(order, expected, "{sort:?}");
            let sorted = datafusion::arrow::compute::take_record_batch(&batch, &order).unwrap();
            assert_eq!(sort_order(&sorted, &sort).unwrap(), None, "sorted rows need no order");
        }
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
