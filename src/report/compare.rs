//! The benchmark table's arithmetic: each KPI measure of the report period set against the
//! previous period, the same period a year earlier, a baseline run, the target and peers, with
//! direction from the KPI's `better` and a significance test where its header names one.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::peers::{PeerQuartiles, Peers};
use super::samples::Samples;
use super::stats::{self, TestResult};
use super::targets::Targets;
use crate::kpi::document::{plain, KpiValues};
use crate::kpi::{Better, KpiDocument, SignificanceTest};

/// A change is called significant below this p-value.
pub const ALPHA: f64 = 0.05;

/// One KPI period's values with what the tests need: the samples behind rank tests and the hours
/// the period covers (exposure for count tests).
pub struct PeriodValues<'a> {
    pub label: String,
    pub document: &'a KpiDocument,
    pub samples: Option<&'a Samples>,
    pub covered_hours: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Better,
    Worse,
    Same,
}

/// The period's value set against one other period.
#[derive(Debug, Clone, Serialize)]
pub struct Versus {
    pub label: String,
    pub value: Option<f64>,
    pub n: Option<f64>,
    pub change: Option<f64>,
    /// change / |other value|; None when the other value is 0 or missing.
    pub relative: Option<f64>,
    pub direction: Option<Direction>,
    pub test: Option<TestResult>,
}

impl Versus {
    pub fn significant(&self) -> bool {
        self.test.is_some_and(|t| t.p_value < ALPHA)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetVerdict {
    pub value: f64,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerVerdict {
    pub quartiles: PeerQuartiles,
    /// Where the value falls among peers, in words that follow `better`.
    pub position: &'static str,
}

/// One row of the benchmark table: a measure of one KPI row in the report period.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub kpi: String,
    pub title: String,
    pub unit: String,
    pub better: Better,
    /// The row's key columns other than month, e.g. `priority=1,sla=response`; empty for a
    /// KPI with only a month key.
    pub key: String,
    pub measure: String,
    pub value: Option<f64>,
    pub n: Option<f64>,
    pub previous: Option<Versus>,
    pub year_ago: Option<Versus>,
    pub baseline: Option<Versus>,
    pub target: Option<TargetVerdict>,
    pub peer: Option<PeerVerdict>,
}

/// A KPI row's key without its month: the same row of another period has the same one.
pub fn period_free_key(kpi: &KpiValues, row: &Map<String, Value>) -> String {
    kpi.keys
        .iter()
        .filter(|k| k.as_str() != "month")
        .map(|k| format!("{k}={}", plain(row.get(k).unwrap_or(&Value::Null))))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn number(row: &Map<String, Value>, column: &str) -> Option<f64> {
    row.get(column).and_then(Value::as_f64).filter(|v| v.is_finite())
}

/// The column holding a row's n: the header's `n:`, else a column named `n`.
pub fn n_column(kpi: &KpiValues, declared: Option<&str>) -> Option<String> {
    declared.map(str::to_string).or_else(|| kpi.columns.iter().any(|c| c.name == "n").then(|| "n".to_string()))
}

struct Indexed<'a> {
    period: &'a PeriodValues<'a>,
    rows: HashMap<(&'a str, String), &'a Map<String, Value>>,
}

impl<'a> Indexed<'a> {
    fn new(period: &'a PeriodValues<'a>) -> Indexed<'a> {
        let mut rows = HashMap::new();
        for kpi in &period.document.kpis {
            for row in &kpi.rows {
                rows.entry((kpi.id.as_str(), period_free_key(kpi, row))).or_insert(row);
            }
        }
        Indexed { period, rows }
    }
}

/// Everything `compare` reads besides the periods: the catalog's n columns and tests.
pub struct Catalog<'a> {
    pub kpis: &'a [crate::kpi::Kpi],
}

impl Catalog<'_> {
    fn kpi(&self, id: &str) -> Option<&crate::kpi::Kpi> {
        self.kpis.iter().find(|k| k.id == id)
    }
}

