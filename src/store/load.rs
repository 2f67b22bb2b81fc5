//! `mttx load` into a store: a new store (`--out`), a replacement (`--out --replace`), or a
//! monthly export added to one (`--into`).
//!
//! A load writes new data files, then switches the manifest with an atomic rename, and only then
//! deletes the files the new manifest no longer lists, when no reader is running (see `lock`). A
//! crash or Ctrl-C before the switch leaves the previous store as it was, plus files no manifest
//! lists; a later load deletes them. Loads into one store take turns on an OS lock.
//!
//! Merging (`--into`), table by table:
//! - plain tables: one row per ticket. Of a stored and a new version, the one whose version key is
//!   greater wins: the profile's dedup ordering where it has one, else the latest lifecycle
//!   timestamp; on a full tie the later load. An older export loaded after a newer one does not
//!   roll tickets back.
//! - event-log tables: the new events join the stored history of their cases (an event already
//!   there is merged), and those tickets are derived again from the whole history, so a partial
//!   history never replaces a complete ticket. Their `events` rows are derived again with them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, filter_record_batch};
use sha2::{Digest, Sha256};

use super::lock;
use super::manifest::{DataFile, FORMAT, FORMAT_VERSION, LoadRecord, Manifest, ProfileRecord, SourceRecord, TableFiles, sync_dir};
use super::reader::{StoredHistory, read_file};
use super::sink::LoadedRows;
use super::writer::{LOAD_COLUMN, VERSION_COLUMN, stored_schema, write_sorted};
use crate::error::{Error, Result};
use crate::ingest::{self, LoadOptions, LoadSummary, Profile, RejectsCsv};
use crate::kpi::extent::Extent;
use crate::model::{MODEL_VERSION, Table};
use crate::progress::Progress;

/// How a load treats the directory it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A new store; with `replace`, one that replaces the store already there.
    Out { replace: bool },
    /// Into an existing store; `profile_change` allows a profile other than the store's.
    Into { profile_change: bool },
}

pub struct LoadRequest<'a> {
    pub inputs: &'a [PathBuf],
    pub profile: &'a Profile,
    /// The profile's TOML text, whose hash the manifest records.
    pub profile_text: &'a str,
    pub as_of: Option<i64>,
    pub mode: Mode,
    /// Refuse the load, leaving the store as it was, when any row is rejected.
    pub strict: bool,
}

/// What a load did.
pub struct LoadOutcome {
    pub record: LoadRecord,
    pub summary: LoadSummary,
    pub manifest: Manifest,
    /// Files no longer listed that could not be deleted yet, because a reader was running.
    pub left_for_later: usize,
}

/// Where a test may stop a load, as a crash would: `MTTX_FAULT=<point>` exits the process there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    AfterDataFiles,
    BeforeSwitch,
    AfterSwitch,
}

fn fault(point: Fault) {
    let wanted = match point {
        Fault::AfterDataFiles => "after-data-files",
        Fault::BeforeSwitch => "before-switch",
        Fault::AfterSwitch => "after-switch",
    };
    if std::env::var("MTTX_FAULT").is_ok_and(|f| f == wanted) {
        // As abrupt as a crash: no destructors, no cleanup.
        std::process::abort();
    }
}

/// The first twelve characters of a hash, for messages.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// A store of a profile whose event logs derive the `events` table cannot also take plain event
/// exports: merging would not know which of a ticket's events to replace.
fn check_profile(store: &Path, profile: &Profile) -> Result<()> {
    let derives = Table::ALL.into_iter().any(|t| profile.table(t).is_some_and(|tp| tp.eventlog.is_some()));
    let plain_events = profile.table(Table::Events).is_some_and(|tp| tp.eventlog.is_none());
    if derives && plain_events {
        return Err(store_error(
            store,
            format!("profile {} derives events from event logs and also reads an events export; a store needs one or the other", profile.name),
        ));
    }
    Ok(())
}

