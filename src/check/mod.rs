//! `mttx check`: current KPI values against a baseline run and against gates. Every value gets an
//! explicit verdict; nulls and NaN are compared on purpose and never pass by accident.

pub mod rules;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::kpi::document::{KpiValues, plain};
use crate::kpi::{Better, KpiDocument};
use rules::{Rules, Tolerance};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Within tolerance.
    Ok,
    /// Moved beyond tolerance in the KPI's good direction.
    Improved,
    /// New in the current run; reported, not failed.
    New,
    /// Moved beyond tolerance in the bad direction.
    Regressed,
    /// Moved beyond tolerance where no direction applies, or where the tolerance is exact.
    Changed,
    /// In the baseline, absent now.
    Missing,
    /// A gate that holds.
    Passed,
    /// A gate that does not hold.
    Violated,
}

impl Verdict {
    pub fn fails(self) -> bool {
        matches!(self, Verdict::Regressed | Verdict::Changed | Verdict::Missing | Verdict::Violated)
    }
}

/// One value compared with the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub kpi: String,
    /// The row's key, e.g. `month=2026-10,priority=1`; empty for a whole missing or new KPI.
    pub key: String,
    pub column: String,
    pub baseline: Option<Value>,
    pub current: Option<Value>,
    /// current − baseline, where both are numbers.
    pub delta: Option<f64>,
    pub tolerance: String,
    pub verdict: Verdict,
    /// Why, in words, where the verdict needs it.
    pub note: String,
}

/// One gate applied to one current value.
#[derive(Debug, Clone, Serialize)]
pub struct GateResult {
    pub gate: String,
    pub line: usize,
    pub kpi: String,
    pub key: String,
    pub column: String,
    pub value: Option<Value>,
    pub verdict: Verdict,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// Version of this report's JSON layout.
    pub version: u32,
    pub passed: bool,
    /// Values by verdict, gates included.
    pub counts: BTreeMap<String, usize>,
    pub comparisons: Vec<Comparison>,
    pub gates: Vec<GateResult>,
}

impl CheckReport {
    pub fn failures(&self) -> usize {
        self.comparisons.iter().filter(|c| c.verdict.fails()).count() + self.gates.iter().filter(|g| g.verdict.fails()).count()
    }
}

type Row<'a> = &'a Map<String, Value>;

fn key_pairs(kpi: &KpiValues, row: Row) -> Vec<(String, String)> {
    kpi.keys.iter().map(|k| (k.clone(), plain(row.get(k).unwrap_or(&Value::Null)))).collect()
}

fn value_columns(kpi: &KpiValues) -> Vec<&str> {
    kpi.columns.iter().map(|c| c.name.as_str()).filter(|c| !kpi.keys.iter().any(|k| k == c)).collect()
}

/// A JSON value as a number where it is one; "NaN", "inf" and "-inf" strings count as numbers, as
/// some writers put them.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "NaN" | "nan" => Some(f64::NAN),
            "inf" | "Infinity" => Some(f64::INFINITY),
            "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

/// Checks that every selector in `rules` names a KPI and column the current run has.
pub fn validate_rules(rules: &Rules, current: &KpiDocument) -> Result<()> {
    let selectors = rules.gates.iter().map(|g| (&g.selector, g.line)).chain(rules.tolerances.iter().map(|t| (&t.selector, t.line)));
    for (selector, line) in selectors {
        let fail = |message: String| Err(Error::Query { origin: rules.origin.clone(), message: format!("line {line}: {message}") });
        let Some(kpi) = current.kpis.iter().find(|k| k.id == selector.kpi) else {
            let ids: Vec<&str> = current.kpis.iter().map(|k| k.id.as_str()).collect();
            return fail(format!("no KPI `{}` in this run; KPIs are: {}", selector.kpi, ids.join(", ")));
        };
        if let Some(column) = &selector.column
            && !kpi.columns.iter().any(|c| &c.name == column)
        {
            let names: Vec<&str> = kpi.columns.iter().map(|c| c.name.as_str()).collect();
            return fail(format!("{} has no column `{column}`; its columns are: {}", kpi.id, names.join(", ")));
        }
        for (key, _) in &selector.keys {
            if !kpi.keys.contains(key) {
                return fail(format!("`{key}` is not a key of {}; its keys are: {}", kpi.id, kpi.keys.join(", ")));
            }
        }
    }
    Ok(())
}

