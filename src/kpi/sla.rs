//! The SLA policy: response and resolution targets per priority, the calendar each clock runs on,
//! the states that pause a clock, who resolves at first contact, and each service's agreed
//! service time. It reaches SQL as the `sla_targets`, `sla_pause_states`,
//! `fcr_service_desk_groups`, `monitoring_contact_types` and `service_levels` tables, and as the
//! calendars inside the business-time functions.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::functions::Calendars;
use crate::functions::calendar::{Calendar, CalendarSpec};

/// The default policy, shipped in the binary; `sample-data/sla.toml` is the same file.
pub const DEFAULT_POLICY: &str = include_str!("../../sample-data/sla.toml");

/// The calendar every policy has, open round the clock: a service the policy does not name, and a
/// CI without a service, are agreed to run on it. A policy may define it only as always open.
pub const ROUND_THE_CLOCK: &str = "24x7";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    description: String,
    /// States (events.to_value of field `state`) during which resolution clocks stand still.
    #[serde(default)]
    pause_states: Vec<String>,
    calendars: BTreeMap<String, CalendarSpec>,
    /// Keyed by priority, "1" to "5".
    priorities: BTreeMap<String, TargetSpec>,
    #[serde(default)]
    first_contact: FirstContactSpec,
    /// Keyed by business service name: its agreed service time.
    #[serde(default)]
    services: BTreeMap<String, ServiceSpec>,
    /// Keyed by assignment group (`*`: every group without its own), then by priority "1" to "5":
    /// the hours the group may hold an incident.
    #[serde(default)]
    ola: BTreeMap<String, BTreeMap<String, f64>>,
}

/// An operational-level agreement: the hours `group` may hold an incident of `priority`, on the
/// calendar of the priority's SLA, less its pauses. `group` is `*` for every group without its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Ola {
    pub group: String,
    pub priority: i64,
    pub hours: f64,
}

/// The group of `[ola]` that applies to every group without its own.
pub const ANY_GROUP: &str = "*";

/// `[services."<name>"]`: when a service is agreed to run, and how available it is to be.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceSpec {
    calendar: String,
    availability_target: Option<f64>,
}

/// A service's agreed service time, as the policy states it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceLevel {
    pub service: String,
    pub calendar: String,
    /// The share of agreed service time the service is to be available, in (0, 1].
    pub availability_target: Option<f64>,
}

/// `[first_contact]`: who resolves at first contact, and which tickets no person contacted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct FirstContactSpec {
    /// Assignment groups of the service desk: an incident they resolved, never reassigned and
    /// never reopened, was resolved at first contact (where no source flag says).
    service_desk_groups: Vec<String>,
    /// Contact types of machine-raised incidents, left out of first-contact resolution.
    monitoring_contact_types: Vec<String>,
}

