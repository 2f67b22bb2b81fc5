//! Streaming table writers: one Arrow schema in, one CSV, NDJSON or Parquet file out, with
//! byte-identical output for identical batches.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::csv;
use datafusion::arrow::datatypes::{
    DataType, Field, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::{self, writer::LineDelimited};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression as ParquetCompression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use flate2::{Compression as GzCompression, GzBuilder, write::GzEncoder};

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
    /// `wrote_header` is tracked because arrow writes the header with the first batch, and an
    /// empty table must still be a valid CSV file with its header.
    Csv {
        writer: Box<csv::Writer<Sink>>,
        text_schema: SchemaRef,
        wrote_header: bool,
    },
    Ndjson {
        writer: json::Writer<Sink, LineDelimited>,
        text_schema: SchemaRef,
    },
    Parquet(ArrowWriter<BufWriter<File>>),
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
            OutputFormat::Csv => Encoder::Csv {
                writer: Box::new(csv::WriterBuilder::new().with_header(true).with_delimiter(b',').build(Sink::new(buffered, gzip))),
                text_schema: text_schema(&schema),
                wrote_header: false,
            },
            OutputFormat::Ndjson => Encoder::Ndjson {
                writer: json::WriterBuilder::new().with_explicit_nulls(true).build(Sink::new(buffered, gzip)),
                text_schema: text_schema(&schema),
            },
            OutputFormat::Parquet => {
                let properties = WriterProperties::builder().set_compression(ParquetCompression::ZSTD(ZstdLevel::try_new(3)?)).build();
                Encoder::Parquet(ArrowWriter::try_new(buffered, schema.clone(), Some(properties))?)
            }
        };
        Ok(TableWriter { path: path.to_path_buf(), schema, rows: 0, encoder })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.check_schema(batch)?;
        let written = match &mut self.encoder {
            Encoder::Csv { writer, text_schema, wrote_header } => {
                *wrote_header = true;
                writer.write(&timestamps_as_text(batch, text_schema)?)
            }
            Encoder::Ndjson { writer, text_schema } => writer.write(&timestamps_as_text(batch, text_schema)?),
            Encoder::Parquet(writer) => {
                writer.write(batch)?;
                Ok(())
            }
        };
        written.map_err(|e| arrow_error(&self.path, e))?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Flushes and closes the file; returns the number of rows written.
    pub fn finish(self) -> Result<u64> {
        let TableWriter { path, rows, encoder, .. } = self;
        let buffered = match encoder {
            Encoder::Csv { mut writer, text_schema, wrote_header } => {
                if !wrote_header {
                    writer.write(&RecordBatch::new_empty(text_schema)).map_err(|e| arrow_error(&path, e))?;
                }
                writer.into_inner().finish().map_err(|e| Error::io(&path, e))?
            }
            Encoder::Ndjson { mut writer, .. } => {
                writer.finish().map_err(|e| arrow_error(&path, e))?;
                writer.into_inner().finish().map_err(|e| Error::io(&path, e))?
            }
            Encoder::Parquet(writer) => writer.into_inner()?,
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
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use flate2::read::GzDecoder;

    use super::*;

    /// 2026-01-05T09:12:33Z in microseconds.
    const T0: i64 = 1_767_604_353_000_000;

    fn sample() -> RecordBatch {
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

    fn write_file(dir: &Path, name: &str, format: OutputFormat, gzip: bool) -> Result<Vec<u8>> {
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
    fn empty_csv_still_has_its_header() -> Result<()> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("empty.csv");
        let writer = TableWriter::create(&path, OutputFormat::Csv, false, sample().schema())?;
        assert_eq!(writer.finish()?, 0);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        assert_eq!(text, "id,at,n,flag\n");
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
