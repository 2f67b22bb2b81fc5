//! Ingest: loads ticket exports (CSV, JSON/NDJSON, Parquet, each optionally gzipped) through a
//! mapping profile into the canonical tables, streaming batch by batch. Every input row is loaded,
//! merged into a newer version of the same ticket (dedup), or rejected with a reason; the summary
//! reconciles the three.

pub mod convert;
pub mod csv;
pub mod eventlog;
pub mod fields;
pub mod ids;
pub mod json;
mod ordering;
pub mod parquet;
pub mod profile;
pub mod raw;
pub mod sink;
pub mod source;
pub mod summary;
mod table_loader;
pub mod timestamp;
pub mod typed;
pub mod version_key;
pub mod xes;

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::Result;
use crate::model::Table;
use convert::Converter;
use profile::Format;
pub use profile::Profile;
use raw::RawChunk;
pub use sink::{MemorySink, RejectSink, RejectsCsv, TableSink};
use source::SourceFile;
pub use summary::LoadSummary;
use table_loader::TableLoader;

/// Chunks converted at once: enough to keep both cores busy while the reader fills the next window.
pub(crate) const PARALLEL_CHUNKS: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Reporting cut-off in UTC microseconds: each ticket as it stood then. A row whose existence
    /// timestamp (opened_at, an event's time) lies after it is rejected as `after_as_of`; the
    /// row's other timestamps after it read as null.
    pub as_of: Option<i64>,
    /// The index of this load's first file among every file a store has loaded, so that events
    /// name their file uniquely across loads (0 outside a store).
    pub first_file: u32,
}

/// The status histories a store already holds. A load into it merges them with the new events of
/// the same cases, so that an export holding part of a ticket's history never replaces the
/// ticket derived from all of it.
pub trait PriorHistory {
    /// The stored events of `cases` in `table`'s history, in the extractor's schema.
    fn events_of(&self, table: Table, schema: &datafusion::arrow::datatypes::SchemaRef, cases: &std::collections::HashSet<String>) -> Result<Vec<RecordBatch>>;
}

/// Loads `inputs` through `profile`, writing canonical batches to `tables` and rejects to `rejects`.
pub fn load(inputs: &[PathBuf], profile: &Profile, options: &LoadOptions, tables: &mut dyn TableSink, rejects: &mut dyn RejectSink) -> Result<LoadSummary> {
    let (files, skipped) = source::discover(inputs, profile)?;
    load_with_history(&files, skipped, profile, options, tables, rejects, None, &crate::progress::Progress::hidden())
}

/// As `load`, for files already found by `source::discover` (the summary lists them in the order
/// given), deriving event-log tickets from `prior` events and the new ones together, and counting
/// the bytes of each file read on `progress`.
#[allow(clippy::too_many_arguments)]
pub fn load_with_history(
    files: &[SourceFile],
    skipped: Vec<source::Skipped>,
    profile: &Profile,
    options: &LoadOptions,
    tables: &mut dyn TableSink,
    rejects: &mut dyn RejectSink,
    prior: Option<&dyn PriorHistory>,
    progress: &crate::progress::Progress,
) -> Result<LoadSummary> {
    let total: u64 = files.iter().filter_map(|f| std::fs::metadata(&f.path).ok()).map(|m| m.len()).sum();
    progress.stage_bytes("reading exports", total);
    let mut summary = LoadSummary::new(profile, options, files, skipped);
    for table in Table::ALL {
        let mine: Vec<(usize, &SourceFile)> = files.iter().enumerate().filter(|(_, f)| f.table == table).collect();
        if mine.is_empty() {
            continue;
        }
        let rules = profile.rules(table, &profile.name)?;
        let table_profile = profile.table(table).expect("discover only assigns profiled tables");
        let mut loader = TableLoader::new(table, table_profile, &rules, options, prior, &mut summary, &mut *tables, &mut *rejects);
        for (index, file) in mine {
            let converter = Converter { table, table_profile, rules: &rules, as_of: options.as_of, path: &file.path, derived: &[] };
            read_alongside(file, &rules, |chunk| loader.chunk(index, &file.path, &converter, chunk))?;
            loader.drain(index, &file.path, &converter)?;
            progress.advance_by(std::fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0));
        }
        let paths: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();
        loader.finish(&paths, table_profile, &rules, options.as_of)?;
    }
    summary.finish();
    Ok(summary)
}

