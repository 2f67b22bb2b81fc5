//! Change and patch: the change failure rate, incidents after failed and successful patches,
//! and the CIs riskiest to patch, with the patch family's corrected tests.

use super::{Inputs, chart_block, find, month_labels, monthly, section, target_of, text};
use crate::evidence::comparison::number as num;
use crate::evidence::patch_family::{PatchFamily, PatchTest};
use crate::report::charts::{BarSeries, Bars, Chart, ChartKind, LineSeries, Lines, Reference};
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{Scale, format_p, format_q, format_value, low_n, month_name, thousands};

pub(crate) fn changes(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    let levels = inputs.current.parameters;
    let family = PatchFamily::of(inputs.current);
    let window = levels.correlation_window_hours;
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
                band: None,
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
        let failed_patches = kpi.rows.iter().find(|r| text(r, "outcome_group") == "failed").and_then(|r| num(r, "patches")).unwrap_or(0.0);
        let test = match (p, family.q_of(&PatchTest::Lift)) {
            (Some(p), Some(q)) => format!(
                "Fisher's exact test {}, {} in the patch family, {}",
                format_p(p),
                format_q(q),
                if family.significant(&PatchTest::Lift) { "significant" } else { "not significant" }
            ),
            _ => "no test (a group has no patches)".into(),
        };
        blocks.push(chart_block(
            &chart,
            format!(
                "Share of patches followed within {window} h by an incident on the same CI. Lift (failed ÷ successful) {}{}, from {} failed {}{}; {test}. The interval is asymptotic and the p-value exact, and the verdict follows the q, so the interval and the verdict can disagree.",
                format_value(lift, Scale::Times),
                interval
                    .map(|(low, high)| format!(" ({:.0}% CI {}–{}, Katz)", levels.confidence * 100.0, format_value(Some(low), Scale::Times), format_value(Some(high), Scale::Times)))
                    .unwrap_or_default(),
                thousands(failed_patches.round() as i64),
                if failed_patches == 1.0 { "patch" } else { "patches" },
                if low_n(failed_patches, inputs.min_n) { ", low n" } else { "" },
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
    if let Some(table) = risk_table(inputs, &family, 10) {
        blocks.push(Block::Paragraph(format!(
            "Riskiest CIs to patch: each CI with at least {} patches in {}, its incident rate in the {window} h after them against its own rate in the 90 days before them, outside any post-patch window. Rate ratio with its {:.0}% interval (log method); exact conditional Poisson rate test. The patch family, corrected together by Benjamini–Hochberg, holds {}; q < {} is significant.",
            inputs.current.parameters.risk_min_patches,
            month_name(inputs.period),
            levels.confidence * 100.0,
            family_members(&family),
            levels.fdr,
        )));
        blocks.push(Block::Table(table));
    }
    blocks.extend(super::measures::measures_blocks(
        inputs,
        &|id| ["change_failure", "change_caused_incidents"].contains(&id),
        "Change failure, emergency changes and incidents caused by changes",
    ));
    section("changes", "Change and patch", blocks)
}

/// The family's tests in words: "the lift's test and 3 CIs' rate tests".
fn family_members(family: &PatchFamily) -> String {
    let cis = family.q.keys().filter(|t| matches!(t, PatchTest::Ci(_))).count();
    let lift = family.q.contains_key(&PatchTest::Lift);
    match (lift, cis) {
        (_, 0) if lift => "the lift's test alone".into(),
        (_, 0) => "no test".into(),
        (true, 1) => "the lift's test and one CI's rate test".into(),
        (true, n) => format!("the lift's test and {n} CIs' rate tests"),
        (false, 1) => "one CI's rate test".into(),
        (false, n) => format!("{n} CIs' rate tests"),
    }
}

/// The CIs riskiest to patch, at most `limit`, most convincingly risky first (by the lower end of
/// the rate ratio's interval), with each CI's q in the patch family.
pub(crate) fn risk_table(inputs: &Inputs, family: &PatchFamily, limit: usize) -> Option<Table> {
    let kpi = find(inputs.current, "patch_risk_by_ci")?;
    let confidence = inputs.current.parameters.confidence;
    let mut table = Table::new(&[
        ("CI", false),
        ("patches (failed)", true),
        ("incidents after patches", true),
        ("baseline incidents", true),
        ("rate ratio", true),
        ("test", false),
    ]);
    let per_day = |count: &str, rate: &str, row: &serde_json::Map<String, serde_json::Value>| {
        format!("{} ({}/day)", text(row, count), num(row, rate).map(|r| format!("{r:.2}")).unwrap_or_else(|| "—".into()))
    };
    for row in kpi.rows.iter().take(limit) {
        let patches = num(row, "patches").unwrap_or(0.0);
        let ci = text(row, "ci");
        let test = PatchTest::Ci(ci.clone());
        let ratio = match (num(row, "rate_ratio"), num(row, "rate_ratio_low").zip(num(row, "rate_ratio_high"))) {
            (Some(r), Some((low, high))) => format!("{r:.2}× ({:.0}% CI {low:.2}–{high:.2})", confidence * 100.0),
            (None, Some((low, high))) => format!("no baseline incident ({:.0}% CI {low:.2}–{high:.2})", confidence * 100.0),
            (Some(r), None) => format!("{r:.2}×"),
            (None, None) => "—".into(),
        };
        let tested = match (num(row, "p_value"), family.q_of(&test)) {
            (Some(p), Some(q)) => {
                let significant = family.significant(&test);
                let worse = num(row, "rate_ratio_low").is_some_and(|low| low > 1.0);
                let tone = if significant && worse { Tone::Bad } else { Tone::Plain };
                Cell::toned(format!("{} {}, {}", format_p(p), format_q(q), if significant { "significant" } else { "not significant" }), tone)
            }
            _ if num(row, "post_patch_hours").unwrap_or(0.0) <= 0.0 || num(row, "baseline_hours").unwrap_or(0.0) <= 0.0 => {
                Cell::plain("no test: no time before or after the patches")
            }
            _ => Cell::plain("no test: no incidents"),
        };
        table.rows.push(vec![
            Cell::plain(ci),
            Cell::plain(format!("{} ({}){}", text(row, "patches"), text(row, "failed_patches"), if low_n(patches, inputs.min_n) { ", low n" } else { "" })),
            Cell::plain(per_day("post_patch_incidents", "post_patch_rate", row)),
            Cell::plain(per_day("baseline_incidents", "baseline_rate", row)),
            Cell::plain(ratio),
            tested,
        ]);
    }
    if kpi.rows.is_empty() {
        table.note = Some(format!(
            "No CI had {} or more patches in this period; give --risk-min-patches to test CIs with fewer.",
            inputs.current.parameters.risk_min_patches
        ));
    } else if kpi.rows.len() > limit {
        table.note = Some(format!("{} of {} tested CIs shown; kpis.csv holds them all.", limit, kpi.rows.len()));
    }
    Some(table)
}
