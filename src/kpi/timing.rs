//! When a KPI's figures are final: its settling time (`settles: 14 days`, facts about a month
//! arrive that long after it), and the cohort rule of a duration (`cohort: resolved_at within 30
//! days`, how long before-and-after comparisons follow each incident), read from its header.

use serde::Serialize;

/// The longest settling time or follow-up a header may state: ten years. Longer is a typo, and
/// would overflow the microsecond arithmetic of the cut-off.
pub const MAX_DAYS: u32 = 3650;

/// How a duration is judged on cohorts: the incidents opened in a window, each followed `days`
/// after it opened for `column`; one that takes longer counts as not yet there, in every cohort
/// alike, so a cohort with more time behind it is not favoured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CohortRule {
    pub column: String,
    pub days: u32,
}

/// `14 days`, `1 day` or `14`: a settling time in whole days.
pub fn settles(text: &str) -> Result<u32, String> {
    let number = text.trim().strip_suffix("days").or_else(|| text.trim().strip_suffix("day")).unwrap_or(text.trim()).trim();
    number.parse::<u32>().ok().filter(|days| *days <= MAX_DAYS).ok_or_else(|| {
        format!("settles: `{text}` must be a whole number of days up to {MAX_DAYS}, such as `settles: 14 days` (0 for a month that is final when it ends)")
    })
}

/// `resolved_at within 30 days`: an incidents timestamp and a follow-up of 1 to `MAX_DAYS` days.
pub fn cohort(text: &str) -> Result<CohortRule, String> {
    let bad =
        || format!("cohort: `{text}` must be an incidents timestamp and a follow-up, such as `cohort: resolved_at within 30 days` (1 to {MAX_DAYS} days)");
    let (column, follow) = text.split_once(" within ").ok_or_else(bad)?;
    let column = column.trim();
    let timestamps = crate::model::Table::Incidents.fields();
    if !timestamps.iter().any(|f| f.name == column && f.kind == crate::model::FieldKind::Timestamp) {
        return Err(bad());
    }
    let days = follow.trim().strip_suffix("days").or_else(|| follow.trim().strip_suffix("day")).ok_or_else(bad)?.trim();
    let days = days.parse::<u32>().ok().filter(|d| (1..=MAX_DAYS).contains(d)).ok_or_else(bad)?;
    Ok(CohortRule { column: column.to_string(), days })
}
