//! Difference-in-differences against a control group: the treated group's change less the control
//! group's over the same months, so a shift both groups share (seasonality, a tool change) is not
//! credited to the initiative. Means are tested with Welch's standard error of the difference of
//! the two changes, rates with a z-test; both two-sided.

use serde::Serialize;

use crate::distributions::{normal_sf, student_t_sf};

/// A difference-in-differences and its test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Did {
    /// (treated after − treated before) − (control after − control before).
    pub estimate: f64,
    pub standard_error: f64,
    /// Welch–Satterthwaite degrees of freedom for means; None for rates (normal).
    pub df: Option<f64>,
    pub p_value: f64,
}

impl Did {
    pub fn method(&self) -> &'static str {
        if self.df.is_some() { "Welch's t on the difference of changes" } else { "z-test on the difference of changes" }
    }
}

/// For means of per-ticket values: `[treated before, treated after, control before, control
/// after]`. The standard error is √Σ sᵢ²/nᵢ over the four groups and the degrees of freedom
/// Welch–Satterthwaite's, (Σ vᵢ)² / Σ vᵢ²/(nᵢ − 1). None when a group has fewer than 2 values or
/// every group is constant.
pub fn means(groups: [&[f64]; 4]) -> Option<Did> {
    let mut means = [0.0; 4];
    let mut v = [0.0; 4];
    for (i, values) in groups.iter().enumerate() {
        let n = values.len();
        if n < 2 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        means[i] = mean;
        v[i] = variance / n as f64;
    }
    let se = v.iter().sum::<f64>().sqrt();
    if !(se.is_finite() && se > 0.0) {
        return None;
    }
    let df = v.iter().sum::<f64>().powi(2) / v.iter().zip(groups).map(|(vi, g)| vi * vi / (g.len() - 1) as f64).sum::<f64>();
    let estimate = (means[1] - means[0]) - (means[3] - means[2]);
    let t = estimate / se;
    Some(Did { estimate, standard_error: se, df: Some(df), p_value: (2.0 * student_t_sf(t.abs(), df)).min(1.0) })
}

/// For rates: `(successes, trials)` of `[treated before, treated after, control before, control
/// after]`; the standard error √Σ pᵢ(1 − pᵢ)/nᵢ. None when a group has no trials or the error is 0.
pub fn proportions(groups: [(u64, u64); 4]) -> Option<Did> {
    if groups.iter().any(|(x, n)| *n == 0 || x > n) {
        return None;
    }
    let p: Vec<f64> = groups.iter().map(|(x, n)| *x as f64 / *n as f64).collect();
    let se = groups.iter().zip(&p).map(|((_, n), p)| p * (1.0 - p) / *n as f64).sum::<f64>().sqrt();
    if !(se.is_finite() && se > 0.0) {
        return None;
    }
    let estimate = (p[1] - p[0]) - (p[3] - p[2]);
    Some(Did { estimate, standard_error: se, df: None, p_value: (2.0 * normal_sf((estimate / se).abs())).min(1.0) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::assert_close;

    /// Treated [10, 12, 14, 16] → [6, 7, 8, 9, 10]: means 13 → 8; control [20, 22, 24] →
    /// [19, 21, 23, 25]: 22 → 22. Estimate (8 − 13) − (22 − 22) = −5. vᵢ = s²/n: 6.6667/4, 2.5/5,
    /// 4/3, 6.6667/4; se = √5.1667 = 2.273030; df = 9.522709; t = −2.199707; two-sided p (scipy
    /// stats.t.sf) = 0.053772506.
    #[test]
    fn means_match_scipy() {
        let did = means([&[10.0, 12.0, 14.0, 16.0], &[6.0, 7.0, 8.0, 9.0, 10.0], &[20.0, 22.0, 24.0], &[19.0, 21.0, 23.0, 25.0]]).unwrap();
        assert_close(did.estimate, -5.0, 1e-12);
        assert_close(did.standard_error, 2.273030282830976, 1e-12);
        assert_close(did.df.unwrap(), 9.522708505367465, 1e-9);
        assert_close(did.p_value, 0.0537725057914389, 1e-7);
        assert!(means([&[1.0], &[1.0, 2.0], &[1.0, 2.0], &[1.0, 2.0]]).is_none(), "a group of one has no variance");
        assert!(means([&[1.0, 1.0], &[1.0, 1.0], &[1.0, 1.0], &[1.0, 1.0]]).is_none(), "no spread, no test");
    }

    /// 30/100 → 20/100 against 40/200 → 42/200: (0.2 − 0.3) − (0.21 − 0.2) = −0.11; se =
    /// √(0.21/100 + 0.16/100 + 0.16/200 + 0.1659/200) = 0.073003; z = −1.506779; p (scipy
    /// norm.sf × 2) = 0.131867409.
    #[test]
    fn proportions_match_scipy() {
        let did = proportions([(30, 100), (20, 100), (40, 200), (42, 200)]).unwrap();
        assert_close(did.estimate, -0.11, 1e-12);
        assert_close(did.standard_error, 0.07300342457720733, 1e-12);
        assert_close(did.p_value, 0.13186740919538573, 1e-9);
        assert_eq!(did.df, None);
        assert!(proportions([(1, 0), (1, 2), (1, 2), (1, 2)]).is_none());
    }
}
