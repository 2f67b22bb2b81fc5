//! The distributions behind the tests' p-values and intervals, below every layer that tests (the SQL
//! functions as well as `evidence`): the two-sided binomial tail (for the exact
//! Poisson rate test), the standard normal upper tail, chi-square with one degree of freedom, and
//! Student's t (through the regularised incomplete beta function).

use std::f64::consts::{FRAC_1_SQRT_2, TAU};

/// scipy.stats.binomtest's relative tolerance, so outcomes as likely as k up to rounding count.
const LIKELIHOOD_TOLERANCE: f64 = 1e-7;
/// A tail walk stops once a term adds less than this to its running sum: below f64 resolution.
const NEGLIGIBLE_TERM: f64 = 1e-17;

/// Two-sided exact conditional test that Poisson counts `c1` over exposure `t1` and `c2` over
/// `t2` share one rate: given n = c1 + c2, c1 ~ Binomial(n, t1/(t1+t2)), and the p-value sums the
/// outcomes no more likely than the observed one (`scipy.stats.binomtest` two-sided convention,
/// relative tolerance 1e-7). None when both counts are 0 or an exposure is not positive and finite.
pub fn poisson_rate_p(c1: u64, t1: f64, c2: u64, t2: f64) -> Option<f64> {
    let valid_exposure = |t: f64| t.is_finite() && t > 0.0;
    if (c1 == 0 && c2 == 0) || !valid_exposure(t1) || !valid_exposure(t2) {
        return None;
    }
    let n = c1.checked_add(c2)?;
    // Each share from its own ratio, so a tiny share keeps full relative precision.
    let (p, q) = (1.0 / (1.0 + t2 / t1), 1.0 / (1.0 + t1 / t2));
    Some(binomial_two_sided(c1, n, p, q))
}

/// Two-sided binomial p-value of `k` in `n` trials with success probability `p` (`q` = 1 - p).
pub fn binomial_two_sided(k: u64, n: u64, p: f64, q: f64) -> f64 {
    let mean = n as f64 * p;
    if k as f64 == mean {
        return 1.0;
    }
    if p == 0.0 || q == 0.0 {
        // An exposure ratio beyond f64 range: every outcome but the certain one is impossible.
        return 0.0;
    }
    let ln_observed = ln_binomial_pmf(k, n, p, q);
    let ln_threshold = ln_observed + LIKELIHOOD_TOLERANCE.ln_1p();
    let below_mean = (k as f64) < mean;
    // The pmf is unimodal, so every outcome from k away from the mode is no more likely than k.
    let own_tail = ln_observed.exp() * relative_tail_sum(k, n, p, q, !below_mean);

    // Across the mean the pmf falls monotonically going away from it, so binary-search the
    // first step `s` from `near` whose outcome is no more likely than k, and count its tail.
    let rounded = if below_mean { mean.ceil() } else { mean.floor() };
    let near = (rounded as u64).min(n);
    let span = if below_mean { n - near } else { near };
    let outcome = |s: u64| if below_mean { near + s } else { near - s };
    let unlikely = |s: u64| ln_binomial_pmf(outcome(s), n, p, q) <= ln_threshold;
    let far_tail = if unlikely(span) {
        let (mut lo, mut hi) = (0, span);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if unlikely(mid) { hi = mid } else { lo = mid + 1 }
        }
        let start = outcome(lo);
        ln_binomial_pmf(start, n, p, q).exp() * relative_tail_sum(start, n, p, q, below_mean)
    } else {
        0.0
    };
    (own_tail + far_tail).min(1.0)
}

/// Sum of pmf(j) / pmf(start) over j from `start` (inclusive) stepping away from the mode.
/// The ratio recurrence keeps each term within a few ulps, and the walk ends once terms stop
/// mattering, so n = 10^7 takes a few thousand steps rather than n.
fn relative_tail_sum(start: u64, n: u64, p: f64, q: f64, upward: bool) -> f64 {
    let (mut j, mut term, mut sum) = (start, 1.0_f64, 1.0_f64);
    while (upward && j < n) || (!upward && j > 0) {
        term *= if upward { (n - j) as f64 * p / ((j + 1) as f64 * q) } else { j as f64 * q / ((n - j + 1) as f64 * p) };
        j = if upward { j + 1 } else { j - 1 };
        sum += term;
        if term < NEGLIGIBLE_TERM * sum {
            break;
        }
    }
    sum
}

