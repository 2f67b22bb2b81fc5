//! Builds the report's content from the KPI runs: the sections, tables and chart specifications,
//! in the order a monthly service review reads them. Pure data in, data out; no I/O.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::charts::{BarSeries, Bars, BoxStats, Boxes, Chart, ChartKind, LineSeries, Lines, Reference};
use super::compare::{self, Comparison, Direction, Versus, number as num};
use super::document::{Block, Cell, ChartRef, ReportDocument, Section, Table, Tone};
use super::samples::Samples;
use super::stats;
use super::targets::Targets;
use crate::ingest::LoadSummary;
use crate::kpi::document::{KpiValues, plain};
use crate::kpi::{KpiDocument, YearMonth};

/// A change needs at least this n on both sides to be called one of the biggest; smaller groups
/// swing by chance.
pub const MIN_N_FOR_HIGHLIGHT: f64 = 10.0;
/// The KPIs drawn month by month over the trend window; `mod.rs` runs only these over it.
pub const TREND_KPIS: [&str; 5] = ["mtta", "mttd", "mttr", "problem_trend", "change_failure"];

/// Rows per KPI in the benchmark table; kpis.csv and benchmark.csv hold them all.
pub const BENCHMARK_ROWS_PER_KPI: usize = 12;

pub struct Inputs<'a> {
    pub period: YearMonth,
    /// Share of the period before the cut-off, when the cut-off falls inside it.
    pub partial: Option<f64>,
    pub as_of: String,
    pub timezone: String,
    pub window: Vec<YearMonth>,
    pub trend: &'a KpiDocument,
    pub current: &'a KpiDocument,
    pub current_samples: &'a Samples,
    pub previous_label: Option<String>,
    pub comparisons: &'a [Comparison],
    pub targets: &'a Targets,
    pub kpis: &'a [crate::kpi::Kpi],
    pub load: &'a LoadSummary,
    pub coverage: Coverage,
    pub sla_description: String,
    pub notes: Vec<String>,
    pub has_baseline: bool,
    pub has_year_ago: bool,
    pub has_peers: bool,
}

/// What the incidents table spans.
pub struct Coverage {
    pub incidents: u64,
    pub first_opened: Option<String>,
    pub last_opened: Option<String>,
}

pub struct Built {
    pub document: ReportDocument,
    pub charts: Vec<Chart>,
}

pub fn month_name(month: YearMonth) -> String {
    const NAMES: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    format!("{} {}", NAMES[(month.month - 1) as usize], month.year)
}

fn short_month(label: &str) -> String {
    const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match YearMonth::parse(label, "month") {
        Ok(m) => format!("{} {:02}", NAMES[(m.month - 1) as usize], m.year % 100),
        Err(_) => label.to_string(),
    }
}

/// How a measure's numbers read: the KPI's unit, except for measures that are shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    Percent,
    Hours,
    Times,
    Count,
    Number,
}

pub fn scale(unit: &str, measure: &str) -> Scale {
    if measure == "availability" || (unit == "ratio" && measure != "lift") {
        Scale::Percent
    } else if measure == "lift" {
        Scale::Times
    } else if measure.contains("hours") || unit.contains("hours") && measure.contains("mean") {
        Scale::Hours
    } else if measure.starts_with("pct_") || measure.contains("growth") {
        Scale::Number
    } else if ["incidents", "count", "reassignments"].contains(&unit) && !measure.starts_with("mean") && !measure.starts_with("p90") {
        Scale::Count
    } else {
        Scale::Number
    }
}

pub fn format_value(value: Option<f64>, scale: Scale) -> String {
    let Some(v) = value else { return "—".into() };
    match scale {
        Scale::Percent => format!("{:.1}%", v * 100.0),
        Scale::Hours if v.abs() < 10.0 => format!("{v:.2} h"),
        Scale::Hours => format!("{v:.1} h"),
        Scale::Times => format!("{v:.2}×"),
        Scale::Count if v == v.round() => thousands(v as i64),
        Scale::Count | Scale::Number => format!("{v:.2}"),
    }
}

