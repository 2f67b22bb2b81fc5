//! What the data spans: its first incident, its latest timestamp (the cut-off when no `--as-of` is
//! given), and the guard against a default cut-off set by one implausibly late value. A typed year
//! 2099 is inside the plausible range that ingest accepts, but taken as the cut-off it would
//! stretch the default period by decades.

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimestampMicrosecondType};
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Table;
use crate::time::{YearMonth, rfc3339};

/// Microseconds in a day.
const DAY: i64 = 86_400_000_000;
/// Fewer timestamps than this are too few to tell a straggler from the bulk.
const GUARD_MIN_TIMESTAMPS: i64 = 20;
/// The latest timestamp is compared with the k-th latest, k = n / 1000 within these bounds.
const GUARD_RANK: (i64, i64) = (5, 1000);

/// The rank k whose k-th latest of `n` timestamps the straggler guard compares the latest with;
/// None when there are too few to tell.
pub(super) fn guard_rank(n: i64) -> Option<i64> {
    (n >= GUARD_MIN_TIMESTAMPS).then(|| (n / 1000).clamp(GUARD_RANK.0, GUARD_RANK.1))
}

/// The data's extent, from one scan of the loaded tables (or, for a store, from its manifest).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extent {
    /// The earliest opened_at of an incident: the default period starts in its month.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub first_incident: Option<i64>,
    /// The earliest and latest timestamps of anything that happened (every table).
    #[serde(with = "crate::time::rfc3339_opt")]
    pub first: Option<i64>,
    #[serde(with = "crate::time::rfc3339_opt")]
    pub latest: Option<i64>,
    /// Set when the latest timestamp lies far beyond the bulk of the data.
    pub straggler: Option<Straggler>,
}

/// A ticket whose latest timestamp lies far beyond the bulk of the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Straggler {
    /// incident, problem, change, or the ticket an event belongs to.
    pub kind: String,
    pub id: String,
    #[serde(with = "crate::time::rfc3339_micros")]
    pub at: i64,
    /// The k-th latest timestamp, which the bulk of the data reaches.
    #[serde(with = "crate::time::rfc3339_micros")]
    pub bulk_end: i64,
    pub rank: i64,
}

/// A data file's timestamps as the extent counts them (see `STAMPS`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileStamps {
    /// Rows with a timestamp of something that happened.
    pub count: u64,
    /// The earliest first timestamp (opened, started, begun).
    #[serde(with = "crate::time::rfc3339_opt")]
    pub first: Option<i64>,
    /// The latest timestamp of anything that happened.
    #[serde(with = "crate::time::rfc3339_opt")]
    pub latest: Option<i64>,
}

/// What the extent counts, per table: the kind named in messages, the key, the column of the
/// first timestamp, and the columns whose greatest is the row's latest timestamp. CIs have none.
pub(super) const STAMPS: [(Table, &str, &str, &str, &[&str]); 5] = [
    (Table::Incidents, "incident", "id", "opened_at", &["opened_at", "acknowledged_at", "resolved_at", "closed_at"]),
    (Table::Problems, "problem", "id", "opened_at", &["opened_at", "known_error_at", "resolved_at", "closed_at"]),
    (Table::Changes, "change", "id", "actual_start", &["actual_start", "actual_end"]),
    (Table::Events, "event of ticket", "ticket_id", "at", &["at"]),
    (Table::Outages, "outage", "id", "begins_at", &["begins_at", "ends_at"]),
];

/// `WITH stamps AS (…)`: one row per ticket, event and outage of the tables registered on the
/// session, with its kind, id, first and latest timestamp.
fn stamps_sql() -> String {
    let selects: Vec<String> = STAMPS
        .iter()
        .map(|(table, kind, id, first, latest)| {
            let at = if latest.len() == 1 { latest[0].to_string() } else { format!("greatest({})", latest.join(", ")) };
            format!("SELECT '{kind}' AS kind, {id} AS id, {first} AS first, {at} AS at FROM {}", table.name())
        })
        .collect();
    format!("WITH stamps AS ({}) ", selects.join(" UNION ALL "))
}

/// The columns `file_stamps` reads of `table`'s files.
pub fn stamp_columns(table: Table) -> Vec<&'static str> {
    STAMPS.iter().filter(|s| s.0 == table).flat_map(|s| std::iter::once(s.3).chain(s.4.iter().copied())).collect()
}

impl FileStamps {
    /// The stamps of two parts of one file together.
    pub fn and(self, other: FileStamps) -> FileStamps {
        let first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        FileStamps { count: self.count + other.count, first, latest: self.latest.max(other.latest) }
    }
}

