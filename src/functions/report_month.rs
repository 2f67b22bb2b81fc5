//! `report_month(ts)`: the label of the reporting bucket (a calendar month in the reporting time
//! zone, or a whole window) that holds a timestamp. The zone and buckets are fixed when the
//! function is registered, from the validated `--timezone` and period, so no parameter text ever
//! enters SQL.

use std::sync::Arc;

use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result as DfResult, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use crate::model::UTC;

/// A bucket of a window: its label and [start, end) in UTC microseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub label: String,
    pub start: i64,
    pub end: i64,
}

/// `report_month(ts)`: the label of the window's bucket that holds `ts` (its calendar month in
/// the reporting zone, or the whole window for `mttx compare`), found by binary search over the
/// buckets' starts; outside the window, the calendar month.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ReportMonth {
    tz: Tz,
    /// Bucket starts, ascending, with their ends and labels.
    starts: Vec<i64>,
    ends: Vec<i64>,
    labels: Vec<String>,
    signature: Signature,
}

impl ReportMonth {
    pub fn udf(tz: Tz, buckets: &[Bucket]) -> ScalarUDF {
        ScalarUDF::from(ReportMonth {
            tz,
            starts: buckets.iter().map(|b| b.start).collect(),
            ends: buckets.iter().map(|b| b.end).collect(),
            labels: buckets.iter().map(|b| b.label.clone()).collect(),
            signature: Signature::exact(vec![DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))], Volatility::Immutable),
        })
    }

    /// The zone and buckets the function was made with.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    pub fn buckets(&self) -> Vec<Bucket> {
        (0..self.starts.len()).map(|i| Bucket { label: self.labels[i].clone(), start: self.starts[i], end: self.ends[i] }).collect()
    }

    /// The label of `micros`: its bucket's, else its month's in the zone. `near` is the bucket of
    /// the row before, tried first (the store keeps rows in time order, so a row is mostly in its
    /// predecessor's bucket); it becomes this row's.
    fn label(&self, micros: i64, near: &mut Option<usize>) -> Option<std::borrow::Cow<'_, str>> {
        let within = |b: usize| self.starts[b] <= micros && micros < self.ends[b];
        let bucket = near.filter(|&b| within(b)).or_else(|| {
            let i = self.starts.partition_point(|s| *s <= micros);
            (i > 0 && within(i - 1)).then(|| i - 1)
        });
        match bucket {
            Some(b) => {
                *near = Some(b);
                Some(std::borrow::Cow::Borrowed(&self.labels[b]))
            }
            None => month_label(micros, self.tz).map(std::borrow::Cow::Owned),
        }
    }
}

/// `YYYY-MM` of `micros` (UTC) in `tz`.
pub fn month_label(micros: i64, tz: Tz) -> Option<String> {
    let local = tz.timestamp_micros(micros).single()?;
    Some(format!("{:04}-{:02}", local.year(), local.month()))
}

impl ScalarUDFImpl for ReportMonth {
    fn name(&self) -> &str {
        "report_month"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        match &args.args[0] {
            ColumnarValue::Array(array) => {
                let ts = array.as_primitive::<TimestampMicrosecondType>();
                let mut out = StringBuilder::with_capacity(ts.len(), ts.len() * 7);
                let mut near = None;
                for i in 0..ts.len() {
                    match ts.is_valid(i).then(|| self.label(ts.value(i), &mut near)).flatten() {
                        Some(label) => out.append_value(label),
                        None => out.append_null(),
                    }
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
            ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(v, _)) => {
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(v.and_then(|v| self.label(v, &mut None).map(|l| l.into_owned())))))
            }
            other => exec_err!("report_month expects a UTC microsecond timestamp, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::TimestampMicrosecondArray;

    use super::*;

    #[test]
    fn month_labels_follow_the_zone() {
        let tz: Tz = "Europe/Amsterdam".parse().unwrap();
        // 2026-09-30T22:30Z is 00:30 on 1 October in Amsterdam (UTC+2).
        let micros = chrono::DateTime::parse_from_rfc3339("2026-09-30T22:30:00Z").unwrap().timestamp_micros();
        assert_eq!(month_label(micros, tz).as_deref(), Some("2026-10"));
        assert_eq!(month_label(micros, chrono_tz::UTC).as_deref(), Some("2026-09"));
    }

    /// Over a column, rows in and out of order, before, between and after the buckets, and null,
    /// get the labels one row at a time gives: the bucket tried first is only a shortcut.
    #[test]
    fn month_labels_of_a_column_are_those_of_each_row() {
        let day = 86_400_000_000i64;
        // Buckets for days 10–20 ("A") and 20–25 ("B"); day 30 and later, and before 10, fall outside.
        let buckets = [Bucket { label: "A".into(), start: 10 * day, end: 20 * day }, Bucket { label: "B".into(), start: 20 * day, end: 25 * day }];
        let udf = ReportMonth::udf(chrono_tz::UTC, &buckets);
        let month = udf.inner().downcast_ref::<ReportMonth>().unwrap();
        let days = [Some(11), Some(12), Some(21), Some(19), None, Some(30), Some(22), Some(5), Some(24), Some(10), Some(20), Some(25)];
        let column = TimestampMicrosecondArray::from(days.iter().map(|d| d.map(|d| d * day)).collect::<Vec<_>>()).with_timezone("UTC");
        let args = ScalarFunctionArgs {
            args: vec![ColumnarValue::Array(Arc::new(column))],
            arg_fields: vec![Arc::new(datafusion::arrow::datatypes::Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())), true))],
            number_rows: days.len(),
            return_field: Arc::new(datafusion::arrow::datatypes::Field::new("m", DataType::Utf8, true)),
            config_options: Arc::new(Default::default()),
        };
        let ColumnarValue::Array(labels) = month.invoke_with_args(args).unwrap() else { panic!("an array in gives an array out") };
        let labels: Vec<Option<&str>> = labels.as_string::<i32>().iter().collect();
        let expected: Vec<Option<String>> = days.iter().map(|d| d.and_then(|d| month.label(d * day, &mut None).map(|l| l.into_owned()))).collect();
        assert_eq!(labels, expected.iter().map(Option::as_deref).collect::<Vec<_>>());
        assert_eq!(&labels[..5], &[Some("A"), Some("A"), Some("B"), Some("A"), None]);
        assert_eq!(labels[5], Some("1970-01"), "outside every bucket: the month in the zone");
        assert_eq!(labels[11], Some("1970-01"), "a bucket's end is outside it");
    }
}
