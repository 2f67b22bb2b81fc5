//! NDJSON output: one JSON object per row and line, nulls written explicitly, timestamps as
//! RFC 3339 text, over the plain or gzip sink.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::{self, writer::LineDelimited};

use super::{Sink, arrow_error, text_schema, timestamps_as_text};
use crate::{Error, Result};

pub(super) struct NdjsonEncoder {
    writer: json::Writer<Sink, LineDelimited>,
    text_schema: SchemaRef,
}

impl NdjsonEncoder {
    pub(super) fn new(sink: Sink, schema: &SchemaRef) -> NdjsonEncoder {
        NdjsonEncoder { writer: json::WriterBuilder::new().with_explicit_nulls(true).build(sink), text_schema: text_schema(schema) }
    }

    pub(super) fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<()> {
        self.writer.write(&timestamps_as_text(batch, &self.text_schema)?).map_err(|e| arrow_error(path, e))
    }

    /// Ends the JSON stream and hands back the buffered file.
    pub(super) fn finish(self, path: &Path) -> Result<BufWriter<File>> {
        let NdjsonEncoder { mut writer, .. } = self;
        writer.finish().map_err(|e| arrow_error(path, e))?;
        writer.into_inner().finish().map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::OutputFormat;
    use crate::write::tests::write_file;

    #[test]
    fn ndjson_has_one_object_per_line_and_canonical_timestamps() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let bytes = write_file(dir.path(), "t.ndjson", OutputFormat::Ndjson, false)?;
        let expected = concat!(
            r#"{"id":"a,b","at":"2026-01-05T09:12:33Z","n":1,"flag":true}"#,
            "\n",
            r#"{"id":"say \"hi\"","at":"2026-01-05T09:12:33.250Z","n":2,"flag":false}"#,
            "\n",
            r#"{"id":"plain","at":null,"n":3,"flag":null}"#,
            "\n",
        );
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
        Ok(())
    }
}