/// Compares `current` with `baseline` (when given) and applies the gates.
pub fn check(baseline: Option<&KpiDocument>, current: &KpiDocument, rules: &Rules) -> Result<CheckReport> {
    validate_rules(rules, current)?;
    let mut comparisons = Vec::new();
    if let Some(baseline) = baseline {
        for base_kpi in &baseline.kpis {
            match current.kpis.iter().find(|k| k.id == base_kpi.id) {
                None => comparisons.push(whole_kpi(base_kpi, Verdict::Missing, "the KPI is in the baseline but not in this run")),
                Some(cur_kpi) => compare_kpi(base_kpi, cur_kpi, rules, &mut comparisons),
            }
        }
        for cur_kpi in current.kpis.iter().filter(|k| !baseline.kpis.iter().any(|b| b.id == k.id)) {
            comparisons.push(whole_kpi(cur_kpi, Verdict::New, "the KPI is not in the baseline"));
        }
    }
    let gates = apply_gates(current, rules);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for verdict in comparisons.iter().map(|c| c.verdict).chain(gates.iter().map(|g| g.verdict)) {
        *counts.entry(format!("{verdict:?}").to_lowercase()).or_default() += 1;
    }
    let mut report = CheckReport { version: 1, passed: true, counts, comparisons, gates };
    report.passed = report.failures() == 0;
    Ok(report)
}

fn whole_kpi(kpi: &KpiValues, verdict: Verdict, note: &str) -> Comparison {
    Comparison {
        kpi: kpi.id.clone(),
        key: String::new(),
        column: String::new(),
        baseline: None,
        current: None,
        delta: None,
        tolerance: String::new(),
        verdict,
        note: note.into(),
    }
}

fn compare_kpi(base: &KpiValues, cur: &KpiValues, rules: &Rules, out: &mut Vec<Comparison>) {
    let header = cur.tolerance.as_deref().and_then(|t| Tolerance::parse(t).ok());
    let current_rows: BTreeMap<String, Row> = cur.rows.iter().map(|r| (cur.row_key(r), r)).collect();
    let baseline_rows: BTreeMap<String, Row> = base.rows.iter().map(|r| (base.row_key(r), r)).collect();
    for (key, base_row) in &baseline_rows {
        let pairs = key_pairs(base, base_row);
        let Some(cur_row) = current_rows.get(key) else {
            for column in value_columns(base) {
                out.push(Comparison {
                    kpi: base.id.clone(),
                    key: key.clone(),
                    column: column.into(),
                    baseline: base_row.get(column).cloned(),
                    current: None,
                    delta: None,
                    tolerance: String::new(),
                    verdict: Verdict::Missing,
                    note: "the row is in the baseline but not in this run".into(),
                });
            }
            continue;
        };
        for column in value_columns(base) {
            let tolerance = rules.tolerance_for(&base.id, column, &pairs, header);
            let directional = cur.measures.iter().any(|m| m == column);
            out.push(compare_value(cur, key, column, base_row.get(column), cur_row.get(column), tolerance, directional));
        }
    }
    for (key, row) in current_rows.iter().filter(|(k, _)| !baseline_rows.contains_key(*k)) {
        for column in value_columns(cur) {
            out.push(Comparison {
                kpi: cur.id.clone(),
                key: key.clone(),
                column: column.into(),
                baseline: None,
                current: row.get(column).cloned(),
                delta: None,
                tolerance: String::new(),
                verdict: Verdict::New,
                note: "the row is not in the baseline".into(),
            });
        }
    }
}

