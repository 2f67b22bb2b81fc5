//! Writing rows as the store's data files. Each file is sorted by its table's UTC sort column (then
//! id), with row groups small enough that their min/max statistics let a period filter skip most of
//! a year. Every row carries two hidden columns that the next load needs to tell which version of a
//! ticket wins: `_version` (an order-preserving encoding of the version key) and `_load` (the
//! generation that wrote it).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, RecordBatch, UInt64Array};
use datafusion::arrow::compute::{SortColumn, SortOptions, concat_batches, lexsort_to_indices, take_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimestampMicrosecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::compute_leaves;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use super::manifest::DataFile;
use crate::error::{Error, Result};
use crate::ingest::convert::{KeyValue, encode_key};
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
pub fn lifecycle_versions(table: Table, batch: &RecordBatch) -> Vec<Vec<u8>> {
    let columns: Vec<_> = table
        .fields()
        .iter()
        .filter(|f| f.kind == FieldKind::Timestamp && f.happened)
        .filter_map(|f| batch.column_by_name(f.name))
        .map(|c| c.as_primitive::<TimestampMicrosecondType>().clone())
        .collect();
    (0..batch.num_rows())
        .map(|row| {
            let latest = columns.iter().filter(|c| c.is_valid(row)).map(|c| c.value(row)).max();
            encode_key(&[latest.map_or(KeyValue::Null, KeyValue::Int)])
        })
        .collect()
}

/// Canonical rows of one load with their hidden columns added.
pub fn with_hidden(table: Table, batch: &RecordBatch, versions: &[Vec<u8>], generation: u64) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(BinaryArray::from_iter_values(versions.iter())));
    columns.push(Arc::new(UInt64Array::from(vec![generation; batch.num_rows()])));
    Ok(RecordBatch::try_new(stored_schema(table), columns)?)
}

/// Writes `batches` (of one schema) sorted by `sort` columns (ascending, nulls last) as data files
/// `<dir>/<prefix>-NNN.parquet` under `store`; returns them as the manifest lists them.
pub fn write_sorted(store: &Path, dir: &str, prefix: &str, schema: &SchemaRef, batches: &[RecordBatch], sort: &[&str]) -> Result<Vec<DataFile>> {
    let all = concat_batches(schema, batches)?;
    if all.num_rows() == 0 {
        return Ok(Vec::new());
    }
    let keys: Vec<SortColumn> = sort
        .iter()
        .map(|name| SortColumn {
            values: all.column_by_name(name).cloned().expect("sort columns are in the schema"),
            options: Some(SortOptions { descending: false, nulls_first: false }),
        })
        .collect();
    let order = lexsort_to_indices(&keys, None)?;
    // Exports usually come in time order already; then there is nothing to move.
    let in_order = order.values().iter().enumerate().all(|(i, &at)| at as usize == i);
    let sorted = if in_order { all } else { take_record_batch(&all, &order)? };
    std::fs::create_dir_all(store.join(dir)).map_err(|e| Error::io(store.join(dir), e))?;
    let mut files = Vec::new();
    for (part, start) in (0..sorted.num_rows()).step_by(FILE_ROWS).enumerate() {
        let slice = sorted.slice(start, FILE_ROWS.min(sorted.num_rows() - start));
        let relative = format!("{dir}/{prefix}-{part:03}.parquet");
        files.push(write_file(store, &relative, &slice)?);
    }
    Ok(files)
}

fn properties(schema: &Schema) -> Result<WriterProperties> {
    let mut builder = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page);
    // Ids and version keys are (nearly) unique: a dictionary would only be built to be dropped.
    for unique in ["id", VERSION_COLUMN] {
        if schema.field_with_name(unique).is_ok() {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(unique), false);
        }
    }
    Ok(builder.build())
}

/// Writes one data file and syncs it, so that it is on disk before a manifest lists it.
pub fn write_file(store: &Path, relative: &str, batch: &RecordBatch) -> Result<DataFile> {
    let path = store.join(relative);
    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
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
    let file = writer.into_inner()?.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
    file.sync_all().map_err(|e| Error::io(&path, e))?;
    let bytes = file.metadata().map_err(|e| Error::io(&path, e))?.len();
    Ok(DataFile { path: relative.to_string(), rows: batch.num_rows() as u64, bytes })
}
