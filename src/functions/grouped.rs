//! Each group's rows kept whole, for the aggregates that need them all at once (`outage_union`,
//! `max_in_window`): N timestamp columns collected per group, the partial state as N lists of
//! Int64 (microseconds), the merge of partial states, and the same accumulators over one group.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

/// The partial state's fields: one list of microseconds per collected column.
pub fn state_fields(names: &[&str]) -> Vec<FieldRef> {
    names.iter().map(|name| Arc::new(Field::new(*name, DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false))), true)) as FieldRef).collect()
}

/// Whether row `row` passes an aggregate's FILTER (a null counts as false); every row without one.
pub fn passes(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

/// The rows of each group, N microsecond values each, in arrival order. Rows with a null, or that
/// `keep` refuses, are not kept.
#[derive(Debug, Clone)]
pub struct PerGroup<const N: usize> {
    name: &'static str,
    keep: fn(&[i64; N]) -> bool,
    pub groups: Vec<Vec<[i64; N]>>,
    held: usize,
}

impl<const N: usize> PerGroup<N> {
    pub fn new(name: &'static str, keep: fn(&[i64; N]) -> bool) -> Self {
        PerGroup { name, keep, groups: Vec::new(), held: 0 }
    }

    fn push(&mut self, group: usize, row: [i64; N]) {
        if (self.keep)(&row) {
            self.groups[group].push(row);
            self.held += 1;
        }
    }

    /// Rows of the aggregate's first N arguments, microsecond timestamps.
    pub fn update(&mut self, values: &[ArrayRef], group_indices: &[usize], filter: Option<&BooleanArray>, total_num_groups: usize) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let mut columns = Vec::with_capacity(N);
        for (i, value) in values.iter().take(N).enumerate() {
            match value.as_primitive_opt::<TimestampMicrosecondType>() {
                Some(column) => columns.push(column),
                None => return exec_err!("{}: argument {} must be a microsecond timestamp, got {}", self.name, i + 1, value.data_type()),
            }
        }
        if columns.len() < N {
            return exec_err!("{}: takes {N} timestamps", self.name);
        }
        for (row, &group) in group_indices.iter().enumerate() {
            if passes(filter, row) && columns.iter().all(|c| c.is_valid(row)) {
                self.push(group, std::array::from_fn(|i| columns[i].value(row)));
            }
        }
        Ok(())
    }

    /// Partial states (N lists per row) into the groups.
    pub fn merge(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let lists: Option<Vec<&ListArray>> = values.iter().take(N).map(|v| v.as_list_opt::<i32>()).collect();
        let Some(lists) = lists.filter(|l| l.len() == N) else {
            return exec_err!("{}: its partial state must be {N} lists", self.name);
        };
        let Some(items) = lists.iter().map(|l| l.values().as_primitive_opt::<Int64Type>()).collect::<Option<Vec<_>>>() else {
            return exec_err!("{}: its partial state must be lists of Int64", self.name);
        };
        for (row, &group) in group_indices.iter().enumerate() {
            if lists.iter().any(|l| l.is_null(row)) {
                continue;
            }
            let starts: Vec<usize> = lists.iter().map(|l| l.value_offsets()[row] as usize).collect();
            let len = lists.iter().map(|l| l.value_length(row) as usize).min().unwrap_or(0);
            for i in 0..len {
                self.push(group, std::array::from_fn(|c| items[c].value(starts[c] + i)));
            }
        }
        Ok(())
    }

    /// The groups `emit_to` asks for, taken out.
    pub fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<[i64; N]>> {
        let taken = emit_to.take_needed(&mut self.groups);
        self.held -= taken.iter().map(Vec::len).sum::<usize>();
        taken
    }

    /// `groups` as the partial state: N list columns, one row per group.
    pub fn state_of(groups: &[Vec<[i64; N]>]) -> Vec<ArrayRef> {
        let offsets = OffsetBuffer::from_lengths(groups.iter().map(Vec::len));
        let item = Arc::new(Field::new_list_field(DataType::Int64, false));
        (0..N)
            .map(|c| {
                let values = Int64Array::from_iter_values(groups.iter().flatten().map(|row| row[c]));
                Arc::new(ListArray::new(item.clone(), offsets.clone(), Arc::new(values), None::<NullBuffer>)) as ArrayRef
            })
            .collect()
    }

    /// Each input row as a group of its own, as partial state.
    pub fn convert_to_state(&self, values: &[ArrayRef], filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let rows = values.first().map_or(0, |v| v.len());
        let mut each = PerGroup::new(self.name, self.keep);
        each.update(values, &(0..rows).collect::<Vec<_>>(), filter, rows)?;
        Ok(Self::state_of(&each.groups))
    }

    pub fn size(&self) -> usize {
        self.held * std::mem::size_of::<[i64; N]>() + self.groups.capacity() * std::mem::size_of::<Vec<[i64; N]>>()
    }

    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.held
    }
}

/// A groups accumulator over a single group, where DataFusion asks for a plain accumulator (no
/// GROUP BY, or a window). Evaluating and stating work on a copy: over a window DataFusion
/// evaluates after every row and goes on adding rows.
#[derive(Debug)]
pub struct OneGroup<G>(pub G);

impl<G: GroupsAccumulator + Clone + std::fmt::Debug + Sync + 'static> Accumulator for OneGroup<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = values.first().map_or(0, |v| v.len());
        self.0.update_batch(values, &vec![0; rows], None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let mut copy = self.0.clone();
        ScalarValue::try_from_array(&copy.evaluate(EmitTo::All)?, 0)
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.0.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let mut copy = self.0.clone();
        copy.state(EmitTo::All)?.iter().map(|column| ScalarValue::try_from_array(column, 0)).collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = states.first().map_or(0, |v| v.len());
        self.0.merge_batch(states, &vec![0; rows], 1)
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Float64Type, Int64Type};

    /// Without GROUP BY, DataFusion runs the plain accumulators (partial state, merge, evaluate):
    /// the same figures as grouped.
    #[tokio::test]
    async fn one_group_runs_the_plain_accumulators() {
        let ctx = datafusion::prelude::SessionContext::new();
        crate::functions::register_aggregates(&ctx);
        // Hours [0, 2] and [1, 3] merge into [0, 3]; [5, 6] stands apart: downtime 3 + 1 = 4 h,
        // one gap of 5 − 3 = 2 h. Instants 0, 1, 5 h in a 2-hour window: at most 2 (0 and 1).
        let sql = "SELECT get_field(u, 'downtime_hours'), get_field(u, 'mean_gap_hours'), most FROM (
                       SELECT outage_union(to_timestamp_micros(a * 3600000000), to_timestamp_micros(b * 3600000000)) AS u,
                              max_in_window(to_timestamp_micros(a * 3600000000), 7200.0) AS most
                       FROM (VALUES (0, 2), (1, 3), (5, 6)) AS t(a, b))";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let row = &batches[0];
        assert_eq!(row.column(0).as_primitive::<Float64Type>().value(0), 4.0);
        assert_eq!(row.column(1).as_primitive::<Float64Type>().value(0), 2.0);
        assert_eq!(row.column(2).as_primitive::<Int64Type>().value(0), 2);
    }
}