pub fn thousands(value: i64) -> String {
    let digits = value.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0 { format!("−{out}") } else { out }
}

fn format_n(n: Option<f64>) -> String {
    n.map(|n| format!("n={}", thousands(n.round() as i64))).unwrap_or_default()
}

fn format_p(p: f64) -> String {
    if p < 0.001 { format!("p={p:.1e}") } else { format!("p={p:.3}") }
}

fn format_q(q: f64) -> String {
    if q < 0.001 { format!("q={q:.1e}") } else { format!("q={q:.3}") }
}

/// A change in the words and units the tables use: points for shares, % otherwise, per day for
/// counts compared as rates.
fn change_text(versus: &Versus, scale: Scale) -> Option<String> {
    let change = versus.change?;
    let text = match versus.relative {
        _ if scale == Scale::Percent => format!("{:+.1} pts", change * 100.0),
        _ if change == 0.0 => "±0".to_string(),
        Some(r) => format!("{:+.1}%{}", r * 100.0, if versus.per_day { " per day" } else { "" }),
        None => format!("{change:+.2}"),
    };
    Some(text.replace('-', "−"))
}

fn measure_label(c: &Comparison) -> String {
    c.measure.replace('_', " ")
}

/// `−12.3% better, q=0.004 significant` and its tone: coloured only when significant after the
/// multiple-testing correction.
fn change_cell(versus: &Versus, scale: Scale) -> Cell {
    if !versus.listed {
        return Cell::plain("not listed then");
    }
    let Some(amount) = change_text(versus, scale) else { return Cell::plain(if versus.value.is_some() { "—" } else { "no value" }) };
    let word = match versus.direction {
        Some(Direction::Better) => "better",
        Some(Direction::Worse) => "worse",
        _ => "same",
    };
    let test = match (versus.test, versus.q_value) {
        (Some(t), Some(q)) => format!(", {} {}, {}", format_p(t.p_value), format_q(q), if versus.significant() { "significant" } else { "not significant" }),
        _ => String::new(),
    };
    let tone = match versus.direction {
        Some(Direction::Better) if versus.significant() => Tone::Good,
        Some(Direction::Worse) if versus.significant() => Tone::Bad,
        _ => Tone::Plain,
    };
    Cell::toned(format!("{amount} {word}{test}"), tone)
}

fn find<'a>(doc: &'a KpiDocument, id: &str) -> Option<&'a KpiValues> {
    doc.kpis.iter().find(|k| k.id == id)
}

fn text(row: &Map<String, Value>, column: &str) -> String {
    row.get(column).map(plain).unwrap_or_default()
}

/// Priorities present in a KPI's rows, in order.
fn priorities(kpi: &KpiValues) -> Vec<String> {
    let mut found: BTreeSet<(i64, String)> = BTreeSet::new();
    for row in &kpi.rows {
        let p = text(row, "priority");
        found.insert((p.parse().unwrap_or(i64::MAX), p));
    }
    found.into_iter().map(|(_, p)| p).collect()
}

fn priority_label(p: &str) -> String {
    if p.is_empty() { "no priority".into() } else { format!("P{p}") }
}

pub fn build(inputs: &Inputs) -> Built {
    let mut charts = Vec::new();
    let mut sections = vec![
        executive_summary(inputs),
        response_and_restoration(inputs, &mut charts),
        sla(inputs, &mut charts),
        reliability(inputs, &mut charts),
        problems(inputs, &mut charts),
        changes(inputs, &mut charts),
        benchmark(inputs),
        data_quality(inputs),
        definitions(inputs),
    ];
    // Every chart block says whether its chart has data, for renderers that show a note instead.
    for section in &mut sections {
        for block in &mut section.blocks {
            if let Block::Chart(reference) = block {
                reference.has_data = charts.iter().any(|c| c.name == reference.name && c.has_data());
            }
        }
    }
    let period = month_name(inputs.period);
    let mut subtitle = vec![match inputs.partial {
        Some(share) => format!("{period}, a partial month: data to the cut-off {} ({:.1}% of the month)", inputs.as_of, share * 100.0),
        None => format!("{period}, cut-off {}", inputs.as_of),
    }];
    subtitle.push(format!(
        "Times in {}; trends over {} to {}; {} incidents loaded.",
        inputs.timezone,
        inputs.window.first().map(|m| month_name(*m)).unwrap_or_default(),
        inputs.window.last().map(|m| month_name(*m)).unwrap_or_default(),
        thousands(inputs.coverage.incidents as i64)
    ));
    Built { document: ReportDocument { title: format!("Service report: {period}"), subtitle, sections }, charts }
}

