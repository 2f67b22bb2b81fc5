//! Results as a JSON array of objects, one per row.

use std::io::Write;

use datafusion::arrow::json::ArrayWriter;
use datafusion::arrow::record_batch::RecordBatch;

use super::stdout_error;
use crate::error::Result;

pub fn render(batches: &[RecordBatch], out: &mut dyn Write) -> Result<()> {
    let mut buffer = Vec::new();
    {
        let mut writer = ArrayWriter::new(&mut buffer);
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        writer.write_batches(&refs)?;
        writer.finish()?;
    }
    if buffer.is_empty() {
        buffer.extend_from_slice(b"[]");
    }
    out.write_all(&buffer).map_err(stdout_error)?;
    writeln!(out).map_err(stdout_error)
}
