//! Tests on two samples of per-ticket values (the durations behind a KPI's measures in two
//! periods): Welch's t-test for a mean, the 2×2 test above a pooled quantile for a median or
//! percentile, and the Mann–Whitney U test for a whole distribution.

use super::stats::{Method, TestResult};
use crate::distributions::{chi_square_1_sf, normal_sf, student_t_sf};

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

/// Welch's two-sided t-test of the means of `a` and `b`, as `scipy.stats.ttest_ind(a, b,
/// equal_var=False)`: t = (mean a − mean b) / √(var a / n1 + var b / n2), with the sample variances
/// and Welch–Satterthwaite degrees of freedom. `statistic` is t. None when a sample has fewer than
/// two values or both have no variance. NaN values are ignored.
pub fn welch_t(a: &[f64], b: &[f64]) -> Option<TestResult> {
    let moments = |values: &[f64]| -> Option<(f64, f64, f64)> {
        let finite: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
        let n = finite.len() as f64;
        if finite.len() < 2 {
            return None;
        }
        let mean = finite.iter().sum::<f64>() / n;
        let variance = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        Some((n, mean, variance))
    };
    let ((n1, m1, v1), (n2, m2, v2)) = (moments(a)?, moments(b)?);
    let (s1, s2) = (v1 / n1, v2 / n2);
    let se2 = s1 + s2;
    if se2.is_nan() || se2 <= 0.0 || !se2.is_finite() {
        return None;
    }
    let t = (m1 - m2) / se2.sqrt();
    let df = se2 * se2 / (s1 * s1 / (n1 - 1.0) + s2 * s2 / (n2 - 1.0));
    Some(TestResult { method: Method::WelchT, statistic: t, p_value: (2.0 * student_t_sf(t.abs(), df)).min(1.0) })
}

/// Whether the share of values above the pooled `q`-quantile differs between `a` and `b`: the 2×2
/// table of each sample's values above the pooled quantile (the KPIs' `percentile_cont`
/// interpolation) and not above it, ties counting as not above. With every expected count at
/// least 5, Pearson's chi-square with Yates' correction, each cell's correction capped at
/// |O − E| as `scipy.stats.chi2_contingency` caps it (at q = 0.5 the p-value is
/// `scipy.stats.median_test(a, b)`'s); otherwise the two-sided Fisher exact test. None when the
/// table has an empty row or column. NaN values are ignored.
pub fn quantile_test(a: &[f64], b: &[f64], q: f64) -> Option<TestResult> {
    let finite = |values: &[f64]| -> Vec<f64> { values.iter().copied().filter(|v| !v.is_nan()).collect() };
    let (a, b) = (finite(a), finite(b));
    let mut pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
    let threshold = crate::functions::percentile_cont::interpolate(&mut pooled, q)?;
    let above = |values: &[f64]| values.iter().filter(|v| **v > threshold).count() as u64;
    let (a_above, b_above) = (above(&a), above(&b));
    let (a_not, b_not) = (a.len() as u64 - a_above, b.len() as u64 - b_above);
    table_test([[a_above, b_above], [a_not, b_not]])
}

