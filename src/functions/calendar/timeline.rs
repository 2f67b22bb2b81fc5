//! A business calendar's open intervals from 1990 to 2110, laid out once in time order with
//! running totals, so that the business time between two instants and the instant at which a
//! target is reached each take a binary search instead of a walk over the days between them.

use chrono::{Datelike, NaiveDate};

/// The first and last local dates laid out. Tickets outside them fall back to the day walk.
const FIRST: (i32, u32, u32) = (1990, 1, 1);
const LAST: (i32, u32, u32) = (2110, 12, 31);
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Open intervals in UTC microseconds, in time order, none empty and none overlapping.
#[derive(Debug)]
pub(super) struct Timeline {
    opens: Vec<i64>,
    closes: Vec<i64>,
    /// `before[k]`: the open time of intervals `0..k`; one longer than `opens`.
    before: Vec<i64>,
    /// The local date each interval belongs to (days since the common era), for the deadline's
    /// ten-year horizon.
    dates: Vec<i32>,
    /// Instants whose day walk stays within the laid-out dates: from the second day after the
    /// first to the day before the last, in UTC, which no zone offset can push past either end.
    covered: (i64, i64),
}

/// Where a question falls: answered from the timeline, or to be answered by the walk.
pub(super) enum Answer<T> {
    Exact(T),
    Walk,
}

impl Timeline {
    /// Lays out `intervals_of(date)` for every date in range. None when two intervals overlap
    /// or run backwards (a shift boundary inside a DST gap can do that): the walk counts such
    /// intervals as they are, and only the walk then gives its exact answer.
    pub(super) fn build(mut intervals_of: impl FnMut(NaiveDate) -> Vec<(i64, i64)>) -> Option<Timeline> {
        let first = NaiveDate::from_ymd_opt(FIRST.0, FIRST.1, FIRST.2)?;
        let last = NaiveDate::from_ymd_opt(LAST.0, LAST.1, LAST.2)?;
        let (mut opens, mut closes, mut dates) = (Vec::new(), Vec::new(), Vec::new());
        let mut before = vec![0i64];
        for date in first.iter_days().take_while(|d| *d <= last) {
            for (open, close) in intervals_of(date) {
                if close <= open {
                    continue; // the walk finds no time in it either
                }
                if closes.last().is_some_and(|&previous| open < previous) {
                    return None;
                }
                opens.push(open);
                closes.push(close);
                dates.push(date.num_days_from_ce());
                before.push(before.last().copied().unwrap_or(0) + (close - open));
            }
        }
        let midnight = |date: NaiveDate| date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros());
        let covered = (midnight(first)? + 2 * MICROS_PER_DAY, midnight(last)? - MICROS_PER_DAY);
        Some(Timeline { opens, closes, before, dates, covered })
    }

    fn covers(&self, instant: i64) -> bool {
        self.covered.0 <= instant && instant < self.covered.1
    }

    /// Open time before `instant`, in microseconds.
    fn open_before(&self, instant: i64) -> i64 {
        let k = self.closes.partition_point(|&close| close <= instant);
        self.before[k] + self.opens.get(k).map_or(0, |&open| (instant - open).max(0))
    }

    /// Open time in `[start, end)`, in microseconds; the caller has checked `start < end`.
    pub(super) fn open_micros(&self, start: i64, end: i64) -> Answer<i64> {
        if !(self.covers(start) && self.covers(end)) {
            return Answer::Walk;
        }
        Answer::Exact(self.open_before(end) - self.open_before(start))
    }

    /// The instant at which `left` microseconds of open time have passed since `start`, or None
    /// when that is on a local date (days since the common era) that `past_horizon` says is past
    /// the horizon.
    pub(super) fn deadline(&self, start: i64, left: i64, past_horizon: impl FnOnce(i32) -> bool) -> Answer<Option<i64>> {
        if !self.covers(start) {
            return Answer::Walk;
        }
        let target = self.open_before(start) + left;
        let first = self.closes.partition_point(|&close| close <= start);
        // The first interval from `first` on whose end brings the running total to the target.
        let k = first + self.before[first + 1..].partition_point(|&total| total < target);
        if k >= self.opens.len() {
            return Answer::Walk;
        }
        if past_horizon(self.dates[k]) {
            return Answer::Exact(None);
        }
        Answer::Exact(Some(self.opens[k] + (target - self.before[k])))
    }
}

#[cfg(test)]
mod tests {
    use crate::functions::calendar::{Calendar, CalendarSpec, DayCache};

    /// splitmix64: enough randomness to spread instants over the decades, with no dependency.
    struct Draws(u64);

