//! `max_in_window(at, width_seconds)`: the most of a group's instants that fall in any window
//! [t, t + width) starting at one of them, for problem candidates.
//!
//! SQL says the same with a self-join of each group's rows (bucketed so that each row meets only
//! its neighbours) and two aggregates, reading the incidents eight times as DataFusion inlines
//! the CTEs; sorting each group's instants once and counting with two binary searches per instant
//! is a fraction of that. Instants compare as `extract(epoch …)` gives them (seconds as a double,
//! microseconds / 10⁶), with the width added in seconds, as the SQL it replaces did.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility};

use super::grouped::{self, OneGroup, PerGroup};

/// The aggregate UDF to register, named `max_in_window`.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(MaxInWindow { signature: Signature::any(2, Volatility::Immutable) })
}

/// The most of `instants` (microseconds) in one window of `width` seconds that starts at one of
/// them; None for no instant in any window (no instants, or a width of zero).
pub fn max_in_window(instants: &mut [i64], width: f64) -> Option<i64> {
    instants.sort_unstable();
    let seconds: Vec<f64> = instants.iter().map(|&t| t as f64 / 1_000_000.0).collect();
    let most = seconds
        .iter()
        .map(|&start| {
            let first = seconds.partition_point(|&s| s < start);
            let end = seconds.partition_point(|&s| s < start + width);
            end.saturating_sub(first)
        })
        .max()
        .unwrap_or(0);
    (most > 0).then_some(most as i64)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MaxInWindow {
    signature: Signature,
}

impl AggregateUDFImpl for MaxInWindow {
    fn name(&self) -> &str {
        "max_in_window"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [DataType::Timestamp(TimeUnit::Microsecond, _), DataType::Float64] => Ok(DataType::Int64),
            _ => exec_err!("max_in_window takes a timestamp and a width in seconds (DOUBLE), got {args:?}"),
        }
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let mut fields = grouped::state_fields(&["instants"]);
        fields.push(Arc::new(Field::new("width", DataType::Float64, true)));
        Ok(fields)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Instants::default())))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Instants::default()))
    }
}

/// Each group's instants, and the one width every row gives.
#[derive(Debug, Clone)]
struct Instants {
    rows: PerGroup<1>,
    width: Option<f64>,
}

impl Default for Instants {
    fn default() -> Self {
        Instants { rows: PerGroup::new("max_in_window", |_| true), width: None }
    }
}

impl Instants {
    fn note_width(&mut self, widths: &dyn Array) -> Result<()> {
        let Some(widths) = widths.as_primitive_opt::<Float64Type>() else {
            return exec_err!("max_in_window: the width must be seconds as a DOUBLE, got {}", widths.data_type());
        };
        for width in widths.iter().flatten() {
            match self.width {
                Some(known) if known != width => return exec_err!("max_in_window: the width must be the same on every row ({known} and {width})"),
                _ => self.width = Some(width),
            }
        }
        Ok(())
    }

    fn evaluate_groups(&self, groups: Vec<Vec<[i64; 1]>>) -> ArrayRef {
        let width = self.width.unwrap_or(0.0);
        let most: Int64Array = groups
            .into_iter()
            .map(|group| {
                let mut instants: Vec<i64> = group.into_iter().map(|[t]| t).collect();
                max_in_window(&mut instants, width)
            })
            .collect();
        Arc::new(most)
    }

    fn state_of(&self, groups: &[Vec<[i64; 1]>]) -> Vec<ArrayRef> {
        let mut state = PerGroup::state_of(groups);
        state.push(Arc::new(Float64Array::from(vec![self.width; groups.len()])));
        state
    }
}

impl GroupsAccumulator for Instants {
    fn update_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], opt_filter: Option<&BooleanArray>, total_num_groups: usize) -> Result<()> {
        self.note_width(values[1].as_ref())?;
        self.rows.update(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.rows.take(emit_to);
        Ok(self.evaluate_groups(groups))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.rows.take(emit_to);
        Ok(self.state_of(&groups))
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.note_width(values[1].as_ref())?;
        self.rows.merge(values, group_indices, total_num_groups)
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let mut state = self.rows.convert_to_state(values, opt_filter)?;
        state.push(Arc::clone(&values[1]));
        Ok(state)
    }

    fn size(&self) -> usize {
        self.rows.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000_000;

    #[test]
    fn the_busiest_window_starts_at_an_instant() {
        // Days 0, 1, 2, 40, 41 with a 30-day window: [0, 30) holds 0, 1, 2 (3); [40, 70) holds 2.
        let mut days = vec![41 * DAY, 0, 2 * DAY, DAY, 40 * DAY];
        assert_eq!(max_in_window(&mut days, 30.0 * 86_400.0), Some(3));
        // The window is half open: day 30 is not within 30 days of day 0, day 29 is.
        assert_eq!(max_in_window(&mut [0, 30 * DAY], 30.0 * 86_400.0), Some(1));
        assert_eq!(max_in_window(&mut [0, 29 * DAY], 30.0 * 86_400.0), Some(2));
        // Equal instants all count in a window that starts at any of them.
        assert_eq!(max_in_window(&mut [5 * DAY, 5 * DAY, 5 * DAY], 1.0), Some(3));
        // Nothing, or a zero width, is no window at all.
        assert_eq!(max_in_window(&mut [], 30.0), None);
        assert_eq!(max_in_window(&mut [0, DAY], 0.0), None);
    }

    #[test]
    fn partial_states_merge_to_the_same_count() {
        use datafusion::arrow::array::TimestampMicrosecondArray;
        let batch = |days: &[i64]| -> Vec<ArrayRef> {
            vec![
                Arc::new(TimestampMicrosecondArray::from_iter_values(days.iter().map(|d| d * DAY))),
                Arc::new(Float64Array::from(vec![10.0 * 86_400.0; days.len()])),
            ]
        };
        // Group 0: days 0 and 3 here, day 5 in the other partition (as one group per row): all
        // three within 10 days of day 0. Group 1: day 20 here, day 40 there: one at a time.
        let mut left = Instants::default();
        left.update_batch(&batch(&[0, 3, 20]), &[0, 0, 1], None, 2).unwrap();
        let right = Instants::default();
        let mut merged = Instants::default();
        merged.merge_batch(&left.state(EmitTo::All).unwrap(), &[0, 1], 2).unwrap();
        merged.merge_batch(&right.convert_to_state(&batch(&[5, 40]), None).unwrap(), &[0, 1], 2).unwrap();
        let out = merged.evaluate(EmitTo::All).unwrap();
        let out = out.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        assert_eq!((out.value(0), out.value(1)), (3, 1));
        // A different width on another row is an error, not a silent pick.
        let mut mixed = Instants::default();
        let widths: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
        let at: ArrayRef = Arc::new(TimestampMicrosecondArray::from_iter_values([0, 1]));
        assert!(mixed.update_batch(&[at, widths], &[0, 0], None, 1).is_err());
    }
}
