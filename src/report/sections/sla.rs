//! The SLA section: the share of response and resolution clocks met by priority, against targets,
//! and month by month, then the reconciliation with the source tool's own flag.

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
            name: format!("{sla} met"),
            values: order.iter().map(|p| row_of(p, sla).and_then(|r| num(r, "breach_rate")).map(|v| 100.0 * (1.0 - v))).collect(),
        })
        .collect();
    let mut references = Vec::new();
    for (c, p) in order.iter().enumerate() {
        let targets: Vec<Option<f64>> = slas.iter().map(|sla| row_of(p, sla).and_then(|r| target_of(inputs, kpi, "breach_rate", r))).collect();
        match (targets[0], targets[1]) {
            (Some(a), Some(b)) if a == b => references.push(Reference { label: "target".into(), value: 100.0 * (1.0 - a), category: Some(c) }),
            (a, b) => {
                for (sla, t) in slas.iter().zip([a, b]) {
                    if let Some(t) = t {
                        references.push(Reference { label: format!("{sla} target"), value: 100.0 * (1.0 - t), category: Some(c) });
                    }
                }
            }
        }
    }
    let chart = Chart {
        name: "sla_met".into(),
        title: format!("SLA met by priority, {}", month_name(inputs.period)),
        kind: ChartKind::Bars(Bars {
            categories: order.iter().map(|p| priority_label(p)).collect(),
            category_desc: "priority".into(),
            value_desc: "met (% of clocks decided)".into(),
            series,
            references,
            horizontal: false,
            value_range: None,
            label_decimals: 1,
            label_suffix: "%".into(),
        }),
    };
    blocks.push(chart_block(
        &chart,
        "The share of clocks met among those decided in the period: stopped in it, or passed their target in it. Dashed lines are the targets, 1 − the breach-rate target.".into(),
    ));
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
        ("decided", true),
        ("met", true),
        ("% met", true),
        ("target", true),
        ("breached", true),
        ("still open, breached", true),
    ]);
    for row in &kpi.rows {
        // The policy's targets are breach rates; a review reads the share met against 1 − them.
        let target = target_of(inputs, kpi, "breach_rate", row).map(|t| 1.0 - t);
        let met = num(row, "breach_rate").map(|r| 1.0 - r);
        let tone = match (met, target) {
            (Some(m), Some(t)) if m >= t => Tone::Good,
            (Some(_), Some(_)) => Tone::Bad,
            _ => Tone::Plain,
        };
        let verdict = match (met, target) {
            (Some(m), Some(t)) => format!("{} {}", format_value(Some(m), Scale::Percent), if m >= t { "✓" } else { "✗" }),
            _ => format_value(met, Scale::Percent),
        };
        let count = |column: &str| num(row, column).unwrap_or(0.0);
        table.rows.push(vec![
            Cell::plain(row_priority_label(row)),
            Cell::plain(text(row, "sla")),
            Cell::plain(thousands(count("measured") as i64)),
            Cell::plain(thousands((count("measured") - count("breached")) as i64)),
            Cell::toned(verdict, tone),
            Cell::plain(target.map(|t| format!("≥ {}", format_value(Some(t), Scale::Percent))).unwrap_or_else(|| "none set".into())),
            Cell::plain(thousands(count("breached") as i64)),
            Cell::plain(thousands(count("open_breached") as i64)),
        ]);
    }
    let open: f64 = kpi.rows.iter().filter(|r| !overall(r)).filter_map(|r| num(r, "open_breached")).sum();
    blocks.push(Block::Table(table));
    blocks.push(Block::Paragraph(format!("{} clocks were still running past their target at the cut-off (open and breached).", thousands(open as i64))));
    blocks.extend(super::reconciliation::reconciliation(inputs));
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
