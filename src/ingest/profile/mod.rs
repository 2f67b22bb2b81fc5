//! Mapping profiles: TOML files that say which input files feed which canonical table, how source
//! columns map to canonical fields, and how source values are parsed. Built-in profiles ship inside
//! the binary. This module reads and checks a profile and resolves each table's parsing rules;
//! `tables` and `parse` hold what a profile may say.

mod parse;
mod tables;

use std::collections::BTreeMap;

// Looked up for every cell of a load: hashbrown's default hasher is several times faster than
// std's SipHash and still seeded per process.
use hashbrown::{HashMap, HashSet};
use std::path::Path;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::timestamp::{DEFAULT_PLAUSIBLE_RANGE, Plausibility, TimestampParser};
use crate::error::{Error, Result};
use crate::model::{FieldKind, Table};
pub use parse::{DecimalSeparator, Delimiter, Encoding, ParseSettings};
pub use tables::{
    ColumnSource, Creation, Dedup, DedupKey, DedupKind, EventLog, Format, Milestone, MilestoneRule, MissingColumns, RowFilter, TableProfile, UnknownColumns,
};

/// Built-in profiles by name, in the order `mttx profiles` lists them.
pub const BUILTIN: &[(&str, &str)] = &[
    ("canonical", include_str!("../profiles/canonical.toml")),
    ("eventlog", include_str!("../profiles/eventlog.toml")),
    ("xes", include_str!("../profiles/xes.toml")),
    ("hpsm", include_str!("../profiles/hpsm.toml")),
    ("servicenow", include_str!("../profiles/servicenow.toml")),
    ("jira", include_str!("../profiles/jira.toml")),
];

/// A mapping profile as written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Parsing settings for every table; a table's own `[tables.X.parse]` overrides them key by key.
    #[serde(default)]
    pub parse: ParseSettings,
    /// Keyed by canonical table name.
    pub tables: BTreeMap<String, TableProfile>,
}

const DEFAULT_NULL_TOKENS: &[&str] = &["", "NULL", "null", "N/A", "n/a"];
const DEFAULT_TRUE_TOKENS: &[&str] = &["true", "TRUE", "True", "t", "1", "yes", "Yes", "YES", "y", "Y"];
const DEFAULT_FALSE_TOKENS: &[&str] = &["false", "FALSE", "False", "f", "0", "no", "No", "NO", "n", "N"];

impl Profile {
    /// A built-in profile by name, or a TOML file at that path.
    pub fn resolve(name_or_path: &str) -> Result<Profile> {
        Profile::resolve_with_text(name_or_path).map(|(profile, _)| profile)
    }