    impl Draws {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: i64) -> i64 {
            (self.next() % n as u64) as i64
        }
    }

    fn calendar(text: &str) -> Calendar {
        Calendar::from_spec("c", &toml::from_str::<CalendarSpec>(text).unwrap()).unwrap()
    }

    /// Calendars in zones with DST both ways, south of the equator, and at half hours, with split
    /// shifts, a shift to midnight, a night shift on Sundays and holidays.
    fn calendars() -> Vec<Calendar> {
        vec![
            calendar(
                "timezone = \"Europe/Amsterdam\"\nholidays = [\"2026-12-25\", \"2027-01-01\", \"2026-03-30\"]\n[hours]\n\
                 mon = [\"08:00-12:00\", \"13:00-17:00\"]\ntue = [\"08:00-17:00\"]\nwed = [\"00:00-24:00\"]\n\
                 fri = [\"08:00-12:00\"]\nsun = [\"01:30-03:30\", \"22:00-24:00\"]\n",
            ),
            calendar("timezone = \"America/New_York\"\n[hours]\nmon = [\"09:00-17:00\"]\nsat = [\"00:00-02:30\"]\n"),
            calendar("timezone = \"Australia/Adelaide\"\nholidays = [\"2026-01-26\"]\n[hours]\nmon = [\"07:30-19:00\"]\nthu = [\"07:30-19:00\"]\n"),
            calendar("[hours]\nsun = [\"00:00-24:00\"]\n"),
        ]
    }

    /// 2025-01-01 and a span of 40 years around it, in microseconds.
    const ANCHOR: i64 = 1_735_689_600_000_000;
    const HOUR: i64 = 3_600_000_000;

    /// The timeline gives exactly the walk's answers: to the microsecond for business time, and the
    /// same instant (or none) for deadlines, for instants from 1985 (before the timeline, where the
    /// walk answers) to 2065, spans from a second to four years, and targets up to 2,000 hours.
    #[test]
    fn timeline_answers_as_the_walk_does() {
        let mut draws = Draws(7);
        for calendar in calendars() {
            assert!(calendar.timeline().is_some(), "the timeline answers for {calendar:?}");
            let mut cache = DayCache::default();
            for case in 0..3000 {
                let start = ANCHOR - 40 * 8766 * HOUR + draws.below(80 * 8766 * HOUR);
                let span = match case % 3 {
                    0 => draws.below(36 * HOUR),
                    1 => draws.below(60 * 24 * HOUR),
                    _ => draws.below(4 * 8766 * HOUR),
                } + 1_000_000;
                let fast = calendar.business_hours_with(start, start + span, &mut cache);
                let walked = calendar.walk_business_hours(start, start + span, &mut cache);
                assert_eq!(fast.to_bits(), walked.to_bits(), "business hours from {start} for {span} µs");
                let hours = (draws.below(2_000 * 60) as f64) / 60.0;
                let left = (hours * 3_600_000_000.0).round() as i64;
                assert_eq!(
                    calendar.deadline_with(start, hours, &mut cache),
                    calendar.walk_deadline(start, left, &mut cache),
                    "deadline {hours} h from {start}"
                );
            }
            // The boundaries themselves: a clock that starts at an opening or closing instant.
            for (open, close) in [(ANCHOR + 7 * HOUR, ANCHOR + 16 * HOUR)] {
                for at in [open, close, open - 1, close + 1] {
                    assert_eq!(calendar.deadline_with(at, 0.0, &mut cache), calendar.walk_deadline(at, 0, &mut cache));
                    assert_eq!(calendar.business_hours_with(at, at + HOUR, &mut cache), calendar.walk_business_hours(at, at + HOUR, &mut cache));
                }
            }
        }
    }

    /// Shift boundaries inside the spring DST gap can map to overlapping instants (02:30–02:45 is
    /// 01:30–01:45 UTC, 03:00–04:00 is 01:00–02:00 UTC); the walk counts them as they are, so the
    /// calendar keeps the walk rather than a timeline that would count differently.
    #[test]
    fn overlapping_shifts_keep_the_walk() {
        let gap = calendar("timezone = \"Europe/Amsterdam\"\n[hours]\nsun = [\"02:30-02:45\", \"03:00-04:00\"]\n");
        assert!(gap.timeline().is_none());
        let mut cache = DayCache::default();
        let (start, end) = (1_774_742_400_000_000, 1_774_828_800_000_000); // 2026-03-29 00:00Z to 2026-03-30 00:00Z
        assert_eq!(gap.business_hours_with(start, end, &mut cache), gap.walk_business_hours(start, end, &mut cache));
    }

    /// A calendar open for only one hour a year gives up on a deadline ten years away, as the walk
    /// does, instead of searching the whole timeline.
    #[test]
    fn far_deadlines_are_none_as_in_the_walk() {
        let rare = calendar("holidays = [\"2025-01-06\"]\n[hours]\nmon = [\"00:00-01:00\"]\n");
        let mut cache = DayCache::default();
        // Mondays give 52 hours a year; 600 hours lie eleven years and more away.
        assert_eq!(rare.deadline_with(ANCHOR, 600.0, &mut cache), None);
        assert_eq!(rare.walk_deadline(ANCHOR, 600 * HOUR, &mut cache), None);
        assert_eq!(rare.deadline_with(ANCHOR, 500.0, &mut cache), rare.walk_deadline(ANCHOR, 500 * HOUR, &mut cache));
    }
}
