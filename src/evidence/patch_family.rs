//! The patch family of tests: the patch lift's Fisher test (patch_incident_correlation) and each
//! tested CI's Poisson rate test (patch_risk_by_ci), corrected together by Benjamini–Hochberg. They
//! are one family because they ask one question of the period, whether patching brings incidents,
//! apart from the month-on-month family and the improvement register.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::comparison::number;
use super::stats::benjamini_hochberg;
use crate::kpi::KpiDocument;

/// A test of the family, by what it tests.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PatchTest {
    /// Failed against successful patches, over every patch of the period.
    Lift,
    /// One CI's post-patch incident rate against its own baseline.
    Ci(String),
}

/// The family's q-values, each below or not below the run's false discovery rate.
#[derive(Debug, Clone, Default)]
pub struct PatchFamily {
    pub q: BTreeMap<PatchTest, f64>,
    pub fdr: f64,
}

impl PatchFamily {
    /// The family of `document` (the report period's KPIs), at its false discovery rate. A test
    /// without a p-value (no patches, no incidents) is not made and does not count.
    pub fn of(document: &KpiDocument) -> PatchFamily {
        let kpi = |id: &str| document.kpis.iter().find(|k| k.id == id);
        let p = |row: &Map<String, Value>| number(row, "p_value");
        let lift = kpi("patch_incident_correlation").and_then(|k| k.rows.first()).and_then(p);
        let cis = kpi("patch_risk_by_ci").map(|k| k.rows.as_slice()).unwrap_or_default().iter().filter_map(|row| match (row.get("ci"), p(row)) {
            (Some(Value::String(ci)), Some(p)) => Some((ci.clone(), p)),
            _ => None,
        });
        PatchFamily::of_p_values(lift, cis, document.parameters.fdr)
    }

    /// The family of the lift's p-value and each tested CI's.
    pub fn of_p_values(lift: Option<f64>, cis: impl IntoIterator<Item = (String, f64)>, fdr: f64) -> PatchFamily {
        let tests = lift.map(|p| (PatchTest::Lift, p)).into_iter().chain(cis.into_iter().map(|(ci, p)| (PatchTest::Ci(ci), p)));
        PatchFamily { q: benjamini_hochberg(tests), fdr }
    }

    /// How many tests the family holds: the m of its correction.
    pub fn tests(&self) -> usize {
        self.q.len()
    }

    pub fn q_of(&self, test: &PatchTest) -> Option<f64> {
        self.q.get(test).copied()
    }

    pub fn significant(&self, test: &PatchTest) -> bool {
        self.q_of(test).is_some_and(|q| q < self.fdr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// m = 3: sorted 0.004 (CI A), 0.02 (lift), 0.04 (CI B).
    /// q(0.04) = 0.04; q(0.02) = min(0.02 · 3/2 = 0.03, 0.04) = 0.03; q(0.004) = 0.012.
    #[test]
    fn the_lift_and_each_tested_ci_are_one_family() {
        let family = PatchFamily::of_p_values(Some(0.02), [("A".to_string(), 0.004), ("B".to_string(), 0.04)], 0.05);
        assert_eq!(family.tests(), 3);
        for (test, want) in [(PatchTest::Ci("A".into()), 0.012), (PatchTest::Lift, 0.03), (PatchTest::Ci("B".into()), 0.04)] {
            assert!((family.q_of(&test).unwrap() - want).abs() < 1e-12, "{test:?}");
        }
        assert!(family.significant(&PatchTest::Lift));
        assert!(family.significant(&PatchTest::Ci("B".into())));
        assert_eq!(family.q_of(&PatchTest::Ci("C".into())), None);
        // Alone, the lift's p = 0.02 would be its q; with the CIs beside it, q rises to 0.03, and
        // at a false discovery rate of 0.025 it is no longer significant.
        let mut strict = family.clone();
        strict.fdr = 0.025;
        assert!(!strict.significant(&PatchTest::Lift));
        assert!(strict.significant(&PatchTest::Ci("A".into())));
    }
}
