//! Process behaviour: XmR charts of the headline measures over the trend window, and the signals
//! they give in words, favourable or not.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, month_labels, month_sum, monthly, overall, section, text};
use crate::evidence::xmr::{self, ProcessChart};
use crate::report::charts::{Band, Chart, ChartKind, LineSeries, Lines, Reference};
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, format_value, month_abbrev, scale};

/// How a charted series comes from its KPI's rows.
#[derive(Clone, Copy)]
enum Series {
    /// The measure as the KPI gives it.
    Value,
    /// The share of the SLA's clocks met, 1 − breach_rate, for the SLA named.
    Met(&'static str),
    /// The measure summed over the month's rows, per day of the month the data covers.
    PerDay,
}

/// One charted headline measure.
struct Headline {
    kpi: &'static str,
    measure: &'static str,
    series: Series,
    /// None: the overall row (all priorities), or the KPI's only row.
    priority: Option<&'static str>,
    label: &'static str,
    /// The chart's file name.
    name: &'static str,
}

const fn headline(
    kpi: &'static str,
    measure: &'static str,
    series: Series,
    priority: Option<&'static str>,
    label: &'static str,
    name: &'static str,
) -> Headline {
    Headline { kpi, measure, series, priority, label, name }
}

/// The measures charted, for all priorities and as small multiples for P1 and P2.
const HEADLINES: [Headline; 18] = [
    headline("mttr", "p50_hours", Series::Value, None, "MTTR median, all priorities", "xmr_mttr_all"),
    headline("mttr", "p50_hours", Series::Value, Some("1"), "MTTR median, P1", "xmr_mttr_1"),
    headline("mttr", "p50_hours", Series::Value, Some("2"), "MTTR median, P2", "xmr_mttr_2"),
    headline("mtta", "p50_hours", Series::Value, None, "MTTA median, all priorities", "xmr_mtta_all"),
    headline("mtta", "p50_hours", Series::Value, Some("1"), "MTTA median, P1", "xmr_mtta_1"),
    headline("mtta", "p50_hours", Series::Value, Some("2"), "MTTA median, P2", "xmr_mtta_2"),
    headline("sla_breach", "met_share", Series::Met("resolution"), None, "Resolution SLA met, all priorities", "xmr_sla_resolution_all"),
    headline("sla_breach", "met_share", Series::Met("resolution"), Some("1"), "Resolution SLA met, P1", "xmr_sla_resolution_1"),
    headline("sla_breach", "met_share", Series::Met("resolution"), Some("2"), "Resolution SLA met, P2", "xmr_sla_resolution_2"),
    headline("sla_breach", "met_share", Series::Met("response"), None, "Response SLA met, all priorities", "xmr_sla_response_all"),
    headline("sla_breach", "met_share", Series::Met("response"), Some("1"), "Response SLA met, P1", "xmr_sla_response_1"),
    headline("sla_breach", "met_share", Series::Met("response"), Some("2"), "Response SLA met, P2", "xmr_sla_response_2"),
    headline("backlog", "open_incidents", Series::Value, None, "Open backlog at month end, all priorities", "xmr_backlog_all"),
    headline("backlog", "open_incidents", Series::Value, Some("1"), "Open backlog at month end, P1", "xmr_backlog_1"),
    headline("backlog", "open_incidents", Series::Value, Some("2"), "Open backlog at month end, P2", "xmr_backlog_2"),
    headline("volume", "incidents_per_day", Series::PerDay, None, "Incidents opened per day", "xmr_volume_all"),
    headline("major_incidents", "major_incidents_per_day", Series::PerDay, None, "Major incidents opened per day", "xmr_major_incidents_all"),
    headline("change_failure", "change_failure_rate", Series::Value, None, "Change failure rate", "xmr_change_failure_all"),
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
        .filter_map(|h| {
            let kpi = find(inputs.trend, h.kpi)?;
            let sla = match h.series {
                Series::Met(sla) => Some(sla),
                _ => None,
            };
            let matches = |r: &Map<String, Value>| {
                let row = match h.priority {
                    None => overall(r) || text(r, "scope").is_empty(),
                    Some(p) => !overall(r) && text(r, "priority") == p,
                };
                row && sla.is_none_or(|s| text(r, "sla") == s)
            };
            let values = match h.series {
                Series::Value => monthly(inputs, kpi, h.measure, &matches),
                Series::Met(_) => monthly(inputs, kpi, "breach_rate", &matches).into_iter().map(|v| v.map(|v| 1.0 - v)).collect(),
                Series::PerDay => per_day(inputs, kpi),
            };
            let points: Vec<(String, Option<f64>)> = labels.iter().cloned().zip(values).collect();
            let chart = xmr::chart(&points, limits)?;
            let mut key = match h.priority {
                None if kpi.keys.iter().any(|k| k == "scope") => "scope=all,priority=".to_string(),
                None => String::new(),
                Some(p) => format!("scope=priority,priority={p}"),
            };
            if let Some(sla) = sla {
                key.push_str(&format!(",sla={sla}"));
            }
            let better = match h.series {
                Series::Met(_) => crate::kpi::Better::Higher,
                // Volume is workload; fewer major incidents is better.
                Series::PerDay => kpi.direction(kpi.measures.first().map(String::as_str).unwrap_or_default()),
                Series::Value => kpi.direction(h.measure),
            };
            Some(ProcessChart { kpi: h.kpi.into(), measure: h.measure.into(), key, label: h.label.into(), better, chart })
        })
        .collect()
}

/// The chart file of a process chart.
fn chart_name(p: &ProcessChart) -> &'static str {
    HEADLINES.iter().find(|h| h.kpi == p.kpi && h.label == p.label).map(|h| h.name).unwrap_or("xmr")
}

