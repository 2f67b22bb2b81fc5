//! Results as RFC 4180 CSV. Text cells are neutralised against spreadsheet formulas
//! (`escape::spreadsheet_safe`); numbers, booleans and timestamps are written as they are.

use std::io::Write;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::{csv_error, stdout_error};
use crate::error::Result;
use crate::escape::spreadsheet_safe;

pub fn render(batches: &[RecordBatch], out: &mut dyn Write) -> Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    let Some(first) = batches.first() else { return Ok(()) };
    let schema = first.schema();
    let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    writer.write_record(&header).map_err(csv_error)?;
    let options = FormatOptions::default().with_null("");
    for batch in batches {
        let mut columns: Vec<Vec<String>> = Vec::with_capacity(batch.num_columns());
        for array in batch.columns() {
            let is_text = matches!(array.data_type(), DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _));
            let cells = if is_text {
                let text = cast(array, &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                (0..text.len()).map(|i| if text.is_null(i) { String::new() } else { spreadsheet_safe(text.value(i)).into_owned() }).collect()
            } else {
                let formatter = ArrayFormatter::try_new(array.as_ref(), &options)?;
                (0..array.len()).map(|i| formatter.value(i).to_string()).collect()
            };
            columns.push(cells);
        }
        for row in 0..batch.num_rows() {
            writer.write_record(columns.iter().map(|c| c[row].as_str())).map_err(csv_error)?;
        }
    }
    writer.flush().map_err(stdout_error)
}
