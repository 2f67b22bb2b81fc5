//! The evidence behind every judgement of a change: the statistical tests and their distributions,
//! Benjamini–Hochberg over a family of tests, the per-ticket samples behind rank tests, the
//! comparison of a period's measures with other periods, targets and peers, windows of months set
//! against each other, the verdicts, and the improvement register. The report and `mttx compare`
//! both build on it.

pub mod comparison;
pub mod distributions;
pub mod improvements;
pub mod peers;
pub mod samples;
pub mod stats;
pub mod targets;
pub mod two_sample;
pub mod verdict;
pub mod windows;
