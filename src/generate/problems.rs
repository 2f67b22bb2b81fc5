//! Problems: runs of recurring incidents on one CI (hence one category) grouped under a problem,
//! which opens after its first incidents and then follows its own lifecycle.

use super::changes::ByCi;
use super::incidents::{Incident, seconds};
use super::rng::{Rng, Stream};
use super::{DAY, Window};

/// Share of incidents planted with a `problem_id`.
pub(super) const PROBLEM_LINK_SHARE: f64 = 0.15;
const MAX_RUN: u32 = 10;
/// Incidents in a run beyond the first two are geometric with this success probability:
/// 1.5 more on average.
const RUN_EXTRA_P: f64 = 0.4;
const KNOWN_ERROR_SHARE: f64 = 0.7;
const RESOLVED_SHARE: f64 = 0.85;

#[derive(Debug, Clone)]
pub(super) struct Problem {
    pub ci: u32,
    pub opened: i64,
    pub known_error: Option<i64>,
    pub resolved: Option<i64>,
    pub closed: Option<i64>,
}

impl Problem {
    pub fn state(&self) -> &'static str {
        if self.closed.is_some() {
            "Closed"
        } else if self.resolved.is_some() {
            "Resolved"
        } else if self.known_error.is_some() {
            "Fix in Progress"
        } else {
            "Root Cause Analysis"
        }
    }
}

/// Links about [`PROBLEM_LINK_SHARE`] of the incidents to problems and returns the problems in
/// opening order (the order of their ids); incidents' `problem` indices refer to that order.
/// `incidents` must be sorted by opening time and `by_ci` built from that order.
pub(super) fn plant(incidents: &mut [Incident], by_ci: &ByCi, window: &Window, seed: u64) -> Vec<Problem> {
    let mut rng = Rng::stream(seed, Stream::Problems, 0);
    let n = incidents.len();
    let target = (PROBLEM_LINK_SHARE * n as f64).round() as usize;
    let mut problems = Vec::new();
    let mut linked = 0;
    // Attempts fail when they hit linked incidents or a problem that would open after `as_of`;
    // the bound only guards against looping forever on degenerate inputs.
    for _ in 0..20 * n + 1000 {
        if target.saturating_sub(linked) < 2 {
            break;
        }
        let first = rng.below(n as u64) as u32;
        let ci = incidents[first as usize].ci;
        let on = by_ci.on(ci);
        // Lists follow the incidents' order, so they are ascending by index too.
        let Ok(position) = on.binary_search(&first) else {
            continue;
        };
        let size = (2 + rng.geometric(RUN_EXTRA_P, MAX_RUN - 2) as usize).min(target - linked);
        let run: Vec<u32> = on[position..].iter().copied().take_while(|&i| incidents[i as usize].problem.is_none()).take(size).collect();
        if run.len() < 2 {
            continue;
        }
        let opened = incidents[run[1] as usize].opened + seconds(rng.lognormal(DAY as f64, 1.0));
        if opened > window.as_of {
            continue;
        }
        for &i in &run {
            incidents[i as usize].problem = Some(problems.len() as u32);
        }
        linked += run.len();
        problems.push(lifecycle(ci, opened, window.as_of, &mut rng));
    }

    let mut order: Vec<usize> = (0..problems.len()).collect();
    order.sort_unstable_by_key(|&p| (problems[p].opened, p));
    let mut rank = vec![0u32; problems.len()];
    for (new, &old) in order.iter().enumerate() {
        rank[old] = new as u32;
    }
    for incident in incidents.iter_mut() {
        if let Some(p) = &mut incident.problem {
            *p = rank[*p as usize];
        }
    }
    order.into_iter().map(|p| problems[p].clone()).collect()
}

/// Known error within days for most, root cause removed weeks later, closure after review;
/// anything after `as_of` has not happened yet.
fn lifecycle(ci: u32, opened: i64, as_of: i64, rng: &mut Rng) -> Problem {
    let known_error = rng.bernoulli(KNOWN_ERROR_SHARE).then(|| opened + seconds(rng.lognormal(5.0 * DAY as f64, 0.8)));
    let resolved = rng.bernoulli(RESOLVED_SHARE).then(|| known_error.unwrap_or(opened) + seconds(rng.lognormal(21.0 * DAY as f64, 0.7)));
    let closed = resolved.map(|r| r + rng.between(DAY, 14 * DAY));
    let happened = |t: Option<i64>| t.filter(|&t| t <= as_of);
    Problem { ci, opened, known_error: happened(known_error), resolved: happened(resolved), closed: happened(closed) }
}
