//! The canonical store: what `mttx load --out` writes and every command can take as `--input`.
//! A directory holding one Parquet dataset per canonical table, the status histories of event-log
//! tables, each load's rejects and summary, and `manifest.json`, which says which files make up
//! the store. See `load` for how loads write and merge, and `reader` for how commands read it.

pub mod compact;
pub mod extent;
mod fault;
pub mod hash;
pub mod load;
pub mod lock;
pub mod manifest;
mod merge;
pub mod plan;
pub mod reader;
pub mod sink;
mod sort;
pub mod stamps;
mod tidy;
pub mod verify;
pub mod writer;

pub use load::{LoadOutcome, LoadRequest, Mode};
pub use manifest::Manifest;
pub use reader::Store;

/// True when `inputs` name one store rather than exports.
pub fn is_store(inputs: &[std::path::PathBuf]) -> bool {
    matches!(inputs, [one] if Manifest::exists(one))
}
