//! The tests' results and the tests on counts (two proportions, two Poisson rates), quantiles, and
//! Benjamini–Hochberg over a family of tests, as the report, `mttx compare` and the improvement
//! register use them. The tests on two samples of values are in `two_sample`, the distributions
//! behind the p-values in `crate::distributions`.

use std::collections::BTreeMap;

use crate::distributions::{normal_sf, poisson_rate_p};

/// Which test produced a p-value, as the report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    MannWhitney,
    /// The exact distribution of U, for small samples without ties.
    MannWhitneyExact,
    TwoProportion,
    /// Fisher's exact test on a 2×2 table, for proportions too small for the z-test.
    FisherExact,
    PoissonRate,
    /// Welch's t-test of two means, with Welch–Satterthwaite degrees of freedom.
    WelchT,
    /// Pearson's chi-square with Yates' correction on the 2×2 table of values above a quantile.
    QuantileChiSquare,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::MannWhitney => "Mann–Whitney U",
            Method::MannWhitneyExact => "Mann–Whitney U (exact)",
            Method::TwoProportion => "two-proportion z",
            Method::FisherExact => "Fisher's exact",
            Method::PoissonRate => "Poisson rate (exact conditional)",
            Method::WelchT => "Welch's t",
            Method::QuantileChiSquare => "quantile χ² (Yates)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TestResult {
    pub method: Method,
    pub statistic: f64,
    pub p_value: f64,
}

/// Two-sided pooled two-proportion z-test of `x1` of `n1` against `x2` of `n2`. `statistic` is z.
/// None when a total is 0, a success count exceeds its total, or the pooled proportion is 0 or 1.
pub fn two_proportions(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<TestResult> {
    if n1 == 0 || n2 == 0 || x1 > n1 || x2 > n2 {
        return None;
    }
    let (x1, n1, x2, n2) = (x1 as f64, n1 as f64, x2 as f64, n2 as f64);
    let pooled = (x1 + x2) / (n1 + n2);
    let variance = pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2);
    if variance <= 0.0 {
        return None;
    }
    let z = (x1 / n1 - x2 / n2) / variance.sqrt();
    Some(TestResult { method: Method::TwoProportion, statistic: z, p_value: (2.0 * normal_sf(z.abs())).min(1.0) })
}

/// Two-sided exact conditional test that Poisson counts `c1` over exposure `t1` and `c2` over
/// `t2` share one rate (`distributions::poisson_rate_p`). `statistic` is the rate ratio
/// (c1/t1)/(c2/t2). None when both counts are 0 or an exposure is not positive and finite.
pub fn poisson_rates(c1: u64, t1: f64, c2: u64, t2: f64) -> Option<TestResult> {
    let p_value = poisson_rate_p(c1, t1, c2, t2)?;
    let statistic = match c2 {
        0 => f64::INFINITY,
        _ => (c1 as f64 / t1) / (c2 as f64 / t2),
    };
    Some(TestResult { method: Method::PoissonRate, statistic, p_value })
}

/// The Wilson score interval of a proportion, `x` of `n`, without continuity correction, for the
/// normal quantile `z` of its two-sided confidence (`normal_quantile(0.975)` for 95 %): the
/// proportions that a score test at that level would not reject. Unlike the Wald interval it stays
/// within [0, 1] and is not empty at 0 or n. None for n = 0 or x > n.
pub fn wilson_interval(x: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let (n, p) = (n as f64, x as f64 / n as f64);
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// Quantile `q` in [0, 1] of an ascending-sorted slice, interpolating linearly between closest
/// ranks (SQL percentile_cont, numpy's default). None when empty or `q` is outside [0, 1].
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let last = sorted.len() - 1;
    let position = q * last as f64;
    let below = (position.floor() as usize).min(last);
    let fraction = position - below as f64;
    let (a, b) = (sorted[below], sorted[(below + 1).min(last)]);
    if fraction == 0.0 || a == b {
        return Some(a);
    }
    // numpy's lerp: interpolate from the nearer end, so q = 1 lands exactly on the maximum.
    let span = b - a;
    Some(match fraction >= 0.5 {
        true => b - span * (1.0 - fraction),
        false => a + span * fraction,
    })
}

