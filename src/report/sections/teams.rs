//! Teams and services: each assignment group's own time against its OLA (`groups`), then the
//! services with the worst MTTR p50 and the worst resolution breach rate in the period, each with n
//! and the change on the previous month. Groups with fewer than `--min-n` tickets are listed apart,
//! not ranked: a median of three says little.

use serde_json::{Map, Value};

use super::{Inputs, find, overall, section, text};
use crate::evidence::comparison::number as num;
use crate::kpi::{Breakdown, KpiDocument};
use crate::report::document::{Block, Cell, Section, Table};
use crate::report::format::{Scale, format_value, thousands};

/// How many groups each ranking lists.
pub const RANKED: usize = 10;

/// The KPIs the section ranks by; the report runs only these by group.
pub const KPIS: [&str; 2] = ["mttr", "sla_breach"];

/// One group's figure in the period and the month before.
struct Figure {
    group: String,
    value: Option<f64>,
    n: f64,
    previous: Option<(Option<f64>, f64)>,
}

/// One measure of one breakdown: which rows, which value and n, which way is worse.
struct Measure {
    kpi: &'static str,
    value: &'static str,
    n: &'static str,
    /// Extra key the rows must have, e.g. sla = resolution.
    filter: Option<(&'static str, &'static str)>,
    scale: Scale,
    title: &'static str,
    heading: &'static str,
}

const MEASURES: [Measure; 2] = [
    Measure { kpi: "mttr", value: "p50_hours", n: "n", filter: None, scale: Scale::Hours, title: "MTTR p50", heading: "worst MTTR p50" },
    Measure {
        kpi: "sla_breach",
        value: "breach_rate",
        n: "measured",
        filter: Some(("sla", "resolution")),
        scale: Scale::Percent,
        title: "resolution breaches",
        heading: "worst resolution breach rate",
    },
];

pub(crate) fn teams_and_services(inputs: &Inputs) -> Section {
    let mut blocks = super::groups::group_time(inputs);
    blocks.push(Block::Paragraph(format!(
        "The {RANKED} services with the worst MTTR p50 and the worst resolution SLA breach rate in {}, over all priorities, each with n and the change on the previous month. Services with fewer than {} incidents (clocks, for breaches) in the month are listed apart and not ranked: their figures swing by chance. Incidents with no service form their own group, \"(none)\".",
        crate::report::format::month_name(inputs.period),
        inputs.min_n
    )));
    if inputs.teams.is_empty() {
        blocks.push(Block::Paragraph("No breakdown was computed.".into()));
    }
    for (by, document) in inputs.teams {
        let noun = match by {
            Breakdown::AssignmentGroup => "Assignment groups",
            Breakdown::Service => "Services",
            other => other.field(),
        };
        for measure in &MEASURES {
            let figures = figures(inputs, document, *by, measure);
            let (ranked, mut small): (Vec<&Figure>, Vec<&Figure>) = figures.iter().partition(|f| f.n >= inputs.min_n as f64);
            blocks.push(Block::Paragraph(format!(
                "{noun}: {}.{}",
                measure.heading,
                match (figures.is_empty(), ranked.is_empty()) {
                    (true, _) => " Nothing in the month.",
                    (false, true) => " No group reached the minimum n.",
                    _ => "",
                }
            )));
            if !ranked.is_empty() {
                blocks.push(Block::Table(ranking(&by.field().replace('_', " "), measure, &ranked)));
            }
            if !small.is_empty() {
                small.sort_by(|a, b| b.n.total_cmp(&a.n).then_with(|| a.group.cmp(&b.group)));
                let listed: Vec<String> = small.iter().map(|f| format!("{} (n={})", f.group, thousands(f.n as i64))).collect();
                blocks.push(Block::Paragraph(format!("Not ranked, fewer than {} in the month: {}.", inputs.min_n, listed.join(", "))));
            }
        }
    }
    section("teams", "Teams and services", blocks)
}

/// The period's overall rows of the measure, worst first, with the month before where it exists.
fn figures(inputs: &Inputs, document: &KpiDocument, by: Breakdown, measure: &Measure) -> Vec<Figure> {
    let Some(kpi) = find(document, measure.kpi) else { return Vec::new() };
    let period = inputs.period.label();
    let previous = inputs.period.previous().label();
    let wanted = |r: &Map<String, Value>| overall(r) && measure.filter.is_none_or(|(k, v)| text(r, k) == v);
    let group_of = |r: &Map<String, Value>| r.get(by.field()).filter(|v| !v.is_null()).map(|_| text(r, by.field()));
    let mut figures: Vec<Figure> = kpi
        .rows
        .iter()
        .filter(|r| wanted(r) && text(r, "month") == period)
        .map(|r| {
            let group = group_of(r);
            let before = kpi.rows.iter().find(|p| wanted(p) && text(p, "month") == previous && group_of(p) == group);
            Figure {
                group: group.unwrap_or_else(|| "(none)".into()),
                value: num(r, measure.value),
                n: num(r, measure.n).unwrap_or(0.0),
                previous: before.map(|p| (num(p, measure.value), num(p, measure.n).unwrap_or(0.0))),
            }
        })
        .filter(|f| f.n > 0.0)
        .collect();
    // Worst first (both measures: higher is worse); ties by n, then name, so the order is stable.
    figures.sort_by(|a, b| {
        b.value.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.value.unwrap_or(f64::NEG_INFINITY)).then(b.n.total_cmp(&a.n)).then_with(|| a.group.cmp(&b.group))
    });
    figures
}

fn ranking(field: &str, measure: &Measure, ranked: &[&Figure]) -> Table {
    let mut table = Table::new(&[(field, false), (measure.title, true), ("n", true), ("previous month", true), ("change", true)]);
    for f in ranked.iter().take(RANKED) {
        let change = match f.previous {
            Some((Some(before), _)) => match (f.value, measure.scale) {
                (Some(now), Scale::Percent) => format!("{:+.1} pts", (now - before) * 100.0),
                (Some(now), _) if before != 0.0 => format!("{:+.1}%", (now - before) / before * 100.0),
                _ => "—".into(),
            },
            _ => "no figure".into(),
        };
        let previous = match f.previous {
            Some((value, n)) => format!("{} (n={})", format_value(value, measure.scale), thousands(n as i64)),
            None => "none".into(),
        };
        table.rows.push(vec![
            Cell::plain(f.group.clone()),
            Cell::plain(format_value(f.value, measure.scale)),
            Cell::plain(thousands(f.n as i64)),
            Cell::plain(previous),
            Cell::plain(change.replace('-', "−")),
        ]);
    }
    if ranked.len() > RANKED {
        table.note = Some(format!("{RANKED} of {} groups with enough incidents.", ranked.len()));
    }
    table
}