fn section(id: &str, title: &str, blocks: Vec<Block>) -> Section {
    Section { id: id.into(), title: title.into(), blocks }
}

fn chart_block(chart: &Chart, caption: String) -> Block {
    Block::Chart(ChartRef { name: chart.name.clone(), title: chart.title.clone(), caption, has_data: chart.has_data() })
}

fn executive_summary(inputs: &Inputs) -> Section {
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
        "Each cell: the period's value, its change on the previous month (counts per day, so months of different length compare fairly; * when significant, see the benchmark table), and ✓ or ✗ where a target applies.".into(),
    ));

    let movers: Vec<&Comparison> = inputs
        .comparisons
        .iter()
        .filter(|c| {
            let Some(prev) = &c.previous else { return false };
            prev.relative.is_some()
                && prev.significant()
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
        list.sort_by(|a, b| {
            let size = |c: &Comparison| c.previous.as_ref().and_then(|p| p.relative).unwrap_or(0.0).abs();
            size(b).total_cmp(&size(a)).then_with(|| a.kpi.cmp(&b.kpi)).then_with(|| a.key.cmp(&b.key))
        });
        // One line per KPI row: its mean, p50 and p90 usually move together.
        let mut seen = Vec::new();
        list.retain(|c| {
            let row = (c.kpi.clone(), c.key.clone());
            let first = !seen.contains(&row);
            seen.push(row);
            first
        });
        blocks.push(Block::Paragraph(format!(
            "{title} on the previous month: the largest relative changes that stay significant after correcting for the {} tests made (Benjamini–Hochberg, q < {}), in rows with n ≥ {MIN_N_FOR_HIGHLIGHT}:",
            tests_made,
            compare::ALPHA
        )));
        blocks.push(Block::Bullets(if list.is_empty() { vec!["None significant.".into()] } else { list.iter().take(3).map(|c| describe(c)).collect() }));
    }

    if let Some(sla) = find(inputs.current, "sla_breach") {
        let mut rows: Vec<&Map<String, Value>> = sla.rows.iter().filter(|r| num(r, "breached").unwrap_or(0.0) > 0.0).collect();
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
    if let Some(table) = risky_cis_table(inputs, 3) {
        blocks.push(Block::Paragraph("Riskiest CIs to patch (most incidents after patches):".into()));
        blocks.push(Block::Table(table));
    }
    section("summary", "Executive summary", blocks)
}

/// One row per KPI headline measure, a column per priority (or one "all" column).
fn headline_table(inputs: &Inputs) -> Table {
    let mut all_priorities: BTreeSet<(i64, String)> = BTreeSet::new();
    // (row label, [(column, cell text, tone)])
    type Line = (String, Vec<(String, String, Tone)>);
    let mut lines: Vec<Line> = Vec::new();
    for kpi in &inputs.current.kpis {
        let keys: Vec<&str> = kpi.keys.iter().map(String::as_str).filter(|k| *k != "month").collect();
        if !keys.iter().all(|k| ["priority", "sla"].contains(k)) || !kpi.keys.iter().any(|k| k == "month") {
            continue;
        }
        let durations = kpi.unit.contains("hours");
        let Some(measure) = kpi.measures.iter().find(|m| durations && m.starts_with("p50")).or(kpi.measures.first()) else { continue };
        let variants: Vec<String> = if keys.contains(&"sla") {
            kpi.rows.iter().map(|r| text(r, "sla")).collect::<BTreeSet<_>>().into_iter().rev().collect()
        } else {
            vec![String::new()]
        };
        for variant in variants {
            let mut cells = Vec::new();
            for c in inputs.comparisons.iter().filter(|c| c.kpi == kpi.id && &c.measure == measure) {
                let field = |name: &str| c.key_values.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                if field("sla").unwrap_or_default() != variant {
                    continue;
                }
                let priority = field("priority").map(|p| priority_label(&p)).unwrap_or_else(|| "All".into());
                if priority != "All" {
                    all_priorities.insert((field("priority").and_then(|p| p.parse().ok()).unwrap_or(i64::MAX), priority.clone()));
                }
                let s = scale(&c.unit, &c.measure);
                let mut text = format_value(c.value, s);
                let mut tone = Tone::Plain;
                if let Some(prev) = &c.previous
                    && let Some(change) = change_text(prev, s)
                {
                    text.push_str(&format!(" ({change}{})", if prev.significant() { "*" } else { "" }));
                }
                if let Some(t) = &c.target {
                    text.push_str(if t.met { " ✓" } else { " ✗" });
                    tone = if t.met { Tone::Good } else { Tone::Bad };
                }
                cells.push((priority, text.replace('-', "−"), tone));
            }
            // "Mean time to resolve (MTTR)" reads as MTTR in a narrow column.
            let short = kpi.title.rsplit_once('(').and_then(|(_, a)| a.strip_suffix(')')).unwrap_or(&kpi.title);
            let measure = measure.replace('_', " ");
            let name = if variant.is_empty() { format!("{short}, {measure}") } else { format!("{short} ({variant}), {measure}") };
            lines.push((name, cells));
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

fn candidates_table(inputs: &Inputs, limit: usize) -> Option<Table> {
    let kpi = find(inputs.current, "problem_candidates")?;
    let mut table = Table::new(&[("CI", false), ("category", false), ("most in a window", true), ("incidents", true), ("first", false), ("last", false)]);
    for row in kpi.rows.iter().take(limit) {
        table.rows.push(vec![
            Cell::plain(text(row, "ci")),
            Cell::plain(text(row, "category")),
            Cell::plain(text(row, "max_in_window")),
            Cell::plain(text(row, "incidents")),
            Cell::plain(text(row, "first_opened")),
            Cell::plain(text(row, "last_opened")),
        ]);
    }
    if kpi.rows.is_empty() {
        table.note = Some("No (CI, category) pair recurred often enough to be a candidate.".into());
    } else if kpi.rows.len() > limit {
        table.note = Some(format!("{limit} of {} candidates.", kpi.rows.len()));
    }
    Some(table)
}

fn risky_cis_table(inputs: &Inputs, limit: usize) -> Option<Table> {
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

fn month_labels(inputs: &Inputs) -> Vec<String> {
    inputs.window.iter().map(|m| short_month(&m.label())).collect()
}

/// A measure by month for the rows matching `filter`, over the trend window.
fn monthly(inputs: &Inputs, kpi: &KpiValues, measure: &str, filter: &dyn Fn(&Map<String, Value>) -> bool) -> Vec<Option<f64>> {
    inputs
        .window
        .iter()
        .map(|m| {
            let label = m.label();
            kpi.rows.iter().find(|r| text(r, "month") == label && filter(r)).and_then(|r| num(r, measure))
        })
        .collect()
}

fn duration_trend(inputs: &Inputs, id: &str, what: &str) -> Option<Chart> {
    let kpi = find(inputs.trend, id)?;
    let series = priorities(kpi)
        .into_iter()
        .map(|p| {
            let is = |r: &Map<String, Value>| text(r, "priority") == p;
            LineSeries {
                name: format!("{} p50", priority_label(&p)),
                values: monthly(inputs, kpi, "p50_hours", &is),
                whiskers: Some(monthly(inputs, kpi, "p90_hours", &is)),
            }
        })
        .collect();
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

fn response_and_restoration(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = vec![Block::Paragraph(
        "Median (p50) per priority and month, with a whisker up to the 90th percentile. Exact values and n are in the benchmark table.".into(),
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
        let order = priorities(kpi);
        let boxes: Vec<Option<BoxStats>> = order
            .iter()
            .map(|p| {
                let mut values = inputs.current_samples.get("mttr", "durations", "hours", &format!("priority={p}"))?.to_vec();
                values.sort_by(f64::total_cmp);
                let q = |x: f64| stats::quantile_sorted(&values, x);
                Some(BoxStats { p10: q(0.1)?, p25: q(0.25)?, p50: q(0.5)?, p75: q(0.75)?, p90: q(0.9)?, n: values.len() })
            })
            .collect();
        let categories = order.iter().zip(&boxes).map(|(p, b)| format!("{} (n={})", priority_label(p), thousands(b.map_or(0, |b| b.n) as i64))).collect();
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

fn target_of(inputs: &Inputs, kpi: &KpiValues, measure: &str, row: &Map<String, Value>) -> Option<f64> {
    inputs.targets.find(&kpi.id, measure, row)
}

fn sla(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = vec![Block::Paragraph(format!("Policy: {}.", inputs.sla_description))];
    let Some(kpi) = find(inputs.current, "sla_breach") else {
        return section("sla", "SLA", blocks);
    };
    let order = priorities(kpi);
    let slas = ["response", "resolution"];
    let row_of = |p: &str, sla: &str| kpi.rows.iter().find(|r| text(r, "priority") == p && text(r, "sla") == sla);
    let series = slas
        .iter()
        .map(|sla| BarSeries {
            name: format!("{sla} breach rate"),
            values: order.iter().map(|p| row_of(p, sla).and_then(|r| num(r, "breach_rate")).map(|v| v * 100.0)).collect(),
        })
        .collect();
    let mut references = Vec::new();
    for (c, p) in order.iter().enumerate() {
        let targets: Vec<Option<f64>> = slas.iter().map(|sla| row_of(p, sla).and_then(|r| target_of(inputs, kpi, "breach_rate", r))).collect();
        match (targets[0], targets[1]) {
            (Some(a), Some(b)) if a == b => references.push(Reference { label: "target".into(), value: a * 100.0, category: Some(c) }),
            (a, b) => {
                for (sla, t) in slas.iter().zip([a, b]) {
                    if let Some(t) = t {
                        references.push(Reference { label: format!("{sla} target"), value: t * 100.0, category: Some(c) });
                    }
                }
            }
        }
    }
    let chart = Chart {
        name: "sla_breach_rates".into(),
        title: format!("SLA breach rate by priority, {}", month_name(inputs.period)),
        kind: ChartKind::Bars(Bars {
            categories: order.iter().map(|p| priority_label(p)).collect(),
            category_desc: "priority".into(),
            value_desc: "breached (% of clocks decided)".into(),
            series,
            references,
            horizontal: false,
            value_range: None,
            label_decimals: 1,
            label_suffix: "%".into(),
        }),
    };
    blocks.push(chart_block(&chart, "Clocks decided in the period: stopped in it, or passed their target in it. Dashed lines are targets.".into()));
    charts.push(chart);
    let mut table = Table::new(&[
        ("priority", false),
        ("SLA", false),
        ("measured", true),
        ("breached", true),
        ("breach rate", true),
        ("target", true),
        ("still open, breached", true),
    ]);
    for row in &kpi.rows {
        let target = target_of(inputs, kpi, "breach_rate", row);
        let rate = num(row, "breach_rate");
        let tone = match (rate, target) {
            (Some(r), Some(t)) if r <= t => Tone::Good,
            (Some(_), Some(_)) => Tone::Bad,
            _ => Tone::Plain,
        };
        let verdict = match (rate, target) {
            (Some(r), Some(t)) => format!("{} {}", format_value(Some(r), Scale::Percent), if r <= t { "met" } else { "missed" }),
            _ => format_value(rate, Scale::Percent),
        };
        table.rows.push(vec![
            Cell::plain(priority_label(&text(row, "priority"))),
            Cell::plain(text(row, "sla")),
            Cell::plain(text(row, "measured")),
            Cell::plain(text(row, "breached")),
            Cell::toned(verdict, tone),
            Cell::plain(format_value(target, Scale::Percent)),
            Cell::plain(text(row, "open_breached")),
        ]);
    }
    let open: f64 = kpi.rows.iter().filter_map(|r| num(r, "open_breached")).sum();
    blocks.push(Block::Table(table));
    blocks.push(Block::Paragraph(format!("{} clocks were still running past their target at the cut-off (open and breached).", thousands(open as i64))));
    section("sla", "SLA", blocks)
}

fn reliability(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    let Some(kpi) = find(inputs.current, "mtbf") else {
        return section("reliability", "Reliability", blocks);
    };
    blocks.push(Block::Paragraph(
        "Availability = (observed − downtime) / observed over the period; MTBF = uptime / failures, where a failure is a major or high-priority incident. The least available first.".into(),
    ));
    for (scope, noun) in [("ci", "configuration items"), ("service", "services")] {
        let rows: Vec<&Map<String, Value>> =
            kpi.rows.iter().filter(|r| text(r, "scope") == scope && num(r, "failures").unwrap_or(0.0) > 0.0).take(10).collect();
        let low = rows.iter().filter_map(|r| num(r, "availability")).fold(1.0f64, f64::min);
        let chart = Chart {
            name: format!("availability_{scope}"),
            title: format!("Least available {noun}, {}", month_name(inputs.period)),
            kind: ChartKind::Bars(Bars {
                categories: rows.iter().map(|r| text(r, "key")).collect(),
                category_desc: scope.into(),
                value_desc: "availability (%)".into(),
                series: vec![BarSeries { name: "availability".into(), values: rows.iter().map(|r| num(r, "availability").map(|a| a * 100.0)).collect() }],
                references: Vec::new(),
                horizontal: true,
                value_range: Some((((low * 100.0) - (100.0 - low * 100.0) * 0.25).clamp(0.0, 99.0).floor(), 100.0)),
                label_decimals: 2,
                label_suffix: "%".into(),
            }),
        };
        blocks.push(chart_block(
            &chart,
            format!("The ten {noun} with the lowest availability that had at least one failure; bars start at the axis minimum, not 0."),
        ));
        charts.push(chart);
        let mut table = Table::new(&[(scope, false), ("failures", true), ("downtime", true), ("MTBF", true), ("MTTR", true), ("availability", true)]);
        for row in &rows {
            let target = target_of(inputs, kpi, "availability", row);
            let availability = num(row, "availability");
            let tone = match (availability, target) {
                (Some(a), Some(t)) if a >= t => Tone::Good,
                (Some(_), Some(_)) => Tone::Bad,
                _ => Tone::Plain,
            };
            table.rows.push(vec![
                Cell::plain(text(row, "key")),
                Cell::plain(text(row, "failures")),
                Cell::plain(format_value(num(row, "downtime_hours"), Scale::Hours)),
                Cell::plain(format_value(num(row, "mtbf_hours"), Scale::Hours)),
                Cell::plain(format_value(num(row, "mttr_hours"), Scale::Hours)),
                Cell::toned(format_value(availability, Scale::Percent), tone),
            ]);
        }
        let total: f64 = kpi.rows.iter().filter(|r| text(r, "scope") == scope).filter_map(|r| num(r, "downtime_hours")).sum();
        let failing = kpi.rows.iter().filter(|r| text(r, "scope") == scope && num(r, "failures").unwrap_or(0.0) > 0.0).count();
        table.note = Some(format!("{failing} {noun} had failures; their downtime adds up to {}.", format_value(Some(total), Scale::Hours)));
        blocks.push(Block::Table(table));
    }
    section("reliability", "Reliability", blocks)
}

fn problems(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
    let mut blocks = Vec::new();
    if let Some(kpi) = find(inputs.trend, "problem_trend") {
        let all = |_: &Map<String, Value>| true;
        let chart = Chart {
            name: "incidents_and_problems".into(),
            title: "Incidents opened, and those linked to a problem".into(),
            kind: ChartKind::Lines(Lines {
                x_labels: month_labels(inputs),
                x_desc: "month opened".into(),
                y_desc: "incidents".into(),
                series: vec![
                    LineSeries { name: "incidents".into(), values: monthly(inputs, kpi, "incidents", &all), whiskers: None },
                    LineSeries { name: "linked to a problem".into(), values: monthly(inputs, kpi, "incidents_with_problem", &all), whiskers: None },
                ],
                whisker_label: None,
                references: Vec::new(),
                log_y: false,
            }),
        };
        blocks.push(chart_block(&chart, "Incidents by the month they were opened; the lower line counts those with a problem_id.".into()));
        charts.push(chart);
        let chart = Chart {
            name: "problems".into(),
            title: "Problems opened, resolved and open at month end".into(),
            kind: ChartKind::Lines(Lines {
                x_labels: month_labels(inputs),
                x_desc: "month".into(),
                y_desc: "problems".into(),
                series: ["problems_opened", "problems_resolved", "problems_open_at_month_end"]
                    .iter()
                    .map(|m| LineSeries { name: m.replace("problems_", "").replace('_', " "), values: monthly(inputs, kpi, m, &all), whiskers: None })
                    .collect(),
                whisker_label: None,
                references: Vec::new(),
                log_y: false,
            }),
        };
        blocks.push(chart_block(&chart, "Problem records by month; open at month end is the problem backlog.".into()));
        charts.push(chart);
        let mut table = Table::new(&[
            ("month", false),
            ("incidents", true),
            ("% linked", true),
            ("problems opened", true),
            ("growth vs first month", true),
            ("open at month end", true),
        ]);
        for (month, label) in inputs.window.iter().zip(month_labels(inputs)) {
            let Some(row) = kpi.rows.iter().find(|r| text(r, "month") == month.label()) else { continue };
            table.rows.push(vec![
                Cell::plain(label),
                Cell::plain(format_value(num(row, "incidents"), Scale::Count)),
                Cell::plain(num(row, "pct_with_problem").map(|v| format!("{v:.1}%")).unwrap_or_else(|| "—".into())),
                Cell::plain(format_value(num(row, "problems_opened"), Scale::Count)),
                Cell::plain(num(row, "problem_growth_vs_first_month").map(|v| format!("{v:+.0}%").replace('-', "−")).unwrap_or_else(|| "—".into())),
                Cell::plain(format_value(num(row, "problems_open_at_month_end"), Scale::Count)),
            ]);
        }
        table.note = Some("Growth compares each month's problems opened with the first month of the trend window.".into());
        blocks.push(Block::Table(table));
    }
    if let Some(table) = candidates_table(inputs, 10) {
        blocks.push(Block::Paragraph("Problem candidates: recurring incidents on one CI and category with no problem record.".into()));
        blocks.push(Block::Table(table));
    }
    section("problems", "Problem management", blocks)
}

fn changes(inputs: &Inputs, charts: &mut Vec<Chart>) -> Section {
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
        let p = first.and_then(|r| num(r, "p_value"));
        let window = inputs.current.parameters.correlation_window_hours;
        blocks.push(chart_block(
            &chart,
            format!(
                "Share of patches followed within {window} h by an incident on the same CI. Lift (failed ÷ successful) {}; Fisher's exact test {}.",
                format_value(lift, Scale::Times),
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

fn benchmark(inputs: &Inputs) -> Section {
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
    let mut omitted = Vec::new();
    for kpi in &inputs.current.kpis {
        let rows: Vec<&Comparison> = inputs.comparisons.iter().filter(|c| c.kpi == kpi.id).collect();
        let keys: Vec<&String> = rows.iter().map(|c| &c.key).collect::<Vec<_>>();
        let distinct: Vec<&String> = keys.iter().fold(Vec::new(), |mut acc: Vec<&String>, k| {
            if !acc.contains(k) {
                acc.push(k);
            }
            acc
        });
        if distinct.len() > BENCHMARK_ROWS_PER_KPI {
            omitted.push(format!("{} ({} of {} rows shown)", kpi.id, BENCHMARK_ROWS_PER_KPI, distinct.len()));
        }
        let shown: Vec<&String> = distinct.into_iter().take(BENCHMARK_ROWS_PER_KPI).collect();
        for (index, c) in rows.into_iter().filter(|c| shown.contains(&&c.key)).enumerate() {
            let s = scale(&c.unit, &c.measure);
            let versus = |v: &Option<Versus>| -> (Cell, Cell) {
                match v {
                    Some(v) => (Cell::plain(format!("{} {}", format_value(v.value, s), format_n(v.n)).trim().to_string()), change_cell(v, s)),
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
                Cell::plain(format_value(c.value, s)),
                Cell::plain(c.n.map(|n| thousands(n.round() as i64)).unwrap_or_else(|| "—".into())),
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
    let mut note = "Change is relative, in points for shares and per day for counts (months differ in length); better or worse follows each KPI's direction. Tests, as each KPI's header names them: Mann–Whitney U on the tickets behind duration KPIs, a two-proportion z-test on rates (Fisher's exact test where fewer than five are expected in a cell), an exact Poisson test on counts over the hours each period covers. p is each test's own p-value; q corrects it for the number of tests against the same period (Benjamini–Hochberg), and only q < 0.05 is called significant and coloured. Measures without a test get no verdict.".to_string();
    if !omitted.is_empty() {
        note.push_str(&format!(" Rows are limited per KPI: {}; kpis.csv and benchmark.csv hold every row.", omitted.join(", ")));
    }
    table.note = Some(note);
    section("benchmark", "Benchmark", vec![Block::Table(table)])
}

fn data_quality(inputs: &Inputs) -> Section {
    let load = inputs.load;
    let mut table = Table::new(&[("file", false), ("table", false), ("format", false), ("read", true), ("loaded", true), ("merged", true), ("rejected", true)]);
    for file in &load.files {
        let c = &file.counts;
        table.rows.push(vec![
            Cell::plain(&file.path),
            Cell::plain(&file.table),
            Cell::plain(format!("{:?}", file.format).to_lowercase()),
            Cell::plain(thousands(c.read as i64)),
            Cell::plain(thousands(c.loaded as i64)),
            Cell::plain(thousands(c.merged as i64)),
            Cell::toned(thousands(c.rejected as i64), if c.rejected > 0 { Tone::Bad } else { Tone::Plain }),
        ]);
    }
    let total = load.total();
    let mut blocks = vec![Block::Table(table)];
    blocks.push(Block::Paragraph(format!(
        "{} rows read: {} loaded, {} merged (duplicates and event-log rows folded into tickets), {} rejected. {}",
        thousands(total.read as i64),
        thousands(total.loaded as i64),
        thousands(total.merged as i64),
        thousands(total.rejected as i64),
        if load.reconciles() { "Every row is accounted for." } else { "The counts do not reconcile: please report this." }
    )));
    if !load.rejects_by_reason.is_empty() {
        blocks.push(Block::Paragraph("Rejected rows by reason (list them with `mttx load`):".into()));
        blocks.push(Block::Bullets(load.rejects_by_reason.iter().map(|(reason, n)| format!("{reason}: {}", thousands(*n as i64))).collect()));
    }
    let c = &inputs.coverage;
    blocks.push(Block::Paragraph(format!(
        "Incidents opened from {} to {}; cut-off {} ({}).",
        c.first_opened.as_deref().unwrap_or("—"),
        c.last_opened.as_deref().unwrap_or("—"),
        inputs.as_of,
        inputs.timezone
    )));
    section("data-quality", "Data quality", blocks)
}

fn definitions(inputs: &Inputs) -> Section {
    let items =
        inputs.kpis.iter().map(|k| format!("{} ({}; {}, better {}): {}", k.meta.title, k.id, k.meta.unit, k.meta.better.word(), k.meta.definition)).collect();
    section(
        "definitions",
        "Definitions",
        vec![Block::Paragraph("Every number above comes from these queries (`mttx catalog` prints them).".into()), Block::Bullets(items)],
    )
}
