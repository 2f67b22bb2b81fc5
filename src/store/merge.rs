//! Merging a load's new rows with the stored ones, table by table (`--into`), and writing the
//! tables' data files and the event-log histories.
//!
//! - plain tables: one row per ticket. Of a stored and a new version, the one whose version key is
//!   greater wins: the profile's dedup ordering where it has one, else the latest lifecycle
//!   timestamp; on a full tie the later load. An older export loaded after a newer one does not
//!   roll tickets back.
//! - event-log tables: the new events join the stored history of their cases (an event already
//!   there is merged), and those tickets are derived again from the whole history, so a partial
//!   history never replaces a complete ticket. Their `events` rows are derived again with them.
//!
//! The new rows stay in the batches they were read in, and are written sorted a row group at a
//! time (`sort::Sorted`); a stored file that loses rows is written again a batch at a time.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;

use super::manifest::{DataFile, Manifest, TableFiles};
use super::reader::read_batches;
use super::sink::LoadedRows;
use super::sort::Positions;
use super::writer::{DataFileWriter, LOAD_COLUMN, VERSION_COLUMN, stored_schema, write_sorted};
use crate::error::Result;
use crate::ingest::Profile;
use crate::model::Table;
use crate::progress::Progress;

/// What writing the tables gave: each table's files, and the rows inserted, replaced and lost
/// (new rows that lost to the stored version) over all tables but derived `events`.
pub struct Written {
    pub tables: BTreeMap<String, TableFiles>,
    pub inserted: u64,
    pub replaced: u64,
    pub lost: u64,
}

/// Merges each table's new rows with the stored ones and writes the results, all tables at once.
pub fn write_tables(store: &Path, profile: &Profile, base: Option<&Manifest>, rows: &mut LoadedRows, prefix: &str, progress: &Progress) -> Result<Written> {
    let eventlog_tables: HashSet<Table> = Table::ALL.into_iter().filter(|t| profile.table(*t).is_some_and(|tp| tp.eventlog.is_some())).collect();
    // The tickets derived again from their histories, and whose status changes were: every stored
    // `events` row of theirs gives way to the ones derived now.
    let mut affected: HashSet<String> = HashSet::new();
    for table in &eventlog_tables {
        for batch in rows.tables.get(table).into_iter().flatten() {
            let ids = batch.column(0).as_string::<i32>();
            affected.extend((0..ids.len()).map(|r| ids.value(r).to_string()));
        }
    }
    if !eventlog_tables.is_empty() {
        for batch in rows.tables.get(&Table::Events).into_iter().flatten() {
            let tickets = batch.column_by_name("ticket_id").expect("events have ticket_id").as_string::<i32>();
            affected.extend((0..tickets.len()).map(|r| tickets.value(r).to_string()));
        }
    }
    let mut written = Written { tables: BTreeMap::new(), inserted: 0, replaced: 0, lost: 0 };
    let rule = |table: Table| {
        if table == Table::Events && !eventlog_tables.is_empty() {
            Rule::ReplaceTickets(&affected)
        } else if eventlog_tables.contains(&table) {
            Rule::Authoritative
        } else {
            Rule::Versions
        }
    };
    // Tables merge and write independently: on all cores at once.
    let work: Vec<(Table, Vec<RecordBatch>)> = Table::ALL.into_iter().map(|t| (t, rows.tables.remove(&t).unwrap_or_default())).collect();
    let merged_tables: Vec<Result<Merged>> = {
        use rayon::prelude::*;
        work.par_iter()
            .map(|(table, new)| {
                let stored = base.and_then(|m| m.tables.get(table.name())).cloned().unwrap_or_default();
                merge_table(store, *table, &stored, new, prefix, rule(*table))
            })
            .collect()
    };
    drop(work);
    for (table, merged) in Table::ALL.into_iter().zip(merged_tables) {
        let mut merged = merged?;
        // Files a streaming load wrote early: rows of a new store, all inserted.
        if let Some(early) = rows.written.remove(&table) {
            let rows_early: u64 = early.iter().map(|f| f.rows).sum();
            merged.inserted += rows_early;
            merged.files.rows += rows_early;
            merged.files.files.splice(0..0, early);
        }
        if table != Table::Events || eventlog_tables.is_empty() {
            written.inserted += merged.inserted;
            written.replaced += merged.replaced;
            written.lost += merged.lost;
        }
        written.tables.insert(table.name().to_string(), merged.files);
        progress.advance();
    }
    Ok(written)
}

/// The store's event-log histories with this load's new events written beside them.
pub fn write_histories(store: &Path, base: Option<&Manifest>, rows: &LoadedRows, prefix: &str) -> Result<BTreeMap<String, TableFiles>> {
    let mut histories = base.map(|m| m.histories.clone()).unwrap_or_default();
    for (table, batches) in &rows.histories {
        let Some(first) = batches.first() else { continue };
        let files = write_sorted(store, &format!("history/{}", table.name()), prefix, None, &first.schema(), batches, &["case_id", "ts", "file", "row"])?;
        let entry: &mut TableFiles = histories.entry(table.name().to_string()).or_default();
        entry.rows += files.iter().map(|f| f.rows).sum::<u64>();
        entry.files.extend(files);
    }
    Ok(histories)
}

