//! `mttx serve`: the flags turned into the server's configuration.

use std::sync::{Arc, Mutex};

use super::Settings;
use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::serve::{self, Config, Limits};

pub fn serve(args: &ServeArgs, settings: &Settings) -> Result<()> {
    if settings.as_of.is_some() {
        return Err(Error::Usage(
            "--as-of: mttx serve shows the store as it stands, and each load as it lands; query a cut-off with `mttx kpi --as-of`".into(),
        ));
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let limits = Limits {
        query_timeout: args.query_timeout,
        max_rows: args.max_rows,
        max_concurrent: args.max_concurrent.map_or(cores, usize::from),
        max_waiting: serve::MAX_WAITING,
    };
    let config = Config {
        store: args.input.clone(),
        bind: args.bind.clone(),
        token_file: args.token_file.clone(),
        tls: args.tls_cert.clone().zip(args.tls_key.clone()),
        timezone: settings.timezone,
        sla: args.sla.clone(),
        memory_limit: settings.memory_limit,
        limits,
    };
    serve::run(config, Arc::new(Mutex::new(std::io::stderr())))
}
