//! Response and restoration: MTTA, MTTD and MTTR trends by priority, and the spread of the
//! period's resolution times.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, month_labels, monthly, overall, priorities, priority_label, section, text};
use crate::evidence::stats;
use crate::report::charts::{BoxStats, Boxes, Chart, ChartKind, LineSeries, Lines};
use crate::report::document::{Block, Section};
use crate::report::format::{month_name, thousands};

pub(crate) fn duration_trend(inputs: &Inputs, id: &str, what: &str) -> Option<Chart> {
    let kpi = find(inputs.trend, id)?;
    let all_priorities = |r: &Map<String, Value>| overall(r);
    // All priorities first, without whiskers: the line the review starts from.
    let mut series = vec![LineSeries { name: "all p50".into(), values: monthly(inputs, kpi, "p50_hours", &all_priorities), whiskers: None }];
    series.extend(priorities(kpi).into_iter().map(|p| {
        let is = |r: &Map<String, Value>| !overall(r) && text(r, "priority") == p;
        LineSeries {
            name: format!("{} p50", priority_label(&p)),
            values: monthly(inputs, kpi, "p50_hours", &is),
            whiskers: Some(monthly(inputs, kpi, "p90_hours", &is)),
        }
    }));
    Some(Chart {
        name: format!("{id}_trend"),
        title: format!("{} by priority: median, with whiskers to p90", kpi.title),
        kind: ChartKind::Lines(Lines {
            x_labels: month_labels(inputs),
            x_desc: format!("month ({})", what),
            y_desc: format!("{} (log scale)", kpi.unit),
            series,
            whisker_label: Some("p50 to p90".into()),
            references: Vec::new(),
            log_y: true,
        }),
    })
}

pub(crate) fn response_and_restoration(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = vec![Block::Paragraph(
        "Median (p50) per priority and month, with a whisker up to the 90th percentile, and the median over all priorities together. Exact values and n are in the benchmark table.".into(),
    )];
    for (id, what, caption) in [
        ("mtta", "opened", "Time to acknowledge: acknowledged_at − opened_at, by month opened."),
        ("mttd", "opened", "Time to detect: opened_at − started_at, by month opened, where the start of the degradation is known."),
        ("mttr", "resolved", "Time to resolve: resolved_at − opened_at, by month resolved."),
    ] {
        if let Some(chart) = duration_trend(inputs, id, what) {
            blocks.push(chart_block(&chart, caption.into()));
            charts.push(chart);
        }
    }
    if let Some(kpi) = find(inputs.current, "mttr") {
        // All priorities first (an empty label), then each.
        let order: Vec<Option<String>> = std::iter::once(None).chain(priorities(kpi).into_iter().map(Some)).collect();
        let boxes: Vec<Option<BoxStats>> = order
            .iter()
            .map(|p| {
                let key = match p {
                    Some(p) => format!("scope=priority,priority={p}"),
                    None => "scope=all,priority=".to_string(),
                };
                let mut values = inputs.current_samples.get("mttr", "durations", "hours", &key)?.to_vec();
                values.sort_by(f64::total_cmp);
                let q = |x: f64| stats::quantile_sorted(&values, x);
                Some(BoxStats { p10: q(0.1)?, p25: q(0.25)?, p50: q(0.5)?, p75: q(0.75)?, p90: q(0.9)?, n: values.len() })
            })
            .collect();
        let label = |p: &Option<String>| p.as_deref().map(priority_label).unwrap_or_else(|| "all".into());
        let categories = order.iter().zip(&boxes).map(|(p, b)| format!("{} (n={})", label(p), thousands(b.map_or(0, |b| b.n) as i64))).collect();
        let chart = Chart {
            name: "resolution_distribution".into(),
            title: format!("Resolution times in {} by priority", month_name(inputs.period)),
            kind: ChartKind::Boxes(Boxes {
                categories,
                category_desc: "priority".into(),
                value_desc: "hours to resolve (log scale)".into(),
                boxes,
                legend: "box p25–p75, bar median, whiskers p10–p90".into(),
            }),
        };
        blocks.push(chart_block(&chart, "The period's resolved incidents (as MTTR counts them): the spread behind each median.".into()));
        charts.push(chart);
    }
    section("response", "Response and restoration", blocks)
}
