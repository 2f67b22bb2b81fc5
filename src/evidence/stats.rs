//! Significance tests and quantiles, as the report, `mttx compare` and the improvement register use
//! them; the distributions behind their p-values are in `distributions`.

use std::collections::BTreeMap;

use super::distributions::{binomial_two_sided, normal_sf};

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
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::MannWhitney => "Mann–Whitney U",
            Method::MannWhitneyExact => "Mann–Whitney U (exact)",
            Method::TwoProportion => "two-proportion z",
            Method::FisherExact => "Fisher's exact",
            Method::PoissonRate => "Poisson rate (exact conditional)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TestResult {
    pub method: Method,
    pub statistic: f64,
    pub p_value: f64,
}

/// The largest n1 · n2 for which the exact distribution of U is used (when there are no ties):
/// 50 tickets against 50. Beyond it the normal approximation is within a few thousandths.
pub const EXACT_MANN_WHITNEY_MAX: usize = 2_500;

/// Two-sided Mann–Whitney U test of `a` against `b`, as `scipy.stats.mannwhitneyu(a, b,
/// alternative='two-sided')` with `method='exact'` for small samples without ties (n1 · n2 up to
/// `EXACT_MANN_WHITNEY_MAX`) and the asymptotic method otherwise. The result's method says which.
pub fn mann_whitney_test(a: &[f64], b: &[f64]) -> Option<TestResult> {
    let asymptotic = mann_whitney(a, b)?;
    let (n1, n2) = (a.iter().filter(|v| !v.is_nan()).count(), b.iter().filter(|v| !v.is_nan()).count());
    // Large samples take the approximation whatever their ties: no second sort of them.
    if n1 * n2 > EXACT_MANN_WHITNEY_MAX {
        return Some(asymptotic);
    }
    let mut pooled: Vec<f64> = a.iter().chain(b).copied().filter(|v| !v.is_nan()).collect();
    pooled.sort_unstable_by(f64::total_cmp);
    if pooled.windows(2).any(|w| w[0] == w[1]) {
        return Some(asymptotic);
    }
    let u = asymptotic.statistic;
    Some(TestResult { method: Method::MannWhitneyExact, statistic: u, p_value: exact_u_two_sided(u, n1, n2) })
}

/// Two-sided exact p-value of U for sizes n1 and n2 without ties: 2 · P(U ≤ min(u, n1·n2 − u)),
/// at most 1. P counts the subsets of n1 ranks among n1 + n2 by their rank sum.
fn exact_u_two_sided(u: f64, n1: usize, n2: usize) -> f64 {
    let n = n1 + n2;
    let max_u = n1 * n2;
    // ways[k][s]: subsets of k of the ranks seen so far with rank sum s − k(k+1)/2 (that is, U).
    let mut ways = vec![vec![0.0_f64; max_u + 1]; n1 + 1];
    ways[0][0] = 1.0;
    for rank in 1..=n {
        for k in (1..=n1.min(rank)).rev() {
            // Adding `rank` as the k-th chosen adds rank − k to U.
            let shift = rank - k;
            for s in (shift..=max_u).rev() {
                let add = ways[k - 1][s - shift];
                ways[k][s] += add;
            }
        }
    }
    let counts = &ways[n1];
    let total: f64 = counts.iter().sum();
    let low = u.min(max_u as f64 - u).floor() as usize;
    let tail: f64 = counts[..=low.min(max_u)].iter().sum();
    (2.0 * tail / total).min(1.0)
}

