//! Timestamps of one row against each other: derived milestones before `opened_at` clamped to
//! it, negative durations rejected, and the `--as-of` cut-off applied (a row that did not exist
//! yet rejected, later timestamps of one that did read as null).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::TimestampMicrosecondType;

use super::convert::{Converter, Problems};
use super::raw::RejectCode;
use crate::error::Result;
use crate::model::FieldKind;
use crate::time::rfc3339;

impl Converter<'_> {
    /// Sets each derived milestone that lies before `opened_at` to `opened_at`, in the rows still
    /// clear of problems, and gives the rows it set, per milestone. A milestone read from a column
    /// is left as it is: `check_ordering` rejects it.
    pub(super) fn clamp_derived(&self, arrays: &mut [ArrayRef], problems: &Problems) -> BTreeMap<String, Vec<usize>> {
        let mut clamped = BTreeMap::new();
        let fields = self.table.fields();
        let Some(opened) = fields.iter().position(|f| f.name == "opened_at") else { return clamped };
        let opened_at: TimestampMicrosecondArray = arrays[opened].as_primitive::<TimestampMicrosecondType>().clone();
        for (i, spec) in fields.iter().enumerate() {
            if i == opened || spec.kind != FieldKind::Timestamp || !self.derived.iter().any(|d| d == spec.name) {
                continue;
            }
            let values: &TimestampMicrosecondArray = arrays[i].as_primitive();
            let early = |row: usize| problems.is_clear(row) && values.is_valid(row) && opened_at.is_valid(row) && values.value(row) < opened_at.value(row);
            let rows: Vec<usize> = (0..values.len()).filter(|&row| early(row)).collect();
            if rows.is_empty() {
                continue;
            }
            let fixed: TimestampMicrosecondArray =
                (0..values.len()).map(|row| if early(row) { Some(opened_at.value(row)) } else { values.is_valid(row).then(|| values.value(row)) }).collect();
            arrays[i] = Arc::new(fixed.with_timezone_opt(values.timezone().map(str::to_string)));
            clamped.insert(spec.name.to_string(), rows);
        }
        clamped
    }

    /// Rejects rows whose timestamps would give a negative duration.
    /// With a cut-off, a row whose existence timestamp (opened_at, an event's at) lies after it is
    /// rejected as not yet existing, and its other timestamps after it read as null: each ticket
    /// as it stood at that instant.
    pub(super) fn check_ordering(&self, arrays: &mut [ArrayRef], columns: &[String], problems: &mut Problems) -> Result<()> {
        let fields = self.table.fields();
        let ts = |name: &str| -> (usize, &TimestampMicrosecondArray) {
            let i = fields.iter().position(|f| f.name == name).expect("rules name table fields");
            (i, arrays[i].as_primitive())
        };
        for (earlier, later) in self.table.ordering_rules() {
            let (_, a) = ts(earlier);
            let (li, b) = ts(later);
            for row in 0..problems.len() {
                if problems.is_clear(row) && a.is_valid(row) && b.is_valid(row) && b.value(row) < a.value(row) {
                    let (at, before) = (rfc3339(b.value(row)), rfc3339(a.value(row)));
                    let reason = format!("{later} ({at}) is before {earlier} ({before}): that would be a negative duration");
                    problems.flag(row, &columns[li], &at, RejectCode::NegativeDuration, reason);
                }
            }
        }
        let Some(as_of) = self.as_of else { return Ok(()) };
        let existence = self.table.existence_field();
        for (i, spec) in fields.iter().enumerate() {
            if spec.kind != FieldKind::Timestamp || !spec.happened {
                continue;
            }
            let values: &TimestampMicrosecondArray = arrays[i].as_primitive();
            let late: Vec<usize> = (0..problems.len()).filter(|&row| problems.is_clear(row) && values.is_valid(row) && values.value(row) > as_of).collect();
            if late.is_empty() {
                continue;
            }
            if existence == Some(spec.name) {
                for row in late {
                    let at = rfc3339(values.value(row));
                    let reason = format!(
                        "{} ({at}) is after --as-of ({}): the {} did not exist yet at the reporting cut-off",
                        spec.name,
                        rfc3339(as_of),
                        self.table.singular()
                    );
                    problems.flag(row, &columns[i], &at, RejectCode::AfterAsOf, reason);
                }
            } else {
                // The ticket as it stood at the cut-off: what happened after it has not happened yet.
                let mut mask = vec![false; values.len()];
                for row in late {
                    mask[row] = true;
                }
                arrays[i] = datafusion::arrow::compute::nullif(&arrays[i], &BooleanArray::from(mask))?;
            }
        }
        Ok(())
    }
}
