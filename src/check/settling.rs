//! Rows whose month has not settled (a KPI's `settles:`): a regression, change or violated gate
//! in one is shown as provisional and passes, unless the rules gate provisional rows.

use serde_json::{Map, Value};

use super::Verdict;
use super::rules::Rules;
use crate::kpi::document::KpiValues;

/// Softens a failing `verdict` on a row of `kpi` that has not settled to `Provisional`, saying
/// why in `note`, unless the rules gate provisional rows. A comparison and a gate result alike.
pub(super) fn unsettled(verdict: &mut Verdict, note: &mut String, kpi: &KpiValues, row: &Map<String, Value>, rules: &Rules) {
    if !rules.gate_provisional && verdict.fails() && kpi.is_provisional(row) {
        *note = format!("provisional: the month settles {} after it ends ({note})", crate::time::days(kpi.settles_days));
        *verdict = Verdict::Provisional;
    }
}
