//! `percentile_cont` with an exact interpolation weight, registered over DataFusion's own.
//!
//! DataFusion 55 interpolates between the two middle values with a weight truncated to six
//! decimals (`INTERPOLATION_PRECISION`), so a p90 over a few hundred values can be off by a few
//! parts in ten million. The KPI headers promise exact percentiles with continuous interpolation
//! (as DuckDB's `quantile_cont` and Polars' linear `quantile` compute them), so this takes
//! DataFusion's aggregate over. Without GROUP BY it wraps DataFusion's accumulator and only the
//! final step, from the collected values to the percentile, is ours. Grouped, as every KPI runs
//! it, mttx collects the values itself (`ExactGroups`), with the same partial state as
//! DataFusion's (one list of Float64 per group), and interpolates each group in place.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray, StructArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::functions_aggregate::percentile_cont::PercentileCont;
use datafusion::logical_expr::ColumnarValue;
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature};
use datafusion::physical_expr::PhysicalExpr;

use super::grouped::passes;

/// The aggregate UDF to register; it takes the name `percentile_cont`.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ExactPercentileCont { inner: PercentileCont::new() })
}

/// The percentile of `values` with continuous interpolation: rank p · (n − 1), between the values
/// below and above it, weighted by the rank's fraction. None for no values.
pub fn interpolate(values: &mut [f64], percentile: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let rank = percentile * (values.len() - 1) as f64;
    let lower = (rank.floor() as usize).min(values.len() - 1);
    // Selection, not a sort: the value at `lower` in order, with every larger one after it, so
    // the next value in order is the smallest of those.
    let (_, low, above) = values.select_nth_unstable_by(lower, f64::total_cmp);
    let low = *low;
    let fraction = rank - lower as f64;
    if fraction == 0.0 || above.is_empty() {
        return Some(low);
    }
    let high = above.iter().copied().min_by(f64::total_cmp).unwrap_or(low);
    Some(low + (high - low) * fraction)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactPercentileCont {
    inner: PercentileCont,
}

/// The value of a float literal argument; None for anything else.
pub(crate) fn float_literal(expr: &Arc<dyn PhysicalExpr>) -> Option<f64> {
    // A literal evaluates to itself on an empty batch, as DataFusion reads it.
    let empty = datafusion::arrow::record_batch::RecordBatch::new_empty(Arc::new(datafusion::arrow::datatypes::Schema::empty()));
    match expr.evaluate(&empty).ok()? {
        ColumnarValue::Scalar(ScalarValue::Float64(Some(v))) => Some(v),
        ColumnarValue::Scalar(ScalarValue::Float32(Some(v))) => Some(f64::from(v)),
        _ => None,
    }
}

/// The partial state of a grouped percentile: one list of each group's values, as DataFusion's
/// `percentile_cont` states it.
pub(crate) fn state_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

fn values_list(offsets: OffsetBuffer<i32>, values: Vec<f64>, nulls: Option<NullBuffer>) -> ArrayRef {
    Arc::new(ListArray::new(Arc::new(Field::new_list_field(DataType::Float64, true)), offsets, Arc::new(Float64Array::from(values)), nulls))
}

/// The percentile argument, as DataFusion reads it: a float literal, mirrored for a descending order.
fn percentile_of(args: &AccumulatorArgs) -> Option<f64> {
    let value = float_literal(args.exprs.get(1)?)?;
    let descending = args.order_bys.first().is_some_and(|sort| sort.options.descending);
    Some(if descending { 1.0 - value } else { value })
}

/// Float64 input is ours; anything else (and a percentile DataFusion would refuse) stays DataFusion's.
fn exact_for(args: &AccumulatorArgs) -> Option<f64> {
    (args.expr_fields[0].data_type() == &DataType::Float64 && !args.is_distinct).then(|| percentile_of(args)).flatten()
}

impl AggregateUDFImpl for ExactPercentileCont {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let percentile = exact_for(&args);
        let inner = self.inner.accumulator(args)?;
        Ok(match percentile {
            Some(percentile) => Box::new(Exact { inner, percentile }),
            None => inner,
        })
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }

    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(match exact_for(&args) {
            Some(percentile) => Box::new(ExactGroups::single(percentile)),
            None => self.inner.create_groups_accumulator(args)?,
        })
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        self.inner.simplify()
    }

    fn supports_within_group_clause(&self) -> bool {
        self.inner.supports_within_group_clause()
    }
}

