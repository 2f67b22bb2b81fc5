//! A KPI header's `significance:` clauses: which test tells whether each measure changed between
//! two periods, on the per-ticket values of one of the query's CTEs or on a row's counts.

use serde::Serialize;

/// A header `significance:` clause, e.g. `breach_rate = proportion(breached, measured)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Significance {
    /// The measure columns the test speaks for.
    pub measures: Vec<String>,
    pub test: SignificanceTest,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SignificanceTest {
    /// Welch's t-test of the means of the per-ticket values in column `column` of the query's CTE
    /// `cte`, whose other columns include the KPI's keys.
    Mean { cte: String, column: String },
    /// The 2×2 test of the values above the pooled `q`-quantile and not above it, on the same
    /// per-ticket values: for a median or another percentile.
    Quantile { cte: String, column: String, q: f64 },
    /// Mann–Whitney U on the same per-ticket values, for a measure of their whole distribution.
    Rank { cte: String, column: String },
    /// Two-proportion z-test: `successes` out of `trials`, both result columns.
    Proportion { successes: String, trials: String },
    /// Exact test of two Poisson counts (result column `count`) over the hours each period covers.
    Poisson { count: String },
}

impl SignificanceTest {
    /// The CTE and column of the per-ticket values a test on samples reads; None for the tests
    /// on a row's counts.
    pub fn sample(&self) -> Option<(&str, &str)> {
        match self {
            SignificanceTest::Mean { cte, column } | SignificanceTest::Quantile { cte, column, .. } | SignificanceTest::Rank { cte, column } => {
                Some((cte.as_str(), column.as_str()))
            }
            SignificanceTest::Proportion { .. } | SignificanceTest::Poisson { .. } => None,
        }
    }
}

impl Significance {
    /// Parses `a = mean(cte.column); b = quantile(cte.column, 0.9); c = rank(cte.column);
    /// d = proportion(x, n); e = poisson(e)`.
    pub fn parse_all(text: &str) -> std::result::Result<Vec<Significance>, String> {
        text.split(';').map(str::trim).filter(|c| !c.is_empty()).map(Significance::parse).collect()
    }

    fn parse(clause: &str) -> std::result::Result<Significance, String> {
        let usage = || {
            format!(
                "significance: `{clause}`: write `measure, … = mean(cte.column)`, `= quantile(cte.column, q)`, `= rank(cte.column)`, `= proportion(successes, trials)` or `= poisson(count)`"
            )
        };
        let (left, right) = clause.split_once('=').ok_or_else(usage)?;
        let measures: Vec<String> = left.split(',').map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
        let (method, args) = right.trim().strip_suffix(')').and_then(|r| r.split_once('(')).ok_or_else(usage)?;
        let args: Vec<&str> = args.split(',').map(str::trim).collect();
        let qualified = |text: &str| text.split_once('.').map(|(cte, column)| (cte.to_string(), column.to_string())).ok_or_else(usage);
        let test = match (method.trim(), args.as_slice()) {
            ("mean", [values]) => {
                let (cte, column) = qualified(values)?;
                SignificanceTest::Mean { cte, column }
            }
            ("quantile", [values, q]) => {
                let (cte, column) = qualified(values)?;
                let q: f64 = q
                    .parse()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .ok_or_else(|| format!("significance: `{clause}`: the quantile must be a number from 0 to 1"))?;
                SignificanceTest::Quantile { cte, column, q }
            }
            ("rank", [values]) => {
                let (cte, column) = qualified(values)?;
                SignificanceTest::Rank { cte, column }
            }
            ("proportion", [successes, trials]) => SignificanceTest::Proportion { successes: successes.to_string(), trials: trials.to_string() },
            ("poisson", [count]) => SignificanceTest::Poisson { count: count.to_string() },
            _ => return Err(usage()),
        };
        if measures.is_empty() {
            return Err(usage());
        }
        Ok(Significance { measures, test })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kpi::Kpi;

    const GOOD: &str =
        "-- title: T\n-- unit: hours\n-- better: lower\n-- grain: month\n-- keys: month\n-- definition: first part,\n--   second part.\nSELECT 1\n";

    #[test]
    fn significance_clauses() {
        let text = GOOD.replace(
            "-- definition",
            "-- significance: mean_hours, p50_hours = rank(durations.hours); rate = proportion(hits, n);\n--   count = poisson(count)\n-- definition",
        );
        let kpi = Kpi::parse("x", &text, "x.sql").unwrap();
        assert_eq!(kpi.meta.significance.len(), 3);
        assert_eq!(kpi.meta.significance[0].measures, ["mean_hours", "p50_hours"]);
        assert_eq!(kpi.meta.significance[0].test, SignificanceTest::Rank { cte: "durations".into(), column: "hours".into() });
        assert_eq!(kpi.meta.significance[2].test, SignificanceTest::Poisson { count: "count".into() });
        let err = Kpi::parse("x", &GOOD.replace("-- definition", "-- significance: rate = ttest(a)\n-- definition"), "x.sql").unwrap_err().to_string();
        assert!(err.contains("x.sql") && err.contains("proportion(successes, trials)"), "{err}");
    }

    /// See: issue 29. A median or percentile is tested as a quantile, a mean as a mean.
    #[test]
    fn mean_and_quantile_tests_parse() {
        let text = GOOD.replace("-- definition", "-- significance: m = mean(d.hours); p90 = quantile(d.hours, 0.9)\n-- definition");
        let kpi = Kpi::parse("x", &text, "x.sql").unwrap();
        assert_eq!(kpi.meta.significance[0].test, SignificanceTest::Mean { cte: "d".into(), column: "hours".into() });
        assert_eq!(kpi.meta.significance[1].test, SignificanceTest::Quantile { cte: "d".into(), column: "hours".into(), q: 0.9 });
        let err = Kpi::parse("x", &text.replace("0.9", "90"), "x.sql").unwrap_err().to_string();
        assert!(err.contains("from 0 to 1"), "{err}");
    }
}