/// Each month's rows of `kpi` summed, per day of the month before the cut-off, so a short month
/// and the partial month of the cut-off compare with the others.
fn per_day(inputs: &Inputs, kpi: &crate::kpi::document::KpiValues) -> Vec<Option<f64>> {
    let measure = kpi.measures.first().cloned().unwrap_or_default();
    inputs
        .window
        .iter()
        .map(|m| {
            let days = inputs.days_covered(*m);
            month_sum(kpi, &measure, *m).filter(|_| days > 0.0).map(|total| total / days)
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
        let shown = scale(&p.kpi, &unit, &p.measure);
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
        let month = month_abbrev(&signal.month);
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
    // Drawn in the unit the text reads: % for shares, minutes for acknowledgement.
    let (factor, axis) = match shown {
        Scale::Percent => (100.0, "%".to_string()),
        Scale::Minutes => (60.0, "minutes".to_string()),
        Scale::Days => (1.0 / 24.0, "days".to_string()),
        _ if p.measure.ends_with("_per_day") => (1.0, format!("{unit} per day")),
        _ => (1.0, unit.to_string()),
    };
    for r in &mut references {
        r.value *= factor;
    }
    let band = target_band(inputs, p, shown).map(|(from, to, label)| Band { label, from: from * factor, to: to * factor });
    Chart {
        name: chart_name(p).to_string(),
        title: format!("{}: process behaviour", p.label),
        kind: ChartKind::Lines(Lines {
            x_labels: month_labels(inputs),
            x_desc: "month".into(),
            y_desc: axis,
            series: vec![LineSeries { name: p.label.clone(), values: p.chart.points.iter().map(|pt| pt.value.map(|v| v * factor)).collect(), whiskers: None }],
            whisker_label: None,
            references,
            log_y: false,
            band,
        }),
    }
}

/// The values that meet the chart's target, where its row has one: up to it for a lower-is-better
/// measure, from it for a higher-is-better one (SLAs met, from 1 − the breach-rate target).
fn target_band(inputs: &Inputs, p: &ProcessChart, shown: Scale) -> Option<(f64, f64, String)> {
    let row: Map<String, Value> = crate::kpi::document::key_pairs_of(&p.key).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    if p.measure == "met_share" {
        let target = 1.0 - inputs.targets.find(&p.kpi, "breach_rate", &row)?;
        return Some((target, 1.0, format!("target ≥ {}", format_value(Some(target), shown))));
    }
    let target = inputs.targets.find(&p.kpi, &p.measure, &row)?;
    match p.better {
        crate::kpi::Better::Lower => Some((0.0, target, format!("target ≤ {}", format_value(Some(target), shown)))),
        crate::kpi::Better::Higher => Some((target, f64::INFINITY, format!("target ≥ {}", format_value(Some(target), shown)))),
        crate::kpi::Better::Neutral => None,
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
        assert_eq!(words, "8 months in a row below the centre line (Jan 2026–Mar 2026), favourable; beyond the lower limit (Mar 2026), favourable");
        assert!(signals_in_words(&process(crate::kpi::Better::Higher)).contains("unfavourable"));
        let calm = ProcessChart { chart: chart(&points[..6], None).unwrap(), ..process(crate::kpi::Better::Lower) };
        assert_eq!(signals_in_words(&calm), "none: routine variation");
    }
}
