//! The derivation: DataFusion over all of a table's extracted events, one ticket per case with
//! its milestones and attributes, and one `events` row per change of status or of a tracked
//! attribute. The SQL holds only names it generates itself (`a0`, `s1`, the model's field names).

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use super::Extractor;
use crate::error::{Error, Result};
use crate::ingest::profile::MilestoneRule;
use crate::model::Table;

impl Extractor<'_> {
    /// The SQL that turns events into tickets. Only generated names appear in it.
    fn ticket_sql(&self) -> String {
        const ORDER: &str = "ts, file, row";
        let entered = |i: usize| format!("s{i} AND (prev_s{i} IS NULL OR NOT prev_s{i})");
        let mut select = vec![
            "case_id AS id".to_string(),
            format!("first_value(file ORDER BY {ORDER}) AS first_file"),
            format!("first_value(row ORDER BY {ORDER}) AS first_row"),
            "count(*) AS event_count".to_string(),
        ];
        let mut has_opened = false;
        for (field, m) in &self.log.milestones {
            has_opened |= field == "opened_at";
            let expr = match m.rule {
                MilestoneRule::FirstEvent => "min(ts)".to_string(),
                MilestoneRule::LastEvent => "max(ts)".to_string(),
                MilestoneRule::FirstInto => format!("min(ts) FILTER (WHERE {})", entered(self.set_index(&m.states))),
                MilestoneRule::LastInto => format!("max(ts) FILTER (WHERE {})", entered(self.set_index(&m.states))),
                MilestoneRule::FirstNotIn => format!("min(ts) FILTER (WHERE NOT s{})", self.set_index(&m.states)),
                MilestoneRule::FirstOutOf if m.include_creation => {
                    // The first event has no previous state: `NULL OR created` holds only for a creation.
                    let i = self.set_index(&m.states);
                    format!("min(ts) FILTER (WHERE NOT s{i} AND (prev_s{i} OR created))")
                }
                MilestoneRule::FirstOutOf => {
                    let i = self.set_index(&m.states);
                    format!("min(ts) FILTER (WHERE NOT s{i} AND prev_s{i})")
                }
            };
            let expr = if m.only_if_final_in.is_empty() {
                expr
            } else {
                format!("CASE WHEN last_value(s{} ORDER BY {ORDER}) THEN {expr} END", self.set_index(&m.only_if_final_in))
            };
            let expr = match m.fallback {
                Some(MilestoneRule::FirstEvent) => format!("coalesce({expr}, CASE WHEN NOT bool_or(s{}) THEN min(ts) END)", self.known),
                Some(MilestoneRule::LastEvent) => format!("coalesce({expr}, CASE WHEN NOT bool_or(s{}) THEN max(ts) END)", self.known),
                _ => expr,
            };
            select.push(format!("{expr} AS \"{field}\""));
        }
        let opened_is_attribute = self.attributes.iter().any(|(f, _, _)| f == "opened_at");
        if !has_opened && !opened_is_attribute {
            select.push("min(ts) AS \"opened_at\"".into());
        }
        for (i, (field, first, _)) in self.attributes.iter().enumerate() {
            let f = if *first { "first_value" } else { "last_value" };
            select.push(format!("{f}(a{i} ORDER BY {ORDER}) AS \"{field}\""));
        }
        if !self.log.reopen_from.is_empty() {
            let r = self.set_index(&self.log.reopen_from);
            select.push(format!("count(*) FILTER (WHERE prev_s{r} AND NOT s{r}) AS \"reopen_count\""));
        }
        format!("SELECT {} FROM events_in_order GROUP BY case_id ORDER BY first_file, first_row", select.join(", "))
    }

    /// The SQL of the `events` rows: the status's changes, then each tracked attribute's (the
    /// profile's `changes`), by case and event. Only generated names appear in it: an attribute is
    /// its column `a{i}`, and its field a canonical field name the profile check let through.
    fn changes_sql(&self) -> String {
        let mut parts = vec![STATE_CHANGES_SQL.to_string()];
        for (k, field) in self.log.changes.iter().enumerate() {
            let Some(i) = self.attributes.iter().position(|(f, _, _)| f == field) else { continue };
            // The model's own spelling of the name, never the profile's text.
            let Some(field) = Table::ALL.iter().flat_map(|t| t.fields()).map(|f| f.name).find(|name| name == field) else { continue };
            parts.push(format!(
                "SELECT case_id || '#' || CAST(n AS VARCHAR) || '/{field}' AS id, case_id AS ticket_id, ts AS at, \
                 '{field}' AS field, prev_a{i} AS from_value, a{i} AS to_value, n, {} AS k \
                 FROM events_in_order WHERE a{i} IS NOT NULL AND (prev_a{i} IS NULL OR prev_a{i} <> a{i})",
                k + 1
            ));
        }
        format!("SELECT id, ticket_id, at, field, from_value, to_value FROM ({}) AS c ORDER BY ticket_id, n, k", parts.join(" UNION ALL "))
    }

    fn ordered_view_sql(&self) -> String {
        let window = "OVER (PARTITION BY case_id ORDER BY ts, file, row)";
        let mut select = vec!["*".to_string(), format!("lag(status) {window} AS prev_status"), format!("row_number() {window} AS n")];
        select.extend((0..self.sets.len()).map(|i| format!("lag(s{i}) {window} AS prev_s{i}")));
        for field in &self.log.changes {
            if let Some(i) = self.attributes.iter().position(|(f, _, _)| f == field) {
                select.push(format!("lag(a{i}) {window} AS prev_a{i}"));
            }
        }
        format!("CREATE VIEW events_in_order AS SELECT {} FROM raw_events", select.join(", "))
    }
}

