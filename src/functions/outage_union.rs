//! `outage_union(start, end)`: the union of a group's failure intervals as outages, for MTBF.
//!
//! Overlapping or touching intervals merge into one outage (an interval that starts at or before
//! the latest end so far joins the outage). The aggregate returns a struct with the outages'
//! total length, `downtime_hours`, and the mean time from the end of one outage to the start of
//! the next, `mean_gap_hours` (null with fewer than two outages). Null and empty intervals
//! (end ≤ start) are ignored. SQL can say the same with three window passes (running maximum of
//! the ends, a running sum that numbers the islands, a lead for the gaps), but each pass sorts and
//! partitions by entity; one aggregate that sorts each group's intervals once is a fraction of
//! the work.
//!
//! The arithmetic is SQL's, term by term: seconds as `extract(epoch …)` gives them
//! (microseconds / 10⁶), differences summed in time order, divided by 3600.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility};

use super::grouped::{self, OneGroup, PerGroup};

/// The aggregate UDF to register, named `outage_union`.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(OutageUnion { signature: Signature::any(2, Volatility::Immutable) })
}

/// What one group's intervals come to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutageFigures {
    pub downtime_hours: f64,
    pub mean_gap_hours: Option<f64>,
}

fn seconds(micros: i64) -> f64 {
    micros as f64 / 1_000_000.0
}

/// Merges `intervals` (start, end in microseconds, each end > start) into outages and sums them.
pub fn figures(intervals: &mut [[i64; 2]]) -> OutageFigures {
    intervals.sort_unstable();
    let mut outages: Vec<(i64, i64)> = Vec::new();
    for &[start, end] in intervals.iter() {
        match outages.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => outages.push((start, end)),
        }
    }
    // A fold from +0.0: `sum()` of no floats is -0.0, which would print as such.
    let downtime_seconds = outages.iter().fold(0.0, |total, &(s, e)| total + (seconds(e) - seconds(s)));
    let gaps: Vec<f64> = outages.windows(2).map(|w| (seconds(w[1].0) - seconds(w[0].1)) / 3600.0).collect();
    OutageFigures { downtime_hours: downtime_seconds / 3600.0, mean_gap_hours: (!gaps.is_empty()).then(|| gaps.iter().sum::<f64>() / gaps.len() as f64) }
}

fn result_fields() -> Fields {
    Fields::from(vec![Field::new("downtime_hours", DataType::Float64, false), Field::new("mean_gap_hours", DataType::Float64, true)])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct OutageUnion {
    signature: Signature,
}

impl AggregateUDFImpl for OutageUnion {
    fn name(&self) -> &str {
        "outage_union"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        for (i, t) in args.iter().enumerate() {
            if !matches!(t, DataType::Timestamp(TimeUnit::Microsecond, _) | DataType::Null) {
                return exec_err!("outage_union: argument {} must be a timestamp, got {t}", i + 1);
            }
        }
        Ok(DataType::Struct(result_fields()))
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(grouped::state_fields(&["starts", "ends"]))
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Intervals(intervals()))))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Intervals(intervals())))
    }
}

/// Each group's non-empty intervals, as they arrive.
fn intervals() -> PerGroup<2> {
    PerGroup::new("outage_union", |&[start, end]| end > start)
}

fn evaluate_groups(groups: Vec<Vec<[i64; 2]>>) -> ArrayRef {
    let figures: Vec<OutageFigures> = groups.into_iter().map(|mut g| figures(&mut g)).collect();
    let downtime = Float64Array::from_iter_values(figures.iter().map(|f| f.downtime_hours));
    let gaps: Float64Array = figures.iter().map(|f| f.mean_gap_hours).collect();
    Arc::new(StructArray::new(result_fields(), vec![Arc::new(downtime), Arc::new(gaps)], None))
}

#[derive(Debug, Clone)]
struct Intervals(PerGroup<2>);

