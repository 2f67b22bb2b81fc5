//! Changes, and the planted failed-patch effect: an incident on a patched CI in the 72 hours
//! after a failed patch is `FAILED_PATCH_FACTOR` times as likely as after a successful one.

use crate::model::{CHANGE_OUTCOMES, CHANGE_TYPES};

use super::cmdb::Cmdb;
use super::incidents::{Incident, weekday};
use super::rng::{Rng, Stream};
use super::{DAY, HOUR, MINUTE, Window};

/// Shares in `CHANGE_TYPES` order: standard, normal, emergency.
const TYPE_SHARE: [f64; 3] = [0.60, 0.35, 0.05];
/// Shares in `CHANGE_OUTCOMES` order: successful, successful_with_issues, failed, backed_out,
/// cancelled.
const OUTCOME_SHARE: [f64; 5] = [0.90, 0.04, 0.03, 0.015, 0.015];
pub(super) const PATCH_SHARE: f64 = 0.40;
/// Share of planned changes scheduled outside business hours.
const OUT_OF_HOURS_SHARE: f64 = 0.80;
/// Changes are planned up to this far past `as_of`; those are not yet implemented.
const PLANNED_AHEAD_DAYS: i64 = 14;
/// A changed CI stays in service at least this long after the planned start, so an incident
/// planted after the change can land on it.
const SERVICE_MARGIN: i64 = 7 * DAY;

pub(super) const FAILED_PATCH_FACTOR: f64 = 3.0;
pub(super) const CORRELATION_WINDOW: i64 = 72 * HOUR;
/// A failed patch is never planted to be followed more often than this; a larger `F·q` is
/// clamped and the ground truth says so.
const MAX_FOLLOW_RATE: f64 = 0.9;
/// Share of planted incidents whose source records the causing change.
const CAUSED_BY_SHARE: f64 = 0.6;
const MAX_CANDIDATE_DRAWS: usize = 64;

