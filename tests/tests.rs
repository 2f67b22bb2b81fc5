//! Integration tests of mttx, built into one binary. Fixtures live in tests/fixtures/.

mod util;

mod bad_input;
#[cfg(feature = "ballista")]
mod ballista;
mod browser;
mod check;
mod cli;
mod compact;
mod compare;
mod dedup;
mod docs;
mod first_page;
mod fuzz;
mod generator;
mod glance;
mod hostile;
mod kpis;
mod layers;
mod load_cost;
mod monthly;
mod profiles;
mod profiles_builtin;
mod readers;
mod realdata;
mod report;
#[cfg(feature = "serve")]
mod serve;
mod store;
mod tickets;
mod verify;
