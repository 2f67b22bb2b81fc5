//! The DataFusion session: canonical tables registered once under their names, and SQL over them.

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::ingest::MemorySink;
use crate::model::Table;

/// A session whose `now()`-free time functions and casts use `timezone`.
pub fn session(timezone: &str) -> SessionContext {
    let mut config = SessionConfig::new().with_information_schema(true);
    config.options_mut().execution.time_zone = Some(timezone.to_string());
    SessionContext::new_with_config(config)
}

/// Registers every canonical table, empty where no input fed it, so queries can always name them.
pub fn register(ctx: &SessionContext, mut loaded: MemorySink) -> Result<()> {
    for table in Table::ALL {
        let batches = loaded.tables.remove(&table).unwrap_or_default();
        let provider = MemTable::try_new(table.schema(), vec![batches])?;
        ctx.register_table(table.name(), Arc::new(provider))?;
    }
    Ok(())
}

/// Registers `from`'s canonical tables on `to` as well: the data is shared, not copied, so
/// sessions with different parameters can run over one load.
pub async fn share_tables(from: &SessionContext, to: &SessionContext) -> Result<()> {
    for table in Table::ALL {
        let provider = from.table_provider(table.name()).await?;
        to.register_table(table.name(), provider)?;
    }
    Ok(())
}

pub async fn sql(ctx: &SessionContext, query: &str) -> Result<Vec<RecordBatch>> {
    Ok(ctx.sql(query).await?.collect().await?)
}
