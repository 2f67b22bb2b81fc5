//! The Parquet reader: typed columns streamed in record batches; a gzip-wrapped file is
//! decompressed into memory first, because Parquet needs random access.

use std::fs::File;
use std::path::Path;

use bytes::Bytes;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::raw::{BATCH_ROWS, RawChunk};
use super::source::{self, shielded};
use crate::error::{Error, Result};

pub fn read(path: &Path, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let unreadable =
        |e: datafusion::parquet::errors::ParquetError| Error::input(path, format!("not a readable Parquet file ({e}); check that it is Parquet and complete"));
    let gzip = source::is_gzip(path)?;
    let bytes = if gzip { Some(Bytes::from(source::read_all(path)?)) } else { None };
    let file = if gzip { None } else { Some(File::open(path).map_err(|e| Error::io(path, e))?) };
    // The Parquet crate decodes untrusted bytes; on some corrupt files it panics instead of
    // returning an error, so each call into it is shielded.
    let reader = shielded(path, "reading its metadata", || match (bytes, file) {
        (Some(bytes), _) => ParquetRecordBatchReaderBuilder::try_new(bytes).and_then(|b| b.with_batch_size(BATCH_ROWS).build()),
        (None, Some(file)) => ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.with_batch_size(BATCH_ROWS).build()),
        (None, None) => unreachable!("one of the two is set"),
    })?
    .map_err(unreadable)?;
    let schema = datafusion::arrow::record_batch::RecordBatchReader::schema(&reader);
    let mut reader = reader;
    let mut next_row = 1u64;
    let mut emitted = false;
    while let Some(batch) = shielded(path, &format!("decoding at or after record {next_row}"), || reader.next())? {
        let batch = batch.map_err(|e| Error::input(path, format!("corrupt Parquet data at or after record {next_row}: {e}")))?;
        let n = batch.num_rows() as u64;
        sink(RawChunk { batch, rows: (next_row..next_row + n).collect(), lines: Vec::new(), malformed: Vec::new(), complete_schema: true })?;
        next_row += n;
        emitted = true;
    }
    if !emitted {
        sink(RawChunk {
            batch: datafusion::arrow::record_batch::RecordBatch::new_empty(schema),
            rows: Vec::new(),
            lines: Vec::new(),
            malformed: Vec::new(),
            complete_schema: true,
        })?;
    }
    Ok(())
}