/// The test of a 2×2 table of counts (rows: above and not above; columns: the two samples), as
/// `quantile_test` describes it. None when a row or column is empty.
fn table_test(cells: [[u64; 2]; 2]) -> Option<TestResult> {
    let rows = [cells[0][0] + cells[0][1], cells[1][0] + cells[1][1]];
    let columns = [cells[0][0] + cells[1][0], cells[0][1] + cells[1][1]];
    if rows.contains(&0) || columns.contains(&0) {
        return None;
    }
    let total = (rows[0] + rows[1]) as f64;
    let expected = |row: usize, column: usize| rows[row] as f64 * columns[column] as f64 / total;
    if (0..2).any(|row| (0..2).any(|column| expected(row, column) < 5.0)) {
        let p = crate::functions::fisher_exact_p(cells[0][0], cells[1][0], cells[0][1], cells[1][1]);
        return Some(TestResult { method: Method::FisherExact, statistic: f64::NAN, p_value: p });
    }
    let mut chi2 = 0.0;
    for (row, counts) in cells.iter().enumerate() {
        for (column, observed) in counts.iter().enumerate() {
            let e = expected(row, column);
            let difference = (*observed as f64 - e).abs();
            let corrected = difference - difference.min(0.5);
            chi2 += corrected * corrected / e;
        }
    }
    Some(TestResult { method: Method::QuantileChiSquare, statistic: chi2, p_value: chi_square_1_sf(chi2) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::assert_close;

    const NAN: f64 = f64::NAN;
    const INF: f64 = f64::INFINITY;

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

    const X: [f64; 40] = [
        1.42, 2.05, 1.14, 1.79, 0.41, 6.77, 0.02, 5.62, 1.15, 0.6, 1.08, 0.62, 1.8, 2.15, 3.77, 0.44, 6.29, 1.47, 0.7, 1.77, 0.15, 0.12, 2.45, 1.55, 4.39,
        0.95, 1.04, 2.36, 1.05, 0.04, 0.59, 2.03, 1.27, 2.79, 0.02, 1.81, 0.5, 0.71, 6.15, 2.81,
    ];

    const Y: [f64; 35] = [
        11.39, 5.24, 6.73, 0.43, 0.91, 0.72, 3.44, 3.67, 0.38, 1.15, 3.2, 0.21, 0.29, 2.61, 5.62, 8.09, 2.12, 3.92, 2.29, 2.81, 0.43, 7.48, 2.65, 2.63, 0.08,
        3.26, 3.19, 3.19, 1.71, 4.09, 4.72, 1.95, 1.05, 5.1, 2.02,
    ];

    #[test]
    fn mann_whitney_matches_scipy() {
        for (a, b, u, p) in MANN_WHITNEY_SCIPY {
            let result = mann_whitney(a, b).unwrap();
            assert_eq!((result.method, result.statistic), (Method::MannWhitney, u));
            assert_close(result.p_value, p, 1e-13);
        }
    }

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

    /// scipy 1.17.1: `scipy.stats.ttest_ind(a, b, equal_var=False)`.
    #[test]
    fn welch_matches_scipy() {
        let a = [2.0, 4.5, 3.1, 8.0, 5.5, 6.2, 4.4];
        let b = [7.5, 9.1, 6.6, 12.0, 8.8, 10.4, 7.7, 9.9, 11.2];
        let result = welch_t(&a, &b).unwrap();
        assert_close(result.statistic, -4.613298763798797, 1e-13);
        assert_close(result.p_value, 0.0005573854179438354, 1e-10);
        // Unequal variances and small samples: df far from n1 + n2 − 2.
        let result = welch_t(&[0.1, 0.2, 0.1, 0.4], &[5.0, 0.3, 0.2]).unwrap();
        assert_close(result.statistic, -1.0303808628508657, 1e-13);
        assert_close(result.p_value, 0.41076507545624813, 1e-10);
        // No test with fewer than two values on a side, or with no variance at all.
        assert!(welch_t(&[1.0], &[1.0, 2.0]).is_none());
        assert!(welch_t(&[3.0, 3.0], &[3.0, 3.0, 3.0]).is_none());
    }

    /// At q = 0.5 the test is `scipy.stats.median_test(x, y)` (scipy 1.17.1, its defaults: ties
    /// below, Yates' correction): grand median 1.81, table [[13, 24], [27, 11]], χ² 8.3274,
    /// p = 0.0039051. At q = 0.75, `chi2_contingency` of the table above and not above the pooled
    /// percentile 3.23, [[6, 13], [34, 22]] (smallest expected count 8.87): χ² 3.7387, p = 0.053165.
    #[test]
    fn quantile_tests_match_scipy() {
        let median = quantile_test(&X, &Y, 0.5).unwrap();
        assert_eq!(median.method, Method::QuantileChiSquare);
        assert_close(median.statistic, 8.327432813452551, 1e-12);
        assert_close(median.p_value, 0.0039050804654476527, 1e-10);
        let p75 = quantile_test(&X, &Y, 0.75).unwrap();
        assert_close(p75.statistic, 3.738734391783028, 1e-12);
        assert_close(p75.p_value, 0.053164699935611646, 1e-10);
    }

    /// Many zero-minute acknowledgements: the grand median is 0, and the ties count as not above.
    /// `scipy.stats.median_test` gives table [[10, 14], [30, 12]], χ² 4.4882, p = 0.034130.
    #[test]
    fn ties_at_the_quantile_count_as_not_above() {
        let mut a = vec![0.0; 30];
        a.extend([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 0.5, 0.25, 4.0]);
        let mut b = vec![0.0; 12];
        b.extend([1.5, 2.5, 3.5, 6.0, 9.0, 14.0, 22.0, 0.75, 7.0, 10.0, 11.0, 12.0, 2.0, 3.0]);
        let result = quantile_test(&a, &b, 0.5).unwrap();
        assert_close(result.statistic, 4.488203983516484, 1e-12);
        assert_close(result.p_value, 0.03412951572011009, 1e-10);
    }

    /// Small tables go to Fisher's exact test: 1–4 against 5–9, pooled median 5, table
    /// [[0, 4], [4, 1]], `scipy.stats.fisher_exact` p = 0.047619. Yates' correction is capped at
    /// |O − E|: a table within half a count of its expectation has χ² 0 and p 1, as
    /// `chi2_contingency([[20, 20], [20, 21]])` gives. An empty row or column is no test.
    #[test]
    fn small_tables_are_exact_and_the_correction_is_capped() {
        let result = quantile_test(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0, 9.0], 0.5).unwrap();
        assert_eq!(result.method, Method::FisherExact);
        assert_close(result.p_value, 0.04761904761904761, 1e-12);
        let capped = table_test([[20, 20], [20, 21]]).unwrap();
        assert_eq!((capped.statistic, capped.p_value), (0.0, 1.0));
        assert!(quantile_test(&[1.0, 1.0], &[1.0, 1.0, 1.0], 0.5).is_none(), "nothing above the median: an empty row");
        assert!(quantile_test(&[], &[1.0, 2.0], 0.5).is_none());
    }
}
