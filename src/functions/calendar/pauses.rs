//! SLA clocks that stand still while a ticket waits: business time with pauses taken out, and
//! the deadline such a clock reaches.

use super::{Calendar, DayCache};

/// Business time of a clock that runs from `start` to `stop` but stands still during `pauses`
/// (which may overlap each other or lie partly outside), in hours.
pub fn running_hours(calendar: &Calendar, start: i64, stop: i64, pauses: &[(i64, i64)], cache: &mut DayCache) -> f64 {
    // Most clocks never pause: the one interval, without building the list of them.
    if pauses.is_empty() {
        return calendar.business_hours_with(start, stop, cache);
    }
    let running = running_intervals(start, stop, pauses);
    running.iter().map(|&(s, e)| calendar.business_hours_with(s, e, cache)).sum()
}

/// The instant at which a clock started at `start`, standing still during `pauses`, has run for
/// `hours` of business time.
pub fn running_deadline(calendar: &Calendar, start: i64, hours: f64, pauses: &[(i64, i64)], cache: &mut DayCache) -> Option<i64> {
    if pauses.is_empty() {
        return calendar.deadline_with(start, hours, cache);
    }
    let mut left = hours;
    for (s, e) in running_intervals(start, i64::MAX, pauses) {
        if e == i64::MAX {
            return calendar.deadline_with(s, left, cache);
        }
        let here = calendar.business_hours_with(s, e, cache);
        if here >= left {
            return calendar.deadline_with(s, left, cache);
        }
        left -= here;
    }
    None
}

/// [start, stop) minus the union of the pauses, as ordered disjoint intervals.
fn running_intervals(start: i64, stop: i64, pauses: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let mut pauses: Vec<(i64, i64)> = pauses.iter().copied().filter(|(s, e)| e > s && *e > start && *s < stop).collect();
    pauses.sort_unstable();
    let mut running = Vec::new();
    let mut cursor = start;
    for (s, e) in pauses {
        if s > cursor {
            running.push((cursor, s.min(stop)));
        }
        cursor = cursor.max(e);
        if cursor >= stop {
            break;
        }
    }
    if cursor < stop {
        running.push((cursor, stop));
    }
    running
}
