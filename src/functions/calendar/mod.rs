//! Business calendars: working hours per weekday (split shifts allowed), holidays and a time zone,
//! or round the clock. They measure how much business time lies between two instants, and find
//! the instant at which a given amount of business time has passed.

mod pauses;
mod timeline;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::time::local_to_utc_micros;
pub use pauses::{running_deadline, running_hours};
use timeline::{Answer, Timeline};

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;
/// A deadline further than this (ten years) from the day before the clock starts is none at all.
const DEADLINE_HORIZON_DAYS: i64 = 3660;
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A calendar as written in the SLA policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarSpec {
    /// IANA zone the hours and holidays are in. Default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Open round the clock, every day; hours and holidays must then be absent.
    #[serde(default)]
    pub always_open: bool,
    /// Weekday (mon … sun) → shifts such as "08:00-12:00"; "24:00" ends a shift at midnight.
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    /// Closed days, YYYY-MM-DD, in the calendar's zone.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// The open intervals of local dates, remembered while a function works through one batch of
/// rows: converting shift boundaries through the zone's rules is what a calendar walk spends its
/// time on, and the rows of a batch keep visiting the same few hundred dates.
#[derive(Debug, Default)]
pub struct DayCache {
    days: HashMap<NaiveDate, Vec<(i64, i64)>>,
}

/// A validated calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    tz: Tz,
    always_open: bool,
    /// Per weekday (Monday first): shifts as seconds since local midnight, sorted, not overlapping.
    week: [Vec<(u32, u32)>; 7],
    holidays: HashSet<NaiveDate>,
    /// What the calendar was made from: a cluster's executors make it again from this, and
    /// validate it as they would a policy file.
    spec: CalendarSpec,
    timeline: LazyTimeline,
}

/// The calendar's timeline, laid out on first use (a few tens of milliseconds) and shared by
/// clones; it follows from the fields above, so it takes no part in equality.
#[derive(Debug, Clone, Default)]
struct LazyTimeline(Arc<OnceLock<Option<Timeline>>>);

impl PartialEq for LazyTimeline {
    fn eq(&self, _: &LazyTimeline) -> bool {
        true
    }
}

impl Eq for LazyTimeline {}

impl Calendar {
    pub fn always_open() -> Calendar {
        Calendar {
            tz: chrono_tz::UTC,
            always_open: true,
            week: Default::default(),
            holidays: HashSet::new(),
            spec: CalendarSpec { always_open: true, ..CalendarSpec::default() },
            timeline: LazyTimeline::default(),
        }
    }