/// A stand-in manifest for a store being replaced that cannot be read: its generation is the
/// highest in the names of the files on disk.
fn generations_on_disk(store: &Path) -> Manifest {
    let mut highest = 0u64;
    for top in ["data", "history"] {
        let _ = walk(&store.join(top), &mut |p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(g) = name.strip_prefix('g').and_then(|n| n.get(..6)).and_then(|n| n.parse::<u64>().ok()) {
                highest = highest.max(g);
            }
        });
    }
    if let Ok(entries) = std::fs::read_dir(store.join("loads")) {
        for entry in entries.flatten() {
            if let Ok(g) = entry.file_name().to_string_lossy().parse::<u64>() {
                highest = highest.max(g);
            }
        }
    }
    Manifest { generation: highest, ..Manifest::empty() }
}

fn store_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Store { path: path.to_path_buf(), message: message.into() }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn file_sha256(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Loads the request's exports into the store at `store`.
pub fn load(store: &Path, request: &LoadRequest, progress: &Progress, notes: &mut dyn Write) -> Result<LoadOutcome> {
    prepare_dir(store, request.mode)?;
    let _load_lock = lock::load(store, notes)?;
    // Checked again under the lock: another `--out` may have made a store here meanwhile.
    let current = match request.mode {
        Mode::Into { .. } => Some(Manifest::read(store)?),
        Mode::Out { replace: false } if Manifest::exists(store) => return Err(store_error(store, "a store was made here by another load meanwhile")),
        // A store being replaced may be one this mttx cannot read (another layout version): its
        // files are not read, only their generations counted, so that new names never collide.
        Mode::Out { replace: true } if Manifest::exists(store) => Manifest::read(store).ok().or_else(|| Some(generations_on_disk(store))),
        Mode::Out { .. } => None,
    };
    check_profile(store, request.profile)?;
    let profile = ProfileRecord { name: request.profile.name.clone(), sha256: sha256_hex(request.profile_text.as_bytes()) };
    let base = match (request.mode, &current) {
        (Mode::Into { profile_change }, Some(current)) => {
            if current.profile.sha256 != profile.sha256 && !profile_change {
                return Err(store_error(
                    store,
                    format!(
                        "the store was loaded with profile {} (sha256 {}), and this load uses {} (sha256 {}); give the same --profile, or --profile-change if the change is deliberate",
                        current.profile.name,
                        short(&current.profile.sha256),
                        profile.name,
                        short(&profile.sha256)
                    ),
                ));
            }
            Some(current)
        }
        _ => None,
    };
    if let (Mode::Into { .. }, Some(current), Some(as_of)) = (request.mode, &current, request.as_of)
        && current.extent.latest.is_some_and(|latest| latest > as_of)
    {
        return Err(store_error(
            store,
            format!(
                "--as-of {} is before the store's latest timestamp ({}): a load into a store keeps everything, and the cut-off belongs to the commands that read it (`mttx --as-of … report --input STORE`)",
                crate::time::rfc3339(as_of),
                crate::time::rfc3339(current.extent.latest.unwrap_or_default())
            ),
        ));
    }
    let generation = current.as_ref().map_or(0, |m| m.generation) + 1;
    let first_file = base.map_or(0, |m| m.sources.len()) as u32;

    let load_dir = format!("loads/{generation:06}");
    std::fs::create_dir_all(store.join(&load_dir)).map_err(|e| Error::io(store.join(&load_dir), e))?;
    let rejects_path = format!("{load_dir}/rejects.csv");
    let mut rejects = RejectsCsv::create(&store.join(&rejects_path))?;
    // A new store has nothing to merge with: its rows go to data files as they come.
    let mut rows = if base.is_none() { LoadedRows::streaming(generation, store.to_path_buf()) } else { LoadedRows::new(generation) };
    let options = LoadOptions { as_of: request.as_of, first_file };
    let history = base.map(|m| StoredHistory { dir: store, manifest: m });
    let (files, skipped) = ingest::source::discover(request.inputs, request.profile)?;
    // The manifest records each source's hash, in the summary's order of files: computed
    // alongside the load, not after it.
    let paths: Vec<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let hashing = std::thread::spawn(move || paths.iter().map(|p| file_sha256(p)).collect::<Vec<_>>());
    let summary = ingest::load_with_history(
        &files,
        skipped,
        request.profile,
        &options,
        &mut rows,
        &mut rejects,
        history.as_ref().map(|h| h as &dyn ingest::PriorHistory),
        progress,
    )?;
    rows.finish_writing()?;
    rejects.finish()?;
    write_json(&store.join(format!("{load_dir}/summary.json")), &summary)?;
    let rejected = summary.total().rejected;
    if request.strict && rejected > 0 {
        // The rejects stay for reading until a later load tidies the store.
        return Err(Error::Strict { rejected, rejects_file: format!("{} (the store is unchanged)", store.join(&rejects_path).display()) });
    }

    progress.stage("writing tables", Table::ALL.len() as u64 + 1);
    let prefix = format!("g{generation:06}");
    let eventlog_tables: HashSet<Table> = Table::ALL.into_iter().filter(|t| request.profile.table(*t).is_some_and(|tp| tp.eventlog.is_some())).collect();
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
    let mut tables = BTreeMap::new();
    let (mut inserted, mut replaced, mut lost) = (0u64, 0u64, 0u64);
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
                merge_table(store, *table, &stored, new, &prefix, rule(*table))
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
            inserted += merged.inserted;
            replaced += merged.replaced;
            lost += merged.lost;
        }
        tables.insert(table.name().to_string(), merged.files);
        progress.advance();
    }
    let mut histories = base.map(|m| m.histories.clone()).unwrap_or_default();
    for (table, batches) in &rows.histories {
        let Some(first) = batches.first() else { continue };
        let files = write_sorted(store, &format!("history/{}", table.name()), &prefix, &first.schema(), batches, &["case_id", "ts", "file", "row"])?;
        let entry: &mut TableFiles = histories.entry(table.name().to_string()).or_default();
        entry.rows += files.iter().map(|f| f.rows).sum::<u64>();
        entry.files.extend(files);
    }
    progress.advance();
    fault(Fault::AfterDataFiles);

    let mut sources = base.map(|m| m.sources.clone()).unwrap_or_default();
    let hashes = hashing.join().map_err(|_| store_error(store, "hashing the sources failed; please report this"))?;
    for (file, sha256) in summary.files.iter().zip(hashes) {
        let path = Path::new(&file.path);
        sources.push(SourceRecord {
            path: file.path.clone(),
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            sha256: sha256?,
            load: generation,
            table: file.table.clone(),
            format: file.format,
            counts: file.counts,
        });
    }
    let total = summary.total();
    let record = LoadRecord {
        generation,
        mode: match request.mode {
            Mode::Out { .. } => "out".into(),
            Mode::Into { .. } => "into".into(),
        },
        profile: profile.clone(),
        as_of: request.as_of,
        read: total.read,
        inserted,
        replaced,
        merged: total.merged + lost,
        rejected: total.rejected,
        rejects: rejects_path,
        rejects_by_reason: summary.rejects_by_reason.clone(),
        absent_columns: summary.absent_columns.clone(),
    };
    if !record.reconciles() {
        return Err(store_error(store, format!("the load does not reconcile (please report this): {record:?}")));
    }
    let mut pause_states = base.map(|m| m.pause_states.clone()).unwrap_or_default();
    for state in &summary.pause_states {
        if !pause_states.contains(state) {
            pause_states.push(state.clone());
        }
    }
    let mut loads = base.map(|m| m.loads.clone()).unwrap_or_default();
    loads.push(record.clone());
    let mut manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        model_version: MODEL_VERSION,
        generation,
        profile,
        cut_off: request.as_of,
        extent: Extent::default(),
        pause_states,
        tables,
        histories,
        sources,
        loads,
    };
    manifest.extent = extent_of(store, &manifest)?;
    // The profile, by its hash: a store read with a cut-off derives its event logs again with it.
    let profile_path = store.join(profile_file(&manifest.profile));
    std::fs::create_dir_all(store.join("profiles")).map_err(|e| Error::io(store.join("profiles"), e))?;
    std::fs::write(&profile_path, request.profile_text).map_err(|e| Error::io(&profile_path, e))?;
    // Every new file and directory entry is on disk before the manifest lists them.
    for dir in written_dirs(store, &manifest) {
        sync_dir(&dir)?;
    }
    fault(Fault::BeforeSwitch);
    manifest.switch(store)?;
    fault(Fault::AfterSwitch);
    progress.finish();
    // The load is done once the manifest has switched: tidying up may fail without undoing it.
    let left_for_later = match collect_garbage(store, &manifest) {
        Ok(left) => left,
        Err(e) => {
            let _ = writeln!(notes, "mttx: the load is complete, but tidying the store failed ({e}); the next load tries again");
            1
        }
    };
    Ok(LoadOutcome { record, summary, manifest, left_for_later })
}

