//! Small in-memory tables as bytes in a plan: the parameter tables of a period (`params`, `months`,
//! `month_priority`), the SLA policy's (`sla_targets`, `sla_pause_states`,
//! `fcr_service_desk_groups`, `monitoring_contact_types`, `service_levels`, `ola_targets`) and a store's empty
//! tables travel with the query as Arrow IPC. Anything larger is refused with what to do instead:
//! executors read the data itself from the store.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::{DataFusionError, Result as DfResult, TableReference, not_impl_err, plan_err};
use datafusion::datasource::MemTable;

/// Marks mttx's table payload and its version.
const MAGIC: &[u8] = b"mttx-memtable/1\n";

/// A plan travels in one gRPC message of at most 16 MiB, once to the scheduler and once per task
/// to the executors; tables above this would crowd it out.
pub const MAX_TABLE_BYTES: usize = 4 << 20;

/// Writes `table`'s rows if it is an in-memory table; other providers are not ours to encode.
pub fn encode(table: &TableReference, provider: &Arc<dyn TableProvider>, buf: &mut Vec<u8>) -> DfResult<()> {
    let Some(memory) = provider.downcast_ref::<MemTable>() else {
        return not_impl_err!("table `{table}` is neither a store's Parquet files nor a small in-memory table, so it cannot reach a cluster's executors");
    };
    let mut batches: Vec<RecordBatch> = Vec::new();
    for partition in &memory.batches {
        let Ok(rows) = partition.try_read() else {
            return plan_err!("table `{table}` is being written to and cannot be sent to the cluster");
        };
        batches.extend(rows.iter().cloned());
    }
    let size: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    if size > MAX_TABLE_BYTES {
        return plan_err!(
            "table `{table}` holds {size} bytes in memory, more than the {MAX_TABLE_BYTES} a query may carry to a cluster; load the data into a store on storage every executor can read (`mttx load --out STORE`) and query the store"
        );
    }
    buf.extend_from_slice(MAGIC);
    let mut writer = StreamWriter::try_new(buf, &memory.schema())?;
    for batch in &batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    Ok(())
}

/// The in-memory table from its payload, checked against the schema the plan gives for it.
pub fn decode(buf: &[u8], table: &TableReference, schema: SchemaRef) -> DfResult<Arc<dyn TableProvider>> {
    let Some(ipc) = buf.strip_prefix(MAGIC) else {
        return plan_err!("table `{table}`: the plan carries no mttx table payload (or one of another mttx version)");
    };
    let reader = StreamReader::try_new(std::io::Cursor::new(ipc), None)?;
    let sent = reader.schema();
    if sent.fields() != schema.fields() {
        return plan_err!("table `{table}`: its rows have the columns {sent:?}, the plan expects {schema:?}");
    }
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| DataFusionError::Plan(format!("table `{table}`: its rows do not read: {e}")))?;
    Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn table(rows: usize) -> (SchemaRef, Arc<dyn TableProvider>) {
        let schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("label", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values(0..rows as i64)),
                Arc::new(StringArray::from_iter((0..rows).map(|i| (i % 3 != 0).then(|| format!("<{i}>"))))),
            ],
        )
        .unwrap();
        (schema.clone(), Arc::new(MemTable::try_new(schema, vec![vec![batch]]).unwrap()))
    }

    #[test]
    fn small_tables_travel_whole_and_large_ones_are_refused() {
        let name = TableReference::bare("months");
        let (schema, provider) = table(100);
        let mut buf = Vec::new();
        encode(&name, &provider, &mut buf).unwrap();
        let decoded = decode(&buf, &name, schema.clone()).unwrap();
        let rows = |p: &Arc<dyn TableProvider>| p.downcast_ref::<MemTable>().unwrap().batches[0].try_read().unwrap().clone();
        assert_eq!(rows(&decoded), rows(&provider));

        let other_schema = Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false)]));
        assert!(decode(&buf, &name, other_schema).unwrap_err().to_string().contains("columns"));
        assert!(decode(&buf[1..], &name, schema.clone()).is_err());
        assert!(decode(&buf[..buf.len() - 9], &name, schema).is_err(), "a cut payload is refused");

        let (_, large) = table(MAX_TABLE_BYTES / 8);
        let refused = encode(&TableReference::bare("events"), &large, &mut Vec::new()).unwrap_err().to_string();
        assert!(refused.contains("mttx load --out STORE"), "{refused}");
    }
}