/// How stored rows of a table meet the load's new rows.
enum Rule<'a> {
    /// One row per id; the greater version wins, a full tie the new load.
    Versions,
    /// One row per id; the new row wins (tickets derived again from their whole history).
    Authoritative,
    /// Stored rows of these tickets (`ticket_id`) give way to the new ones.
    ReplaceTickets(&'a HashSet<String>),
}

struct Merged {
    files: TableFiles,
    inserted: u64,
    replaced: u64,
    /// New rows that lost to the stored version.
    lost: u64,
}

fn merge_table(store: &Path, table: Table, stored: &TableFiles, new: &[RecordBatch], prefix: &str, rule: Rule) -> Result<Merged> {
    let schema = stored_schema(table);
    // The new rows stay in the batches they came in: a row is known by its position over all of
    // them, and found by the batch it falls in.
    let positions = Positions::of(new);
    let new_rows = positions.rows();
    let new_ids: Vec<_> = new.iter().map(|b| b.column(0).as_string::<i32>()).collect();
    let new_versions: Vec<_> = new.iter().map(|b| b.column_by_name(VERSION_COLUMN).expect("stored schema").as_binary::<i32>()).collect();
    // Only stored rows are looked up; a new store has none.
    let index: HashMap<&str, usize> = if stored.files.is_empty() {
        HashMap::new()
    } else {
        new_ids
            .iter()
            .enumerate()
            .flat_map(|(b, ids)| {
                let start = positions.of_batch(b).start;
                (0..ids.len()).map(move |r| (ids.value(r), start + r))
            })
            .collect()
    };
    let mut new_wins = vec![true; new_rows];
    let mut was_stored = vec![false; new_rows];
    let mut files = Vec::new();
    let dir = format!("data/{}", table.name());
    let key = if matches!(rule, Rule::ReplaceTickets(_)) { "ticket_id" } else { "id" };
    // The keys this load looks for, in byte order: a stored file whose recorded key range holds
    // none of them keeps all its rows and is not read.
    let mut sought: Vec<&str> = match &rule {
        Rule::ReplaceTickets(tickets) => tickets.iter().map(String::as_str).collect(),
        _ => index.keys().copied().collect(),
    };
    sought.sort_unstable();
    for (part, file) in stored.files.iter().enumerate() {
        if !file.may_hold_any(key, &sought) {
            files.push(file.clone());
            continue;
        }
        let path = store.join(&file.path);
        // Which of the file's rows give way to new ones, in the file's order.
        let mut drops = Vec::with_capacity(file.rows as usize);
        for batch in read_batches(&path, Some(&[key, VERSION_COLUMN, LOAD_COLUMN]))? {
            let batch = batch?;
            let keys = batch.column_by_name(key).expect("projected").as_string::<i32>();
            let versions = batch.column_by_name(VERSION_COLUMN).expect("projected").as_binary::<i32>();
            drops.extend((0..batch.num_rows()).map(|r| {
                let value = keys.value(r);
                match &rule {
                    Rule::ReplaceTickets(tickets) => tickets.contains(value),
                    Rule::Authoritative => index.get(value).inspect(|&&n| was_stored[n] = true).is_some(),
                    Rule::Versions => match index.get(value) {
                        None => false,
                        Some(&n) => {
                            was_stored[n] = true;
                            let (b, row) = positions.locate(n);
                            // The new load is later: it wins every tie.
                            let wins = new_versions[b].value(row) >= versions.value(r);
                            new_wins[n] &= wins;
                            wins
                        }
                    },
                }
            }));
        }
        let dropped = drops.iter().filter(|d| **d).count();
        if dropped == 0 {
            files.push(file.clone());
            continue;
        }
        // The file loses rows: it is written again without them (it stays sorted), a batch at a
        // time, or not at all when it loses every row.
        if dropped < drops.len() {
            let mut rewritten: Option<DataFileWriter> = None;
            let mut at = 0;
            for batch in read_batches(&path, None)? {
                let batch = batch?;
                let keep: BooleanArray = drops[at..at + batch.num_rows()].iter().map(|d| Some(!d)).collect();
                at += batch.num_rows();
                let writer = match &mut rewritten {
                    Some(writer) => writer,
                    None => rewritten.insert(DataFileWriter::create(store, &format!("{dir}/{prefix}-r{part:03}.parquet"), Some(table), &batch.schema())?),
                };
                writer.write(filter_record_batch(&batch, &keep)?)?;
            }
            files.extend(rewritten.map(DataFileWriter::finish).transpose()?);
        }
    }
    // A batch whose rows all win is passed on as it is, not copied.
    let winners: Vec<RecordBatch> = new
        .iter()
        .enumerate()
        .map(|(b, batch)| filter_record_batch(batch, &new_wins[positions.of_batch(b)].iter().map(|w| Some(*w)).collect::<BooleanArray>()))
        .collect::<std::result::Result<_, _>>()?;
    files.extend(write_sorted(store, &dir, prefix, Some(table), &schema, &winners, &[table.sort_field(), "id"])?);
    let lost = new_wins.iter().filter(|w| !**w).count() as u64;
    let replaced = new_wins.iter().zip(&was_stored).filter(|(w, s)| **w && **s).count() as u64;
    let inserted = new_rows as u64 - lost - replaced;
    let rows = files.iter().map(|f: &DataFile| f.rows).sum();
    Ok(Merged { files: TableFiles { rows, files }, inserted, replaced, lost })
}
