//! The JSON reader: a top-level array of objects, or NDJSON (one object per line), both streamed
//! and optionally gzip-compressed. Scalars become text; nested values become their JSON text.

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::raw::{BATCH_ROWS, RawChunk, RejectCode, RowProblem};
use super::source;
use crate::error::{Error, Result};

const BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn read(path: &Path, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let mut input = source::open(path)?;
    let head = input.fill_buf().map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    if head.starts_with(BOM) {
        input.consume(BOM.len());
    }
    let first = loop {
        let buf = input.fill_buf().map_err(|e| Error::io(path, e))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                input.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    };
    let mut acc = Accumulator::default();
    match first {
        None => {}
        Some(b'[') => read_array(path, input, &mut acc, sink)?,
        Some(b'{') => read_lines(path, input, &mut acc, sink)?,
        Some(_) => {
            return Err(Error::input(path, "not JSON input: expected a top-level array of objects or one object per line (NDJSON)"));
        }
    }
    sink(acc.take())
}

fn read_lines(path: &Path, mut input: Box<dyn BufRead + Send>, acc: &mut Accumulator, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let mut line = Vec::new();
    let mut line_no = 0u64;
    let mut row = 0u64;
    loop {
        line.clear();
        let n = input.read_until(b'\n', &mut line).map_err(|e| Error::input(path, format!("cannot read line {}: {e}", line_no + 1)))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        row += 1;
        match serde_json::from_slice::<Value>(&line) {
            Ok(value) => acc.push(row, Some(line_no), value),
            Err(e) if row == 1 => {
                return Err(Error::input(path, format!("not NDJSON: line {line_no} is not a JSON value ({e})")));
            }
            Err(e) => acc.malformed.push(RowProblem {
                row,
                line: Some(line_no),
                column: String::new(),
                value: String::from_utf8_lossy(&line).chars().take(80).collect(),
                code: RejectCode::MalformedRow,
                id: None,
                reason: format!("not valid JSON: {e}"),
            }),
        }
        if acc.len() >= BATCH_ROWS {
            sink(acc.take())?;
        }
    }
    Ok(())
}

fn read_array(path: &Path, input: Box<dyn BufRead + Send>, acc: &mut Accumulator, sink: &mut dyn FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut stopped = None;
    let seed = ArraySeed { acc, sink, stopped: &mut stopped };
    let parsed = seed.deserialize(&mut de).and_then(|()| de.end());
    if let Some(err) = stopped {
        return Err(err);
    }
    parsed.map_err(|e| Error::input(path, format!("not valid JSON at line {}, column {}: {e}", e.line(), e.column())))
}

/// Streams the elements of the top-level array into the accumulator without holding the array.
struct ArraySeed<'a> {
    acc: &'a mut Accumulator,
    sink: &'a mut dyn FnMut(RawChunk) -> Result<()>,
    stopped: &'a mut Option<Error>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut row = 0u64;
        while let Some(value) = seq.next_element::<Value>()? {
            row += 1;
            self.acc.push(row, None, value);
            if self.acc.len() >= BATCH_ROWS
                && let Err(e) = (self.sink)(self.acc.take())
            {
                *self.stopped = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

#[derive(Default)]
struct Accumulator {
    records: Vec<(u64, Option<u64>, Map<String, Value>)>,
    malformed: Vec<RowProblem>,
}

impl Accumulator {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn push(&mut self, row: u64, line: Option<u64>, value: Value) {
        match value {
            Value::Object(map) => self.records.push((row, line, map)),
            other => self.malformed.push(RowProblem {
                row,
                line,
                column: String::new(),
                value: other.to_string().chars().take(80).collect(),
                code: RejectCode::MalformedRow,
                id: None,
                reason: "not a JSON object; every record must be an object of field: value".into(),
            }),
        }
    }

    /// Builds a batch whose columns are the keys seen in these records, in first-seen order.
    fn take(&mut self) -> RawChunk {
        let records = std::mem::take(&mut self.records);
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut names: Vec<String> = Vec::new();
        for (_, _, map) in &records {
            for key in map.keys() {
                if !index.contains_key(key) {
                    index.insert(key.clone(), names.len());
                    names.push(key.clone());
                }
            }
        }
        let mut builders: Vec<StringBuilder> = names.iter().map(|_| StringBuilder::new()).collect();
        let mut rows = Vec::with_capacity(records.len());
        let mut lines = Vec::with_capacity(records.len());
        for (row, line, map) in &records {
            for (name, builder) in names.iter().zip(builders.iter_mut()) {
                match map.get(name) {
                    None | Some(Value::Null) => builder.append_null(),
                    Some(Value::String(s)) => builder.append_value(s),
                    Some(other) => builder.append_value(other.to_string()),
                }
            }
            rows.push(*row);
            if let Some(l) = line {
                lines.push(*l);
            }
        }
        let schema = Arc::new(Schema::new(names.iter().map(|n| Field::new(n, DataType::Utf8, true)).collect::<Vec<_>>()));
        let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let batch =
            RecordBatch::try_new_with_options(schema, arrays, &datafusion::arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows.len())))
                .expect("columns are built with one value per record");
        RawChunk { batch, rows, lines, malformed: std::mem::take(&mut self.malformed), complete_schema: false }
    }
}
