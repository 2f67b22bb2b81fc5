//! Parsing text cells into one canonical field: trimming, value maps, null, true and false tokens,
//! typed parsing and domain checks. Every cell comes out as a value, a null, or a reject with its
//! reason.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BooleanBuilder, Int64Builder, StringArray, StringBuilder, TimestampMicrosecondBuilder};

use super::profile::{TableRules, ValueMap};
use super::raw::RejectCode;
use super::timestamp::Reading;
use crate::model::{Domain, FieldKind, FieldSpec, Table, UTC};

/// Parses the cells of one canonical field into its Arrow array.
pub struct FieldParser<'a> {
    pub spec: &'a FieldSpec,
    pub table: Table,
    pub rules: &'a TableRules,
    pub value_map: Option<&'a ValueMap>,
}

pub type Report<'r> = dyn FnMut(usize, &str, RejectCode, String) + 'r;

impl FieldParser<'_> {
    /// Trim, then value map, then null tokens: the text the typed parser sees, or None for null.
    fn clean<'v>(&'v self, raw: Option<&'v str>) -> Option<Cow<'v, str>> {
        let s = raw?.trim();
        if let Some(mapped) = self.value_map.and_then(|m| m.get(s)) {
            return (!self.rules.null_tokens.contains(mapped)).then_some(Cow::Borrowed(mapped));
        }
        (!self.rules.null_tokens.contains(s)).then_some(Cow::Borrowed(s))
    }

    /// The source column itself, when it is text that needs no change: every value already
    /// trimmed and none a null token, with no value map or domain to apply, and no value missing
    /// where one is required. Most columns of a clean export are, and skip the copy.
    pub fn as_is(&self, text: &StringArray) -> Option<ArrayRef> {
        let plain = self.spec.kind == FieldKind::Text
            && !matches!(self.spec.domain, Domain::OneOf(_))
            && self.value_map.is_none()
            && !self.rules.allowed.contains_key(self.spec.name)
            && !(self.spec.required && text.null_count() > 0);
        let trimmed = |v: &str| !v.starts_with(char::is_whitespace) && !v.ends_with(char::is_whitespace);
        let clean = plain && text.iter().flatten().all(|v| trimmed(v) && !self.rules.null_tokens.contains(v));
        clean.then(|| Arc::new(text.clone()) as ArrayRef)
    }

    fn map_hint(&self) -> String {
        field_hint(self.table, self.spec.name)
    }

    pub fn build<'c>(&self, n: usize, cell: &dyn Fn(usize) -> Option<&'c str>, report: &mut Report) -> ArrayRef {
        let name = self.spec.name;
        let missing = |i: usize, report: &mut Report| {
            if self.spec.required {
                report(i, "", RejectCode::MissingRequired, format!("required field `{name}` is empty"));
            }
        };
        match self.spec.kind {
            FieldKind::Text => {
                let mut b = StringBuilder::with_capacity(n, n * 8);
                for i in 0..n {
                    match self.clean(cell(i)) {
                        None => {
                            missing(i, report);
                            b.append_null();
                        }
                        Some(v) => match self.spec.domain {
                            Domain::OneOf(allowed) => {
                                let norm = v.to_lowercase().replace([' ', '-'], "_");
                                if allowed.contains(&norm.as_str()) {
                                    b.append_value(norm);
                                } else {
                                    report(i, &v, RejectCode::UnmappedValue, format!("`{v}` is not a {name} ({}); {}", allowed.join(", "), self.map_hint()));
                                    b.append_null();
                                }
                            }
                            _ => match self.rules.allowed.get(self.spec.name) {
                                Some(allowed) if !allowed.contains(&v.to_lowercase()) => {
                                    report(
                                        i,
                                        &v,
                                        RejectCode::UnmappedValue,
                                        format!(
                                            "{name} `{v}` is not one the profile knows; add it to [tables.{}.allowed.{name}] or map it in [tables.{}.values.{name}]",
                                            self.table, self.table
                                        ),
                                    );
                                    b.append_null();
                                }
                                _ => b.append_value(v),
                            },
                        },
                    }
                }
                Arc::new(b.finish())
            }
            FieldKind::Integer => {
                let mut b = Int64Builder::with_capacity(n);
                for i in 0..n {
                    let Some(v) = self.clean(cell(i)) else {
                        missing(i, report);
                        b.append_null();
                        continue;
                    };
                    let parsed = parse_number(&v, self.rules.decimal_comma).filter(|f| f.fract() == 0.0 && f.abs() < EXACT_INTEGERS);
                    match (parsed, self.spec.domain) {
                        (Some(x), Domain::Range(lo, hi)) if (x as i64) < lo || (x as i64) > hi => {
                            let (code, what) = if self.value_map.is_some() {
                                (RejectCode::UnmappedValue, format!("unmapped {name} value `{v}`"))
                            } else {
                                (RejectCode::OutOfRange, format!("{name} `{v}`"))
                            };
                            report(i, &v, code, outside_reason(&what, lo, hi, &self.map_hint()));
                            b.append_null();
                        }
                        (Some(x), _) => b.append_value(x as i64),
                        (None, _) if self.value_map.is_some() => {
                            report(i, &v, RejectCode::UnmappedValue, format!("unmapped {name} value `{v}`; {}", self.map_hint()));
                            b.append_null();
                        }
                        (None, _) => {
                            report(i, &v, RejectCode::InvalidInteger, not_integer_reason(name, &v, &self.map_hint()));
                            b.append_null();
                        }
                    }
                }
                Arc::new(b.finish())
            }
            FieldKind::Boolean => {
                let mut b = BooleanBuilder::with_capacity(n);
                for i in 0..n {
                    match self.clean(cell(i)) {
                        None => {
                            missing(i, report);
                            b.append_null();
                        }
                        Some(v) if self.rules.true_tokens.contains(v.as_ref()) => b.append_value(true),
                        Some(v) if self.rules.false_tokens.contains(v.as_ref()) => b.append_value(false),
                        Some(v) => {
                            report(
                                i,
                                &v,
                                RejectCode::InvalidBoolean,
                                format!("{name} `{v}` is neither a true nor a false token; set parse.true_tokens / parse.false_tokens or {}", self.map_hint()),
                            );
                            b.append_null();
                        }
                    }
                }
                Arc::new(b.finish())
            }
            FieldKind::Timestamp => {
                let mut b = TimestampMicrosecondBuilder::with_capacity(n).with_timezone(UTC);
                for i in 0..n {
                    let Some(v) = self.clean(cell(i)) else {
                        missing(i, report);
                        b.append_null();
                        continue;
                    };
                    match self.rules.timestamps.parse(&v).map(|t| self.rules.plausibility.read(t)) {
                        Some(Reading::Instant(t)) => b.append_value(t),
                        Some(Reading::Sentinel) => {
                            if self.spec.required {
                                report(i, &v, RejectCode::MissingRequired, missing_reason(name, &v));
                            }
                            b.append_null();
                        }
                        Some(Reading::Implausible) => {
                            report(i, &v, RejectCode::ImplausibleTimestamp, self.rules.plausibility.reason(name, &v));
                            b.append_null();
                        }
                        None => {
                            report(
                                i,
                                &v,
                                RejectCode::UnparseableTimestamp,
                                format!(
                                    "{name} `{v}` matches none of the timestamp formats [{}] (zone {}); add its format to parse.timestamp_formats",
                                    self.rules.timestamps.describe_formats(),
                                    self.rules.timestamps.timezone()
                                ),
                            );
                            b.append_null();
                        }
                    }
                }
                Arc::new(b.finish())
            }
        }
    }
}

