//! Conversion of source rows into canonical rows: column mapping, value maps, null and boolean
//! tokens, typed parsing and domain checks, then the timestamps against each other (`ordering`).
//! Every row comes out either canonical or as a reject with its column, value and reason.

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringArray};
use datafusion::arrow::compute::{cast, filter};
use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use super::fields::{FieldParser, parse_number, suggestion};
use super::profile::{DedupKind, MissingColumns, TableProfile, TableRules, UnknownColumns, field_names};
use super::raw::{RawChunk, RejectCode, RowProblem};
use super::typed::Typed;
use super::version_key::KeyValue;
use crate::error::{Error, Result};
use crate::model::{FieldSpec, Table};

/// Converts the chunks of one file for one table.
pub struct Converter<'a> {
    pub table: Table,
    pub table_profile: &'a TableProfile,
    pub rules: &'a TableRules,
    pub as_of: Option<i64>,
    pub path: &'a Path,
    /// Milestones derived from a status history rather than read from a column: one earlier
    /// than `opened_at` (an audit row older than an edited opened_at) is clamped to it, not
    /// rejected.
    pub derived: &'a [String],
}

/// The accepted rows of a chunk in canonical form, and the rejected ones.
pub struct Converted {
    pub batch: RecordBatch,
    /// Record number in the file of each accepted row.
    pub rows: Vec<u64>,
    /// Line of each accepted row, where the format has lines; otherwise empty.
    pub lines: Vec<u64>,
    /// Per accepted row, its dedup sort key (empty when the table is not deduplicated).
    pub dedup_keys: Vec<Vec<KeyValue>>,
    /// Rejected rows, in file order.
    pub rejects: Vec<RowProblem>,
    /// Mapped fields whose column the file does not have (with `missing_columns = "null"`), and the
    /// column names the profile looked for: every row reads them as null.
    pub absent: Vec<(&'static str, Vec<String>)>,
    /// Derived milestones clamped to `opened_at`, counted per field over the accepted rows.
    pub clamped: BTreeMap<String, u64>,
}

/// The first problem found in each row of a chunk; later problems of the same row are not kept.
pub(super) struct Problems<'c> {
    slots: Vec<Option<RowProblem>>,
    rows: &'c [u64],
    lines: &'c [u64],
    /// The source's id of each row, as text, where the table maps a column to `id`.
    ids: Option<StringArray>,
}

impl<'c> Problems<'c> {
    fn new(chunk: &'c RawChunk, ids: Option<StringArray>) -> Self {
        Problems { slots: vec![None; chunk.batch.num_rows()], rows: &chunk.rows, lines: &chunk.lines, ids }
    }

    pub(super) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn is_clear(&self, i: usize) -> bool {
        self.slots[i].is_none()
    }

    pub(super) fn flag(&mut self, i: usize, column: &str, value: &str, code: RejectCode, reason: String) {
        if self.slots[i].is_none() {
            let id = self.ids.as_ref().and_then(|ids| source_id(ids, i));
            self.slots[i] = Some(RowProblem {
                row: self.rows[i],
                line: self.lines.get(i).copied(),
                column: column.to_string(),
                value: value.to_string(),
                code,
                reason,
                id,
            });
        }
    }

    /// Keeps the values of the rows without a problem.
    fn accepted<T: Clone>(&self, values: &[T]) -> Vec<T> {
        values.iter().zip(&self.slots).filter(|(_, p)| p.is_none()).map(|(v, _)| v.clone()).collect()
    }
}

/// Row `i`'s id as the source wrote it, trimmed; None when empty.
pub fn source_id(ids: &StringArray, i: usize) -> Option<String> {
    ids.is_valid(i).then(|| ids.value(i).trim()).filter(|v| !v.is_empty()).map(str::to_string)
}

/// A source column as text, without a copy when it already is text.
pub fn text_column(array: &ArrayRef) -> Result<StringArray> {
    Ok(if array.data_type() == &DataType::Utf8 { array.as_string::<i32>().clone() } else { cast(array, &DataType::Utf8)?.as_string::<i32>().clone() })
}

enum FieldSource {
    Column(usize),
    Constant(String),
    Absent,
}

