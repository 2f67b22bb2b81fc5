//! The catalog's tests: headers parsed and refused, directions, n, and the built-in queries.

use super::*;

const GOOD: &str = "-- title: T\n-- unit: hours\n-- better: lower\n-- grain: month\n-- keys: month\n-- definition: first part,\n--   second part.\nSELECT 1\n";

#[test]
fn header_with_continuation() {
    let kpi = Kpi::parse("x", GOOD, "x.sql").unwrap();
    assert_eq!(kpi.meta.definition, "first part, second part.");
    assert_eq!(kpi.meta.better, Better::Lower);
}

#[test]
fn header_mistakes_name_file_and_line() {
    let err = Kpi::parse("x", &GOOD.replace("unit:", "units:"), "x.sql").unwrap_err().to_string();
    assert!(err.contains("x.sql") && err.contains("line 2") && err.contains("`units`"), "{err}");
    let err = Kpi::parse("x", &GOOD.replace("-- grain: month\n", ""), "x.sql").unwrap_err().to_string();
    assert!(err.contains("no `-- grain"), "{err}");
    let err = Kpi::parse("x", &GOOD.replace("lower", "less"), "x.sql").unwrap_err().to_string();
    assert!(err.contains("`less`"), "{err}");
}

/// See: issue 30. `settles:` reads a whole number of days; without it a month is final when it
/// ends; anything else is an error naming the header.
#[test]
fn settling_time_is_read_in_days() {
    let with = |settles: &str| Kpi::parse("x", &GOOD.replace("-- definition", &format!("-- settles: {settles}\n-- definition")), "x.sql");
    for (text, days) in [("14 days", 14), ("1 day", 1), ("30", 30), ("0 days", 0)] {
        assert_eq!(with(text).unwrap().meta.settles_days, days, "{text}");
    }
    assert_eq!(Kpi::parse("x", GOOD, "x.sql").unwrap().meta.settles_days, 0);
    for bad in ["two weeks", "-3 days", "1.5 days", "3651 days", "4294967295"] {
        let err = with(bad).unwrap_err().to_string();
        assert!(err.contains("x.sql") && err.contains("settles") && err.contains("whole number of days"), "{bad}: {err}");
    }
    // Months settle one by one: a KPI without a month key has none to settle.
    let err = Kpi::parse("x", &GOOD.replace("-- keys: month", "-- keys: ci").replace("-- definition", "-- settles: 14 days\n-- definition"), "x.sql")
        .unwrap_err()
        .to_string();
    assert!(err.contains("by month"), "{err}");
}

/// See: issue 30. `cohort:` names an incidents timestamp and a follow-up in days.
#[test]
fn a_cohort_rule_names_a_timestamp_and_a_follow_up() {
    let with = |rule: &str| Kpi::parse("x", &GOOD.replace("-- definition", &format!("-- cohort: {rule}\n-- definition")), "x.sql");
    assert_eq!(with("resolved_at within 30 days").unwrap().meta.cohort, Some(CohortRule { column: "resolved_at".into(), days: 30 }));
    assert_eq!(with("acknowledged_at within 1 day").unwrap().meta.cohort.unwrap().days, 1);
    for bad in ["resolved_at", "priority within 30 days", "resolved_at within 0 days", "resolved_at within a month", "nonsense within 3 days"] {
        let err = with(bad).unwrap_err().to_string();
        assert!(err.contains("x.sql") && err.contains("cohort:"), "{bad}: {err}");
    }
}

/// See: issue 10. A malformed tolerance used to be dropped, so `mttx check` silently fell back
/// to its default.
#[test]
fn a_malformed_tolerance_is_an_error() {
    let with = |tolerance: &str| Kpi::parse("x", &GOOD.replace("-- definition", &format!("-- tolerance: {tolerance}\n-- definition")), "x.sql");
    assert_eq!(with("absolute 0.5").unwrap().meta.tolerance.as_deref(), Some("absolute 0.5"));
    for bad in ["roughly 5", "relative -1", "absolute"] {
        let err = with(bad).unwrap_err().to_string();
        assert!(
            err.contains("x.sql") && err.contains("tolerance") && err.contains("exact, absolute N or relative N") || err.contains("non-negative"),
            "{bad}: {err}"
        );
    }
}

/// See: issue 31. `n:` names the default n column and, after `;`, a measure whose n is
/// another column; a name that is not a measure is an error.
#[test]
fn a_measure_may_have_its_own_n() {
    let text = GOOD.replace("-- definition", "-- measures: count, open\n-- n: tickets; open = open\n-- definition");
    let kpi = Kpi::parse("x", &text, "x.sql").unwrap();
    assert_eq!(kpi.meta.n.as_deref(), Some("tickets"));
    assert_eq!(kpi.meta.n_by_measure, [("open".to_string(), "open".to_string())]);
    let err = Kpi::parse("x", &text.replace("open = open", "shut = open"), "x.sql").unwrap_err().to_string();
    assert!(err.contains("`shut` is not one of the measures: count, open"), "{err}");
    let err = Kpi::parse("x", &text.replace("open = open", "open"), "x.sql").unwrap_err().to_string();
    assert!(err.contains("must read `measure = column`"), "{err}");
}

/// See: issue 29. Each measure has a direction: the KPI's `better`, or its own in brackets.
#[test]
fn measures_take_their_own_direction() {
    let text = GOOD.replace("-- definition", "-- measures: count (neutral), share (higher), hours\n-- definition");
    let kpi = Kpi::parse("x", &text, "x.sql").unwrap();
    assert_eq!(kpi.meta.measures, ["count", "share", "hours"]);
    assert_eq!((kpi.meta.direction("count"), kpi.meta.direction("share"), kpi.meta.direction("hours")), (Better::Neutral, Better::Higher, Better::Lower));
    let neutral = Kpi::parse("x", &GOOD.replace("better: lower", "better: neutral"), "x.sql").unwrap();
    assert_eq!(neutral.meta.better, Better::Neutral);
    let err = Kpi::parse("x", &text.replace("(higher)", "(up)"), "x.sql").unwrap_err().to_string();
    assert!(err.contains("`share (up)`") && err.contains("`lower`, `higher` or `neutral`"), "{err}");
    // The built-in choices a practitioner would dispute otherwise.
    let builtin = builtin().unwrap();
    let direction = |kpi: &str, measure: &str| builtin.iter().find(|k| k.id == kpi).unwrap().meta.direction(measure);
    assert_eq!(direction("major_incidents", "problem_share"), Better::Higher, "ITIL expects a problem record per major incident");
    assert_eq!(direction("volume", "incidents"), Better::Neutral, "volume is workload");
    assert_eq!(direction("problem_trend", "incidents"), Better::Neutral, "incidents opened are workload");
    assert_eq!(direction("mttr", "p90_hours"), Better::Lower);
}

#[test]
fn builtins_parse_and_match_the_queries_directory() {
    let kpis = builtin().unwrap();
    let mut on_disk: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/queries"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "sql").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    on_disk.sort();
    let mut built: Vec<String> = kpis.iter().map(|k| k.id.clone()).collect();
    built.sort();
    assert_eq!(built, on_disk, "BUILTIN must list every queries/*.sql");
}
