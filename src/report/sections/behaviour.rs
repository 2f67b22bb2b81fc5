//! Process behaviour: XmR charts of the headline measures over the trend window, and the signals
//! they give in words, favourable or not.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, month_labels, monthly, overall, section, text};
use crate::evidence::xmr::{self, ProcessChart};
use crate::report::charts::{Chart, ChartKind, LineSeries, Lines, Reference};
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, format_value, scale, short_month};

/// The measures charted: (kpi, measure, priority or None for all priorities, label).
const HEADLINES: [(&str, &str, Option<&str>, &str); 7] = [
    ("mttr", "p50_hours", None, "MTTR median, all priorities"),
    ("mttr", "p50_hours", Some("1"), "MTTR median, P1"),
    ("mttr", "p50_hours", Some("2"), "MTTR median, P2"),
    ("mtta", "p50_hours", None, "MTTA median, all priorities"),
    ("mtta", "p50_hours", Some("1"), "MTTA median, P1"),
    ("mtta", "p50_hours", Some("2"), "MTTA median, P2"),
    ("change_failure", "change_failure_rate", None, "Change failure rate"),
];

/// The XmR chart of each headline measure that has at least `xmr::MIN_POINTS` months with a
/// value where its limits come from: every month shown, or `--limits-from`'s months.
pub(crate) fn process_charts(inputs: &Inputs) -> Vec<ProcessChart> {
    let labels: Vec<String> = inputs.window.iter().map(|m| m.label()).collect();
    let limits = inputs.limits_from.and_then(|range| {
        let first = inputs.window.iter().position(|m| *m >= range.first)?;
        let last = inputs.window.iter().rposition(|m| *m <= range.last)?;
        (first <= last).then_some((first, last))
    });
    HEADLINES
        .iter()
        .filter_map(|&(id, measure, priority, label)| {
            let kpi = find(inputs.trend, id)?;
            let matches = |r: &Map<String, Value>| match priority {
                None => overall(r) || text(r, "scope").is_empty(),
                Some(p) => !overall(r) && text(r, "priority") == p,
            };
            let values = monthly(inputs, kpi, measure, &matches);
            let points: Vec<(String, Option<f64>)> = labels.iter().cloned().zip(values).collect();
            let chart = xmr::chart(&points, limits)?;
            let key = match priority {
                None if kpi.keys.iter().any(|k| k == "scope") => "scope=all,priority=".to_string(),
                None => String::new(),
                Some(p) => format!("scope=priority,priority={p}"),
            };
            Some(ProcessChart { kpi: id.into(), measure: measure.into(), key, label: label.into(), better: kpi.direction(measure), chart })
        })
        .collect()
}

pub(crate) fn behaviour(inputs: &Inputs, process: &[ProcessChart], charts: &mut Vec<Chart>) -> Section {
    let mut blocks = vec![Block::Paragraph(format!(
        "Process-behaviour (XmR) charts over the trend window. The centre line is the mean of {}, and the natural process limits are that mean ± {} × the mean moving range. A signal is a month beyond a limit, {} months in a row on one side of the centre line, or 3 of 4 months nearer a limit than the centre line; anything else is routine variation, not a change to act on. Limits from fewer than {} months are provisional.",
        match inputs.limits_from {
            Some(range) => format!("the months {range} (--limits-from: a shift after them shows against them)"),
            None => "the months shown".to_string(),
        },
        xmr::NATURAL_LIMIT,
        xmr::RUN_LENGTH,
        xmr::FIRM_POINTS
    ))];
    if process.is_empty() {
        blocks.push(Block::Paragraph(format!(
            "No chart: the months the limits come from hold fewer than {} with a value for any headline measure.",
            xmr::MIN_POINTS
        )));
        return section("behaviour", "Process behaviour", blocks);
    }
    let mut table = Table::new(&[("measure", false), ("centre", true), ("limits", true), ("months", true), ("signals", false)]);
    for p in process {
        let unit = find(inputs.trend, &p.kpi).map(|k| k.unit.clone()).unwrap_or_default();
        let shown = scale(&unit, &p.measure);
        let value = |v: f64| format_value(Some(v), shown);
        table.rows.push(vec![
            Cell::plain(p.label.clone()),
            Cell::plain(value(p.chart.centre)),
            Cell::plain(format!(
                "{} to {}{}",
                value(p.chart.lower_limit.max(0.0)),
                value(p.chart.upper_limit),
                if p.chart.provisional { " (provisional)" } else { "" }
            )),
            Cell::plain(p.chart.limit_points.to_string()),
            Cell::plain(signals_in_words(p)),
        ]);
        let chart = xmr_chart(inputs, p, &unit, shown);
        blocks.push(chart_block(&chart, format!("{}: each month's value, the centre line and the natural process limits.", p.label)));
        charts.push(chart);
    }
    table.note = Some("Lower limits below zero are shown as 0: a time or a rate cannot be negative.".into());
    blocks.insert(1, Block::Table(table));
    section("behaviour", "Process behaviour", blocks)
}