impl<'a> Converter<'a> {
    pub fn convert(&self, chunk: RawChunk) -> Result<Converted> {
        let schema = chunk.batch.schema();
        let sources = self.resolve(&schema, &chunk)?;
        let n = chunk.batch.num_rows();
        let ids = match sources.first() {
            Some(FieldSource::Column(i)) => Some(text_column(chunk.batch.column(*i))?),
            _ => None,
        };
        let mut problems = Problems::new(&chunk, ids);

        let fields = self.table.fields();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(fields.len());
        let mut column_names: Vec<String> = Vec::with_capacity(fields.len());
        for (spec, source) in fields.iter().zip(&sources) {
            // Typed columns (Parquet, JSON numbers and booleans, derived event logs) convert with
            // Arrow kernels, not through text, wherever the text path could not give another answer.
            if let FieldSource::Column(i) = source {
                let column = schema.field(*i).name().clone();
                let typed = Typed { spec, table: self.table, rules: self.rules };
                let converted =
                    typed.convert(chunk.batch.column(*i), &mut |row, value: &str, code, reason| problems.flag(row, &column, value, code, reason))?;
                if let Some(array) = converted {
                    arrays.push(array);
                    column_names.push(column);
                    continue;
                }
            }
            let (text, column): (Option<StringArray>, String) = match source {
                FieldSource::Column(i) => (Some(text_column(chunk.batch.column(*i))?), schema.field(*i).name().clone()),
                FieldSource::Constant(_) => (None, format!("constants.{}", spec.name)),
                FieldSource::Absent => (None, spec.name.to_string()),
            };
            let constant = match source {
                FieldSource::Constant(c) => Some(c.as_str()),
                _ => None,
            };
            let cell = |i: usize| -> Option<&str> {
                match &text {
                    Some(t) if t.is_null(i) => None,
                    Some(t) => Some(t.value(i)),
                    None => constant,
                }
            };
            let parser = FieldParser { spec, table: self.table, rules: self.rules, value_map: self.rules.value_maps.get(spec.name) };
            if let Some(array) = text.as_ref().and_then(|t| parser.as_is(t)) {
                arrays.push(array);
                column_names.push(column);
                continue;
            }
            let array = parser.build(n, &cell, &mut |i, value: &str, code, reason| problems.flag(i, &column, value, code, reason));
            arrays.push(array);
            column_names.push(column);
        }

        let clamped_rows = self.clamp_derived(&mut arrays, &problems);
        self.check_ordering(&mut arrays, &column_names, &mut problems)?;
        let dedup_keys = self.dedup_keys(&chunk, &schema, &mut problems)?;
        // Counted among the rows that are loaded: a clamped ticket rejected for another reason
        // is in the rejects, not here.
        let clamped: BTreeMap<String, u64> = clamped_rows
            .into_iter()
            .map(|(field, rows)| (field, rows.into_iter().filter(|&row| problems.is_clear(row)).count() as u64))
            .filter(|(_, n)| *n > 0)
            .collect();

        // Rejected rows hold nulls even in required fields, so filter before imposing the schema.
        let keep: BooleanArray = problems.slots.iter().map(|p| Some(p.is_none())).collect();
        let columns = arrays.iter().map(|a| filter(a, &keep)).collect::<std::result::Result<Vec<_>, _>>()?;
        let batch = RecordBatch::try_new(self.table.schema(), columns)?;
        let rows = problems.accepted(&chunk.rows);
        let lines = if chunk.lines.is_empty() { Vec::new() } else { problems.accepted(&chunk.lines) };
        let dedup_keys = dedup_keys.map(|keys| problems.accepted(&keys)).unwrap_or_default();
        let absent = if chunk.complete_schema {
            let mapped_but_absent = |(spec, source): (&FieldSpec, &FieldSource)| match (source, self.table_profile.columns.get(spec.name)) {
                (FieldSource::Absent, Some(mapping)) => Some((spec.name, mapping.candidates().to_vec())),
                _ => None,
            };
            fields.iter().zip(&sources).filter_map(mapped_but_absent).collect()
        } else {
            Vec::new()
        };
        let mut rejects: Vec<RowProblem> = problems.slots.into_iter().flatten().collect();
        rejects.extend(chunk.malformed);
        rejects.sort_by_key(|p| p.row);
        Ok(Converted { batch, rows, lines, dedup_keys, rejects, absent, clamped })
    }

    /// Which source feeds each canonical field. A CSV or Parquet file whose columns do not fit the
    /// profile is an error for the whole file, because every row would fail the same way.
    fn resolve(&self, schema: &Schema, chunk: &RawChunk) -> Result<Vec<FieldSource>> {
        let tp = self.table_profile;
        let find = |name: &str| schema.fields().iter().position(|f| f.name() == name);
        let mut used = vec![false; schema.fields().len()];
        let mut sources = Vec::new();
        for spec in self.table.fields() {
            let source = if let Some(mapping) = tp.columns.get(spec.name) {
                match mapping.index_in(schema) {
                    Some(i) => FieldSource::Column(i),
                    None if chunk.complete_schema && tp.missing_columns == MissingColumns::Error => {
                        return Err(self.column_error(
                            schema,
                            format!("column {} (mapped to {}.{}) is not in the file", quote_list(mapping.candidates()), self.table, spec.name),
                        ));
                    }
                    None => FieldSource::Absent,
                }
            } else if let Some(value) = self.rules.constants.get(spec.name) {
                FieldSource::Constant(value.clone())
            } else if let Some(i) = find(spec.name).filter(|_| tp.auto_columns) {
                FieldSource::Column(i)
            } else {
                FieldSource::Absent
            };
            if let FieldSource::Column(i) = source {
                used[i] = true;
            }
            if spec.required && matches!(source, FieldSource::Absent) && chunk.complete_schema {
                return Err(self.column_error(
                    schema,
                    format!(
                        "no column for the required field {}.{}; name a column `{}` or map one in [tables.{}.columns]",
                        self.table, spec.name, spec.name, self.table
                    ),
                ));
            }
            sources.push(source);
        }
        if let Some(dedup) = &tp.dedup {
            for key in &dedup.order_by {
                if let Some(i) = find(&key.column) {
                    used[i] = true;
                } else if chunk.complete_schema {
                    return Err(self.column_error(schema, format!("dedup column `{}` is not in the file", key.column)));
                }
            }
        }
        self.check_repeated(schema, &used)?;
        if tp.unknown_columns == UnknownColumns::Error {
            for (i, f) in schema.fields().iter().enumerate() {
                if used[i] || f.name().is_empty() {
                    continue;
                }
                let near = suggestion(f.name(), self.table);
                let at = if chunk.complete_schema {
                    String::new()
                } else {
                    let first = (0..chunk.batch.num_rows()).find(|&r| chunk.batch.column(i).is_valid(r));
                    first.map(|r| format!(" (in record {})", chunk.rows[r])).unwrap_or_default()
                };
                return Err(Error::input(
                    self.path,
                    format!("unknown column `{}`{at}{near}; {} columns are: {}", f.name(), self.table, field_names(self.table)),
                ));
            }
        }
        Ok(sources)
    }

