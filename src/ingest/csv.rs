//! The CSV reader: any delimiter (or sniffed), quoting, UTF-8 BOM, Latin-1, gzip. Every record
//! becomes a row of text columns or a `malformed_row` reject; nothing is skipped silently.

use std::borrow::Cow;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;

use super::profile::TableRules;
use super::raw::{BATCH_ROWS, RawChunk, RejectCode, RowProblem};
use super::source;
use crate::error::{Error, Result};

const BOM: &[u8] = b"\xEF\xBB\xBF";
const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

pub fn read(path: &Path, rules: &TableRules, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let mut input = source::open(path)?;
    let head = input.fill_buf().map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    if head.starts_with(BOM) {
        input.consume(BOM.len());
    }
    let delimiter = match rules.delimiter {
        Some(d) => d,
        None => sniff_delimiter(input.fill_buf().map_err(|e| Error::io(path, e))?, rules.quote),
    };
    let mut reader = ::csv::ReaderBuilder::new().delimiter(delimiter).quote(rules.quote).has_headers(false).flexible(true).from_reader(input);

    let mut record = ::csv::ByteRecord::new();
    let has_header = reader.read_byte_record(&mut record).map_err(|e| Error::input(path, format!("cannot read the header row: {e}")))?;
    if !has_header {
        return Err(Error::input(path, "the file is empty: a CSV input needs a header row"));
    }
    let mut names = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let name = decode(field, rules.latin1)
            .ok_or_else(|| Error::input(path, format!("header field {} is not valid UTF-8; set parse.encoding = \"latin1\" or re-export as UTF-8", i + 1)))?;
        names.push(name.trim().to_string());
    }
    // Exports often end every line with the separator: trailing unnamed columns carry nothing.
    while names.len() > 1 && names.last().is_some_and(String::is_empty) {
        names.pop();
    }
    let schema: SchemaRef = Arc::new(Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>()));

    let mut chunk = ChunkBuilder::new(schema.clone());
    let mut row: u64 = 0;
    let mut emitted = false;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| Error::input(path, format!("cannot read after record {row}: {e}")))?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        if record.len() == 1 && record[0].is_empty() && names.len() > 1 {
            continue; // a blank line is not a record
        }
        row += 1;
        let mut fields = Vec::with_capacity(names.len());
        match split_record(&record, &names, rules.latin1, &mut fields) {
            Ok(()) => chunk.push(row, line, &fields),
            Err((column, value, reason)) => {
                chunk.malformed.push(RowProblem { row, line: Some(line), column, value, code: RejectCode::MalformedRow, reason, id: None })
            }
        }
        if chunk.len() >= BATCH_ROWS {
            let full = std::mem::replace(&mut chunk, ChunkBuilder::new(schema.clone()));
            sink(full.finish()?)?;
            emitted = true;
        }
    }
    if !emitted || chunk.len() > 0 || !chunk.malformed.is_empty() {
        sink(chunk.finish()?)?;
    }
    Ok(())
}

type Problem = (String, String, String);

/// A field as text: borrowed when it is UTF-8, decoded when the file is Latin-1.
fn decode(bytes: &[u8], latin1: bool) -> Option<Cow<'_, str>> {
    if latin1 { Some(Cow::Owned(bytes.iter().map(|&b| b as char).collect())) } else { std::str::from_utf8(bytes).ok().map(Cow::Borrowed) }
}

/// The record's fields as text into `fields`, or why the record cannot be a row.
fn split_record<'r>(record: &'r ::csv::ByteRecord, names: &[String], latin1: bool, fields: &mut Vec<Cow<'r, str>>) -> std::result::Result<(), Problem> {
    let expected = names.len();
    let extra_has_data = record.iter().skip(expected).any(|f| !f.iter().all(u8::is_ascii_whitespace));
    if record.len() < expected || extra_has_data {
        let preview = String::from_utf8_lossy(record.as_slice()).chars().take(80).collect();
        return Err((String::new(), preview, format!("the row has {} fields but the header has {expected}; check the delimiter and quoting", record.len())));
    }
    for (i, bytes) in record.iter().take(expected).enumerate() {
        match decode(bytes, latin1) {
            Some(s) => fields.push(s),
            None => {
                return Err((
                    names[i].clone(),
                    String::from_utf8_lossy(bytes).into_owned(),
                    "not valid UTF-8; set parse.encoding = \"latin1\" or re-export as UTF-8".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The candidate that occurs most often outside quotes in the first line; comma on a tie.
fn sniff_delimiter(head: &[u8], quote: u8) -> u8 {
    let mut counts = [0usize; CANDIDATE_DELIMITERS.len()];
    let mut quoted = false;
    for &b in head {
        if b == quote {
            quoted = !quoted;
        } else if !quoted && (b == b'\n' || b == b'\r') {
            break;
        } else if !quoted && let Some(i) = CANDIDATE_DELIMITERS.iter().position(|&d| d == b) {
            counts[i] += 1;
        }
    }
    let best = (0..counts.len()).max_by_key(|&i| (counts[i], usize::MAX - i)).unwrap_or(0);
    if counts[best] == 0 { b',' } else { CANDIDATE_DELIMITERS[best] }
}

struct ChunkBuilder {
    schema: SchemaRef,
    columns: Vec<StringBuilder>,
    rows: Vec<u64>,
    lines: Vec<u64>,
    malformed: Vec<RowProblem>,
}

impl ChunkBuilder {
    fn new(schema: SchemaRef) -> Self {
        let columns = schema.fields().iter().map(|_| StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)).collect();
        ChunkBuilder { schema, columns, rows: Vec::new(), lines: Vec::new(), malformed: Vec::new() }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }

    fn push(&mut self, row: u64, line: u64, fields: &[Cow<str>]) {
        for (builder, value) in self.columns.iter_mut().zip(fields) {
            builder.append_value(value);
        }
        self.rows.push(row);
        self.lines.push(line);
    }

    fn finish(mut self) -> Result<RawChunk> {
        let arrays: Vec<ArrayRef> = self.columns.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let batch = RecordBatch::try_new(self.schema, arrays)?;
        Ok(RawChunk { batch, rows: self.rows, lines: self.lines, malformed: self.malformed, complete_schema: true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_common_delimiters() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2;3;4;5", b'"'), b',');
        assert_eq!(sniff_delimiter(b"a;b;\"x,y,z\";c\n", b'"'), b';');
        assert_eq!(sniff_delimiter(b"a\tb\tc", b'"'), b'\t');
        assert_eq!(sniff_delimiter(b"single", b'"'), b',');
    }
}
