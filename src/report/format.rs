//! How the report writes numbers: scales chosen from a KPI's unit and measure, values, counts with
//! thousands separators, changes, n, p- and q-values, and month names.

use super::document::{Cell, Tone};
use crate::evidence::comparison::{Comparison, Direction, Versus};
use crate::kpi::YearMonth;

const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/// "Sep": a month's name cut to three letters.
fn abbreviation(month: YearMonth) -> &'static str {
    &MONTHS[(month.month - 1) as usize][..3]
}

pub fn month_name(month: YearMonth) -> String {
    format!("{} {}", MONTHS[(month.month - 1) as usize], month.year)
}

pub(crate) fn short_month(label: &str) -> String {
    match label.parse::<YearMonth>() {
        Ok(m) => format!("{} {:02}", abbreviation(m), m.year % 100),
        Err(_) => label.to_string(),
    }
}

/// An instant of the data (RFC 3339) as the report writes times, in the reporting time zone:
/// "2026-10-31 14:25"; "—" for none, and the text itself if it is not a time.
pub(crate) fn local_time(raw: &str, timezone: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t.with_timezone(&timezone).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) if raw.is_empty() => "—".into(),
        Err(_) => raw.to_string(),
    }
}

/// `local_time` with the zone, for a time that stands alone in a sentence: "2026-10-31 14:25 UTC".
pub(crate) fn instant(raw: &str, timezone: chrono_tz::Tz) -> String {
    match chrono::DateTime::parse_from_rfc3339(raw) {
        Ok(t) => t.with_timezone(&timezone).format("%Y-%m-%d %H:%M %Z").to_string(),
        Err(_) => local_time(raw, timezone),
    }
}

/// "Sep 2026", for text; charts' axes use `short_month`'s "Sep 26".
pub(crate) fn month_abbrev(label: &str) -> String {
    match label.parse::<YearMonth>() {
        Ok(m) => format!("{} {}", abbreviation(m), m.year),
        Err(_) => label.to_string(),
    }
}

/// How a measure's numbers read: the KPI's unit, except for measures that are shares.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// A ratio shown as a percentage.
    Percent,
    /// Already a percentage (`pct_…`, growth): shown with a % sign.
    Pct,
    Hours,
    /// Hours shown in minutes: acknowledgement, which takes minutes.
    Minutes,
    /// Hours shown in days: problems, which take weeks.
    Days,
    Times,
    Count,
    Number,
}

/// The KPIs whose hours read in minutes (acknowledgement) and in days (problem management); the
/// data stays in hours.
const IN_MINUTES: [&str; 1] = ["mtta"];
const IN_DAYS: [&str; 1] = ["problem_resolution"];

pub fn scale(kpi: &str, unit: &str, measure: &str) -> Scale {
    let hours = unit_scale(unit, measure);
    if hours == Scale::Hours && (IN_MINUTES.contains(&kpi) || measure.contains("hours_to_acknowledge")) {
        Scale::Minutes
    } else if hours == Scale::Hours && IN_DAYS.contains(&kpi) {
        Scale::Days
    } else {
        hours
    }
}

fn unit_scale(unit: &str, measure: &str) -> Scale {
    if measure == "availability" || measure.ends_with("_availability") || measure.ends_with("_share") || (unit == "ratio" && measure != "lift") {
        Scale::Percent
    } else if measure == "lift" {
        Scale::Times
    } else if measure.contains("hours") || unit.contains("hours") && measure.contains("mean") {
        Scale::Hours
    } else if measure.starts_with("pct_") || measure.contains("growth") {
        Scale::Pct
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
        Scale::Pct => format!("{v:.1}%"),
        Scale::Hours if v.abs() < 10.0 => format!("{v:.2} h"),
        Scale::Hours => format!("{v:.1} h"),
        Scale::Minutes if v.abs() < 1.0 / 6.0 => format!("{:.1} min", v * 60.0),
        Scale::Minutes => format!("{} min", thousands((v * 60.0).round() as i64)),
        Scale::Days => format!("{:.1} d", v / 24.0),
        Scale::Times => format!("{v:.2}×"),
        Scale::Count if v == v.round() => thousands(v as i64),
        Scale::Count => format!("{v:.1}"),
        Scale::Number => format!("{v:.2}"),
    }
}