/// Why a required field has no value: empty, or a sentinel date that means none.
pub fn missing_reason(field: &str, value: &str) -> String {
    if value.is_empty() {
        format!("required field `{field}` is empty")
    } else {
        format!("required field `{field}` holds `{value}`, a sentinel date (parse.sentinel_dates) that means none")
    }
}

/// A number in plain or decimal-comma notation.
pub fn parse_number(s: &str, decimal_comma: bool) -> Option<f64> {
    let s = s.trim();
    let parsed = if decimal_comma && s.contains(',') { s.replace('.', "").replace(',', ".").parse::<f64>() } else { s.parse::<f64>() };
    parsed.ok().filter(|f| f.is_finite())
}

/// Integers below this magnitude read as exactly the value written; larger ones are rejected.
pub const EXACT_INTEGERS: f64 = 9.0e15;

/// Why an integer (`what` names the field and value) lies outside its field's range `lo..=hi`.
pub fn outside_reason(what: &str, lo: i64, hi: i64, hint: &str) -> String {
    let hi = if hi == i64::MAX { String::new() } else { hi.to_string() };
    format!("{what} is outside {lo}..{hi}; {hint}")
}

/// Why a value is not an integer of field `name`.
pub fn not_integer_reason(name: &str, value: &str, hint: &str) -> String {
    format!("{name} `{value}` is not an integer; {hint}")
}

/// Where the profile maps a field's values: the hint a reject gives for a value it does not know.
pub fn field_hint(table: Table, field: &str) -> String {
    format!("add it to [tables.{table}.values.{field}] in the profile")
}

/// " (did you mean `x`?)" when a canonical field is within two edits of `name`.
pub fn suggestion(name: &str, table: Table) -> String {
    table
        .fields()
        .iter()
        .map(|f| (edit_distance(&name.to_lowercase(), f.name), f.name))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, f)| format!(" (did you mean `{f}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggestion("opend_at", Table::Incidents), " (did you mean `opened_at`?)");
        assert_eq!(suggestion("zzzzzz", Table::Incidents), "");
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number("3871,691111", true), Some(3871.691111));
        assert_eq!(parse_number("1.234,5", true), Some(1234.5));
        assert_eq!(parse_number("4", true), Some(4.0));
        assert_eq!(parse_number("4.0", false), Some(4.0));
        assert_eq!(parse_number("four", false), None);
        assert_eq!(parse_number("NaN", false), None);
    }
}
