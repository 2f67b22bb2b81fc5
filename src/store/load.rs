//! `mttx load` into a store: a new store (`--out`), a replacement (`--out --replace`), or a
//! monthly export added to one (`--into`).
//!
//! A load writes new data files, then switches the manifest with an atomic rename, and only then
//! deletes the files the new manifest no longer lists, when no reader is running (see `lock`). A
//! crash or Ctrl-C before the switch leaves the previous store as it was, plus files no manifest
//! lists; a later load deletes them. Loads into one store take turns on an OS lock. How new rows
//! meet stored ones is `merge`'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::extent::Extent;
use super::fault::{Fault, fault};
use super::hash::{file_sha256, sha256_hex};
use super::manifest::{CompactionRecord, FORMAT, FORMAT_VERSION, LoadRecord, Manifest, ProfileRecord, SourceRecord, profile_file};
use super::reader::StoredHistory;
use super::sink::LoadedRows;
use super::{compact, lock, merge, tidy};
use crate::error::{Error, Result};
use crate::ingest::{self, LoadOptions, LoadSummary, Profile, RejectsCsv};
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
    /// The tables the load compacted, and those it left for `mttx compact`.
    pub compacted: compact::Compacted,
}

/// The first twelve characters of a hash, for messages.
pub fn short_hash(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// A store of a profile whose event logs derive the `events` table cannot also take plain event
/// exports: merging would not know which of a ticket's events to replace.
fn check_profile(store: &Path, profile: &Profile) -> Result<()> {
    let derives = Table::ALL.into_iter().any(|t| profile.table(t).is_some_and(|tp| tp.eventlog.is_some()));
    let plain_events = profile.table(Table::Events).is_some_and(|tp| tp.eventlog.is_none());
    if derives && plain_events {
        return Err(Error::store(
            store,
            format!("profile {} derives events from event logs and also reads an events export; a store needs one or the other", profile.name),
        ));
    }
    Ok(())
}

/// Loads the request's exports into the store at `store`: checks the store and the request, reads
/// the exports, merges and writes each table, then switches the manifest and tidies up.
pub fn load(store: &Path, request: &LoadRequest, progress: &Progress, notes: &mut dyn Write) -> Result<LoadOutcome> {
    prepare_dir(store, request.mode)?;
    let _load_lock = lock::load(store, notes)?;
    let (current, profile) = current_store(store, request)?;
    let base = match request.mode {
        Mode::Into { .. } => current.as_ref(),
        Mode::Out { .. } => None,
    };
    let generation = current.as_ref().map_or(0, |m| m.generation) + 1;
    let read = read_exports(store, request, base, generation, progress)?;
    let Read { summary, mut rows, hashing, rejects_path } = read;

    progress.stage("writing tables", Table::ALL.len() as u64 + 1);
    let prefix = format!("g{generation:06}");
    let mut written = merge::write_tables(store, request.profile, base, &mut rows, &prefix, progress)?;
    let mut histories = merge::write_histories(store, base, &rows, &prefix)?;
    progress.advance();
    let by = compact::By::Load { budget: summary.total().read, prefix: &prefix };
    let compacted = compact::compact_files(store, &mut written.tables, &mut histories, &prefix, &by, progress)?;
    for (table, files, rows) in &compacted.left {
        let _ = writeln!(
            notes,
            "mttx: {table} has {files} files; `mttx compact {}` merges them, rewriting at least {rows} stored rows (a load rewrites at most as many stored rows as it read)",
            store.display()
        );
    }
    fault(Fault::AfterDataFiles);

    let hashes = hashing.join().map_err(|_| Error::store(store, "hashing the sources failed; please report this"))?;
    let sources = source_records(base, &summary, hashes, generation)?;
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
        inserted: written.inserted,
        replaced: written.replaced,
        merged: total.merged + written.lost,
        rejected: total.rejected,
        rejects: rejects_path,
        rejects_by_reason: summary.rejects_by_reason.clone(),
        absent_columns: summary.absent_columns.clone(),
        clamped: summary.clamped.clone(),
    };
    if !record.reconciles() {
        return Err(Error::store(store, format!("the load does not reconcile (please report this): {record:?}")));
    }
    let mut pause_states = base.map(|m| m.pause_states.clone()).unwrap_or_default();
    for state in &summary.pause_states {
        if !pause_states.contains(state) {
            pause_states.push(state.clone());
        }
    }
    let mut loads = base.map(|m| m.loads.clone()).unwrap_or_default();
    loads.push(record.clone());
    let mut compactions = base.map(|m| m.compactions.clone()).unwrap_or_default();
    if !compacted.tables.is_empty() {
        compactions.push(CompactionRecord { generation, by: "load".into(), tables: compacted.tables.clone() });
    }
    let mut manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        model_version: MODEL_VERSION,
        generation,
        profile,
        cut_off: request.as_of,
        extent: Extent::default(),
        pause_states,
        tables: written.tables,
        histories,
        sources,
        loads,
        compactions,
    };
    manifest.extent = super::stamps::extent(store, &manifest)?;
    switch(store, &manifest, request.profile_text)?;
    progress.finish();
    // The load is done once the manifest has switched: tidying up may fail without undoing it.
    if let Err(e) = tidy::collect_garbage(store, &manifest, notes) {
        let _ = writeln!(notes, "mttx: the load is complete, but tidying the store failed ({e}); the next load tries again");
    }
    Ok(LoadOutcome { record, summary, manifest, compacted })
}