#[derive(Debug, Clone)]
pub(super) struct Change {
    /// Index into `CHANGE_TYPES`.
    pub kind: usize,
    pub is_patch: bool,
    pub ci: u32,
    pub planned_start: i64,
    pub planned_end: i64,
    pub actual_start: Option<i64>,
    pub actual_end: Option<i64>,
    /// Index into `CHANGE_OUTCOMES`; `None` while not implemented or still running at `as_of`.
    pub outcome: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PatchGroup {
    Failed,
    Successful,
}

impl Change {
    /// The group a completed patch counts in for the failed-patch KPI; `None` for anything else.
    pub fn patch_group(&self) -> Option<PatchGroup> {
        if !self.is_patch || self.actual_end.is_none() {
            return None;
        }
        match CHANGE_OUTCOMES[self.outcome?] {
            "failed" | "backed_out" => Some(PatchGroup::Failed),
            "successful" | "successful_with_issues" => Some(PatchGroup::Successful),
            _ => None,
        }
    }
}

/// Draws `count` changes, sorted by planned start (the order their ids follow).
pub(super) fn draw(count: usize, patch_share: f64, window: &Window, cmdb: &Cmdb, seed: u64) -> Vec<Change> {
    let mut rng = Rng::stream(seed, Stream::Changes, 0);
    let days = (window.as_of - window.start) / DAY + PLANNED_AHEAD_DAYS;
    let cancelled = CHANGE_OUTCOMES.iter().position(|&o| o == "cancelled");
    let mut changes: Vec<(i64, usize, Change)> = (0..count)
        .map(|seq| {
            let kind = rng.weighted(&TYPE_SHARE);
            let emergency = CHANGE_TYPES[kind] == "emergency";
            let day = window.start + DAY * rng.between(0, days - 1);
            let planned_start = day + planned_time_of_day(day, emergency, &mut rng);
            let planned_minutes = match CHANGE_TYPES[kind] {
                "standard" => 15 * rng.between(2, 8),
                "normal" => 15 * rng.between(4, 16),
                _ => 15 * rng.between(2, 12),
            };
            let planned_end = planned_start + planned_minutes * MINUTE;
            let ci = cmdb.pick_uniform(planned_start, planned_start + SERVICE_MARGIN, &mut rng);
            let is_patch = rng.bernoulli(patch_share);
            let outcome = rng.weighted(&OUTCOME_SHARE);
            let failed = matches!(CHANGE_OUTCOMES[outcome], "failed" | "backed_out");
            let mut change = Change { kind, is_patch, ci, planned_start, planned_end, actual_start: None, actual_end: None, outcome: None };
            if Some(outcome) != cancelled {
                let slip = (rng.normal() * 10.0 * MINUTE as f64).round() as i64;
                let actual_start = planned_start + slip.max(-30 * MINUTE);
                let overrun = rng.lognormal(if failed { 1.4 } else { 1.0 }, 0.25);
                let duration = ((planned_minutes * MINUTE) as f64 * overrun).round() as i64;
                let actual_end = actual_start + duration.max(MINUTE);
                if actual_start <= window.as_of {
                    change.actual_start = Some(actual_start);
                }
                if actual_end <= window.as_of {
                    change.actual_end = Some(actual_end);
                    change.outcome = Some(outcome);
                }
            } else if planned_start <= window.as_of {
                change.outcome = Some(outcome);
            }
            (planned_start, seq, change)
        })
        .collect();
    changes.sort_unstable_by_key(|&(start, seq, _)| (start, seq));
    changes.into_iter().map(|(_, _, change)| change).collect()
}

/// Seconds after midnight: maintenance windows at night and at weekends for most planned
/// changes, business hours for the rest, any time for emergencies.
fn planned_time_of_day(day: i64, emergency: bool, rng: &mut Rng) -> i64 {
    if emergency {
        return rng.between(0, DAY - 1);
    }
    let hour = if !rng.bernoulli(OUT_OF_HOURS_SHARE) {
        rng.between(9, 16)
    } else if weekday(day) >= 5 {
        rng.between(0, 23)
    } else {
        const NIGHT: [i64; 11] = [19, 20, 21, 22, 23, 0, 1, 2, 3, 4, 5];
        NIGHT[rng.below(NIGHT.len() as u64) as usize]
    };
    hour * HOUR + 15 * MINUTE * rng.between(0, 3)
}

/// Incidents per CI in opening order, so "incidents on this CI in this interval" is two binary
/// searches. Valid only while the incidents keep the order it was built from.
pub(super) struct ByCi {
    offsets: Vec<usize>,
    incidents: Vec<u32>,
}

impl ByCi {
    /// `incidents` must be sorted by opening time.
    pub fn new(incidents: &[Incident], ci_count: usize) -> ByCi {
        let mut offsets = vec![0; ci_count + 1];
        for incident in incidents {
            offsets[incident.ci as usize + 1] += 1;
        }
        for i in 0..ci_count {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut by_ci = vec![0; incidents.len()];
        for (i, incident) in incidents.iter().enumerate() {
            let slot = &mut fill[incident.ci as usize];
            by_ci[*slot] = i as u32;
            *slot += 1;
        }
        ByCi { offsets, incidents: by_ci }
    }

    /// Indices of the incidents on `ci`, in opening order.
    pub fn on(&self, ci: u32) -> &[u32] {
        let ci = ci as usize;
        &self.incidents[self.offsets[ci]..self.offsets[ci + 1]]
    }

    /// Incidents on `ci` opened in `(after, after + CORRELATION_WINDOW]`.
    pub fn following(&self, incidents: &[Incident], ci: u32, after: i64) -> &[u32] {
        let on = self.on(ci);
        let opened = |&i: &u32| incidents[i as usize].opened;
        let lo = on.partition_point(|i| opened(i) <= after);
        let hi = on.partition_point(|i| opened(i) <= after + CORRELATION_WINDOW);
        &on[lo..hi]
    }
}

/// Completed patches per group and how many were followed by an incident on their CI.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct FollowStats {
    pub failed: u64,
    pub failed_followed: u64,
    pub successful: u64,
    pub successful_followed: u64,
}

impl FollowStats {
    /// Measured exactly as the KPI defines it. `incidents` must be sorted by opening time.
    pub fn measure(changes: &[Change], incidents: &[Incident], by_ci: &ByCi) -> FollowStats {
        let mut stats = FollowStats::default();
        for change in changes {
            let (Some(group), Some(end)) = (change.patch_group(), change.actual_end) else {
                continue;
            };
            let followed = u64::from(!by_ci.following(incidents, change.ci, end).is_empty());
            match group {
                PatchGroup::Failed => {
                    stats.failed += 1;
                    stats.failed_followed += followed;
                }
                PatchGroup::Successful => {
                    stats.successful += 1;
                    stats.successful_followed += followed;
                }
            }
        }
        stats
    }
}

/// What planting the failed-patch effect did.
#[derive(Debug, Clone, Copy)]
pub(super) struct Planting {
    pub background_rate: f64,
    pub planted_factor: f64,
    pub clamped: bool,
    pub relocation_probability: f64,
    pub relocated: u64,
    pub caused_by_set: u64,
}

/// Plants the effect without changing the incident count. With `q` the share of completed
/// patches already followed by a background incident, a failed patch that is not followed
/// receives one with probability `r = (F·q - q) / (1 - q)`, making its follow rate `F·q` in
/// expectation. The incident is moved from elsewhere: one that follows no completed patch, so
/// no other patch loses its follower. The caller must re-sort incidents afterwards.
pub(super) fn plant_failed_patch_effect(incidents: &mut [Incident], changes: &[Change], cmdb: &Cmdb, window: &Window, seed: u64) -> Planting {
    let by_ci = ByCi::new(incidents, cmdb.cis.len());
    // Background follows are measured over all completed patches, failed ones included: before
    // planting, outcome and background are independent, and more patches give a steadier q.
    let mut follower = vec![false; incidents.len()];
    // Taken before any incident moves: `by_ci` is only valid for the original order.
    let mut already_followed = vec![false; changes.len()];
    let mut completed = 0u64;
    for (change, followed) in changes.iter().zip(&mut already_followed) {
        let (Some(_), Some(end)) = (change.patch_group(), change.actual_end) else {
            continue;
        };
        let after = by_ci.following(incidents, change.ci, end);
        completed += 1;
        *followed = !after.is_empty();
        for &i in after {
            follower[i as usize] = true;
        }
    }
    let followed = already_followed.iter().filter(|&&f| f).count();
    let q = if completed == 0 { 0.0 } else { followed as f64 / completed as f64 };
    let clamped = FAILED_PATCH_FACTOR * q > MAX_FOLLOW_RATE;
    let planted_factor = if clamped { MAX_FOLLOW_RATE / q } else { FAILED_PATCH_FACTOR };
    let r = if q > 0.0 && q < 1.0 { ((planted_factor * q - q) / (1.0 - q)).clamp(0.0, 1.0) } else { 0.0 };

    let mut rng = Rng::stream(seed, Stream::Relocation, 0);
    let mut planting = Planting { background_rate: q, planted_factor, clamped, relocation_probability: r, relocated: 0, caused_by_set: 0 };
    for (index, change) in changes.iter().enumerate() {
        let (Some(PatchGroup::Failed), Some(end)) = (change.patch_group(), change.actual_end) else {
            continue;
        };
        if already_followed[index] || !rng.bernoulli(r) {
            continue;
        }
        let last = (end + CORRELATION_WINDOW).min(window.as_of);
        if last <= end {
            continue;
        }
        let at = rng.between(end + 1, last);
        if !cmdb.cis[change.ci as usize].in_service(at) {
            continue;
        }
        let candidate = (0..MAX_CANDIDATE_DRAWS).map(|_| rng.below(incidents.len() as u64) as usize).find(|&i| !follower[i]);
        let Some(i) = candidate else { continue };
        follower[i] = true;
        let incident = &mut incidents[i];
        incident.opened = at;
        incident.ci = change.ci;
        planting.relocated += 1;
        if rng.bernoulli(CAUSED_BY_SHARE) {
            incident.caused_by = Some(index as u32);
            planting.caused_by_set += 1;
        }
    }
    planting
}
