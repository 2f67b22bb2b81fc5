//! How much of what each KPI depends on the data has: of the incidents opened in the period, how
//! many carry each optional field, and the fallbacks the KPIs apply where one is missing. The
//! period's bounds are literal values in DataFusion expressions, not SQL text.

use datafusion::functions::string::expr_fn::lower;
use datafusion::functions_aggregate::expr_fn::count;
use datafusion::logical_expr::ExprFunctionExt;
use datafusion::logical_expr::expr_fn::in_subquery;
use datafusion::prelude::{Expr, SessionContext, col, lit};
use datafusion::scalar::ScalarValue;
use serde::Serialize;

use crate::error::Result;
use crate::model::Table;

/// One optional field and the measures that rest on it.
#[derive(Debug, Clone, Serialize)]
pub struct FieldCoverage {
    pub field: String,
    pub used_by: String,
    /// Incidents opened in the period that have it.
    pub with: u64,
}

/// The period's incidents and, per field, how many have it; the fallbacks with their counts.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub incidents: u64,
    pub fields: Vec<FieldCoverage>,
    /// Resolved incidents of the period without an acknowledgement: their response clock stops at
    /// resolution (sla_breach), and MTTA leaves them out.
    pub response_stopped_at_resolution: u64,
}

/// The optional incident fields and what uses them, in the order the data-quality table lists them.
const FIELDS: [(&str, &str); 10] = [
    ("priority", "every figure by priority, and the SLA targets"),
    ("acknowledged_at", "MTTA, the SLA response clock"),
    ("started_at", "MTTD; MTRS (else from opened_at)"),
    ("service", "availability by service, --service"),
    ("ci", "problem candidates, availability by CI, patch correlation"),
    ("problem_id", "incidents with a problem, majors without a problem record"),
    ("caused_by_change", "incidents caused by changes, change failure"),
    ("first_contact", "first-contact resolution (else the service desk rule)"),
    ("assignment_group", "time with each group, where no assignment events say more"),
    ("source_made_sla", "reconciliation with the source tool's SLA flag"),
];

/// The events behind measures: the incidents with events of each field.
const EVENT_FIELDS: [(&str, &str, &str); 2] = [
    ("state", "state events", "SLA pauses (the policy's pause_states)"),
    ("assignment_group", "assignment events", "time with each assignment group (else its assignment_group throughout)"),
];

fn instant(micros: i64) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(Some(micros), Some("UTC".into())))
}

/// Coverage over the incidents opened in [start, end) and before the cut-off `as_of`.
pub async fn coverage(ctx: &SessionContext, start: i64, end: i64, as_of: i64) -> Result<Coverage> {
    let opened = ctx
        .table(Table::Incidents.name())
        .await?
        .filter(col("opened_at").gt_eq(instant(start)).and(col("opened_at").lt(instant(end.min(as_of.saturating_add(1))))))?;
    let mut aggregates = vec![count(lit(1)).alias("incidents")];
    aggregates.extend(FIELDS.iter().map(|(field, _)| count(col(*field)).alias(*field)));
    aggregates
        .push(count(lit(1)).filter(col("resolved_at").is_not_null().and(col("acknowledged_at").is_null())).build()?.alias("response_stopped_at_resolution"));
    let batches = opened.clone().aggregate(vec![], aggregates)?.collect().await?;
    let value = |name: &str| -> u64 {
        batches
            .first()
            .and_then(|b| b.column_by_name(name))
            .and_then(|c| c.as_any().downcast_ref::<datafusion::arrow::array::Int64Array>().map(|a| a.value(0)))
            .unwrap_or(0)
            .max(0) as u64
    };
    let mut fields: Vec<FieldCoverage> =
        FIELDS.iter().map(|(field, used_by)| FieldCoverage { field: field.to_string(), used_by: used_by.to_string(), with: value(field) }).collect();
    // Pauses and group changes come from events: the incidents that have any of the field.
    for (event_field, label, used_by) in EVENT_FIELDS {
        let with_events = ctx.table(Table::Events.name()).await?.filter(lower(col("field")).eq(lit(event_field)))?.select_columns(&["ticket_id"])?;
        let with = opened.clone().filter(in_subquery(col("id"), std::sync::Arc::new(with_events.logical_plan().clone())))?.count().await? as u64;
        fields.push(FieldCoverage { field: label.into(), used_by: used_by.into(), with });
    }
    Ok(Coverage { incidents: value("incidents"), fields, response_stopped_at_resolution: value("response_stopped_at_resolution") })
}
