//! One service's share of the canonical tables (`mttx report --service NAME`): each table is
//! replaced by a view of the rows that belong to the service, built with DataFusion expressions so
//! that the name, which is data, never becomes SQL text.
//!
//! A record belongs to the service when its `service` is the name, or when it has no service and
//! its CI does (the CI's `service` in `cis`); an event belongs when its ticket does.

use std::sync::Arc;

use datafusion::logical_expr::expr_fn::in_subquery;
use datafusion::prelude::{SessionContext, col, lit};

use crate::error::{Error, Result};
use crate::model::Table;

/// How many incidents the service has, with the names the data holds when it has none.
pub struct ServiceScope {
    pub incidents: u64,
}

/// Restricts the canonical tables of `ctx` to `service`. An error names the services the incidents
/// have when none has this one, so a typo is not an empty report.
pub async fn restrict_to_service(ctx: &SessionContext, service: &str) -> Result<ServiceScope> {
    let cis = ctx.table(Table::Cis.name()).await?.filter(col("service").eq(lit(service)))?.select_columns(&["id"])?;
    let service_cis = Arc::new(cis.logical_plan().clone());
    let belongs = || col("service").eq(lit(service)).or(col("service").is_null().and(in_subquery(col("ci"), service_cis.clone())));
    let mut views = Vec::new();
    for table in [Table::Incidents, Table::Problems, Table::Changes, Table::Outages] {
        views.push((table, ctx.table(table.name()).await?.filter(belongs())?));
    }
    let incidents = views[0].1.clone();
    let incident_ids = Arc::new(incidents.clone().select_columns(&["id"])?.logical_plan().clone());
    views.push((Table::Events, ctx.table(Table::Events.name()).await?.filter(in_subquery(col("ticket_id"), incident_ids))?));
    views.push((Table::Cis, ctx.table(Table::Cis.name()).await?.filter(col("service").eq(lit(service)))?));
    let count = incidents.count().await? as u64;
    if count == 0 {
        return Err(Error::Usage(format!("--service {service}: no incident has this service; {}", services_named(ctx).await?)));
    }
    for (table, view) in views {
        ctx.deregister_table(table.name())?;
        ctx.register_table(table.name(), view.into_view())?;
    }
    Ok(ServiceScope { incidents: count })
}

/// "the incidents' services are: A, B, C" (the most frequent first, at most 20).
async fn services_named(ctx: &SessionContext) -> Result<String> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::functions_aggregate::expr_fn::count;
    let batches = ctx
        .table(Table::Incidents.name())
        .await?
        .filter(col("service").is_not_null())?
        .aggregate(vec![col("service")], vec![count(lit(1)).alias("n")])?
        .sort(vec![col("n").sort(false, false), col("service").sort(true, false)])?
        .limit(0, Some(20))?
        .collect()
        .await?;
    let mut names = Vec::new();
    for batch in &batches {
        let column = datafusion::arrow::compute::cast(batch.column(0), &datafusion::arrow::datatypes::DataType::Utf8)?;
        let column = column.as_string::<i32>();
        names.extend((0..column.len()).filter(|i| column.is_valid(*i)).map(|i| column.value(i).to_string()));
    }
    Ok(if names.is_empty() { "no incident has a service at all".into() } else { format!("the incidents' services are: {}", names.join(", ")) })
}
