//! `mttx check`: current KPI values against a baseline run and against gates. Every value gets an
//! explicit verdict; nulls and NaN are compared on purpose and never pass by accident.

mod baseline;
mod gates;
pub mod rules;
mod settling;

pub use baseline::{comparable, definitions_changed, read_baseline};
pub use gates::GateResult;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::kpi::document::{KpiValues, key_text};
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
    /// A neutral measure (workload, such as volume) moved beyond tolerance without a tolerance
    /// rule of its own: information, shown and never failed.
    Moved,
    /// In the baseline, absent now.
    Missing,
    /// A gate that holds.
    Passed,
    /// A gate that does not hold.
    Violated,
    /// A gate on a row with fewer tickets than `min_n`: not evaluated, and not failed.
    #[serde(rename = "not_evaluated")]
    NotEvaluated,
    /// A regression, change or violated gate in a row whose month has not settled (the KPI's
    /// `settles:`): shown, and failed only with `--gate-provisional`.
    Provisional,
}

impl Verdict {
    /// As the text report and the counts say it.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Improved => "improved",
            Verdict::New => "new",
            Verdict::Regressed => "regressed",
            Verdict::Changed => "changed",
            Verdict::Moved => "moved",
            Verdict::Missing => "missing",
            Verdict::Passed => "passed",
            Verdict::Violated => "violated",
            Verdict::NotEvaluated => "not evaluated",
            Verdict::Provisional => "provisional",
        }
    }

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

/// How rows of the baseline meet rows of this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pairing {
    /// By every key, month included: the baseline covers the same months as the run.
    #[default]
    SameWindow,
    /// By the keys other than month: a one-month run against a one-month baseline of another month,
    /// for month-over-month gating (`mttx check --across-periods`).
    AcrossPeriods,
}

impl Pairing {
    fn key(self, kpi: &KpiValues, row: Row) -> String {
        match self {
            Pairing::SameWindow => kpi.row_key(row),
            Pairing::AcrossPeriods => key_text(&kpi.period_free_pairs(row)),
        }
    }
}

fn value_columns(kpi: &KpiValues) -> Vec<&str> {
    kpi.columns.iter().map(|c| c.name.as_str()).filter(|c| !kpi.keys.iter().any(|k| k == c)).collect()
}