/// A clock's time or target in words: minutes under an hour ("15 min"), whole hours bare ("8 h"),
/// else hours to one decimal ("11.2 h"); "—" for none.
pub(crate) fn duration(hours: Option<f64>) -> String {
    match hours {
        None => "—".into(),
        Some(h) if h.abs() < 1.0 => format!("{} min", (h * 60.0).round() as i64),
        Some(h) if h == h.round() => format!("{} h", thousands(h as i64)),
        Some(h) => format!("{h:.1} h"),
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

pub(crate) fn format_n(n: Option<f64>) -> String {
    n.map(|n| format!("n={}", thousands(n.round() as i64))).unwrap_or_default()
}

/// `n=18, low n` where n is below `min_n` (but not 0, which has no figure to doubt): a figure on
/// a few tickets swings by chance.
pub(crate) fn format_n_marked(n: Option<f64>, min_n: u64) -> String {
    match n {
        Some(count) if low_n(count, min_n) => format!("{}, low n", format_n(n)),
        _ => format_n(n),
    }
}

/// Whether a figure rests on fewer than `min_n` tickets, and on some.
pub(crate) fn low_n(n: f64, min_n: u64) -> bool {
    n > 0.0 && n < min_n as f64
}

/// A rate's interval in its measure's scale: ` (95% CI 9.7%–41.9%)`; empty without one.
pub(crate) fn interval_text(interval: Option<(f64, f64)>, confidence: f64, scale: Scale) -> String {
    match interval {
        Some((low, high)) => format!(" ({:.0}% CI {}–{})", confidence * 100.0, format_value(Some(low), scale), format_value(Some(high), scale)),
        None => String::new(),
    }
}

pub fn format_p(p: f64) -> String {
    if p < 0.001 { format!("p={p:.1e}") } else { format!("p={p:.3}") }
}

pub fn format_q(q: f64) -> String {
    if q < 0.001 { format!("q={q:.1e}") } else { format!("q={q:.3}") }
}

/// A change in the words and units the tables use: points for shares, % otherwise, per day for
/// counts compared as rates.
pub(crate) fn change_text(versus: &Versus, scale: Scale) -> Option<String> {
    let change = versus.change?;
    let text = match versus.relative {
        _ if scale == Scale::Percent => format!("{:+.1} pts", change * 100.0),
        _ if scale == Scale::Pct => format!("{change:+.1} pts"),
        _ if change == 0.0 => "±0".to_string(),
        Some(r) => format!("{:+.1}%{}", r * 100.0, if versus.per_day { " per day" } else { "" }),
        None => format!("{change:+.2}"),
    };
    Some(text.replace('-', "−"))
}

/// A row's key in words: "P1, response", "all priorities", "Application, P3"; "all" for a KPI's
/// only row and "none" for a blank value (the group of tickets without one).
pub(crate) fn key_label(key_values: &[(String, String)]) -> String {
    let field = |name: &str| crate::evidence::comparison::key_value(key_values, name);
    let mut parts = Vec::new();
    for (column, value) in key_values {
        match (column.as_str(), value.as_str()) {
            ("month", _) => {}
            ("scope", "all") => parts.push("all priorities".to_string()),
            ("scope", "priority") => {}
            ("scope", other) => parts.push(other.to_string()),
            ("priority", "") if field("scope") == Some("all") => {}
            ("priority", "") => parts.push("no priority".into()),
            ("priority", p) => parts.push(format!("P{p}")),
            (_, "") => parts.push("none".into()),
            (_, v) => parts.push(v.to_string()),
        }
    }
    if parts.is_empty() { "all".into() } else { parts.join(", ") }
}

/// `key_label` of a key as text, `scope=priority,priority=4` → "P4", for keys held only as text.
pub(crate) fn key_text_label(key: &str) -> String {
    key_label(&crate::kpi::document::key_pairs_of(key))
}

pub(crate) fn measure_label(c: &Comparison) -> String {
    // The unit is in the value ("69 min", "5.07 h"), so `p50_hours` reads "p50".
    c.measure.strip_suffix("_hours").unwrap_or(&c.measure).replace('_', " ")
}

/// `−12.3% better, q=0.004 significant` and its tone: coloured only when significant after the
/// multiple-testing correction.
pub(crate) fn change_cell(versus: &Versus, scale: Scale) -> Cell {
    if !versus.listed {
        return Cell::plain("not listed then");
    }
    let Some(amount) = change_text(versus, scale) else { return Cell::plain(if versus.value.is_some() { "—" } else { "no value" }) };
    let word = match versus.direction {
        Some(Direction::Better) => "better",
        Some(Direction::Worse) => "worse",
        // A neutral measure's change is information, never better or worse.
        Some(Direction::Changed) => "changed",
        Some(Direction::Same) | None => "same",
    };
    let test = match (versus.test, versus.q_value) {
        (Some(t), Some(q)) => format!(", {} {}, {}", format_p(t.p_value), format_q(q), if versus.significant { "significant" } else { "not significant" }),
        _ => String::new(),
    };
    let tone = match versus.direction {
        Some(Direction::Better) if versus.significant => Tone::Good,
        Some(Direction::Worse) if versus.significant => Tone::Bad,
        _ => Tone::Plain,
    };
    Cell::toned(format!("{amount} {word}{test}"), tone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::stats::{Method, TestResult};

    fn versus(change: Option<f64>, relative: Option<f64>, per_day: bool) -> Versus {
        Versus {
            label: "September 2026".into(),
            listed: true,
            value: Some(1.0),
            n: Some(20.0),
            per_day,
            change,
            relative,
            direction: Some(Direction::Worse),
            test: None,
            q_value: None,
            significant: false,
        }
    }

    #[test]
    fn durations_read_in_minutes_under_an_hour() {
        assert_eq!(duration(Some(0.25)), "15 min");
        assert_eq!(duration(Some(0.416)), "25 min");
        assert_eq!(duration(Some(8.0)), "8 h");
        assert_eq!(duration(Some(1200.0)), "1,200 h");
        assert_eq!(duration(Some(11.23)), "11.2 h");
        assert_eq!(duration(None), "—");
    }

    #[test]
    fn scales_follow_unit_and_measure() {
        assert_eq!(scale("sla_breach", "ratio", "breach_rate"), Scale::Percent);
        assert_eq!(scale("patch_incident_correlation", "ratio", "lift"), Scale::Times);
        assert_eq!(scale("mtbf", "hours", "availability"), Scale::Percent);
        assert_eq!(scale("mttr", "hours", "p50_hours"), Scale::Hours);
        assert_eq!(scale("mtbf", "hours", "mean_between_failures"), Scale::Hours);
        assert_eq!(scale("volume", "incidents", "incidents"), Scale::Count);
        assert_eq!(scale("reassignment", "incidents", "p90_reassignments"), Scale::Number);
        assert_eq!(scale("problem_trend", "incidents", "pct_with_problem"), Scale::Pct);
        assert_eq!(scale("problem_trend", "incidents", "problem_growth_vs_base"), Scale::Pct);
        assert_eq!(scale("major_incidents", "incidents", "problem_share"), Scale::Percent);
        // Acknowledgement reads in minutes and problems in days; the data stays in hours.
        assert_eq!(scale("mtta", "hours", "p50_hours"), Scale::Minutes);
        assert_eq!(scale("major_incidents", "incidents", "p50_hours_to_acknowledge"), Scale::Minutes);
        assert_eq!(scale("problem_resolution", "hours", "p50_hours"), Scale::Days);
        assert_eq!(format_value(Some(1.15), Scale::Minutes), "69 min");
        assert_eq!(format_value(Some(0.07), Scale::Minutes), "4.2 min");
        assert_eq!(format_value(Some(180.0), Scale::Days), "7.5 d");
        assert_eq!(format_value(Some(14.2857), Scale::Pct), "14.3%");
    }

    #[test]
    fn values_read_in_their_scale() {
        assert_eq!(format_value(None, Scale::Hours), "—");
        assert_eq!(format_value(Some(0.1234), Scale::Percent), "12.3%");
        assert_eq!(format_value(Some(4.0), Scale::Hours), "4.00 h");
        assert_eq!(format_value(Some(12.345), Scale::Hours), "12.3 h");
        assert_eq!(format_value(Some(2.777), Scale::Times), "2.78×");
        assert_eq!(format_value(Some(1234567.0), Scale::Count), "1,234,567");
        assert_eq!(format_value(Some(2.5), Scale::Count), "2.5");
        assert_eq!(thousands(-1000), "−1,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(format_n(Some(12345.4)), "n=12,345");
        assert_eq!(format_n(None), "");
    }

    #[test]
    fn changes_read_in_points_percent_or_per_day() {
        // Shares change in points: 0.05 → 5.0 points; minus signs are typographic.
        assert_eq!(change_text(&versus(Some(-0.05), Some(-0.2), false), Scale::Percent).unwrap(), "−5.0 pts");
        assert_eq!(change_text(&versus(Some(1.5), Some(0.25), false), Scale::Hours).unwrap(), "+25.0%");
        assert_eq!(change_text(&versus(Some(3.0), Some(0.1), true), Scale::Count).unwrap(), "+10.0% per day");
        assert_eq!(change_text(&versus(Some(0.0), Some(0.0), false), Scale::Hours).unwrap(), "±0");
        // No relative change when the other value is 0: the absolute change.
        assert_eq!(change_text(&versus(Some(2.0), None, false), Scale::Number).unwrap(), "+2.00");
        assert_eq!(change_text(&versus(None, None, false), Scale::Number), None);
    }

    #[test]
    fn p_and_q_values_switch_to_scientific_notation_below_a_thousandth() {
        assert_eq!(format_p(0.0456), "p=0.046");
        assert_eq!(format_p(0.00012), "p=1.2e-4");
        assert_eq!(format_q(0.05), "q=0.050");
        assert_eq!(format_q(4.0e-11), "q=4.0e-11");
    }

    #[test]
    fn a_change_cell_is_coloured_only_when_significant() {
        let mut v = versus(Some(1.0), Some(0.5), false);
        v.test = Some(TestResult { method: Method::MannWhitney, statistic: 3.0, p_value: 0.01 });
        v.q_value = Some(0.2);
        v.significant = false;
        let cell = change_cell(&v, Scale::Hours);
        assert_eq!((cell.text.as_str(), cell.tone), ("+50.0% worse, p=0.010 q=0.200, not significant", Tone::Plain));
        v.q_value = Some(0.02);
        v.significant = true;
        let cell = change_cell(&v, Scale::Hours);
        assert_eq!((cell.text.as_str(), cell.tone), ("+50.0% worse, p=0.010 q=0.020, significant", Tone::Bad));
        v.listed = false;
        assert_eq!(change_cell(&v, Scale::Hours).text, "not listed then");
    }

    #[test]
    fn times_read_in_one_format_in_the_reporting_zone() {
        let amsterdam: chrono_tz::Tz = "Europe/Amsterdam".parse().unwrap();
        assert_eq!(local_time("2026-10-31T13:25:42Z", chrono_tz::UTC), "2026-10-31 13:25");
        assert_eq!(instant("2026-10-31T13:25:42Z", chrono_tz::UTC), "2026-10-31 13:25 UTC");
        // 13:25 UTC is 14:25 in Amsterdam on 31 October (CET, after the clocks went back).
        assert_eq!(instant("2026-10-31T13:25:42Z", amsterdam), "2026-10-31 14:25 CET");
        assert_eq!(local_time("", chrono_tz::UTC), "—");
        assert_eq!(local_time("not a time", chrono_tz::UTC), "not a time");
    }

    #[test]
    fn keys_read_in_words() {
        let key = |pairs: &[(&str, &str)]| key_label(&pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
        assert_eq!(key(&[("scope", "all"), ("priority", ""), ("sla", "response")]), "all priorities, response");
        assert_eq!(key(&[("scope", "priority"), ("priority", "1")]), "P1");
        assert_eq!(key(&[("scope", "priority"), ("priority", "")]), "no priority");
        assert_eq!(key(&[("category", ""), ("priority", "3")]), "none, P3");
        assert_eq!(key(&[("scope", "service"), ("key", "ERP")]), "service, ERP");
        assert_eq!(key(&[]), "all");
        assert_eq!(key_text_label("scope=priority,priority=4"), "P4");
    }

    #[test]
    fn months_read_as_names() {
        let m: YearMonth = "2026-10".parse().unwrap();
        assert_eq!(month_name(m), "October 2026");
        assert_eq!(short_month("2026-10"), "Oct 26");
        assert_eq!(short_month("not a month"), "not a month");
    }
}
