//! The order a load writes rows in, over rows held in many batches: by the sort columns (ascending,
//! nulls last), then by input order. The sorted rows are cut out a row group at a time, so that
//! they are never all in memory at once beside the rows they come from.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::buffer::ScalarBuffer;
use datafusion::arrow::compute::{SortOptions, concat_batches, interleave};
use datafusion::arrow::datatypes::{DataType, Int64Type, SchemaRef, TimeUnit, TimestampMicrosecondType};
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use rayon::prelude::*;

use crate::error::Result;

/// Positions over rows held in many batches, in the batches' order: a row is known by its
/// position and found by the batch it falls in.
pub struct Positions {
    /// Where each batch's rows start; one more entry for the end.
    starts: Vec<usize>,
}

impl Positions {
    pub fn of(batches: &[RecordBatch]) -> Positions {
        let mut starts = Vec::with_capacity(batches.len() + 1);
        let mut rows = 0;
        for batch in batches {
            starts.push(rows);
            rows += batch.num_rows();
        }
        starts.push(rows);
        Positions { starts }
    }

    pub fn rows(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    /// The batch and row of position `at`.
    pub fn locate(&self, at: usize) -> (usize, usize) {
        let batch = self.starts.partition_point(|&start| start <= at) - 1;
        (batch, at - self.starts[batch])
    }

    /// The positions of batch `b`'s rows.
    pub fn of_batch(&self, b: usize) -> Range<usize> {
        self.starts[b]..self.starts[b + 1]
    }
}

/// Rows of many batches in their sorted order.
pub struct Sorted<'a> {
    schema: SchemaRef,
    batches: &'a [RecordBatch],
    positions: Positions,
    /// The input positions in sorted order, or None when the input is in that order already.
    order: Option<Vec<u32>>,
}

