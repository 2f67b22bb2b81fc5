//! The evidence behind every judgement of a change: the statistical tests (their distributions are
//! in `crate::distributions`), Benjamini–Hochberg over a family of tests, the per-ticket samples
//! behind rank tests, the comparison of a period's measures with other periods, targets and peers,
//! windows of months set against each other, the verdicts, the improvement register, the patch
//! family, and process-behaviour (XmR) charts. The report and `mttx compare` both build on it.

pub mod comparison;
pub mod control;
pub mod did;
pub mod improvements;
pub mod patch_family;
pub mod peers;
pub mod register;
pub mod samples;
pub mod stats;
pub mod targets;
pub mod two_sample;
pub mod verdict;
pub mod windows;
pub mod xmr;
