//! Months and instants: `YearMonth`, parsed once from the command line and files, its boundaries in
//! a reporting time zone, wall-clock times read in a zone, and the one RFC 3339 formatter that every
//! output uses.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

/// Why a text is not a month; clap and file readers put the flag or line in front of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAMonth(pub String);

impl fmt::Display for NotAMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: give a month as YYYY-MM, e.g. 2026-10", self.0)
    }
}

impl std::error::Error for NotAMonth {}

impl FromStr for YearMonth {
    type Err = NotAMonth;

    fn from_str(text: &str) -> Result<YearMonth, NotAMonth> {
        let bad = || NotAMonth(text.to_string());
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let (year, month) = (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(YearMonth { year, month })
    }
}

/// A number of days in words: `1 day`, `14 days`.
pub fn days(n: u32) -> String {
    if n == 1 { "1 day".into() } else { format!("{n} days") }
}

/// `n` days in microseconds, the unit of every timestamp.
pub fn days_micros(n: u32) -> i64 {
    i64::from(n) * 86_400_000_000
}

/// As `2026-10`, in documents and settings.
impl serde::Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<YearMonth, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl YearMonth {
    /// The month that holds `micros` in `tz`.
    pub fn of_micros(micros: i64, tz: Tz) -> YearMonth {
        let local = DateTime::from_timestamp_micros(micros).unwrap_or_default().with_timezone(&tz);
        YearMonth { year: local.year(), month: local.month() }
    }

    pub fn next(self) -> YearMonth {
        if self.month == 12 { YearMonth { year: self.year + 1, month: 1 } } else { YearMonth { year: self.year, month: self.month + 1 } }
    }

    pub fn previous(self) -> YearMonth {
        if self.month == 1 { YearMonth { year: self.year - 1, month: 12 } } else { YearMonth { year: self.year, month: self.month - 1 } }
    }

    /// The month `n` months later (earlier for negative `n`).
    pub fn plus(self, n: i32) -> YearMonth {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        YearMonth { year: index.div_euclid(12), month: index.rem_euclid(12) as u32 + 1 }
    }

    /// Months from `self` to `later`, inclusive of both: 1 for the same month.
    pub fn months_through(self, later: YearMonth) -> i64 {
        i64::from(later.year - self.year) * 12 + i64::from(later.month) - i64::from(self.month) + 1
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a YearMonth is a valid month")
    }

    /// The first instant of the month in `tz`, as UTC microseconds.
    pub fn start(self, tz: Tz) -> i64 {
        day_start(self.first_day(), tz)
    }

    /// The first instant of the month's last day in `tz`. Days around a change of clocks last 23 or
    /// 25 hours, so this is the local midnight, not the next month's start minus 24 hours.
    pub fn last_day_start(self, tz: Tz) -> i64 {
        day_start(self.next().first_day().pred_opt().expect("a month has a last day"), tz)
    }

    /// `2026-10`.
    pub fn label(self) -> String {
        self.to_string()
    }
}

/// Months from `first` to `last`, inclusive: `2026-01..2026-03`, or one month, `2026-05`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthRange {
    pub first: YearMonth,
    pub last: YearMonth,
}

impl FromStr for MonthRange {
    type Err = String;

    fn from_str(text: &str) -> Result<MonthRange, String> {
        let usage = || format!("`{text}`: give months as YYYY-MM..YYYY-MM, e.g. 2026-01..2026-03, or one month, YYYY-MM");
        let (first, last) = match text.split_once("..") {
            Some((a, b)) => (a.trim().parse::<YearMonth>().map_err(|_| usage())?, b.trim().parse::<YearMonth>().map_err(|_| usage())?),
            None => {
                let month = text.trim().parse::<YearMonth>().map_err(|_| usage())?;
                (month, month)
            }
        };
        if first > last {
            return Err(format!("`{text}`: {first} is after {last}"));
        }
        Ok(MonthRange { first, last })
    }
}

