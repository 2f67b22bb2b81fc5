//! Writing the generated world to disk: each table to its file in the layout's format, batches
//! built in parallel and written in order, and the summary of the files written.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use rayon::prelude::*;

use crate::Result;
use crate::model::Table;
use crate::write::{OutputFormat, TableWriter};

use super::World;
use super::options::FormatLayout;
use super::tables::BATCH_ROWS;
use super::truth::GroundTruth;

#[derive(Debug, Clone)]
pub struct GenerateSummary {
    /// Each table's file and its row count, in `Table::ALL` order.
    pub files: Vec<(PathBuf, u64)>,
    pub ground_truth: GroundTruth,
}

pub(super) fn table_position(table: Table) -> usize {
    Table::ALL.iter().position(|&t| t == table).unwrap_or(0)
}

pub(super) fn write_tables(world: &World, dir: &Path, layout: FormatLayout) -> Result<Vec<(PathBuf, u64)>> {
    let chunks = |rows: usize| rows.div_ceil(BATCH_ROWS);
    Table::ALL
        .into_iter()
        .map(|table| {
            let file = dir.join(layout.file_name(table));
            let (format, gzip) = layout.format_of(table);
            let write = |batches: usize, build: &(dyn Fn(usize) -> Result<RecordBatch> + Sync)| write_table(&file, format, gzip, table, batches, build);
            let rows = match table {
                Table::Incidents => write(chunks(world.incidents.len()), &|c| world.incident_batch(c)),
                Table::Problems => write(chunks(world.problems.len()), &|c| world.problem_batch(c)),
                Table::Changes => write(chunks(world.changes.len()), &|c| world.change_batch(c)),
                Table::Cis => write(chunks(world.cmdb.cis.len()), &|c| world.ci_batch(c)),
                Table::Events => write(world.event_starts.len(), &|c| world.event_batch(c, world.event_starts[c])),
                Table::Outages => write(chunks(world.outages.len()), &|c| world.outage_batch(c)),
            }?;
            Ok((file, rows))
        })
        .collect()
}

/// Builds a table's batches a few at a time in parallel and writes them in order, so memory
/// stays bounded and the file does not depend on scheduling.
fn write_table(
    path: &Path,
    format: OutputFormat,
    gzip: bool,
    table: Table,
    batches: usize,
    build: &(dyn Fn(usize) -> Result<RecordBatch> + Sync),
) -> Result<u64> {
    let mut writer = TableWriter::create(path, format, gzip, table.schema())?;
    let in_flight = 2 * rayon::current_num_threads().max(1);
    for first in (0..batches).step_by(in_flight) {
        let built = (first..(first + in_flight).min(batches)).into_par_iter().map(build).collect::<Result<Vec<_>>>()?;
        for batch in &built {
            writer.write(batch)?;
        }
    }
    writer.finish()
}
