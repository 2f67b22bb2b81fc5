//! Peer benchmarks: a CSV of `kpi, key, p25, median, p75` (and optionally `measure`) giving how a
//! KPI is distributed across peer organisations, read strictly with file, line and column in
//! every error.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::kpi::Kpi;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerQuartiles {
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
}

#[derive(Debug, Default)]
pub struct Peers {
    pub origin: String,
    /// (kpi, key, measure) → quartiles.
    by_row: HashMap<(String, String, String), PeerQuartiles>,
}

impl Peers {
    /// The quartiles of one row. A peer key that does not name `scope` means the per-priority rows,
    /// as a gate does: `priority=1` matches `scope=priority,priority=1`.
    pub fn find(&self, kpi: &str, key: &str, measure: &str) -> Option<&PeerQuartiles> {
        let get = |key: &str| self.by_row.get(&(kpi.to_string(), key.to_string(), measure.to_string()));
        get(key).or_else(|| {
            let pairs: Vec<&str> = key.split(',').collect();
            pairs
                .contains(&"scope=priority")
                .then(|| pairs.iter().filter(|p| **p != "scope=priority").copied().collect::<Vec<_>>().join(","))
                .and_then(|k| get(&k))
        })
    }

    pub fn len(&self) -> usize {
        self.by_row.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_row.is_empty()
    }

    pub fn load(path: &Path, kpis: &[Kpi]) -> Result<Peers> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Peers::parse(&text, &path.display().to_string(), kpis)
    }

    /// `measure` may be left out (column absent or cell empty): it then means the KPI's first
    /// measure. `key` is the row key without its month part, e.g. `priority=1,sla=response` where
    /// `mttx kpi --format csv` writes `month=2026-10,priority=1,sla=response`, and empty for KPIs
    /// keyed by month only.
    pub fn parse(text: &str, origin: &str, kpis: &[Kpi]) -> Result<Peers> {
        let fail =
            |line: u64, column: &str, message: String| Error::Peers { origin: origin.to_string(), message: format!("line {line}, column {column}: {message}") };
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
        let headers = reader.headers().map_err(|e| fail(1, "-", e.to_string()))?.clone();
        let index = |name: &str| headers.iter().position(|h| h == name);
        let required = ["kpi", "key", "p25", "median", "p75"];
        for name in required {
            if index(name).is_none() {
                return Err(fail(1, name, format!("missing; the header must name {} (and optionally measure)", required.join(", "))));
            }
        }
        for name in headers.iter() {
            if !required.contains(&name) && name != "measure" {
                return Err(fail(1, name, format!("unknown column; columns are {} and measure", required.join(", "))));
            }
        }
        let mut peers = Peers { origin: origin.to_string(), by_row: HashMap::new() };
        for record in reader.records() {
            let record = record.map_err(|e| fail(e.position().map_or(0, |p| p.line()), "-", e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let cell = |name: &str| index(name).and_then(|i| record.get(i)).unwrap_or("");
            let kpi_id = cell("kpi");
            let Some(kpi) = kpis.iter().find(|k| k.id == kpi_id) else {
                return Err(fail(line, "kpi", format!("no KPI `{kpi_id}`")));
            };
            let measure = match cell("measure") {
                "" => kpi.meta.measures.first().cloned().ok_or_else(|| fail(line, "measure", format!("{kpi_id} has no measures")))?,
                m if kpi.meta.measures.iter().any(|x| x == m) => m.to_string(),
                m if crate::kpi::renames::renamed(kpi_id, m).is_some() => {
                    return Err(fail(line, "measure", crate::kpi::renames::old_name_message(kpi_id, m).unwrap_or_default()));
                }
                m => return Err(fail(line, "measure", format!("`{m}` is not a measure of {kpi_id}; its measures are: {}", kpi.meta.measures.join(", ")))),
            };
            let number = |name: &str| -> Result<f64> {
                cell(name).parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| fail(line, name, format!("`{}` is not a number", cell(name))))
            };
            let quartiles = PeerQuartiles { p25: number("p25")?, median: number("median")?, p75: number("p75")? };
            if !(quartiles.p25 <= quartiles.median && quartiles.median <= quartiles.p75) {
                return Err(fail(line, "p25", "quartiles must satisfy p25 ≤ median ≤ p75".into()));
            }
            for pair in cell("key").split(',').filter(|p| !p.is_empty()) {
                let column = pair.split_once('=').map(|(c, _)| c).unwrap_or(pair);
                if column == "month" || !kpi.meta.keys.iter().any(|k| k == column) {
                    let keys: Vec<&str> = kpi.meta.keys.iter().map(String::as_str).filter(|k| *k != "month").collect();
                    return Err(fail(
                        line,
                        "key",
                        format!("`{column}` is not a key of {kpi_id} to match (month is the report's); its keys are: {}", keys.join(", ")),
                    ));
                }
            }
            let key = (kpi_id.to_string(), cell("key").to_string(), measure);
            if peers.by_row.insert(key, quartiles).is_some() {
                return Err(fail(line, "key", format!("{kpi_id} `{}` appears twice", cell("key"))));
            }
        }
        Ok(peers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_parse_and_errors_point_at_the_cell() {
        let kpis = crate::kpi::catalog::builtin().unwrap();
        let peers = Peers::parse("kpi,key,p25,median,p75\nmttr,priority=1,2,4,8\nreopen_rate,,0.01,0.02,0.04\n", "p.csv", &kpis).unwrap();
        assert_eq!(peers.find("mttr", "priority=1", "mean_hours").unwrap().median, 4.0);
        assert_eq!(peers.find("reopen_rate", "", "reopen_rate").unwrap().p75, 0.04);
        let err = Peers::parse("kpi,key,p25,median,p75\nmttr,priority=1,2,x,8\n", "p.csv", &kpis).unwrap_err().to_string();
        assert!(err.contains("p.csv") && err.contains("line 2, column median") && err.contains("`x`"), "{err}");
        let err = Peers::parse("kpi,key,p25,median,p75,colour\n", "p.csv", &kpis).unwrap_err().to_string();
        assert!(err.contains("column colour: unknown column"), "{err}");
    }
}
