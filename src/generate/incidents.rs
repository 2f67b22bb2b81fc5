//! Incidents: when they arrive (working-hours seasonality plus round-the-clock monitoring), their
//! latent durations, and the state timeline every row and event is derived from.

use rayon::prelude::*;

use super::cmdb::Cmdb;
use super::rng::{Rng, Stream};
use super::{DAY, HOUR, MINUTE, Window};

/// Relative arrival rate by weekday, Monday first.
const WEEKDAY_FACTOR: [f64; 7] = [1.15, 1.10, 1.05, 1.0, 0.9, 0.25, 0.2];
/// Relative arrival rate by hour of day: the morning and afternoon peaks of a desk, a lunch dip,
/// quiet nights.
const HOUR_FACTOR: [f64; 24] = [
    0.05, 0.04, 0.04, 0.04, 0.05, 0.10, 0.25, 0.60, 1.00, 1.30, 1.35, 1.25, //
    0.90, 1.20, 1.30, 1.25, 1.00, 0.60, 0.35, 0.25, 0.18, 0.12, 0.08, 0.06,
];

pub(super) const MONITORING_SHARE: f64 = 0.15;
/// Share of incidents with `started_at`: all monitoring ones and a share of the rest.
pub(super) const DETECTION_SHARE: f64 = 0.70;
pub(super) const DETECTION_DELAY_MEAN: f64 = 0.5 * HOUR as f64;

const PRIORITY_SHARE: [f64; 5] = [0.015, 0.07, 0.35, 0.45, 0.115];
/// `(impact, urgency)` pairs that give each priority under the usual 3×3 matrix.
const IMPACT_URGENCY: [&[(u8, u8)]; 5] = [&[(1, 1)], &[(1, 2), (2, 1)], &[(1, 3), (2, 2), (3, 1)], &[(2, 3), (3, 2)], &[(3, 3)]];
const RESOLVE_MEDIAN_HOURS: [f64; 5] = [4.0, 10.0, 30.0, 60.0, 120.0];
const RESOLVE_SIGMA: f64 = 0.9;
const ACK_MEDIAN_MINUTES: [f64; 5] = [5.0, 15.0, 45.0, 90.0, 240.0];
const ACK_SIGMA: f64 = 0.8;
/// The source tool's resolution target by priority, for its own `made_sla` flag: wall-clock
/// hours with no pause deducted, unlike the default SLA policy (docs/guide.md says why).
const SLA_HOURS: [i64; 5] = [8, 24, 72, 120, 240];
const MAJOR_SHARE: [f64; 5] = [0.30, 0.02, 0.0, 0.0, 0.0];

pub(super) const CONTACT_TYPES: [&str; 5] = ["monitoring", "phone", "email", "self-service", "chat"];
pub(super) const MONITORING: u8 = 0;
/// Shares of the human channels, in `CONTACT_TYPES` order after monitoring.
const HUMAN_CONTACT_SHARE: [f64; 4] = [0.30, 0.25, 0.35, 0.10];
/// Share of human-reported incidents the service desk resolves itself.
const FIRST_LINE_SHARE: f64 = 0.30;
const REOPEN_ONCE: f64 = 0.04;
const REOPEN_TWICE: f64 = 0.005;
/// Success probability of the geometric reassignment count: mean `(1 - p) / p` = 1.2.
const REASSIGN_P: f64 = 1.0 / 2.2;
const PAUSE_SHARE: f64 = 0.10;

const CHUNK: usize = 8192;

pub(super) const NEW: &str = "New";
pub(super) const IN_PROGRESS: &str = "In Progress";
pub(super) const AWAITING: &str = "Awaiting User Info";
pub(super) const RESOLVED: &str = "Resolved";
pub(super) const CLOSED: &str = "Closed";

