//! Timestamp parsing for ingest: a fast ISO 8601 path plus chrono strftime patterns, with times
//! that carry no offset read in the profile's source zone and stored as UTC microseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use chrono_tz::Tz;

use crate::time::{local_to_utc_micros, parse_iso};

/// The name of the built-in ISO 8601 / RFC 3339 format in profiles.
pub const ISO8601: &str = "iso8601";

#[derive(Debug, Clone)]
enum Format {
    Iso,
    Pattern { pattern: String, offset: bool, time: bool },
}

/// Parses timestamps with a list of formats, tried in order, starting with the last one that
/// worked (exports use one format per column, so this is usually the first try).
#[derive(Debug, Clone)]
pub struct TimestampParser {
    formats: Vec<Format>,
    tz: Tz,
    last_hit: Arc<AtomicUsize>,
}

impl TimestampParser {
    pub fn new(formats: &[String], tz: Tz) -> Result<Self, String> {
        if formats.is_empty() {
            return Err("timestamp_formats is empty; give at least one, e.g. \"iso8601\"".into());
        }
        let mut parsed = Vec::with_capacity(formats.len());
        for f in formats {
            if f.eq_ignore_ascii_case(ISO8601) {
                parsed.push(Format::Iso);
                continue;
            }
            let items: Vec<Item> = StrftimeItems::new(f).collect();
            if items.iter().any(|i| matches!(i, Item::Error)) {
                return Err(format!("timestamp format `{f}` is not a valid strftime pattern (see chrono's strftime docs), or use \"iso8601\""));
            }
            let has = |needles: &[&str]| needles.iter().any(|n| f.contains(n));
            if !has(&["%Y", "%y", "%F", "%D", "%s", "%+"]) || !has(&["%d", "%e", "%j", "%F", "%D", "%s", "%+"]) {
                return Err(format!("timestamp format `{f}` has no complete date (year and day)"));
            }
            parsed.push(Format::Pattern {
                pattern: f.clone(),
                offset: has(&["%z", "%:z", "%::z", "%#z", "%+", "%s"]),
                time: has(&["%H", "%I", "%k", "%l", "%T", "%R", "%r", "%X", "%+", "%s"]),
            });
        }
        Ok(TimestampParser { formats: parsed, tz, last_hit: Arc::new(AtomicUsize::new(0)) })
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    pub fn describe_formats(&self) -> String {
        self.formats
            .iter()
            .map(|f| match f {
                Format::Iso => ISO8601.to_string(),
                Format::Pattern { pattern, .. } => format!("\"{pattern}\""),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// UTC microseconds since the epoch, or None when no format fits.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let text = text.trim();
        let first = self.last_hit.load(Ordering::Relaxed).min(self.formats.len() - 1);
        if let Some(v) = self.try_format(first, text) {
            return Some(v);
        }
        for i in (0..self.formats.len()).filter(|&i| i != first) {
            if let Some(v) = self.try_format(i, text) {
                self.last_hit.store(i, Ordering::Relaxed);
                return Some(v);
            }
        }
        None
    }

    fn try_format(&self, index: usize, text: &str) -> Option<i64> {
        match &self.formats[index] {
            Format::Iso => parse_iso(text, self.tz),
            Format::Pattern { pattern, offset: true, .. } => DateTime::parse_from_str(text, pattern).ok().map(|d| d.timestamp_micros()),
            Format::Pattern { pattern, time: true, .. } => NaiveDateTime::parse_from_str(text, pattern).ok().and_then(|n| local_to_utc_micros(n, self.tz)),
            Format::Pattern { pattern, .. } => {
                NaiveDate::parse_from_str(text, pattern).ok().and_then(|d| local_to_utc_micros(d.and_time(NaiveTime::MIN), self.tz))
            }
        }
    }
}

/// The default plausible range of timestamps: no IT service ticket predates 1990, and none is
/// planned past 2100. Profiles change it with `parse.plausible_range`.
pub const DEFAULT_PLAUSIBLE_RANGE: [&str; 2] = ["1990-01-01", "2100-01-01"];

/// What a parsed timestamp means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// A plausible instant, UTC microseconds.
    Instant(i64),
    /// A sentinel date that the source writes for "none" (`9999-12-31` for "never"): null.
    Sentinel,
    /// Outside the plausible range, and not a sentinel: a reject.
    Implausible,
}

/// Sentinel dates and the plausible range of one table's timestamps (`parse.sentinel_dates`,
/// `parse.plausible_range`). A value on a sentinel date, in UTC or in the source zone, reads as
/// null; any other value outside [from, to) is implausible.
#[derive(Debug, Clone)]
pub struct Plausibility {
    /// [start, end) of each sentinel day, in UTC and in the source zone.
    sentinel_days: Vec<(i64, i64)>,
    from: i64,
    to: i64,
    range_text: String,
}

impl Plausibility {
    /// `sentinels` are YYYY-MM-DD dates; `range` is [from, to) as two YYYY-MM-DD dates.
    pub fn new(sentinels: &[String], range: &[String], tz: Tz) -> Result<Plausibility, String> {
        let date =
            |key: &str, text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| format!("{key}: `{text}` is not a date such as 1990-01-01"));
        let [from_text, to_text] = range else {
            return Err(format!("plausible_range: give two dates, [from, to), e.g. {DEFAULT_PLAUSIBLE_RANGE:?}; got {} values", range.len()));
        };
        let (from, to) = (date("plausible_range", from_text)?, date("plausible_range", to_text)?);
        if from >= to {
            return Err(format!("plausible_range: {from} is not before {to}"));
        }
        let mut sentinel_days = Vec::new();
        for text in sentinels {
            let day = date("sentinel_dates", text)?;
            for zone in [chrono_tz::UTC, tz] {
                let start = crate::time::day_start(day, zone);
                let end = day.succ_opt().map_or(i64::MAX, |next| crate::time::day_start(next, zone));
                sentinel_days.push((start, end));
            }
        }
        let utc_micros = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp_micros();
        Ok(Plausibility { sentinel_days, from: utc_micros(from), to: utc_micros(to), range_text: format!("{from} to {to}") })
    }

    pub fn read(&self, micros: i64) -> Reading {
        if self.sentinel_days.iter().any(|&(start, end)| micros >= start && micros < end) {
            Reading::Sentinel
        } else if micros < self.from || micros >= self.to {
            Reading::Implausible
        } else {
            Reading::Instant(micros)
        }
    }

    /// The reason of an `implausible_timestamp` reject for `field` holding `value`.
    pub fn reason(&self, field: &str, value: &str) -> String {
        format!(
            "{field} `{value}` lies outside the plausible range {} (parse.plausible_range in the profile); widen the range if it is real, or list its date in parse.sentinel_dates if the source writes it for \"none\"",
            self.range_text
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    fn parser(formats: &[&str], tz: &str) -> TimestampParser {
        let formats: Vec<String> = formats.iter().map(|s| s.to_string()).collect();
        TimestampParser::new(&formats, tz.parse().unwrap()).unwrap()
    }

    #[test]
    fn iso_variants() {
        let p = parser(&["iso8601"], "UTC");
        assert_eq!(p.parse("2026-01-05T09:12:33Z"), Some(utc("2026-01-05T09:12:33Z")));
        assert_eq!(p.parse("2026-01-05 09:12:33"), Some(utc("2026-01-05T09:12:33Z")));
        assert_eq!(p.parse("2026-01-05T09:12"), Some(utc("2026-01-05T09:12:00Z")));
        assert_eq!(p.parse("2026-01-05"), Some(utc("2026-01-05T00:00:00Z")));
        assert_eq!(p.parse("2026-01-05T09:12:33.25Z"), Some(utc("2026-01-05T09:12:33.250Z")));
        assert_eq!(p.parse("2010-03-31T15:59:42+01:00"), Some(utc("2010-03-31T14:59:42Z")));
        assert_eq!(p.parse("2010-03-31T15:59:42-0230"), Some(utc("2010-03-31T18:29:42Z")));
        for bad in ["2026-13-01", "2026-02-30T00:00:00", "26-01-05", "2026-01-05T25:00", "2026-01-05Tx", "yesterday", ""] {
            assert_eq!(p.parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn patterns_day_first_and_zone() {
        let p = parser(&["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M", "iso8601"], "Europe/Amsterdam");
        // Amsterdam is UTC+1 in winter and UTC+2 in summer.
        assert_eq!(p.parse("05/02/2012 13:32:57"), Some(utc("2012-02-05T12:32:57Z")));
        assert_eq!(p.parse("29/2/2016 01:16"), Some(utc("2016-02-29T00:16:00Z")));
        assert_eq!(p.parse("9-9-2011 9:23"), Some(utc("2011-09-09T07:23:00Z")));
        assert_eq!(p.parse("2011-09-09 09:23:00"), Some(utc("2011-09-09T07:23:00Z")));
        assert_eq!(p.parse("31/02/2016 01:16"), None);
    }

    #[test]
    fn dst_gap_and_overlap() {
        let p = parser(&["%Y-%m-%d %H:%M"], "Europe/Amsterdam");
        // 2026-03-29 02:30 does not exist (02:00 → 03:00); read with the winter offset +01:00.
        assert_eq!(p.parse("2026-03-29 02:30"), Some(utc("2026-03-29T01:30:00Z")));
        // 2026-10-25 02:30 happens twice; the earlier is 02:30+02:00.
        assert_eq!(p.parse("2026-10-25 02:30"), Some(utc("2026-10-25T00:30:00Z")));
    }

    #[test]
    fn jira_style_and_date_only() {
        let p = parser(&["%d/%b/%y %I:%M %p", "%Y-%m-%d"], "UTC");
        assert_eq!(p.parse("21/Nov/26 9:05 AM"), Some(utc("2026-11-21T09:05:00Z")));
        assert_eq!(p.parse("2026-11-21"), Some(utc("2026-11-21T00:00:00Z")));
    }

    #[test]
    fn bad_patterns_are_refused() {
        let tz: Tz = "UTC".parse().unwrap();
        assert!(TimestampParser::new(&["%d/%m/%Q".into()], tz).is_err());
        assert!(TimestampParser::new(&["%H:%M".into()], tz).is_err());
        assert!(TimestampParser::new(&[], tz).is_err());
    }
}
