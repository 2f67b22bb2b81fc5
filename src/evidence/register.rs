//! The improvement register, `improvements.toml`: initiatives with the date they went live, the
//! KPI measures they are meant to move, and an optional control group, read and checked against
//! the catalog (`improvements` measures them).
//!
//! ```toml
//! [[initiative]]
//! name = "Triage rule for P3"
//! live = "2026-06-01"                 # or a roll-out, "2026-06-01..2026-06-14"
//! expects = ["mttr.p50_hours{priority=3} lower", "mttr.mean_hours{priority=3} lower"]
//! months_before = 3                   # the default
//! months_after = 3
//! control = { priority = 4 }          # optional: judged on the difference in differences
//! ```

use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::kpi::selector::Selector;
use crate::kpi::{Better, Kpi};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterFile {
    #[serde(default)]
    description: String,
    #[serde(default, rename = "initiative")]
    initiatives: Vec<InitiativeSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InitiativeSpec {
    name: toml::Spanned<String>,
    live: toml::Spanned<String>,
    expects: Vec<toml::Spanned<String>>,
    #[serde(default = "three")]
    months_before: u32,
    #[serde(default = "three")]
    months_after: u32,
    /// Key values of a control group the initiative did not touch, `{ priority = 4 }`.
    #[serde(default)]
    control: std::collections::BTreeMap<String, toml::Value>,
}

fn three() -> u32 {
    3
}

/// A measure an initiative is meant to move, and which way.
#[derive(Debug, Clone)]
pub struct Expectation {
    pub text: String,
    pub selector: Selector,
    pub direction: Better,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Initiative {
    pub name: String,
    /// The first and last day of the go-live (the same day for a switch-over).
    pub live: (NaiveDate, NaiveDate),
    pub expects: Vec<Expectation>,
    pub months_before: u32,
    pub months_after: u32,
    pub line: usize,
    /// The control group's key values: each expected row is set against the row with these.
    pub control: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Register {
    pub origin: String,
    pub description: String,
    pub initiatives: Vec<Initiative>,
}

impl Register {
    pub fn load(path: &Path, kpis: &[Kpi]) -> Result<Register> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Register::parse(&text, &path.display().to_string(), kpis)
    }

    /// Parses and checks the register: every KPI, measure and key column it names must exist.
    pub fn parse(text: &str, origin: &str, kpis: &[Kpi]) -> Result<Register> {
        let fail = |line: usize, message: String| Error::Improvements { origin: origin.to_string(), message: format!("line {line}: {message}") };
        let file: RegisterFile = toml::from_str(text).map_err(|e| Error::Improvements { origin: origin.to_string(), message: e.to_string() })?;
        let line_of = |span: std::ops::Range<usize>| text[..span.start.min(text.len())].matches('\n').count() + 1;
        let mut initiatives = Vec::new();
        for spec in file.initiatives {
            let line = line_of(spec.name.span());
            let live_line = line_of(spec.live.span());
            let date =
                |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| fail(live_line, format!("live: `{s}` is not a date such as 2026-06-01")));
            let live = match spec.live.get_ref().split_once("..") {
                Some((a, b)) => (date(a)?, date(b)?),
                None => (date(spec.live.get_ref())?, date(spec.live.get_ref())?),
            };
            if live.0 > live.1 {
                return Err(fail(live_line, format!("live: {} is after {}", live.0, live.1)));
            }
            if spec.months_before == 0 || spec.months_after == 0 || spec.months_before > 24 || spec.months_after > 24 {
                return Err(fail(line, "months_before and months_after are 1 to 24".into()));
            }
            let mut expects = Vec::new();
            for e in &spec.expects {
                let line = line_of(e.span());
                let text = e.get_ref().trim();
                let (selector_text, direction) = text
                    .rsplit_once(char::is_whitespace)
                    .ok_or_else(|| fail(line, format!("`{text}`: write a measure and the way it should move, e.g. `mttr.p50_hours{{priority=3}} lower`")))?;
                let direction = match direction {
                    "lower" => Better::Lower,
                    "higher" => Better::Higher,
                    other => return Err(fail(line, format!("`{other}`: the way a measure should move is `lower` or `higher`"))),
                };
                let selector = Selector::parse(selector_text.trim()).map_err(|m| fail(line, format!("`{selector_text}`: {m}")))?;
                let kpi = kpis.iter().find(|k| k.id == selector.kpi).ok_or_else(|| {
                    let ids: Vec<&str> = kpis.iter().map(|k| k.id.as_str()).collect();
                    fail(line, format!("no KPI `{}`; KPIs are: {}", selector.kpi, ids.join(", ")))
                })?;
                let measure = selector.column.as_deref().ok_or_else(|| {
                    fail(line, format!("`{selector_text}`: name the measure, e.g. {}.{}", kpi.id, kpi.meta.measures.first().map(String::as_str).unwrap_or("…")))
                })?;
                if let Some(message) = crate::kpi::renames::old_name_message(&kpi.id, measure) {
                    return Err(fail(line, message));
                }
                if !kpi.meta.measures.iter().any(|m| m == measure) {
                    return Err(fail(line, format!("{} has no measure `{measure}`; its measures are: {}", kpi.id, kpi.meta.measures.join(", "))));
                }
                for (key, _) in &selector.keys {
                    if key == "month" || !kpi.meta.keys.contains(key) {
                        let keys: Vec<&str> = kpi.meta.keys.iter().map(String::as_str).filter(|k| *k != "month").collect();
                        return Err(fail(line, format!("`{key}` is not a key of {} to select by; its keys are: {}", kpi.id, keys.join(", "))));
                    }
                }
                expects.push(Expectation { text: text.to_string(), selector, direction, line });
            }
            if expects.is_empty() {
                return Err(fail(line, "an initiative expects at least one measure to move".into()));
            }
            let mut control = Vec::new();
            for (key, value) in spec.control {
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    other => return Err(fail(line, format!("control: `{key}` = {other} must be a text or a whole number"))),
                };
                for e in &expects {
                    let kpi = kpis.iter().find(|k| k.id == e.selector.kpi).expect("checked above");
                    if key == "month" || !kpi.meta.keys.contains(&key) {
                        return Err(fail(line, format!("control: `{key}` is not a key of {} to form a control group by", kpi.id)));
                    }
                }
                control.push((key, text));
            }
            initiatives.push(Initiative {
                name: spec.name.into_inner(),
                live,
                expects,
                months_before: spec.months_before,
                months_after: spec.months_after,
                line,
                control,
            });
        }
        Ok(Register { origin: origin.to_string(), description: file.description, initiatives })
    }
}