/// ln of the Binomial(n, p) pmf at k, in Loader's saddle-point form: the ln-gamma terms with
/// their Stirling parts cancelled analytically. The plain difference
/// ln Γ(n+1) - ln Γ(k+1) - ln Γ(n-k+1) loses ~8 digits at n = 10^7; this keeps ~14.
fn ln_binomial_pmf(k: u64, n: u64, p: f64, q: f64) -> f64 {
    if k == 0 || k == n {
        return n as f64 * if k == 0 { q.ln() } else { p.ln() };
    }
    let (k, rest, n) = (k as f64, (n - k) as f64, n as f64);
    let stirling = stirling_remainder(n) - stirling_remainder(k) - stirling_remainder(rest);
    stirling - deviance(k, n * p) - deviance(rest, n * q) - 0.5 * (TAU * k * (rest / n)).ln()
}

/// ln(x!) - ln(sqrt(2πx) (x/e)^x) for a whole number x ≥ 1.
fn stirling_remainder(x: f64) -> f64 {
    if x <= 15.0 {
        // 15! is exact in f64, so the direct difference is good to ~1e-14 here.
        let ln_factorial = (1..=x as u32).map(f64::from).product::<f64>().ln();
        return ln_factorial - (x + 0.5) * x.ln() + x - 0.5 * TAU.ln();
    }
    // Asymptotic series 1/(12x) - 1/(360x³) + 1/(1260x⁵) - ...; Loader's cut-offs for how
    // many terms reach full precision.
    const DENOMINATORS: [f64; 5] = [12.0, 360.0, 1260.0, 1680.0, 1188.0];
    let terms = match x {
        x if x > 500.0 => 2,
        x if x > 80.0 => 3,
        x if x > 35.0 => 4,
        _ => 5,
    };
    let xx = x * x;
    let series = DENOMINATORS[..terms].iter().rev().fold(0.0, |acc, d| 1.0 / d - acc / xx);
    series / x
}

/// x ln(x/m) + m - x, by a series when x ≈ m where the direct form would cancel (Loader's bd0).
fn deviance(x: f64, m: f64) -> f64 {
    if (x - m).abs() >= 0.1 * (x + m) {
        return x * (x / m).ln() + m - x;
    }
    let v = (x - m) / (x + m);
    let (mut sum, mut power) = ((x - m) * v, 2.0 * x * v);
    for j in 1..1000 {
        power *= v * v;
        let next = sum + power / f64::from(2 * j + 1);
        if next == sum {
            break;
        }
        sum = next;
    }
    sum
}

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
// coefficients as in netlib specfun CALERF. A/B: erf on |x| ≤ 0.46875; C/D: erfc(x)·exp(x²) on
// (0.46875, 4]; P/Q: the same in 1/x² beyond 4.
// Published digits kept on purpose, hence the lint and formatting opt-outs.
#[rustfmt::skip]
#[allow(clippy::excessive_precision)]
mod cody {
    pub const A: [f64; 5] = [3.16112374387056560e0, 1.13864154151050156e2, 3.77485237685302021e2,
        3.20937758913846947e3, 1.85777706184603153e-1];
    pub const B: [f64; 4] = [2.36012909523441209e1, 2.44024637934444173e2, 1.28261652607737228e3,
        2.84423683343917062e3];
    pub const C: [f64; 9] = [5.64188496988670089e-1, 8.88314979438837594e0, 6.61191906371416295e1,
        2.98635138197400131e2, 8.81952221241769090e2, 1.71204761263407058e3, 2.05107837782607147e3,
        1.23033935479799725e3, 2.15311535474403846e-8];
    pub const D: [f64; 8] = [1.57449261107098347e1, 1.17693950891312499e2, 5.37181101862009858e2,
        1.62138957456669019e3, 3.29079923573345963e3, 4.36261909014324716e3, 3.43936767414372164e3,
        1.23033935480374942e3];
    pub const P: [f64; 6] = [3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
        1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2];
    pub const Q: [f64; 5] = [2.56852019228982242e0, 1.87295284992346047e0, 5.27905102951428412e-1,
        6.05183413124413191e-2, 2.33520497626869185e-3];
    pub const FRAC_1_SQRT_PI: f64 = 5.6418958354775628695e-1;
}