/// Each rule's signals with their months, favourable or not: "8 months in a row below the centre
/// line (Jun 26–Oct 26), favourable".
pub(crate) fn signals_in_words(p: &ProcessChart) -> String {
    if p.chart.signals.is_empty() {
        return "none: routine variation".into();
    }
    let mut groups: Vec<(String, Vec<String>, Option<bool>)> = Vec::new();
    for signal in &p.chart.signals {
        let what = signal.describe();
        let month = short_month(&signal.month);
        match groups.iter_mut().find(|g| g.0 == what) {
            Some(group) => group.1.push(month),
            None => groups.push((what, vec![month], signal.favourable(p.better))),
        }
    }
    groups
        .into_iter()
        .map(|(what, months, favourable)| {
            let when = if months.len() > 2 { format!("{}–{}", months[0], months[months.len() - 1]) } else { months.join(", ") };
            let verdict = match favourable {
                Some(true) => ", favourable",
                Some(false) => ", unfavourable",
                None => "",
            };
            format!("{what} ({when}){verdict}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn xmr_chart(inputs: &Inputs, p: &ProcessChart, unit: &str, shown: Scale) -> Chart {
    let reference = |label: &str, value: f64| Reference { label: format!("{label} {}", format_value(Some(value), shown)), value, category: None };
    let mut references = vec![reference("centre", p.chart.centre), reference("upper limit", p.chart.upper_limit)];
    if p.chart.lower_limit > 0.0 {
        references.push(reference("lower limit", p.chart.lower_limit));
    }
    let per_cent = matches!(shown, Scale::Percent);
    let factor = if per_cent { 100.0 } else { 1.0 };
    for r in &mut references {
        r.value *= factor;
    }
    Chart {
        name: format!("xmr_{}_{}", p.kpi, p.key.strip_prefix("scope=priority,priority=").unwrap_or("all")),
        title: format!("{}: process behaviour", p.label),
        kind: ChartKind::Lines(Lines {
            x_labels: month_labels(inputs),
            x_desc: "month".into(),
            y_desc: if per_cent { "%".into() } else { unit.to_string() },
            series: vec![LineSeries { name: p.label.clone(), values: p.chart.points.iter().map(|pt| pt.value.map(|v| v * factor)).collect(), whiskers: None }],
            whisker_label: None,
            references,
            log_y: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::xmr::chart;

    /// MTTR (lower is better) with limits from 12, 10, 12, 10, 12, 10 (2025-01 to 2025-06; centre
    /// 11, lower limit 5.68), then eight months at 10.5 and a 5 in 2026-03. The last base month and
    /// the 10.5s are below the centre, so the run of eight signals from 2026-01 to 2026-03, and the
    /// 5 is beyond the lower limit: both favourable, each with its months; a higher-is-better
    /// measure reads them the other way.
    #[test]
    fn signals_read_in_words_by_the_measures_direction() {
        let values = [12.0, 10.0, 12.0, 10.0, 12.0, 10.0, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5, 10.5, 5.0];
        let points: Vec<(String, Option<f64>)> = values.iter().enumerate().map(|(i, v)| (format!("{}-{:02}", 2025 + i / 12, i % 12 + 1), Some(*v))).collect();
        let process = |better| ProcessChart {
            kpi: "mttr".into(),
            measure: "p50_hours".into(),
            key: String::new(),
            label: "MTTR".into(),
            better,
            chart: chart(&points, Some((0, 5))).unwrap(),
        };
        let words = signals_in_words(&process(crate::kpi::Better::Lower));
        assert_eq!(words, "8 months in a row below the centre line (Jan 26–Mar 26), favourable; beyond the lower limit (Mar 26), favourable");
        assert!(signals_in_words(&process(crate::kpi::Better::Higher)).contains("unfavourable"));
        let calm = ProcessChart { chart: chart(&points[..6], None).unwrap(), ..process(crate::kpi::Better::Lower) };
        assert_eq!(signals_in_words(&calm), "none: routine variation");
    }
}
