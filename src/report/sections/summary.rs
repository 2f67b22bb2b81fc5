//! The executive summary: the headline table of each KPI by priority, the biggest significant
//! movers on the previous month, the worst SLA breach rates, and the top problem candidates and
//! risky CIs.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::{Inputs, MIN_N_FOR_HIGHLIGHT, find, overall, priority_label, section, text};
use crate::evidence::comparison::{self as compare, Comparison, Direction, number as num};
use crate::evidence::patch_family::PatchFamily;
use crate::kpi::catalog::Headline;
use crate::kpi::document::KpiValues;
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{Scale, change_text, format_n, format_p, format_q, format_value, measure_label, month_name, scale, thousands};
use crate::report::sections::changes::risk_table;
use crate::report::sections::problems::candidates_table;

pub(crate) fn executive_summary(inputs: &Inputs) -> Section {
    let mut blocks = Vec::new();
    let against = match &inputs.previous_label {
        Some(previous) => format!("against {previous}"),
        None => "with no previous month in the data".into(),
    };
    let mut intro = format!("Headline KPIs for {} {against}, and against targets ({}).", month_name(inputs.period), inputs.targets.origin);
    for note in &inputs.notes {
        intro.push(' ');
        intro.push_str(note);
    }
    blocks.push(Block::Paragraph(intro));
    blocks.push(Block::Table(headline_table(inputs)));
    blocks.push(Block::Paragraph(
        "Each cell: the period's value, its change on the previous month (counts per day, so months of different length compare fairly; * when significant, see the benchmark table), and ✓ or ✗ where a target applies. All is the figure over every incident of the month, not an average of the priorities. Incidents with a problem and the growth of problems opened (against the base month, see Problem management) are the month's values.".into(),
    ));
    if let Some(note) = provisional_note(inputs) {
        blocks.push(Block::Paragraph(note));
    }
    if let Some(note) = first_contact_note(inputs) {
        blocks.push(Block::Paragraph(note));
    }

    let movers: Vec<&Comparison> = inputs
        .comparisons
        .iter()
        .filter(|c| {
            let Some(prev) = &c.previous else { return false };
            prev.relative.is_some()
                && prev.significant
                && matches!(prev.direction, Some(Direction::Better | Direction::Worse))
                && c.n.is_none_or(|n| n >= MIN_N_FOR_HIGHLIGHT)
                && prev.n.is_none_or(|n| n >= MIN_N_FOR_HIGHLIGHT)
        })
        .collect();
    let tests_made = compare::tests_against_previous(inputs.comparisons);
    let describe = |c: &Comparison| {
        let prev = c.previous.as_ref().expect("filtered");
        let s = scale(&c.unit, &c.measure);
        let key = if c.key.is_empty() { String::new() } else { format!(" ({})", c.key) };
        let test = match (prev.test, prev.q_value) {
            (Some(t), Some(q)) => format!("; {} {}, {}", t.method.name(), format_p(t.p_value), format_q(q)),
            _ => String::new(),
        };
        format!(
            "{} {}{key}: {} against {} ({}; {} vs {}{test})",
            c.title,
            measure_label(c),
            format_value(c.value, s),
            format_value(prev.value, s),
            change_text(prev, s).unwrap_or_default(),
            format_n(c.n),
            format_n(prev.n)
        )
    };
    for (title, wanted) in [("Biggest improvements", Direction::Better), ("Biggest deteriorations", Direction::Worse)] {
        let mut list: Vec<&&Comparison> = movers.iter().filter(|c| c.previous.as_ref().and_then(|p| p.direction) == Some(wanted)).collect();
        // Largest first; on a tie the row of one priority before the overall one, which says less.
        let overall_row = |c: &Comparison| c.key_values.iter().any(|(k, v)| k == "scope" && v == "all");
        list.sort_by(|a, b| {
            let size = |c: &Comparison| c.previous.as_ref().and_then(|p| p.relative).unwrap_or(0.0).abs();
            size(b).total_cmp(&size(a)).then_with(|| overall_row(a).cmp(&overall_row(b))).then_with(|| a.kpi.cmp(&b.kpi)).then_with(|| a.key.cmp(&b.key))
        });
        // One line per KPI: its rows and its mean, p50 and p90 usually move together.
        let mut seen = Vec::new();
        list.retain(|c| {
            let first = !seen.contains(&c.kpi);
            seen.push(c.kpi.clone());
            first
        });
        blocks.push(Block::Paragraph(format!(
            "{title} on the previous month: the largest relative changes that stay significant after correcting for the {} tests made (Benjamini–Hochberg, q < {}), in rows with n ≥ {MIN_N_FOR_HIGHLIGHT}, one per KPI:",
            tests_made,
            inputs.current.parameters.fdr
        )));
        blocks.push(Block::Bullets(if list.is_empty() { vec!["None significant.".into()] } else { list.iter().take(3).map(|c| describe(c)).collect() }));
    }

    if let Some(sla) = find(inputs.current, "sla_breach") {
        let mut rows: Vec<&Map<String, Value>> = sla.rows.iter().filter(|r| !overall(r) && num(r, "breached").unwrap_or(0.0) > 0.0).collect();
        rows.sort_by(|a, b| num(b, "breach_rate").unwrap_or(0.0).total_cmp(&num(a, "breach_rate").unwrap_or(0.0)));
        blocks.push(Block::Paragraph("Worst SLA breach rates:".into()));
        blocks.push(Block::Bullets(if rows.is_empty() {
            vec!["No breaches.".into()]
        } else {
            rows.iter()
                .take(3)
                .map(|r| {
                    format!(
                        "{} {}: {} breached ({} of {}), {} still open",
                        priority_label(&text(r, "priority")),
                        text(r, "sla"),
                        format_value(num(r, "breach_rate"), Scale::Percent),
                        thousands(num(r, "breached").unwrap_or(0.0) as i64),
                        thousands(num(r, "measured").unwrap_or(0.0) as i64),
                        thousands(num(r, "open_breached").unwrap_or(0.0) as i64)
                    )
                })
                .collect()
        }));
    }
    if let Some(table) = candidates_table(inputs, 3) {
        blocks.push(Block::Paragraph("Top problem candidates:".into()));
        blocks.push(Block::Table(table));
    }
    // Only when some CI was tested: the section says why none was.
    if let Some(table) = risk_table(inputs, &PatchFamily::of(inputs.current), 3).filter(|t| !t.rows.is_empty()) {
        blocks.push(Block::Paragraph("Riskiest CIs to patch (post-patch incident rate against the CI's own baseline):".into()));
        blocks.push(Block::Table(table));
    }
    section("summary", "Executive summary", blocks)
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

/// One row per headline measure (the SQL header's `headline:`), with a short label; a column for
/// all priorities together and one per priority. KPIs without a priority fill the "All" column.
pub(crate) fn headline_table(inputs: &Inputs) -> Table {
    let mut all_priorities: BTreeSet<(i64, String)> = BTreeSet::new();
    // (row label, [(column, cell text, tone)])
    type Line = (String, Vec<(String, String, Tone)>);
    let mut lines: Vec<Line> = Vec::new();
    for kpi in &inputs.current.kpis {
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
    table.id = Some("headline".into());
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
        let field = |name: &str| c.key_values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if field("sla").unwrap_or_default() != variant {
            continue;
        }
        let column = match (field("scope").as_deref(), field("priority")) {
            (Some("all"), _) | (_, None) => "All".to_string(),
            (_, Some(p)) => {
                let label = priority_label(&p);
                priorities.insert((p.parse().unwrap_or(i64::MAX), label.clone()));
                label
            }
        };
        let s = scale(&c.unit, &c.measure);
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

/// The headline measures whose month has not settled by the cut-off (their KPI's `settles:`), with
/// the latest settled month's value where that is the previous month.
fn provisional_note(inputs: &Inputs) -> Option<String> {
    let period = inputs.period.label();
    let zone: chrono_tz::Tz = inputs.timezone.parse().unwrap_or(chrono_tz::UTC);
    let as_of = crate::time::parse_iso(&inputs.as_of, zone)?;
    let mut items = Vec::new();
    for kpi in inputs.current.kpis.iter().filter(|k| k.provisional.contains(&period)) {
        let Some(meta) = inputs.kpis.iter().find(|k| k.id == kpi.id) else { continue };
        let settle = crate::time::days_micros(kpi.settles_days);
        let previous = inputs.period.previous();
        let previous_settled = previous.next().start(zone).saturating_add(settle) <= as_of;
        for entry in &meta.meta.headline {
            let all = inputs.comparisons.iter().find(|c| {
                c.kpi == kpi.id
                    && c.measure == entry.measure
                    && c.key_values.iter().all(|(k, v)| k != "scope" || v == "all")
                    && c.key_values.iter().all(|(k, _)| k != "sla")
            });
            let settled = match all.and_then(|c| c.previous.as_ref().and_then(|p| p.value).map(|v| (c, v))) {
                Some((c, value)) if previous_settled => {
                    format!("; {}, settled: {}", month_name(previous), format_value(Some(value), scale(&c.unit, &c.measure)))
                }
                _ => String::new(),
            };
            items.push(format!("{} (settles {} after the month{settled})", entry.label.replace("{sla}", "").trim(), crate::time::days(kpi.settles_days)));
        }
    }
    (!items.is_empty()).then(|| {
        format!(
            "† Provisional: facts about {} can still arrive (reopens, problem and change links), so these figures may still change: {}.",
            month_name(inputs.period),
            items.join("; ")
        )
    })
}

/// A value the report does not compare (not one of the KPI's measures), from the period's row.
fn plain_cell(inputs: &Inputs, kpi: &KpiValues, measure: &str) -> Option<(String, String, Tone)> {
    let month = inputs.period.label();
    let row = kpi.rows.iter().find(|r| text(r, "month") == month)?;
    let value = num(row, measure);
    let shown = match scale(&kpi.unit, measure) {
        Scale::Pct if measure.contains("growth") => value.map(|v| format!("{v:+.1}%")).unwrap_or_else(|| "—".into()),
        s => format_value(value, s),
    };
    let mark = if kpi.provisional.contains(&month) { "\u{a0}†" } else { "" };
    Some(("All".into(), headline_text(shown, None, mark), Tone::Plain))
}
