//! The KPI catalog: one SQL file per KPI, built in (queries/, compiled into the binary) or the
//! user's own (`--queries DIR`), and the metadata in each file's header comment. The runner reads
//! the header and never parses the SQL.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

pub use super::significance::{Significance, SignificanceTest};
use crate::error::{Error, Result};

/// Built-in KPIs, in report order. `tests` checks that this matches queries/*.sql.
pub const BUILTIN: &[(&str, &str)] = &[
    ("mtta", include_str!("../../../queries/mtta.sql")),
    ("mttd", include_str!("../../../queries/mttd.sql")),
    ("mttr", include_str!("../../../queries/mttr.sql")),
    ("mttr_business", include_str!("../../../queries/mttr_business.sql")),
    ("mtrs", include_str!("../../../queries/mtrs.sql")),
    ("mtbf", include_str!("../../../queries/mtbf.sql")),
    ("sla_breach", include_str!("../../../queries/sla_breach.sql")),
    ("sla_breach_list", include_str!("../../../queries/sla_breach_list.sql")),
    ("sla_at_risk", include_str!("../../../queries/sla_at_risk.sql")),
    ("sla_reconciliation", include_str!("../../../queries/sla_reconciliation.sql")),
    ("sla_disagreement_list", include_str!("../../../queries/sla_disagreement_list.sql")),
    ("backlog", include_str!("../../../queries/backlog.sql")),
    ("backlog_age", include_str!("../../../queries/backlog_age.sql")),
    ("open_incident_list", include_str!("../../../queries/open_incident_list.sql")),
    ("volume", include_str!("../../../queries/volume.sql")),
    ("reopen_rate", include_str!("../../../queries/reopen_rate.sql")),
    ("first_contact_resolution", include_str!("../../../queries/first_contact_resolution.sql")),
    ("reassignment", include_str!("../../../queries/reassignment.sql")),
    ("group_time", include_str!("../../../queries/group_time.sql")),
    ("major_incidents", include_str!("../../../queries/major_incidents.sql")),
    ("major_incident_list", include_str!("../../../queries/major_incident_list.sql")),
    ("problem_trend", include_str!("../../../queries/problem_trend.sql")),
    ("problem_candidates", include_str!("../../../queries/problem_candidates.sql")),
    ("problem_resolution", include_str!("../../../queries/problem_resolution.sql")),
    ("change_failure", include_str!("../../../queries/change_failure.sql")),
    ("change_caused_incidents", include_str!("../../../queries/change_caused_incidents.sql")),
    ("patch_incident_correlation", include_str!("../../../queries/patch_incident_correlation.sql")),
    ("post_patch_incidents_by_ci", include_str!("../../../queries/post_patch_incidents_by_ci.sql")),
    ("patch_risk_by_ci", include_str!("../../../queries/patch_risk_by_ci.sql")),
];

pub use super::direction::Better;
use super::timing;
pub use super::timing::CohortRule;

/// The header of a KPI file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiMeta {
    pub title: String,
    /// Unit of the headline values, e.g. hours or ratio.
    pub unit: String,
    pub better: Better,
    /// The grouping of the result rows, e.g. "month × priority".
    pub grain: String,
    /// The result columns that identify a row (the grain as column names); the rest are values.
    pub keys: Vec<String>,
    /// The value columns that have a direction; other value columns are context (counts, bases).
    pub measures: Vec<String>,
    /// Each measure's direction: `better` unless the header's `measures:` gives the measure its
    /// own, as `problem_share (higher)`.
    pub directions: BTreeMap<String, Better>,
    /// How far a value may move before `mttx check` calls it a change: `exact`, `absolute X` or
    /// `relative X`. None: the check's default.
    pub tolerance: Option<String>,
    /// Plain words: which timestamps, which tickets are in and out, which period a ticket counts in.
    pub definition: String,
    /// The column that holds the number of tickets (or clocks, changes…) behind a row's values;
    /// default `n` when the result has such a column.
    pub n: Option<String>,
    /// Measures whose n is another column, `n: incidents; problems_open = problems_open`: a
    /// count of problems is not about the month's incidents.
    pub n_by_measure: Vec<(String, String)>,
    /// How reports test whether a measure changed between two periods.
    pub significance: Vec<Significance>,
    /// The measures the report's headline table shows, each with its short row label.
    pub headline: Vec<Headline>,
    /// `window: whole`: a month's row depends on the rest of the window (a measure against its
    /// first month), so the report runs the KPI for each period it shows instead of taking the
    /// months from one run over all of them.
    #[serde(skip)]
    pub whole_window: bool,
    /// `window: cut-off`: the rows describe the tickets as they stand at the cut-off, whatever the
    /// period, so the report runs the KPI for its period alone and compares it with no other.
    #[serde(skip)]
    pub at_cut_off: bool,
    /// `settles: 14 days`: facts about a month can arrive this long after it ends (reopens,
    /// problem and change links), so its rows are provisional until then. 0 by default.
    pub settles_days: u32,
    /// `cohort: resolved_at within 30 days`: a duration that before-and-after comparisons judge on
    /// the incidents opened in each window, each followed this long for this timestamp.
    pub cohort: Option<CohortRule>,
}

