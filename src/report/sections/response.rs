//! Response and restoration: MTTA, MTTD and MTTR trends by priority, and the spread of the
//! period's resolution times.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, measures, month_labels, monthly, overall, priorities, priority_label, section, text};
use crate::evidence::comparison::number as num;
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
    blocks.extend(measures::measures_blocks(
        inputs,
        &|id| ["mttd", "mttr_business", "mtrs", "reopen_rate", "first_contact_resolution", "reassignment"].contains(&id),
        "Detection, restoration on business hours and to service, reopens, first contact and reassignments",
    ));
    if let Some(note) = first_contact_note(inputs) {
        blocks.push(Block::Paragraph(note));
    }
    section("response", "Response and restoration", blocks)
}

/// What first-contact resolution rests on in the period: the source's flag, the service desk
/// groups of the SLA policy, or nothing (then the figure is not given, and this says how to give it).
fn first_contact_note(inputs: &Inputs) -> Option<String> {
    let period = inputs.period.label();
    let kpi = find(inputs.current, "first_contact_resolution")?;
    let row = kpi.rows.iter().find(|r| text(r, "month") == period && text(r, "by_group").is_empty())?;
    let count = |column: &str| num(row, column).unwrap_or(0.0);
    if count("resolved") == 0.0 {
        return None;
    }
    let monitoring = match count("monitoring") {
        0.0 => String::new(),
        n => format!(" {} machine-raised incidents (monitoring contact types) are left out.", thousands(n as i64)),
    };
    Some(if num(row, "fcr_rate").is_none() {
        format!(
            "First-contact resolution is not given for {}: no first-contact flag is mapped, and no resolved incident belongs to a service desk group of the SLA policy (`[first_contact] service_desk_groups`); first-group resolution, {} of {}, is given beside it.{monitoring}",
            month_name(inputs.period),
            thousands(count("resolved_by_first_group") as i64),
            thousands(count("first_group_measured") as i64),
        )
    } else {
        format!(
            "First-contact resolution: {} of the {} incidents decided were resolved at first contact (decided by the source's flag: {}; by the service desk rule, a service desk group resolving it never reassigned or reopened: {}; resolved by the desk in all: {}); undecided and left out: {}. Resolved by the first group assigned, a different indicator: {} of {}.{monitoring}",
            thousands(count("first_contact") as i64),
            thousands(count("measured") as i64),
            thousands(count("by_flag") as i64),
            thousands((count("measured") - count("by_flag")) as i64),
            thousands(count("desk_resolved") as i64),
            thousands(count("unknown") as i64),
            thousands(count("resolved_by_first_group") as i64),
            thousands(count("first_group_measured") as i64),
        )
    })
}
