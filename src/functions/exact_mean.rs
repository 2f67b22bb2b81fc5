//! `exact_mean(x)`: the mean of 64-bit integers, such as durations in microseconds, from their
//! exact sum in 128 bits, divided once at the end.
//!
//! `avg` over floating-point hours adds in the order the rows arrive, so the same incidents split
//! between other files or partitions can give another last bit. Integers add up to the same total
//! in any order, and 128 bits hold the sum of any number of rows a store can have (DataFusion's
//! `sum` of Int64 wraps on overflow; a sum as `DECIMAL(38, 0)` is exact too, but casting every row
//! to it made the duration KPIs about an eighth slower). Nulls are left out; the mean of no values
//! is null.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal128Array, Float64Array, Int64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Field, FieldRef, Int64Type};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility};

use super::grouped::{OneGroup, passes};

/// The aggregate UDF to register, named `exact_mean`.
pub fn udaf() -> AggregateUDF {
    AggregateUDF::new_from_impl(ExactMean { signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable) })
}

/// A partial sum's type: the widest decimal, whole numbers.
const SUM_TYPE: DataType = DataType::Decimal128(38, 0);

#[derive(Debug, PartialEq, Eq, Hash)]
struct ExactMean {
    signature: Signature,
}

impl AggregateUDFImpl for ExactMean {
    fn name(&self) -> &str {
        "exact_mean"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match args {
            [DataType::Int64] => Ok(DataType::Float64),
            _ => exec_err!("exact_mean: its one argument must be a 64-bit integer (BIGINT), got {args:?}"),
        }
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new("sum", SUM_TYPE, true)), Arc::new(Field::new("count", DataType::Int64, true))])
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup(Sums::default())))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Sums::default()))
    }
}

/// Each group's exact sum and count of values.
#[derive(Debug, Clone, Default)]
struct Sums {
    sums: Vec<i128>,
    counts: Vec<i64>,
}

impl Sums {
    fn grow(&mut self, total_num_groups: usize) {
        self.sums.resize(total_num_groups, 0);
        self.counts.resize(total_num_groups, 0);
    }

    /// Adds each of `values` that is not null and passes the filter to its group.
    fn add(&mut self, values: &[i64], nulls: Option<&NullBuffer>, group_indices: &[usize], opt_filter: Option<&BooleanArray>) {
        let every_row = nulls.is_none() && opt_filter.is_none();
        for (row, (&group, &value)) in group_indices.iter().zip(values).enumerate() {
            if every_row || (nulls.is_none_or(|n| n.is_valid(row)) && passes(opt_filter, row)) {
                self.sums[group] += i128::from(value);
                self.counts[group] += 1;
            }
        }
    }

    fn take(&mut self, emit_to: EmitTo) -> (Vec<i128>, Vec<i64>) {
        (emit_to.take_needed(&mut self.sums), emit_to.take_needed(&mut self.counts))
    }
}