impl Default for FirstContactSpec {
    fn default() -> Self {
        FirstContactSpec { service_desk_groups: Vec::new(), monitoring_contact_types: vec!["monitoring".into(), "event".into(), "alert".into()] }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetSpec {
    response_hours: f64,
    resolution_hours: f64,
    calendar: String,
}

/// A validated policy.
#[derive(Debug, Clone)]
pub struct SlaPolicy {
    pub origin: String,
    pub description: String,
    pub pause_states: Vec<String>,
    pub calendars: BTreeMap<String, Calendar>,
    /// (priority, response hours, resolution hours, calendar name), by priority.
    pub targets: Vec<(i64, f64, f64, String)>,
    /// SHA-256 of the policy's text.
    pub sha256: String,
    /// `[first_contact] service_desk_groups`, as written.
    pub service_desk_groups: Vec<String>,
    /// `[first_contact] monitoring_contact_types`, as written.
    pub monitoring_contact_types: Vec<String>,
    /// `[services]`, by service name.
    pub services: Vec<ServiceLevel>,
    /// `[ola]`, by group and priority.
    pub olas: Vec<Ola>,
}

impl SlaPolicy {
    pub fn default_policy() -> Result<SlaPolicy> {
        SlaPolicy::parse(DEFAULT_POLICY, "built-in SLA policy")
    }

    /// Adds the source tool's own pause states (declared by an event-log profile, see
    /// `LoadSummary::pause_states`): they stop clocks too. Every road from a load to KPIs calls this.
    pub fn add_source_pause_states(&mut self, states: &[String]) {
        for state in states {
            if !self.pause_states.contains(state) {
                self.pause_states.push(state.clone());
            }
        }
    }

    /// The policy's calendars, as the business-time functions hold them.
    pub fn calendars(&self) -> Calendars {
        Calendars { policy: self.origin.clone(), by_name: Arc::new(self.calendars.clone()) }
    }

    pub fn load(path: &Path) -> Result<SlaPolicy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        SlaPolicy::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<SlaPolicy> {
        let fail = |message: String| Error::SlaPolicy { origin: origin.to_string(), message };
        let file: PolicyFile = toml::from_str(text).map_err(|e| fail(e.to_string()))?;
        let mut calendars = BTreeMap::new();
        for (name, spec) in &file.calendars {
            calendars.insert(name.clone(), Calendar::from_spec(name, spec).map_err(fail)?);
        }
        match calendars.get(ROUND_THE_CLOCK) {
            Some(c) if !c.spec().always_open => {
                return Err(fail(format!(
                    "calendars.{ROUND_THE_CLOCK}: this name is the round-the-clock calendar of every policy; write always_open = true or choose another name"
                )));
            }
            Some(_) => {}
            None => {
                calendars.insert(ROUND_THE_CLOCK.into(), Calendar::always_open());
            }
        }
        let mut services = Vec::new();
        for (service, spec) in &file.services {
            if !calendars.contains_key(&spec.calendar) {
                return Err(fail(format!(
                    "services.\"{service}\".calendar: no calendar `{}`; calendars are: {}",
                    spec.calendar,
                    calendars.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            if let Some(target) = spec.availability_target
                && !(target.is_finite() && target > 0.0 && target <= 1.0)
            {
                return Err(fail(format!("services.\"{service}\".availability_target: {target} is not a share in (0, 1], such as 0.999")));
            }
            services.push(ServiceLevel { service: service.clone(), calendar: spec.calendar.clone(), availability_target: spec.availability_target });
        }
        let mut targets = Vec::new();
        for (key, target) in &file.priorities {
            let priority: i64 = key.parse().ok().filter(|p| (1..=5).contains(p)).ok_or_else(|| fail(format!("priorities.{key}: priorities are 1 to 5")))?;
            if !calendars.contains_key(&target.calendar) {
                return Err(fail(format!(
                    "priorities.{key}.calendar: no calendar `{}`; calendars are: {}",
                    target.calendar,
                    calendars.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            for (what, hours) in [("response_hours", target.response_hours), ("resolution_hours", target.resolution_hours)] {
                if !(hours.is_finite() && hours > 0.0) {
                    return Err(fail(format!("priorities.{key}.{what}: {hours} must be a positive number of hours")));
                }
            }
            targets.push((priority, target.response_hours, target.resolution_hours, target.calendar.clone()));
        }
        targets.sort_by_key(|t| t.0);
        let mut olas = Vec::new();
        let mut folded = std::collections::BTreeMap::new();
        for (group, by_priority) in &file.ola {
            if group.trim().is_empty() {
                return Err(fail("ola: a group name is empty; name the assignment group, or `*` for every group without its own".into()));
            }
            if let Some(other) = folded.insert(group.trim().to_lowercase(), group) {
                return Err(fail(format!("ola: \"{other}\" and \"{group}\" name the same group (names match without case or outer spaces); keep one")));
            }
            for (key, hours) in by_priority {
                let priority: i64 = key.parse().ok().filter(|p| targets.iter().any(|t| t.0 == *p)).ok_or_else(|| {
                    fail(format!("ola.\"{group}\".{key}: not a priority of the policy's [priorities]; OLA hours count on a priority's calendar"))
                })?;
                if !(hours.is_finite() && *hours > 0.0) {
                    return Err(fail(format!("ola.\"{group}\".{key}: {hours} must be a positive number of hours")));
                }
                olas.push(Ola { group: group.clone(), priority, hours: *hours });
            }
        }
        let sha256 = crate::store::hash::sha256_hex(text.as_bytes());
        let FirstContactSpec { service_desk_groups, monitoring_contact_types } = file.first_contact;
        Ok(SlaPolicy {
            origin: origin.into(),
            description: file.description,
            pause_states: file.pause_states,
            calendars,
            targets,
            sha256,
            service_desk_groups,
            monitoring_contact_types,
            services,
            olas,
        })
    }

    /// Registers `sla_targets(priority, response_hours, resolution_hours, calendar)`,
    /// `sla_pause_states(state)`, `ola_targets(group_name, priority, ola_hours)` (group names
    /// trimmed and lower-cased, `*` for every group without its own), and for first-contact
    /// resolution `fcr_service_desk_groups(group_name)`
    /// and `monitoring_contact_types(contact_type)`, both trimmed and lower-cased (queries match
    /// `lower(trim(column))` against them), and `service_levels(service, calendar,
    /// availability_target)`.
    pub fn register(&self, ctx: &SessionContext) -> Result<()> {
        let targets = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("priority", DataType::Int64, false),
                Field::new("response_hours", DataType::Float64, false),
                Field::new("resolution_hours", DataType::Float64, false),
                Field::new("calendar", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(Int64Array::from_iter_values(self.targets.iter().map(|t| t.0))) as ArrayRef,
                Arc::new(Float64Array::from_iter_values(self.targets.iter().map(|t| t.1))),
                Arc::new(Float64Array::from_iter_values(self.targets.iter().map(|t| t.2))),
                Arc::new(StringArray::from_iter_values(self.targets.iter().map(|t| t.3.as_str()))),
            ],
        )?;
        let pauses = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("state", DataType::Utf8, false)])),
            vec![Arc::new(StringArray::from_iter_values(self.pause_states.iter()))],
        )?;
        let names = |column: &str, values: &[String]| {
            // Once each: a name written twice would join every incident twice.
            let folded: Vec<String> = values.iter().map(|v| v.trim().to_lowercase()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            RecordBatch::try_new(Arc::new(Schema::new(vec![Field::new(column, DataType::Utf8, false)])), vec![Arc::new(StringArray::from(folded)) as ArrayRef])
        };
        let levels = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("service", DataType::Utf8, false),
                Field::new("calendar", DataType::Utf8, false),
                Field::new("availability_target", DataType::Float64, true),
            ])),
            vec![
                Arc::new(StringArray::from_iter_values(self.services.iter().map(|s| s.service.as_str()))) as ArrayRef,
                Arc::new(StringArray::from_iter_values(self.services.iter().map(|s| s.calendar.as_str()))),
                Arc::new(Float64Array::from_iter(self.services.iter().map(|s| s.availability_target))),
            ],
        )?;
        // Group names fold as the first-contact groups do; `parse` refused two that fold alike.
        let olas: Vec<(String, i64, f64)> = self.olas.iter().map(|o| (o.group.trim().to_lowercase(), o.priority, o.hours)).collect();
        let ola = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("group_name", DataType::Utf8, false),
                Field::new("priority", DataType::Int64, false),
                Field::new("ola_hours", DataType::Float64, false),
            ])),
            vec![
                Arc::new(StringArray::from_iter_values(olas.iter().map(|o| o.0.as_str()))) as ArrayRef,
                Arc::new(Int64Array::from_iter_values(olas.iter().map(|o| o.1))),
                Arc::new(Float64Array::from_iter_values(olas.iter().map(|o| o.2))),
            ],
        )?;
        let desk = names("group_name", &self.service_desk_groups)?;
        let monitoring = names("contact_type", &self.monitoring_contact_types)?;
        for (name, batch) in [
            ("sla_targets", targets),
            ("sla_pause_states", pauses),
            ("fcr_service_desk_groups", desk),
            ("monitoring_contact_types", monitoring),
            ("service_levels", levels),
            ("ola_targets", ola),
        ] {
            ctx.register_table(name, Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_valid() {
        let policy = SlaPolicy::default_policy().unwrap();
        assert_eq!(policy.targets.iter().map(|t| t.0).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn mistakes_are_named() {
        let err = SlaPolicy::parse("[calendars.a]\nalways_open = true\n[priorities.1]\nresponse_hours = 1\nresolution_hours = 4\ncalendar = \"b\"\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("p.toml") && err.contains("no calendar `b`"), "{err}");
        let err = SlaPolicy::parse("[calendars.a]\nalways_open = true\n[priorities.1]\nresponse_hour = 1\n", "p.toml").unwrap_err().to_string();
        assert!(err.contains("response_hour"), "{err}");
    }

    #[test]
    fn services_name_a_calendar_and_a_share() {
        let policy = |services: &str| SlaPolicy::parse(&format!("[calendars.a]\nalways_open = true\n[priorities]\n{services}"), "p.toml");
        let ok = policy("[services.\"HR Portal\"]\ncalendar = \"24x7\"\navailability_target = 0.995\n").unwrap();
        assert_eq!(ok.services, [ServiceLevel { service: "HR Portal".into(), calendar: "24x7".into(), availability_target: Some(0.995) }]);
        assert!(ok.calendars[ROUND_THE_CLOCK].spec().always_open, "every policy has the round-the-clock calendar");
        let err = |services: &str| policy(services).unwrap_err().to_string();
        assert!(err("[services.S]\ncalendar = \"office\"\n").contains("services.\"S\".calendar: no calendar `office`"));
        assert!(err("[services.S]\ncalendar = \"a\"\navailability_target = 99.5\n").contains("not a share in (0, 1]"));
        assert!(err("[services.S]\ncalender = \"a\"\n").contains("calender"));
        let office = "[calendars.24x7]\n[calendars.24x7.hours]\nmon = [\"08:00-17:00\"]\n[priorities]\n";
        assert!(SlaPolicy::parse(office, "p.toml").unwrap_err().to_string().contains("round-the-clock calendar of every policy"));
    }

    #[test]
    fn olas_name_a_priority_of_the_policy_and_positive_hours() {
        let policy = |ola: &str| {
            SlaPolicy::parse(
                &format!("[calendars.a]\nalways_open = true\n[priorities.1]\nresponse_hours = 1\nresolution_hours = 4\ncalendar = \"a\"\n{ola}"),
                "p.toml",
            )
        };
        let ok = policy("[ola.\"*\"]\n1 = 2\n[ola.\"Service Desk\"]\n1 = 0.5\n").unwrap();
        assert_eq!(ok.olas, [Ola { group: "*".into(), priority: 1, hours: 2.0 }, Ola { group: "Service Desk".into(), priority: 1, hours: 0.5 }]);
        let err = |ola: &str| policy(ola).unwrap_err().to_string();
        assert!(err("[ola.DBA]\n2 = 4\n").contains("ola.\"DBA\".2: not a priority of the policy's [priorities]"));
        assert!(err("[ola.DBA]\n1 = 0\n").contains("must be a positive number of hours"));
        assert!(err("[ola.DBA]\n1 = 1\n[ola.dba]\n1 = 2\n").contains("name the same group"));
        assert!(SlaPolicy::default_policy().unwrap().olas.iter().any(|o| o.group == ANY_GROUP), "the default policy has a default OLA");
    }
}
