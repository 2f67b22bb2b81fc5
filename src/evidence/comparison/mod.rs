//! The benchmark table's arithmetic: each KPI measure of the report period set against the
//! previous period, the same period a year earlier, a baseline run, the target and peers, with
//! direction from the KPI's `better` and a significance test where its header names one.

mod significance;

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use super::peers::{PeerQuartiles, Peers};
use super::samples::Samples;
use super::stats::{self, TestResult};
use super::targets::Targets;
use crate::kpi::document::{KpiValues, key_text};
use crate::kpi::{Better, KpiDocument, SignificanceTest};
use significance::{Ranked, interval, significance, test_n};

/// One KPI period's values with what the tests need: the samples behind rank tests and the hours
/// the period covers (exposure for count tests).
pub struct PeriodValues<'a> {
    pub label: String,
    pub document: &'a KpiDocument,
    pub samples: Option<&'a Samples>,
    pub covered_hours: f64,
}

/// Which way a measure moved, judged by its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Better,
    Worse,
    Same,
    /// A neutral measure moved: information, neither better nor worse.
    Changed,
}

/// The period's value set against one other period.
#[derive(Debug, Clone, Serialize)]
pub struct Versus {
    pub label: String,
    /// Whether the other period has this row at all (ranked lists drop rows).
    pub listed: bool,
    pub value: Option<f64>,
    pub n: Option<f64>,
    /// For counts tested as Poisson rates, change and relative compare counts per day of each
    /// period's covered time, so a 31-day month is not "worse" than a 30-day one.
    pub per_day: bool,
    pub change: Option<f64>,
    /// change / |other value|; None when the other value is 0 or missing.
    pub relative: Option<f64>,
    pub direction: Option<Direction>,
    pub test: Option<TestResult>,
    /// The p-value after Benjamini–Hochberg correction over every test against the same period.
    pub q_value: Option<f64>,
    /// q below the run's false discovery rate (`Tuning::fdr`): the rate of false discoveries
    /// stays at that level however many rows the family holds.
    pub significant: bool,
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
    /// Which way is good for this measure.
    pub better: Better,
    /// The row's key columns other than month, e.g. `priority=1,sla=response`; empty for a
    /// KPI with only a month key.
    pub key: String,
    /// The same columns and values, for readers that need one of them.
    pub key_values: Vec<(String, String)>,
    pub measure: String,
    pub value: Option<f64>,
    pub n: Option<f64>,
    /// For a rate: the Wilson interval around `value` at the run's confidence (`Tuning::confidence`),
    /// without continuity correction.
    pub interval: Option<(f64, f64)>,
    pub previous: Option<Versus>,
    pub year_ago: Option<Versus>,
    pub baseline: Option<Versus>,
    pub target: Option<TargetVerdict>,
    pub peer: Option<PeerVerdict>,
    /// The header's test (its position among the `significance:` clauses) that speaks for this
    /// measure; the measures it speaks for share it, and a family counts it once.
    #[serde(skip)]
    pub test_clause: Option<usize>,
}

/// The value of one key column among a row's key pairs (`scope`, `priority`, `sla`…).
pub fn key_value<'a>(pairs: &'a [(String, String)], column: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == column).map(|(_, v)| v.as_str())
}

impl Comparison {
    /// The value of one of the row's key columns.
    pub fn key_value(&self, column: &str) -> Option<&str> {
        key_value(&self.key_values, column)
    }
}

/// A KPI row's key without its month: the same row of another period has the same one.
pub fn period_free_key(kpi: &KpiValues, row: &Map<String, Value>) -> String {
    key_text(&kpi.period_free_pairs(row))
}