    /// The specification the calendar was made from.
    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    pub fn from_spec(name: &str, spec: &CalendarSpec) -> Result<Calendar, String> {
        let zone = spec.timezone.as_deref().unwrap_or("UTC");
        let tz: Tz = zone.parse().map_err(|_| format!("calendars.{name}.timezone: `{zone}` is not an IANA zone"))?;
        if spec.always_open {
            if !spec.hours.is_empty() || !spec.holidays.is_empty() {
                return Err(format!("calendars.{name}: always_open = true leaves no room for hours or holidays"));
            }
            return Ok(Calendar { tz, spec: spec.clone(), ..Calendar::always_open() });
        }
        let mut week: [Vec<(u32, u32)>; 7] = Default::default();
        for (day, shifts) in &spec.hours {
            let Some(index) = WEEKDAYS.iter().position(|d| d == day) else {
                return Err(format!("calendars.{name}.hours: `{day}` is not a weekday; use {}", WEEKDAYS.join(", ")));
            };
            let mut parsed = Vec::new();
            for shift in shifts {
                let bad = || format!("calendars.{name}.hours.{day}: `{shift}` is not a shift like \"08:00-17:00\"");
                let (from, to) = shift.split_once('-').ok_or_else(bad)?;
                let (from, to) = (clock_seconds(from).ok_or_else(bad)?, clock_seconds(to).ok_or_else(bad)?);
                if from >= to {
                    return Err(format!("calendars.{name}.hours.{day}: shift `{shift}` ends before it starts"));
                }
                parsed.push((from, to));
            }
            parsed.sort_unstable();
            if parsed.windows(2).any(|w| w[1].0 < w[0].1) {
                return Err(format!("calendars.{name}.hours.{day}: shifts overlap"));
            }
            week[index] = parsed;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(format!("calendars.{name}: no working hours; give hours per weekday or always_open = true"));
        }
        let mut holidays = HashSet::new();
        for day in &spec.holidays {
            let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| format!("calendars.{name}.holidays: `{day}` is not a date like 2026-12-25"))?;
            holidays.insert(date);
        }
        Ok(Calendar { tz, always_open: false, week, holidays, spec: spec.clone(), timeline: LazyTimeline::default() })
    }

    /// The open intervals of one local date, as UTC microseconds.
    fn open_intervals(&self, date: NaiveDate) -> impl Iterator<Item = (i64, i64)> + '_ {
        let shifts: &[(u32, u32)] = if self.holidays.contains(&date) { &[] } else { &self.week[date.weekday().num_days_from_monday() as usize] };
        shifts.iter().filter_map(move |&(from, to)| {
            let at = |secs: u32| {
                let naive = date.and_time(NaiveTime::MIN) + Duration::seconds(i64::from(secs));
                local_to_utc_micros(naive, self.tz)
            };
            Some((at(from)?, at(to)?))
        })
    }

    fn local_date(&self, micros: i64) -> NaiveDate {
        self.tz.timestamp_micros(micros).single().map(|d| d.date_naive()).unwrap_or_default()
    }

    fn timeline(&self) -> Option<&Timeline> {
        self.timeline.0.get_or_init(|| Timeline::build(|date| self.open_intervals(date).collect())).as_ref()
    }

    fn open_intervals_cached<'c>(&self, date: NaiveDate, cache: &'c mut DayCache) -> &'c [(i64, i64)] {
        cache.days.entry(date).or_insert_with(|| self.open_intervals(date).collect())
    }

    /// Business time between two instants (UTC microseconds), in hours; 0 when `end <= start`.
    pub fn business_hours(&self, start: i64, end: i64) -> f64 {
        self.business_hours_with(start, end, &mut DayCache::default())
    }

    pub fn business_hours_with(&self, start: i64, end: i64, cache: &mut DayCache) -> f64 {
        if end <= start {
            return 0.0;
        }
        if self.always_open {
            return (end - start) as f64 / MICROS_PER_HOUR;
        }
        if let Some(Answer::Exact(total)) = self.timeline().map(|t| t.open_micros(start, end)) {
            return total as f64 / MICROS_PER_HOUR;
        }
        self.walk_business_hours(start, end, cache)
    }

    /// `business_hours` day by day: the definition the timeline reproduces, and the answer for
    /// instants outside it.
    pub(super) fn walk_business_hours(&self, start: i64, end: i64, cache: &mut DayCache) -> f64 {
        let mut total: i64 = 0;
        let mut date = self.local_date(start) - Duration::days(1);
        let last = self.local_date(end) + Duration::days(1);
        while date <= last {
            for &(open, close) in self.open_intervals_cached(date, cache) {
                let (s, e) = (open.max(start), close.min(end));
                if e > s {
                    total += e - s;
                }
            }
            date += Duration::days(1);
        }
        total as f64 / MICROS_PER_HOUR
    }

    /// The instant at which `hours` of business time have passed since `start`; None when the
    /// calendar opens too rarely to get there within ten years.
    pub fn deadline(&self, start: i64, hours: f64) -> Option<i64> {
        self.deadline_with(start, hours, &mut DayCache::default())
    }

    pub fn deadline_with(&self, start: i64, hours: f64, cache: &mut DayCache) -> Option<i64> {
        let left = (hours.max(0.0) * MICROS_PER_HOUR).round() as i64;
        if self.always_open {
            return Some(start + left);
        }
        let past_horizon = |date: i32| {
            // A zone's offset is less than a day, so the local date of `start` is at least its UTC
            // date minus one, and the horizon at least that date's (UTC date − 2 + the horizon's
            // days): a deadline by then needs no conversion to local time.
            let utc_date = DateTime::from_timestamp_micros(start).map_or(i32::MIN, |t| t.date_naive().num_days_from_ce());
            let surely_within = utc_date.saturating_sub(2).saturating_add(DEADLINE_HORIZON_DAYS as i32);
            date > surely_within && date > self.deadline_horizon(start).num_days_from_ce()
        };
        if let Some(Answer::Exact(deadline)) = self.timeline().map(|t| t.deadline(start, left, past_horizon)) {
            return deadline;
        }
        self.walk_deadline(start, left, cache)
    }

    /// The last local date a deadline from `start` may fall on: `DEADLINE_HORIZON_DAYS` from the
    /// day before `start`'s, where the walk begins. The timeline and the walk both stop here, so
    /// they agree on which deadlines are None.
    fn deadline_horizon(&self, start: i64) -> NaiveDate {
        self.local_date(start) - Duration::days(1) + Duration::days(DEADLINE_HORIZON_DAYS)
    }

    /// `deadline` day by day (see `walk_business_hours`).
    pub(super) fn walk_deadline(&self, start: i64, mut left: i64, cache: &mut DayCache) -> Option<i64> {
        let mut date = self.local_date(start) - Duration::days(1);
        let give_up = self.deadline_horizon(start);
        while date <= give_up {
            for &(open, close) in self.open_intervals_cached(date, cache) {
                let s = open.max(start);
                if close <= s {
                    continue;
                }
                if close - s >= left {
                    return Some(s + left);
                }
                left -= close - s;
            }
            date += Duration::days(1);
        }
        None
    }
}