/// Compares every measure of every row of `current`.
pub fn compare(
    catalog: &Catalog,
    current: &PeriodValues,
    previous: Option<&PeriodValues>,
    year_ago: Option<&PeriodValues>,
    baseline: Option<&PeriodValues>,
    targets: &Targets,
    peers: Option<&Peers>,
) -> Vec<Comparison> {
    let others: Vec<Option<Indexed>> = [previous, year_ago, baseline].into_iter().map(|p| p.map(Indexed::new)).collect();
    let mut comparisons = Vec::new();
    for kpi in &current.document.kpis {
        let definition = catalog.kpi(&kpi.id);
        let n_col = n_column(kpi, definition.and_then(|d| d.meta.n.as_deref()));
        for row in &kpi.rows {
            let key = period_free_key(kpi, row);
            for measure in &kpi.measures {
                let value = number(row, measure);
                let test = definition.and_then(|d| d.meta.significance.iter().find(|s| s.measures.contains(measure))).map(|s| &s.test);
                let versus = |other: &Option<Indexed>| -> Option<Versus> {
                    let other = other.as_ref()?;
                    let other_row = other.rows.get(&(kpi.id.as_str(), key.clone())).copied();
                    let other_value = other_row.and_then(|r| number(r, measure));
                    let change = value.zip(other_value).map(|(v, o)| v - o);
                    let direction = change.map(|c| {
                        let scale = value.unwrap_or(0.0).abs().max(other_value.unwrap_or(0.0).abs());
                        if c.abs() <= 1e-9 * scale.max(1e-12) {
                            Direction::Same
                        } else if (c < 0.0) == (kpi.better == Better::Lower) {
                            Direction::Better
                        } else {
                            Direction::Worse
                        }
                    });
                    Some(Versus {
                        label: other.period.label.clone(),
                        value: other_value,
                        n: other_row.zip(n_col.as_deref()).and_then(|(r, c)| number(r, c)),
                        change,
                        relative: change.zip(other_value).and_then(|(c, o)| (o != 0.0).then(|| c / o.abs())),
                        direction,
                        test: other_row.and_then(|r| significance(test?, &kpi.id, &key, row, current, r, other.period)),
                    })
                };
                let target = targets.find(&kpi.id, measure, row).and_then(|t| {
                    let v = value?;
                    Some(TargetVerdict { value: t, met: if kpi.better == Better::Lower { v <= t } else { v >= t } })
                });
                let peer = peers.and_then(|p| p.find(&kpi.id, &key, measure)).and_then(|q| {
                    Some(PeerVerdict { quartiles: q.clone(), position: peer_position(value?, q, kpi.better) })
                });
                comparisons.push(Comparison {
                    kpi: kpi.id.clone(),
                    title: kpi.title.clone(),
                    unit: kpi.unit.clone(),
                    better: kpi.better,
                    key: key.clone(),
                    measure: measure.clone(),
                    value,
                    n: n_col.as_deref().and_then(|c| number(row, c)),
                    previous: versus(&others[0]),
                    year_ago: versus(&others[1]),
                    baseline: versus(&others[2]),
                    target,
                    peer,
                });
            }
        }
    }
    comparisons
}

fn significance(
    test: &SignificanceTest,
    kpi: &str,
    key: &str,
    row: &Map<String, Value>,
    current: &PeriodValues,
    other_row: &Map<String, Value>,
    other: &PeriodValues,
) -> Option<TestResult> {
    let count = |r: &Map<String, Value>, c: &str| number(r, c).filter(|v| *v >= 0.0).map(|v| v.round() as u64);
    match test {
        SignificanceTest::Rank { cte, column } => {
            let a = current.samples?.get(kpi, cte, column, key)?;
            let b = other.samples?.get(kpi, cte, column, key)?;
            stats::mann_whitney(a, b)
        }
        SignificanceTest::Proportion { successes, trials } => {
            stats::two_proportions(count(row, successes)?, count(row, trials)?, count(other_row, successes)?, count(other_row, trials)?)
        }
        SignificanceTest::Poisson { count: column } => {
            stats::poisson_rates(count(row, column)?, current.covered_hours, count(other_row, column)?, other.covered_hours)
        }
    }
}

fn peer_position(value: f64, q: &PeerQuartiles, better: Better) -> &'static str {
    let (good_side, bad_side) = match better {
        Better::Lower => (value <= q.p25, value > q.p75),
        Better::Higher => (value >= q.p75, value < q.p25),
    };
    if good_side {
        "top quartile"
    } else if bad_side {
        "bottom quartile"
    } else if (better == Better::Lower) == (value <= q.median) {
        "better than median"
    } else {
        "worse than median"
    }
}