/// What a store directory holds besides its manifest.
const STORE_ENTRIES: [&str; 6] = ["data", "history", "loads", "profiles", super::lock::LOAD_LOCK, super::lock::READERS_LOCK];

/// `--out` makes the directory; it refuses a store already there unless `replace`, and any other
/// directory that is not empty, so that no slip destroys a year of history or unrelated files.
fn prepare_dir(store: &Path, mode: Mode) -> Result<()> {
    match mode {
        Mode::Into { .. } => {
            if !Manifest::exists(store) {
                return Err(store_error(store, "there is no store here to load into; make one with `mttx load --input EXPORTS --out STORE`"));
            }
        }
        Mode::Out { replace } => {
            if Manifest::exists(store) && !replace {
                return Err(store_error(
                    store,
                    "a store is already here; add exports to it with `mttx load --into`, or give --replace to replace it (the replacement is atomic)",
                ));
            }
            if store.exists() && !Manifest::exists(store) {
                // What a load that failed before its first switch leaves behind is the store's own;
                // anything else is not, and is never written over.
                let entries = std::fs::read_dir(store).map_err(|e| Error::io(store, e))?;
                for entry in entries {
                    let name = entry.map_err(|e| Error::io(store, e))?.file_name().to_string_lossy().into_owned();
                    let own = STORE_ENTRIES.contains(&name.as_str()) || name.starts_with(&format!(".{}.", super::manifest::FILE_NAME));
                    if !own {
                        return Err(store_error(store, "the directory is not empty and holds no store; give a new directory for the store"));
                    }
                }
            }
            std::fs::create_dir_all(store).map_err(|e| Error::io(store, e))?;
        }
    }
    Ok(())
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
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
    let new = concat_batches(&schema, new)?;
    let new_ids = new.column(0).as_string::<i32>();
    let new_versions = new.column_by_name(VERSION_COLUMN).expect("stored schema").as_binary::<i32>();
    // Only stored rows are looked up; a new store has none.
    let index: HashMap<&str, usize> = if stored.files.is_empty() { HashMap::new() } else { (0..new.num_rows()).map(|r| (new_ids.value(r), r)).collect() };
    let mut new_wins = vec![true; new.num_rows()];
    let mut was_stored = vec![false; new.num_rows()];
    let mut files = Vec::new();
    let dir = format!("data/{}", table.name());
    for (part, file) in stored.files.iter().enumerate() {
        let path = store.join(&file.path);
        let key = if matches!(rule, Rule::ReplaceTickets(_)) { "ticket_id" } else { "id" };
        let keyed = read_file(&path, Some(&[key, VERSION_COLUMN, LOAD_COLUMN]))?;
        let mut drop_rows = Vec::new();
        for batch in &keyed {
            let keys = batch.column_by_name(key).expect("projected").as_string::<i32>();
            let versions = batch.column_by_name(VERSION_COLUMN).expect("projected").as_binary::<i32>();
            let mut drops = vec![false; batch.num_rows()];
            for (r, drop) in drops.iter_mut().enumerate() {
                let value = keys.value(r);
                *drop = match &rule {
                    Rule::ReplaceTickets(tickets) => tickets.contains(value),
                    Rule::Authoritative => index.get(value).inspect(|&&n| was_stored[n] = true).is_some(),
                    Rule::Versions => match index.get(value) {
                        None => false,
                        Some(&n) => {
                            was_stored[n] = true;
                            // The new load is later: it wins every tie.
                            let wins = new_versions.value(n) >= versions.value(r);
                            new_wins[n] &= wins;
                            wins
                        }
                    },
                };
            }
            drop_rows.push(drops);
        }
        if !drop_rows.iter().flatten().any(|d| *d) {
            files.push(file.clone());
            continue;
        }
        // The file loses rows: rewrite it without them (it stays sorted).
        let full = read_file(&path, None)?;
        let kept: Vec<RecordBatch> = full
            .iter()
            .zip(&drop_rows)
            .map(|(batch, drops)| filter_record_batch(batch, &drops.iter().map(|d| Some(!d)).collect::<BooleanArray>()))
            .collect::<std::result::Result<_, _>>()?;
        let kept = concat_batches(&full[0].schema(), &kept)?;
        if kept.num_rows() > 0 {
            files.push(super::writer::write_file(store, &format!("{dir}/{prefix}-r{part:03}.parquet"), &kept)?);
        }
    }
    let winners = filter_record_batch(&new, &new_wins.iter().map(|w| Some(*w)).collect::<BooleanArray>())?;
    files.extend(write_sorted(store, &dir, prefix, &schema, &[winners], &[table.sort_field(), "id"])?);
    let lost = new_wins.iter().filter(|w| !**w).count() as u64;
    let replaced = new_wins.iter().zip(&was_stored).filter(|(w, s)| **w && **s).count() as u64;
    let inserted = new.num_rows() as u64 - lost - replaced;
    let rows = files.iter().map(|f: &DataFile| f.rows).sum();
    Ok(Merged { files: TableFiles { rows, files }, inserted, replaced, lost })
}

