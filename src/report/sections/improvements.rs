//! Improvement initiatives: for each initiative of the register, the months before and after its
//! go-live, and for each measure it was meant to move, the change, the test, and whether it worked.

use super::{Inputs, section};
use crate::evidence::control::TrendPoint;
use crate::evidence::verdict::Verdict;
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{
    Scale, change_text, format_n_marked, format_p, format_q, format_value, key_label, key_text_label, month_abbrev, month_name, scale,
};

pub(crate) fn improvements(inputs: &Inputs) -> Option<Section> {
    let (origin, evaluated) = inputs.improvements?;
    let mut blocks = vec![Block::Paragraph(format!(
        "Initiatives from {origin}. For each, the months before its go-live are compared with the months after it (never past the cut-off), with the tests of the benchmark table; the register's expected moves, stated before the data, are one family for Benjamini–Hochberg, and only q < {} (the false discovery rate) counts as evidence. Durations whose header names a cohort rule (MTTR, MTRS and MTTR in business hours followed 30 days, MTTA 7) are judged on cohorts: the incidents opened in each window, each followed that long, so a ticket opened before the go-live and resolved after it counts before, and one not resolved within the follow-up counts as not yet resolved in both cohorts alike. The after-months end at least the longest follow-up or settling time of the initiative's measures before the cut-off.",
        inputs.current.parameters.fdr
    ))];
    for e in evaluated {
        let i = &e.initiative;
        let live = if i.live.0 == i.live.1 { format!("went live on {}", i.live.0) } else { format!("rolled out from {} to {}", i.live.0, i.live.1) };
        let Some((before, after)) = e.windows else {
            blocks.push(Block::Paragraph(format!("{}: {live}; no complete month after it lies before the cut-off yet, so it is too early to tell.", i.name)));
            continue;
        };
        let window = |r: crate::time::MonthRange| {
            if r.first == r.last { month_name(r.first) } else { format!("{} to {}", month_name(r.first), month_name(r.last)) }
        };
        let provisional =
            if e.measured.iter().any(|m| m.open_warning().is_some()) { " (provisional: a cohort is more than 1% still open, see the outcomes)" } else { "" };
        blocks.push(Block::Paragraph(format!(
            "{}: {live}. Before: {}; after: {}. Verdict: {}{provisional}.",
            i.name,
            window(before),
            window(after),
            e.verdict()
        )));
        let controlled = e.measured.iter().any(|m| m.control.is_some());
        let mut columns = vec![("expected", false), ("row", false), ("before", true), ("after", true), ("change", false), ("test", false)];
        if controlled {
            columns.push(("against the control", false));
        }
        columns.push(("outcome", false));
        let mut table = Table::new(&columns);
        let mut trends = Vec::new();
        for m in &e.measured {
            let Some(c) = &m.comparison else {
                let mut row =
                    vec![Cell::plain(&m.expectation), Cell::plain("no row matches"), Cell::plain("—"), Cell::plain("—"), Cell::plain(""), Cell::plain("")];
                if controlled {
                    row.push(Cell::plain(""));
                }
                row.push(Cell::plain(m.outcome.as_expected()));
                table.rows.push(row);
                continue;
            };
            let s = scale(&c.kpi, &c.unit, &c.measure);
            let v = c.previous.as_ref();
            let before_text =
                v.map(|v| format!("{} {}", format_value(v.value, s), format_n_marked(v.n, inputs.min_n)).trim().to_string()).unwrap_or_else(|| "—".into());
            let after_text = format!("{} {}", format_value(c.value, s), format_n_marked(c.n, inputs.min_n)).trim().to_string();
            // With a control, the q belongs to the test of the difference, shown beside it.
            let judged_on_control = m.control.as_ref().is_some_and(|control| control.did.is_some());
            let test = match v.and_then(|v| v.test.zip(v.q_value)) {
                Some((t, _)) if judged_on_control => format!("{}, {}", t.method.name(), format_p(t.p_value)),
                Some((t, q)) => format!("{}, {} {}", t.method.name(), format_p(t.p_value), format_q(q)),
                None => "no test".into(),
            };
            let tone = match m.outcome {
                Verdict::Improved => Tone::Good,
                Verdict::Worse => Tone::Bad,
                _ => Tone::Plain,
            };
            let mut row = vec![
                Cell::plain(&m.expectation),
                Cell::plain(key_label(&c.key_values)),
                Cell::plain(before_text),
                Cell::plain(after_text),
                Cell::plain(v.and_then(|v| change_text(v, s)).unwrap_or_else(|| "—".into())),
                Cell::plain(test),
            ];
            if controlled {
                row.push(Cell::plain(match &m.control {
                    Some(control) => {
                        let did = match (control.did, v.and_then(|v| v.q_value)) {
                            (Some(did), Some(q)) => {
                                let estimate =
                                    if s == Scale::Percent { format!("{:+.1} pts", did.estimate * 100.0) } else { format_value(Some(did.estimate), s) };
                                format!(
                                    "; difference in differences {} ({}, {} {})",
                                    estimate.replace('-', "−"),
                                    did.method(),
                                    format_p(did.p_value),
                                    format_q(q)
                                )
                            }
                            _ if control.key == c.key => "; the control is this row itself: no test of the difference".into(),
                            _ if control.before.is_none() && control.after.is_none() => "; no such row: judged on its own change".into(),
                            _ => "; no test of the difference for this measure: judged on its own change".into(),
                        };
                        format!("{}: {} → {}{did}", key_text_label(&control.key), format_value(control.before, s), format_value(control.after, s))
                    }
                    None => String::new(),
                }));
                if let Some(control) = &m.control {
                    let series = |pick: fn(&TrendPoint) -> Option<f64>| {
                        control.trend.iter().map(|t| format!("{} {}", month_abbrev(&t.0), format_value(pick(t), s))).collect::<Vec<_>>().join(", ")
                    };
                    trends.push(format!("Before, month by month ({}): this row {}; the control {}", m.expectation, series(|t| t.1), series(|t| t.2)));
                }
            }
            row.push(Cell::toned(
                match m.open_warning() {
                    Some(warning) => format!("{} ({warning})", m.outcome.as_expected()),
                    None => m.outcome.as_expected().to_string(),
                },
                tone,
            ));
            table.rows.push(row);
        }
        blocks.push(Block::Table(table));
        if !trends.is_empty() {
            blocks.push(Block::Paragraph("Against a control group the verdict rests on the difference in differences where that has a test (means and rates; elsewhere the cell says so). It holds when the control's trend before the go-live runs parallel to the row's; the months below are as each KPI counts them (MTTR by the month of resolution), not cohorts:".into()));
            blocks.push(Block::Bullets(trends));
        }
        if !e.warnings.is_empty() {
            blocks.push(Block::Bullets(e.warnings.iter().map(|w| format!("Overlap: {w}.")).collect()));
        }
    }
    Some(section("improvements", "Improvement initiatives", blocks))
}
