//! The benchmark table: every measure against the previous month, a year earlier, the target,
//! a baseline and peers, with the significance tests. Lists (one row per incident or CI) are left
//! out, and a KPI's rows beyond the limit are its largest.

use super::{BENCHMARK_ROWS_PER_KPI, Inputs};
use crate::evidence::comparison::{Comparison, Versus};
use crate::report::document::{Block, Cell, Table, Tone};
use crate::report::format::{change_cell, format_n_marked, format_value, interval_text, key_label, low_n, measure_label, scale, thousands};

pub(crate) fn benchmark(inputs: &Inputs) -> Vec<Block> {
    let mut columns = vec![("KPI", false), ("row", false), ("measure", false), ("value", true), ("n", true), ("previous month", true), ("change", false)];
    if inputs.has_year_ago {
        columns.extend([("a year earlier", true), ("change", false)]);
    }
    columns.push(("target", true));
    if inputs.has_baseline {
        columns.extend([("baseline", true), ("change", false)]);
    }
    if inputs.has_peers {
        columns.extend([("peers p25–p75", true), ("among peers", false)]);
    }
    let mut table = Table::new(&columns);
    let levels = inputs.current.parameters;
    let confidence = levels.confidence;
    let period = inputs.period.label();
    let provisional: Vec<&str> = inputs.current.kpis.iter().filter(|k| k.provisional.contains(&period)).map(|k| k.id.as_str()).collect();
    let mut omitted = Vec::new();
    let mut lists = Vec::new();
    let mut at_cut_off = Vec::new();
    for kpi in &inputs.current.kpis {
        // The tickets as they stand at the cut-off have no previous month to compare with.
        if inputs.kpis.iter().any(|k| k.id == kpi.id && k.meta.at_cut_off) {
            let is_list = kpi.keys.iter().any(|k| LIST_KEYS.contains(&k.as_str()));
            if is_list { &mut lists } else { &mut at_cut_off }.push(kpi.id.clone());
            continue;
        }
        // A list (a row per incident or CI) has no month-on-month change to read.
        if kpi.keys.iter().any(|k| LIST_KEYS.contains(&k.as_str())) {
            lists.push(kpi.id.clone());
            continue;
        }
        // Rows of one CI each (mtbf by CI) are a list too; the section gives the least available.
        let per_ci = |c: &&Comparison| c.key_values.iter().any(|(k, v)| k == "scope" && v == "ci");
        if inputs.comparisons.iter().any(|c| c.kpi == kpi.id && per_ci(&c)) {
            lists.push(format!("{} by CI", kpi.id));
        }
        let rows: Vec<&Comparison> = inputs.comparisons.iter().filter(|c| c.kpi == kpi.id && !per_ci(c)).collect();
        // A KPI with more rows than the limit shows those furthest the wrong way first by its first
        // measure (the largest of a lower-is-better measure, the smallest of a higher-is-better
        // one), and for a neutral measure the largest; first-seen order on a tie.
        let mut seen = std::collections::HashSet::new();
        let mut distinct: Vec<&String> = rows.iter().map(|c| &c.key).filter(|k| seen.insert(*k)).collect();
        if distinct.len() > BENCHMARK_ROWS_PER_KPI {
            let first = kpi.measures.first();
            let sign = if first.is_some_and(|m| kpi.direction(m) == crate::kpi::Better::Higher) { -1.0 } else { 1.0 };
            let size = |key: &String| {
                rows.iter().find(|c| &c.key == key && Some(&c.measure) == first).and_then(|c| c.value).map(|v| sign * v).unwrap_or(f64::NEG_INFINITY)
            };
            distinct.sort_by(|a, b| size(b).total_cmp(&size(a)));
        }
        if distinct.len() > BENCHMARK_ROWS_PER_KPI {
            omitted.push(format!("{} ({} of {} rows shown)", kpi.id, BENCHMARK_ROWS_PER_KPI, distinct.len()));
        }
        let shown: Vec<&String> = distinct.into_iter().take(BENCHMARK_ROWS_PER_KPI).collect();
        let mut rows: Vec<&Comparison> = rows.into_iter().filter(|c| shown.contains(&&c.key)).collect();
        rows.sort_by_key(|c| shown_order(&shown, &c.key));
        for (index, c) in rows.into_iter().enumerate() {
            let s = scale(&c.kpi, &c.unit, &c.measure);
            let versus = |v: &Option<Versus>| -> (Cell, Cell) {
                match v {
                    Some(v) => {
                        (Cell::plain(format!("{} {}", format_value(v.value, s), format_n_marked(v.n, inputs.min_n)).trim().to_string()), change_cell(v, s))
                    }
                    None => (Cell::plain("—"), Cell::plain("")),
                }
            };
            let (prev, prev_change) = versus(&c.previous);
            let (year, year_change) = versus(&c.year_ago);
            let target = match &c.target {
                Some(t) => Cell::toned(
                    format!("{} {}", format_value(Some(t.value), s), if t.met { "met" } else { "missed" }),
                    if t.met { Tone::Good } else { Tone::Bad },
                ),
                None => Cell::plain("—"),
            };
            let mut row = vec![
                // The KPI's name heads its block of rows; repeating it would bury the numbers.
                Cell::plain(if index == 0 { c.title.as_str() } else { "" }),
                Cell::plain(key_label(&c.key_values)),
                Cell::plain(measure_label(c)),
                Cell::plain(format!(
                    "{}{}{}",
                    format_value(c.value, s),
                    interval_text(c.interval, confidence, s),
                    if provisional.contains(&c.kpi.as_str()) { " †" } else { "" }
                )),
                Cell::plain(match c.n {
                    Some(n) if low_n(n, inputs.min_n) => format!("{}, low n", thousands(n.round() as i64)),
                    Some(n) => thousands(n.round() as i64),
                    None => "—".into(),
                }),
                prev,
                prev_change,
            ];
            if inputs.has_year_ago {
                row.extend([year, year_change]);
            }
            row.push(target);
            if inputs.has_baseline {
                let (base, base_change) = versus(&c.baseline);
                row.extend([base, base_change]);
            }
            if inputs.has_peers {
                match &c.peer {
                    Some(p) => {
                        let q = &p.quartiles;
                        row.push(Cell::plain(format!(
                            "{} – {} (median {})",
                            format_value(Some(q.p25), s),
                            format_value(Some(q.p75), s),
                            format_value(Some(q.median), s)
                        )));
                        let tone = match p.position {
                            "top quartile" => Tone::Good,
                            "bottom quartile" => Tone::Bad,
                            _ => Tone::Plain,
                        };
                        row.push(Cell::toned(p.position, tone));
                    }
                    None => row.extend([Cell::plain("—"), Cell::plain("")]),
                }
            }
            table.rows.push(row);
        }
    }
    let mut note = format!(
        "Change is relative, in points for shares and per day for counts (months differ in length); better or worse follows each measure's direction, and a neutral measure (workload, such as volume) only changes. Each measure has its own test, as its KPI's header names it: Welch's t-test for a mean, for a median or percentile the 2×2 test of the tickets above the pooled quantile (chi-square with Yates' correction, or Fisher's exact test on small tables), a two-proportion z-test on rates (Fisher's exact test where fewer than five are expected in a cell), an exact Poisson test on counts over the hours each period covers. p is each test's own p-value; q corrects it by Benjamini–Hochberg within its family, the tests against one period (the previous month, a year earlier, the baseline: a family each), and only q < {} (the false discovery rate) is called significant and coloured. Measures without a test get no verdict. Rates show their {:.0}% Wilson interval; an n below {} is marked low n.",
        levels.fdr,
        levels.confidence * 100.0,
        inputs.min_n
    );
    if !provisional.is_empty() {
        note.push_str(" † The month has not settled: facts about it can still arrive (see the KPI's settling time in the definitions).");
    }
    if !lists.is_empty() {
        note.push_str(&format!(" Lists of incidents or CIs are left out ({}); their sections give them, and kpis.csv holds every row.", lists.join(", ")));
    }
    if !at_cut_off.is_empty() {
        note.push_str(&format!(
            " KPIs of the tickets as they stand at the cut-off ({}) have no month to compare and are left out; Flow and ageing gives them.",
            at_cut_off.join(", ")
        ));
    }
    if !omitted.is_empty() {
        note.push_str(&format!(" Rows are limited per KPI: {}; kpis.csv and benchmark.csv hold every row.", omitted.join(", ")));
    }
    table.note = Some(note);
    vec![
        Block::Paragraph("Every measure of the month against the previous month, a year earlier, its target, a baseline and peers where given:".into()),
        Block::Table(table),
    ]
}

/// Keys that make a KPI a list: one row per incident, CI or change.
const LIST_KEYS: [&str; 4] = ["id", "ci", "change", "incident"];

/// Where a row's key stands among those shown.
fn shown_order(shown: &[&String], key: &String) -> usize {
    shown.iter().position(|k| *k == key).unwrap_or(usize::MAX)
}
