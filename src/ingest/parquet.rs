//! The Parquet reader: typed columns streamed in record batches; a gzip-wrapped file is
//! decompressed into memory first, because Parquet needs random access.

use std::fs::File;
use std::path::Path;

use bytes::Bytes;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::raw::{BATCH_ROWS, RawChunk};
use super::source;
use crate::error::{Error, Result};

pub fn read(path: &Path, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let unreadable =
        |e: datafusion::parquet::errors::ParquetError| Error::input(path, format!("not a readable Parquet file ({e}); check that it is Parquet and complete"));
    let reader = if source::is_gzip(path)? {
        ParquetRecordBatchReaderBuilder::try_new(Bytes::from(source::read_all(path)?)).map_err(unreadable)?.with_batch_size(BATCH_ROWS).build()
    } else {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?.with_batch_size(BATCH_ROWS).build()
    }
    .map_err(unreadable)?;
    let schema = datafusion::arrow::record_batch::RecordBatchReader::schema(&reader);
    let mut next_row = 1u64;
    let mut emitted = false;
    for batch in reader {
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