impl<'a> Sorted<'a> {
    /// `batches` (each of `schema`) sorted by the `sort` columns.
    pub fn new(schema: SchemaRef, batches: &'a [RecordBatch], sort: &[&str]) -> Result<Sorted<'a>> {
        let positions = Positions::of(batches);
        let order = sort_order(batches, sort)?;
        Ok(Sorted { schema, batches, positions, order })
    }

    pub fn rows(&self) -> usize {
        self.positions.rows()
    }

    /// The rows at sorted positions `range`, as one batch.
    pub fn rows_at(&self, range: Range<usize>) -> Result<RecordBatch> {
        let Some(order) = &self.order else {
            // In order already: the range's pieces of the input batches, copied only when the
            // range spans more than one of them.
            let (first, _) = self.positions.locate(range.start);
            let mut pieces = Vec::new();
            for (b, batch) in self.batches.iter().enumerate().skip(first) {
                let Range { start, end } = self.positions.of_batch(b);
                if start >= range.end {
                    break;
                }
                let from = range.start.max(start);
                let to = range.end.min(end);
                if to > from {
                    pieces.push(batch.slice(from - start, to - from));
                }
            }
            return Ok(match pieces.len() {
                1 => pieces.pop().expect("one piece"),
                _ => concat_batches(&self.schema, &pieces)?,
            });
        };
        let indices: Vec<(usize, usize)> = order[range].iter().map(|&at| self.positions.locate(at as usize)).collect();
        // Columns move independently: on all cores at once.
        let columns = (0..self.schema.fields().len())
            .into_par_iter()
            .map(|c| {
                let arrays: Vec<&dyn Array> = self.batches.iter().map(|b| b.column(c).as_ref()).collect();
                interleave(&arrays, &indices)
            })
            .collect::<std::result::Result<Vec<ArrayRef>, _>>()?;
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// The input positions of `batches` sorted by the `sort` columns (ascending, nulls
/// last), or None when the rows are in that order already. The first column, a timestamp or
/// integer in every table but one, compares as integers; the rest, in Arrow's row format, only
/// break its ties. Sorted on every core: the last file of a load is sorted after reading has
/// ended, with nothing else to do.
pub(super) fn sort_order(batches: &[RecordBatch], sort: &[&str]) -> Result<Option<Vec<u32>>> {
    let rows = batches.iter().map(RecordBatch::num_rows).sum();
    let options = SortOptions { descending: false, nulls_first: false };
    let column = |name: &str, batch: &RecordBatch| Arc::clone(batch.column_by_name(name).expect("sort columns are in the schema"));
    // The columns `names` of every batch, as one comparable row per input row.
    let comparable = |names: &[&str]| -> Result<Option<Rows>> {
        let Some(first) = batches.first() else { return Ok(None) };
        if names.is_empty() {
            return Ok(None);
        }
        let fields = names.iter().map(|n| SortField::new_with_options(column(n, first).data_type().clone(), options)).collect();
        let converter = RowConverter::new(fields)?;
        let mut comparable = converter.empty_rows(rows, 0);
        for batch in batches {
            converter.append(&mut comparable, &names.iter().map(|n| column(n, batch)).collect::<Vec<_>>())?;
        }
        Ok(Some(comparable))
    };
    let first_type = batches.first().map(|b| column(sort[0], b).data_type().clone());
    let integers = matches!(first_type, Some(DataType::Timestamp(TimeUnit::Microsecond, _) | DataType::Int64));
    let mut order: Vec<u32> = (0..rows as u32).collect();
    if integers {
        let values = |batch: &RecordBatch| -> ScalarBuffer<i64> {
            let column = column(sort[0], batch);
            match column.data_type() {
                DataType::Int64 => column.as_primitive::<Int64Type>().values().clone(),
                _ => column.as_primitive::<TimestampMicrosecondType>().values().clone(),
            }
        };
        let ties = comparable(&sort[1..])?;
        let tie = |a: u32, b: u32| ties.as_ref().map_or(std::cmp::Ordering::Equal, |t| t.row(a as usize).cmp(&t.row(b as usize))).then_with(|| a.cmp(&b));
        if batches.iter().all(|b| column(sort[0], b).null_count() == 0) {
            let mut keys: Vec<i64> = Vec::with_capacity(rows);
            batches.iter().for_each(|batch| keys.extend_from_slice(&values(batch)));
            order.par_sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]).then_with(|| tie(a, b)));
        } else {
            // Nulls last: (is null, value), with a null's slot value ignored.
            let mut keys: Vec<(bool, i64)> = Vec::with_capacity(rows);
            for batch in batches {
                let nulls = column(sort[0], batch);
                keys.extend(values(batch).iter().enumerate().map(|(i, &v)| if nulls.is_null(i) { (true, 0) } else { (false, v) }));
            }
            order.par_sort_unstable_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]).then_with(|| tie(a, b)));
        }
    } else if let Some(all) = comparable(sort)? {
        order.par_sort_unstable_by(|&a, &b| all.row(a as usize).cmp(&all.row(b as usize)).then_with(|| a.cmp(&b)));
    }
    let in_order = order.iter().enumerate().all(|(i, &at)| at as usize == i);
    Ok((!in_order).then_some(order))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{StringArray, TimestampMicrosecondArray, UInt32Array};
    use datafusion::arrow::compute::{SortColumn, lexsort_to_indices};

    use super::*;

    /// The integer first key with ties broken by the rest sorts as Arrow's lexicographic sort,
    /// nulls last: over ties, nulls and text-first keys alike, whether the rows come in one batch
    /// or in several of uneven sizes.
    #[test]
    fn sort_order_is_the_lexicographic_order() {
        let n = 5000u64;
        let times: TimestampMicrosecondArray = (0..n).map(|i| (i % 7 != 3).then_some(((i * 7919) % 101) as i64 - 50)).collect();
        let ids: StringArray = (0..n).map(|i| Some(format!("T{}", (i * 104_729) % n))).collect();
        let batch = RecordBatch::try_from_iter([("at", Arc::new(times) as ArrayRef), ("id", Arc::new(ids) as ArrayRef)]).unwrap();
        let pieces: Vec<RecordBatch> = [(0, 1), (1, 999), (1000, 2500), (3500, 1500)].iter().map(|&(at, len)| batch.slice(at, len)).collect();
        for sort in [["at", "id"], ["id", "at"]] {
            let expected = lexsort_to_indices(
                &sort.map(|c| SortColumn {
                    values: batch.column_by_name(c).unwrap().clone(),
                    options: Some(SortOptions { descending: false, nulls_first: false }),
                }),
                None,
            )
            .unwrap();
            for input in [std::slice::from_ref(&batch), &pieces] {
                let order = sort_order(input, &sort).unwrap().expect("the rows are not in order");
                assert_eq!(UInt32Array::from(order), expected, "{sort:?} over {} batches", input.len());
            }
            let sorted = datafusion::arrow::compute::take_record_batch(&batch, &expected).unwrap();
            assert_eq!(sort_order(&[sorted], &sort).unwrap(), None, "sorted rows need no order");
        }
    }

    /// Any range of sorted positions holds the rows a sort of all of them puts there, whether
    /// the input needs moving or is in order and only cut.
    #[test]
    fn a_range_of_sorted_rows_is_the_same_range_of_the_whole_sort() {
        let n = 3000i64;
        let at = TimestampMicrosecondArray::from_iter_values((0..n).map(|i| (i * 7919) % 97));
        let id = StringArray::from_iter_values((0..n).map(|i| format!("T{i:05}")));
        let whole = RecordBatch::try_from_iter([("at", Arc::new(at) as ArrayRef), ("id", Arc::new(id) as ArrayRef)]).unwrap();
        let columns = [0, 1].map(|c| SortColumn { values: whole.column(c).clone(), options: None });
        let expected_order = lexsort_to_indices(&columns, None).unwrap();
        let expected = datafusion::arrow::compute::take_record_batch(&whole, &expected_order).unwrap();
        for input in [&whole, &expected] {
            let pieces: Vec<RecordBatch> = (0..n as usize).step_by(700).map(|at| input.slice(at, 700.min(n as usize - at))).collect();
            let sorted = Sorted::new(whole.schema(), &pieces, &["at", "id"]).unwrap();
            assert_eq!(sorted.rows(), n as usize);
            for range in [0..1, 650..1450, 0..n as usize, 2999..3000] {
                assert_eq!(sorted.rows_at(range.clone()).unwrap(), expected.slice(range.start, range.len()), "{range:?}");
            }
        }
    }
}
