//! Streaming table writers: one Arrow schema in, one CSV, NDJSON or Parquet file out, with
//! byte-identical output for identical batches. This module owns the format choice, the writer
//! that drives a format's encoder (one module per format), and what the text formats share: the
//! byte sink (plain or gzip) and timestamps rendered as RFC 3339 text.

mod csv;
mod ndjson;
mod parquet;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::arrow::error::ArrowError;
use flate2::{Compression as GzCompression, GzBuilder, write::GzEncoder};

use self::csv::CsvEncoder;
use self::ndjson::NdjsonEncoder;
use self::parquet::ParquetEncoder;
use crate::{Error, Result};

/// Large enough that a batch reaches the file in a few system calls.
const BUFFER_BYTES: usize = 1 << 20;

/// The gzip header's "unknown operating system" value; fixed so output does not depend on the
/// platform that wrote it.
const GZIP_OS_UNKNOWN: u8 = 255;

/// A file format a table can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    Ndjson,
    Parquet,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 3] = [OutputFormat::Csv, OutputFormat::Ndjson, OutputFormat::Parquet];

    /// The file extension, without the dot and without any `.gz`.
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Ndjson => "ndjson",
            OutputFormat::Parquet => "parquet",
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for OutputFormat {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        OutputFormat::ALL
            .into_iter()
            .find(|f| f.extension() == s)
            .ok_or_else(|| Error::Usage(format!("unknown format {s:?}; expected one of csv, ndjson, parquet")))
    }
}

/// Writes record batches of one schema to one file. Batches stream through: nothing is held
/// beyond the format's own buffers.
pub struct TableWriter {
    path: PathBuf,
    schema: SchemaRef,
    rows: u64,
    encoder: Encoder,
}

enum Encoder {
    Csv(CsvEncoder),
    Ndjson(NdjsonEncoder),
    Parquet(ParquetEncoder),
}

