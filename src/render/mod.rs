//! Renderers of query results, one module per output format, each behind the same function shape:
//! `render(batches, out)`.

pub mod catalog;
pub mod check;
pub mod csv;
pub mod json;
pub mod junit;
pub mod kpis;
pub mod table;

use std::io::Write;

use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;

/// The formats query results render in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An aligned text table for the terminal.
    Table,
    Csv,
    /// A JSON array of objects, one per row.
    Json,
}

pub fn render(batches: &[RecordBatch], format: Format, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Table => table::render(batches, out),
        Format::Csv => csv::render(batches, out),
        Format::Json => json::render(batches, out),
    }
}

/// A batch ready for a terminal table: text cells through `escape::terminal`, and floats to three
/// decimals where `round_floats` (for reading; other formats keep full precision).
pub(crate) fn for_terminal(batch: &RecordBatch, round_floats: bool) -> Result<RecordBatch> {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema};

    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let text: Option<StringArray> = match (column.data_type(), column.as_primitive_opt::<Float64Type>()) {
            (_, Some(floats)) if round_floats => Some(floats.iter().map(|v| v.map(|v| format!("{v:.3}"))).collect()),
            (DataType::Utf8, _) => Some(column.as_string::<i32>().iter().map(|v| v.map(crate::escape::terminal)).collect()),
            _ => None,
        };
        match text {
            Some(text) => {
                fields.push(Field::new(field.name(), DataType::Utf8, true));
                columns.push(Arc::new(text));
            }
            None => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
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
