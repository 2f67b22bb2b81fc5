//! What a load hands the store: each table's new rows with their version keys, and the new events
//! of event-log histories, held in memory until the merge with what the store already has.

use std::collections::BTreeMap;

use datafusion::arrow::record_batch::RecordBatch;

use super::writer::{lifecycle_versions, with_hidden};
use crate::error::Result;
use crate::ingest::TableSink;
use crate::model::Table;

/// Rows of one load, in the stored schema (canonical columns, `_version`, `_load`).
#[derive(Default)]
pub struct LoadedRows {
    generation: u64,
    pub tables: BTreeMap<Table, Vec<RecordBatch>>,
    pub histories: BTreeMap<Table, Vec<RecordBatch>>,
}

impl LoadedRows {
    pub fn new(generation: u64) -> LoadedRows {
        LoadedRows { generation, ..LoadedRows::default() }
    }

    pub fn rows(&self, table: Table) -> usize {
        self.tables.get(&table).map_or(0, |b| b.iter().map(RecordBatch::num_rows).sum())
    }
}

impl TableSink for LoadedRows {
    fn write(&mut self, table: Table, batch: RecordBatch) -> Result<()> {
        let versions = lifecycle_versions(table, &batch);
        self.write_versioned(table, batch, versions)
    }

    fn write_versioned(&mut self, table: Table, batch: RecordBatch, versions: Vec<Vec<u8>>) -> Result<()> {
        let stored = with_hidden(table, &batch, &versions, self.generation)?;
        self.tables.entry(table).or_default().push(stored);
        Ok(())
    }

    fn history(&mut self, table: Table, events: RecordBatch) -> Result<()> {
        self.histories.entry(table).or_default().push(events);
        Ok(())
    }
}