pub fn number(row: &Map<String, Value>, column: &str) -> Option<f64> {
    row.get(column).and_then(Value::as_f64).filter(|v| v.is_finite())
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

/// Compares every measure of every row of `current`; `catalog` gives each KPI's n column and
/// tests.
pub fn compare(
    catalog: &[crate::kpi::Kpi],
    current: &PeriodValues,
    previous: Option<&PeriodValues>,
    year_ago: Option<&PeriodValues>,
    baseline: Option<&PeriodValues>,
    targets: &Targets,
    peers: Option<&Peers>,
) -> Vec<Comparison> {
    let others: Vec<Option<Indexed>> = [previous, year_ago, baseline].into_iter().map(|p| p.map(Indexed::new)).collect();
    // The intervals' normal quantile, once for every rate of the run.
    let levels = current.document.parameters;
    let z = levels.z();
    // Each KPI's comparisons on a core of their own (its rank tests are most of the work), in
    // catalog order.
    let compare_kpi = |kpi: &KpiValues| {
        let ranked = Ranked::default();
        let mut comparisons = Vec::new();
        let definition = catalog.iter().find(|k| k.id == kpi.id);
        let n_col = kpi.n_column();
        for row in &kpi.rows {
            let pairs = kpi.period_free_pairs(row);
            let key = key_text(&pairs);
            for measure in &kpi.measures {
                // The measure's own n where the header gives one (`n: incidents; m = column`).
                let n_col =
                    definition.and_then(|d| d.meta.n_by_measure.iter().find(|(m, _)| m == measure).map(|(_, column)| column.clone())).or_else(|| n_col.clone());
                let value = number(row, measure);
                let better = kpi.direction(measure);
                // Which of the header's tests speaks for this measure: one test may speak for several.
                let test_clause = definition.and_then(|d| d.meta.significance.iter().position(|s| s.measures.contains(measure)));
                let test = test_clause.and_then(|i| definition.map(|d| &d.meta.significance[i].test));
                let versus = |other: &Option<Indexed>| -> Option<Versus> {
                    let other = other.as_ref()?;
                    let other_row = other.rows.get(&(kpi.id.as_str(), key.clone())).copied();
                    let other_value = other_row.and_then(|r| number(r, measure));
                    let per_day = matches!(test, Some(SignificanceTest::Poisson { .. }));
                    // Counts compare as rates per day of covered time; anything else as is.
                    let rate = |v: f64, hours: f64| if per_day { v / hours * 24.0 } else { v };
                    let (mine, theirs) = (value.map(|v| rate(v, current.covered_hours)), other_value.map(|v| rate(v, other.period.covered_hours)));
                    let change = mine.zip(theirs).map(|(v, o)| v - o).filter(|c| c.is_finite());
                    let direction = change.map(|c| {
                        let scale = mine.unwrap_or(0.0).abs().max(theirs.unwrap_or(0.0).abs());
                        if c.abs() <= 1e-9 * scale.max(1e-12) {
                            Direction::Same
                        } else {
                            match better {
                                Better::Neutral => Direction::Changed,
                                Better::Lower if c < 0.0 => Direction::Better,
                                Better::Higher if c > 0.0 => Direction::Better,
                                Better::Lower | Better::Higher => Direction::Worse,
                            }
                        }
                    });
                    let tested = other_row.and_then(|r| significance(test?, &kpi.id, &key, (row, current), (r, other.period), &ranked));
                    Some(Versus {
                        label: other.period.label.clone(),
                        listed: other_row.is_some(),
                        value: other_value,
                        n: tested.as_ref().and_then(|t| t.other_n).or_else(|| other_row.zip(n_col.as_deref()).and_then(|(r, c)| number(r, c))),
                        per_day,
                        change,
                        relative: change.zip(theirs).and_then(|(c, o)| (o != 0.0).then(|| c / o.abs())),
                        direction,
                        test: tested.map(|t| t.result),
                        q_value: None,
                        significant: false,
                    })
                };
                let current_n = test.and_then(|t| test_n(t, &kpi.id, &key, row, current));
                let target = targets.find(&kpi.id, measure, row).and_then(|t| {
                    let v = value?;
                    // Targets on neutral measures are refused when the targets file is read.
                    Some(TargetVerdict { value: t, met: if better == Better::Higher { v >= t } else { v <= t } })
                });
                let peer = peers
                    .and_then(|p| p.find(&kpi.id, &key, measure))
                    .and_then(|q| Some(PeerVerdict { quartiles: q.clone(), position: peer_position(value?, q, better) }));
                comparisons.push(Comparison {
                    kpi: kpi.id.clone(),
                    title: kpi.title.clone(),
                    unit: kpi.unit.clone(),
                    better,
                    key: key.clone(),
                    key_values: pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
                    measure: measure.clone(),
                    value,
                    n: current_n.or_else(|| n_col.as_deref().and_then(|c| number(row, c))),
                    interval: test.and_then(|t| interval(t, row, z)),
                    previous: versus(&others[0]),
                    year_ago: versus(&others[1]),
                    baseline: versus(&others[2]),
                    target,
                    peer,
                    test_clause,
                });
            }
        }
        comparisons
    };
    let mut comparisons: Vec<Comparison> = current.document.kpis.par_iter().flat_map_iter(compare_kpi).collect();
    correct_for_multiple_tests(&mut comparisons, levels.fdr);
    comparisons
}

/// The tests against one period, each once: measures that one header test speaks for share it.
/// Keyed by (kpi, row key, the header's test), valued by the p-value.
fn distinct_tests(comparisons: &[Comparison], side: fn(&Comparison) -> Option<&Versus>) -> Vec<((String, String, usize), f64)> {
    comparisons.iter().filter_map(|c| Some(((c.kpi.clone(), c.key.clone(), c.test_clause?), side(c)?.test?.p_value))).collect()
}

fn previous(c: &Comparison) -> Option<&Versus> {
    c.previous.as_ref()
}

fn year_ago(c: &Comparison) -> Option<&Versus> {
    c.year_ago.as_ref()
}

fn baseline(c: &Comparison) -> Option<&Versus> {
    c.baseline.as_ref()
}

/// How many distinct tests compare the period with the previous month.
pub fn tests_against_previous(comparisons: &[Comparison]) -> usize {
    distinct_tests(comparisons, previous).into_iter().map(|(id, _)| id).collect::<std::collections::BTreeSet<_>>().len()
}

/// Benjamini–Hochberg over the distinct tests against each period (each period's tests are one
/// family): sets every comparison's q-value, and whether it is below the false discovery rate `fdr`.
pub fn correct_for_multiple_tests(comparisons: &mut [Comparison], fdr: f64) {
    type Side = fn(&Comparison) -> Option<&Versus>;
    type SideMut = fn(&mut Comparison) -> Option<&mut Versus>;
    let sides: [(Side, SideMut); 3] = [(previous, |c| c.previous.as_mut()), (year_ago, |c| c.year_ago.as_mut()), (baseline, |c| c.baseline.as_mut())];
    for (side, side_mut) in sides {
        let q_of = stats::benjamini_hochberg(distinct_tests(comparisons, side));
        for c in comparisons.iter_mut() {
            let (kpi, key, c_clause) = (c.kpi.clone(), c.key.clone(), c.test_clause);
            if let Some(v) = side_mut(c)
                && v.test.is_some()
            {
                v.q_value = c_clause.and_then(|clause| q_of.get(&(kpi, key, clause))).copied();
                v.significant = v.q_value.is_some_and(|q| q < fdr);
            }
        }
    }
}

fn peer_position(value: f64, q: &PeerQuartiles, better: Better) -> &'static str {
    let (good_side, bad_side) = match better {
        Better::Lower => (value <= q.p25, value > q.p75),
        Better::Higher => (value >= q.p75, value < q.p25),
        // A neutral measure's position is where it lies, in no one's favour.
        Better::Neutral => {
            return if value > q.p75 {
                "upper quartile"
            } else if value < q.p25 {
                "lower quartile"
            } else if value > q.median {
                "above median"
            } else {
                "at or below median"
            };
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::stats::Method;

    fn comparison(key: &str, p: f64, test_clause: usize) -> Comparison {
        let versus = Versus {
            label: "prev".into(),
            listed: true,
            value: Some(1.0),
            n: None,
            per_day: false,
            change: Some(1.0),
            relative: Some(1.0),
            direction: Some(Direction::Worse),
            test: Some(TestResult { method: Method::MannWhitney, statistic: 0.0, p_value: p }),
            q_value: None,
            significant: false,
        };
        Comparison {
            kpi: "k".into(),
            title: "K".into(),
            unit: "hours".into(),
            better: Better::Lower,
            key: key.into(),
            key_values: Vec::new(),
            measure: "m".into(),
            value: Some(2.0),
            n: None,
            interval: None,
            previous: Some(versus),
            year_ago: None,
            baseline: None,
            target: None,
            peer: None,
            test_clause: Some(test_clause),
        }
    }

    #[test]
    fn benjamini_hochberg_counts_each_distinct_test_once() {
        // Three distinct tests, p = 0.01, 0.04, 0.03 (m = 3), and a second measure of the first
        // row that its test speaks for too. Sorted: 0.01 (rank 1), 0.03 (2), 0.04 (3).
        // q(0.04) = 0.04·3/3 = 0.04; q(0.03) = min(0.03·3/2 = 0.045, 0.04) = 0.04;
        // q(0.01) = min(0.01·3/1 = 0.03, 0.04) = 0.03.
        let mut rows = vec![comparison("a", 0.01, 0), comparison("b", 0.04, 0), comparison("c", 0.03, 0), comparison("a", 0.01, 0)];
        correct_for_multiple_tests(&mut rows, 0.05);
        let q: Vec<f64> = rows.iter().map(|c| c.previous.as_ref().unwrap().q_value.unwrap()).collect();
        for (got, want) in q.iter().zip([0.03, 0.04, 0.04, 0.03]) {
            assert!((got - want).abs() < 1e-12, "{q:?}");
        }
        assert!(rows[0].previous.as_ref().unwrap().significant);
        // At a false discovery rate of 0.02, q = 0.03 is not significant.
        correct_for_multiple_tests(&mut rows, 0.02);
        assert!(!rows[0].previous.as_ref().unwrap().significant);
        // Two measures of one row with tests of their own are two tests, even with equal
        // p-values: m = 2, both q = 0.02·2/2 = 0.02.
        let mut rows = vec![comparison("a", 0.02, 0), comparison("a", 0.02, 1)];
        correct_for_multiple_tests(&mut rows, 0.05);
        assert_eq!(tests_against_previous(&rows), 2);
        assert!(rows.iter().all(|c| (c.previous.as_ref().unwrap().q_value.unwrap() - 0.02).abs() < 1e-12));
    }

    #[test]
    fn keys_escape_separators_from_the_data() {
        let a = key_text(&[("ci", "x,category=y".into())]);
        let b = key_text(&[("ci", "x".into()), ("category", "y".into())]);
        assert_ne!(a, b);
        assert_eq!(a, "ci=x\\,category\\=y");
    }
}