impl fmt::Display for MonthRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last { write!(f, "{}", self.first) } else { write!(f, "{}..{}", self.first, self.last) }
    }
}

impl MonthRange {
    /// True when the two ranges share a month.
    pub fn overlaps(&self, other: &MonthRange) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    pub fn months(&self) -> i64 {
        self.first.months_through(self.last)
    }
}

/// The first instant of a calendar day in `tz`, as UTC microseconds.
pub fn day_start(day: NaiveDate, tz: Tz) -> i64 {
    local_to_utc_micros(day.and_time(NaiveTime::MIN), tz).expect("every day has a first instant")
}

/// A wall-clock time in `tz` as UTC microseconds. An ambiguous time (the repeated hour when clocks
/// go back) is read as the earlier instant; a time in the gap when clocks go forward cannot exist,
/// so it is read with the offset in force just before the gap, as most source tools store it.
pub fn local_to_utc_micros(naive: NaiveDateTime, tz: Tz) -> Option<i64> {
    if let Some(dt) = tz.from_local_datetime(&naive).earliest() {
        return Some(dt.timestamp_micros());
    }
    let before = naive - Duration::hours(3);
    let offset = tz.offset_from_local_datetime(&before).earliest()?;
    let utc = naive - Duration::seconds(i64::from(chrono::Offset::fix(&offset).local_minus_utc()));
    Some(utc.and_utc().timestamp_micros())
}

/// `YYYY-MM-DD`, then optionally `T` or a space and `HH:MM[:SS[.fraction]]`, then optionally `Z`,
/// `±HH:MM`, `±HHMM` or `±HH`. Without an offset the time is read in `tz`.
pub fn parse_iso(s: &str, tz: Tz) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<u32> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0u32, |acc, &d| d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0')))
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 2)?, num(8, 2)?)?;
    let mut i = 10;
    let mut time = NaiveTime::MIN;
    if i < b.len() && (b[i] == b'T' || b[i] == b' ') && b.get(i + 3) == Some(&b':') {
        let (h, m) = (num(i + 1, 2)?, num(i + 4, 2)?);
        i += 6;
        let mut sec = 0;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b':') {
            sec = num(i + 1, 2)?;
            i += 3;
            if matches!(b.get(i), Some(b'.') | Some(b',')) {
                i += 1;
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    if i - start < 9 {
                        nanos = nanos * 10 + u32::from(b[i] - b'0');
                    }
                    i += 1;
                }
                let digits = (i - start).min(9);
                if digits == 0 {
                    return None;
                }
                nanos *= 10u32.pow(9 - digits as u32);
            }
        }
        time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
    }
    let naive = date.and_time(time);
    let rest = &b[i..];
    let offset_secs: Option<i64> = match rest {
        [] => None,
        [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), ..] => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            let (h, m) = match rest.len() {
                3 => (num(i + 1, 2)?, 0),
                5 => (num(i + 1, 2)?, num(i + 3, 2)?),
                6 if rest[3] == b':' => (num(i + 1, 2)?, num(i + 4, 2)?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            Some(sign * i64::from(h * 3600 + m * 60))
        }
        _ => return None,
    };
    match offset_secs {
        Some(off) => Some((naive - Duration::seconds(off)).and_utc().timestamp_micros()),
        None => local_to_utc_micros(naive, tz),
    }
}

/// RFC 3339 in UTC with a `Z`, with a fraction only when the sub-second part is not zero:
/// `2026-01-05T09:12:33Z`, `2026-01-05T09:12:33.250Z`.
pub fn format_instant(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// UTC microseconds since the epoch as RFC 3339 (see `format_instant`); a value chrono cannot
/// represent is shown as its number of microseconds.
pub fn rfc3339(micros: i64) -> String {
    DateTime::from_timestamp_micros(micros).map(format_instant).unwrap_or_else(|| format!("{micros}µs"))
}

/// Serde for optional UTC microseconds as RFC 3339 text, so manifests and documents read as dates.
pub mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(micros) => serializer.serialize_some(&super::rfc3339(*micros)),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
        let text: Option<String> = Option::deserialize(deserializer)?;
        text.map(|t| chrono::DateTime::parse_from_rfc3339(&t).map(|d| d.timestamp_micros()).map_err(|e| serde::de::Error::custom(format!("`{t}`: {e}"))))
            .transpose()
    }
}

