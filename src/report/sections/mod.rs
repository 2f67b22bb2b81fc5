//! The report's sections, one module each, in the order a monthly service review reads them.

pub mod benchmark;
pub mod changes;
pub mod data_quality;
pub mod definitions;
pub mod improvements;
pub mod majors;
pub mod problems;
pub mod reliability;
pub mod response;
pub mod sla;
pub mod summary;
pub mod teams;
