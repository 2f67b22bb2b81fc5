//! The KPI catalog for people: a plain list for the terminal, and the KPI reference in Markdown
//! (docs/kpis.md is this output for the built-in KPIs). Header text is escaped, since `--queries`
//! may name files of anyone's.

use std::io::Write;

use super::stdout_error;
use crate::error::Result;
use crate::escape::markdown;
use crate::kpi::{Kpi, SignificanceTest};

/// The catalog as a list: id, title, unit, direction, grain and definition.
pub fn text(kpis: &[Kpi], out: &mut dyn Write) -> Result<()> {
    for kpi in kpis {
        let m = &kpi.meta;
        writeln!(out, "{} — {} [{}; {} is better; {}] ({})\n  {}\n", kpi.id, m.title, m.unit, m.better.word(), m.grain, kpi.origin, m.definition)
            .map_err(stdout_error)?;
    }
    Ok(())
}

/// The KPI reference: an index table, then each KPI's header as it stands in its SQL file, the
/// definition word for word.
pub fn markdown_reference(kpis: &[Kpi], out: &mut dyn Write) -> Result<()> {
    let mut text = String::from(
        "# KPI reference\n\n\
         Every KPI is one SQL file whose header states its definition. This reference is generated from those headers by \
         `mttx catalog --format markdown`, and a test keeps it equal to that output.\n\n\
         | KPI | title | unit | better | grain |\n| --- | --- | --- | --- | --- |\n",
    );
    for kpi in kpis {
        let m = &kpi.meta;
        let id = markdown(&kpi.id);
        text.push_str(&format!(
            "| [{id}](#{}) | {} | {} | {} | {} |\n",
            anchor(&kpi.id),
            markdown(&m.title),
            markdown(&m.unit),
            m.better.word(),
            markdown(&m.grain)
        ));
    }
    for kpi in kpis {
        let m = &kpi.meta;
        text.push_str(&format!("\n## {}\n\n**{}**", markdown(&kpi.id), markdown(&m.title)));
        let source = if kpi.origin == "built-in" { format!("[`queries/{0}.sql`](../queries/{0}.sql)", kpi.id) } else { markdown(&kpi.origin) };
        text.push_str(&format!(" ({source})\n\n{}\n\n", markdown(&m.definition)));
        let list = |items: &[String]| items.iter().map(|i| format!("`{}`", code(i))).collect::<Vec<_>>().join(", ");
        let mut facts = vec![
            ("Unit", markdown(&m.unit)),
            ("Better (the default direction of its measures)", m.better.word().to_string()),
            ("Grain", markdown(&m.grain)),
            ("Keys", list(&m.keys)),
            (
                "Measures, with the direction that is better",
                m.measures.iter().map(|x| format!("`{}` ({})", code(x), m.direction(x).word())).collect::<Vec<_>>().join(", "),
            ),
        ];
        if let Some(n) = &m.n {
            let mut text = format!("`{}`", code(n));
            for (measure, column) in &m.n_by_measure {
                text.push_str(&format!("; for `{}`, `{}`", code(measure), code(column)));
            }
            facts.push(("n", text));
        }
        for s in &m.significance {
            facts.push(("Test of a change", format!("{}: {}", list(&s.measures), test_words(&s.test))));
        }
        if let Some(tolerance) = &m.tolerance {
            facts.push(("Tolerance in `mttx check`", markdown(tolerance)));
        }
        if let Some(rule) = &m.cohort {
            facts.push((
                "Judged on cohorts",
                format!(
                    "in before-and-after comparisons, the incidents opened in each window, each followed {} for its `{}`",
                    crate::time::days(rule.days),
                    code(&rule.column)
                ),
            ));
        }
        if m.settles_days > 0 {
            facts.push((
                "Settles",
                format!(
                    "{} after the month ends; until then its rows are provisional, and `mttx check` does not fail on them without `--gate-provisional`",
                    crate::time::days(m.settles_days)
                ),
            ));
        }
        if m.at_cut_off {
            facts.push(("Window", "cut-off: the rows describe the tickets as they stand at the cut-off, whatever the period".into()));
        }
        if m.whole_window {
            facts.push(("Window", "whole: a month's row depends on the window's first month, so each period runs on its own".into()));
        }
        for (name, value) in facts {
            text.push_str(&format!("- {name}: {value}\n"));
        }
    }
    out.write_all(text.as_bytes()).map_err(stdout_error)
}

/// A GitHub heading anchor for a KPI id (ids are file stems: letters, digits, `_` and `-`).
fn anchor(id: &str) -> String {
    id.chars().filter(|c| c.is_alphanumeric() || matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect()
}

/// Text for a code span: a backtick would end it, and a line break would break the list.
fn code(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

fn test_words(test: &SignificanceTest) -> String {
    match test {
        SignificanceTest::Mean { cte, column } => format!("Welch's t-test of the mean of `{}.{}`", code(cte), code(column)),
        SignificanceTest::Quantile { cte, column, q } => format!(
            "the share of `{}.{}` above the pooled {} quantile (χ² with Yates' correction, or Fisher's exact test on small tables)",
            code(cte),
            code(column),
            q
        ),
        SignificanceTest::Rank { cte, column } => format!("Mann–Whitney U on the values of `{}.{}`", code(cte), code(column)),
        SignificanceTest::Proportion { successes, trials } => {
            format!("two-proportion z-test (Fisher's exact test on small tables) of `{}` out of `{}`", code(successes), code(trials))
        }
        SignificanceTest::Poisson { count } => format!("exact Poisson rate test of `{}` per hour covered", code(count)),
    }
}