/// A header `headline:` entry, `p50_hours = MTTR p50`: a measure and its row label in the report's
/// headline table. `{key}` in the label stands for a key's value (`SLA {sla} breaches`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Headline {
    pub measure: String,
    pub label: String,
}

impl Headline {
    /// Parses `measure = label; measure = label`.
    pub fn parse_all(text: &str) -> std::result::Result<Vec<Headline>, String> {
        text.split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(|clause| {
                let (measure, label) = clause.split_once('=').ok_or_else(|| format!("headline: `{clause}`: write `measure = Row label`"))?;
                let (measure, label) = (measure.trim(), label.trim());
                if measure.is_empty() || label.is_empty() {
                    return Err(format!("headline: `{clause}`: write `measure = Row label`"));
                }
                Ok(Headline { measure: measure.to_string(), label: label.to_string() })
            })
            .collect()
    }
}

impl KpiMeta {
    /// Which way is good for `measure`: its own direction, else the KPI's.
    pub fn direction(&self, measure: &str) -> Better {
        self.directions.get(measure).copied().unwrap_or(self.better)
    }
}

/// A KPI: its id (the file stem), metadata, SQL, and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Kpi {
    pub id: String,
    #[serde(flatten)]
    pub meta: KpiMeta,
    #[serde(skip)]
    pub sql: String,
    /// "built-in" or the file's path.
    pub origin: String,
}

const KEYS: [&str; 14] =
    ["title", "unit", "better", "grain", "keys", "measures", "tolerance", "definition", "n", "significance", "headline", "window", "settles", "cohort"];
const REQUIRED: [&str; 6] = ["title", "unit", "better", "grain", "keys", "definition"];

