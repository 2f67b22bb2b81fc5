//! KPI targets for reports: a TOML file of values to meet, per KPI measure and optionally per key
//! (`priority = 1`). The most specific target that matches a row applies.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::kpi::Kpi;
use crate::kpi::document::plain;

/// The targets mttx uses unless `--targets FILE` names others; `sample-data/targets.toml` is the
/// same file.
pub const DEFAULT_TARGETS: &str = include_str!("../../sample-data/targets.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    #[serde(default)]
    description: String,
    #[serde(default, rename = "target")]
    targets: Vec<TargetSpec>,
}

#[derive(Debug, Deserialize)]
struct TargetSpec {
    kpi: String,
    measure: String,
    value: f64,
    /// Key columns to match, e.g. priority = 1 or sla = "response".
    #[serde(flatten)]
    keys: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone)]
struct Target {
    kpi: String,
    measure: String,
    value: f64,
    keys: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Targets {
    pub origin: String,
    pub description: String,
    targets: Vec<Target>,
    /// SHA-256 of the file's text; None for no targets.
    pub sha256: Option<String>,
}

impl Targets {
    /// No targets at all.
    pub fn none() -> Targets {
        Targets { origin: "no targets".into(), description: String::new(), targets: Vec::new(), sha256: None }
    }

    pub fn default_targets(kpis: &[Kpi]) -> Result<Targets> {
        Targets::parse(DEFAULT_TARGETS, "built-in targets", kpis)
    }

    pub fn load(path: &Path, kpis: &[Kpi]) -> Result<Targets> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Targets::parse(&text, &path.display().to_string(), kpis)
    }

    /// Parses and checks every target against the catalog, so a typo is an error, not a target
    /// that silently never applies.
    pub fn parse(text: &str, origin: &str, kpis: &[Kpi]) -> Result<Targets> {
        let fail = |message: String| Error::Targets { origin: origin.to_string(), message };
        let file: TargetsFile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let mut targets = Vec::new();
        for (index, spec) in file.targets.into_iter().enumerate() {
            let at = format!("target #{} ({} {})", index + 1, spec.kpi, spec.measure);
            let Some(kpi) = kpis.iter().find(|k| k.id == spec.kpi) else {
                let ids: Vec<&str> = kpis.iter().map(|k| k.id.as_str()).collect();
                return Err(fail(format!("{at}: no KPI `{}`; KPIs are: {}", spec.kpi, ids.join(", "))));
            };
            if let Some(message) = crate::kpi::renames::old_name_message(&kpi.id, &spec.measure) {
                return Err(fail(format!("{at}: {message}")));
            }
            if !kpi.meta.measures.contains(&spec.measure) {
                return Err(fail(format!("{at}: `{}` is not a measure of {}; its measures are: {}", spec.measure, kpi.id, kpi.meta.measures.join(", "))));
            }
            if kpi.meta.direction(&spec.measure) == crate::kpi::Better::Neutral {
                return Err(fail(format!(
                    "{at}: {}.{} is neutral (workload, neither better nor worse), so it has no target to meet; gate it in checks.toml with a tolerance rule instead",
                    kpi.id, spec.measure
                )));
            }
            if !spec.value.is_finite() {
                return Err(fail(format!("{at}: value must be a finite number")));
            }
            let mut keys = Vec::new();
            for (column, value) in spec.keys {
                if column == "month" || !kpi.meta.keys.contains(&column) {
                    return Err(fail(format!("{at}: `{column}` is not a key of {} to narrow by; its keys are: {}", kpi.id, kpi.meta.keys.join(", "))));
                }
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => return Err(fail(format!("{at}: {column} = {other}: give text, an integer or a boolean"))),
                };
                keys.push((column, text));
            }
            targets.push(Target { kpi: spec.kpi, measure: spec.measure, value: spec.value, keys });
        }
        Ok(Targets { origin: origin.to_string(), description: file.description, targets, sha256: Some(crate::store::hash::sha256_hex(text.as_bytes())) })
    }

    /// The target for this measure of this row: among those whose keys all match, the one with
    /// the most keys.
    pub fn find(&self, kpi_id: &str, measure: &str, row: &Map<String, Value>) -> Option<f64> {
        self.targets
            .iter()
            .filter(|t| t.kpi == kpi_id && t.measure == measure)
            .filter(|t| t.keys.iter().all(|(column, value)| row.get(column).map(plain).as_deref() == Some(value.as_str())))
            .max_by_key(|t| t.keys.len())
            .map(|t| t.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kpis() -> Vec<Kpi> {
        crate::kpi::catalog::builtin().unwrap()
    }

    #[test]
    fn the_most_specific_target_applies() {
        let text = "[[target]]\nkpi = \"sla_breach\"\nmeasure = \"breach_rate\"\nvalue = 0.1\n\n[[target]]\nkpi = \"sla_breach\"\nmeasure = \"breach_rate\"\npriority = 1\nsla = \"response\"\nvalue = 0.02\n";
        let targets = Targets::parse(text, "t.toml", &kpis()).unwrap();
        let row = |p: i64, sla: &str| serde_json::json!({"month": "2026-10", "priority": p, "sla": sla}).as_object().unwrap().clone();
        assert_eq!(targets.find("sla_breach", "breach_rate", &row(1, "response")), Some(0.02));
        assert_eq!(targets.find("sla_breach", "breach_rate", &row(1, "resolution")), Some(0.1));
        assert_eq!(targets.find("sla_breach", "measured", &row(1, "resolution")), None);
    }

    #[test]
    fn mistakes_name_the_target_and_what_exists() {
        let bad = |text: &str| Targets::parse(text, "t.toml", &kpis()).unwrap_err().to_string();
        let err = bad("[[target]]\nkpi = \"mtt\"\nmeasure = \"p50_hours\"\nvalue = 1\n");
        assert!(err.contains("t.toml") && err.contains("no KPI `mtt`"), "{err}");
        let err = bad("[[target]]\nkpi = \"mttr\"\nmeasure = \"median\"\nvalue = 1\n");
        assert!(err.contains("p50_hours"), "{err}");
        let err = bad("[[target]]\nkpi = \"mttr\"\nmeasure = \"p50_hours\"\nprio = 1\nvalue = 1\n");
        // A neutral measure has no target: volume is workload.
        let neutral = bad("[[target]]\nkpi = \"volume\"\nmeasure = \"incidents\"\nvalue = 100\n");
        assert!(neutral.contains("volume.incidents is neutral"), "{neutral}");
        assert!(err.contains("`prio` is not a key of mttr"), "{err}");
        // A renamed column is named by its new name.
        let renamed = bad("[[target]]\nkpi = \"mtbf\"\nmeasure = \"mttr_hours\"\nvalue = 4\n");
        assert!(renamed.contains("was replaced by `mtbf.mean_outage_hours`"), "{renamed}");
    }

    #[test]
    fn the_default_targets_parse() {
        Targets::default_targets(&kpis()).unwrap();
    }
}
