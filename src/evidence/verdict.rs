//! The verdict on one tested change, judged in the direction that was wanted: the measure's own
//! for `mttx compare` and the report, an initiative's expected direction for the improvement
//! register. A neutral measure's significant change is information: changed. `mttx check` has its own gate verdict, which means something else.

use serde::Serialize;

use super::comparison::{Direction, Versus};
use crate::kpi::Better;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A significant change (q below the run's false discovery rate) in the wanted direction.
    Improved,
    /// A significant change in the other direction.
    Worse,
    /// Tested, and not significant.
    NoEvidence,
    /// Nothing to test: no header names a test for the measure, or a side has no value.
    NotTested,
    /// A significant change of a neutral measure: information, neither improved nor worse.
    Changed,
}

impl Verdict {
    /// The verdict on the change `versus`, wanted in direction `wanted`: the measure's own, or an
    /// initiative's. A change within rounding of none (`Direction::Same`) is no evidence.
    pub fn judge(versus: Option<&Versus>, wanted: Better) -> Verdict {
        let Some(v) = versus else { return Verdict::NotTested };
        let (Some(_), Some(_), Some(direction), Some(change)) = (v.test, v.q_value, v.direction, v.change) else { return Verdict::NotTested };
        if !v.significant || direction == Direction::Same {
            return Verdict::NoEvidence;
        }
        match wanted {
            Better::Neutral => Verdict::Changed,
            Better::Lower if change < 0.0 => Verdict::Improved,
            Better::Higher if change > 0.0 => Verdict::Improved,
            Better::Lower | Better::Higher => Verdict::Worse,
        }
    }

    /// As `mttx compare` and the benchmark say it.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Improved => "improved",
            Verdict::Worse => "worse",
            Verdict::NoEvidence => "no evidence",
            Verdict::NotTested => "not tested",
            Verdict::Changed => "changed",
        }
    }

    /// As the improvement register says it of an expected move.
    pub fn as_expected(self) -> &'static str {
        match self {
            Verdict::Improved => "worked",
            Verdict::Worse => "went the wrong way",
            Verdict::NoEvidence => "no evidence",
            Verdict::NotTested => "not tested",
            Verdict::Changed => "changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::stats::{Method, TestResult};

    fn versus(change: Option<f64>, direction: Option<Direction>, q: Option<f64>) -> Versus {
        Versus {
            label: "before".into(),
            listed: true,
            value: Some(10.0),
            n: Some(30.0),
            per_day: false,
            change,
            relative: None,
            direction,
            test: Some(TestResult { method: Method::MannWhitney, statistic: 0.0, p_value: q.unwrap_or(1.0) }),
            q_value: q,
            // At a false discovery rate of 0.05.
            significant: q.is_some_and(|q| q < 0.05),
        }
    }

    /// A fall of a lower-is-better measure, significant: improved where lower was wanted, worse
    /// where higher was; not significant or unchanged: no evidence; without a q-value, a test or a
    /// value on a side: not tested.
    #[test]
    fn verdicts_follow_the_wanted_direction() {
        let fell = versus(Some(-2.0), Some(Direction::Better), Some(0.01));
        assert_eq!(Verdict::judge(Some(&fell), Better::Lower), Verdict::Improved);
        assert_eq!(Verdict::judge(Some(&fell), Better::Higher), Verdict::Worse);
        let rose = versus(Some(2.0), Some(Direction::Worse), Some(0.01));
        assert_eq!(Verdict::judge(Some(&rose), Better::Lower), Verdict::Worse);
        assert_eq!(Verdict::judge(Some(&rose), Better::Higher), Verdict::Improved);
        assert_eq!(Verdict::judge(Some(&versus(Some(-2.0), Some(Direction::Better), Some(0.05))), Better::Lower), Verdict::NoEvidence);
        assert_eq!(Verdict::judge(Some(&versus(Some(0.0), Some(Direction::Same), Some(0.01))), Better::Lower), Verdict::NoEvidence);
        assert_eq!(Verdict::judge(Some(&versus(Some(-2.0), Some(Direction::Better), None)), Better::Lower), Verdict::NotTested);
        assert_eq!(Verdict::judge(Some(&versus(None, None, Some(0.01))), Better::Lower), Verdict::NotTested);
        let mut untested = fell.clone();
        untested.test = None;
        assert_eq!(Verdict::judge(Some(&untested), Better::Lower), Verdict::NotTested);
        assert_eq!(Verdict::judge(None, Better::Lower), Verdict::NotTested);
        assert_eq!((Verdict::Improved.as_expected(), Verdict::Worse.word()), ("worked", "worse"));
        // A neutral measure's significant change is information, either way.
        assert_eq!(Verdict::judge(Some(&versus(Some(2.0), Some(Direction::Changed), Some(0.01))), Better::Neutral), Verdict::Changed);
        assert_eq!(Verdict::judge(Some(&versus(Some(2.0), Some(Direction::Changed), Some(0.2))), Better::Neutral), Verdict::NoEvidence);
    }
}
