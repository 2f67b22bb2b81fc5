//! The ground truth: what the generator planted and what it realised, as `ground_truth.json`
//! states it, and the per-class incident rates measured over the drawn CMDB and incidents.

use serde::{Deserialize, Serialize};

use super::Window;
use super::cmdb::{CLASSES, Cmdb};
use super::incidents::Incident;

/// The planted shift, as ground_truth.json states it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShiftTruth {
    /// First instant of the shift, RFC 3339 UTC.
    pub from: String,
    /// Which incidents: `priority=3` or `assignment_group=Service Desk`.
    pub incidents: String,
    /// Resolution times (opened to resolved) are multiplied by this.
    pub factor: f64,
    /// Incidents opened from `from` on that the shift changed.
    pub shifted: u64,
}

/// What the generator planted, and what it realised in this data set. Written as
/// `ground_truth.json` next to the tables.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroundTruth {
    /// Seed the data was generated from; the same seed gives byte-identical files.
    pub seed: u64,
    /// Incident rows written.
    pub incidents: usize,
    /// Window length in calendar months.
    pub months: u32,
    /// First instant of the window, RFC 3339 UTC.
    pub window_start: String,
    /// End of the window, RFC 3339 UTC: the `--as-of` to analyse with. No timestamp that records
    /// something that happened lies after it.
    pub as_of: String,
    /// Planted share of incidents raised by monitoring (contact type `monitoring`), which arrive
    /// round the clock rather than in working hours.
    pub monitoring_share: f64,
    /// Planted mean of `opened_at - started_at`, in hours (exponentially distributed).
    pub detection_delay_mean_hours: f64,
    /// Realised mean of `opened_at - started_at` over incidents that have `started_at`, hours.
    pub detection_delay_realised_mean_hours: f64,
    /// Planted share of incidents with `started_at`: every monitoring incident and a share of
    /// the others.
    pub detection_share: f64,
    /// Realised share of incidents with `started_at`.
    pub detection_share_realised: f64,
    /// Planted share of incidents linked to a problem.
    pub problem_link_share: f64,
    /// Realised share of incidents with a `problem_id`.
    pub problem_link_share_realised: f64,
    /// Planted lift: how many times as likely a completed failed patch (outcome `failed` or
    /// `backed_out`) is to be followed by an incident on its CI within
    /// `correlation_window_hours` after `actual_end` as a completed successful patch (outcome
    /// `successful` or `successful_with_issues`). See `patches.planted_factor` for clamping.
    pub failed_patch_factor: f64,
    /// The window after a patch's `actual_end`, `(actual_end, actual_end + window]`, in hours.
    pub correlation_window_hours: i64,
    /// A planted change in resolution times (`mttx generate --shift-…`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution_shift: Option<ShiftTruth>,
    /// How the failed-patch effect was planted and what it realised.
    pub patches: PatchTruth,
    /// Per CI class: planted multiplier and incident rates.
    pub ci_classes: Vec<CiClassTruth>,
    /// Rows written per table.
    pub rows: RowCounts,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PatchTruth {
    /// `q`: share of completed patches followed by an incident before planting.
    pub background_rate: f64,
    /// The factor planted: `failed_patch_factor`, or less when `failed_patch_factor · q` would
    /// exceed 0.9.
    pub planted_factor: f64,
    /// Whether `planted_factor` was clamped below `failed_patch_factor`.
    pub factor_clamped: bool,
    /// `r = (F·q - q) / (1 - q)`: chance that a failed patch not already followed received an
    /// incident moved onto its CI within the window.
    pub relocation_probability: f64,
    /// Incidents moved onto a failed patch's CI to plant the effect.
    pub relocated_incidents: u64,
    /// Relocated incidents whose `caused_by_change` names the patch (no others have one).
    pub caused_by_change_set: u64,
    /// Completed patches with outcome `failed` or `backed_out`.
    pub failed_patches: u64,
    /// Of those, followed by at least one incident on the same CI within the window.
    pub failed_followed: u64,
    /// `failed_followed / failed_patches`.
    pub failed_rate: f64,
    /// Completed patches with outcome `successful` or `successful_with_issues`.
    pub successful_patches: u64,
    /// Of those, followed by at least one incident on the same CI within the window.
    pub successful_followed: u64,
    /// `successful_followed / successful_patches`.
    pub successful_rate: f64,
    /// `failed_rate / successful_rate`, as the KPI measures it; null when undefined.
    pub realised_lift: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CiClassTruth {
    /// CI class as written in `cis.class`.
    pub class: String,
    /// CIs of this class.
    pub cis: u64,
    /// Planted relative incident rate of the class; each CI also has a log-normal frailty.
    pub rate_multiplier: f64,
    /// Mean frailty of the class's CIs as drawn.
    pub mean_frailty: f64,
    /// In-service time of the class's CIs within the window, in months of average length.
    pub ci_months: f64,
    /// Incidents per CI-month the model expects for the class, given the CIs and incident
    /// times drawn (before failed-patch planting moves a few incidents).
    pub expected_incidents_per_ci_month: f64,
    /// Incidents per CI-month in the written data.
    pub realised_incidents_per_ci_month: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RowCounts {
    pub incidents: u64,
    pub problems: u64,
    pub changes: u64,
    pub cis: u64,
    pub events: u64,
    /// Absent from files written before outages were generated.
    #[serde(default)]
    pub outages: u64,
}

pub(super) fn class_truth(cmdb: &Cmdb, incidents: &[Incident], window: &Window, expected: &[f64; CLASSES.len()]) -> Vec<CiClassTruth> {
    let mut cis = [0u64; CLASSES.len()];
    let mut frailty = [0.0; CLASSES.len()];
    let mut exposure = [0i64; CLASSES.len()];
    for ci in &cmdb.cis {
        cis[ci.class] += 1;
        frailty[ci.class] += ci.frailty;
        exposure[ci.class] += ci.exposure(window);
    }
    let mut realised = [0u64; CLASSES.len()];
    for incident in incidents {
        realised[cmdb.cis[incident.ci as usize].class] += 1;
    }
    CLASSES
        .iter()
        .enumerate()
        .map(|(c, class)| {
            let ci_months = exposure[c] as f64 / window.month_seconds();
            let per_ci_month = |count: f64| {
                if ci_months > 0.0 { count / ci_months } else { 0.0 }
            };
            CiClassTruth {
                class: class.name.to_string(),
                cis: cis[c],
                rate_multiplier: class.multiplier,
                mean_frailty: if cis[c] > 0 { frailty[c] / cis[c] as f64 } else { 0.0 },
                ci_months,
                expected_incidents_per_ci_month: per_ci_month(expected[c]),
                realised_incidents_per_ci_month: per_ci_month(realised[c] as f64),
            }
        })
        .collect()
}
