//! mttx: ITSM metrics and benchmarking on Apache Arrow and DataFusion.
//!
//! The library owns all logic; the `mttx` binary only parses flags and maps results to exit codes.

pub mod check;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod distributions;
pub mod engine;
pub mod error;
pub mod escape;
pub mod evidence;
pub mod functions;
pub mod generate;
pub mod golden;
pub mod ingest;
pub mod kpi;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod render;
pub mod report;
#[cfg(feature = "serve")]
pub mod serve;
pub mod store;
pub mod time;
pub mod write;

pub use error::{Error, Result};