/// The values of one collected state (a list of Float64), interpolated.
fn from_list(list: Option<ArrayRef>, percentile: f64) -> Option<f64> {
    let list = list?;
    let values = list.as_primitive_opt::<Float64Type>()?;
    let mut values: Vec<f64> = values.iter().flatten().collect();
    interpolate(&mut values, percentile)
}

#[derive(Debug)]
struct Exact {
    inner: Box<dyn Accumulator>,
    percentile: f64,
}

impl Accumulator for Exact {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.update_batch(values)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let list = match self.inner.state()?.into_iter().next() {
            Some(ScalarValue::List(list)) if !list.is_empty() && list.is_valid(0) => Some(list.value(0)),
            _ => None,
        };
        Ok(ScalarValue::Float64(from_list(list, self.percentile)))
    }

    fn size(&self) -> usize {
        self.inner.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner.state()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.inner.merge_batch(states)
    }

    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.inner.retract_batch(values)
    }

    fn supports_retract_batch(&self) -> bool {
        self.inner.supports_retract_batch()
    }
}

/// Values from which a final step selects its groups' percentiles on every core.
const PARALLEL_SELECTION: usize = 1 << 16;

/// Each group's values, collected as DataFusion's accumulator does (the partial state is the same
/// list of Float64), but evaluated in place: wrapping DataFusion's meant asking it for its state,
/// a flattened copy of every value, and copying each group out of that list again (two extra
/// copies of every duration, and the memory for them, on the 10 M store 20 M values per query).
/// With `fields`, it gives several percentiles of the same values as a struct of Float64, one
/// field per percentile (`percentiles_cont`, see `fused`).
#[derive(Debug, Clone)]
pub(crate) struct ExactGroups {
    groups: Vec<Vec<f64>>,
    held: usize,
    percentiles: Vec<f64>,
    fields: Option<Fields>,
}

impl ExactGroups {
    /// One percentile, as a Float64 per group.
    fn single(percentile: f64) -> Self {
        ExactGroups { groups: Vec::new(), held: 0, percentiles: vec![percentile], fields: None }
    }

    /// Each of `percentiles`, as the fields of one struct per group.
    pub(crate) fn several(percentiles: Vec<f64>, fields: Fields) -> Self {
        ExactGroups { groups: Vec::new(), held: 0, percentiles, fields: Some(fields) }
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<f64>> {
        let taken = emit_to.take_needed(&mut self.groups);
        self.held -= taken.iter().map(Vec::len).sum::<usize>();
        taken
    }
}

fn float_values<'a>(array: &'a ArrayRef, what: &str) -> Result<&'a Float64Array> {
    array
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| datafusion::common::DataFusionError::Execution(format!("percentile_cont: {what} must be Float64, got {}", array.data_type())))
}

