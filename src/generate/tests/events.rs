//! The generated events against the incidents they belong to: state changes in time order ending
//! in the row's state, and assignment-group changes that start at opening and end with the group
//! that resolved the incident.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::array::RecordBatch;

use super::{integers, strings, times};
use crate::model::Table;

pub(super) fn events_follow_their_incidents(tables: &HashMap<Table, RecordBatch>, as_of: i64) {
    let incidents = &tables[&Table::Incidents];
    let opened: Vec<i64> = times(incidents, "opened_at").into_iter().flatten().collect();
    // Events: per ticket in time order within [opened_at, as_of], the state changes ending in the
    // row's state; the assignment-group changes start at opening and, once the incident is
    // resolved, number its reassignment_count and end with its assignment_group, each one to
    // another group.
    let events = &tables[&Table::Events];
    let incident_ids: Vec<String> = strings(incidents, "id").into_iter().flatten().collect();
    let row_of: HashMap<&str, usize> = incident_ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let states = strings(incidents, "state");
    let tickets: Vec<String> = strings(events, "ticket_id").into_iter().flatten().collect();
    let at: Vec<i64> = times(events, "at").into_iter().flatten().collect();
    let to = strings(events, "to_value");
    let from = strings(events, "from_value");
    let field: Vec<String> = strings(events, "field").into_iter().flatten().collect();
    let groups = strings(incidents, "assignment_group");
    let resolved = times(incidents, "resolved_at");
    let reassignments = integers(incidents, "reassignment_count");
    let event_ids: Vec<String> = strings(events, "id").into_iter().flatten().collect();
    assert!(event_ids.windows(2).all(|w| w[0] < w[1]), "event ids ascend");
    let mut assigned: HashMap<&str, Vec<usize>> = HashMap::new();
    for e in 0..tickets.len() {
        let row = row_of[tickets[e].as_str()];
        assert!(opened[row] <= at[e] && at[e] <= as_of);
        let same_ticket_after = |f: &str| (e + 1..tickets.len()).take_while(|&k| tickets[k] == tickets[e]).any(|k| field[k] == f);
        if e + 1 < tickets.len() && tickets[e + 1] == tickets[e] {
            assert!(at[e] <= at[e + 1], "events of {} out of order", tickets[e]);
        }
        match field[e].as_str() {
            "state" if !same_ticket_after("state") => assert_eq!(to[e], states[row], "last state event of {} is its state", tickets[e]),
            "state" => {}
            "assignment_group" => assigned.entry(tickets[e].as_str()).or_default().push(e),
            other => panic!("unexpected event field {other}"),
        }
        if e > 0 && tickets[e - 1] != tickets[e] {
            assert!(row_of[tickets[e - 1].as_str()] < row, "tickets in id order");
        }
    }
    assert_eq!(assigned.len(), incident_ids.len(), "every incident has its first assignment");
    for (ticket, changes) in &assigned {
        let row = row_of[ticket];
        assert_eq!(at[changes[0]], opened[row], "{ticket} is assigned at opening");
        assert!(from[changes[0]].is_none());
        for pair in changes.windows(2) {
            assert_eq!(from[pair[1]], to[pair[0]], "{ticket}: a change starts from the group before");
            assert_ne!(from[pair[1]], to[pair[1]], "{ticket}: a change moves to another group");
        }
        if resolved[row].is_some() {
            assert_eq!(changes.len() as i64 - 1, reassignments[row].unwrap(), "{ticket}: one change per reassignment");
            assert_eq!(to[*changes.last().unwrap()], groups[row], "{ticket} ends with the group that resolved it");
        }
    }
    assert_eq!(row_of.len(), tickets.iter().collect::<HashSet<_>>().len());
}
