//! The canonical ticket model: the six tables every other part of mttx reads (the sixth, outages,
//! optional), their fields, and the invariants ingest enforces before a row may reach a KPI.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};

/// Version of the canonical model. A store records the version that wrote it; a later version may
/// only add nullable columns, which an older store's files read as null, and tables, which an older
/// store reads as empty (version 3 added `outages`).
pub const MODEL_VERSION: u32 = 3;

/// Time zone of every canonical timestamp column.
pub const UTC: &str = "UTC";

/// The Arrow type of every canonical timestamp: microseconds since the epoch, in UTC.
pub fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
}

/// One of the canonical tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    Incidents,
    Problems,
    Changes,
    Cis,
    Events,
    Outages,
}

impl Table {
    pub const ALL: [Table; 6] = [Table::Incidents, Table::Problems, Table::Changes, Table::Cis, Table::Events, Table::Outages];

    /// The table's name: its SQL name, its Parquet file stem and its key in profiles.
    pub fn name(self) -> &'static str {
        match self {
            Table::Incidents => "incidents",
            Table::Problems => "problems",
            Table::Changes => "changes",
            Table::Cis => "cis",
            Table::Events => "events",
            Table::Outages => "outages",
        }
    }

    /// One row of the table, in words: "incident", "configuration item".
    pub fn singular(self) -> &'static str {
        match self {
            Table::Incidents => "incident",
            Table::Problems => "problem",
            Table::Changes => "change",
            Table::Cis => "configuration item",
            Table::Events => "event",
            Table::Outages => "outage",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name() == name)
    }

    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Table::Incidents => INCIDENT_FIELDS,
            Table::Problems => PROBLEM_FIELDS,
            Table::Changes => CHANGE_FIELDS,
            Table::Cis => CI_FIELDS,
            Table::Events => EVENT_FIELDS,
            Table::Outages => OUTAGE_FIELDS,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Pairs `(earlier, later)` of timestamp fields: a row where both are set and `later < earlier`
    /// would produce a negative duration, so ingest rejects it.
    pub fn ordering_rules(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Table::Incidents => &[
                ("started_at", "opened_at"),
                ("opened_at", "acknowledged_at"),
                ("opened_at", "resolved_at"),
                ("opened_at", "closed_at"),
                ("resolved_at", "closed_at"),
            ],
            Table::Problems => &[("opened_at", "known_error_at"), ("opened_at", "resolved_at"), ("opened_at", "closed_at")],
            Table::Changes => &[("planned_start", "planned_end"), ("actual_start", "actual_end")],
            Table::Cis => &[("in_service_from", "in_service_to")],
            Table::Events => &[],
            Table::Outages => &[("begins_at", "ends_at")],
        }
    }

    /// The timestamp that says a row exists at all: before it, the ticket (or event) had not been
    /// opened. With a cut-off earlier than the data, rows whose existence timestamp lies after it
    /// are left out, and the table's other timestamps after it read as null.
    pub fn existence_field(self) -> Option<&'static str> {
        match self {
            Table::Incidents | Table::Problems => Some("opened_at"),
            Table::Events => Some("at"),
            Table::Outages => Some("begins_at"),
            Table::Changes | Table::Cis => None,
        }
    }

    /// The column a store sorts the table's files by, so row-group statistics let period
    /// filters skip whole row groups. UTC instants only: nothing in the layout depends on the
    /// reporting time zone, which each query chooses.
    pub fn sort_field(self) -> &'static str {
        match self {
            Table::Incidents | Table::Problems => "opened_at",
            Table::Changes => "actual_end",
            Table::Events => "at",
            Table::Outages => "begins_at",
            Table::Cis => "id",
        }
    }

    /// The Arrow schema of the table as written to Parquet and registered for SQL.
    pub fn schema(self) -> SchemaRef {
        let fields: Vec<ArrowField> = self.fields().iter().map(|f| ArrowField::new(f.name, f.kind.data_type(), !f.required)).collect();
        Arc::new(Schema::new(fields))
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value type of a canonical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Integer,
    Boolean,
    Timestamp,
}

impl FieldKind {
    pub fn data_type(self) -> DataType {
        match self {
            FieldKind::Text => DataType::Utf8,
            FieldKind::Integer => DataType::Int64,
            FieldKind::Boolean => DataType::Boolean,
            FieldKind::Timestamp => timestamp_type(),
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Boolean => "boolean",
            FieldKind::Timestamp => "timestamp",
        }
    }
}

/// A restriction on a field's values beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Domain {
    Any,
    /// An integer in `min..=max`.
    Range(i64, i64),
    /// One of the listed lower-case words.
    OneOf(&'static [&'static str]),
}

/// One canonical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    /// A row without a value here is rejected; the column must be present in every source file.
    pub required: bool,
    pub domain: Domain,
    /// For timestamps: the field records something that has happened, so with a cut-off before it,
    /// it has not happened yet and reads as null (or, for the table's existence field, the row
    /// does not exist yet). Planned times may lie in the future.
    pub happened: bool,
    pub doc: &'static str,
}

const fn field(name: &'static str, kind: FieldKind, doc: &'static str) -> FieldSpec {
    FieldSpec { name, kind, required: false, domain: Domain::Any, happened: matches!(kind, FieldKind::Timestamp), doc }
}

const fn required(mut f: FieldSpec) -> FieldSpec {
    f.required = true;
    f
}

const fn within(mut f: FieldSpec, domain: Domain) -> FieldSpec {
    f.domain = domain;
    f
}

const fn planned(mut f: FieldSpec) -> FieldSpec {
    f.happened = false;
    f
}

