//! `mttx check` results for people (a diff table of what moved) and for GitHub Actions (workflow
//! annotations). JSON is the report serialised; JUnit has its own module.

use std::io::Write;

use serde_json::Value;

use super::stdout_error;
use crate::check::{CheckReport, Comparison, Verdict};
use crate::error::Result;
use crate::kpi::document::plain;

pub fn cell(value: &Option<Value>) -> String {
    match value {
        None => "—".into(),
        Some(Value::Null) => "null".into(),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if n.is_f64() => format!("{x:.6}").trim_end_matches('0').trim_end_matches('.').to_string(),
            _ => n.to_string(),
        },
        Some(other) => plain(other),
    }
}

fn delta(c: &Comparison) -> String {
    c.delta.map(|d| format!("{d:+.6}").trim_end_matches('0').trim_end_matches('.').to_string()).unwrap_or_default()
}

fn verdict_word(v: Verdict) -> String {
    v.word().to_uppercase()
}

/// The values that did not stay within tolerance, and every gate, as an aligned table.
pub fn text(report: &CheckReport, out: &mut dyn Write) -> Result<()> {
    let mut rows: Vec<[String; 9]> = vec![["KPI", "key", "column", "baseline", "current", "delta", "tolerance", "verdict", "note"].map(String::from)];
    for c in report.comparisons.iter().filter(|c| c.verdict != Verdict::Ok) {
        rows.push([
            c.kpi.clone(),
            c.key.clone(),
            c.column.clone(),
            cell(&c.baseline),
            cell(&c.current),
            delta(c),
            c.tolerance.clone(),
            verdict_word(c.verdict),
            c.note.clone(),
        ]);
    }
    for g in &report.gates {
        rows.push([
            g.kpi.clone(),
            g.key.clone(),
            g.column.clone(),
            String::new(),
            cell(&g.value),
            String::new(),
            format!("gate: {}", g.gate),
            verdict_word(g.verdict),
            g.note.clone(),
        ]);
    }
    if rows.len() > 1 {
        // Keys and values come from the data: shown through `escape::terminal`, widths included.
        let widths: Vec<usize> = (0..9).map(|i| rows.iter().map(|r| crate::escape::terminal(&r[i]).chars().count()).max().unwrap_or(0)).collect();
        for row in &rows {
            let line: Vec<String> = row.iter().zip(&widths).map(|(c, w)| format!("{:<w$}", crate::escape::terminal(c))).collect();
            writeln!(out, "{}", line.join("  ").trim_end()).map_err(stdout_error)?;
        }
        writeln!(out).map_err(stdout_error)?;
    }
    let counts: Vec<String> = report.counts.iter().map(|(v, n)| format!("{n} {v}")).collect();
    let verdict = if report.passed { "PASSED" } else { "FAILED" };
    writeln!(out, "{verdict}: {} ({} failing)", counts.join(", "), report.failures()).map_err(stdout_error)
}

/// Escapes an annotation message (GitHub's workflow-command encoding).
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes an annotation property such as the title.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// `::error` for every failing value or gate, `::notice` for improvements and new KPIs.
pub fn github(report: &CheckReport, out: &mut dyn Write) -> Result<()> {
    for c in &report.comparisons {
        let level = match c.verdict {
            v if v.fails() => "error",
            Verdict::Improved | Verdict::Moved => "notice",
            Verdict::New if c.key.is_empty() => "notice",
            _ => continue,
        };
        let title = escape_property(&format!("mttx check: {} {}", c.kpi, verdict_word(c.verdict)));
        let what = if c.key.is_empty() {
            c.note.clone()
        } else {
            format!(
                "{}.{} [{}]: {} → {} (delta {}, tolerance {}) {}",
                c.kpi,
                c.column,
                c.key,
                cell(&c.baseline),
                cell(&c.current),
                delta(c),
                c.tolerance,
                c.note
            )
        };
        writeln!(out, "::{level} title={title}::{}", escape_data(what.trim())).map_err(stdout_error)?;
    }
    for g in report.gates.iter().filter(|g| g.verdict.fails()) {
        let title = escape_property(&format!("mttx gate: {}", g.gate));
        writeln!(out, "::error title={title}::{}", escape_data(&format!("[{}] {}", g.key, g.note))).map_err(stdout_error)?;
    }
    text(report, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_escaping() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a: b, c"), "a%3A b%2C c");
    }
}
