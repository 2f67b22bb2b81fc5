//! Response and restoration: MTTA, MTTD and MTTR trends by priority, and the spread of the
//! period's resolution times.

use serde_json::{Map, Value};

use super::{Inputs, chart_block, find, measures, month_labels, month_sum, monthly, overall, priorities, priority_label, section, text};
use crate::evidence::comparison::number as num;
use crate::evidence::stats;
use crate::report::charts::{BoxStats, Boxes, Chart, ChartKind, LineSeries, Lines};
use crate::report::document::{Block, Section};
use crate::report::format::{Scale, month_name, scale, thousands};

/// A duration KPI's medians by month with whiskers to p90: all priorities and each priority, or
/// (`by_priority` false) all priorities alone, in the unit the report reads it in.
pub(crate) fn duration_trend(inputs: &Inputs, id: &str, what: &str, by_priority: bool) -> Option<Chart> {
    let kpi = find(inputs.trend, id)?;
    let (factor, unit) = match scale(id, &kpi.unit, "p50_hours") {
        Scale::Minutes => (60.0, "minutes"),
        Scale::Days => (1.0 / 24.0, "days"),
        _ => (1.0, kpi.unit.as_str()),
    };
    let scaled = |values: Vec<Option<f64>>| values.into_iter().map(|v| v.map(|v| v * factor)).collect::<Vec<_>>();
    let all_priorities = |r: &Map<String, Value>| overall(r);
    // All priorities first, without whiskers where priorities follow: the line the review starts from.
    let all_whiskers = (!by_priority).then(|| scaled(monthly(inputs, kpi, "p90_hours", &all_priorities)));
    let mut series = vec![LineSeries { name: "all p50".into(), values: scaled(monthly(inputs, kpi, "p50_hours", &all_priorities)), whiskers: all_whiskers }];
    if by_priority {
        series.extend(priorities(kpi).into_iter().map(|p| {
            let is = |r: &Map<String, Value>| !overall(r) && text(r, "priority") == p;
            LineSeries {
                name: format!("{} p50", priority_label(&p)),
                values: scaled(monthly(inputs, kpi, "p50_hours", &is)),
                whiskers: Some(scaled(monthly(inputs, kpi, "p90_hours", &is))),
            }
        }));
    }
    Some(Chart {
        name: format!("{id}_trend"),
        title: if by_priority {
            format!("{} by priority: median, with whiskers to p90", kpi.title)
        } else {
            format!("{}, all priorities: median, with whiskers to p90", kpi.title)
        },
        kind: ChartKind::Lines(Lines {
            x_labels: month_labels(inputs),
            x_desc: format!("month ({})", what),
            // Priorities span minutes to weeks and need a log axis; one line reads best on a linear one.
            y_desc: if by_priority { format!("{unit} (log scale)") } else { unit.to_string() },
            series,
            whisker_label: Some("p50 to p90".into()),
            references: Vec::new(),
            log_y: by_priority,
            band: None,
        }),
    })
}

pub(crate) fn response_and_restoration(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = vec![Block::Paragraph(
        "Median (p50) per priority and month, with a whisker up to the 90th percentile, and the median over all priorities together. Every month's values are in trend.csv; the month's, with n, in the appendix's benchmark table.".into(),
    )];
    for (id, what, caption, by_priority) in [
        ("mtta", "opened", "Time to acknowledge: acknowledged_at − opened_at, by month opened.".to_string(), true),
        ("mttd", "opened", mttd_caption(inputs), false),
        ("mttr", "resolved", "Time to resolve: resolved_at − opened_at, by month resolved.".to_string(), true),
    ] {
        if let Some(chart) = duration_trend(inputs, id, what, by_priority) {
            blocks.push(chart_block(&chart, caption));
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
                let values = inputs.current_samples.get("mttr", "durations", "hours", &key)?;
                let q = |x: f64| stats::quantile_sorted(values, x);
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

/// MTTD's caption: what it measures and its coverage, the share of the incidents opened whose
/// start is known, in the period and over the months shown. Detection is known for too few
/// incidents per priority to draw them apart.
fn mttd_caption(inputs: &Inputs) -> String {
    let mut caption =
        "Time to detect: opened_at − started_at, by month opened, over all priorities, where the start of the degradation (started_at) is known.".to_string();
    let (Some(mttd), Some(volume)) = (find(inputs.trend, "mttd"), find(inputs.trend, "volume")) else { return caption };
    let coverage: Vec<(String, f64, f64)> = inputs
        .window
        .iter()
        .filter_map(|m| {
            let label = m.label();
            let opened = month_sum(volume, "incidents", *m).unwrap_or(0.0);
            let detected = mttd.rows.iter().find(|r| text(r, "month") == label && overall(r)).and_then(|r| num(r, "n"))?;
            (opened > 0.0).then_some((label, detected, opened))
        })
        .collect();
    let period = inputs.period.label();
    if let Some((_, detected, opened)) = coverage.iter().find(|c| c.0 == period) {
        caption.push_str(&format!(
            " Coverage: {} of {} incidents opened in {} ({:.1}%)",
            thousands(*detected as i64),
            thousands(*opened as i64),
            month_name(inputs.period),
            100.0 * detected / opened
        ));
        let shares: Vec<f64> = coverage.iter().map(|c| 100.0 * c.1 / c.2).collect();
        let (low, high) = (shares.iter().copied().fold(f64::INFINITY, f64::min), shares.iter().copied().fold(0.0, f64::max));
        caption.push_str(&format!("; {low:.1}% to {high:.1}% in the months shown."));
    }
    caption
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