/// Tickets (one row per case: `id`, `first_file`, `first_row`, `event_count`, milestones,
/// attributes, `reopen_count`) and the status changes in the canonical `events` schema.
pub struct Derived {
    pub tickets: Vec<RecordBatch>,
    pub changes: Vec<RecordBatch>,
}

const STATE_CHANGES_SQL: &str = "SELECT case_id || '#' || CAST(n AS VARCHAR) AS id, case_id AS ticket_id, ts AS at, \
     'state' AS field, prev_status AS from_value, status AS to_value, n, 0 AS k \
     FROM events_in_order WHERE status IS NOT NULL AND (prev_status IS NULL OR prev_status <> status)";

pub fn derive(extractor: &Extractor, events: Vec<RecordBatch>) -> Result<Derived> {
    let schema = extractor.schema();
    let view = extractor.ordered_view_sql();
    let tickets_sql = extractor.ticket_sql();
    let changes_sql = extractor.changes_sql();
    // DataFusion is async; ingest is not, and may itself run inside a runtime (golden cases), so
    // the derivation gets a thread and a runtime of its own.
    std::thread::scope(|scope| {
        scope
            .spawn(move || -> Result<Derived> {
                let runtime = tokio::runtime::Builder::new_current_thread().build().map_err(|e| Error::io("<tokio runtime>", e))?;
                runtime.block_on(async {
                    let ctx = SessionContext::new();
                    ctx.register_table("raw_events", Arc::new(MemTable::try_new(schema, vec![events])?))?;
                    ctx.sql(&view).await?;
                    let tickets = ctx.sql(&tickets_sql).await?.collect().await?;
                    let changes = ctx.sql(&changes_sql).await?.collect().await?;
                    let target = Table::Events.schema();
                    let changes = changes
                        .iter()
                        .map(|b| {
                            let columns =
                                b.columns().iter().zip(target.fields()).map(|(c, f)| cast(c, f.data_type())).collect::<std::result::Result<Vec<_>, _>>()?;
                            RecordBatch::try_new(target.clone(), columns)
                        })
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    Ok(Derived { tickets, changes })
                })
            })
            .join()
            .unwrap_or_else(|_| Err(Error::io("<eventlog>", std::io::Error::other("the derivation thread panicked"))))
    })
}