/// The extent of the store the manifest describes, scanned from its files.
fn extent_of(store: &Path, manifest: &Manifest) -> Result<Extent> {
    let ctx = crate::engine::session("UTC");
    for table in Table::ALL {
        let files = manifest.tables.get(table.name()).map(|t| t.files.as_slice()).unwrap_or_default();
        ctx.register_table(table.name(), super::reader::provider(&ctx, store, files, table)?)?;
    }
    crate::engine::block_on(Extent::scan(&ctx))
}

/// The profile file of a store, named by the profile's hash.
pub fn profile_file(profile: &ProfileRecord) -> String {
    format!("profiles/{}.toml", profile.sha256)
}

/// The directories whose entries a load changed, deepest first.
fn written_dirs(store: &Path, manifest: &Manifest) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = manifest.data_files().filter_map(|f| store.join(&f.path).parent().map(Path::to_path_buf)).collect();
    if let Some(load) = manifest.loads.last()
        && let Some(dir) = Path::new(&load.rejects).parent()
    {
        dirs.push(store.join(dir));
    }
    dirs.extend(["data", "history", "loads", "profiles"].iter().map(|d| store.join(d)).filter(|d| d.is_dir()));
    dirs.push(store.to_path_buf());
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.dedup();
    dirs
}

/// Deletes what the manifest no longer lists (data files, histories, the loads of a replaced
/// store, staged manifests of loads that crashed), unless a reader is running; returns how many
/// were left for a later load.
fn collect_garbage(store: &Path, manifest: &Manifest) -> Result<usize> {
    let mut listed: HashSet<PathBuf> = manifest.data_files().map(|f| store.join(&f.path)).collect();
    listed.insert(store.join(profile_file(&manifest.profile)));
    for record in &manifest.loads {
        if let Some(dir) = Path::new(&record.rejects).parent() {
            listed.insert(store.join(dir));
        }
    }
    let mut garbage = Vec::new();
    for top in ["data", "history", "profiles"] {
        walk(&store.join(top), &mut |p| {
            if !listed.contains(p) {
                garbage.push(p.to_path_buf());
            }
        })?;
    }
    if let Ok(entries) = std::fs::read_dir(store.join("loads")) {
        for entry in entries.flatten() {
            if !listed.contains(&entry.path()) {
                garbage.push(entry.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(store) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&format!(".{}.", super::manifest::FILE_NAME)) {
                garbage.push(entry.path());
            }
        }
    }
    if garbage.is_empty() {
        return Ok(0);
    }
    let Some(_exclusive) = lock::no_readers(store)? else { return Ok(garbage.len()) };
    for path in &garbage {
        let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
        removed.map_err(|e| Error::io(path, e))?;
    }
    sync_dir(store)?;
    Ok(0)
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            walk(&path, visit)?;
        } else {
            visit(&path);
        }
    }
    Ok(())
}