/// Cody's rational form: the last numerator coefficient leads, `den` is monic.
fn cody_ratio(x: f64, num: &[f64], den: &[f64]) -> f64 {
    let m = den.len();
    let (mut top, mut bottom) = (num[m] * x, x);
    for i in 0..m - 1 {
        top = (top + num[i]) * x;
        bottom = (bottom + den[i]) * x;
    }
    (top + num[m - 1]) / (bottom + den[m - 1])
}

/// Standard normal upper-tail probability P(Z > z), ~1e-15 relative for |z| up to 37, from
/// Cody's erf/erfc approximations.
pub fn normal_sf(z: f64) -> f64 {
    // NaN fails every comparison below and comes out of the last branch as NaN.
    if z < 0.0 {
        return 1.0 - normal_sf(-z);
    }
    if z > 40.0 {
        return 0.0; // below the smallest subnormal
    }
    let x = z * FRAC_1_SQRT_2;
    if x <= 0.46875 {
        return 0.5 - 0.5 * x * cody_ratio(x * x, &cody::A, &cody::B);
    }
    let scaled_erfc = if x <= 4.0 {
        cody_ratio(x, &cody::C, &cody::D)
    } else {
        let inv_xx = 1.0 / (x * x);
        (cody::FRAC_1_SQRT_PI - inv_xx * cody_ratio(inv_xx, &cody::P, &cody::Q)) / x
    };
    // exp(-z²/2) with z split into a short head (exact square) and a small remainder: rounding z²
    // directly costs ~1e-13 relative at z = 37. Cody's trick, applied to z rather than z/√2.
    let head = (z * 16.0).trunc() / 16.0;
    let remainder = (z - head) * (z + head);
    0.5 * (-0.5 * head * head).exp() * (-0.5 * remainder).exp() * scaled_erfc
}

/// P(X > x) for chi-square with one degree of freedom: X is Z², so the tail is both of Z's.
pub fn chi_square_1_sf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 { 1.0 } else { (2.0 * normal_sf(x.sqrt())).min(1.0) }
}

/// P(T > t) for Student's t with `df` degrees of freedom (any real df > 0): half the regularised
/// incomplete beta I_x(df/2, 1/2) at x = df / (df + t²) on the far side of 0.
pub fn student_t_sf(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return if t > 0.0 { 0.0 } else { 1.0 };
    }
    let t2 = t * t;
    // x and 1 − x each from their own ratio, so a far tail keeps its precision.
    let (x, y) = (df / (df + t2), t2 / (df + t2));
    let tail = 0.5 * incomplete_beta(x, y, df / 2.0, 0.5);
    if t > 0.0 { tail } else { 1.0 - tail }
}