    /// As `resolve`, with the profile's TOML text (a store records its hash).
    pub fn resolve_with_text(name_or_path: &str) -> Result<(Profile, String)> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Ok((Profile::parse(text, name_or_path)?, text.to_string()));
        }
        let path = Path::new(name_or_path);
        if !path.exists() {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(Error::Usage(format!(
                "--profile {name_or_path}: no built-in profile of that name and no such file; \
                 built-in profiles are: {}",
                names.join(", ")
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Ok((Profile::parse(&text, &path.display().to_string())?, text))
    }

    /// Parses and validates a profile; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &str) -> Result<Profile> {
        let profile: Profile = toml::from_str(text).map_err(|e| Error::profile(origin, e.to_string()))?;
        profile.validate(origin)?;
        Ok(profile)
    }

    fn validate(&self, origin: &str) -> Result<()> {
        let fail = |msg: String| Err(Error::profile(origin, msg));
        for (table_name, tp) in &self.tables {
            let Some(table) = Table::from_name(table_name) else {
                return fail(format!("[tables.{table_name}]: unknown table; tables are: {}", table_names()));
            };
            let check_field = |section: &str, field: &str| -> Result<()> {
                if table.field(field).is_none() {
                    return Err(Error::profile(
                        origin,
                        format!("[tables.{table_name}.{section}]: unknown field `{field}`; {table_name} has: {}", field_names(table)),
                    ));
                }
                Ok(())
            };
            for field in tp.columns.keys() {
                check_field("columns", field)?;
            }
            for field in tp.constants.keys() {
                check_field("constants", field)?;
            }
            for field in tp.values.keys() {
                check_field("values", field)?;
            }
            for field in tp.allowed.keys() {
                check_field("allowed", field)?;
            }
            if tp.files.is_empty() {
                return fail(format!("[tables.{table_name}].files: give at least one file name pattern"));
            }
            if let Some(log) = &tp.eventlog {
                for field in &log.changes {
                    if !log.first.contains_key(field) && !log.last.contains_key(field) {
                        return fail(format!(
                            "[tables.{table_name}.eventlog] changes: `{field}` is not an attribute; map it in eventlog.first or eventlog.last to record its changes"
                        ));
                    }
                }
                for field in log.first.keys().chain(log.last.keys()) {
                    check_field("eventlog.first/last", field)?;
                }
                for (field, milestone) in &log.milestones {
                    check_field("eventlog.milestones", field)?;
                    if table.field(field).map(|f| f.kind) != Some(FieldKind::Timestamp) {
                        return fail(format!("[tables.{table_name}.eventlog.milestones]: `{field}` is not a timestamp field"));
                    }
                    if milestone.fallback.is_some_and(|f| !matches!(f, MilestoneRule::FirstEvent | MilestoneRule::LastEvent)) {
                        return fail(format!("[tables.{table_name}.eventlog.milestones.{field}]: fallback must be first_event or last_event"));
                    }
                    if log.first.contains_key(field) || log.last.contains_key(field) {
                        return fail(format!("[tables.{table_name}.eventlog]: `{field}` is both a milestone and an attribute"));
                    }
                    if milestone.include_creation && milestone.rule != MilestoneRule::FirstOutOf {
                        return fail(format!("[tables.{table_name}.eventlog.milestones.{field}]: include_creation applies to rule first_out_of only"));
                    }
                    if milestone.include_creation && log.creation.is_none() {
                        return fail(format!(
                            "[tables.{table_name}.eventlog.milestones.{field}]: include_creation needs [tables.{table_name}.eventlog] creation = {{ column = \"…\", values = [\"…\"] }} to say which events are a ticket's creation"
                        ));
                    }
                    let needs_states = !matches!(milestone.rule, MilestoneRule::FirstEvent | MilestoneRule::LastEvent);
                    if needs_states && milestone.states.is_empty() {
                        return fail(format!("[tables.{table_name}.eventlog.milestones.{field}]: rule {:?} needs `states`", milestone.rule));
                    }
                }
                if tp.dedup.is_some() || !tp.columns.is_empty() || tp.auto_columns {
                    return fail(format!(
                        "[tables.{table_name}]: an eventlog table maps attributes in eventlog.first/last; drop columns, auto_columns and dedup"
                    ));
                }
            } else if !tp.auto_columns && !tp.columns.contains_key("id") && !tp.constants.contains_key("id") {
                return fail(format!("[tables.{table_name}]: no source for the required field `id`; add it to columns or set auto_columns = true"));
            }
            // Build the rules once now so that a bad zone, format or token fails at load time.
            self.rules(table, origin)?;
        }
        Ok(())
    }

    pub fn table(&self, table: Table) -> Option<&TableProfile> {
        self.tables.get(table.name())
    }

    /// The effective parsing rules of one table: its own settings over the profile's, over defaults.
    pub fn rules(&self, table: Table, origin: &str) -> Result<TableRules> {
        let Some(tp) = self.table(table) else {
            return Err(Error::profile(origin, format!("no [tables.{table}] section")));
        };
        let own = &tp.parse;
        let all = &self.parse;
        macro_rules! pick {
            ($key:ident) => {
                own.$key.clone().or_else(|| all.$key.clone())
            };
        }
        let fail = |msg: String| Error::profile(origin, format!("[tables.{table}]: {msg}"));

        let tz_name = pick!(timezone).unwrap_or_else(|| "UTC".to_string());
        let tz: Tz = tz_name.parse().map_err(|_| fail(format!("timezone `{tz_name}` is not an IANA zone such as Europe/Amsterdam or UTC")))?;
        let formats = pick!(timestamp_formats).unwrap_or_else(|| vec!["iso8601".to_string()]);
        let timestamps = TimestampParser::new(&formats, tz).map_err(fail)?;
        let range = pick!(plausible_range).unwrap_or_else(|| DEFAULT_PLAUSIBLE_RANGE.iter().map(|d| d.to_string()).collect());
        let plausibility = Plausibility::new(&pick!(sentinel_dates).unwrap_or_default(), &range, tz).map_err(fail)?;

        let tokens = |v: Option<Vec<String>>, default: &[&str]| -> HashSet<String> {
            v.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect()).into_iter().collect()
        };
        let null_tokens = tokens(pick!(null_tokens), DEFAULT_NULL_TOKENS);
        let true_tokens = tokens(pick!(true_tokens), DEFAULT_TRUE_TOKENS);
        let false_tokens = tokens(pick!(false_tokens), DEFAULT_FALSE_TOKENS);
        if let Some(both) = true_tokens.intersection(&false_tokens).next() {
            return Err(fail(format!("`{both}` is both a true and a false token")));
        }

        let delimiter = match pick!(delimiter) {
            None | Some(Delimiter::Auto) => None,
            Some(Delimiter::Byte(b)) => Some(b),
        };
        let quote = pick!(quote).unwrap_or('"');
        if !quote.is_ascii() {
            return Err(fail(format!("quote `{quote}` must be an ASCII character")));
        }
        let decimal_comma = pick!(decimal) == Some(DecimalSeparator::Comma);
        let latin1 = pick!(encoding) == Some(Encoding::Latin1);

        let mut value_maps = HashMap::new();
        for (field, map) in &tp.values {
            let spec = table.field(field).expect("validated above");
            let mut exact = HashMap::new();
            let mut folded = HashMap::new();
            for (from, to) in map {
                let to = constant_text(to, spec.kind).map_err(|m| fail(format!("values.{field}.\"{from}\": {m}")))?;
                exact.insert(from.clone(), to.clone());
                folded.entry(from.to_lowercase()).or_insert(to);
            }
            value_maps.insert(field.clone(), ValueMap { exact, folded });
        }
        let mut constants = HashMap::new();
        for (field, value) in &tp.constants {
            let spec = table.field(field).expect("validated above");
            let text = constant_text(value, spec.kind).map_err(|m| fail(format!("constants.{field}: {m}")))?;
            constants.insert(field.clone(), text);
        }

        let allowed = tp.allowed.iter().map(|(field, values)| (field.clone(), values.iter().map(|v| v.trim().to_lowercase()).collect())).collect();
        Ok(TableRules {
            allowed,
            timestamps,
            plausibility,
            null_tokens,
            true_tokens,
            false_tokens,
            delimiter,
            quote: quote as u8,
            decimal_comma,
            latin1,
            value_maps,
            constants,
        })
    }
}

