//! Flow: incidents opened against incidents resolved, month by month, with the month-end backlog
//! they leave, then what stands open at the cut-off (`ageing`).

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, month_labels, month_sum, monthly, overall, section};
use crate::report::charts::{Chart, ChartKind, LineSeries, Lines};
use crate::report::document::Section;

pub(crate) fn flow(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    if let Some(chart) = opened_and_resolved(inputs) {
        blocks.push(chart_block(
            &chart,
            "Incidents opened in each month (the volume rows summed), resolved in it (MTTR's n over all priorities) and open at its end (the backlog). While more are opened than resolved, the backlog grows. Every month's values are in trend.csv.".into(),
        ));
        charts.push(chart);
    }
    blocks.extend(super::ageing::backlog_by_age(inputs));
    blocks.extend(super::ageing::running_clocks(inputs));
    section("flow", "Flow and ageing", blocks)
}

fn opened_and_resolved(inputs: &Inputs) -> Option<Chart> {
    let volume = find(inputs.trend, "volume")?;
    let mttr = find(inputs.trend, "mttr")?;
    let opened: Vec<Option<f64>> = inputs.window.iter().map(|m| Some(month_sum(volume, "incidents", *m).unwrap_or(0.0))).collect();
    let all = |r: &Map<String, Value>| overall(r);
    let mut series = vec![
        LineSeries { name: "opened".into(), values: opened, whiskers: None },
        LineSeries { name: "resolved".into(), values: monthly(inputs, mttr, "n", &all), whiskers: None },
    ];
    if let Some(backlog) = find(inputs.trend, "backlog") {
        series.push(LineSeries { name: "open at month end".into(), values: monthly(inputs, backlog, "open_incidents", &all), whiskers: None });
    }
    Some(Chart {
        name: "opened_resolved".into(),
        title: "Incidents opened and resolved by month".into(),
        kind: ChartKind::Lines(Lines {
            x_labels: month_labels(inputs),
            x_desc: "month".into(),
            y_desc: "incidents".into(),
            series,
            whisker_label: None,
            references: Vec::new(),
            log_y: false,
            band: None,
        }),
    })
}