/// Two-sided Mann–Whitney U test of sample `a` against `b`: normal approximation with tie
/// correction and continuity correction (like `scipy.stats.mannwhitneyu(a, b,
/// alternative='two-sided', method='asymptotic', use_continuity=True)`). `statistic` is U of `a`.
/// None when either sample is empty or the tie-corrected variance is 0 (all values equal).
/// NaN values are ignored.
pub fn mann_whitney(a: &[f64], b: &[f64]) -> Option<TestResult> {
    let numbers = |sample: &[f64], from_a: bool| {
        let kept = sample.iter().filter(|v| !v.is_nan());
        kept.map(move |&v| (v, from_a)).collect::<Vec<_>>()
    };
    let mut pooled = numbers(a, true);
    let n1 = pooled.len();
    pooled.extend(numbers(b, false));
    let n2 = pooled.len() - n1;
    if n1 == 0 || n2 == 0 {
        return None;
    }
    // total_cmp is total once NaN is gone, and puts -0.0 right before 0.0, so the `==` scan
    // below still sees them as one tie group.
    pooled.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));

    let (mut rank_sum_a, mut tie_term) = (0.0_f64, 0.0_f64);
    let mut start = 0;
    while start < pooled.len() {
        let value = pooled[start].0;
        let end = start + pooled[start..].iter().take_while(|e| e.0 == value).count();
        let tie_size = (end - start) as f64;
        // The group holds the 1-based ranks start+1 ..= end.
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let from_a = pooled[start..end].iter().filter(|e| e.1).count();
        rank_sum_a += average_rank * from_a as f64;
        tie_term += tie_size * tie_size * tie_size - tie_size;
        start = end;
    }

    let (n1, n2) = (n1 as f64, n2 as f64);
    let n = n1 + n2;
    let u_a = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        return None;
    }
    // Two-sided: use the larger U so the continuity correction always moves towards the mean.
    let u_larger = u_a.max(n1 * n2 - u_a);
    let z = (u_larger - n1 * n2 / 2.0 - 0.5) / variance.sqrt();
    Some(TestResult { method: Method::MannWhitney, statistic: u_a, p_value: (2.0 * normal_sf(z)).min(1.0) })
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
/// `t2` share one rate: given n = c1 + c2, c1 ~ Binomial(n, t1/(t1+t2)), and the p-value sums
/// the outcomes no more likely than the observed one (`scipy.stats.binomtest` two-sided
/// convention, relative tolerance 1e-7). `statistic` is the rate ratio (c1/t1)/(c2/t2).
/// None when both counts are 0 or an exposure is not positive and finite.
pub fn poisson_rates(c1: u64, t1: f64, c2: u64, t2: f64) -> Option<TestResult> {
    let valid_exposure = |t: f64| t.is_finite() && t > 0.0;
    if (c1 == 0 && c2 == 0) || !valid_exposure(t1) || !valid_exposure(t2) {
        return None;
    }
    let n = c1.checked_add(c2)?;
    // Each share from its own ratio, so a tiny share keeps full relative precision.
    let (p, q) = (1.0 / (1.0 + t2 / t1), 1.0 / (1.0 + t1 / t2));
    let statistic = match c2 {
        0 => f64::INFINITY,
        _ => (c1 as f64 / t1) / (c2 as f64 / t2),
    };
    Some(TestResult { method: Method::PoissonRate, statistic, p_value: binomial_two_sided(c1, n, p, q) })
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

    fn assert_close(actual: f64, expected: f64, relative: f64) {
        let error = (actual - expected).abs() / expected.abs();
        assert!(error <= relative, "{actual:e} vs {expected:e}: relative error {error:e}");
    }

    const NAN: f64 = f64::NAN;
    const INF: f64 = f64::INFINITY;

    #[test]
    fn method_names() {
        assert_eq!(Method::MannWhitney.name(), "Mann–Whitney U");
        assert_eq!(Method::TwoProportion.name(), "two-proportion z");
        assert_eq!(Method::PoissonRate.name(), "Poisson rate (exact conditional)");
    }

    /// (a, b, U, p) from scipy.stats.mannwhitneyu(a, b, alternative='two-sided',
    /// method='asymptotic', use_continuity=True).
    #[rustfmt::skip]
    const MANN_WHITNEY_SCIPY: [(&[f64], &[f64], f64, f64); 7] = [
        (&[1., 2., 2., 3., 5., 8.], &[2., 3., 4., 4., 6., 9., 10.], 11.5, 0.19482267881995718),
        (&[0.5, 1.5, 1.5, 1.5, 2., 2.5, 3., 3.], &[3., 3., 4., 4., 6., 1.5], 7.5, 0.03443209768379243),
        (&[10., 11., 12., 13.], &[1., 2., 3.], 12.0, 0.05182992721790968),
        (&[1., 2., 3.], &[10., 11., 12., 13.], 0.0, 0.05182992721790968),
        // Identical samples: U sits at its mean and the continuity correction clips p to 1.
        (&[1., 2., 3., 4., 5.], &[1., 2., 3., 4., 5.], 12.5, 1.0),
        // NaN is dropped (scipy given the first row without them); -0.0 and 0.0 tie.
        (&[NAN, 1., 2., 2., 3., 5., 8., NAN], &[2., 3., NAN, 4., 4., 6., 9., 10.], 11.5, 0.19482267881995718),
        (&[-0.0, -INF], &[0.0, INF], 0.5, 0.4142161782425252),
    ];

    #[test]
    fn mann_whitney_matches_scipy() {
        for (a, b, u, p) in MANN_WHITNEY_SCIPY {
            let result = mann_whitney(a, b).unwrap();
            assert_eq!((result.method, result.statistic), (Method::MannWhitney, u));
            assert_close(result.p_value, p, 1e-13);
        }
    }

    /// scipy.stats.mannwhitneyu(a, b, alternative='two-sided', method='exact'), scipy 1.17.1:
    /// (a, b, U, p). The second row is the case of 9 against 8: exact 0.1388 where the
    /// asymptotic method gives 0.1358.
    #[rustfmt::skip]
    const MANN_WHITNEY_EXACT_SCIPY: [(&[f64], &[f64], f64, f64); 4] = [
        (&[10., 11., 12., 13.], &[1., 2., 3.], 12.0, 0.05714285714285714),
        (&[2.721, 3.452, 2.183, 1.333, 1.889, 1.23, 2.852, 7.942, 1.834], &[2.728, 6.632, 5.963, 4.876, 2.129, 4.378, 7.817, 1.529], 20.0, 0.13879062114356233),
        (&[1.5, 2.25, 3.0, 4.5, 6.0, 7.5, 9.0, 12.0, 15.5, 20.0, 25.0, 31.0], &[5.0, 8.0, 11.0, 14.0, 18.0, 22.0, 27.0, 33.0, 40.0, 48.0], 29.0, 0.042570432663311925),
        (&[1., 2., 3.], &[4., 5., 6., 7., 8., 9., 10., 11., 12., 13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23.], 0.0, 0.001129305477131564),
    ];

    #[test]
    fn exact_mann_whitney_matches_scipy_for_small_samples_without_ties() {
        for (a, b, u, p) in MANN_WHITNEY_EXACT_SCIPY {
            let result = mann_whitney_test(a, b).unwrap();
            assert_eq!((result.method, result.statistic), (Method::MannWhitneyExact, u));
            assert_close(result.p_value, p, 1e-12);
        }
        // Ties, or samples too large, keep the normal approximation.
        let (a, b, _, p) = MANN_WHITNEY_SCIPY[0];
        assert_eq!(mann_whitney_test(a, b).unwrap().method, Method::MannWhitney);
        assert_close(mann_whitney_test(a, b).unwrap().p_value, p, 1e-13);
        let big: Vec<f64> = (0..60).map(f64::from).collect();
        let other: Vec<f64> = (0..60).map(|i| f64::from(i) + 0.5).collect();
        assert_eq!(mann_whitney_test(&big, &other).unwrap().method, Method::MannWhitney);
    }

    #[test]
    fn mann_whitney_undefined_cases_are_none() {
        assert_eq!(mann_whitney(&[3.0, 3.0], &[3.0, 3.0, 3.0]), None);
        assert_eq!(mann_whitney(&[], &[1.0, 2.0]), None);
        assert_eq!(mann_whitney(&[1.0, 2.0], &[]), None);
        assert_eq!(mann_whitney(&[NAN, NAN], &[1.0, 2.0]), None);
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
    fn poisson_rates_match_scipy_binomtest_quickly() {
        let started = std::time::Instant::now();
        for (c1, t1, c2, t2, expected) in POISSON_SCIPY {
            let result = poisson_rates(c1, t1, c2, t2).unwrap();
            assert_eq!(result.method, Method::PoissonRate);
            assert_close(result.p_value, expected, 1e-11);
        }
        // Beyond any f64 p-value (scipy also gives 0.0): underflow quietly, no panic or hang.
        assert_eq!(poisson_rates(1_000_000, 1.0, 9_000_000, 1.0).unwrap().p_value, 0.0);
        assert!(started.elapsed().as_secs_f64() < 1.0, "took {:?}", started.elapsed());
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
}
