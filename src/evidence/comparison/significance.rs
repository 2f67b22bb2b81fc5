//! Which test a measure's change gets, and its result: on the tickets behind the two periods,
//! Welch's t-test for a mean, the 2×2 test above a quantile for a median or percentile, or a rank
//! test; a two-proportion test (Fisher's exact test on small tables) for a rate; an exact Poisson
//! test for a count per hour covered; each with the n of both sides.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::{PeriodValues, number};
use crate::evidence::stats::{self, TestResult};
use crate::evidence::two_sample;
use crate::kpi::SignificanceTest;

/// A test's result and the n of the other period's side of it.
pub(super) struct Tested {
    pub(super) result: TestResult,
    pub(super) other_n: Option<f64>,
}

fn count(row: &Map<String, Value>, column: &str) -> Option<u64> {
    number(row, column).filter(|v| *v >= 0.0).map(|v| v.round() as u64)
}

/// The n behind this period's side of a test: tickets sampled, trials, or the count itself.
pub(super) fn test_n(test: &SignificanceTest, kpi: &str, key: &str, row: &Map<String, Value>, period: &PeriodValues) -> Option<f64> {
    match test {
        SignificanceTest::Mean { cte, column } | SignificanceTest::Quantile { cte, column, .. } | SignificanceTest::Rank { cte, column } => {
            period.samples?.get(kpi, cte, column, key).map(|s| s.len() as f64)
        }
        SignificanceTest::Proportion { trials, .. } => number(row, trials),
        SignificanceTest::Poisson { count } => number(row, count),
    }
}

/// Rank tests already run, by the samples they compared. A rank test serves every measure it is
/// declared for (the mean, p50 and p90 of the same durations), so each pair of samples is ranked
/// once. The samples are borrowed for the whole comparison, so their addresses identify them.
#[derive(Default)]
pub(super) struct Ranked(std::cell::RefCell<HashMap<[usize; 4], Option<TestResult>>>);

impl Ranked {
    fn test(&self, a: &[f64], b: &[f64]) -> Option<TestResult> {
        let key = [a.as_ptr() as usize, a.len(), b.as_ptr() as usize, b.len()];
        *self.0.borrow_mut().entry(key).or_insert_with(|| two_sample::mann_whitney_test(a, b))
    }
}

/// The test of this period's row against the other period's, each with its period.
pub(super) fn significance(
    test: &SignificanceTest,
    kpi: &str,
    key: &str,
    (row, current): (&Map<String, Value>, &PeriodValues),
    (other_row, other): (&Map<String, Value>, &PeriodValues),
    ranked: &Ranked,
) -> Option<Tested> {
    let other_n = test_n(test, kpi, key, other_row, other);
    let result = match test {
        SignificanceTest::Mean { cte, column } => {
            two_sample::welch_t(current.samples?.get(kpi, cte, column, key)?, other.samples?.get(kpi, cte, column, key)?)?
        }
        SignificanceTest::Quantile { cte, column, q } => {
            two_sample::quantile_test(current.samples?.get(kpi, cte, column, key)?, other.samples?.get(kpi, cte, column, key)?, *q)?
        }
        SignificanceTest::Rank { cte, column } => {
            let a = current.samples?.get(kpi, cte, column, key)?;
            let b = other.samples?.get(kpi, cte, column, key)?;
            ranked.test(a, b)?
        }
        SignificanceTest::Proportion { successes, trials } => {
            let (x1, n1, x2, n2) = (count(row, successes)?, count(row, trials)?, count(other_row, successes)?, count(other_row, trials)?);
            if x1 > n1 || x2 > n2 {
                return None;
            }
            // The z-test's normal approximation needs about five expected in every cell; below
            // that, Fisher's exact test on the same 2×2 table.
            let pooled = (x1 + x2) as f64 / (n1 + n2).max(1) as f64;
            let smallest = [n1, n2].iter().map(|n| *n as f64 * pooled.min(1.0 - pooled)).fold(f64::INFINITY, f64::min);
            if smallest < 5.0 {
                if n1 == 0 || n2 == 0 {
                    return None;
                }
                let p = crate::functions::fisher_exact_p(x1, n1 - x1, x2, n2 - x2);
                TestResult { method: stats::Method::FisherExact, statistic: f64::NAN, p_value: p }
            } else {
                stats::two_proportions(x1, n1, x2, n2)?
            }
        }
        SignificanceTest::Poisson { count: column } => {
            stats::poisson_rates(count(row, column)?, current.covered_hours, count(other_row, column)?, other.covered_hours)?
        }
    };
    Some(Tested { result, other_n })
}

/// The interval around a rate's value in this period: the Wilson interval of successes out of
/// trials, for the normal quantile `z` of its confidence, for a measure whose test is a proportion.
pub(super) fn interval(test: &SignificanceTest, row: &Map<String, Value>, z: f64) -> Option<(f64, f64)> {
    match test {
        SignificanceTest::Proportion { successes, trials } => stats::wilson_interval(count(row, successes)?, count(row, trials)?, z),
        _ => None,
    }
}
