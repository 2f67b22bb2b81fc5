//! Each group's rows kept whole, for the aggregates that need them all at once (`outage_union`,
//! `max_in_window`): N timestamp columns collected per group, the partial state as N lists of
//! Int64 (microseconds), and the merge of partial states.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimestampMicrosecondType};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::EmitTo;

/// The partial state's fields: one list of microseconds per collected column.
pub fn state_fields(names: &[&str]) -> Vec<FieldRef> {
    names.iter().map(|name| Arc::new(Field::new(*name, DataType::List(Arc::new(Field::new_list_field(DataType::Int64, false))), true)) as FieldRef).collect()
}

fn passes(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

/// The rows of each group, N microsecond values each, in arrival order. Rows with a null, or that
/// `keep` refuses, are not kept.
#[derive(Debug)]
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

    pub fn held(&self) -> usize {
        self.held
    }
}