impl GroupsAccumulator for Intervals {
    fn update_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], opt_filter: Option<&BooleanArray>, total_num_groups: usize) -> Result<()> {
        self.0.update(values, group_indices, opt_filter, total_num_groups)
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(evaluate_groups(self.0.take(emit_to)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(PerGroup::state_of(&self.0.take(emit_to)))
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.0.merge(values, group_indices, total_num_groups)
    }

    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.0.convert_to_state(values, opt_filter)
    }

    fn size(&self) -> usize {
        self.0.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray};

    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn overlapping_and_touching_intervals_merge() {
        // [0, 2h] and [1h, 3h] overlap: one outage [0, 3h]. [3h, 4h] touches it and joins: [0, 4h].
        // [6h, 7h] stands alone. [10h, 10h] is empty and ignored by the accumulator (not here).
        // Downtime 4 + 1 = 5 h; one gap, 4h → 6h = 2 h.
        let mut intervals = vec![[6 * HOUR, 7 * HOUR], [HOUR, 3 * HOUR], [0, 2 * HOUR], [3 * HOUR, 4 * HOUR]];
        assert_eq!(figures(&mut intervals), OutageFigures { downtime_hours: 5.0, mean_gap_hours: Some(2.0) });
        // No outage is no downtime, +0.0 (`sum()` of no floats is -0.0).
        assert!(figures(&mut []).downtime_hours.is_sign_positive());
        // A single outage has no gap.
        assert_eq!(figures(&mut [[0, HOUR]]), OutageFigures { downtime_hours: 1.0, mean_gap_hours: None });
        // Three outages [0,1h], [2h,3h], [7h,8h]: gaps 1 h and 4 h, mean 2.5 h; downtime 3 h.
        let mut three = vec![[7 * HOUR, 8 * HOUR], [0, HOUR], [2 * HOUR, 3 * HOUR]];
        assert_eq!(figures(&mut three), OutageFigures { downtime_hours: 3.0, mean_gap_hours: Some(2.5) });
        // An interval inside another adds nothing.
        let mut nested = vec![[0, 10 * HOUR], [2 * HOUR, 3 * HOUR]];
        assert_eq!(figures(&mut nested), OutageFigures { downtime_hours: 10.0, mean_gap_hours: None });
    }

    #[test]
    fn partial_states_merge_to_the_same_figures() {
        use datafusion::arrow::array::TimestampMicrosecondArray;
        let batch = |pairs: &[(i64, i64)]| -> Vec<ArrayRef> {
            vec![
                Arc::new(TimestampMicrosecondArray::from_iter_values(pairs.iter().map(|p| p.0))),
                Arc::new(TimestampMicrosecondArray::from_iter_values(pairs.iter().map(|p| p.1))),
            ]
        };
        // Group 0 gets [0,1h] here and [2h,3h] in the other partition; group 1 gets an empty
        // interval here (ignored) and [5h,6h] there.
        let mut left = Intervals(intervals());
        left.update_batch(&batch(&[(0, HOUR), (4 * HOUR, 4 * HOUR)]), &[0, 1], None, 2).unwrap();
        // The other partition passes its rows on as state, one group per row.
        let right = Intervals(intervals());
        let mut merged = Intervals(intervals());
        merged.merge_batch(&left.state(EmitTo::All).unwrap(), &[0, 1], 2).unwrap();
        merged.merge_batch(&right.convert_to_state(&batch(&[(2 * HOUR, 3 * HOUR), (5 * HOUR, 6 * HOUR)]), None).unwrap(), &[0, 1], 2).unwrap();
        let out = merged.evaluate(EmitTo::All).unwrap();
        let out = out.as_struct();
        let downtime = out.column(0).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        let gap = out.column(1).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        // Group 0: outages [0,1h] and [2h,3h], downtime 2 h, gap 1 h. Group 1: [5h,6h], 1 h, no gap.
        assert_eq!((downtime.value(0), gap.value(0)), (2.0, 1.0));
        assert_eq!(downtime.value(1), 1.0);
        assert!(gap.is_null(1));
        assert_eq!(merged.0.held(), 0, "emitting releases the intervals");
    }
}
