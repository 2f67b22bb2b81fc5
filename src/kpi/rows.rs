//! A KPI's result rows: held as JSON objects (`Rows`) or left in the query's batches until they
//! are written (`BatchRows`), visited one at a time either way, and how mttx names a row by its
//! keys.

use datafusion::arrow::json::{WriterBuilder, writer::JsonArray};
use datafusion::arrow::record_batch::RecordBatch;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::Result;

/// A KPI's result rows as the document holds them: one object per row, column name → value.
pub type Rows = Vec<Map<String, Value>>;

/// The batches' rows as objects, nulls written out.
pub(super) fn rows(batches: &[RecordBatch]) -> Result<Rows> {
    let mut buffer = Vec::new();
    {
        let mut writer = WriterBuilder::new().with_explicit_nulls(true).build::<_, JsonArray>(&mut buffer);
        let refs: Vec<&RecordBatch> = batches.iter().collect();
        writer.write_batches(&refs)?;
        writer.finish()?;
    }
    if buffer.is_empty() {
        return Ok(Vec::new());
    }
    Ok(serde_json::from_slice(&buffer)?)
}

/// A KPI's result rows left in the run's batches, made objects one batch at a time as they are
/// written.
#[derive(Debug, Clone, Copy)]
pub struct BatchRows<'a>(pub &'a [RecordBatch]);

/// Rows that can be visited one object at a time, however they are held.
pub trait EachRow {
    fn each_row(&self, visit: &mut dyn FnMut(&Map<String, Value>) -> Result<()>) -> Result<()>;
}

impl EachRow for Rows {
    fn each_row(&self, visit: &mut dyn FnMut(&Map<String, Value>) -> Result<()>) -> Result<()> {
        self.iter().try_for_each(visit)
    }
}

impl BatchRows<'_> {
    /// Each batch's rows as objects, one batch at a time.
    fn per_batch(&self) -> impl Iterator<Item = Result<Rows>> + '_ {
        self.0.iter().map(|batch| rows(std::slice::from_ref(batch)))
    }
}

impl EachRow for BatchRows<'_> {
    fn each_row(&self, visit: &mut dyn FnMut(&Map<String, Value>) -> Result<()>) -> Result<()> {
        self.per_batch().try_for_each(|objects| objects?.iter().try_for_each(&mut *visit))
    }
}

impl Serialize for BatchRows<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut sequence = serializer.serialize_seq(Some(self.0.iter().map(RecordBatch::num_rows).sum()))?;
        for objects in self.per_batch() {
            objects.map_err(S::Error::custom)?.iter().try_for_each(|row| sequence.serialize_element(row))?;
        }
        sequence.end()
    }
}

/// `month=2026-10,priority=1`: key columns and values, with `\`, `,` and `=` inside values
/// backslash-escaped so that names from the data cannot make two rows' keys equal. The one way
/// mttx names a row, in checks, report comparisons and golden diffs.
pub fn key_text<K: AsRef<str>>(pairs: &[(K, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", k.as_ref(), v.replace('\\', "\\\\").replace(',', "\\,").replace('=', "\\="))).collect::<Vec<_>>().join(",")
}

/// The pairs `key_text` wrote, its escapes undone: `service=Sales\, EMEA` is one pair.
pub fn key_pairs_of(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let (mut current, mut key, mut escaped) = (String::new(), None::<String>, false);
    for c in text.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            '=' if key.is_none() => key = Some(std::mem::take(&mut current)),
            ',' => pairs.extend(key.take().map(|k| (k, std::mem::take(&mut current)))),
            _ => current.push(c),
        }
    }
    pairs.extend(key.map(|k| (k, current)));
    pairs
}

/// A JSON scalar as plain text: strings unquoted, null as empty.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `key_pairs_of` undoes `key_text`, values with `,`, `=` and `\` included, and an empty
    /// value (the group of tickets with none) stays one.
    #[test]
    fn key_text_reads_back_into_its_pairs() {
        let pairs =
            vec![("scope".to_string(), "service".to_string()), ("key".to_string(), "Sales, EMEA = a\\b".to_string()), ("priority".to_string(), String::new())];
        let text = key_text(&pairs);
        assert_eq!(text, "scope=service,key=Sales\\, EMEA \\= a\\\\b,priority=");
        assert_eq!(key_pairs_of(&text), pairs);
        assert!(key_pairs_of("").is_empty());
    }
}
