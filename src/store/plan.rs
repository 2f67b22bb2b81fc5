//! What compaction merges: when a table's files call for it, and which part-filled files go
//! together, ordered by their first sort key and packed greedily into files of up to `FILE_ROWS`
//! rows; and the least a load would rewrite, known before any file is opened.

use std::path::Path;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};

use super::manifest::{DataFile, TableFiles};
use super::reader::{open_file, projection};
use super::writer::FILE_ROWS;
use crate::error::{Error, Result};

/// More files than this in one table make it need compaction.
pub const MAX_FILES: usize = 32;
/// More small files than this in one table make it need compaction.
pub const MAX_SMALL_FILES: usize = 4;
/// A file of fewer rows is small.
pub const SMALL_ROWS: u64 = FILE_ROWS as u64 / 4;
/// A file of fewer rows is part-filled, and may be merged with its neighbours.
pub const PART_FILLED_ROWS: u64 = FILE_ROWS as u64 / 2;

/// True when a table's files call for compaction.
pub fn needs_compaction(files: &TableFiles) -> bool {
    let small = files.files.iter().filter(|f| f.rows < SMALL_ROWS).count();
    files.files.len() > MAX_FILES || small > MAX_SMALL_FILES
}

/// The fewest stored rows (files not `own`) a plan of a table's files rewrites, known without
/// reading them; None with `one_schema_per_group` (a history's), where groups also break at a
/// change of schema. Every part-filled file is under half of `FILE_ROWS` rows, so any two fit one
/// group, and the greedy packing closes a group of one file only at the end: every part-filled
/// file but the last in key order is merged. So the plan rewrites all part-filled stored rows but,
/// at most, the largest such file.
pub fn least_cost(files: &[DataFile], one_schema_per_group: bool, own: &dyn Fn(&DataFile) -> bool) -> Option<u64> {
    if one_schema_per_group {
        return None;
    }
    // With fewer than two part-filled files nothing is merged, and this comes to 0 as well.
    let stored: Vec<u64> = files.iter().filter(|f| f.rows < PART_FILLED_ROWS && !own(f)).map(|f| f.rows).collect();
    Some(stored.iter().sum::<u64>() - stored.iter().max().copied().unwrap_or(0))
}

/// The groups of part-filled files to merge, as indices into `files`: neighbours by their first
/// row of the `sort` columns, at most `FILE_ROWS` rows a group, two or more files each, and with
/// `one_schema_per_group` files of one schema only.
pub fn groups(store: &Path, files: &[DataFile], sort: &[&str], one_schema_per_group: bool) -> Result<Vec<Vec<usize>>> {
    let candidates: Vec<usize> = (0..files.len()).filter(|&i| files[i].rows < PART_FILLED_ROWS).collect();
    if candidates.len() < 2 {
        return Ok(Vec::new());
    }
    let mut firsts = Vec::with_capacity(candidates.len());
    for &i in &candidates {
        firsts.push(first_row(&store.join(&files[i].path), sort)?);
    }
    // Keys compare as Arrow's row format: ascending, nulls last, as the files are sorted.
    let types: Vec<SortField> = firsts
        .iter()
        .find_map(|(key, _)| key.as_ref())
        .map(|key| key.iter().map(|c| SortField::new_with_options(c.data_type().clone(), SortOptions { descending: false, nulls_first: false })).collect())
        .unwrap_or_default();
    let converter = RowConverter::new(types)?;
    let mut ordered: Vec<(Option<OwnedRow>, &str, usize, SchemaRef)> = Vec::with_capacity(candidates.len());
    for (&i, (key, schema)) in candidates.iter().zip(firsts) {
        let row = match key {
            Some(key) => Some(converter.convert_columns(&key)?.row(0).owned()),
            None => None,
        };
        ordered.push((row, files[i].path.as_str(), i, schema));
    }
    ordered.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let in_order: Vec<(usize, u64, SchemaRef)> = ordered.into_iter().map(|(_, _, i, schema)| (i, files[i].rows, schema)).collect();
    Ok(pack(&in_order, one_schema_per_group))
}

/// Packs files, given in key order as (index, rows, schema), greedily into groups of at most
/// `FILE_ROWS` rows; with `one_schema_per_group`, a group holds files of one schema only. Groups
/// of one file are dropped: there is nothing to merge.
fn pack(in_order: &[(usize, u64, SchemaRef)], one_schema_per_group: bool) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group: Vec<usize> = Vec::new();
    let (mut rows, mut group_schema) = (0u64, None::<&SchemaRef>);
    for (i, file_rows, schema) in in_order {
        let fits = rows + file_rows <= FILE_ROWS as u64 && (!one_schema_per_group || group_schema.is_none_or(|s| s.fields() == schema.fields()));
        if !fits {
            groups.push(std::mem::take(&mut group));
            rows = 0;
        }
        group.push(*i);
        rows += file_rows;
        group_schema = Some(schema);
    }
    groups.push(group);
    groups.retain(|g| g.len() > 1);
    groups
}