/// "HH:MM" as seconds since midnight; "24:00" is the end of the day.
fn clock_seconds(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 3600 + m * 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
    }

    /// Amsterdam, Mon–Fri 08:00–12:00 and 13:00–17:00 (8 h a day), Christmas Day a holiday.
    fn office() -> Calendar {
        let spec: CalendarSpec = toml::from_str(
            r#"
            timezone = "Europe/Amsterdam"
            holidays = ["2026-12-25"]
            [hours]
            mon = ["08:00-12:00", "13:00-17:00"]
            tue = ["08:00-12:00", "13:00-17:00"]
            wed = ["08:00-12:00", "13:00-17:00"]
            thu = ["08:00-12:00", "13:00-17:00"]
            fri = ["08:00-12:00", "13:00-17:00"]
            "#,
        )
        .unwrap();
        Calendar::from_spec("office", &spec).unwrap()
    }

    #[test]
    fn split_shift_within_a_day() {
        // Wed 2026-11-18 09:00 to 14:30 Amsterdam (UTC+1): 09–12 = 3 h, lunch closed, 13–14:30 = 1.5 h.
        let h = office().business_hours(utc("2026-11-18T08:00:00Z"), utc("2026-11-18T13:30:00Z"));
        assert!((h - 4.5).abs() < 1e-9, "{h}");
    }

    #[test]
    fn start_outside_hours_and_weekend() {
        // Fri 2026-11-20 18:00 to Mon 2026-11-23 10:00 Amsterdam: Friday is over, the weekend is
        // closed, Monday 08:00–10:00 = 2 h.
        let h = office().business_hours(utc("2026-11-20T17:00:00Z"), utc("2026-11-23T09:00:00Z"));
        assert!((h - 2.0).abs() < 1e-9, "{h}");
    }

    #[test]
    fn holiday_is_closed() {
        // Thu 2026-12-24 16:00 to Mon 2026-12-28 09:00: Thu 16–17 = 1 h; Fri 25th a holiday;
        // weekend closed; Mon 08–09 = 1 h. Total 2 h.
        let h = office().business_hours(utc("2026-12-24T15:00:00Z"), utc("2026-12-28T08:00:00Z"));
        assert!((h - 2.0).abs() < 1e-9, "{h}");
    }

    #[test]
    fn several_weeks() {
        // Mon 2026-11-02 00:00 to Mon 2026-11-23 00:00 Amsterdam: three full weeks of 5 × 8 h = 120 h.
        let h = office().business_hours(utc("2026-11-01T23:00:00Z"), utc("2026-11-22T23:00:00Z"));
        assert!((h - 120.0).abs() < 1e-9, "{h}");
    }

    #[test]
    fn both_dst_transitions() {
        // Clocks go forward on Sun 2026-03-29 and back on Sun 2026-10-25 in Amsterdam. A 24-hour
        // calendar measures real elapsed time: the spring Sunday has 23 h, the autumn one 25 h.
        let spec: CalendarSpec = toml::from_str("timezone = \"Europe/Amsterdam\"\n[hours]\nsun = [\"00:00-24:00\"]\n").unwrap();
        let sundays = Calendar::from_spec("sun", &spec).unwrap();
        let spring = sundays.business_hours(utc("2026-03-28T12:00:00Z"), utc("2026-03-30T12:00:00Z"));
        assert!((spring - 23.0).abs() < 1e-9, "{spring}");
        let autumn = sundays.business_hours(utc("2026-10-24T12:00:00Z"), utc("2026-10-26T12:00:00Z"));
        assert!((autumn - 25.0).abs() < 1e-9, "{autumn}");
        // Office hours keep their local times across the change: Fri 2026-10-23 16:00 CEST (14:00Z)
        // to Mon 2026-10-26 09:00 CET (08:00Z) = Fri 16–17 (1 h) + Mon 08–09 (1 h).
        let h = office().business_hours(utc("2026-10-23T14:00:00Z"), utc("2026-10-26T08:00:00Z"));
        assert!((h - 2.0).abs() < 1e-9, "{h}");
    }

    #[test]
    fn always_open_is_wall_clock() {
        let h = Calendar::always_open().business_hours(utc("2026-11-20T17:00:00Z"), utc("2026-11-23T09:00:00Z"));
        assert!((h - 64.0).abs() < 1e-9, "{h}");
        assert_eq!(Calendar::always_open().business_hours(10, 5), 0.0);
    }

    #[test]
    fn deadlines() {
        // 4 business hours from Fri 2026-11-20 15:00 Amsterdam: Fri 15–17 (2 h), then Mon 08–10.
        let d = office().deadline(utc("2026-11-20T14:00:00Z"), 4.0).unwrap();
        assert_eq!(d, utc("2026-11-23T09:00:00Z"));
        // Exactly at the end of a shift stays on that day: 3 h from 09:00 Wed is 12:00 Wed.
        assert_eq!(office().deadline(utc("2026-11-18T08:00:00Z"), 3.0).unwrap(), utc("2026-11-18T11:00:00Z"));
    }

    #[test]
    fn pauses_stop_the_clock() {
        let cal = Calendar::always_open();
        let h = |s: &str| utc(s);
        // Clock 00:00–10:00 with pauses 02:00–04:00 and 03:00–05:00 (overlapping) and one after
        // the stop: 10 h − 3 h paused = 7 h.
        let pauses = [
            (h("2026-11-18T02:00:00Z"), h("2026-11-18T04:00:00Z")),
            (h("2026-11-18T03:00:00Z"), h("2026-11-18T05:00:00Z")),
            (h("2026-11-18T11:00:00Z"), h("2026-11-18T12:00:00Z")),
        ];
        let run = running_hours(&cal, h("2026-11-18T00:00:00Z"), h("2026-11-18T10:00:00Z"), &pauses, &mut DayCache::default());
        assert!((run - 7.0).abs() < 1e-9, "{run}");
        // A 4-hour target is reached at 07:00: 00–02 runs 2 h, paused to 05:00, then 2 h more.
        assert_eq!(running_deadline(&cal, h("2026-11-18T00:00:00Z"), 4.0, &pauses, &mut DayCache::default()), Some(h("2026-11-18T07:00:00Z")));
        // The same walks with a warm cache, on a calendar with hours, give the same answers.
        let office = office();
        let mut cache = DayCache::default();
        for _ in 0..2 {
            let h1 = office.business_hours_with(h("2026-12-24T15:00:00Z"), h("2026-12-28T08:00:00Z"), &mut cache);
            assert!((h1 - 2.0).abs() < 1e-9, "{h1}");
            assert_eq!(office.deadline_with(h("2026-11-20T14:00:00Z"), 4.0, &mut cache), Some(h("2026-11-23T09:00:00Z")));
        }
    }

    #[test]
    fn bad_calendars_are_refused() {
        let parse = |t: &str| Calendar::from_spec("c", &toml::from_str::<CalendarSpec>(t).unwrap());
        assert!(parse("[hours]\nmon = [\"17:00-08:00\"]\n").unwrap_err().contains("ends before"));
        assert!(parse("[hours]\nmonday = [\"08:00-17:00\"]\n").unwrap_err().contains("not a weekday"));
        assert!(parse("[hours]\nmon = [\"08:00-12:00\", \"11:00-13:00\"]\n").unwrap_err().contains("overlap"));
        assert!(parse("[hours]\nmon = [\"8-5\"]\n").unwrap_err().contains("not a shift"));
        assert!(parse("timezone = \"UTC\"\n").unwrap_err().contains("no working hours"));
    }
}