/// The regularised incomplete beta function I_x(a, b), with `y` = 1 − x given apart: the
/// continued fraction of Numerical Recipes (modified Lentz), on the side of x where it converges
/// fast, ~1e-14 relative.
pub fn incomplete_beta(x: f64, y: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() + b * y.ln() - ln_beta(a, b);
    if x < (a + 1.0) / (a + b + 2.0) {
        (ln_front.exp() * beta_continued_fraction(x, a, b) / a).min(1.0)
    } else {
        (1.0 - ln_front.exp() * beta_continued_fraction(y, b, a) / b).max(0.0)
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let clamp = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / clamp(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / clamp(1.0 + even * d);
        c = clamp(1.0 + even / c);
        h *= d * c;
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / clamp(1.0 + odd * d);
        c = clamp(1.0 + odd / c);
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b).
fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// ln Γ(x) for x > 0: Lanczos' approximation (g = 7, nine terms), ~1e-15 relative.
#[allow(clippy::excessive_precision)]
pub fn ln_gamma(x: f64) -> f64 {
    const LANCZOS: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = LANCZOS[1..].iter().enumerate().fold(LANCZOS[0], |sum, (i, c)| sum + c / (x + i as f64 + 1.0));
    0.5 * TAU.ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// The standard normal quantile: the z with P(Z ≤ z) = `probability`, by bisection on the
/// upper tail (exact to the last bits of `normal_sf`; called a few times per report).
pub fn normal_quantile(probability: f64) -> f64 {
    let (mut low, mut high) = (-40.0f64, 40.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if 1.0 - normal_sf(mid) < probability {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

/// Asserts that `actual` is within `relative` error of a published value, for the tests of the
/// statistics against scipy and mpmath.
#[cfg(test)]
pub(crate) fn assert_close(actual: f64, expected: f64, relative: f64) {
    let error = (actual - expected).abs() / expected.abs();
    assert!(error <= relative, "{actual:e} vs {expected:e}: relative error {error:e}");
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAN: f64 = f64::NAN;
    const INF: f64 = f64::INFINITY;

    /// (z, scipy.stats.norm.sf(z), mpmath.erfc(z / sqrt(2)) / 2 at 50 digits). scipy drifts to
    /// ~1e-13 relative in the far tail, so the tight bound is against mpmath.
    #[rustfmt::skip]
    const NORMAL_SF: [(f64, f64, f64); 7] = [
        (0.0, 0.5, 0.5),
        (1.96, 0.024997895148220435, 0.024997895148220435),
        (-1.96, 0.9750021048517795, 0.9750021048517795),
        (5.0, 2.866515718791933e-07, 2.866515718791939e-07),
        (10.0, 7.61985302416047e-24, 7.619853024160525e-24),
        (30.0, 4.906713927147908e-198, 4.906713927148187e-198),
        (37.0, 5.7255712225239266e-300, 5.725571222524577e-300),
    ];

    #[test]
    fn normal_sf_matches_scipy_and_mpmath() {
        for (z, scipy, mpmath) in NORMAL_SF {
            assert_close(normal_sf(z), scipy, 2e-13);
            assert_close(normal_sf(z), mpmath, 2e-15);
        }
        assert_eq!((normal_sf(INF), normal_sf(-INF)), (0.0, 1.0));
        assert!(normal_sf(NAN).is_nan());
    }

    /// scipy 1.17.1: `scipy.stats.t.sf(t, df)`, from the centre to the far tail, with
    /// fractional and large degrees of freedom.
    #[rustfmt::skip]
    const STUDENT_T_SF: [(f64, f64, f64); 8] = [
        (0.0, 5.0, 0.5),
        (1.5, 3.2, 0.11252226592086613),
        (2.0, 10.0, 0.03669401738537018),
        (5.0, 2.5, 0.011725594985430925),
        (10.0, 30.0, 2.287625704114809e-11),
        (40.0, 1000.0, 5.239426077586636e-210),
        (-1.0, 7.0, 0.8246916685898963),
        (3.0, 12345.6, 0.001352591825169398),
    ];

    #[test]
    fn student_t_matches_scipy() {
        for (t, df, expected) in STUDENT_T_SF {
            assert_close(student_t_sf(t, df), expected, 1e-10);
        }
        assert_eq!((student_t_sf(INF, 3.0), student_t_sf(-INF, 3.0)), (0.0, 1.0));
        assert!(student_t_sf(1.0, 0.0).is_nan());
        // One degree of freedom with t = 1: the Cauchy distribution's quarter.
        assert_close(student_t_sf(1.0, 1.0), 0.25, 1e-14);
        // χ² with one degree of freedom at 3.841459 is the 5 % point.
        assert_close(chi_square_1_sf(3.841458820694124), 0.05, 1e-12);
    }
}
