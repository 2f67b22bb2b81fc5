//! A store directory around its data: what it holds besides its manifest, the directories a load must
//! sync before its manifest switches, and the files no manifest lists any more, deleted when no
//! reader is running.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::fault::{Fault, fault};
use super::lock;
use super::manifest::{Manifest, profile_file, sync_dir};
use crate::error::{Error, Result};

/// What a store directory holds besides its manifest. `.readers.lock` is the readers' lock of
/// stores written before readers locked their generation; a directory holding it is still a store's.
pub const STORE_ENTRIES: [&str; 7] = ["data", "history", "loads", "profiles", super::lock::LOAD_LOCK, super::lock::READERS_DIR, ".readers.lock"];

/// A stand-in manifest for a store being replaced that cannot be read: its generation is the
/// highest in the names of the files on disk.
pub fn generations_on_disk(store: &Path) -> Manifest {
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

/// The directories whose entries a load changed, deepest first.
pub fn written_dirs(store: &Path, manifest: &Manifest) -> Vec<PathBuf> {
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

/// Makes `manifest` the store's, as a load or a compaction does once its files are written: every
/// new file and directory entry is synced, then the manifest switched atomically.
pub fn switch(store: &Path, manifest: &Manifest) -> Result<()> {
    for dir in written_dirs(store, manifest) {
        sync_dir(&dir)?;
    }
    fault(Fault::BeforeSwitch);
    manifest.switch(store)?;
    fault(Fault::AfterSwitch);
    Ok(())
}

/// Deletes what the manifest no longer lists (data files, histories, the loads of a replaced
/// store, staged manifests of loads that crashed), once the readers of older manifests are done,
/// and those manifests' readers' locks with them.
pub fn collect_garbage(store: &Path, manifest: &Manifest, notes: &mut dyn std::io::Write) -> Result<()> {
    let mut garbage = unlisted(store, manifest, &["data", "history", "profiles"])?;
    let listed: HashSet<PathBuf> = manifest.loads.iter().filter_map(|r| Path::new(&r.rejects).parent()).map(|dir| store.join(dir)).collect();
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
        return Ok(());
    }
    let older = lock::older_readers_done(store, manifest.generation, notes)?;
    for path in garbage.iter().chain(older.iter().map(|(path, _)| path)) {
        let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
        removed.map_err(|e| Error::io(path, e))?;
    }
    sync_dir(store)
}

/// The files under the store's directories `tops` that the manifest does not list: neither its
/// data files nor its profile.
pub(super) fn unlisted(store: &Path, manifest: &Manifest, tops: &[&str]) -> Result<Vec<PathBuf>> {
    let mut listed: HashSet<PathBuf> = manifest.data_files().map(|f| store.join(&f.path)).collect();
    listed.insert(store.join(profile_file(&manifest.profile)));
    let mut found = Vec::new();
    for top in tops {
        walk(&store.join(top), &mut |p| {
            if !listed.contains(p) {
                found.push(p.to_path_buf());
            }
        })?;
    }
    Ok(found)
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
