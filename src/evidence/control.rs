//! An initiative's control group: each expected row set against the same measure of the rows the
//! initiative did not touch, the difference in differences with its test (`did`), and the
//! before-months of both, month by month, to judge their trends parallel.

use super::comparison::{Comparison, number, period_free_key};
use super::did::{self, Did};
use super::windows::{WindowComparison, WindowRun};
use crate::error::Result;
use crate::kpi::document::key_text;
use crate::kpi::{Kpi, KpiDocument, PeriodRequest, SignificanceTest, Tuning};
use crate::pipeline::Pipeline;
use crate::time::MonthRange;

/// One before-month: (month, the row's value, the control's).
pub type TrendPoint = (String, Option<f64>, Option<f64>);

/// An expected row set against the same measure of the control group.
#[derive(Debug, Clone)]
pub struct Control {
    /// The control row's key, e.g. `scope=priority,priority=4`.
    pub key: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// The difference in differences and its test; None for a measure it does not apply to (a
    /// quantile, a count) or too few tickets. When present, the verdict rests on it.
    pub did: Option<Did>,
    /// The before-months one by one, (month, treated, control), to judge the trends parallel.
    pub trend: Vec<TrendPoint>,
}

/// The named KPIs over the before-months, month by month, for the trends beside a control.
pub(super) fn before_by_month(pipeline: &Pipeline, before: MonthRange, kpis: &[Kpi], tuning: Tuning) -> Result<KpiDocument> {
    let params = pipeline.params(PeriodRequest::Months(before.first, before.last), tuning)?;
    let outcomes = pipeline.run(&params, kpis.to_vec())?;
    crate::kpi::run::failures(&outcomes)?;
    KpiDocument::new(&params, &outcomes)
}

/// The comparison `c` of the treated row set against the control group's row (`control`'s key
/// values in place of the row's; naming a priority selects the per-priority rows): both changes,
/// their difference with its test, and the before-months side by side.
pub(super) fn control_of(c: &Comparison, control: &[(String, String)], kpis: &[Kpi], compared: &WindowComparison, monthly: &KpiDocument) -> Control {
    let mut pairs = c.key_values.clone();
    for (key, value) in control {
        match pairs.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value.clone(),
            None => pairs.push((key.clone(), value.clone())),
        }
        if key == "priority"
            && let Some(scope) = pairs.iter_mut().find(|(k, _)| k == "scope")
        {
            scope.1 = "priority".into();
        }
    }
    let key = key_text(&pairs);
    let twin = compared.comparisons.iter().find(|o| o.kpi == c.kpi && o.measure == c.measure && o.key == key);
    let test = kpis.iter().find(|k| k.id == c.kpi).and_then(|k| k.meta.significance.iter().find(|s| s.measures.contains(&c.measure))).map(|s| &s.test);
    let did = compared.runs_of(&c.kpi).zip(test).and_then(|((before, after), test)| match test {
        SignificanceTest::Mean { cte, column } => {
            let values = |run: &WindowRun, key: &str| run.samples.get(&c.kpi, cte, column, key).unwrap_or_default().to_vec();
            let groups = [values(before, &c.key), values(after, &c.key), values(before, &key), values(after, &key)];
            did::means([&groups[0], &groups[1], &groups[2], &groups[3]])
        }
        SignificanceTest::Proportion { successes, trials } => {
            let counts = |run: &WindowRun, key: &str| -> Option<(u64, u64)> {
                let kpi = run.document.kpis.iter().find(|k| k.id == c.kpi)?;
                let row = kpi.rows.iter().find(|r| period_free_key(kpi, r) == key)?;
                Some((number(row, successes)?.max(0.0) as u64, number(row, trials)?.max(0.0) as u64))
            };
            did::proportions([counts(before, &c.key)?, counts(after, &c.key)?, counts(before, &key)?, counts(after, &key)?])
        }
        _ => None,
    });
    let trend = monthly
        .kpis
        .iter()
        .find(|k| k.id == c.kpi)
        .map(|kpi| {
            let at = |month: &str, key: &str| {
                kpi.rows
                    .iter()
                    .find(|r| r.get("month").and_then(|m| m.as_str()) == Some(month) && period_free_key(kpi, r) == key)
                    .and_then(|r| number(r, &c.measure))
            };
            let mut months: Vec<String> = kpi.rows.iter().filter_map(|r| r.get("month").and_then(|m| m.as_str()).map(str::to_string)).collect();
            months.dedup();
            months.into_iter().map(|m| (m.clone(), at(&m, &c.key), at(&m, &key))).collect()
        })
        .unwrap_or_default();
    Control { key, before: twin.and_then(|t| t.previous.as_ref()).and_then(|v| v.value), after: twin.and_then(|t| t.value), did, trend }
}
