//! Parquet output: the batches as they are (timestamps stay typed), ZSTD-compressed inside the
//! file, so never gzipped around it.

use std::fs::File;
use std::io::BufWriter;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::Result;

pub(super) struct ParquetEncoder(ArrowWriter<BufWriter<File>>);

impl ParquetEncoder {
    pub(super) fn new(buffered: BufWriter<File>, schema: SchemaRef) -> Result<ParquetEncoder> {
        let properties = WriterProperties::builder().set_compression(ParquetCompression::ZSTD(ZstdLevel::try_new(3)?)).build();
        Ok(ParquetEncoder(ArrowWriter::try_new(buffered, schema, Some(properties))?))
    }

    pub(super) fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.0.write(batch)?;
        Ok(())
    }

    /// Writes the footer and hands back the buffered file.
    pub(super) fn finish(self) -> Result<BufWriter<File>> {
        Ok(self.0.into_inner()?)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::Error;
    use crate::write::OutputFormat;
    use crate::write::tests::{sample, write_file};

    #[test]
    fn parquet_round_trips() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        write_file(dir.path(), "t.parquet", OutputFormat::Parquet, false)?;
        let path = dir.path().join("t.parquet");
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let batches = ParquetRecordBatchReaderBuilder::try_new(file)?.build()?.collect::<Result<Vec<_>, _>>()?;
        let read = datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches)?;
        assert_eq!(read, sample());
        Ok(())
    }
}
