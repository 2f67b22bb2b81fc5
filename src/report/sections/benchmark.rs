//! The benchmark table: every measure against the previous month, a year earlier, the target,
//! a baseline and peers, with the significance tests.

use super::{BENCHMARK_ROWS_PER_KPI, Inputs, section};
use crate::evidence::comparison::{Comparison, Versus};
use crate::report::document::{Block, Cell, Section, Table, Tone};
use crate::report::format::{change_cell, format_n_marked, format_value, interval_text, low_n, measure_label, scale, thousands};

pub(crate) fn benchmark(inputs: &Inputs) -> Section {
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
    for kpi in &inputs.current.kpis {
        let rows: Vec<&Comparison> = inputs.comparisons.iter().filter(|c| c.kpi == kpi.id).collect();
        // Row keys in first-seen order; a KPI by CI has tens of thousands of them.
        let mut seen = std::collections::HashSet::new();
        let distinct: Vec<&String> = rows.iter().map(|c| &c.key).filter(|k| seen.insert(*k)).collect();
        if distinct.len() > BENCHMARK_ROWS_PER_KPI {
            omitted.push(format!("{} ({} of {} rows shown)", kpi.id, BENCHMARK_ROWS_PER_KPI, distinct.len()));
        }
        let shown: std::collections::HashSet<&String> = distinct.into_iter().take(BENCHMARK_ROWS_PER_KPI).collect();
        for (index, c) in rows.into_iter().filter(|c| shown.contains(&c.key)).enumerate() {
            let s = scale(&c.unit, &c.measure);
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
                Cell::plain(if c.key.is_empty() { "all".to_string() } else { c.key.clone() }),
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
    if !omitted.is_empty() {
        note.push_str(&format!(" Rows are limited per KPI: {}; kpis.csv and benchmark.csv hold every row.", omitted.join(", ")));
    }
    table.note = Some(note);
    section("benchmark", "Benchmark", vec![Block::Table(table)])
}