fn compare_value(
    kpi: &KpiValues,
    key: &str,
    column: &str,
    baseline: Option<&Value>,
    current: Option<&Value>,
    tolerance: Tolerance,
    directional: bool,
) -> Comparison {
    let null = Value::Null;
    let (b, c) = (baseline.unwrap_or(&null), current.unwrap_or(&null));
    let mut delta = None;
    let (verdict, note) = match (number(b), number(c), b, c) {
        (_, _, Value::Null, Value::Null) => (Verdict::Ok, "null in both".to_string()),
        (_, _, Value::Null, _) => (Verdict::Changed, "was null, now has a value".to_string()),
        (_, _, _, Value::Null) => (Verdict::Changed, "had a value, now null".to_string()),
        (Some(x), Some(y), _, _) if x.is_nan() || y.is_nan() => match (x.is_nan(), y.is_nan()) {
            (true, true) => (Verdict::Ok, "NaN in both".to_string()),
            (true, false) => (Verdict::Changed, "was NaN, now a number".to_string()),
            _ => (Verdict::Changed, "now NaN".to_string()),
        },
        (Some(x), Some(y), _, _) => {
            delta = Some(y - x);
            if tolerance.allows(x, y) {
                (Verdict::Ok, String::new())
            } else if directional && tolerance != Tolerance::Exact {
                let worse = match kpi.better {
                    Better::Lower => y > x,
                    Better::Higher => y < x,
                };
                if worse { (Verdict::Regressed, format!("{} is better", kpi.better.word())) } else { (Verdict::Improved, String::new()) }
            } else if tolerance == Tolerance::Exact {
                (Verdict::Changed, "the tolerance is exact".to_string())
            } else {
                (Verdict::Changed, "not a measure with a direction; any change beyond tolerance counts".to_string())
            }
        }
        _ if b == c => (Verdict::Ok, String::new()),
        _ => (Verdict::Changed, "the value changed".to_string()),
    };
    Comparison {
        kpi: kpi.id.clone(),
        key: key.into(),
        column: column.into(),
        baseline: baseline.cloned(),
        current: current.cloned(),
        delta,
        tolerance: tolerance.to_string(),
        verdict,
        note,
    }
}

fn apply_gates(current: &KpiDocument, rules: &Rules) -> Vec<GateResult> {
    let mut results = Vec::new();
    for gate in &rules.gates {
        let column = gate.selector.column.as_deref().unwrap_or_default();
        let kpi = current.kpis.iter().find(|k| k.id == gate.selector.kpi).expect("validate_rules checked the KPI");
        let mut matched = false;
        for row in &kpi.rows {
            if !gate.selector.matches(&kpi.id, column, &key_pairs(kpi, row)) {
                continue;
            }
            matched = true;
            let value = row.get(column).cloned();
            let (verdict, note) = match value.as_ref().and_then(number) {
                None => (Verdict::Violated, "no value (null)".to_string()),
                Some(x) if x.is_nan() => (Verdict::Violated, "the value is NaN".to_string()),
                Some(x) if gate.op.holds(x, gate.threshold) => (Verdict::Passed, String::new()),
                Some(x) => (Verdict::Violated, format!("{x} is not {} {}", gate.op.symbol(), gate.threshold)),
            };
            results.push(GateResult {
                gate: gate.text.clone(),
                line: gate.line,
                kpi: kpi.id.clone(),
                key: kpi.row_key(row),
                column: column.into(),
                value,
                verdict,
                note,
            });
        }
        if !matched {
            results.push(GateResult {
                gate: gate.text.clone(),
                line: gate.line,
                kpi: kpi.id.clone(),
                key: String::new(),
                column: column.into(),
                value: None,
                verdict: Verdict::Violated,
                note: "no row of this run matches the gate".into(),
            });
        }
    }
    results
}

/// Reads a baseline written by `mttx kpi --format json`, `mttx check --bless` or a report.
pub fn read_baseline(path: &std::path::Path) -> Result<KpiDocument> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let document: KpiDocument = serde_json::from_str(&text)
        .map_err(|e| Error::input(path, format!("not a KPI document ({e}); write one with `mttx kpi --format json` or `mttx check --bless`")))?;
    if document.schema != crate::kpi::document::SCHEMA || document.version != crate::kpi::document::VERSION {
        return Err(Error::input(
            path,
            format!(
                "schema {} version {} is not {} version {}",
                document.schema,
                document.version,
                crate::kpi::document::SCHEMA,
                crate::kpi::document::VERSION
            ),
        ));
    }
    Ok(document)
}
