//! The reviewer's words (`--notes notes.toml`): a comment per KPI for each month, and the actions
//! agreed in reviews, kept in one file from month to month. An action raised in an earlier month
//! and still open carries over to the next pack, and one past its due date is flagged overdue.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kpi::Kpi;
use crate::time::YearMonth;

/// notes.toml as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NotesFile {
    /// `[comments."2026-10"]`: KPI id = comment.
    #[serde(default)]
    comments: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default, rename = "action")]
    actions: Vec<ActionSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    what: String,
    owner: String,
    /// The month of the review that agreed it, YYYY-MM.
    raised: String,
    due: toml::value::Datetime,
    status: Status,
    /// The KPI it is meant to move, when there is one.
    #[serde(default)]
    kpi: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Done,
    Dropped,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Done => "done",
            Status::Dropped => "dropped",
        }
    }
}

/// Every month's notes, checked against the catalog.
#[derive(Debug, Clone)]
pub struct Notes {
    pub origin: String,
    comments: BTreeMap<YearMonth, Vec<(String, String)>>,
    actions: Vec<Action>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Action {
    pub what: String,
    pub owner: String,
    pub raised: String,
    /// YYYY-MM-DD.
    pub due: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
}

/// One report month's notes, as the first page prints them and kpis.json carries them.
#[derive(Debug, Clone, Serialize)]
pub struct MonthNotes {
    pub origin: String,
    /// KPI id and comment, in the catalog's order.
    pub comments: Vec<Comment>,
    pub actions: Vec<MonthAction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub kpi: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthAction {
    #[serde(flatten)]
    pub action: Action,
    /// Raised in an earlier month and still open.
    pub carried_over: bool,
    /// Open, with its due date before the cut-off's date.
    pub overdue: bool,
}

impl Notes {
    pub fn load(path: &Path, kpis: &[Kpi]) -> Result<Notes> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Notes::parse(&text, &path.display().to_string(), kpis)
    }

    /// Parses notes.toml, refusing unknown keys, KPI names the catalog lacks, months and dates
    /// that are not months and dates, and an action due before it was raised.
    pub fn parse(text: &str, origin: &str, kpis: &[Kpi]) -> Result<Notes> {
        let fail = |message: String| Error::Notes { origin: origin.to_string(), message };
        let file: NotesFile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let known = |id: &str, at: &str| {
            if kpis.iter().any(|k| k.id == id) {
                Ok(())
            } else {
                let ids: Vec<&str> = kpis.iter().map(|k| k.id.as_str()).collect();
                Err(fail(format!("{at}: no KPI `{id}`; KPIs are: {}", ids.join(", "))))
            }
        };
        let month = |text: &str, at: &str| text.parse::<YearMonth>().map_err(|_| fail(format!("{at}: `{text}` is not a month; give YYYY-MM, e.g. 2026-10")));
        let mut comments = BTreeMap::new();
        for (label, by_kpi) in file.comments {
            let at = format!("[comments.\"{label}\"]");
            let m = month(&label, &at)?;
            let mut list = Vec::new();
            for (id, comment) in by_kpi {
                known(&id, &at)?;
                list.push((id, comment.trim().to_string()));
            }
            // The catalog's order, so a comment sits where its KPI does in the report.
            list.sort_by_key(|(id, _)| kpis.iter().position(|k| &k.id == id));
            comments.insert(m, list);
        }
        let mut actions = Vec::new();
        for (index, spec) in file.actions.into_iter().enumerate() {
            let at = format!("action #{} ({})", index + 1, spec.what);
            if spec.what.trim().is_empty() || spec.owner.trim().is_empty() {
                return Err(fail(format!("action #{}: give what and owner, neither empty", index + 1)));
            }
            let raised = month(&spec.raised, &at)?;
            let due = match (spec.due.date, spec.due.time) {
                (Some(d), None) => chrono::NaiveDate::from_ymd_opt(d.year as i32, d.month as u32, d.day as u32),
                _ => None,
            }
            .ok_or_else(|| fail(format!("{at}: due = {} must be a date, YYYY-MM-DD, without a time", spec.due)))?;
            if due < raised.first_day() {
                return Err(fail(format!("{at}: due {due} is before the month it was raised, {raised}")));
            }
            if let Some(id) = &spec.kpi {
                known(id, &at)?;
            }
            actions.push(Action {
                what: spec.what.trim().to_string(),
                owner: spec.owner.trim().to_string(),
                raised: raised.label(),
                due: due.to_string(),
                status: spec.status,
                kpi: spec.kpi,
            });
        }
        Ok(Notes { origin: origin.to_string(), comments, actions })
    }

