//! The synthetic CMDB: CI classes with planted failure-rate multipliers, services, and CIs with a
//! per-CI frailty and a service life. Incidents and changes pick their CI here.

use super::rng::Rng;
use super::{DAY, Window};

/// A CI class and what it plants: incidents land on a CI with probability proportional to
/// `multiplier` times the CI's frailty.
pub(super) struct CiClass {
    pub name: &'static str,
    pub multiplier: f64,
    /// Share of CIs in this class.
    pub share: f64,
    pub category: &'static str,
    pub resolver_group: &'static str,
    pub name_part: &'static str,
}

pub(super) const CLASSES: [CiClass; 5] = [
    CiClass { name: "server", multiplier: 1.0, share: 0.35, category: "Server", resolver_group: "Server Operations", name_part: "srv" },
    CiClass { name: "database", multiplier: 1.3, share: 0.15, category: "Database", resolver_group: "Database Administration", name_part: "db" },
    CiClass { name: "network", multiplier: 0.8, share: 0.15, category: "Network", resolver_group: "Network Operations", name_part: "net" },
    CiClass { name: "storage", multiplier: 0.6, share: 0.10, category: "Storage", resolver_group: "Storage Team", name_part: "stor" },
    CiClass { name: "application", multiplier: 1.6, share: 0.25, category: "Application", resolver_group: "Application Support", name_part: "app" },
];

/// Business services as `(display name, slug for CI names)`.
pub(super) const SERVICES: [(&str, &str); 20] = [
    ("Payments", "payments"),
    ("Online Banking", "banking"),
    ("Email", "email"),
    ("HR Portal", "hr"),
    ("CRM", "crm"),
    ("ERP", "erp"),
    ("Data Warehouse", "dwh"),
    ("VPN", "vpn"),
    ("Public Website", "web"),
    ("Mobile App", "mobile"),
    ("Identity and Access", "iam"),
    ("File Sharing", "files"),
    ("Telephony", "voice"),
    ("Printing", "print"),
    ("Billing", "billing"),
    ("Logistics", "logistics"),
    ("Self-Service Portal", "portal"),
    ("Monitoring", "monitoring"),
    ("Backup", "backup"),
    ("Intranet", "intranet"),
];

const CRITICALITIES: [(&str, f64); 3] = [("high", 0.2), ("medium", 0.5), ("low", 0.3)];

/// Share of CIs that enter service during the window rather than before it.
const LATE_SHARE: f64 = 0.10;
/// Share of CIs retired during the window; drawn among those in service from its start.
const RETIRED_SHARE: f64 = 0.03;
const FRAILTY_SIGMA: f64 = 0.5;
/// Draws before [`Cmdb::pick_weighted`] gives up on rejection and scans instead.
const MAX_REJECTIONS: usize = 64;

pub(super) struct Ci {
    pub class: usize,
    pub service: usize,
    pub criticality: &'static str,
    pub name: String,
    pub frailty: f64,
    pub in_service_from: i64,
    pub in_service_to: Option<i64>,
}

impl Ci {
    /// In service at `t`: the interval is half-open, `[from, to)`.
    pub fn in_service(&self, t: i64) -> bool {
        self.in_service_from <= t && self.in_service_to.is_none_or(|to| t < to)
    }

    pub fn in_service_over(&self, from: i64, until: i64) -> bool {
        self.in_service(from) && self.in_service_to.is_none_or(|to| until < to)
    }

    pub fn class(&self) -> &'static CiClass {
        &CLASSES[self.class]
    }

    pub fn service_name(&self) -> &'static str {
        SERVICES[self.service].0
    }

    fn incident_weight(&self) -> f64 {
        self.class().multiplier * self.frailty
    }

    /// Seconds of the window during which the CI is in service.
    pub fn exposure(&self, window: &Window) -> i64 {
        let from = self.in_service_from.max(window.start);
        let to = self.in_service_to.unwrap_or(window.as_of).min(window.as_of);
        (to - from).max(0)
    }
}

pub(super) struct Cmdb {
    pub cis: Vec<Ci>,
    /// Running sums of incident weights, for drawing a CI in proportion to its weight.
    cumulative_weight: Vec<f64>,
}