/// A data file's stamps, computed as `stamps_sql` counts them (None for a table without).
pub fn file_stamps(table: Table, batch: &RecordBatch) -> Option<FileStamps> {
    let (_, _, _, first, latest) = STAMPS.iter().find(|s| s.0 == table)?;
    let column = |name: &str| batch.column_by_name(name).and_then(|c| c.as_primitive_opt::<TimestampMicrosecondType>());
    let firsts = column(first);
    let latests: Vec<_> = latest.iter().filter_map(|c| column(c)).collect();
    let count = (0..batch.num_rows()).filter(|&r| latests.iter().any(|c| c.is_valid(r))).count() as u64;
    Some(FileStamps {
        count,
        first: firsts.and_then(datafusion::arrow::compute::min),
        latest: latests.iter().filter_map(|c| datafusion::arrow::compute::max(*c)).max(),
    })
}

impl Extent {
    /// Scans the canonical tables registered on `ctx`.
    pub async fn scan(ctx: &SessionContext) -> Result<Extent> {
        let stamps = stamps_sql();
        let summary = ctx
            .sql(&format!(
                "{stamps} SELECT s.n, s.first, s.latest, i.first_incident \
                 FROM (SELECT count(at) AS n, min(first) AS first, max(at) AS latest FROM stamps) s \
                 CROSS JOIN (SELECT min(opened_at) AS first_incident FROM incidents) i"
            ))
            .await?
            .collect()
            .await?;
        let batch = summary.first().ok_or_else(|| Error::Query { origin: "extent".into(), message: "the extent query returned nothing".into() })?;
        let n = batch.column(0).as_primitive::<Int64Type>().value(0);
        let stamp = |i: usize| {
            let column = batch.column(i).as_primitive::<TimestampMicrosecondType>();
            column.is_valid(0).then(|| column.value(0))
        };
        let mut extent = Extent { first_incident: stamp(3), first: stamp(1), latest: stamp(2), straggler: None };
        let Some(rank) = guard_rank(n) else { return Ok(extent) };
        extent.straggler = straggler(&latest_stamps(ctx, rank).await?, extent.first, rank);
        Ok(extent)
    }

    /// The cut-off: `--as-of` when given, else the latest timestamp, unless a straggler would set it.
    pub fn cut_off(&self, as_of: Option<i64>, timezone: chrono_tz::Tz) -> Result<i64> {
        if let Some(as_of) = as_of {
            return Ok(as_of);
        }
        if let Some(s) = &self.straggler {
            let suggestion = crate::time::rfc3339((s.bulk_end / DAY + 1) * DAY);
            return Err(Error::Usage(format!(
                "no --as-of was given, and the latest timestamp in the data, {} on {} {}, lies far beyond the rest, which ends by {} (all but the latest {} timestamps): as the cut-off it would stretch the default period to {}. Give --as-of (for example --as-of {suggestion}), or correct that value in the source; a date the source writes for \"none\" can be named in the profile's parse.sentinel_dates",
                rfc3339(s.at),
                s.kind,
                s.id.escape_debug(),
                rfc3339(s.bulk_end),
                s.rank - 1,
                YearMonth::of_micros(s.at, timezone).label(),
            )));
        }
        self.latest.ok_or_else(|| Error::Usage("the input holds no timestamps, so there is no cut-off to report to; give --as-of".into()))
    }
}

/// The `rank` latest stamps of the tables registered on `ctx`: kind, id and time, latest first.
pub(super) async fn latest_stamps(ctx: &SessionContext, rank: i64) -> Result<Vec<(String, String, i64)>> {
    let top = ctx
        .sql(&format!("{} SELECT kind, id, at FROM stamps WHERE at IS NOT NULL ORDER BY at DESC, kind, id LIMIT {rank}", stamps_sql()))
        .await?
        .collect()
        .await?;
    let mut rows = Vec::new();
    for batch in &top {
        let kinds = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
        let ids = datafusion::arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
        let (kinds, ids, ats) = (kinds.as_string::<i32>(), ids.as_string::<i32>(), batch.column(2).as_primitive::<TimestampMicrosecondType>());
        for r in 0..batch.num_rows() {
            rows.push((kinds.value(r).to_string(), ids.value(r).to_string(), ats.value(r)));
        }
    }
    Ok(rows)
}

/// The straggler among the latest stamps, if the latest lies far beyond the rest.
pub(super) fn straggler(rows: &[(String, String, i64)], first: Option<i64>, rank: i64) -> Option<Straggler> {
    let (Some(latest), Some(bulk), Some(first)) = (rows.first(), rows.last(), first) else { return None };
    // A late straggler is one beyond a quarter of the bulk's span past its end, and at least a
    // quarter of a year: exports close tickets weeks after the last one opened, not years.
    let allowed = ((bulk.2 - first) / 4).max(92 * DAY);
    (latest.2 - bulk.2 > allowed).then(|| Straggler { kind: latest.0.clone(), id: latest.1.clone(), at: latest.2, bulk_end: bulk.2, rank })
}
