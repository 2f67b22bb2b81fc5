//! The appendix: the first page's list items beyond its limit, the biggest significant moves on
//! the previous month, and the month-on-month benchmark table with its tests.

use super::attention::{Attention, LIST_LIMIT};
use super::{Inputs, MIN_N_FOR_HIGHLIGHT, benchmark, section};
use crate::evidence::comparison::{self as compare, Comparison, Direction};
use crate::report::document::{Block, Section};
use crate::report::format::{change_text, format_n, format_p, format_q, format_value, key_label, measure_label, scale};

pub(crate) fn appendix(inputs: &Inputs, attention: &Attention) -> Section {
    let mut blocks = Vec::new();
    for (title, items) in attention.lists() {
        if items.len() > LIST_LIMIT {
            blocks.push(Block::Paragraph(format!("{title}, beyond the first page's {LIST_LIMIT}:")));
            blocks.push(Block::Bullets(items.iter().skip(LIST_LIMIT).map(|i| i.text.clone()).collect()));
        }
    }
    blocks.extend(movers(inputs));
    blocks.extend(benchmark::benchmark(inputs));
    section("appendix", "Appendix: month on month", blocks)
}

/// The largest relative changes on the previous month that stay significant after the correction
/// for multiple tests, one per KPI, better and worse apart.
fn movers(inputs: &Inputs) -> Vec<Block> {
    let mut blocks = Vec::new();
    let movers: Vec<&Comparison> = inputs
        .comparisons
        .iter()
        .filter(|c| {
            let Some(prev) = &c.previous else { return false };
            prev.relative.is_some()
                && prev.significant
                && matches!(prev.direction, Some(Direction::Better | Direction::Worse))
                && c.n.is_none_or(|n| n >= MIN_N_FOR_HIGHLIGHT)
                && prev.n.is_none_or(|n| n >= MIN_N_FOR_HIGHLIGHT)
        })
        .collect();
    let tests_made = compare::tests_against_previous(inputs.comparisons);
    let describe = |c: &Comparison| {
        let prev = c.previous.as_ref().expect("filtered");
        let s = scale(&c.kpi, &c.unit, &c.measure);
        let key = if c.key.is_empty() { String::new() } else { format!(" ({})", key_label(&c.key_values)) };
        let test = match (prev.test, prev.q_value) {
            (Some(t), Some(q)) => format!("; {} {}, {}", t.method.name(), format_p(t.p_value), format_q(q)),
            _ => String::new(),
        };
        format!(
            "{} {}{key}: {} against {} ({}; {} vs {}{test})",
            c.title,
            measure_label(c),
            format_value(c.value, s),
            format_value(prev.value, s),
            change_text(prev, s).unwrap_or_default(),
            format_n(c.n),
            format_n(prev.n)
        )
    };
    for (title, wanted) in [("Biggest improvements", Direction::Better), ("Biggest deteriorations", Direction::Worse)] {
        let mut list: Vec<&&Comparison> = movers.iter().filter(|c| c.previous.as_ref().and_then(|p| p.direction) == Some(wanted)).collect();
        // Largest first; on a tie the row of one priority before the overall one, which says less.
        let overall_row = |c: &Comparison| c.key_values.iter().any(|(k, v)| k == "scope" && v == "all");
        list.sort_by(|a, b| {
            let size = |c: &Comparison| c.previous.as_ref().and_then(|p| p.relative).unwrap_or(0.0).abs();
            size(b).total_cmp(&size(a)).then_with(|| overall_row(a).cmp(&overall_row(b))).then_with(|| a.kpi.cmp(&b.kpi)).then_with(|| a.key.cmp(&b.key))
        });
        // One line per KPI: its rows and its mean, p50 and p90 usually move together.
        let mut seen = Vec::new();
        list.retain(|c| {
            let first = !seen.contains(&c.kpi);
            seen.push(c.kpi.clone());
            first
        });
        blocks.push(Block::Paragraph(format!(
            "{title} on the previous month: the largest relative changes that stay significant after correcting for the {} tests made (Benjamini–Hochberg, q < {}), in rows with n ≥ {MIN_N_FOR_HIGHLIGHT}, one per KPI. Month-on-month tests rarely reach significance at P1 and P2 sample sizes; the process-behaviour charts judge sustained shifts.",
            tests_made,
            inputs.current.parameters.fdr
        )));
        blocks.push(Block::Bullets(if list.is_empty() { vec!["None significant.".into()] } else { list.iter().take(3).map(|c| describe(c)).collect() }));
    }
    blocks
}
