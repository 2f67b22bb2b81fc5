//! Results as an aligned text table for the terminal.

use std::io::Write;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::stdout_error;
use crate::error::Result;

pub fn render(batches: &[RecordBatch], out: &mut dyn Write) -> Result<()> {
    let table = pretty_format_batches(batches)?;
    writeln!(out, "{table}").map_err(stdout_error)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    writeln!(out, "{rows} row(s)").map_err(stdout_error)
}
