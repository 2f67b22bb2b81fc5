//! `--by`: cutting the KPIs whose keys include `by_group` by one incident field. A session gives
//! `incidents` a `by_group` column (the field, or null for everyone when there is no breakdown);
//! results name it after the field, or drop it. The field is one of a fixed set, never text from
//! the data or the command line pasted into SQL.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::prelude::{DataFrame, SessionContext, col, lit};
use serde::{Deserialize, Serialize};

use crate::error::Result;

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
        None => lit(ScalarValue::Utf8(None)),
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

/// Whether a KPI can be cut by `--by`.
pub fn supports(keys: &[String]) -> bool {
    keys.iter().any(|k| k == BY_GROUP)
}
