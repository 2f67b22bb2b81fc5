//! Advisory locks on a store, held by the operating system (`File::lock`), so a load that is
//! killed leaves no lock behind: the kernel drops it with the process.
//!
//! - `.load.lock`: one load at a time. A second load waits for the first, after saying so.
//! - `.readers/gNNNNNN.lock`, one per manifest generation: a reader holds its generation's lock
//!   shared for as long as it may open a file that manifest lists. After its switch, a load takes
//!   the locks of the older generations exclusively, waiting for their readers to finish, and
//!   only then deletes the files its new manifest no longer lists. Readers of the new generation
//!   never hold it up, so a server that moves to each new manifest as it appears lets loads
//!   tidy up while it keeps answering queries.
//!
//! A reader locks the generation it read, then reads the manifest again: if a load switched in
//! between, it starts over with the new one. So a load that found no reader of a generation can
//! be sure none will start reading that generation's files.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const LOAD_LOCK: &str = ".load.lock";
pub const READERS_DIR: &str = ".readers";

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct Held {
    _file: File,
}

fn open(path: &Path, write: bool) -> Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    if write {
        options.write(true).create(true).truncate(false);
    }
    options.open(path).map_err(|e| Error::io(path, e))
}

fn lock_error(path: &Path, e: std::io::Error) -> Error {
    Error::store(path, format!("cannot lock it: {e}"))
}

/// Takes the store's load lock, waiting for a load already running (and saying so on `notes`).
pub fn load(store: &Path, notes: &mut dyn Write) -> Result<Held> {
    let path = store.join(LOAD_LOCK);
    let file = open(&path, true)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let _ = writeln!(notes, "mttx: another load into {} is running; waiting for it to finish", store.display());
            file.lock().map_err(|e| lock_error(&path, e))?;
        }
        Err(TryLockError::Error(e)) => return Err(lock_error(&path, e)),
    }
    Ok(Held { _file: file })
}

fn readers_lock(store: &Path, generation: u64) -> PathBuf {
    store.join(READERS_DIR).join(format!("g{generation:06}.lock"))
}

/// Takes generation `generation`'s readers' lock shared. A store on storage the command cannot
/// lock (or write the lock file on) is read without it.
pub fn read(store: &Path, generation: u64) -> Option<Held> {
    let path = readers_lock(store, generation);
    let file = open(&path, false).or_else(|_| {
        std::fs::create_dir_all(store.join(READERS_DIR)).map_err(|e| Error::io(store, e))?;
        open(&path, true)
    });
    let file = file.ok()?;
    // Storage without locks (some network file systems): read without one.
    file.lock_shared().ok().map(|()| Held { _file: file })
}

/// Waits until no reader of a generation before `generation` is running, saying so on `notes` if
/// it has to, and returns those generations' locks held exclusively with their paths.
pub fn older_readers_done(store: &Path, generation: u64, notes: &mut dyn Write) -> Result<Vec<(PathBuf, Held)>> {
    let Ok(entries) = std::fs::read_dir(store.join(READERS_DIR)) else { return Ok(Vec::new()) };
    let mut held = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let older = name.strip_prefix('g').and_then(|n| n.strip_suffix(".lock")).and_then(|n| n.parse::<u64>().ok()).is_some_and(|g| g < generation);
        if !older {
            continue;
        }
        let path = entry.path();
        let file = open(&path, true)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let _ = writeln!(notes, "mttx: waiting for the commands still reading the store's previous files ({name}) before deleting them");
                file.lock().map_err(|e| lock_error(&path, e))?;
            }
            Err(TryLockError::Error(e)) => return Err(lock_error(&path, e)),
        }
        held.push((path, Held { _file: file }));
    }
    Ok(held)
}

/// The lock files, which are part of every store.
pub fn files(store: &Path) -> [PathBuf; 2] {
    [store.join(LOAD_LOCK), store.join(READERS_DIR)]
}
