//! The business-time functions of the SLA clocks: `business_hours(start, end, calendar)`,
//! `sla_running_hours(start, stop, calendar, pauses…)` and `sla_deadline(start, hours, calendar,
//! pauses…)`, on the calendars of the SLA policy they were registered with.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, StructArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result as DfResult, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature, Volatility};

use super::calendar::{self, Calendar, DayCache};
use crate::model::UTC;

/// The calendars of an SLA policy, shared by the business-time functions. Functions compare equal
/// when they serve the same policy.
#[derive(Debug, Clone)]
pub struct Calendars {
    pub policy: String,
    pub by_name: Arc<std::collections::BTreeMap<String, Calendar>>,
}

impl PartialEq for Calendars {
    fn eq(&self, other: &Self) -> bool {
        self.policy == other.policy
    }
}

impl Eq for Calendars {}

impl std::hash::Hash for Calendars {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.policy.hash(state)
    }
}

impl Calendars {
    fn get(&self, name: &str) -> DfResult<&Calendar> {
        match self.by_name.get(name) {
            Some(c) => Ok(c),
            None => exec_err!(
                "no calendar `{name}` in the SLA policy {}; calendars are: {}",
                self.policy,
                self.by_name.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// The calendars one batch names, each with its cache of days (see `DayCache`). A policy has a
/// few calendars and consecutive rows mostly name the same one, so the last one found is tried
/// first and the rest are searched in order, instead of hashing the name on every row.
struct BatchCalendars<'a> {
    policy: &'a Calendars,
    seen: Vec<(&'a str, &'a Calendar, DayCache)>,
    last: usize,
}

impl<'a> BatchCalendars<'a> {
    fn new(policy: &'a Calendars) -> Self {
        BatchCalendars { policy, seen: Vec::new(), last: 0 }
    }

    fn get(&mut self, name: &'a str) -> DfResult<(&'a Calendar, &mut DayCache)> {
        if self.seen.get(self.last).is_none_or(|(seen, _, _)| *seen != name) {
            self.last = match self.seen.iter().position(|(seen, _, _)| *seen == name) {
                Some(index) => index,
                None => {
                    self.seen.push((name, self.policy.get(name)?, DayCache::default()));
                    self.seen.len() - 1
                }
            };
        }
        let (_, calendar, cache) = &mut self.seen[self.last];
        Ok((*calendar, cache))
    }
}

/// What the business-time functions compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BusinessClock {
    /// `business_hours(start, end, calendar)` → hours of business time.
    Hours,
    /// `sla_running_hours(start, stop, calendar, pause_starts, pause_ends)` → business hours the
    /// clock ran, pauses excluded; or `(start, stop, calendar, pauses)`, a list of (start, end).
    RunningHours,
    /// `sla_deadline(start, hours, calendar, pause_starts, pause_ends)` (or `…, pauses)`) → the
    /// instant the clock reaches `hours`.
    Deadline,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BusinessTime {
    clock: BusinessClock,
    calendars: Calendars,
    signature: Signature,
}

impl BusinessTime {
    pub fn udf(clock: BusinessClock, calendars: Calendars) -> ScalarUDF {
        let signature = match clock {
            BusinessClock::Hours => Signature::any(3, Volatility::Immutable),
            // The pauses as two lists (starts, ends) or as one list of (start, end) structs.
            BusinessClock::RunningHours | BusinessClock::Deadline => {
                Signature::one_of(vec![TypeSignature::Any(5), TypeSignature::Any(4)], Volatility::Immutable)
            }
        };
        ScalarUDF::from(BusinessTime { clock, calendars, signature })
    }

    pub fn clock(&self) -> BusinessClock {
        self.clock
    }

    pub fn calendars(&self) -> &Calendars {
        &self.calendars
    }
}

/// A clock's pauses, read as (start, end) pairs row by row through the lists' offsets (slicing
/// each row's list would allocate an array per clock): either two parallel lists of timestamps
/// (`pause_starts`, `pause_ends`), or one list of structs whose first two fields are the start
/// and the end. Anything else reads as no pauses, as a null list does.
enum PauseLists<'a> {
    Parallel([(&'a ListArray, &'a TimestampMicrosecondArray); 2]),
    Pairs(&'a ListArray, &'a StructArray, [&'a TimestampMicrosecondArray; 2]),
    None,
}

impl<'a> PauseLists<'a> {
    /// From the function's arguments after the calendar: one (pairs) or two (parallel lists).
    fn new(pauses: &'a [ArrayRef]) -> Self {
        let list = |array: &'a dyn Array| {
            let list = array.as_list_opt::<i32>()?;
            Some((list, list.values().as_primitive_opt::<TimestampMicrosecondType>()?))
        };
        match pauses {
            [starts, ends] => list(starts.as_ref()).zip(list(ends.as_ref())).map_or(PauseLists::None, |(s, e)| PauseLists::Parallel([s, e])),
            [pairs] => {
                let pairs = || {
                    let list = pairs.as_list_opt::<i32>()?;
                    let items = list.values().as_struct_opt()?;
                    let field = |i: usize| items.columns().get(i)?.as_primitive_opt::<TimestampMicrosecondType>();
                    Some(PauseLists::Pairs(list, items, [field(0)?, field(1)?]))
                };
                pairs().unwrap_or(PauseLists::None)
            }
            _ => PauseLists::None,
        }
    }

    /// Row `row`'s pairs into `out`; nulls are skipped.
    fn fill(&self, row: usize, out: &mut Vec<(i64, i64)>) {
        out.clear();
        match *self {
            PauseLists::Parallel([(starts, start_values), (ends, end_values)]) => {
                if starts.is_null(row) || ends.is_null(row) {
                    return;
                }
                let (s, e) = (starts.value_offsets()[row] as usize, ends.value_offsets()[row] as usize);
                let len = starts.value_length(row).min(ends.value_length(row)) as usize;
                out.extend(
                    (0..len)
                        .filter(|&i| start_values.is_valid(s + i) && end_values.is_valid(e + i))
                        .map(|i| (start_values.value(s + i), end_values.value(e + i))),
                );
            }
            PauseLists::Pairs(list, items, [starts, ends]) => {
                if list.is_null(row) {
                    return;
                }
                let (first, last) = (list.value_offsets()[row] as usize, list.value_offsets()[row + 1] as usize);
                out.extend((first..last).filter(|&i| items.is_valid(i) && starts.is_valid(i) && ends.is_valid(i)).map(|i| (starts.value(i), ends.value(i))));
            }
            PauseLists::None => {}
        }
    }
}

impl ScalarUDFImpl for BusinessTime {
    fn name(&self) -> &str {
        match self.clock {
            BusinessClock::Hours => "business_hours",
            BusinessClock::RunningHours => "sla_running_hours",
            BusinessClock::Deadline => "sla_deadline",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(match self.clock {
            BusinessClock::Deadline => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
            _ => DataType::Float64,
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        use datafusion::arrow::datatypes::Float64Type;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let timestamps = |i: usize| -> DfResult<&datafusion::arrow::array::TimestampMicrosecondArray> {
            match arrays[i].as_primitive_opt::<TimestampMicrosecondType>() {
                Some(a) => Ok(a),
                None => exec_err!("{}: argument {} must be a timestamp, got {}", self.name(), i + 1, arrays[i].data_type()),
            }
        };
        // A name built in SQL may arrive as a view or large string (`CAST(… AS VARCHAR)` is a view).
        let names = match arrays[2].data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => datafusion::arrow::compute::cast(&arrays[2], &DataType::Utf8)?,
            _ => arrays[2].clone(),
        };
        let names = match names.as_string_opt::<i32>() {
            Some(a) => a,
            None => return exec_err!("{}: argument 3 must be a calendar name (text)", self.name()),
        };
        let start = timestamps(0)?;
        let rows = args.number_rows;
        let mut calendars = BatchCalendars::new(&self.calendars);
        match self.clock {
            BusinessClock::Hours | BusinessClock::RunningHours => {
                let end = timestamps(1)?;
                let mut out = datafusion::arrow::array::Float64Builder::with_capacity(rows);
                let lists = (self.clock == BusinessClock::RunningHours).then(|| PauseLists::new(&arrays[3..]));
                let mut pauses = Vec::new();
                for row in 0..rows {
                    if start.is_null(row) || end.is_null(row) || names.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let (calendar, cache) = calendars.get(names.value(row))?;
                    let hours = match &lists {
                        None => calendar.business_hours_with(start.value(row), end.value(row), cache),
                        Some(lists) => {
                            lists.fill(row, &mut pauses);
                            calendar::running_hours(calendar, start.value(row), end.value(row), &pauses, cache)
                        }
                    };
                    out.append_value(hours);
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
            BusinessClock::Deadline => {
                let hours = match arrays[1].as_primitive_opt::<Float64Type>() {
                    Some(a) => a,
                    None => return exec_err!("sla_deadline: argument 2 must be hours as a DOUBLE"),
                };
                let mut out = datafusion::arrow::array::TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(UTC);
                let lists = PauseLists::new(&arrays[3..]);
                let mut pauses = Vec::new();
                for row in 0..rows {
                    if start.is_null(row) || hours.is_null(row) || names.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let (calendar, cache) = calendars.get(names.value(row))?;
                    lists.fill(row, &mut pauses);
                    out.append_option(calendar::running_deadline(calendar, start.value(row), hours.value(row), &pauses, cache));
                }
                Ok(ColumnarValue::Array(Arc::new(out.finish())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A calendar name given as a string view (what `CAST(… AS VARCHAR)` gives) names the same
    /// calendar: 3 h of the always-open one.
    #[tokio::test]
    async fn a_calendar_name_may_be_a_string_view() {
        let ctx = datafusion::prelude::SessionContext::new();
        let calendars = Calendars { policy: "<test>".into(), by_name: Arc::new([("always".to_string(), Calendar::always_open())].into()) };
        ctx.register_udf(BusinessTime::udf(BusinessClock::Hours, calendars));
        let sql = "SELECT business_hours(to_timestamp_micros('2026-03-02T00:00:00Z'), to_timestamp_micros('2026-03-02T03:00:00Z'), \
                   arrow_cast('always', 'Utf8View')) AS h";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        assert_eq!(batches[0].column(0).as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(0), 3.0);
    }

    /// The pauses as two lists and as one list of (start, end) pairs, in any order, give the same
    /// clocks. On the always-open calendar, a clock from 00:00 to 10:00 paused 02:00–03:00 and
    /// 05:00–07:00 (given in reverse) runs 10 − 1 − 2 = 7 h, and reaches 4 h at 00:00 + 2 h, then
    /// 03:00 + 2 h = 05:00, stands still until 07:00: 4 h is reached at 05:00.
    #[tokio::test]
    async fn pauses_as_pairs_or_as_two_lists_agree() {
        let ctx = datafusion::prelude::SessionContext::new();
        let calendars = Calendars { policy: "<test>".into(), by_name: Arc::new([("always".to_string(), Calendar::always_open())].into()) };
        for clock in [BusinessClock::RunningHours, BusinessClock::Deadline] {
            ctx.register_udf(BusinessTime::udf(clock, calendars.clone()));
        }
        let t = |hour: u32| format!("to_timestamp_micros('2026-03-02T{hour:02}:00:00Z')");
        // The pauses come later one first; each form is collected as the KPI collects it.
        let sql = format!(
            "WITH p(s, e) AS (VALUES ({p1s}, {p1e}), ({p2s}, {p2e})) \
             SELECT sla_running_hours({s}, {e}, 'always', array_agg(p.s), array_agg(p.e)) AS h2, \
                    sla_running_hours({s}, {e}, 'always', array_agg(named_struct('start', p.s, 'end', p.e))) AS h1, \
                    sla_deadline({s}, 4.0, 'always', array_agg(p.s), array_agg(p.e)) AS d2, \
                    sla_deadline({s}, 4.0, 'always', array_agg(named_struct('start', p.s, 'end', p.e))) AS d1 FROM p",
            p1s = t(5),
            p1e = t(7),
            p2s = t(2),
            p2e = t(3),
            s = t(0),
            e = t(10)
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let row = &batches[0];
        let hours = |i: usize| row.column(i).as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(0);
        let instant = |i: usize| row.column(i).as_primitive::<TimestampMicrosecondType>().value(0);
        assert_eq!((hours(0), hours(1)), (7.0, 7.0));
        let five = chrono::DateTime::parse_from_rfc3339("2026-03-02T05:00:00Z").unwrap().timestamp_micros();
        assert_eq!((instant(2), instant(3)), (five, five));
    }
}