impl Kpi {
    /// Parses a KPI file. The header is the leading run of `--` comment lines: `-- key: value`,
    /// with a value continued on following lines indented past `--`.
    pub fn parse(id: &str, text: &str, origin: &str) -> Result<Kpi> {
        let fail = |line: usize, msg: String| Error::Query { origin: origin.to_string(), message: format!("line {line}: {msg}") };
        let mut values: Vec<(&str, String)> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let Some(comment) = line.trim_start().strip_prefix("--") else { break };
            if comment.trim().is_empty() {
                continue;
            }
            if comment.starts_with("  ") || comment.starts_with('\t') {
                let Some((_, value)) = values.last_mut() else {
                    return Err(fail(number, "an indented line continues a header key, but no key came before it".into()));
                };
                value.push(' ');
                value.push_str(comment.trim());
                continue;
            }
            let Some((key, value)) = comment.split_once(':') else {
                return Err(fail(number, format!("expected `-- key: value` with a key among {}", KEYS.join(", "))));
            };
            let key = key.trim();
            let Some(known) = KEYS.iter().find(|k| **k == key) else {
                return Err(fail(number, format!("unknown header key `{key}`; keys are {}", KEYS.join(", "))));
            };
            if values.iter().any(|(k, _)| k == known) {
                return Err(fail(number, format!("header key `{key}` appears twice")));
            }
            values.push((known, value.trim().to_string()));
        }
        let get = |key: &str| -> Result<String> {
            match values.iter().find(|(k, _)| *k == key) {
                Some((_, v)) if !v.is_empty() => Ok(v.clone()),
                _ => Err(Error::Query {
                    origin: origin.to_string(),
                    message: format!("the header has no `-- {key}: …` line; every KPI states {}", REQUIRED.join(", ")),
                }),
            }
        };
        let optional = |key: &str| values.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
        let list = |text: String| -> Vec<String> { text.split(',').map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect() };
        let better = Better::parse(&get("better")?).ok_or_else(|| Error::Query {
            origin: origin.to_string(),
            message: format!("better: `{}` must be `lower`, `higher` or `neutral`", get("better").unwrap_or_default()),
        })?;
        let mut measures = Vec::new();
        let mut directions = BTreeMap::new();
        for entry in optional("measures").map(list).unwrap_or_default() {
            let (name, direction) = match entry.strip_suffix(')').and_then(|e| e.split_once('(')) {
                Some((name, word)) => (
                    name.trim().to_string(),
                    Better::parse(word.trim()).ok_or_else(|| Error::Query {
                        origin: origin.to_string(),
                        message: format!("measures: `{entry}`: the direction in brackets must be `lower`, `higher` or `neutral`"),
                    })?,
                ),
                None => (entry.clone(), better),
            };
            directions.insert(name.clone(), direction);
            measures.push(name);
        }
        let tolerance = optional("tolerance");
        if let Some(text) = &tolerance {
            super::tolerance::Tolerance::parse(text)
                .map_err(|message| Error::Query { origin: origin.to_string(), message: format!("tolerance: {message}") })?;
        }
        let significance = match optional("significance") {
            Some(text) => Significance::parse_all(&text).map_err(|message| Error::Query { origin: origin.to_string(), message })?,
            None => Vec::new(),
        };
        let headline = match optional("headline") {
            Some(text) => Headline::parse_all(&text).map_err(|message| Error::Query { origin: origin.to_string(), message })?,
            None => Vec::new(),
        };
        let query_error = |message: String| Error::Query { origin: origin.to_string(), message };
        let settles_days = optional("settles").map(|text| timing::settles(&text)).transpose().map_err(query_error)?.unwrap_or(0);
        if settles_days > 0 && !list(get("keys")?).iter().any(|k| k == "month") {
            return Err(query_error("settles: applies to a KPI by month (a `month` key), whose months settle one by one".into()));
        }
        let cohort = optional("cohort").map(|text| timing::cohort(&text)).transpose().map_err(query_error)?;
        let (whole_window, at_cut_off) = match optional("window").as_deref() {
            None | Some("months") => (false, false),
            Some("whole") => (true, false),
            Some("cut-off") => (false, true),
            Some(other) => {
                return Err(Error::Query {
                    origin: origin.to_string(),
                    message: format!(
                        "window: `{other}` must be `months` (each month's rows stand alone, the default), `whole` (they depend on the window) or `cut-off` (they describe the tickets at the cut-off)"
                    ),
                });
            }
        };
        // `n: default; measure = column; …`
        let (n_default, n_by_measure) = match optional("n") {
            None => (None, Vec::new()),
            Some(text) => {
                let mut parts = text.split(';').map(str::trim);
                let default = parts.next().filter(|d| !d.is_empty()).map(str::to_string);
                let mut by = Vec::new();
                for part in parts.filter(|p| !p.is_empty()) {
                    let Some((measure, column)) = part.split_once('=').map(|(m, c)| (m.trim().to_string(), c.trim().to_string())) else {
                        return Err(Error::Query { origin: origin.to_string(), message: format!("n: `{part}` must read `measure = column`") });
                    };
                    if !measures.contains(&measure) {
                        return Err(Error::Query {
                            origin: origin.to_string(),
                            message: format!("n: `{measure}` is not one of the measures: {}", measures.join(", ")),
                        });
                    }
                    by.push((measure, column));
                }
                (default, by)
            }
        };
        Ok(Kpi {
            id: id.to_string(),
            meta: KpiMeta {
                title: get("title")?,
                unit: get("unit")?,
                better,
                grain: get("grain")?,
                keys: list(get("keys")?),
                measures,
                directions,
                tolerance,
                definition: get("definition")?,
                n: n_default,
                n_by_measure,
                significance,
                headline,
                whole_window,
                at_cut_off,
                settles_days,
                cohort,
            },
            sql: text.to_string(),
            origin: origin.to_string(),
        })
    }

    /// Whether one run over many months gives each month's rows as a run over that month alone
    /// would: the KPI has a month key and its header does not say `window: whole`.
    pub fn slices_by_month(&self) -> bool {
        self.meta.keys.iter().any(|k| k == "month") && !self.meta.whole_window
    }
}

/// The built-in KPIs.
pub fn builtin() -> Result<Vec<Kpi>> {
    BUILTIN.iter().map(|(id, text)| Kpi::parse(id, text, "built-in")).collect()
}

/// The `*.sql` files of a directory, sorted by name; a file's stem is its KPI id.
pub fn from_dir(dir: &Path) -> Result<Vec<Kpi>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "sql") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            Kpi::parse(&id, &text, &path.display().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests;