impl GroupsAccumulator for Sums {
    fn update_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], opt_filter: Option<&BooleanArray>, total_num_groups: usize) -> Result<()> {
        self.grow(total_num_groups);
        let Some(column) = values[0].as_primitive_opt::<Int64Type>() else {
            return exec_err!("exact_mean: expected BIGINT values, got {}", values[0].data_type());
        };
        self.add(column.values(), column.nulls(), group_indices, opt_filter);
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (sums, counts) = self.take(emit_to);
        let means: Float64Array = sums.iter().zip(&counts).map(|(&sum, &count)| (count > 0).then(|| sum as f64 / count as f64)).collect();
        Ok(Arc::new(means))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (sums, counts) = self.take(emit_to);
        let sums = Decimal128Array::from(sums).with_data_type(SUM_TYPE);
        Ok(vec![Arc::new(sums), Arc::new(Int64Array::from(counts))])
    }

    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.grow(total_num_groups);
        let (Some(sums), Some(counts)) = (values[0].as_primitive_opt::<Decimal128Type>(), values[1].as_primitive_opt::<Int64Type>()) else {
            return exec_err!("exact_mean: a partial state must be (DECIMAL(38, 0), BIGINT)");
        };
        for (row, &group) in group_indices.iter().enumerate() {
            if sums.is_valid(row) && counts.is_valid(row) {
                self.sums[group] += sums.value(row);
                self.counts[group] += counts.value(row);
            }
        }
        Ok(())
    }

    /// Each row as a state of its own: its value and a count of 1, or a count of 0 where it is
    /// null or filtered out.
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let Some(column) = values[0].as_primitive_opt::<Int64Type>() else {
            return exec_err!("exact_mean: expected BIGINT values, got {}", values[0].data_type());
        };
        let kept = |row: usize| column.is_valid(row) && passes(opt_filter, row);
        let sums: Decimal128Array = (0..column.len()).map(|row| Some(if kept(row) { i128::from(column.value(row)) } else { 0 })).collect();
        let counts: Int64Array = (0..column.len()).map(|row| Some(i64::from(kept(row)))).collect();
        Ok(vec![Arc::new(sums.with_data_type(SUM_TYPE)), Arc::new(counts)])
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.sums.capacity() * size_of::<i128>() + self.counts.capacity() * size_of::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::prelude::SessionContext;

    async fn means(sql: &str) -> Vec<Option<f64>> {
        let ctx = SessionContext::new();
        crate::functions::register_aggregates(&ctx);
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        batches.iter().flat_map(|b| b.column(0).as_primitive::<Float64Type>().iter().collect::<Vec<_>>()).collect()
    }

    /// 6, 12 and 18 minutes in microseconds sum to 2,160,000,000, a third of which is
    /// 720,000,000 µs, 0.2 h to the last bit; `avg` of 0.1, 0.2 and 0.3 h gives
    /// (0.1 + 0.2 + 0.3) / 3 = 0.20000000000000004.
    #[tokio::test]
    async fn the_mean_of_whole_microseconds_is_the_exact_quotient() {
        let exact = means("SELECT exact_mean(m) / 3600000000.0 FROM (VALUES (360000000), (720000000), (1080000000)) AS t(m)").await;
        assert_eq!(exact, [Some(0.2)]);
        let floats = means("SELECT avg(h) FROM (VALUES (0.1), (0.2), (0.3)) AS t(h)").await;
        assert_eq!(floats, [Some(0.20000000000000004)]);
    }

    /// Nulls are left out; a group of nulls has no mean. Group a: (1 + 2) / 2 = 1.5; group b: none.
    #[tokio::test]
    async fn nulls_are_left_out_and_no_values_have_no_mean() {
        let sql = "SELECT exact_mean(m) FROM (VALUES ('a', 1), ('a', NULL), ('a', 2), ('b', NULL)) AS t(g, m) GROUP BY g ORDER BY g";
        assert_eq!(means(sql).await, [Some(1.5), None]);
    }

    /// Sums past i64: eleven values of 9e17 sum to 9.9e18 > 9.22e18, which Int64 `sum` wraps;
    /// the exact mean is 9e17.
    #[tokio::test]
    async fn sums_past_sixty_four_bits_stay_exact() {
        let rows = (0..11).map(|_| "(900000000000000000)").collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT exact_mean(m) FROM (VALUES {rows}) AS t(m)");
        assert_eq!(means(&sql).await, [Some(9e17)]);
    }

    /// Rows turned into states one by one (as DataFusion does where it skips the partial
    /// aggregate) merge to the mean of the rows kept: 4 and 8 kept, the null and the filtered-out
    /// 100 not, (4 + 8) / 2 = 6; the second group has only the null, so no mean.
    #[test]
    fn rows_as_states_merge_to_the_mean_of_the_kept_rows() {
        use super::*;
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(4), None, Some(100), Some(8), None]));
        let filter = BooleanArray::from(vec![true, true, false, true, true]);
        let mut sums = Sums::default();
        let states = sums.convert_to_state(&[values], Some(&filter)).unwrap();
        sums.merge_batch(&states, &[0, 0, 0, 0, 1], 2).unwrap();
        let means = sums.evaluate(EmitTo::All).unwrap();
        assert_eq!(means.as_primitive::<Float64Type>().iter().collect::<Vec<_>>(), [Some(6.0), None]);
    }

    /// A grouped run's partial states merge to the same figures as one group: a GROUP BY over
    /// many partitions (the values unioned from two inputs) gives what one partition gives.
    #[tokio::test]
    async fn partial_states_merge_to_the_same_mean() {
        let sql = "SELECT exact_mean(m) FROM (
                       SELECT 1 AS g, m FROM (VALUES (3), (5)) AS a(m)
                       UNION ALL SELECT 1 AS g, m FROM (VALUES (7), (NULL)) AS b(m)) GROUP BY g";
        // (3 + 5 + 7) / 3 = 5.
        assert_eq!(means(sql).await, [Some(5.0)]);
    }
}
