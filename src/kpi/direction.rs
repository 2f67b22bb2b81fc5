//! Which way is good for a measure: the `better:` of a KPI header and the direction in
//! parentheses after a measure.

use serde::{Deserialize, Serialize};

/// Which way is good for a measure: lower, higher, or neither (`neutral`: workload such as
/// volume, whose change is information, never better or worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    Lower,
    Higher,
    Neutral,
}

impl Better {
    /// "lower", "higher" or "neutral", as headers and reports write it.
    pub fn word(self) -> &'static str {
        match self {
            Better::Lower => "lower",
            Better::Higher => "higher",
            Better::Neutral => "neutral",
        }
    }

    /// From a header's word.
    pub fn parse(word: &str) -> Option<Better> {
        match word {
            "lower" => Some(Better::Lower),
            "higher" => Some(Better::Higher),
            "neutral" => Some(Better::Neutral),
            _ => None,
        }
    }
}