/// A JSON value as a number where it is one; "NaN", "inf" and "-inf" strings count as numbers, as
/// some writers put them.
pub(super) fn number(value: &Value) -> Option<f64> {
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
        let fail = |message: String| Err(Error::Rules { origin: rules.origin.clone(), message: format!("line {line}: {message}") });
        let Some(kpi) = current.kpis.iter().find(|k| k.id == selector.kpi) else {
            let ids: Vec<&str> = current.kpis.iter().map(|k| k.id.as_str()).collect();
            return fail(format!("no KPI `{}` in this run; KPIs are: {}", selector.kpi, ids.join(", ")));
        };
        if let Some(column) = &selector.column
            && let Some(message) = crate::kpi::renames::old_name_message(&kpi.id, column)
        {
            return fail(message);
        }
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

/// Compares `current` with `baseline` (when given, after `comparable`) and applies the gates.
pub fn check(baseline: Option<&KpiDocument>, current: &KpiDocument, rules: &Rules, pairing: Pairing) -> Result<CheckReport> {
    validate_rules(rules, current)?;
    let mut comparisons = Vec::new();
    if let Some(baseline) = baseline {
        for base_kpi in &baseline.kpis {
            match current.kpis.iter().find(|k| k.id == base_kpi.id) {
                None => comparisons.push(whole_kpi(base_kpi, Verdict::Missing, "the KPI is in the baseline but not in this run")),
                Some(cur_kpi) => compare_kpi(base_kpi, cur_kpi, rules, pairing, &mut comparisons)?,
            }
        }
        for cur_kpi in current.kpis.iter().filter(|k| !baseline.kpis.iter().any(|b| b.id == k.id)) {
            comparisons.push(whole_kpi(cur_kpi, Verdict::New, "the KPI is not in the baseline"));
        }
    }
    let gates = gates::apply_gates(current, rules);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for verdict in comparisons.iter().map(|c| c.verdict).chain(gates.iter().map(|g| g.verdict)) {
        *counts.entry(verdict.word().to_string()).or_default() += 1;
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

fn compare_kpi(base: &KpiValues, cur: &KpiValues, rules: &Rules, pairing: Pairing, out: &mut Vec<Comparison>) -> Result<()> {
    let header = match cur.tolerance.as_deref() {
        Some(text) => {
            Some(Tolerance::parse(text).map_err(|message| Error::Query { origin: cur.origin.clone(), message: format!("{}: tolerance: {message}", cur.id) })?)
        }
        None => None,
    };
    let current_rows: BTreeMap<String, Row> = cur.rows.iter().map(|r| (pairing.key(cur, r), r)).collect();
    let baseline_rows: BTreeMap<String, Row> = base.rows.iter().map(|r| (pairing.key(base, r), r)).collect();
    for (key, base_row) in &baseline_rows {
        let pairs = base.key_pairs(base_row);
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
            let kind = match cur.measures.iter().any(|m| m == column) {
                false => ValueKind::Context,
                true => match cur.direction(column) {
                    Better::Neutral => ValueKind::Neutral { ruled: rules.rule_for(&base.id, column, &pairs).is_some() },
                    better => ValueKind::Measure(better),
                },
            };
            let mut compared = compare_value(cur, key, column, base_row.get(column), cur_row.get(column), tolerance, kind);
            settling::unsettled(&mut compared.verdict, &mut compared.note, cur, cur_row, rules);
            out.push(compared);
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
    Ok(())
}

/// What a value column is to a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    /// A measure whose change is better one way.
    Measure(Better),
    /// A neutral measure, and whether a tolerance rule of the rules file names it.
    Neutral { ruled: bool },
    /// A column that is not a measure: a count or base behind one.
    Context,
}

fn compare_value(
    kpi: &KpiValues,
    key: &str,
    column: &str,
    baseline: Option<&Value>,
    current: Option<&Value>,
    tolerance: Tolerance,
    kind: ValueKind,
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
            match kind {
                _ if tolerance.allows(x, y) => (Verdict::Ok, String::new()),
                ValueKind::Neutral { ruled: false } => {
                    (Verdict::Moved, "a neutral measure: its change is information; a tolerance rule in checks.toml can gate it".to_string())
                }
                _ if tolerance == Tolerance::Exact => (Verdict::Changed, "the tolerance is exact".to_string()),
                ValueKind::Measure(better) => {
                    let worse = if better == Better::Higher { y < x } else { y > x };
                    if worse { (Verdict::Regressed, format!("{} is better", better.word())) } else { (Verdict::Improved, String::new()) }
                }
                ValueKind::Neutral { ruled: true } => (Verdict::Changed, "a neutral measure beyond its tolerance rule".to_string()),
                ValueKind::Context => (Verdict::Changed, "not a measure with a direction; any change beyond tolerance counts".to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-KPI document keyed by (ci, category) with the given rows of (ci, category, n).
    fn document(rows: &[(&str, &str, i64)]) -> KpiDocument {
        let rows: Vec<Value> = rows.iter().map(|(ci, category, n)| serde_json::json!({"ci": ci, "category": category, "n": n})).collect();
        serde_json::from_value(serde_json::json!({
            "schema": "mttx.kpis", "version": 2, "mttx_version": "test",
            "window": {"first_month": "2026-10", "last_month": "2026-10", "start": "", "end": "", "as_of": "", "timezone": "UTC"},
            "parameters": {"failure_priority": 2, "correlation_window_hours": 72, "candidate_min_incidents": 3, "candidate_window_days": 30},
            "kpis": [{
                "id": "k", "title": "K", "unit": "incidents", "better": "lower", "grain": "CI × category", "keys": ["ci", "category"],
                "measures": ["n"], "definition": "", "origin": "test",
                "columns": [{"name": "ci", "type": "Utf8"}, {"name": "category", "type": "Utf8"}, {"name": "n", "type": "Int64"}],
                "rows": rows
            }],
            "errors": []
        }))
        .unwrap()
    }

    /// See: issue 10. Unescaped, both rows were keyed `ci=a,category=b,category=c`, so one hid the
    /// other and the regression in the second went unseen.
    #[test]
    fn key_values_holding_separators_cannot_hide_a_row() {
        let baseline = document(&[("a,category=b", "c", 1), ("a", "b,category=c", 1)]);
        let current = document(&[("a,category=b", "c", 1), ("a", "b,category=c", 5)]);
        let report = check(Some(&baseline), &current, &Rules::default(), Pairing::SameWindow).unwrap();
        let verdicts: Vec<(&str, Verdict)> = report.comparisons.iter().map(|c| (c.key.as_str(), c.verdict)).collect();
        assert_eq!(verdicts, [("ci=a,category=b\\,category\\=c", Verdict::Regressed), ("ci=a\\,category\\=b,category=c", Verdict::Ok)]);
        assert!(!report.passed);
    }
}
