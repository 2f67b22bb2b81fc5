//! `--by`: cutting the KPIs whose keys include `by_group` by one incident field. A session gives
//! `incidents` a `by_group` column (the field, or null for everyone when there is no breakdown);
//! results name it after the field, or drop it. The field is one of a fixed set, never text from
//! the data or the command line pasted into SQL. `ungrouped(x)` is the null of a session without
//! a breakdown.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use datafusion::prelude::{DataFrame, SessionContext, col};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::functions::ungrouped::Ungrouped;

/// The key column a KPI names in its header when it can be cut by `--by`.
pub const BY_GROUP: &str = "by_group";

/// The incident fields a breakdown can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Breakdown {
    Service,
    AssignmentGroup,
    Category,
    ContactType,
    Ci,
}

impl Breakdown {
    pub const ALL: [Breakdown; 5] = [Breakdown::Service, Breakdown::AssignmentGroup, Breakdown::Category, Breakdown::ContactType, Breakdown::Ci];

    /// The canonical incident field, which is also the key column's name in results.
    pub fn field(self) -> &'static str {
        match self {
            Breakdown::Service => "service",
            Breakdown::AssignmentGroup => "assignment_group",
            Breakdown::Category => "category",
            Breakdown::ContactType => "contact_type",
            Breakdown::Ci => "ci",
        }
    }

    pub fn names() -> String {
        Breakdown::ALL.iter().map(|b| b.field()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Breakdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.field())
    }
}

impl FromStr for Breakdown {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Breakdown::ALL
            .into_iter()
            .find(|b| b.field() == text)
            .ok_or_else(|| format!("`{text}` is not a field to break down by; use one of {}", Breakdown::names()))
    }
}

/// The breakdown a session was made for, kept in its configuration so that running a KPI knows
/// what to call (or whether to drop) its `by_group` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionBreakdown(pub Option<Breakdown>);

/// Replaces the session's `incidents` with a view that adds `by_group`, and records the breakdown.
pub async fn register(ctx: &SessionContext, by: Option<Breakdown>) -> Result<()> {
    let incidents = ctx.table("incidents").await?;
    let group = match by {
        Some(b) => col(b.field()),
        None => Ungrouped::udf().call(vec![col(UNGROUPED_FROM)]),
    };
    let view = incidents.with_column(BY_GROUP, group)?.into_view();
    ctx.deregister_table("incidents")?;
    ctx.register_table("incidents", view)?;
    ctx.state_ref().write().config_mut().set_extension(Arc::new(SessionBreakdown(by)));
    Ok(())
}

/// The breakdown `ctx` was made for (none for a session `register` never saw).
pub fn of_session(ctx: &SessionContext) -> Option<Breakdown> {
    ctx.state().config().get_extension::<SessionBreakdown>().and_then(|b| b.0)
}

/// The column `ungrouped` reads: every incident KPI reads it anyway, so it costs no decoding.
const UNGROUPED_FROM: &str = "opened_at";

/// A KPI's result with `by_group` named after the field, or without it when there is no breakdown.
pub fn shape(frame: DataFrame, by: Option<Breakdown>) -> datafusion::error::Result<DataFrame> {
    if frame.schema().field_with_unqualified_name(BY_GROUP).is_err() {
        return Ok(frame);
    }
    match by {
        Some(b) => frame.with_column_renamed(BY_GROUP, b.field()),
        None => frame.drop_columns(&[BY_GROUP]),
    }
}

/// A KPI's key columns as its results name them.
pub fn keys(keys: &[String], by: Option<Breakdown>) -> Vec<String> {
    keys.iter()
        .filter_map(|k| match (k.as_str(), by) {
            (BY_GROUP, Some(b)) => Some(b.field().to_string()),
            (BY_GROUP, None) => None,
            _ => Some(k.clone()),
        })
        .collect()
}

/// Whether a KPI can be cut by `by`: its keys include `by_group`, and not the field itself
/// already (volume, reported by category, is not cut by category again).
pub fn supports(keys: &[String], by: Breakdown) -> bool {
    keys.iter().any(|k| k == BY_GROUP) && !keys.iter().any(|k| k == by.field())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Int64Array, RecordBatch, TimestampMicrosecondArray};
    use datafusion::arrow::datatypes::DataType;
    use datafusion::arrow::datatypes::{Field, Schema, TimeUnit};
    use datafusion::common::ScalarValue;
    use datafusion::datasource::MemTable;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::lit;

    use super::*;

    /// `incidents` (opened_at, priority) in two partitions: priorities 1, 2, 1 and 2, 3.
    fn with_incidents(ctx: &SessionContext) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("opened_at", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
            Field::new("priority", DataType::Int64, true),
        ]));
        let batch = |priorities: Vec<i64>| {
            let opened = TimestampMicrosecondArray::from(vec![0; priorities.len()]).with_timezone("UTC");
            RecordBatch::try_new(schema.clone(), vec![Arc::new(opened), Arc::new(Int64Array::from(priorities))]).unwrap()
        };
        let table = MemTable::try_new(schema.clone(), vec![vec![batch(vec![1, 2, 1])], vec![batch(vec![2, 3])]]).unwrap();
        ctx.register_table("incidents", Arc::new(table)).unwrap();
    }

    const BY_PRIORITY_AND_ALL: &str = "SELECT by_group, priority, count(*) AS n FROM incidents \
                                       GROUP BY GROUPING SETS ((by_group, priority), (by_group)) ORDER BY priority NULLS LAST";

    async fn plan_of(ctx: &SessionContext) -> String {
        let plan = ctx.sql(BY_PRIORITY_AND_ALL).await.unwrap().create_physical_plan().await.unwrap();
        displayable(plan.as_ref()).indent(false).to_string()
    }

    /// Without `--by`, `by_group` is null for everyone, and the aggregates by it run unordered
    /// (vectorised), where a literal null makes DataFusion stream them as if sorted.
    #[tokio::test]
    async fn without_a_breakdown_the_group_is_null_and_aggregates_run_unordered() {
        let ctx = crate::engine::session("UTC");
        with_incidents(&ctx);
        register(&ctx, None).await.unwrap();
        let plan = plan_of(&ctx).await;
        assert!(plan.contains("AggregateExec") && !plan.contains("ordering_mode"), "{plan}");
        let batches = ctx.sql(BY_PRIORITY_AND_ALL).await.unwrap().collect().await.unwrap();
        let rows = datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string();
        // Priorities 1 ×2, 2 ×2, 3 ×1, and all five, each with a null group.
        for expected in ["|          | 1        | 2 |", "|          | 2        | 2 |", "|          | 3        | 1 |", "|          |          | 5 |"] {
            assert!(rows.contains(expected), "{expected} not in\n{rows}");
        }

        let literal = crate::engine::session("UTC");
        with_incidents(&literal);
        let view = literal.table("incidents").await.unwrap().with_column(BY_GROUP, lit(ScalarValue::Utf8(None))).unwrap().into_view();
        literal.deregister_table("incidents").unwrap();
        literal.register_table("incidents", view).unwrap();
        let plan = plan_of(&literal).await;
        assert!(plan.contains("ordering_mode=PartiallySorted"), "DataFusion no longer streams by a constant key; `ungrouped` can go:\n{plan}");
    }
}
