//! Results as an aligned text table for the terminal.

use std::io::Write;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;

use super::stdout_error;
use crate::error::Result;

pub fn render(batches: &[RecordBatch], out: &mut dyn Write) -> Result<()> {
    let shown = batches.iter().map(|b| super::for_terminal(b, false)).collect::<Result<Vec<_>>>()?;
    let table = pretty_format_batches(&shown)?;
    writeln!(out, "{table}").map_err(stdout_error)?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    writeln!(out, "{rows} row(s)").map_err(stdout_error)
}