use FieldKind::{Boolean, Integer, Text, Timestamp};

const LEVEL: Domain = Domain::Range(1, 5);
const COUNT: Domain = Domain::Range(0, i64::MAX);

pub const CHANGE_TYPES: &[&str] = &["standard", "normal", "emergency"];
/// What an outage record says of its service: down, degraded, or down by plan.
pub const OUTAGE_TYPES: &[&str] = &["outage", "degradation", "planned"];
pub const CHANGE_OUTCOMES: &[&str] = &["successful", "successful_with_issues", "failed", "backed_out", "cancelled"];

static INCIDENT_FIELDS: &[FieldSpec] = &[
    required(field("id", Text, "Ticket number, unique.")),
    required(field("opened_at", Timestamp, "When the incident was logged.")),
    field("started_at", Timestamp, "When the degradation began (for MTTD)."),
    field("acknowledged_at", Timestamp, "First response, or work started."),
    field("resolved_at", Timestamp, "When service was restored."),
    field("closed_at", Timestamp, "When the ticket was closed."),
    within(field("priority", Integer, "1 (highest) to 5."), LEVEL),
    within(field("impact", Integer, "1 (highest) to 5."), LEVEL),
    within(field("urgency", Integer, "1 (highest) to 5."), LEVEL),
    field("state", Text, "Workflow state as the source tool names it."),
    field("category", Text, "Category."),
    field("service", Text, "Affected business service."),
    field("ci", Text, "Affected configuration item (id in `cis`)."),
    field("assignment_group", Text, "Group that worked the ticket."),
    field("contact_type", Text, "Channel: phone, email, self-service, monitoring, ..."),
    within(field("reopen_count", Integer, "Times reopened."), COUNT),
    within(field("reassignment_count", Integer, "Times reassigned."), COUNT),
    field("major", Boolean, "Declared a major incident."),
    field("problem_id", Text, "Linked problem (id in `problems`)."),
    field("caused_by_change", Text, "Change that caused it (id in `changes`)."),
    field("source_made_sla", Boolean, "The source tool's own SLA flag, for reconciliation."),
    field("first_contact", Boolean, "Resolved at first contact (first line), as the source flags it; overrides the derived rule in first_contact_resolution."),
];

static PROBLEM_FIELDS: &[FieldSpec] = &[
    required(field("id", Text, "Problem number, unique.")),
    required(field("opened_at", Timestamp, "When the problem was logged.")),
    field("resolved_at", Timestamp, "When the root cause was removed."),
    field("closed_at", Timestamp, "When the problem was closed."),
    field("known_error_at", Timestamp, "When it became a known error."),
    field("state", Text, "Workflow state."),
    field("category", Text, "Category."),
    field("service", Text, "Affected business service."),
    field("ci", Text, "Affected configuration item."),
];

static CHANGE_FIELDS: &[FieldSpec] = &[
    required(field("id", Text, "Change number, unique.")),
    within(field("type", Text, "standard, normal or emergency."), Domain::OneOf(CHANGE_TYPES)),
    field("is_patch", Boolean, "The change applies a patch."),
    field("ci", Text, "Changed configuration item."),
    field("service", Text, "Affected business service."),
    planned(field("planned_start", Timestamp, "Planned start.")),
    planned(field("planned_end", Timestamp, "Planned end.")),
    field("actual_start", Timestamp, "Actual start."),
    field("actual_end", Timestamp, "Actual end."),
    within(field("outcome", Text, "successful, successful_with_issues, failed, backed_out or cancelled."), Domain::OneOf(CHANGE_OUTCOMES)),
];

static CI_FIELDS: &[FieldSpec] = &[
    required(field("id", Text, "Configuration item id, unique.")),
    field("name", Text, "Display name."),
    field("class", Text, "CI class: server, database, application, network, ..."),
    field("service", Text, "Business service it supports."),
    field("criticality", Text, "Business criticality as the CMDB states it."),
    planned(field("in_service_from", Timestamp, "Start of service life.")),
    planned(field("in_service_to", Timestamp, "End of service life; null while in service.")),
];

static EVENT_FIELDS: &[FieldSpec] = &[
    required(field("id", Text, "Event id, unique.")),
    required(field("ticket_id", Text, "Ticket the event belongs to.")),
    required(field("at", Timestamp, "When the change happened.")),
    required(field("field", Text, "Field that changed, e.g. state.")),
    field("from_value", Text, "Value before."),
    field("to_value", Text, "Value after."),
];

static OUTAGE_FIELDS: &[FieldSpec] = &[
    required(field("id", Text, "Outage record id, unique.")),
    field("ci", Text, "Configuration item that was out (id in `cis`)."),
    field("service", Text, "Business service that was out; where null, the CI's service in `cis`."),
    required(within(field("type", Text, "outage, degradation or planned: only outage is downtime."), Domain::OneOf(OUTAGE_TYPES))),
    required(field("begins_at", Timestamp, "When the outage began.")),
    field("ends_at", Timestamp, "When service was back; null while it lasts."),
    field("task_id", Text, "The incident or change the outage was recorded against."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_rules_name_timestamp_fields_of_their_table() {
        for table in Table::ALL {
            for (a, b) in table.ordering_rules() {
                for name in [a, b] {
                    let f = table.field(name).unwrap_or_else(|| panic!("{table}.{name}"));
                    assert_eq!(f.kind, FieldKind::Timestamp, "{table}.{name}");
                }
            }
            assert_eq!(table.fields()[0].name, "id");
            assert_eq!(Table::from_name(table.name()), Some(table));
        }
    }
}
