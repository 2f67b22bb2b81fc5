//! The gates of `mttx check`: each threshold of the rules file applied to every current row it
//! selects. A gate that selects no row fails, as does a null or NaN value; a row with fewer
//! tickets than the rules' `min_n` is not evaluated.

use serde::Serialize;
use serde_json::Value;

use super::rules::Rules;
use super::{Verdict, number};
use crate::kpi::KpiDocument;

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

pub(super) fn apply_gates(current: &KpiDocument, rules: &Rules) -> Vec<GateResult> {
    let mut results = Vec::new();
    for gate in &rules.gates {
        let column = gate.selector.column.as_deref().unwrap_or_default();
        let kpi = current.kpis.iter().find(|k| k.id == gate.selector.kpi).expect("validate_rules checked the KPI");
        let mut matched = false;
        for row in &kpi.rows {
            if !gate.selector.matches(&kpi.id, column, &kpi.key_pairs(row)) {
                continue;
            }
            matched = true;
            let value = row.get(column).cloned();
            let n = kpi.n_column().and_then(|n| row.get(&n).and_then(number));
            let (mut verdict, mut note) = match value.as_ref().and_then(number) {
                _ if n.is_some_and(|n| n < rules.min_n as f64) => {
                    (Verdict::NotEvaluated, format!("not evaluated (n = {} < {})", n.unwrap_or_default(), rules.min_n))
                }
                None => (Verdict::Violated, "no value (null)".to_string()),
                Some(x) if x.is_nan() => (Verdict::Violated, "the value is NaN".to_string()),
                Some(x) if gate.op.holds(x, gate.threshold) => (Verdict::Passed, String::new()),
                Some(x) => (Verdict::Violated, format!("{x} is not {} {}", gate.op.symbol(), gate.threshold)),
            };
            super::settling::unsettled(&mut verdict, &mut note, kpi, row, rules);
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
