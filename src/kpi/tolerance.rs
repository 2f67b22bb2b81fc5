//! How far a KPI value may move and still count as unchanged: `exact`, `absolute N` or
//! `relative N`, as KPI headers (`-- tolerance:`) and the rules of `mttx check` write it.

use std::fmt;

/// How far a value may move and still count as unchanged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tolerance {
    /// No movement at all, and an improvement is a failure too.
    Exact,
    Absolute(f64),
    /// A share of the baseline; with a baseline of 0 only 0 is within it.
    Relative(f64),
}

/// The default when neither the SQL header nor the rules give one: unchanged up to rounding noise
/// of floating-point sums, which may differ in the last bits between parallel runs.
pub const DEFAULT_TOLERANCE: Tolerance = Tolerance::Relative(1e-9);

impl Tolerance {
    pub fn parse(text: &str) -> std::result::Result<Tolerance, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let amount = |w: &str| -> std::result::Result<f64, String> {
            w.parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0).ok_or_else(|| format!("`{w}` is not a non-negative number"))
        };
        match words.as_slice() {
            ["exact"] => Ok(Tolerance::Exact),
            ["absolute", x] => Ok(Tolerance::Absolute(amount(x)?)),
            ["relative", x] => Ok(Tolerance::Relative(amount(x)?)),
            _ => Err(format!("tolerance `{text}`: write exact, absolute N or relative N")),
        }
    }

    /// True when `current` is within the tolerance of `baseline`. A movement exactly equal to the
    /// tolerance is within it.
    pub fn allows(self, baseline: f64, current: f64) -> bool {
        let delta = (current - baseline).abs();
        // Decimal tolerances are not exact in binary: allow the last bits of the comparison.
        let noise = 1e-12 * baseline.abs().max(current.abs()).max(1.0);
        match self {
            Tolerance::Exact => current == baseline,
            Tolerance::Absolute(t) => delta <= t + noise,
            Tolerance::Relative(r) => delta <= r * baseline.abs() + if baseline == 0.0 { 0.0 } else { noise },
        }
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tolerance::Exact => f.write_str("exact"),
            Tolerance::Absolute(t) => write!(f, "absolute {t}"),
            Tolerance::Relative(r) => write!(f, "relative {r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_edges() {
        // Equal to the tolerance passes; just over it fails.
        assert!(Tolerance::Absolute(0.5).allows(10.0, 10.5));
        assert!(!Tolerance::Absolute(0.5).allows(10.0, 10.500001));
        assert!(Tolerance::Absolute(0.2).allows(0.1, 0.1 + 0.2));
        assert!(Tolerance::Relative(0.1).allows(8.0, 8.8));
        assert!(!Tolerance::Relative(0.1).allows(8.0, 8.81));
        // A relative tolerance of a zero baseline allows only zero.
        assert!(Tolerance::Relative(0.1).allows(0.0, 0.0));
        assert!(!Tolerance::Relative(0.1).allows(0.0, 1e-9));
        assert!(Tolerance::Exact.allows(3.0, 3.0));
        assert!(!Tolerance::Exact.allows(3.0, 3.0000001));
    }
}
