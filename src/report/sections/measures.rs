//! The comparison tables of headline measures (the SQL headers' `headline:`) that a section shows
//! by priority: each cell the month's value, its change on the previous month and its target
//! verdict. The first page has its own compact table; these sit in the sections of their KPIs.

use std::collections::BTreeSet;

use super::{Inputs, priority_label, text};
use crate::evidence::comparison::number as num;
use crate::kpi::catalog::Headline;
use crate::kpi::document::KpiValues;
use crate::report::document::{Block, Cell, Table, Tone};
use crate::report::format::{Scale, change_text, format_value, scale};

/// The table of the headline measures of the KPIs `ids` names, in the catalog's order, with the
/// note that says how to read a cell; None when none of them ran.
pub(crate) fn measures_blocks(inputs: &Inputs, ids: &dyn Fn(&str) -> bool, what: &str) -> Vec<Block> {
    let table = headline_table(inputs, ids);
    if table.rows.is_empty() {
        return Vec::new();
    }
    vec![
        Block::Paragraph(format!("{what}, for {}:", crate::report::format::month_name(inputs.period))),
        Block::Table(table),
        Block::Paragraph(
            "Each cell: the month's value, its change on the previous month (counts per day, so months of different length compare fairly; * when significant, see the appendix), and ✓ or ✗ where a target applies; † marks a month that has not settled. All is the figure over every incident of the month, not an average of the priorities.".into(),
        ),
    ]
}

/// One row per headline measure (the SQL header's `headline:`), with a short label; a column for
/// all priorities together and one per priority. KPIs without a priority fill the "All" column.
fn headline_table(inputs: &Inputs, ids: &dyn Fn(&str) -> bool) -> Table {
    let mut all_priorities: BTreeSet<(i64, String)> = BTreeSet::new();
    // (row label, [(column, cell text, tone)])
    type Line = (String, Vec<(String, String, Tone)>);
    let mut lines: Vec<Line> = Vec::new();
    for kpi in inputs.current.kpis.iter().filter(|k| ids(&k.id)) {
        let Some(meta) = inputs.kpis.iter().find(|k| k.id == kpi.id) else { continue };
        let keys: Vec<&str> = kpi.keys.iter().map(String::as_str).filter(|k| *k != "month").collect();
        if !keys.iter().all(|k| ["scope", "priority", "sla"].contains(k)) || !kpi.keys.iter().any(|k| k == "month") {
            continue;
        }
        let headline: Vec<Headline> = if meta.meta.headline.is_empty() {
            // A KPI of the user's own: its first measure (the median for durations), under its title.
            let durations = kpi.unit.contains("hours");
            let Some(measure) = kpi.measures.iter().find(|m| durations && m.starts_with("p50")).or(kpi.measures.first()) else { continue };
            vec![Headline { measure: measure.clone(), label: kpi.title.clone() }]
        } else {
            meta.meta.headline.clone()
        };
        let variants: Vec<String> = if keys.contains(&"sla") {
            kpi.rows.iter().map(|r| text(r, "sla")).collect::<BTreeSet<_>>().into_iter().rev().collect()
        } else {
            vec![String::new()]
        };
        for entry in &headline {
            for variant in &variants {
                let label = entry.label.replace("{sla}", variant);
                let cells = if kpi.measures.contains(&entry.measure) {
                    compared_cells(inputs, kpi, &entry.measure, variant, &mut all_priorities)
                } else {
                    plain_cell(inputs, kpi, &entry.measure).into_iter().collect()
                };
                lines.push((label, cells));
            }
        }
    }
    let priorities: Vec<String> = all_priorities.into_iter().map(|(_, p)| p).collect();
    let mut columns: Vec<(&str, bool)> = vec![("KPI", false), ("All", true)];
    columns.extend(priorities.iter().map(|p| (p.as_str(), true)));
    let mut table = Table::new(&columns);
    for (name, cells) in lines {
        let mut row = vec![Cell::plain(name)];
        for column in std::iter::once("All".to_string()).chain(priorities.iter().cloned()) {
            row.push(cells.iter().find(|(p, _, _)| *p == column).map(|(_, t, tone)| Cell::toned(t.clone(), *tone)).unwrap_or_else(|| Cell::plain("")));
        }
        table.rows.push(row);
    }
    table
}

/// A value that may break only between itself and its change: "19.4 h (−12.3%*) ✓".
fn headline_text(value: String, change: Option<String>, mark: &str) -> String {
    let keep = |t: &str| t.replace(' ', "\u{a0}");
    let mut text = keep(&value);
    if let Some(change) = change {
        text.push(' ');
        text.push_str(&keep(&format!("({change})")));
    }
    text.push_str(mark);
    text.replace('-', "−")
}

/// The cells of a measure the report compared with the previous month and the targets.
fn compared_cells(inputs: &Inputs, kpi: &KpiValues, measure: &str, variant: &str, priorities: &mut BTreeSet<(i64, String)>) -> Vec<(String, String, Tone)> {
    let mut cells = Vec::new();
    for c in inputs.comparisons.iter().filter(|c| c.kpi == kpi.id && c.measure == measure) {
        if c.key_value("sla").unwrap_or_default() != variant {
            continue;
        }
        let column = match (c.key_value("scope"), c.key_value("priority")) {
            (Some("all"), _) | (_, None) => "All".to_string(),
            (_, Some(p)) => {
                let label = priority_label(p);
                priorities.insert((p.parse().unwrap_or(i64::MAX), label.clone()));
                label
            }
        };
        let s = scale(&c.kpi, &c.unit, &c.measure);
        let change = c.previous.as_ref().and_then(|prev| change_text(prev, s).map(|t| format!("{t}{}", if prev.significant { "*" } else { "" })));
        let (mark, tone) = match &c.target {
            Some(t) if t.met => ("\u{a0}✓", Tone::Good),
            Some(_) => ("\u{a0}✗", Tone::Bad),
            None => ("", Tone::Plain),
        };
        // A month that has not settled is marked; the note under the table says until when.
        let mark = if kpi.provisional.contains(&inputs.period.label()) { format!("{mark}\u{a0}†") } else { mark.to_string() };
        cells.push((column, headline_text(format_value(c.value, s), change, &mark), tone));
    }
    cells
}

/// A value the report does not compare (not one of the KPI's measures), from the period's row.
fn plain_cell(inputs: &Inputs, kpi: &KpiValues, measure: &str) -> Option<(String, String, Tone)> {
    let month = inputs.period.label();
    let row = kpi.rows.iter().find(|r| text(r, "month") == month)?;
    let value = num(row, measure);
    let shown = match scale(&kpi.id, &kpi.unit, measure) {
        Scale::Pct if measure.contains("growth") => value.map(|v| format!("{v:+.1}%")).unwrap_or_else(|| "—".into()),
        s => format_value(value, s),
    };
    let mark = if kpi.provisional.contains(&month) { "\u{a0}†" } else { "" };
    Some(("All".into(), headline_text(shown, None, mark), Tone::Plain))
}