/// Serde for UTC microseconds as RFC 3339 text.
pub mod rfc3339_micros {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &i64, serializer: S) -> Result<S::Ok, S::Error> {
        super::rfc3339_opt::serialize(&Some(*value), serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
        super::rfc3339_opt::deserialize(deserializer)?.ok_or_else(|| serde::de::Error::custom("a timestamp is required"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text).unwrap().timestamp_micros()
    }

    #[test]
    fn months_parse_and_print() {
        let m: YearMonth = "2026-10".parse().unwrap();
        assert_eq!(m, YearMonth { year: 2026, month: 10 });
        assert_eq!(m.to_string(), "2026-10");
        for bad in ["2026-13", "2026-00", "26-10", "2026-1", "2026/10", "2026-10-01", "", "abcd-ef", "+202-10"] {
            let err = bad.parse::<YearMonth>().unwrap_err().to_string();
            assert!(err.contains("give a month as YYYY-MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn month_ranges_parse_and_overlap() {
        let q1: MonthRange = "2026-01..2026-03".parse().unwrap();
        assert_eq!((q1.first.to_string(), q1.last.to_string(), q1.months()), ("2026-01".into(), "2026-03".into(), 3));
        assert_eq!(q1.to_string(), "2026-01..2026-03");
        let may: MonthRange = "2026-05".parse().unwrap();
        assert_eq!(may.to_string(), "2026-05");
        assert!(!q1.overlaps(&may) && q1.overlaps(&"2026-03..2026-04".parse().unwrap()));
        assert!("2026-03..2026-01".parse::<MonthRange>().unwrap_err().contains("is after"));
        assert!("2026-1..2026-03".parse::<MonthRange>().unwrap_err().contains("YYYY-MM..YYYY-MM"));
    }

    #[test]
    fn month_arithmetic() {
        let m: YearMonth = "2026-01".parse().unwrap();
        assert_eq!(m.previous().to_string(), "2025-12");
        assert_eq!(m.plus(-13).to_string(), "2024-12");
        assert_eq!(m.plus(23).to_string(), "2027-12");
        assert_eq!(m.months_through("2026-01".parse().unwrap()), 1);
        assert_eq!(m.months_through("2027-03".parse().unwrap()), 15);
    }

    #[test]
    fn last_day_starts_at_local_midnight_on_long_and_short_days() {
        let amsterdam: Tz = "Europe/Amsterdam".parse().unwrap();
        // 31 October 2027 is the day clocks go back in Amsterdam: it lasts 25 hours and starts at
        // 00:00 CEST (UTC+2), which is 22:00 UTC the day before.
        let october: YearMonth = "2027-10".parse().unwrap();
        assert_eq!(october.last_day_start(amsterdam), at("2027-10-30T22:00:00Z"));
        // 31 March 2024 is the day clocks go forward: 23 hours, starting at 00:00 CET (UTC+1).
        let march: YearMonth = "2024-03".parse().unwrap();
        assert_eq!(march.last_day_start(amsterdam), at("2024-03-30T23:00:00Z"));
        assert_eq!(october.last_day_start(chrono_tz::UTC), at("2027-10-31T00:00:00Z"));
    }

    #[test]
    fn instants_format_with_a_fraction_only_when_needed() {
        assert_eq!(rfc3339(at("2026-01-05T09:12:33Z")), "2026-01-05T09:12:33Z");
        assert_eq!(rfc3339(at("2026-01-05T09:12:33.25Z")), "2026-01-05T09:12:33.250Z");
        assert_eq!(rfc3339(i64::MAX), format!("{}µs", i64::MAX));
    }
}
