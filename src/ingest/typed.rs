//! Typed source columns (Parquet, JSON numbers and booleans, derived event logs) into canonical
//! fields with Arrow kernels, without a round trip through text. Each conversion applies the checks
//! of the text path and gives the same rejects; where the profile could make the text path answer
//! differently (a value map, a null token that reads as a number), the column goes through text.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array, TimestampMicrosecondArray, TimestampMicrosecondBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};

use super::fields::{EXACT_INTEGERS, Report, field_hint, missing_reason, not_integer_reason, outside_reason};
use super::profile::TableRules;
use super::raw::RejectCode;
use super::timestamp::Reading;
use crate::error::Result;
use crate::model::{Domain, FieldKind, FieldSpec, Table, UTC};
use crate::time::rfc3339;

pub struct Typed<'a> {
    pub spec: &'a FieldSpec,
    pub table: Table,
    pub rules: &'a TableRules,
}

impl Typed<'_> {
    /// The canonical column, or None when this source type goes through text.
    pub fn convert(&self, source: &ArrayRef, report: &mut Report) -> Result<Option<ArrayRef>> {
        let mapped = self.rules.value_maps.contains_key(self.spec.name);
        Ok(match (self.spec.kind, source.data_type()) {
            (FieldKind::Timestamp, DataType::Timestamp(_, Some(_))) => Some(self.timestamps(source, report)?),
            (FieldKind::Integer, t) if !mapped && fits_i64(t) && !self.numeric_null_token() => Some(self.integers(source, report)?),
            (FieldKind::Boolean, DataType::Boolean) if !mapped && self.plain_booleans() => Some(self.booleans(source, report)),
            _ => None,
        })
    }

    fn missing(&self, row: usize, value: &str, report: &mut Report) {
        if self.spec.required {
            report(row, value, RejectCode::MissingRequired, missing_reason(self.spec.name, value));
        }
    }

    fn timestamps(&self, source: &ArrayRef, report: &mut Report) -> Result<ArrayRef> {
        let typed = cast(source, &crate::model::timestamp_type())?;
        let typed: &TimestampMicrosecondArray = typed.as_primitive();
        let mut b = TimestampMicrosecondBuilder::with_capacity(typed.len()).with_timezone(UTC);
        for row in 0..typed.len() {
            let reading = typed.is_valid(row).then(|| self.rules.plausibility.read(typed.value(row)));
            match reading {
                Some(Reading::Instant(t)) => b.append_value(t),
                Some(Reading::Implausible) => {
                    let at = rfc3339(typed.value(row));
                    report(row, &at, RejectCode::ImplausibleTimestamp, self.rules.plausibility.reason(self.spec.name, &at));
                    b.append_null();
                }
                Some(Reading::Sentinel) => {
                    self.missing(row, &rfc3339(typed.value(row)), report);
                    b.append_null();
                }
                None => {
                    self.missing(row, "", report);
                    b.append_null();
                }
            }
        }
        Ok(Arc::new(b.finish()))
    }

    /// A null token such as `0` or `-1` turns those numbers into nulls on the text path.
    fn numeric_null_token(&self) -> bool {
        self.rules.null_tokens.iter().any(|t| t.trim().parse::<f64>().is_ok())
    }

    fn integers(&self, source: &ArrayRef, report: &mut Report) -> Result<ArrayRef> {
        let name = self.spec.name;
        let values = cast(source, &DataType::Int64)?;
        let values = values.as_primitive::<Int64Type>();
        let mut rejected = vec![false; values.len()];
        for (row, rejected) in rejected.iter_mut().enumerate() {
            if values.is_null(row) {
                self.missing(row, "", report);
                continue;
            }
            let x = values.value(row);
            let hint = || field_hint(self.table, name);
            if (x as f64).abs() >= EXACT_INTEGERS {
                report(row, &x.to_string(), RejectCode::InvalidInteger, not_integer_reason(name, &x.to_string(), &hint()));
                *rejected = true;
            } else if let Domain::Range(lo, hi) = self.spec.domain
                && (x < lo || x > hi)
            {
                report(row, &x.to_string(), RejectCode::OutOfRange, outside_reason(&format!("{name} `{x}`"), lo, hi, &hint()));
                *rejected = true;
            }
        }
        if !rejected.contains(&true) {
            return Ok(Arc::new(values.clone()));
        }
        let kept: Int64Array = values.iter().zip(&rejected).map(|(v, &r)| if r { None } else { v }).collect();
        Ok(Arc::new(kept))
    }

    /// The text path reads a typed boolean as `true` or `false`: as themselves, unless the
    /// profile's tokens say otherwise.
    fn plain_booleans(&self) -> bool {
        let t = &self.rules;
        t.true_tokens.contains("true") && t.false_tokens.contains("false") && !t.null_tokens.contains("true") && !t.null_tokens.contains("false")
    }

    fn booleans(&self, source: &ArrayRef, report: &mut Report) -> ArrayRef {
        for row in 0..source.len() {
            if source.is_null(row) {
                self.missing(row, "", report);
            }
        }
        source.clone()
    }
}

/// Integer types whose every value is an i64.
fn fits_i64(t: &DataType) -> bool {
    matches!(t, DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32)
}
