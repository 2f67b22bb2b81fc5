//! Assignment-group changes: the groups an incident passes through on its way to the group that
//! resolves it, as events of field `assignment_group`. Their draws come from a stream of their own,
//! one per incident, so every other table is the same for a seed as before they were written.

use super::cmdb::{CLASSES, Cmdb};
use super::incidents::{Incident, MONITORING};
use super::rng::{Rng, Stream};

const SERVICE_DESK: &str = "Service Desk";

/// The group that worked an incident: the service desk, or its CI class's resolver group.
pub(super) fn assignment_group(incident: &Incident, cmdb: &Cmdb) -> &'static str {
    if incident.first_line { SERVICE_DESK } else { cmdb.cis[incident.ci as usize].class().resolver_group }
}

/// One change of group: `to` from `at`; `from` is None for the first assignment, at opening.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Reassignment {
    pub at: i64,
    pub from: Option<&'static str>,
    pub to: &'static str,
}

/// Every group an incident can be assigned to: the service desk and each class's resolvers.
fn groups() -> impl Iterator<Item = &'static str> {
    std::iter::once(SERVICE_DESK).chain(CLASSES.iter().map(|c| c.resolver_group))
}

/// The incident's assignments up to `as_of`, in time order, into `out` (cleared first): its first
/// group at opening, then `reassignments` changes spread over its work up to its first resolution,
/// the last to the group that resolves it. A human report starts at the service desk and a monitoring alert with the CI's
/// resolvers; a change always moves to another group.
pub(super) fn assignments(incident: &Incident, cmdb: &Cmdb, seed: u64, as_of: i64, out: &mut Vec<Reassignment>) {
    out.clear();
    let last = assignment_group(incident, cmdb);
    let changes = usize::from(incident.reassignments);
    let mut rng = Rng::stream(seed, Stream::Assignments, u64::from(incident.seq));
    let mut path = Vec::with_capacity(changes + 1);
    if changes == 0 {
        path.push(last);
    } else {
        let first = if incident.contact == MONITORING { cmdb.cis[incident.ci as usize].class().resolver_group } else { SERVICE_DESK };
        path.push(if first == last { pick(&mut rng, &[last]) } else { first });
        for k in 1..changes {
            let previous = path[k - 1];
            // The one before the last must differ from the last too, or the last change is none.
            let next = if k + 1 == changes { pick(&mut rng, &[previous, last]) } else { pick(&mut rng, &[previous]) };
            path.push(next);
        }
        path.push(last);
    }
    // The changes come before the first resolution (as `Incident::timeline` places it), so an
    // incident resolved at the cut-off has had all of them, even one that is reopened later.
    let parts = 2 * i64::from(incident.reopens) + 1;
    let first_resolution = incident.ack_delay + ((incident.work - incident.ack_delay) as f64 / parts as f64) as i64;
    let mut fractions: Vec<f64> = (0..changes).map(|_| rng.uniform_in(0.02, 0.9)).collect();
    fractions.sort_by(f64::total_cmp);
    out.push(Reassignment { at: incident.opened, from: None, to: path[0] });
    for (k, fraction) in fractions.into_iter().enumerate() {
        let at = incident.opened + (first_resolution as f64 * fraction) as i64;
        out.push(Reassignment { at, from: Some(path[k]), to: path[k + 1] });
    }
    out.retain(|r| r.at <= as_of);
}

/// A group other than those in `not`, uniformly.
fn pick(rng: &mut Rng, not: &[&str]) -> &'static str {
    let allowed: Vec<&'static str> = groups().filter(|g| !not.contains(g)).collect();
    allowed[rng.below(allowed.len() as u64) as usize]
}
