//! What the data spans: its first incident, its latest timestamp (the cut-off when no `--as-of` is
//! given), and the guard against a default cut-off set by one implausibly late value. A typed year
//! 2099 is inside the plausible range that ingest accepts, but taken as the cut-off it would
//! stretch the default period by decades.

use datafusion::arrow::array::{Array, AsArray};
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

impl Extent {
    /// Scans the canonical tables registered on `ctx`.
    pub async fn scan(ctx: &SessionContext) -> Result<Extent> {
        const STAMPS: &str = "WITH stamps AS ( \
               SELECT 'incident' AS kind, id, opened_at AS first, greatest(opened_at, acknowledged_at, resolved_at, closed_at) AS at FROM incidents \
               UNION ALL SELECT 'problem', id, opened_at, greatest(opened_at, known_error_at, resolved_at, closed_at) FROM problems \
               UNION ALL SELECT 'change', id, actual_start, greatest(actual_start, actual_end) FROM changes \
               UNION ALL SELECT 'event of ticket', ticket_id, at AS first, at FROM events \
               UNION ALL SELECT 'outage', id, begins_at, greatest(begins_at, ends_at) FROM outages) ";
        let summary = ctx
            .sql(&format!(
                "{STAMPS} SELECT s.n, s.first, s.latest, i.first_incident \
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
        if n < GUARD_MIN_TIMESTAMPS {
            return Ok(extent);
        }
        let rank = (n / 1000).clamp(GUARD_RANK.0, GUARD_RANK.1);
        let top =
            ctx.sql(&format!("{STAMPS} SELECT kind, id, at FROM stamps WHERE at IS NOT NULL ORDER BY at DESC, kind, id LIMIT {rank}")).await?.collect().await?;
        let mut rows = Vec::new();
        for batch in &top {
            let kinds = datafusion::arrow::compute::cast(batch.column(0), &DataType::Utf8)?;
            let ids = datafusion::arrow::compute::cast(batch.column(1), &DataType::Utf8)?;
            let (kinds, ids, ats) = (kinds.as_string::<i32>(), ids.as_string::<i32>(), batch.column(2).as_primitive::<TimestampMicrosecondType>());
            for r in 0..batch.num_rows() {
                rows.push((kinds.value(r).to_string(), ids.value(r).to_string(), ats.value(r)));
            }
        }
        let (Some(latest), Some(bulk), Some(first)) = (rows.first(), rows.last(), extent.first) else { return Ok(extent) };
        // A late straggler is one beyond a quarter of the bulk's span past its end, and at least a
        // quarter of a year: exports close tickets weeks after the last one opened, not years.
        let allowed = ((bulk.2 - first) / 4).max(92 * DAY);
        if latest.2 - bulk.2 > allowed {
            extent.straggler = Some(Straggler { kind: latest.0.clone(), id: latest.1.clone(), at: latest.2, bulk_end: bulk.2, rank });
        }
        Ok(extent)
    }

    /// The extent of the store the manifest describes, scanned from its files.
    pub fn of_store(store: &std::path::Path, manifest: &super::manifest::Manifest) -> Result<Extent> {
        let ctx = crate::engine::session("UTC");
        for table in Table::ALL {
            let files = manifest.tables.get(table.name()).map(|t| t.files.as_slice()).unwrap_or_default();
            ctx.register_table(table.name(), super::reader::provider(&ctx, store, files, table)?)?;
        }
        crate::engine::block_on(Extent::scan(&ctx))
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