impl Cmdb {
    pub fn generate(count: usize, window: &Window, rng: &mut Rng) -> Cmdb {
        let class_shares: Vec<f64> = CLASSES.iter().map(|c| c.share).collect();
        let criticality_shares: Vec<f64> = CRITICALITIES.iter().map(|c| c.1).collect();
        let window_days = (window.as_of - window.start) / DAY;
        let mut per_service_class = [[0u32; CLASSES.len()]; SERVICES.len()];
        let mut cis = Vec::with_capacity(count);
        for i in 0..count {
            let class = rng.weighted(&class_shares);
            let service = rng.below(SERVICES.len() as u64) as usize;
            let criticality = CRITICALITIES[rng.weighted(&criticality_shares)].0;
            let frailty = rng.lognormal(1.0, FRAILTY_SIGMA);
            // The first CI is always in service, so every instant of the window has a CI.
            let late = i > 0 && rng.bernoulli(LATE_SHARE);
            let in_service_from = if late { window.start + DAY * rng.between(0, window_days * 4 / 5) } else { window.start - DAY * rng.between(30, 5 * 365) };
            let retired = i > 0 && !late && rng.bernoulli(RETIRED_SHARE / (1.0 - LATE_SHARE));
            let in_service_to = retired.then(|| window.start + DAY * rng.between(window_days / 20, window_days * 19 / 20));
            per_service_class[service][class] += 1;
            let name = format!("{}-{}-{:03}", SERVICES[service].1, CLASSES[class].name_part, per_service_class[service][class]);
            cis.push(Ci { class, service, criticality, name, frailty, in_service_from, in_service_to });
        }
        let cumulative_weight = cis
            .iter()
            .scan(0.0, |sum, ci| {
                *sum += ci.incident_weight();
                Some(*sum)
            })
            .collect();
        Cmdb { cis, cumulative_weight }
    }

    /// A CI in service at `t`, drawn with probability proportional to its incident weight
    /// among the CIs in service then (rejection keeps that exact).
    pub fn pick_weighted(&self, t: i64, rng: &mut Rng) -> u32 {
        let total = self.cumulative_weight.last().copied().unwrap_or(0.0);
        for _ in 0..MAX_REJECTIONS {
            let target = rng.uniform() * total;
            let i = self.cumulative_weight.partition_point(|&c| c <= target).min(self.cis.len() - 1);
            if self.cis[i].in_service(t) {
                return i as u32;
            }
        }
        self.scan_from(rng.below(self.cis.len() as u64) as usize, |ci| ci.in_service(t))
    }

    /// A CI in service over all of `[from, until]`, drawn uniformly.
    pub fn pick_uniform(&self, from: i64, until: i64, rng: &mut Rng) -> u32 {
        for _ in 0..MAX_REJECTIONS {
            let i = rng.below(self.cis.len() as u64) as usize;
            if self.cis[i].in_service_over(from, until) {
                return i as u32;
            }
        }
        self.scan_from(rng.below(self.cis.len() as u64) as usize, |ci| ci.in_service_over(from, until))
    }

    /// The first CI from `start` on (wrapping) that satisfies `ok`; CI 0 when none does, which
    /// cannot happen for times the generator uses because CI 0 is in service throughout.
    fn scan_from(&self, start: usize, ok: impl Fn(&Ci) -> bool) -> u32 {
        let n = self.cis.len();
        (0..n).map(|k| (start + k) % n).find(|&i| ok(&self.cis[i])).unwrap_or(0) as u32
    }

    /// Expected incidents per class given the opening times (ascending) of incidents placed by
    /// [`Cmdb::pick_weighted`]: each adds, to every class, that class's share of the weight in
    /// service at its time. A sweep over service start and end events keeps this linear.
    pub fn expected_incidents_by_class(&self, opened_ascending: impl Iterator<Item = i64>) -> [f64; CLASSES.len()] {
        let mut active = [0.0; CLASSES.len()];
        // (time, ci, entering): an entry at `from`, an exit at `to`, matching `[from, to)`.
        let mut boundaries: Vec<(i64, usize, bool)> = Vec::new();
        for (i, ci) in self.cis.iter().enumerate() {
            boundaries.push((ci.in_service_from, i, true));
            if let Some(to) = ci.in_service_to {
                boundaries.push((to, i, false));
            }
        }
        boundaries.sort_unstable_by_key(|&(t, i, entering)| (t, entering, i));
        let mut next = 0;
        let mut expected = [0.0; CLASSES.len()];
        for t in opened_ascending {
            while next < boundaries.len() && boundaries[next].0 <= t {
                let (_, i, entering) = boundaries[next];
                let ci = &self.cis[i];
                let sign = if entering { 1.0 } else { -1.0 };
                active[ci.class] += sign * ci.incident_weight();
                next += 1;
            }
            let total: f64 = active.iter().sum();
            if total > 0.0 {
                for (e, a) in expected.iter_mut().zip(active) {
                    *e += a / total;
                }
            }
        }
        expected
    }
}
