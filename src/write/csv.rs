//! CSV output: a header row, then RFC 4180 rows with timestamps as RFC 3339 text, over the plain
//! or gzip sink; an empty table is still a valid file holding its header.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv;
use datafusion::arrow::datatypes::SchemaRef;

use super::{Sink, arrow_error, text_schema, timestamps_as_text};
use crate::{Error, Result};

/// `wrote_header` is tracked because arrow writes the header with the first batch, and an
/// empty table must still be a valid CSV file with its header.
pub(super) struct CsvEncoder {
    writer: Box<csv::Writer<Sink>>,
    text_schema: SchemaRef,
    wrote_header: bool,
}

impl CsvEncoder {
    pub(super) fn new(sink: Sink, schema: &SchemaRef) -> CsvEncoder {
        CsvEncoder {
            writer: Box::new(csv::WriterBuilder::new().with_header(true).with_delimiter(b',').build(sink)),
            text_schema: text_schema(schema),
            wrote_header: false,
        }
    }

    pub(super) fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<()> {
        self.wrote_header = true;
        self.writer.write(&timestamps_as_text(batch, &self.text_schema)?).map_err(|e| arrow_error(path, e))
    }

    /// Ends the file (writing the header if no batch did) and hands back the buffered file.
    pub(super) fn finish(self, path: &Path) -> Result<BufWriter<File>> {
        let CsvEncoder { mut writer, text_schema, wrote_header } = self;
        if !wrote_header {
            writer.write(&RecordBatch::new_empty(text_schema)).map_err(|e| arrow_error(path, e))?;
        }
        writer.into_inner().finish().map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::tests::{sample, write_file};
    use crate::write::{OutputFormat, TableWriter};

    #[test]
    fn csv_has_header_rfc4180_quoting_and_canonical_timestamps() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes = write_file(dir.path(), "t.csv", OutputFormat::Csv, false)?;
        let expected = "id,at,n,flag\n\
                        \"a,b\",2026-01-05T09:12:33Z,1,true\n\
                        \"say \"\"hi\"\"\",2026-01-05T09:12:33.250Z,2,false\n\
                        plain,,3,\n";
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
        Ok(())
    }

    #[test]
    fn empty_csv_still_has_its_header() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("empty.csv");
        let writer = TableWriter::create(&path, OutputFormat::Csv, false, sample().schema())?;
        assert_eq!(writer.finish()?, 0);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        assert_eq!(text, "id,at,n,flag\n");
        Ok(())
    }
}