/// A file's first row of the `sort` columns (None for a file of no rows), and its schema.
fn first_row(path: &Path, sort: &[&str]) -> Result<(Option<Vec<ArrayRef>>, SchemaRef)> {
    let builder = open_file(path)?;
    let schema = builder.schema().clone();
    let mask = projection(path, &builder, sort)?;
    let mut reader = builder.with_projection(mask).with_batch_size(1).with_limit(1).build().map_err(|e| Error::store(path, e.to_string()))?;
    let first = reader.next().transpose().map_err(|e| Error::store(path, e.to_string()))?;
    let key = first.filter(|b| b.num_rows() > 0).map(|b| sort.iter().map(|n| b.column_by_name(n).expect("projected").clone()).collect());
    Ok((key, schema))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema(column: &str) -> SchemaRef {
        Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, true)]))
    }

    /// Neighbours pack up to a full file; a file that would overflow starts the next group, and a
    /// group of one is left alone. Sizes in eighths of a file: 2 2 2 2 | 3 3 | 3.
    #[test]
    fn neighbours_pack_into_full_files() {
        let eighth = FILE_ROWS as u64 / 8;
        let s = schema("a");
        let files: Vec<(usize, u64, SchemaRef)> = [2, 2, 2, 2, 3, 3, 3].iter().enumerate().map(|(i, e)| (i, e * eighth, s.clone())).collect();
        assert_eq!(pack(&files, false), vec![vec![0, 1, 2, 3], vec![4, 5]]);
    }

    /// A history's files of another schema (another profile's rules) start a group of their own.
    #[test]
    fn a_history_merges_only_files_of_one_schema() {
        let (a, b) = (schema("a"), schema("b"));
        let files = vec![(0, 10, a.clone()), (1, 10, a.clone()), (2, 10, b.clone()), (3, 10, b.clone()), (4, 10, a.clone())];
        assert_eq!(pack(&files, true), vec![vec![0, 1], vec![2, 3]]);
        assert_eq!(pack(&files, false), vec![vec![0, 1, 2, 3, 4]], "a table's files are read into one schema");
    }

    /// The cost a load reckons before it plans never exceeds what the plan rewrites, whatever
    /// the files' key order. Sizes in sixteenths of a file; files under 8 are part-filled, and
    /// the load's own files (3 and 9) are free. The stored part-filled files hold 7 + 3 + 1 + 5 +
    /// 7 + 2 = 25 sixteenths, less the largest, 7: at least 18 sixteenths are rewritten.
    #[test]
    fn a_loads_least_cost_bounds_every_plan_from_below() {
        let sixteenth = FILE_ROWS as u64 / 16;
        let sizes = [7, 3, 12, 7, 1, 5, 7, 16, 2, 6];
        let files: Vec<DataFile> = sizes
            .iter()
            .enumerate()
            .map(|(i, size)| DataFile {
                path: format!("{}{i}", if i == 3 || i == 9 { "own" } else { "stored" }),
                rows: size * sixteenth,
                bytes: 0,
                sha256: None,
                key_ranges: BTreeMap::new(),
                stamps: None,
            })
            .collect();
        let own = |f: &DataFile| f.path.starts_with("own");
        let least = least_cost(&files, false, &own).unwrap();
        assert_eq!(least, 18 * sixteenth);
        let candidates: Vec<usize> = (0..files.len()).filter(|&i| files[i].rows < PART_FILLED_ROWS).collect();
        let s = schema("a");
        for rotation in 0..candidates.len() {
            for reversed in [false, true] {
                let mut order = candidates.clone();
                order.rotate_left(rotation);
                if reversed {
                    order.reverse();
                }
                let in_order: Vec<(usize, u64, SchemaRef)> = order.iter().map(|&i| (i, files[i].rows, s.clone())).collect();
                let cost: u64 = pack(&in_order, false).iter().flatten().filter(|&&i| !own(&files[i])).map(|&i| files[i].rows).sum();
                assert!(cost >= least, "order {order:?}: the plan rewrites {cost} rows, under the bound {least}");
            }
        }
        assert_eq!(least_cost(&files, true, &own), None, "a history's schemas break groups");
    }

    /// A table needs compaction past 32 files, or past 4 small ones.
    #[test]
    fn thresholds() {
        let files = |rows: &[u64]| TableFiles {
            rows: rows.iter().sum(),
            files: rows
                .iter()
                .enumerate()
                .map(|(i, r)| DataFile { path: format!("f{i}"), rows: *r, bytes: 0, sha256: None, key_ranges: BTreeMap::new(), stamps: None })
                .collect(),
        };
        assert!(!needs_compaction(&files(&[1; 4])));
        assert!(needs_compaction(&files(&[1; 5])));
        assert!(!needs_compaction(&files(&[SMALL_ROWS; 32])));
        assert!(needs_compaction(&files(&[SMALL_ROWS; 33])));
    }
}