/// Benjamini–Hochberg q-values of one family of tests, each named by its key and counted once
/// however often it is given: for the i-th smallest of m p-values, q = min over j ≥ i of
/// p_j · m / j, at most 1. The false discovery rate stays at the level q is compared with, however
/// many tests the family holds.
pub fn benjamini_hochberg<K: Ord + Clone>(tests: impl IntoIterator<Item = (K, f64)>) -> BTreeMap<K, f64> {
    let distinct: BTreeMap<K, f64> = tests.into_iter().collect();
    let mut sorted: Vec<(K, f64)> = distinct.into_iter().collect();
    sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let m = sorted.len() as f64;
    let mut running = 1.0f64;
    let mut q_of = BTreeMap::new();
    for (rank, (key, p)) in sorted.into_iter().enumerate().rev() {
        running = running.min(p * m / (rank + 1) as f64);
        q_of.insert(key, running.min(1.0));
    }
    q_of
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::{assert_close, normal_quantile};

    const NAN: f64 = f64::NAN;
    const INF: f64 = f64::INFINITY;

    #[test]
    fn method_names() {
        assert_eq!(Method::MannWhitney.name(), "Mann–Whitney U");
        assert_eq!(Method::TwoProportion.name(), "two-proportion z");
        assert_eq!(Method::PoissonRate.name(), "Poisson rate (exact conditional)");
    }

    #[test]
    fn two_proportions_matches_hand_computation() {
        // pooled = 75/200 = 0.375; se = sqrt(0.375 · 0.625 · (1/100 + 1/100)); z = 0.15 / se;
        // p = erfc(|z|/√2), evaluated with Python's math.erfc.
        let result = two_proportions(45, 100, 30, 100).unwrap();
        assert_eq!(result.method, Method::TwoProportion);
        assert_close(result.statistic, 2.1908902300206647, 1e-14);
        assert_close(result.p_value, 0.02845973691631057, 1e-13);
        let mirrored = two_proportions(30, 100, 45, 100).unwrap();
        assert_eq!((mirrored.statistic, mirrored.p_value), (-result.statistic, result.p_value));
        assert_eq!(two_proportions(5, 10, 5, 10).unwrap().p_value, 1.0);
        let undefined = [(0, 0, 3, 10), (3, 10, 0, 0), (11, 10, 3, 10), (0, 10, 0, 9), (9, 9, 2, 2)];
        for (x1, n1, x2, n2) in undefined {
            assert_eq!(two_proportions(x1, n1, x2, n2), None, "{x1}/{n1} vs {x2}/{n2}");
        }
    }

    /// (c1, t1, c2, t2, scipy.stats.binomtest(c1, c1 + c2, t1 / (t1 + t2)).pvalue)
    #[rustfmt::skip]
    const POISSON_SCIPY: [(u64, f64, u64, f64, f64); 9] = [
        (3, 1.0, 10, 1.0, 0.09228515625),
        (12, 1.0, 18, 3.0, 0.08810760577535248),
        (0, 1.0, 5, 2.0, 0.176954732510288),
        (7, 2.5, 2, 1.0, 1.0),
        (5, 1.0, 5, 1.0, 1.0),
        // Large counts: scipy itself is off by up to 5e-13 here (checked against a 50-digit
        // mpmath sum), which sets the tolerance below.
        (2_000_000, 1.0, 2_010_000, 1.0, 5.936707170285831e-07),
        (4_990_000, 7.0, 5_010_000, 7.0, 2.5448004911550766e-10),
        (1_500, 1.0, 2_500, 2.0, 3.066154872731417e-08),
        (72_337, 9.0, 66_684, 7.0, 3.6221111718937427e-219),
    ];

    #[test]
    fn poisson_rates_match_scipy_binomtest() {
        for (c1, t1, c2, t2, expected) in POISSON_SCIPY {
            let result = poisson_rates(c1, t1, c2, t2).unwrap();
            assert_eq!(result.method, Method::PoissonRate);
            assert_close(result.p_value, expected, 1e-11);
        }
        // Beyond any f64 p-value (scipy also gives 0.0): underflow quietly, no panic or hang.
        assert_eq!(poisson_rates(1_000_000, 1.0, 9_000_000, 1.0).unwrap().p_value, 0.0);
    }

    #[test]
    fn poisson_rates_statistic_and_undefined_cases() {
        assert_close(poisson_rates(12, 1.0, 18, 3.0).unwrap().statistic, 2.0, 1e-15);
        assert_eq!(poisson_rates(0, 1.0, 5, 2.0).unwrap().statistic, 0.0);
        assert_eq!(poisson_rates(4, 1.0, 0, 1.0).unwrap().statistic, INF);
        assert_eq!(poisson_rates(0, 1.0, 0, 1.0), None);
        for bad in [0.0, -1.0, NAN, INF] {
            assert_eq!(poisson_rates(3, bad, 4, 1.0), None);
            assert_eq!(poisson_rates(3, 1.0, 4, bad), None);
        }
        assert_eq!(poisson_rates(u64::MAX, 1.0, 1, 1.0), None);
    }

    #[test]
    fn quantile_sorted_matches_numpy() {
        // (q, numpy.quantile([1, 2, 4, 7, 11], q))
        let data = [1.0, 2.0, 4.0, 7.0, 11.0];
        let numpy = [(0.0, 1.0), (0.1, 1.4), (0.25, 2.0), (0.5, 4.0), (0.9, 9.4), (1.0, 11.0)];
        for (q, expected) in numpy {
            assert_close(quantile_sorted(&data, q).unwrap(), expected, 1e-15);
        }
        assert_eq!(quantile_sorted(&[], 0.5), None);
        assert_eq!(quantile_sorted(&[3.0], 0.7), Some(3.0));
        assert_eq!(quantile_sorted(&data, 1.5), None);
        assert_eq!(quantile_sorted(&data, NAN), None);
    }

    /// The closed form, computed independently in Python with scipy 1.17.1's `norm.ppf(0.975)`
    /// (the formula of statsmodels' `proportion_confint(method='wilson')`): 18 of 23 gives
    /// (0.5809651698373599, 0.9033602197341379); 0 of 10 gives (0, 0.2775327998628892); 10 of 10
    /// gives (0.7224672001371107, 1). By hand for 18 of 23: p = 0.78261, z = 1.95996,
    /// z²/n = 0.16702; centre = (0.78261 + 0.08351) / 1.16702 = 0.74216; half = 1.95996 / 1.16702 ·
    /// √(0.0073971 + 0.0018154) = 0.16120.
    #[test]
    fn wilson_intervals_match_the_closed_form() {
        let z = normal_quantile(0.975);
        assert!((z - 1.959963984540054).abs() < 1e-12, "scipy's norm.ppf(0.975)");
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        let (low, high) = wilson_interval(18, 23, z).unwrap();
        assert!(close(low, 0.5809651698373599) && close(high, 0.9033602197341379), "{low} {high}");
        let (low, high) = wilson_interval(0, 10, z).unwrap();
        assert!(low == 0.0 && close(high, 0.2775327998628892), "{high}");
        let (low, high) = wilson_interval(10, 10, z).unwrap();
        assert!(close(low, 0.7224672001371107) && close(high, 1.0), "{low}");
        assert!(wilson_interval(1, 0, z).is_none() && wilson_interval(3, 2, z).is_none());
    }
}