    /// A column named twice in a header is an error where it matters: where the profile maps it
    /// (which copy would it mean?) or where every column must be known. Columns the profile lists in
    /// `repeated_columns` may repeat, and their first copy is used.
    fn check_repeated(&self, schema: &Schema, used: &[bool]) -> Result<()> {
        let tp = self.table_profile;
        let mut positions: std::collections::HashMap<&str, Vec<usize>> = std::collections::HashMap::new();
        for (i, f) in schema.fields().iter().enumerate() {
            positions.entry(f.name().as_str()).or_default().push(i);
        }
        let mut repeated: Vec<(&str, Vec<usize>)> = positions.into_iter().filter(|(name, at)| at.len() > 1 && !name.is_empty()).collect();
        repeated.sort_by_key(|(_, at)| at[0]);
        for (name, at) in repeated {
            let allowed = tp.repeated_columns.iter().any(|r| r == name);
            let matters = used[at[0]] || tp.unknown_columns == UnknownColumns::Error;
            if allowed || !matters {
                continue;
            }
            let mut places: Vec<String> = at.iter().map(|i| (i + 1).to_string()).collect();
            let last = places.pop().expect("a repeated column has two places");
            let places = format!("{} and {last}", places.join(", "));
            return Err(Error::input(
                self.path,
                format!(
                    "column `{name}` appears {} times in the header (columns {}); name each column once, or list it in [tables.{}].repeated_columns if the export repeats it on purpose (the first is then used)",
                    at.len(),
                    places,
                    self.table
                ),
            ));
        }
        Ok(())
    }

    fn column_error(&self, schema: &Schema, what: String) -> Error {
        let have: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        Error::input(self.path, format!("{what}; the file has columns: {}", have.join(", ")))
    }

    fn dedup_keys(&self, chunk: &RawChunk, schema: &Schema, problems: &mut Problems) -> Result<Option<Vec<Vec<KeyValue>>>> {
        let Some(dedup) = &self.table_profile.dedup else { return Ok(None) };
        let n = chunk.batch.num_rows();
        let mut keys: Vec<Vec<KeyValue>> = vec![Vec::with_capacity(dedup.order_by.len()); n];
        for key in &dedup.order_by {
            let text = match schema.fields().iter().position(|f| f.name() == &key.column) {
                Some(i) => Some(cast(chunk.batch.column(i), &DataType::Utf8)?.as_string::<i32>().clone()),
                None => None,
            };
            for (row, row_keys) in keys.iter_mut().enumerate() {
                let raw = text.as_ref().filter(|t| t.is_valid(row)).map(|t| t.value(row).trim());
                let value = match raw {
                    None => Some(KeyValue::Null),
                    Some(s) if self.rules.null_tokens.contains(s) => Some(KeyValue::Null),
                    Some(s) => match key.kind {
                        DedupKind::Timestamp => self.rules.timestamps.parse(s).map(KeyValue::Int),
                        DedupKind::Number => parse_number(s, self.rules.decimal_comma).map(KeyValue::Float),
                        DedupKind::Text => Some(KeyValue::Text(s.to_string())),
                    },
                };
                match value {
                    Some(v) => row_keys.push(v),
                    None => {
                        row_keys.push(KeyValue::Null);
                        let reason = format!("dedup key `{}` is not a {:?}, so the row's version cannot be ordered", key.column, key.kind);
                        problems.flag(row, &key.column, raw.unwrap_or_default(), RejectCode::BadDedupKey, reason);
                    }
                }
            }
        }
        Ok(Some(keys))
    }
}

fn quote_list(names: &[String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(" or ")
}
