//! The SLA section: breach rates by priority for response and resolution, against targets, and
//! the share of clocks met month by month.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, month_labels, monthly, overall, priorities, priority_label, row_priority_label, section, target_of, text};
use crate::evidence::comparison::number as num;
use crate::report::charts::{BarSeries, Bars, Chart, ChartKind, LineSeries, Lines, Reference};
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{Scale, format_value, month_name, thousands};

pub(crate) fn sla(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = vec![Block::Paragraph(format!("Policy: {}.", inputs.sla_description))];
    let Some(kpi) = find(inputs.current, "sla_breach") else {
        return section("sla", "SLA", blocks);
    };
    let order = priorities(kpi);
    let slas = ["response", "resolution"];
    let row_of = |p: &str, sla: &str| kpi.rows.iter().find(|r| !overall(r) && text(r, "priority") == p && text(r, "sla") == sla);
    let series = slas
        .iter()
        .map(|sla| BarSeries {
            name: format!("{sla} breach rate"),
            values: order.iter().map(|p| row_of(p, sla).and_then(|r| num(r, "breach_rate")).map(|v| v * 100.0)).collect(),
        })
        .collect();
    let mut references = Vec::new();
    for (c, p) in order.iter().enumerate() {
        let targets: Vec<Option<f64>> = slas.iter().map(|sla| row_of(p, sla).and_then(|r| target_of(inputs, kpi, "breach_rate", r))).collect();
        match (targets[0], targets[1]) {
            (Some(a), Some(b)) if a == b => references.push(Reference { label: "target".into(), value: a * 100.0, category: Some(c) }),
            (a, b) => {
                for (sla, t) in slas.iter().zip([a, b]) {
                    if let Some(t) = t {
                        references.push(Reference { label: format!("{sla} target"), value: t * 100.0, category: Some(c) });
                    }
                }
            }
        }
    }
    let chart = Chart {
        name: "sla_breach_rates".into(),
        title: format!("SLA breach rate by priority, {}", month_name(inputs.period)),
        kind: ChartKind::Bars(Bars {
            categories: order.iter().map(|p| priority_label(p)).collect(),
            category_desc: "priority".into(),
            value_desc: "breached (% of clocks decided)".into(),
            series,
            references,
            horizontal: false,
            value_range: None,
            label_decimals: 1,
            label_suffix: "%".into(),
        }),
    };
    blocks.push(chart_block(&chart, "Clocks decided in the period: stopped in it, or passed their target in it. Dashed lines are targets.".into()));
    charts.push(chart);
    if let Some(chart) = compliance_trend(inputs) {
        blocks.push(chart_block(
            &chart,
            "The share of clocks met, month by month over the trend window, for all priorities and for P1 and P2; dashed lines are the targets (1 − the breach-rate target). The process-behaviour charts judge whether a move is more than routine variation.".into(),
        ));
        charts.push(chart);
    }
    let mut table = Table::new(&[
        ("priority", false),
        ("SLA", false),
        ("measured", true),
        ("breached", true),
        ("breach rate", true),
        ("target", true),
        ("still open, breached", true),
    ]);
    for row in &kpi.rows {
        let target = target_of(inputs, kpi, "breach_rate", row);
        let rate = num(row, "breach_rate");
        let tone = match (rate, target) {
            (Some(r), Some(t)) if r <= t => Tone::Good,
            (Some(_), Some(_)) => Tone::Bad,
            _ => Tone::Plain,
        };
        let verdict = match (rate, target) {
            (Some(r), Some(t)) => format!("{} {}", format_value(Some(r), Scale::Percent), if r <= t { "met" } else { "missed" }),
            _ => format_value(rate, Scale::Percent),
        };
        table.rows.push(vec![
            Cell::plain(row_priority_label(row)),
            Cell::plain(text(row, "sla")),
            Cell::plain(text(row, "measured")),
            Cell::plain(text(row, "breached")),
            Cell::toned(verdict, tone),
            Cell::plain(format_value(target, Scale::Percent)),
            Cell::plain(text(row, "open_breached")),
        ]);
    }
    let open: f64 = kpi.rows.iter().filter(|r| !overall(r)).filter_map(|r| num(r, "open_breached")).sum();
    blocks.push(Block::Table(table));
    blocks.push(Block::Paragraph(format!("{} clocks were still running past their target at the cut-off (open and breached).", thousands(open as i64))));
    section("sla", "SLA", blocks)
}

/// SLA compliance by month: the share of response and resolution clocks met, for all priorities
/// and for P1 and P2, with each distinct target as a dashed line.
fn compliance_trend(inputs: &Inputs) -> Option<Chart> {
    let kpi = find(inputs.trend, "sla_breach")?;
    let mut series = Vec::new();
    let mut references: Vec<Reference> = Vec::new();
    for priority in [None, Some("1"), Some("2")] {
        for sla in ["response", "resolution"] {
            let is = |r: &Map<String, Value>| {
                text(r, "sla") == sla
                    && match priority {
                        None => overall(r),
                        Some(p) => !overall(r) && text(r, "priority") == p,
                    }
            };
            let values: Vec<Option<f64>> = monthly(inputs, kpi, "breach_rate", &is).into_iter().map(|v| v.map(|v| 100.0 * (1.0 - v))).collect();
            let who = priority.map(priority_label).unwrap_or_else(|| "all".into());
            if let Some(target) = kpi.rows.iter().find(|r| is(r)).and_then(|r| target_of(inputs, kpi, "breach_rate", r)) {
                let value = 100.0 * (1.0 - target);
                match references.iter_mut().find(|r| r.value == value) {
                    Some(r) if !r.label.contains(&who) => r.label = format!("{}, {who}", r.label),
                    Some(_) => {}
                    None => references.push(Reference { label: format!("target {value:.1}%: {who}"), value, category: None }),
                }
            }
            series.push(LineSeries { name: format!("{sla}, {who}"), values, whiskers: None });
        }
    }
    Some(Chart {
        name: "sla_compliance".into(),
        title: "SLA met by month".into(),
        kind: ChartKind::Lines(Lines {
            x_labels: month_labels(inputs),
            x_desc: "month (decided)".into(),
            y_desc: "met (% of clocks decided)".into(),
            series,
            whisker_label: None,
            references,
            log_y: false,
            band: None,
        }),
    })
}
