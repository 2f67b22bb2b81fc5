//! The rules file of `mttx check`: tolerances that override the SQL headers' defaults per KPI,
//! column and grain key, and gates (thresholds) that current values must meet.
//!
//! ```toml
//! gates = [
//!   "mttr.p90_hours{priority=1} <= 8",
//!   "sla_breach.breach_rate{sla=resolution} <= 0.05",
//! ]
//! [tolerances]
//! mttr = "relative 0.05"
//! "mttr.p90_hours{priority=1}" = "absolute 0.5"
//! change_failure = "exact"
//! ```
//!
//! `min_n = 30` (the default) is the n a gate's row needs: a gate on a row of fewer tickets is not
//! evaluated, and passes, saying so.
//!
//! A gate or register line without a `scope` key means the per-priority rows (`scope=priority`);
//! `mttr.p90_hours{scope=all} <= 24` gates the figure over all priorities. Tolerances apply to
//! every row they name, overall ones included.
//!
//! Grammar: `gate := selector op number`, `op := <= | < | >= | > | == | !=`,
//! `selector := kpi [ "." column ] [ "{" key "=" value { "," key "=" value } "}" ]`,
//! `tolerance := exact | absolute N | relative N`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, Result};
pub use crate::kpi::selector::{DEFAULT_KEYS, Selector};
use crate::kpi::selector::{Syntax, parse_selector, skip_spaces};
pub use crate::kpi::tolerance::{DEFAULT_TOLERANCE, Tolerance};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Le,
    Lt,
    Ge,
    Gt,
    Eq,
    Ne,
}

impl Op {
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Le => value <= threshold,
            Op::Lt => value < threshold,
            Op::Ge => value >= threshold,
            Op::Gt => value > threshold,
            Op::Eq => value == threshold,
            Op::Ne => value != threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Le => "<=",
            Op::Lt => "<",
            Op::Ge => ">=",
            Op::Gt => ">",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }
}

/// A threshold that current values must meet (an SLO gate).
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    pub text: String,
    pub selector: Selector,
    pub op: Op,
    pub threshold: f64,
    /// 1-based line of the rule in its file.
    pub line: usize,
}

/// A tolerance override and the line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ToleranceRule {
    pub selector: Selector,
    pub tolerance: Tolerance,
    pub line: usize,
}

/// A gate on a row with fewer tickets than this is not evaluated: a P1 p90 over twenty tickets
/// swings from month to month by chance alone.
pub const DEFAULT_MIN_N: u64 = 30;

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub origin: String,
    pub tolerances: Vec<ToleranceRule>,
    pub gates: Vec<Gate>,
    /// The n a gate's row needs for the gate to be evaluated (`min_n`).
    pub min_n: u64,
    /// `--gate-provisional`: fail regressions and gates in rows whose month has not settled.
    pub gate_provisional: bool,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules { origin: String::new(), tolerances: Vec::new(), gates: Vec::new(), min_n: DEFAULT_MIN_N, gate_provisional: false }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    min_n: Option<u64>,
    #[serde(default)]
    gates: Vec<toml::Spanned<String>>,
    #[serde(default)]
    tolerances: BTreeMap<String, toml::Spanned<String>>,
}

impl Rules {
    pub fn load(path: &std::path::Path) -> Result<Rules> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Rules::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Rules> {
        let file: RulesFile = toml::from_str(text).map_err(|e| Error::Rules { origin: origin.into(), message: e.to_string() })?;
        // Where a value's text starts in the file: just after its opening quote.
        let position = |span: std::ops::Range<usize>, offset: usize| -> (usize, usize) {
            let at = (span.start + 1 + offset).min(text.len());
            let before = &text[..at];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        };
        let fail = |span: std::ops::Range<usize>, e: Syntax, rule: &str| {
            let (line, column) = position(span, e.at);
            Error::Rules { origin: origin.into(), message: format!("line {line}, column {column}: {} in `{rule}`", e.message) }
        };
        let mut rules = Rules { origin: origin.into(), min_n: file.min_n.unwrap_or(DEFAULT_MIN_N), ..Rules::default() };
        for gate in &file.gates {
            let span = gate.span();
            let parsed = parse_gate(gate.get_ref()).map_err(|e| fail(span.clone(), e, gate.get_ref()))?;
            let (line, _) = position(span, 0);
            rules.gates.push(Gate { line, ..parsed });
        }
        for (selector_text, tolerance) in &file.tolerances {
            let span = tolerance.span();
            let (line, _) = position(span.clone(), 0);
            let selector = parse_selector(selector_text, &mut 0)
                .map_err(|e| Error::Rules { origin: origin.into(), message: format!("line {line}: {} in the key `{selector_text}`", e.message) })?;
            let tolerance = Tolerance::parse(tolerance.get_ref()).map_err(|m| fail(span, Syntax { at: 0, message: m }, tolerance.get_ref()))?;
            rules.tolerances.push(ToleranceRule { selector, tolerance, line });
        }
        Ok(rules)
    }

    /// The tolerance for one value: the most specific rule that matches, else the KPI's header,
    /// else the default.
    pub fn tolerance_for(&self, kpi: &str, column: &str, row_keys: &[(String, String)], header: Option<Tolerance>) -> Tolerance {
        self.rule_for(kpi, column, row_keys).or(header).unwrap_or(DEFAULT_TOLERANCE)
    }

    /// The tolerance of the most specific rule of this file that covers the value, if any.
    pub fn rule_for(&self, kpi: &str, column: &str, row_keys: &[(String, String)]) -> Option<Tolerance> {
        self.tolerances.iter().filter(|r| r.selector.covers(kpi, column, row_keys)).max_by_key(|r| r.selector.specificity()).map(|r| r.tolerance)
    }
}

