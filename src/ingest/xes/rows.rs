//! Row building for the XES reader: an event as (column id, value) pairs, the file's column names
//! interned to those ids, and the pending events turned into a string-column batch.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};

use crate::ingest::raw::RawChunk;

/// One event: (column id, value) in document order; a later duplicate key wins.
pub(super) type Values = Vec<(u32, String)>;

/// Column names for the whole file, interned so that rows hold small ids instead of key strings.
#[derive(Default)]
pub(super) struct Columns {
    names: Vec<String>,
    index: HashMap<String, u32>,
    scratch: String,
}

impl Columns {
    pub(super) fn id(&mut self, prefix: &str, key: &str) -> u32 {
        self.scratch.clear();
        self.scratch.push_str(prefix);
        self.scratch.push_str(key);
        if let Some(&id) = self.index.get(&self.scratch) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(self.scratch.clone());
        self.index.insert(self.scratch.clone(), id);
        id
    }
}

#[derive(Default)]
pub(super) struct Batch {
    pub(super) rows: Vec<u64>,
    pub(super) values: Vec<Values>,
}

impl Batch {
    pub(super) fn len(&self) -> usize {
        self.rows.len()
    }

    /// Builds a batch whose columns are the keys seen in these events, in first-seen order.
    pub(super) fn take(&mut self, columns: &Columns) -> RawChunk {
        let rows = std::mem::take(&mut self.rows);
        let values = std::mem::take(&mut self.values);
        let mut position = vec![usize::MAX; columns.names.len()];
        let mut ids: Vec<u32> = Vec::new();
        for (id, _) in values.iter().flatten() {
            if position[*id as usize] == usize::MAX {
                position[*id as usize] = ids.len();
                ids.push(*id);
            }
        }
        let mut builders: Vec<StringBuilder> = ids.iter().map(|_| StringBuilder::new()).collect();
        let mut slots: Vec<Option<&str>> = vec![None; ids.len()];
        for event in &values {
            slots.fill(None);
            for (id, value) in event {
                slots[position[*id as usize]] = Some(value);
            }
            for (slot, builder) in slots.iter().zip(builders.iter_mut()) {
                builder.append_option(*slot);
            }
        }
        let schema = Arc::new(Schema::new(ids.iter().map(|id| Field::new(&columns.names[*id as usize], DataType::Utf8, true)).collect::<Vec<_>>()));
        let arrays: Vec<ArrayRef> = builders.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef).collect();
        let batch = RecordBatch::try_new_with_options(schema, arrays, &RecordBatchOptions::new().with_row_count(Some(rows.len())))
            .expect("columns are built with one value per event");
        RawChunk { batch, rows, lines: Vec::new(), malformed: Vec::new(), complete_schema: false }
    }
}