/// The resolved parsing rules of one table.
#[derive(Debug, Clone)]
pub struct TableRules {
    pub timestamps: TimestampParser,
    /// Sentinel dates and the plausible range of timestamps.
    pub plausibility: Plausibility,
    pub null_tokens: HashSet<String>,
    pub true_tokens: HashSet<String>,
    pub false_tokens: HashSet<String>,
    /// None: sniff from the header line.
    pub delimiter: Option<u8>,
    pub quote: u8,
    pub decimal_comma: bool,
    pub latin1: bool,
    pub value_maps: HashMap<String, ValueMap>,
    pub constants: HashMap<String, String>,
    /// Field → the lower-cased values it may hold.
    pub allowed: HashMap<String, HashSet<String>>,
}

#[derive(Debug, Clone)]
pub struct ValueMap {
    exact: HashMap<String, String>,
    folded: HashMap<String, String>,
}

impl ValueMap {
    pub fn get(&self, raw: &str) -> Option<&str> {
        self.exact.get(raw).or_else(|| self.folded.get(&raw.to_lowercase())).map(String::as_str)
    }
}

/// A TOML scalar as the text the value parser expects for a field of `kind`.
fn constant_text(value: &toml::Value, kind: FieldKind) -> std::result::Result<String, String> {
    match (value, kind) {
        (toml::Value::String(s), FieldKind::Integer) if s.trim().parse::<i64>().is_err() => {
            Err(format!("an integer field cannot hold \"{s}\"; write a number such as 1"))
        }
        (toml::Value::String(s), FieldKind::Boolean) if !["true", "false"].contains(&s.as_str()) => {
            Err(format!("a boolean field cannot hold \"{s}\"; write true or false"))
        }
        (toml::Value::String(s), _) => Ok(s.clone()),
        (toml::Value::Integer(i), FieldKind::Integer | FieldKind::Text) => Ok(i.to_string()),
        (toml::Value::Boolean(b), FieldKind::Boolean | FieldKind::Text) => Ok(b.to_string()),
        (v, kind) => Err(format!("a {} cannot hold {v}", kind.describe())),
    }
}

fn table_names() -> String {
    Table::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}

pub fn field_names(table: Table) -> String {
    table.fields().iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_parse() {
        for (name, _) in BUILTIN {
            Profile::resolve(name).unwrap();
        }
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Profile::parse("name = \"x\"\n[tables.incidents]\nfiles = [\"i*\"]\nauto_columns = true\ntimestmap_formats = []\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("timestmap_formats"), "{err}");
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn unknown_field_and_bad_zone_and_bad_format() {
        let base = "name = \"x\"\n[tables.incidents]\nfiles = [\"i*\"]\n";
        let err = Profile::parse(&format!("{base}columns = {{ id = \"n\", opend_at = \"o\" }}\n"), "p").unwrap_err().to_string();
        assert!(err.contains("unknown field `opend_at`"), "{err}");
        let err = Profile::parse(&format!("{base}columns = {{ id = \"n\" }}\nparse = {{ timezone = \"Mars/Olympus\" }}\n"), "p").unwrap_err().to_string();
        assert!(err.contains("Mars/Olympus"), "{err}");
        let err =
            Profile::parse(&format!("{base}columns = {{ id = \"n\" }}\nparse = {{ timestamp_formats = [\"%d/%m/%Q\"] }}\n"), "p").unwrap_err().to_string();
        assert!(err.contains("%d/%m/%Q"), "{err}");
        let err = Profile::parse("name = \"x\"\n[tables.incidnets]\nfiles = [\"i*\"]\n", "p").unwrap_err().to_string();
        assert!(err.contains("unknown table"), "{err}");
    }
}