fn parse_gate(text: &str) -> std::result::Result<Gate, Syntax> {
    let mut at = 0;
    let selector = parse_selector(text, &mut at)?;
    if selector.column.is_none() {
        return Err(Syntax { at, message: "a gate needs a column: kpi.column".into() });
    }
    let chars: Vec<char> = text.chars().collect();
    let rest: String = chars[at..].iter().collect();
    let op = [("<=", Op::Le), (">=", Op::Ge), ("==", Op::Eq), ("!=", Op::Ne), ("<", Op::Lt), (">", Op::Gt)]
        .into_iter()
        .find(|(s, _)| rest.starts_with(s))
        .map(|(s, op)| {
            at += s.len();
            op
        })
        .ok_or(Syntax { at, message: "expected a comparison: <=, <, >=, >, == or !=".into() })?;
    skip_spaces(&chars, &mut at);
    let number: String = chars[at..].iter().collect::<String>().trim().to_string();
    let threshold = number.parse::<f64>().ok().filter(|x| x.is_finite()).ok_or(Syntax { at, message: format!("expected a number, found `{number}`") })?;
    Ok(Gate { text: text.to_string(), selector, op, threshold, line: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_and_tolerances_parse() {
        let rules = Rules::parse(
            "gates = [\n  \"mttr.p90_hours{priority=1} <= 8\",\n  \"sla_breach.breach_rate{sla=resolution, month=2026-10} < 0.05\",\n]\n[tolerances]\nmttr = \"relative 0.05\"\n\"mttr.p90_hours{priority=1}\" = \"absolute 0.5\"\n",
            "checks.toml",
        )
        .unwrap();
        assert_eq!(rules.gates.len(), 2);
        assert_eq!(rules.gates[0].selector.to_string(), "mttr.p90_hours{priority=1}");
        assert_eq!((rules.gates[0].op, rules.gates[0].threshold, rules.gates[0].line), (Op::Le, 8.0, 2));
        assert_eq!(rules.gates[1].selector.keys.len(), 2);
        let keys = vec![("month".to_string(), "2026-10".to_string()), ("priority".to_string(), "1".to_string())];
        assert_eq!(rules.tolerance_for("mttr", "p90_hours", &keys, None), Tolerance::Absolute(0.5));
        assert_eq!(rules.tolerance_for("mttr", "p50_hours", &keys, None), Tolerance::Relative(0.05));
        assert_eq!(rules.tolerance_for("mtta", "p50_hours", &keys, Some(Tolerance::Exact)), Tolerance::Exact);
        assert_eq!(rules.tolerance_for("mtta", "p50_hours", &keys, None), DEFAULT_TOLERANCE);
    }

    #[test]
    fn a_gate_without_scope_means_the_per_priority_rows() {
        let rules =
            Rules::parse("gates = [\"mttr.p90_hours <= 8\", \"mttr.p90_hours{scope=all} <= 24\"]\n[tolerances]\nmttr = \"relative 0.1\"\n", "c.toml").unwrap();
        let row = |scope: &str, priority: &str| {
            vec![("month".to_string(), "2026-10".to_string()), ("scope".into(), scope.into()), ("priority".into(), priority.into())]
        };
        let (keyless, overall) = (&rules.gates[0].selector, &rules.gates[1].selector);
        assert!(keyless.matches("mttr", "p90_hours", &row("priority", "1")));
        assert!(keyless.matches("mttr", "p90_hours", &row("priority", "")), "no priority is a per-priority row");
        assert!(!keyless.matches("mttr", "p90_hours", &row("all", "")), "the overall row must be named");
        assert!(overall.matches("mttr", "p90_hours", &row("all", "")));
        assert!(!overall.matches("mttr", "p90_hours", &row("priority", "1")));
        // KPIs without a scope key are unaffected.
        assert!(keyless.matches("mttr", "p90_hours", &[("month".to_string(), "2026-10".to_string())]));
        // A tolerance for the KPI covers its overall rows too.
        assert_eq!(rules.tolerance_for("mttr", "p90_hours", &row("all", ""), None), Tolerance::Relative(0.1));
    }

    #[test]
    fn malformed_rules_name_line_and_column() {
        let err = |text: &str| Rules::parse(text, "checks.toml").unwrap_err().to_string();
        // Line 2 is `  "mttr.p90_hours{priority=1} =< 8",`: the text starts at column 4 and `=<` is
        // 27 characters in, at column 31.
        let e = err("gates = [\n  \"mttr.p90_hours{priority=1} =< 8\",\n]\n");
        assert!(e.contains("checks.toml: line 2, column 31") && e.contains("expected a comparison"), "{e}");
        let e = err("gates = [\"mttr{priority=1} <= 8\"]\n");
        assert!(e.contains("line 1") && e.contains("needs a column"), "{e}");
        // The rule's text starts at column 11 (after `gates = ["`); `eight` is 18 characters in.
        let e = err("gates = [\"mttr.p90_hours <= eight\"]\n");
        assert!(e.contains("line 1, column 29") && e.contains("`eight`"), "{e}");
        let e = err("gates = [\"mttr.p90_hours{priority 1} <= 8\"]\n");
        assert!(e.contains("expected `=`"), "{e}");
        let e = err("[tolerances]\nmttr = \"roughly 5\"\n");
        assert!(e.contains("line 2") && e.contains("roughly 5"), "{e}");
        let e = err("gate = []\n");
        assert!(e.contains("unknown field `gate`"), "{e}");
    }
}
