//! Change and patch: the change failure rate, incidents after failed and successful patches,
//! and the CIs riskiest to patch.

use super::{Inputs, chart_block, find, month_labels, monthly, section, target_of, text};
use crate::evidence::comparison::number as num;
use crate::report::charts::{BarSeries, Bars, Chart, ChartKind, LineSeries, Lines, Reference};
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, format_p, format_value, low_n, month_name, thousands};

pub(crate) fn changes(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    if let Some(kpi) = find(inputs.trend, "change_failure") {
        let target = kpi.rows.first().and_then(|r| target_of(inputs, kpi, "change_failure_rate", r));
        let chart = Chart {
            name: "change_failure_rate".into(),
            title: "Change failure rate by month".into(),
            kind: ChartKind::Lines(Lines {
                x_labels: month_labels(inputs),
                x_desc: "month completed".into(),
                y_desc: "failed or caused an incident (%)".into(),
                series: vec![LineSeries {
                    name: "change failure rate".into(),
                    values: monthly(inputs, kpi, "change_failure_rate", &|_| true).into_iter().map(|v| v.map(|v| v * 100.0)).collect(),
                    whiskers: None,
                }],
                whisker_label: None,
                references: target.map(|t| Reference { label: "target".into(), value: t * 100.0, category: None }).into_iter().collect(),
                log_y: false,
            }),
        };
        blocks.push(chart_block(&chart, "Completed changes (not cancelled) that failed, were backed out, or are named as the cause of an incident.".into()));
        charts.push(chart);
    }
    let period = inputs.period.label();
    let in_period = |id: &str| find(inputs.current, id).and_then(|kpi| kpi.rows.iter().find(|r| text(r, "month") == period));
    if let Some(row) = in_period("change_failure") {
        blocks.push(Block::Paragraph(format!(
            "Emergency changes: {} of {} changes completed in {} ({}).",
            format_value(num(row, "emergency"), Scale::Count),
            format_value(num(row, "changes"), Scale::Count),
            month_name(inputs.period),
            format_value(num(row, "emergency_share"), Scale::Percent)
        )));
    }
    if let Some(row) = in_period("change_caused_incidents") {
        blocks.push(Block::Paragraph(format!(
            "Incidents caused by changes: {} of {} incidents opened in {} ({}) name the change that caused them; {} of them major, of {} major incidents.",
            format_value(num(row, "caused_by_change"), Scale::Count),
            format_value(num(row, "incidents"), Scale::Count),
            month_name(inputs.period),
            format_value(num(row, "caused_share"), Scale::Percent),
            format_value(num(row, "major_caused_by_change"), Scale::Count),
            format_value(num(row, "majors"), Scale::Count)
        )));
    }
    if let Some(kpi) = find(inputs.current, "patch_incident_correlation") {
        let group = |g: &str| kpi.rows.iter().find(|r| text(r, "outcome_group") == g);
        let groups = ["failed", "successful"];
        let chart = Chart {
            name: "patch_incident_rates".into(),
            title: format!("Incidents after patches, {}", month_name(inputs.period)),
            kind: ChartKind::Bars(Bars {
                categories: groups.iter().map(|g| format!("{g} patches (n={})", group(g).map(|r| text(r, "patches")).unwrap_or_else(|| "0".into()))).collect(),
                category_desc: "patch outcome".into(),
                value_desc: "followed by an incident on the CI (%)".into(),
                series: vec![BarSeries {
                    name: "followed by an incident".into(),
                    values: groups.iter().map(|g| group(g).and_then(|r| num(r, "rate")).map(|v| v * 100.0)).collect(),
                }],
                references: Vec::new(),
                horizontal: false,
                value_range: None,
                label_decimals: 1,
                label_suffix: "%".into(),
            }),
        };
        let first = kpi.rows.first();
        let lift = first.and_then(|r| num(r, "lift"));
        let interval = first.and_then(|r| num(r, "lift_low").zip(num(r, "lift_high")));
        let p = first.and_then(|r| num(r, "p_value"));
        let window = inputs.current.parameters.correlation_window_hours;
        let failed_patches = kpi.rows.iter().find(|r| text(r, "outcome_group") == "failed").and_then(|r| num(r, "patches")).unwrap_or(0.0);
        blocks.push(chart_block(
            &chart,
            format!(
                "Share of patches followed within {window} h by an incident on the same CI. Lift (failed ÷ successful) {}{}, from {} failed {}{}; Fisher's exact test {} (the patch finding is a test of its own, not one of the month-on-month family; the interval is asymptotic and the p-value exact, so near 0.05 they can disagree).",
                format_value(lift, Scale::Times),
                interval.map(|(low, high)| format!(" (95% CI {}–{}, Katz)", format_value(Some(low), Scale::Times), format_value(Some(high), Scale::Times))).unwrap_or_default(),
                thousands(failed_patches.round() as i64),
                if failed_patches == 1.0 { "patch" } else { "patches" },
                if low_n(failed_patches, inputs.min_n) { ", low n" } else { "" },
                p.map(format_p).unwrap_or_else(|| "not computable".into())
            ),
        ));
        charts.push(chart);
        let mut table = Table::new(&[("outcome", false), ("patches", true), ("followed by an incident", true), ("rate", true), ("named as cause", true)]);
        for row in &kpi.rows {
            table.rows.push(vec![
                Cell::plain(text(row, "outcome_group")),
                Cell::plain(text(row, "patches")),
                Cell::plain(text(row, "followed_by_incident")),
                Cell::plain(format_value(num(row, "rate"), Scale::Percent)),
                Cell::plain(text(row, "caused_by_link")),
            ]);
        }
        blocks.push(Block::Table(table));
    }
    if let Some(table) = risky_cis_table(inputs, 10) {
        blocks.push(Block::Paragraph("CIs with the most incidents after patches:".into()));
        blocks.push(Block::Table(table));
    }
    section("changes", "Change and patch", blocks)
}

pub(crate) fn risky_cis_table(inputs: &Inputs, limit: usize) -> Option<Table> {
    let kpi = find(inputs.current, "post_patch_incidents_by_ci")?;
    let mut table =
        Table::new(&[("CI", false), ("patches", true), ("failed patches", true), ("incidents after patches", true), ("after failed patches", true)]);
    for row in kpi.rows.iter().take(limit) {
        table.rows.push(vec![
            Cell::plain(text(row, "ci")),
            Cell::plain(text(row, "patches")),
            Cell::plain(text(row, "failed_patches")),
            Cell::plain(text(row, "post_patch_incidents")),
            Cell::plain(text(row, "after_failed_patches")),
        ]);
    }
    if kpi.rows.is_empty() {
        table.note = Some("No incident followed a patch on its CI in this period.".into());
    }
    Some(table)
}