    /// The notes a pack for `period` shows, with its cut-off's date (`today`, in the reporting time
    /// zone): the month's comments; the actions raised in it; and those raised before it that
    /// are still open, carried over. Actions raised after the period are not yet known then.
    pub fn for_month(&self, period: YearMonth, today: chrono::NaiveDate) -> MonthNotes {
        let comments = self.comments.get(&period).into_iter().flatten().map(|(kpi, text)| Comment { kpi: kpi.clone(), text: text.clone() }).collect();
        let label = period.label();
        let mut actions: Vec<MonthAction> = self
            .actions
            .iter()
            .filter(|a| a.raised == label || (a.raised < label && a.status == Status::Open))
            .map(|a| MonthAction { action: a.clone(), carried_over: a.raised < label, overdue: a.status == Status::Open && a.due < today.to_string() })
            .collect();
        // Overdue first, then by due date: the order a review goes through them.
        actions.sort_by(|a, b| b.overdue.cmp(&a.overdue).then_with(|| a.action.due.cmp(&b.action.due)));
        MonthNotes { origin: self.origin.clone(), comments, actions }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpis() -> Vec<Kpi> {
        crate::kpi::catalog::builtin().unwrap()
    }

    const NOTES: &str = r#"
[comments."2026-10"]
mttr = "P1 resolution slipped while the new on-call rota bedded in."
sla_breach = "P2 response breaches are the night shift's."

[comments."2026-09"]
mttr = "Last month's comment."

[[action]]
what = "Review the P1 escalation path"
owner = "Service desk lead"
raised = "2026-09"
due = 2026-10-15
status = "open"
kpi = "mttr"

[[action]]
what = "Add a night-shift responder"
owner = "Operations"
raised = "2026-10"
due = 2026-11-30
status = "open"

[[action]]
what = "Closed last month"
owner = "Ops"
raised = "2026-09"
due = 2026-09-30
status = "done"

[[action]]
what = "Agreed later"
owner = "Ops"
raised = "2026-11"
due = 2026-12-31
status = "open"
"#;

    #[test]
    fn a_month_shows_its_comments_its_actions_and_open_ones_carried_over() {
        let notes = Notes::parse(NOTES, "notes.toml", &kpis()).unwrap();
        let october = notes.for_month("2026-10".parse().unwrap(), chrono::NaiveDate::from_ymd_opt(2026, 10, 31).unwrap());
        // Comments of October only, in the catalog's order (mttr comes before sla_breach there).
        let ids: Vec<&str> = october.comments.iter().map(|c| c.kpi.as_str()).collect();
        assert_eq!(ids, ["mttr", "sla_breach"]);
        // September's open action carries over and is overdue (due 10-15, cut-off 10-31); the one
        // done in September and the one raised in November are not shown.
        let shown: Vec<(&str, bool, bool)> = october.actions.iter().map(|a| (a.action.what.as_str(), a.carried_over, a.overdue)).collect();
        assert_eq!(shown, [("Review the P1 escalation path", true, true), ("Add a night-shift responder", false, false)]);
        // In September's pack the same action is new and not yet due.
        let september = notes.for_month("2026-09".parse().unwrap(), chrono::NaiveDate::from_ymd_opt(2026, 9, 30).unwrap());
        let shown: Vec<(&str, bool, bool)> = september.actions.iter().map(|a| (a.action.what.as_str(), a.carried_over, a.overdue)).collect();
        assert_eq!(shown, [("Closed last month", false, false), ("Review the P1 escalation path", false, false)]);
    }

    #[test]
    fn mistakes_name_the_file_the_entry_and_what_is_allowed() {
        let bad = |text: &str| Notes::parse(text, "notes.toml", &kpis()).unwrap_err().to_string();
        let unknown_key = bad("[[action]]\nwhat = \"x\"\nowner = \"y\"\nraised = \"2026-10\"\ndue = 2026-11-01\nstatus = \"open\"\nwho = \"z\"\n");
        assert!(unknown_key.contains("notes.toml") && unknown_key.contains("unknown field `who`"), "{unknown_key}");
        let unknown_kpi = bad("[comments.\"2026-10\"]\nmtr = \"typo\"\n");
        assert!(unknown_kpi.contains("no KPI `mtr`") && unknown_kpi.contains("mttr"), "{unknown_kpi}");
        let bad_month = bad("[comments.\"October\"]\nmttr = \"x\"\n");
        assert!(bad_month.contains("`October` is not a month"), "{bad_month}");
        let bad_status = bad("[[action]]\nwhat = \"x\"\nowner = \"y\"\nraised = \"2026-10\"\ndue = 2026-11-01\nstatus = \"closed\"\n");
        assert!(bad_status.contains("closed") && bad_status.contains("open"), "{bad_status}");
        let early = bad("[[action]]\nwhat = \"x\"\nowner = \"y\"\nraised = \"2026-10\"\ndue = 2026-09-01\nstatus = \"open\"\n");
        assert!(early.contains("before the month it was raised"), "{early}");
        let timed = bad("[[action]]\nwhat = \"x\"\nowner = \"y\"\nraised = \"2026-10\"\ndue = 2026-11-01T10:00:00Z\nstatus = \"open\"\n");
        assert!(timed.contains("must be a date"), "{timed}");
        let action_kpi = bad("[[action]]\nwhat = \"x\"\nowner = \"y\"\nraised = \"2026-10\"\ndue = 2026-11-01\nstatus = \"open\"\nkpi = \"nope\"\n");
        assert!(action_kpi.contains("action #1 (x): no KPI `nope`"), "{action_kpi}");
    }
}