/// An incident as drawn: its opening, its CI and latent durations. Rows and events are derived
/// from it against `as_of`, so moving an incident only means changing `opened` and `ci`.
#[derive(Debug, Clone)]
pub(super) struct Incident {
    /// Draw order; breaks ties when sorting by `opened`.
    pub seq: u32,
    pub opened: i64,
    pub ci: u32,
    pub priority: u8,
    pub impact: u8,
    pub urgency: u8,
    /// Index into [`CONTACT_TYPES`].
    pub contact: u8,
    /// Worked by the service desk rather than the CI class's resolver group.
    pub first_line: bool,
    /// Opening to first response; never more than `work`.
    pub ack_delay: i64,
    /// Opening to final resolution.
    pub work: i64,
    /// Final resolution to closure.
    pub close_delay: i64,
    /// `opened - started_at`, when the source recorded the start of the degradation.
    pub detection: Option<i64>,
    pub reopens: u8,
    pub reassignments: u8,
    pub major: bool,
    /// An "Awaiting User Info" pause: start and length as fractions of the first work segment.
    pub pause: Option<(f64, f64)>,
    /// Index into the problems, once linked.
    pub problem: Option<u32>,
    /// Index into the changes, for incidents planted after a failed patch.
    pub caused_by: Option<u32>,
}

/// Hour-by-hour arrival weights over the window, for drawing human-reported arrival times.
struct ArrivalProfile {
    start: i64,
    cumulative: Vec<f64>,
}

impl ArrivalProfile {
    fn new(window: &Window) -> ArrivalProfile {
        let hours = (window.as_of - window.start) / HOUR;
        let mut sum = 0.0;
        let cumulative = (0..hours)
            .map(|h| {
                let t = window.start + h * HOUR;
                sum += WEEKDAY_FACTOR[weekday(t)] * HOUR_FACTOR[hour_of_day(t)];
                sum
            })
            .collect();
        ArrivalProfile { start: window.start, cumulative }
    }

    fn draw(&self, rng: &mut Rng) -> i64 {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let target = rng.uniform() * total;
        let hour = self.cumulative.partition_point(|&c| c <= target).min(self.cumulative.len().saturating_sub(1));
        self.start + hour as i64 * HOUR + rng.below(HOUR as u64) as i64
    }
}

/// Monday = 0.
pub(super) fn weekday(t: i64) -> usize {
    // 1970-01-01 was a Thursday.
    (t.div_euclid(DAY) + 3).rem_euclid(7) as usize
}

pub(super) fn hour_of_day(t: i64) -> usize {
    (t.rem_euclid(DAY) / HOUR) as usize
}

/// Draws `count` incidents, sorted by opening time. Chunks draw from their own streams in
/// parallel, so the result does not depend on the thread count.
pub(super) fn draw(count: usize, window: &Window, cmdb: &Cmdb, seed: u64) -> Vec<Incident> {
    let profile = ArrivalProfile::new(window);
    let chunks: Vec<Vec<Incident>> = (0..count.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            let mut rng = Rng::stream(seed, Stream::Incidents, chunk as u64);
            let end = ((chunk + 1) * CHUNK).min(count);
            (chunk * CHUNK..end).map(|seq| draw_one(seq as u32, window, &profile, cmdb, &mut rng)).collect()
        })
        .collect();
    let mut incidents = chunks.concat();
    sort_by_opening(&mut incidents);
    incidents
}

pub(super) fn sort_by_opening(incidents: &mut [Incident]) {
    incidents.sort_unstable_by_key(|i| (i.opened, i.seq));
}

fn draw_one(seq: u32, window: &Window, profile: &ArrivalProfile, cmdb: &Cmdb, rng: &mut Rng) -> Incident {
    let monitoring = rng.bernoulli(MONITORING_SHARE);
    let opened = if monitoring { window.start + rng.below((window.as_of - window.start) as u64) as i64 } else { profile.draw(rng) };
    let ci = cmdb.pick_weighted(opened, rng);
    let p = rng.weighted(&PRIORITY_SHARE);
    let pairs = IMPACT_URGENCY[p];
    let (impact, urgency) = pairs[rng.below(pairs.len() as u64) as usize];
    let contact = if monitoring { MONITORING } else { 1 + rng.weighted(&HUMAN_CONTACT_SHARE) as u8 };
    let first_line = !monitoring && rng.bernoulli(FIRST_LINE_SHARE);
    let work = seconds(rng.lognormal(RESOLVE_MEDIAN_HOURS[p] * HOUR as f64, RESOLVE_SIGMA)).max(5 * MINUTE);
    let ack_delay = seconds(rng.lognormal(ACK_MEDIAN_MINUTES[p] * MINUTE as f64, ACK_SIGMA)).min(work);
    let close_delay = rng.between(DAY, 5 * DAY);
    let human_detection = (DETECTION_SHARE - MONITORING_SHARE) / (1.0 - MONITORING_SHARE);
    let detection = (monitoring || rng.bernoulli(human_detection)).then(|| seconds(rng.exponential(DETECTION_DELAY_MEAN)));
    let reopen_draw = rng.uniform();
    let reopens = if reopen_draw < REOPEN_TWICE {
        2
    } else if reopen_draw < REOPEN_TWICE + REOPEN_ONCE {
        1
    } else {
        0
    };
    let reassignments = rng.geometric(REASSIGN_P, 20) as u8;
    let major = rng.bernoulli(MAJOR_SHARE[p]);
    let pause = rng.bernoulli(PAUSE_SHARE).then(|| (rng.uniform_in(0.05, 0.5), rng.uniform_in(0.1, 0.4)));
    Incident {
        seq,
        opened,
        ci,
        priority: p as u8 + 1,
        impact,
        urgency,
        contact,
        first_line,
        ack_delay,
        work,
        close_delay,
        detection,
        reopens,
        reassignments,
        major,
        pause,
        problem: None,
        caused_by: None,
    }
}

