//! The extent of a store, kept up to date by each load without a scan of the store: from the
//! stamps each data file records, reading only the few files that may hold the latest
//! timestamps (for the straggler guard). A store with files that record none is scanned whole.

use std::path::Path;

use datafusion::prelude::SessionContext;

use super::extent::{Extent, STAMPS, guard_rank, latest_stamps, straggler};
use super::manifest::{DataFile, Manifest};
use crate::error::Result;
use crate::model::Table;

/// The extent of the store the manifest describes: from the stamps its files record, reading
/// only the files that may hold the latest timestamps, so that a load's cost does not grow
/// with the store. A store with files that record none is scanned whole.
pub fn extent(store: &Path, manifest: &Manifest) -> Result<Extent> {
    let files: Vec<(Table, &DataFile)> =
        STAMPS.iter().flat_map(|s| manifest.tables.get(s.0.name()).into_iter().flat_map(move |t| t.files.iter().map(move |f| (s.0, f)))).collect();
    let Some(stamped) = files.iter().map(|(t, f)| f.stamps.map(|s| (*t, *f, s))).collect::<Option<Vec<_>>>() else {
        let ctx = session_over(store, &files)?;
        return crate::engine::block_on(Extent::scan(&ctx));
    };
    let n: u64 = stamped.iter().map(|(_, _, s)| s.count).sum();
    let first = stamped.iter().filter_map(|(_, _, s)| s.first).min();
    let mut extent = Extent {
        first_incident: stamped.iter().filter(|(t, _, _)| *t == Table::Incidents).filter_map(|(_, _, s)| s.first).min(),
        first,
        latest: stamped.iter().filter_map(|(_, _, s)| s.latest).max(),
        straggler: None,
    };
    let Some(rank) = guard_rank(n as i64) else { return Ok(extent) };
    // The files by latest stamp, latest first: the `rank` latest stamps lie in a prefix of
    // them, the one that ends before the first file whose latest stamp is below the
    // rank-th latest of the prefix.
    let mut by_latest = stamped;
    by_latest.sort_by_key(|(_, f, s)| (std::cmp::Reverse(s.latest), f.path.clone()));
    let mut chosen = 0;
    let mut held = 0;
    let rows = loop {
        while chosen < by_latest.len() && held < rank as u64 {
            held += by_latest[chosen].2.count;
            chosen += 1;
        }
        let subset: Vec<(Table, &DataFile)> = by_latest[..chosen].iter().map(|(t, f, _)| (*t, *f)).collect();
        let rows = crate::engine::block_on(latest_stamps(&session_over(store, &subset)?, rank))?;
        let threshold = if rows.len() as i64 >= rank { rows.last().map(|r| r.2) } else { None };
        // Files whose latest stamp reaches the threshold may hold one of the latest: add them.
        let more = by_latest[chosen..].iter().take_while(|(_, _, s)| threshold.is_none_or(|t| s.latest.is_some_and(|l| l >= t))).count();
        if more == 0 || chosen == by_latest.len() {
            break rows;
        }
        chosen += more;
    };
    extent.straggler = straggler(&rows, first, rank);
    Ok(extent)
}

/// A session with the given files of each table registered (every table, empty when none).
fn session_over(store: &Path, files: &[(Table, &DataFile)]) -> Result<SessionContext> {
    let ctx = crate::engine::session("UTC");
    for table in Table::ALL {
        let of_table: Vec<DataFile> = files.iter().filter(|(t, _)| *t == table).map(|(_, f)| (*f).clone()).collect();
        ctx.register_table(table.name(), super::reader::provider(&ctx, store, &of_table, table)?)?;
    }
    Ok(ctx)
}