impl TableWriter {
    /// Creates (or truncates) `path`. `gzip` applies to CSV and NDJSON only: a Parquet file
    /// compresses internally, so asking for both is a usage error.
    pub fn create(path: &Path, format: OutputFormat, gzip: bool, schema: SchemaRef) -> Result<Self> {
        if gzip && format == OutputFormat::Parquet {
            return Err(Error::Usage("--gzip applies to csv and ndjson only; parquet compresses internally".into()));
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let buffered = BufWriter::with_capacity(BUFFER_BYTES, file);
        let encoder = match format {
            OutputFormat::Csv => Encoder::Csv(CsvEncoder::new(Sink::new(buffered, gzip), &schema)),
            OutputFormat::Ndjson => Encoder::Ndjson(NdjsonEncoder::new(Sink::new(buffered, gzip), &schema)),
            OutputFormat::Parquet => Encoder::Parquet(ParquetEncoder::new(buffered, schema.clone())?),
        };
        Ok(TableWriter { path: path.to_path_buf(), schema, rows: 0, encoder })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.check_schema(batch)?;
        match &mut self.encoder {
            Encoder::Csv(encoder) => encoder.write(batch, &self.path)?,
            Encoder::Ndjson(encoder) => encoder.write(batch, &self.path)?,
            Encoder::Parquet(encoder) => encoder.write(batch)?,
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Flushes and closes the file; returns the number of rows written.
    pub fn finish(self) -> Result<u64> {
        let TableWriter { path, rows, encoder, .. } = self;
        let buffered = match encoder {
            Encoder::Csv(encoder) => encoder.finish(&path)?,
            Encoder::Ndjson(encoder) => encoder.finish(&path)?,
            Encoder::Parquet(encoder) => encoder.finish()?,
        };
        buffered.into_inner().map_err(|e| Error::io(&path, e.into_error()))?;
        Ok(rows)
    }

    fn check_schema(&self, batch: &RecordBatch) -> Result<()> {
        let expected = self.schema.fields();
        let actual = batch.schema_ref().fields();
        let same = expected.len() == actual.len() && expected.iter().zip(actual.iter()).all(|(e, a)| e.name() == a.name() && e.data_type() == a.data_type());
        if same {
            Ok(())
        } else {
            Err(Error::Arrow(ArrowError::SchemaError(format!(
                "{}: batch schema {:?} does not match the file's schema {:?}",
                self.path.display(),
                batch.schema(),
                self.schema
            ))))
        }
    }
}

/// The byte stream under the CSV and NDJSON encoders: the buffered file, gzipped or not.
enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl Sink {
    fn new(file: BufWriter<File>, gzip: bool) -> Sink {
        if gzip {
            // Fixed header fields (no mtime, no file name, unknown OS) keep the bytes reproducible.
            let encoder = GzBuilder::new().mtime(0).operating_system(GZIP_OS_UNKNOWN).write(file, GzCompression::default());
            Sink::Gzip(Box::new(encoder))
        } else {
            Sink::Plain(file)
        }
    }

    /// Ends the gzip stream, if any, and hands back the buffered file for its final flush.
    fn finish(self) -> io::Result<BufWriter<File>> {
        match self {
            Sink::Plain(file) => Ok(file),
            Sink::Gzip(encoder) => (*encoder).finish(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Plain(file) => file.write(buf),
            Sink::Gzip(encoder) => encoder.write(buf),
        }
    }

    /// Deliberately does nothing. Arrow's CSV writer flushes after every batch and unwraps one
    /// more flush inside `into_inner`; deferring the real flush to [`Sink::finish`] keeps an I/O
    /// error there a `Result` rather than a panic, and keeps gzip from emitting a sync-flush
    /// block per batch.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Attributes an I/O failure inside an arrow writer to the file being written.
fn arrow_error(path: &Path, e: ArrowError) -> Error {
    match e {
        ArrowError::IoError(_, source) => Error::io(path, source),
        other => Error::Arrow(other),
    }
}

/// The schema as written to text formats: every timestamp column becomes RFC 3339 text.
fn text_schema(schema: &Schema) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(..) => f.as_ref().clone().with_data_type(DataType::Utf8),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Replaces timestamp columns with our own text, because arrow's default rendering
/// (`2026-01-05T09:12:33+00:00`, always with a fraction when the unit is sub-second) is not
/// the canonical `2026-01-05T09:12:33Z`.
fn timestamps_as_text(batch: &RecordBatch, text_schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            DataType::Timestamp(unit, _) => rfc3339_column(column, *unit),
            _ => Ok(column.clone()),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(text_schema.clone(), columns)?)
}

/// RFC 3339 in UTC with a `Z`, with a fraction only when the sub-second part is non-zero. The
/// instant is what is written, whatever time zone the column is tagged with.
fn rfc3339_column(column: &ArrayRef, unit: TimeUnit) -> Result<ArrayRef> {
    type ToInstant = fn(i64) -> Option<DateTime<Utc>>;
    let (values, to_instant): (&[i64], ToInstant) = match unit {
        TimeUnit::Second => (column.as_primitive::<TimestampSecondType>().values(), |v| DateTime::from_timestamp(v, 0)),
        TimeUnit::Millisecond => (column.as_primitive::<TimestampMillisecondType>().values(), DateTime::from_timestamp_millis),
        TimeUnit::Microsecond => (column.as_primitive::<TimestampMicrosecondType>().values(), DateTime::from_timestamp_micros),
        TimeUnit::Nanosecond => (column.as_primitive::<TimestampNanosecondType>().values(), |v| Some(DateTime::from_timestamp_nanos(v))),
    };
    let mut text = StringBuilder::with_capacity(values.len(), values.len() * 24);
    for (i, &value) in values.iter().enumerate() {
        if column.is_null(i) {
            text.append_null();
            continue;
        }
        let instant = to_instant(value).ok_or_else(|| ArrowError::ComputeError(format!("timestamp {value} ({unit:?}) is out of range")))?;
        text.append_value(crate::time::format_instant(instant));
    }
    Ok(Arc::new(text.finish()))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use datafusion::arrow::array::{BooleanArray, Int64Array, StringArray, TimestampMicrosecondArray};
    use flate2::read::GzDecoder;

    use super::*;

    /// 2026-01-05T09:12:33Z in microseconds.
    const T0: i64 = 1_767_604_353_000_000;

    pub(super) fn sample() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("at", crate::model::timestamp_type(), true),
            Field::new("n", DataType::Int64, true),
            Field::new("flag", DataType::Boolean, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec!["a,b", "say \"hi\"", "plain"])),
            Arc::new(TimestampMicrosecondArray::from(vec![Some(T0), Some(T0 + 250_000), None]).with_timezone(crate::model::UTC)),
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])),
        ];
        RecordBatch::try_new(schema, columns).expect("valid sample batch")
    }

    pub(super) fn write_file(dir: &Path, name: &str, format: OutputFormat, gzip: bool) -> Result<Vec<u8>> {
        let batch = sample();
        let path = dir.join(name);
        let mut writer = TableWriter::create(&path, format, gzip, batch.schema())?;
        writer.write(&batch.slice(0, 2))?;
        writer.write(&batch.slice(2, 1))?;
        assert_eq!(writer.finish()?, 3);
        std::fs::read(&path).map_err(|e| Error::io(&path, e))
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        GzDecoder::new(bytes).read_to_string(&mut text).expect("valid gzip");
        text
    }

    #[test]
    fn gzip_wraps_the_same_text_without_time_or_name() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        for format in [OutputFormat::Csv, OutputFormat::Ndjson] {
            let plain = write_file(dir.path(), "plain", format, false)?;
            let gz = write_file(dir.path(), "gz", format, true)?;
            assert_eq!(gunzip(&gz).as_bytes(), plain.as_slice(), "{format}");
            assert_eq!(gz[3], 0, "{format}: no optional header fields such as a file name");
            assert_eq!(&gz[4..8], &[0, 0, 0, 0], "{format}: mtime is zero");
        }
        Ok(())
    }

    #[test]
    fn same_batches_give_identical_bytes_in_every_format() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        for format in OutputFormat::ALL {
            for gzip in [false, true] {
                if gzip && format == OutputFormat::Parquet {
                    continue;
                }
                let first = write_file(dir.path(), "a", format, gzip)?;
                let second = write_file(dir.path(), "b", format, gzip)?;
                assert!(!first.is_empty());
                assert_eq!(first, second, "{format} gzip={gzip}");
            }
        }
        Ok(())
    }

    #[test]
    fn gzip_with_parquet_is_a_usage_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.parquet");
        let result = TableWriter::create(&path, OutputFormat::Parquet, true, sample().schema());
        assert!(matches!(result, Err(Error::Usage(_))));
    }

    #[test]
    fn batch_with_another_schema_is_refused() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.csv");
        let other = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let mut writer = TableWriter::create(&path, OutputFormat::Csv, false, other)?;
        assert!(writer.write(&sample()).is_err());
        Ok(())
    }

    #[test]
    fn format_parses_its_extension_only() {
        for format in OutputFormat::ALL {
            assert_eq!(format.extension().parse::<OutputFormat>().ok(), Some(format));
        }
        let err = "xlsx".parse::<OutputFormat>().expect_err("xlsx is not a format");
        assert!(err.to_string().contains("csv, ndjson, parquet"), "{err}");
    }
}
