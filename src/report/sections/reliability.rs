//! Reliability: MTBF and availability by service and CI.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, section, target_of, text};
use crate::evidence::comparison::number as num;
use crate::report::charts::{BarSeries, Bars, Chart, ChartKind};
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{Scale, format_value, month_name};

pub(crate) fn reliability(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    let Some(kpi) = find(inputs.current, "mtbf") else {
        return section("reliability", "Reliability", blocks);
    };
    blocks.push(Block::Paragraph(
        "Availability = (observed − downtime) / observed over the period; MTBF = uptime / failures, where a failure is a major or high-priority incident. The least available first.".into(),
    ));
    for (scope, noun) in [("ci", "configuration items"), ("service", "services")] {
        let rows: Vec<&Map<String, Value>> =
            kpi.rows.iter().filter(|r| text(r, "scope") == scope && num(r, "failures").unwrap_or(0.0) > 0.0).take(10).collect();
        let low = rows.iter().filter_map(|r| num(r, "availability")).fold(1.0f64, f64::min);
        let chart = Chart {
            name: format!("availability_{scope}"),
            title: format!("Least available {noun}, {}", month_name(inputs.period)),
            kind: ChartKind::Bars(Bars {
                categories: rows.iter().map(|r| text(r, "key")).collect(),
                category_desc: scope.into(),
                value_desc: "availability (%)".into(),
                series: vec![BarSeries { name: "availability".into(), values: rows.iter().map(|r| num(r, "availability").map(|a| a * 100.0)).collect() }],
                references: Vec::new(),
                horizontal: true,
                value_range: Some((((low * 100.0) - (100.0 - low * 100.0) * 0.25).clamp(0.0, 99.0).floor(), 100.0)),
                label_decimals: 2,
                label_suffix: "%".into(),
            }),
        };
        blocks.push(chart_block(
            &chart,
            format!("The ten {noun} with the lowest availability that had at least one failure; bars start at the axis minimum, not 0."),
        ));
        charts.push(chart);
        let mut table = Table::new(&[(scope, false), ("failures", true), ("downtime", true), ("MTBF", true), ("mean outage", true), ("availability", true)]);
        for row in &rows {
            let target = target_of(inputs, kpi, "availability", row);
            let availability = num(row, "availability");
            let tone = match (availability, target) {
                (Some(a), Some(t)) if a >= t => Tone::Good,
                (Some(_), Some(_)) => Tone::Bad,
                _ => Tone::Plain,
            };
            table.rows.push(vec![
                Cell::plain(text(row, "key")),
                Cell::plain(text(row, "failures")),
                Cell::plain(format_value(num(row, "downtime_hours"), Scale::Hours)),
                Cell::plain(format_value(num(row, "mtbf_hours"), Scale::Hours)),
                Cell::plain(format_value(num(row, "mean_outage_hours"), Scale::Hours)),
                Cell::toned(format_value(availability, Scale::Percent), tone),
            ]);
        }
        let total: f64 = kpi.rows.iter().filter(|r| text(r, "scope") == scope).filter_map(|r| num(r, "downtime_hours")).sum();
        let failing = kpi.rows.iter().filter(|r| text(r, "scope") == scope && num(r, "failures").unwrap_or(0.0) > 0.0).count();
        table.note = Some(format!("{failing} {noun} had failures; their downtime adds up to {}.", format_value(Some(total), Scale::Hours)));
        blocks.push(Block::Table(table));
    }
    section("reliability", "Reliability", blocks)
}