/// Chunks read ahead of conversion.
const READ_AHEAD: usize = 2 * PARALLEL_CHUNKS;

/// Reads `file` on a thread of its own, handing its chunks in order to `take` on this one, so that
/// parsing and conversion overlap. When `take` fails the reader stops, and that error is returned.
fn read_alongside(file: &SourceFile, rules: &profile::TableRules, mut take: impl FnMut(RawChunk) -> Result<()>) -> Result<()> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<RawChunk>(READ_AHEAD);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            // A send fails only once the receiver is gone, after `take` failed; the reader then
            // stops with an error nobody reports.
            let mut send = |chunk: RawChunk| sender.send(chunk).map_err(|_| crate::Error::input(&file.path, "reading stopped"));
            match file.format {
                Format::Csv => csv::read(&file.path, rules, &mut send),
                Format::Json => json::read(&file.path, &mut send),
                Format::Parquet => parquet::read(&file.path, &mut send),
                Format::Xes => xes::read(&file.path, &mut send),
            }
        });
        let taken = receiver.iter().try_for_each(&mut take);
        drop(receiver);
        let read = reader.join().unwrap_or_else(|panic| {
            Err(crate::Error::input(&file.path, format!("the reader failed ({}); please report this", crate::error::panic_message(panic.as_ref()))))
        });
        taken.and(read)
    })
}

/// How derived tickets, which carry canonical names, are converted: like a canonical file, with
/// the table's own parsing rules and checks.
pub(crate) fn tickets_profile(table_profile: &profile::TableProfile) -> profile::TableProfile {
    profile::TableProfile {
        auto_columns: true,
        columns: Default::default(),
        unknown_columns: profile::UnknownColumns::Ignore,
        dedup: None,
        eventlog: None,
        filter: None,
        ..table_profile.clone()
    }
}

/// Derives an event-log table's tickets and their status changes again from a stored history,
/// with only the events up to `as_of`: each ticket as it stood then. Tickets that fail the
/// table's checks are left out, as their load rejected them.
pub fn rederive(profile: &Profile, table: Table, history: Vec<RecordBatch>, as_of: Option<i64>, origin: &Path) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>)> {
    use datafusion::arrow::datatypes::{TimestampMicrosecondType, UInt64Type};
    let rules = profile.rules(table, &profile.name)?;
    let table_profile = profile.table(table).ok_or_else(|| crate::Error::profile(&profile.name, format!("no [tables.{table}] section")))?;
    let log = table_profile.eventlog.as_ref().ok_or_else(|| crate::Error::profile(&profile.name, format!("[tables.{table}] has no eventlog")))?;
    let extractor = eventlog::Extractor::new(log, &rules, as_of);
    let mut events = Vec::with_capacity(history.len());
    for batch in history {
        let times = batch.column_by_name("ts").expect("extracted").as_primitive::<TimestampMicrosecondType>();
        let keep: BooleanArray = (0..batch.num_rows()).map(|r| Some(as_of.is_none_or(|cut| times.value(r) <= cut))).collect();
        events.push(filter_record_batch(&batch, &keep)?);
    }
    let derived = eventlog::derive(&extractor, events)?;
    let as_tickets = tickets_profile(table_profile);
    let derived_milestones = log.derived_milestones();
    let converter = Converter { table, table_profile: &as_tickets, rules: &rules, as_of, path: origin, derived: &derived_milestones };
    let mut tickets = Vec::new();
    let mut accepted = std::collections::HashSet::new();
    for batch in derived.tickets {
        let rows = batch.column_by_name("first_row").expect("derived").as_primitive::<UInt64Type>().values().to_vec();
        let keep: Vec<usize> =
            (0..batch.num_columns()).filter(|&i| !["first_file", "first_row", "event_count"].contains(&batch.schema().field(i).name().as_str())).collect();
        let chunk = RawChunk { batch: batch.project(&keep)?, rows, lines: Vec::new(), malformed: Vec::new(), complete_schema: true };
        let converted = converter.convert(chunk)?;
        let ids = converted.batch.column(0).as_string::<i32>();
        accepted.extend((0..ids.len()).map(|r| ids.value(r).to_string()));
        tickets.push(converted.batch);
    }
    Ok((tickets, eventlog::changes_of(derived.changes, &accepted)?))
}