/// The store as it stands (None for a new one), checked against the request under the load lock,
/// and the record of the request's profile.
fn current_store(store: &Path, request: &LoadRequest) -> Result<(Option<Manifest>, ProfileRecord)> {
    // Checked again under the lock: another `--out` may have made a store here meanwhile.
    let current = match request.mode {
        Mode::Into { .. } => Some(Manifest::read(store)?),
        Mode::Out { replace: false } if Manifest::exists(store) => return Err(Error::store(store, "a store was made here by another load meanwhile")),
        // A store being replaced may be one this mttx cannot read (another layout version): its
        // files are not read, only their generations counted, so that new names never collide.
        Mode::Out { replace: true } if Manifest::exists(store) => Manifest::read(store).ok().or_else(|| Some(tidy::generations_on_disk(store))),
        Mode::Out { .. } => None,
    };
    check_profile(store, request.profile)?;
    let profile = ProfileRecord { name: request.profile.name.clone(), sha256: sha256_hex(request.profile_text.as_bytes()) };
    if let (Mode::Into { profile_change }, Some(current)) = (request.mode, &current)
        && current.profile.sha256 != profile.sha256
        && !profile_change
    {
        return Err(Error::store(
            store,
            format!(
                "the store was loaded with profile {} (sha256 {}), and this load uses {} (sha256 {}); give the same --profile, or --profile-change if the change is deliberate",
                current.profile.name,
                short_hash(&current.profile.sha256),
                profile.name,
                short_hash(&profile.sha256)
            ),
        ));
    }
    if let (Mode::Into { .. }, Some(current), Some(as_of)) = (request.mode, &current, request.as_of)
        && current.extent.latest.is_some_and(|latest| latest > as_of)
    {
        return Err(Error::store(
            store,
            format!(
                "--as-of {} is before the store's latest timestamp ({}): a load into a store keeps everything, and the cut-off belongs to the commands that read it (`mttx --as-of … report --input STORE`)",
                crate::time::rfc3339(as_of),
                crate::time::rfc3339(current.extent.latest.unwrap_or_default())
            ),
        ));
    }
    Ok((current, profile))
}

/// What reading the exports gave: the summary, the rows to merge (or those already written, for a
/// new store), the sources' hashes being computed alongside, and where the rejects went.
struct Read {
    summary: LoadSummary,
    rows: LoadedRows,
    hashing: std::thread::JoinHandle<Vec<Result<String>>>,
    rejects_path: String,
}

/// Reads the request's exports into rows for the merge, writing the rejects and the summary to
/// this load's directory; with `--strict`, any reject refuses the load here.
fn read_exports(store: &Path, request: &LoadRequest, base: Option<&Manifest>, generation: u64, progress: &Progress) -> Result<Read> {
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
    Ok(Read { summary, rows, hashing, rejects_path })
}

/// The store's sources with this load's files added, each with its size, hash and counts.
fn source_records(base: Option<&Manifest>, summary: &LoadSummary, hashes: Vec<Result<String>>, generation: u64) -> Result<Vec<SourceRecord>> {
    let mut sources = base.map(|m| m.sources.clone()).unwrap_or_default();
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
    Ok(sources)
}

/// Makes `manifest` the store's: the profile it was loaded with is written beside it (a store read
/// with a cut-off derives its event logs again with it), every new file and directory entry is on
/// disk, and then the manifest is switched atomically.
fn switch(store: &Path, manifest: &Manifest, profile_text: &str) -> Result<()> {
    let profile_path = store.join(profile_file(&manifest.profile));
    std::fs::create_dir_all(store.join("profiles")).map_err(|e| Error::io(store.join("profiles"), e))?;
    std::fs::write(&profile_path, profile_text).map_err(|e| Error::io(&profile_path, e))?;
    tidy::switch(store, manifest)
}

/// `--out` makes the directory; it refuses a store already there unless `replace`, and any other
/// directory that is not empty, so that no slip destroys a year of history or unrelated files.
pub fn prepare_dir(store: &Path, mode: Mode) -> Result<()> {
    match mode {
        Mode::Into { .. } => {
            if !Manifest::exists(store) {
                return Err(Error::store(store, "there is no store here to load into; make one with `mttx load --input EXPORTS --out STORE`"));
            }
        }
        Mode::Out { replace } => {
            if Manifest::exists(store) && !replace {
                return Err(Error::store(
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
                    let own = tidy::STORE_ENTRIES.contains(&name.as_str()) || name.starts_with(&format!(".{}.", super::manifest::FILE_NAME));
                    if !own {
                        return Err(Error::store(store, "the directory is not empty and holds no store; give a new directory for the store"));
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
