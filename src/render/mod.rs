//! Renderers of query results, one module per output format, each behind the same function shape:
//! `render(batches, out)`.

pub mod check;
pub mod csv;
pub mod json;
pub mod junit;
pub mod kpis;
pub mod table;

use std::io::Write;

use datafusion::arrow::record_batch::RecordBatch;

use crate::cli::ResultFormat;
use crate::error::Result;

pub fn render(batches: &[RecordBatch], format: ResultFormat, out: &mut dyn Write) -> Result<()> {
    match format {
        ResultFormat::Table => table::render(batches, out),
        ResultFormat::Csv => csv::render(batches, out),
        ResultFormat::Json => json::render(batches, out),
    }
}

pub(crate) fn stdout_error(e: std::io::Error) -> crate::Error {
    crate::Error::io("<stdout>", e)
}

/// A csv writer error as the I/O error beneath it, so a closed pipe stays recognisable.
pub(crate) fn csv_error(e: ::csv::Error) -> crate::Error {
    match e.into_kind() {
        ::csv::ErrorKind::Io(io) => stdout_error(io),
        other => stdout_error(std::io::Error::other(format!("{other:?}"))),
    }
}
