//! Rows whose month has not settled (a KPI's `settles:`): a regression, change or violated gate
//! in one is shown as provisional and passes, unless the rules gate provisional rows.

use serde_json::{Map, Value};

use super::rules::Rules;
use super::{Comparison, Verdict};
use crate::kpi::document::KpiValues;

/// A failing verdict on a row of `kpi` that has not settled becomes `Provisional`, unless the
/// rules gate provisional rows.
pub(super) fn unsettled<T: Unsettle>(mut result: T, kpi: &KpiValues, row: &Map<String, Value>, rules: &Rules) -> T {
    if !rules.gate_provisional && result.verdict().fails() && kpi.is_provisional(row) {
        let note = format!("provisional: the month settles {} after it ends ({})", crate::time::days(kpi.settles_days), result.note());
        result.set(Verdict::Provisional, note);
    }
    result
}

/// A comparison or gate result whose verdict a provisional row can soften.
pub(super) trait Unsettle {
    fn verdict(&self) -> Verdict;
    fn note(&self) -> &str;
    fn set(&mut self, verdict: Verdict, note: String);
}

impl Unsettle for Comparison {
    fn verdict(&self) -> Verdict {
        self.verdict
    }
    fn note(&self) -> &str {
        &self.note
    }
    fn set(&mut self, verdict: Verdict, note: String) {
        self.verdict = verdict;
        self.note = note;
    }
}
