//! `mttx check` as JUnit XML, which Jenkins and GitLab show natively: one test suite per KPI, one
//! test case per KPI × key (a failure lists the values that moved), and a suite for the gates.
//! Every value from the data is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::check::cell;
use crate::check::{CheckReport, Comparison, Verdict};

/// Escapes text for XML attributes and content, dropping characters XML 1.0 cannot hold.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

fn describe(c: &Comparison) -> String {
    if c.column.is_empty() {
        return format!("{}: {}", format!("{:?}", c.verdict).to_lowercase(), c.note);
    }
    let delta = c.delta.map(|d| format!(", delta {d:+}")).unwrap_or_default();
    format!(
        "{} {}: {} → {}{delta}, tolerance {} {}",
        c.column,
        format!("{:?}", c.verdict).to_lowercase(),
        cell(&c.baseline),
        cell(&c.current),
        c.tolerance,
        c.note
    )
    .trim_end()
    .to_string()
}

pub fn render(report: &CheckReport) -> String {
    let mut suites: BTreeMap<&str, BTreeMap<&str, Vec<&Comparison>>> = BTreeMap::new();
    for c in &report.comparisons {
        suites.entry(c.kpi.as_str()).or_default().entry(c.key.as_str()).or_default().push(c);
    }
    let cases: usize = suites.values().map(|s| s.len()).sum::<usize>() + report.gates.len();
    let failing_case = |values: &[&Comparison]| values.iter().any(|c| c.verdict.fails());
    let failures: usize =
        suites.values().flat_map(|s| s.values()).filter(|v| failing_case(v)).count() + report.gates.iter().filter(|g| g.verdict.fails()).count();

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(xml, "<testsuites name=\"mttx check\" tests=\"{cases}\" failures=\"{failures}\" errors=\"0\">");
    for (kpi, keys) in &suites {
        let suite_failures = keys.values().filter(|v| failing_case(v)).count();
        let _ = writeln!(xml, "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"0\">", xml_escape(kpi), keys.len());
        for (key, values) in keys {
            let name = if key.is_empty() { "(whole KPI)" } else { key };
            let _ = write!(xml, "    <testcase classname=\"mttx.{}\" name=\"{}\"", xml_escape(kpi), xml_escape(name));
            let failing: Vec<&&Comparison> = values.iter().filter(|c| c.verdict.fails()).collect();
            if failing.is_empty() {
                xml.push_str("/>\n");
                continue;
            }
            let message: Vec<String> = failing.iter().map(|c| describe(c)).collect();
            let kind = format!("{:?}", failing[0].verdict).to_lowercase();
            let _ = writeln!(
                xml,
                ">\n      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n    </testcase>",
                xml_escape(&message.join("; ")),
                xml_escape(&message.join("\n"))
            );
        }
        xml.push_str("  </testsuite>\n");
    }
    if !report.gates.is_empty() {
        let gate_failures = report.gates.iter().filter(|g| g.verdict.fails()).count();
        let _ = writeln!(xml, "  <testsuite name=\"gates\" tests=\"{}\" failures=\"{gate_failures}\" errors=\"0\">", report.gates.len());
        for g in &report.gates {
            let name = format!("{} [{}]", g.gate, g.key);
            let _ = write!(xml, "    <testcase classname=\"mttx.gates\" name=\"{}\"", xml_escape(&name));
            if g.verdict == Verdict::Violated {
                let _ = writeln!(xml, ">\n      <failure type=\"violated\" message=\"{}\"/>\n    </testcase>", xml_escape(&g.note));
            } else {
                xml.push_str("/>\n");
            }
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}