/// Whole seconds, as every generated timestamp is.
pub(super) fn seconds(x: f64) -> i64 {
    x.round() as i64
}

/// One state change: the state entered at `at`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Transition {
    pub at: i64,
    pub to: &'static str,
}

/// What the source shows for an incident at `as_of`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Snapshot {
    pub started: Option<i64>,
    pub acknowledged: Option<i64>,
    pub resolved: Option<i64>,
    pub closed: Option<i64>,
    pub state: &'static str,
    pub reopen_count: i64,
    pub made_sla: Option<bool>,
}

impl Incident {
    /// The state changes up to `as_of`, in time order, into `out` (cleared first). Reopen
    /// cycles and the pause sit inside the work interval, so times never decrease.
    pub fn timeline(&self, as_of: i64, out: &mut Vec<Transition>) {
        out.clear();
        let acknowledged = self.opened + self.ack_delay;
        let resolved = self.opened + self.work;
        let span = (resolved - acknowledged) as f64;
        let parts = 2 * i64::from(self.reopens) + 1;
        let boundary = |j: i64| acknowledged + (span * j as f64 / parts as f64) as i64;
        out.push(Transition { at: self.opened, to: NEW });
        out.push(Transition { at: acknowledged, to: IN_PROGRESS });
        if let Some((from, length)) = self.pause {
            let segment = (boundary(1) - acknowledged) as f64;
            let paused = acknowledged + (segment * from) as i64;
            out.push(Transition { at: paused, to: AWAITING });
            out.push(Transition { at: paused + (segment * length) as i64, to: IN_PROGRESS });
        }
        for cycle in 1..=i64::from(self.reopens) {
            out.push(Transition { at: boundary(2 * cycle - 1), to: RESOLVED });
            out.push(Transition { at: boundary(2 * cycle), to: IN_PROGRESS });
        }
        out.push(Transition { at: resolved, to: RESOLVED });
        out.push(Transition { at: resolved + self.close_delay, to: CLOSED });
        let happened = out.partition_point(|t| t.at <= as_of);
        out.truncate(happened);
    }

    /// The row's times and state at `as_of`, read off the timeline so rows and events agree.
    pub fn snapshot(&self, timeline: &[Transition], as_of: i64) -> Snapshot {
        let state = timeline.last().map_or(NEW, |t| t.to);
        let at_state = |name: &str| timeline.iter().rev().find(|t| t.to == name).map(|t| t.at);
        let resolved = matches!(state, RESOLVED | CLOSED).then(|| at_state(RESOLVED)).flatten();
        let reopen_count = timeline.windows(2).filter(|w| w[0].to == RESOLVED && w[1].to == IN_PROGRESS).count() as i64;
        let target = SLA_HOURS[usize::from(self.priority - 1)] * HOUR;
        let made_sla = match resolved {
            Some(r) => Some(r - self.opened <= target),
            // The tool already knows an open ticket past its target has breached.
            None => (as_of - self.opened > target).then_some(false),
        };
        Snapshot {
            started: self.detection.map(|d| self.opened - d),
            acknowledged: timeline.iter().find(|t| t.to == IN_PROGRESS).map(|t| t.at),
            resolved,
            closed: (state == CLOSED).then(|| at_state(CLOSED)).flatten(),
            state,
            reopen_count,
            made_sla,
        }
    }
}
