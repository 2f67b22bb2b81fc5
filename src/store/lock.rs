//! Advisory locks on a store, held by the operating system (`File::lock`), so a load that is
//! killed leaves no lock behind: the kernel drops it with the process.
//!
//! - `.load.lock`: one load at a time. A second load waits for the first, after saying so.
//! - `.readers.lock`: every command that reads the store holds it shared while it runs. A load
//!   deletes the files its new manifest no longer lists only if it can take this lock
//!   exclusively, that is, when no reader is running. A reader that opened the old manifest
//!   could still be reading those files. A reader that starts later waits for the short
//!   deletion, then reads the new manifest, which lists none of them. Files a load could not
//!   delete are deleted by a later one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const LOAD_LOCK: &str = ".load.lock";
pub const READERS_LOCK: &str = ".readers.lock";

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
    Error::Store { path: path.to_path_buf(), message: format!("cannot lock it: {e}") }
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

/// Takes the readers' lock shared, for as long as a command reads the store. A store on storage
/// the command cannot lock (or write the lock file on) is read without it.
pub fn read(store: &Path) -> Result<Option<Held>> {
    let path = store.join(READERS_LOCK);
    let Ok(file) = open(&path, false).or_else(|_| open(&path, true)) else { return Ok(None) };
    match file.lock_shared() {
        Ok(()) => Ok(Some(Held { _file: file })),
        // Storage without locks (some network file systems): read without one.
        Err(_) => Ok(None),
    }
}

/// Takes the readers' lock exclusively if no reader holds it; None when one does.
pub fn no_readers(store: &Path) -> Result<Option<Held>> {
    let path = store.join(READERS_LOCK);
    let file = open(&path, true)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Held { _file: file })),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(lock_error(&path, e)),
    }
}

/// The lock files, which are part of every store.
pub fn files(store: &Path) -> [PathBuf; 2] {
    [store.join(LOAD_LOCK), store.join(READERS_LOCK)]
}
