//! Outage records: the service interruptions behind high-priority incidents, and the planned
//! outages of normal changes, as a CMDB outage table records them. They are drawn from a stream of
//! their own, so adding them left every other table's bytes unchanged for a seed.

use super::Window;
use super::changes::Change;
use super::incidents::Incident;
use super::rng::{Rng, Stream};
use super::{HOUR, MINUTE};

/// What an outage record says, as an index into `model::OUTAGE_TYPES`.
pub(super) const OUTAGE: u8 = 0;
pub(super) const DEGRADATION: u8 = 1;
pub(super) const PLANNED: u8 = 2;

/// A P1 or major incident took its service down with this probability, and degraded it otherwise.
const P1_OUTAGE_SHARE: f64 = 0.8;
/// A P2 that is not major: most degraded their service, a few took it down, the rest neither.
const P2_OUTAGE_SHARE: f64 = 0.2;
const P2_DEGRADATION_SHARE: f64 = 0.5;
/// Median length of an interruption: restoring service (a restart, a failover, a workaround)
/// takes less than resolving the incident, which it never outlasts.
const OUTAGE_MEDIAN_MINUTES: f64 = 45.0;
const DEGRADATION_MEDIAN_MINUTES: f64 = 120.0;
const OUTAGE_SIGMA: f64 = 0.8;
/// Normal changes that take their CI down for their whole implementation.
const PLANNED_SHARE: f64 = 0.25;

/// The ticket an outage was recorded against, by index.
#[derive(Debug, Clone, Copy)]
pub(super) enum Task {
    Incident(u32),
    Change(u32),
}

#[derive(Debug, Clone)]
pub(super) struct Outage {
    pub kind: u8,
    pub ci: u32,
    pub begins: i64,
    /// None while it lasts at the cut-off.
    pub ends: Option<i64>,
    pub task: Task,
}

/// The outages of `incidents` (sorted by opening) and `changes`, in order of their beginning.
pub(super) fn draw(incidents: &[Incident], changes: &[Change], window: &Window, seed: u64) -> Vec<Outage> {
    let mut rng = Rng::stream(seed, Stream::Outages, 0);
    let mut outages = Vec::new();
    for (index, incident) in incidents.iter().enumerate() {
        let kind = if incident.priority == 1 || incident.major {
            if rng.bernoulli(P1_OUTAGE_SHARE) { OUTAGE } else { DEGRADATION }
        } else if incident.priority == 2 {
            match rng.uniform() {
                u if u < P2_OUTAGE_SHARE => OUTAGE,
                u if u < P2_OUTAGE_SHARE + P2_DEGRADATION_SHARE => DEGRADATION,
                _ => continue,
            }
        } else {
            continue;
        };
        let median = if kind == OUTAGE { OUTAGE_MEDIAN_MINUTES } else { DEGRADATION_MEDIAN_MINUTES };
        let begins = incident.opened - incident.detection.unwrap_or(0);
        let length = super::incidents::seconds(rng.lognormal(median * MINUTE as f64, OUTAGE_SIGMA)).clamp(MINUTE, HOUR.max(incident.work));
        let ends = (begins + length).min(incident.opened + incident.work);
        outages.push(Outage { kind, ci: incident.ci, begins, ends: (ends <= window.as_of).then_some(ends), task: Task::Incident(index as u32) });
    }
    for (index, change) in changes.iter().enumerate() {
        let (Some(start), Some(end)) = (change.actual_start, change.actual_end) else { continue };
        if crate::model::CHANGE_TYPES[change.kind] == "normal" && end > start && rng.bernoulli(PLANNED_SHARE) {
            outages.push(Outage { kind: PLANNED, ci: change.ci, begins: start, ends: Some(end), task: Task::Change(index as u32) });
        }
    }
    outages.retain(|o| o.begins < window.as_of);
    outages.sort_by_key(|o| (o.begins, o.ci));
    outages
}