impl GroupsAccumulator for ExactGroups {
    fn update_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], opt_filter: Option<&BooleanArray>, total_num_groups: usize) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let values = float_values(&values[0], "the ordered values")?;
        for (row, &group) in group_indices.iter().enumerate() {
            if passes(opt_filter, row) && values.is_valid(row) {
                self.groups[group].push(values.value(row));
                self.held += 1;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        use rayon::prelude::*;
        let mut groups = self.take(emit_to);
        // Selection leaves each group's values reordered, never changed, so every percentile
        // reads the same values. Groups are independent: with many values, they are selected on
        // every core. The final step of a percentile runs on one partition (see `gathered_final`),
        // so a KPI run alone would otherwise leave a core idle (on the 10 M store, 20 M values
        // per KPI).
        let percentiles = &self.percentiles;
        let select = |values: &mut Vec<f64>| percentiles.iter().map(|&p| interpolate(values, p)).collect::<Vec<_>>();
        let values: usize = groups.iter().map(Vec::len).sum();
        let selected: Vec<Vec<Option<f64>>> =
            if values >= PARALLEL_SELECTION { groups.par_iter_mut().map(select).collect() } else { groups.iter_mut().map(select).collect() };
        let mut columns: Vec<ArrayRef> =
            (0..percentiles.len()).map(|k| Arc::new(selected.iter().map(|group| group[k]).collect::<Float64Array>()) as ArrayRef).collect();
        match &self.fields {
            Some(fields) => Ok(Arc::new(StructArray::try_new(fields.clone(), columns, None)?)),
            None => columns.pop().ok_or_else(|| datafusion::common::DataFusionError::Internal("percentile_cont: no percentile".into())),
        }
    }

    /// One list of the collected values per group, as DataFusion's `percentile_cont` states it.
    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        let offsets = OffsetBuffer::from_lengths(groups.iter().map(Vec::len));
        let mut flat = Vec::with_capacity(groups.iter().map(Vec::len).sum());
        for group in groups {
            flat.extend_from_slice(&group);
        }
        Ok(vec![values_list(offsets, flat, None)])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let Some(lists) = values[0].as_list_opt::<i32>() else {
            return Err(datafusion::common::DataFusionError::Execution(format!(
                "percentile_cont: its partial state must be a list, got {}",
                values[0].data_type()
            )));
        };
        let items = float_values(lists.values(), "the partial state's values")?;
        for (row, &group) in group_indices.iter().enumerate() {
            if lists.is_null(row) {
                continue;
            }
            let (start, end) = (lists.value_offsets()[row] as usize, lists.value_offsets()[row + 1] as usize);
            let before = self.groups[group].len();
            if items.null_count() == 0 {
                self.groups[group].extend_from_slice(&items.values()[start..end]);
            } else {
                self.groups[group].extend((start..end).filter(|&i| items.is_valid(i)).map(|i| items.value(i)));
            }
            self.held += self.groups[group].len() - before;
        }
        Ok(())
    }

    /// Each row as a group of its own: a list of its value, or a null list.
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let values = float_values(&values[0], "the ordered values")?;
        let kept = |row: usize| values.is_valid(row) && passes(opt_filter, row);
        let offsets = OffsetBuffer::from_lengths((0..values.len()).map(|row| usize::from(kept(row))));
        let nulls = NullBuffer::from((0..values.len()).map(kept).collect::<Vec<bool>>());
        let flat = (0..values.len()).filter(|&row| kept(row)).map(|row| values.value(row)).collect();
        Ok(vec![values_list(offsets, flat, Some(nulls))])
    }

    fn size(&self) -> usize {
        self.held * std::mem::size_of::<f64>() + self.groups.capacity() * std::mem::size_of::<Vec<f64>>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// p90 of 0..=20 (21 values): rank 0.9 · 20 = 18, exactly the value 18. p90 of 0..=9 (10
    /// values): rank 0.9 · 9 = 8.1, 8 + 0.1 · (9 − 8) = 8.1; in floating point 0.9 · 9 is
    /// 8.100000000000001, whose fraction DataFusion would truncate to 0.100000.
    #[test]
    fn interpolation_is_exact() {
        assert_eq!(interpolate(&mut (0..=20).map(f64::from).collect::<Vec<_>>(), 0.9), Some(18.0));
        let p90 = interpolate(&mut (0..10).rev().map(f64::from).collect::<Vec<_>>(), 0.9).unwrap();
        assert_eq!(p90, 8.0 + (0.9f64 * 9.0 - 8.0));
        assert_eq!(interpolate(&mut [5.0], 0.9), Some(5.0));
        assert_eq!(interpolate(&mut [], 0.5), None);
        // 1 000 values 0.001 … 1.0: p90 rank 899.1 lies between 0.9 and 0.901.
        let mut many: Vec<f64> = (1..=1000).map(|i| f64::from(i) / 1000.0).collect();
        let rank = 0.9 * 999.0;
        assert_eq!(interpolate(&mut many, 0.9), Some(0.9 + (0.901 - 0.9) * (rank - 899.0)));
    }

    /// Selection gives what sorting gives, for lengths 1 to 60 with ties, at every percentile a
    /// KPI uses and a few more.
    #[test]
    fn selection_agrees_with_sorting() {
        let mut state = 17u64;
        for len in 1..=60usize {
            let values: Vec<f64> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    ((state >> 40) % 50) as f64 / 4.0
                })
                .collect();
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for p in [0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0] {
                let rank = p * (len - 1) as f64;
                let (lower, upper) = (rank.floor() as usize, rank.ceil() as usize);
                let expected = sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower as f64);
                assert_eq!(interpolate(&mut values.clone(), p), Some(expected), "p {p} of {values:?}");
            }
        }
    }

    /// Partial states from one partition, rows passed on as state from another (one group per
    /// row, some filtered or null), merged: each group's percentile is that of all its values.
    #[test]
    fn grouped_partial_states_merge() {
        let values = |v: &[Option<f64>]| -> Vec<ArrayRef> { vec![Arc::new(Float64Array::from(v.to_vec()))] };
        let mut left = ExactGroups::single(0.5);
        // Group 0: 1, 3; group 1: 10 (a null is skipped).
        left.update_batch(&values(&[Some(1.0), Some(10.0), None, Some(3.0)]), &[0, 1, 1, 0], None, 2).unwrap();
        let right = ExactGroups::single(0.5);
        // Rows 2.0 (group 0), 20.0 (group 1) and 99.0, which the filter drops.
        let filter = BooleanArray::from(vec![true, true, false]);
        let passed = right.convert_to_state(&values(&[Some(2.0), Some(20.0), Some(99.0)]), Some(&filter)).unwrap();
        let mut merged = ExactGroups::single(0.5);
        merged.merge_batch(&left.state(EmitTo::All).unwrap(), &[0, 1], 2).unwrap();
        merged.merge_batch(&passed, &[0, 1, 0], 2).unwrap();
        // Group 0: 1, 2, 3 → median 2. Group 1: 10, 20 → rank 0.5, 10 + 0.5 · 10 = 15.
        let out = merged.evaluate(EmitTo::All).unwrap();
        let out = out.as_primitive::<Float64Type>();
        assert_eq!((out.value(0), out.value(1)), (2.0, 15.0));
        assert_eq!(merged.held, 0, "emitting releases the values");
    }

    /// Registered over DataFusion's, in SQL with WITHIN GROUP, per group and over all rows, it
    /// gives the exact value where DataFusion's truncated weight did not.
    #[tokio::test]
    async fn sql_percentile_cont_is_exact() {
        let ctx = datafusion::prelude::SessionContext::new();
        crate::functions::register_aggregates(&ctx);
        // 12 values 1, 2, 4, … 2048 in group a: p90 rank 0.9 · 11 = 9.9, between 512 and 1024.
        let (a, b): (Vec<String>, Vec<String>) = (0..12).map(|i| (format!("('a', {}.0)", 1u64 << i), format!("('b', {i}.5)"))).unzip();
        let values = [a, b].concat().join(", ");
        let sql = format!("SELECT g, percentile_cont(0.9) WITHIN GROUP (ORDER BY v) AS p90 FROM (VALUES {values}) AS t(g, v) GROUP BY g ORDER BY g");
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let p90 = batches[0].column(1).as_primitive::<Float64Type>();
        let rank = 0.9f64 * 11.0;
        assert_eq!(p90.value(0), 512.0 + (1024.0 - 512.0) * (rank - 9.0));
        assert_eq!(p90.value(1), 9.5 + (10.5 - 9.5) * (rank - 9.0));
        // Without GROUP BY the plain accumulator runs; the same value.
        let sql = format!("SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY v) FROM (VALUES {values}) AS t(g, v) WHERE g = 'a'");
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        assert_eq!(batches[0].column(0).as_primitive::<Float64Type>().value(0), 512.0 + (1024.0 - 512.0) * (rank - 9.0));
    }
}
