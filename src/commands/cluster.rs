//! `mttx scheduler` and `mttx executor`: a Ballista cluster's processes, with mttx's codecs.

use std::io::Write;

use crate::cli::{ExecutorArgs, SchedulerArgs};
use crate::engine;
use crate::engine::ballista::cluster;
use crate::error::{Error, Result};

/// `HOST:PORT` of flag `flag`, as host and port.
fn host_port(flag: &str, text: &str) -> Result<(String, u16)> {
    engine::host_and_port(text)
        .map(|(host, port)| (host.to_string(), port))
        .ok_or_else(|| Error::Usage(format!("{flag} {text}: give HOST:PORT with a port from 0 to 65535, such as 127.0.0.1:50050")))
}

/// Listens on --bind (port 0: any free port) and serves until the process is stopped; the first
/// line on stderr gives the address, so scripts can wait for it.
pub fn scheduler(args: &SchedulerArgs, err: &mut dyn Write) -> Result<()> {
    let (host, port) = host_port("--bind", &args.bind)?;
    engine::runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await.map_err(|e| Error::Usage(format!("--bind {}: {e}", args.bind)))?;
        let bound = listener.local_addr().map_err(|e| Error::io("<scheduler socket>", e))?;
        let _ = writeln!(err, "mttx scheduler: listening on {bound}");
        let _ = err.flush();
        cluster::scheduler(listener).await
    })
}

/// Takes work from --scheduler until stopped (Ctrl-C or SIGTERM).
pub fn executor(args: &ExecutorArgs, err: &mut dyn Write) -> Result<()> {
    let scheduler = host_port("--scheduler", &args.scheduler)?;
    let bind = host_port("--bind", &args.bind)?;
    if bind.1 == 0 {
        return Err(Error::Usage(format!("--bind {}: an executor tells the others its port, so give one (it takes the next port too)", args.bind)));
    }
    if args.concurrency == Some(0) {
        return Err(Error::Usage("--concurrency 0: give at least 1 task at once".into()));
    }
    let _ = writeln!(err, "mttx executor: serving on {}:{}, working for the scheduler at {}", bind.0, bind.1, args.scheduler);
    let _ = err.flush();
    let spec = cluster::Executor { scheduler, bind, external_host: args.external_host.clone(), work_dir: args.work_dir.clone(), concurrency: args.concurrency };
    engine::runtime()?.block_on(cluster::executor(spec))
}
