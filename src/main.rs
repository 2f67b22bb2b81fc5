//! The `mttx` binary: parse flags, watch the process's memory, run the library, map the outcome
//! to an exit code (0 success, 1 a check or diff found regressions or verify found damage, 2
//! error, running out of memory included; a closed stdout pipe is not an error; a panic, which is
//! a bug, is an error too).

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use mttx::cli::Cli;

/// Where the last panic happened. The hook records it instead of printing: the library turns the
/// panics it can foresee (a dependency decoding a corrupt file) into errors of their own, and any
/// other reaches `main` as one line, not a backtrace.
static PANIC_AT: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut at) = PANIC_AT.lock() {
            *at = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        }
    }));
    match std::panic::catch_unwind(run) {
        Ok(code) => code,
        Err(payload) => {
            let at = PANIC_AT.lock().ok().and_then(|at| at.clone()).unwrap_or_default();
            let message = mttx::error::panic_message(payload.as_ref());
            let _ = writeln!(io::stderr(), "mttx: error: internal error at {at}: {message}; this is a bug, please report it with the command that caused it");
            ExitCode::from(2)
        }
    }
}

fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = mttx::engine::resident::watch() {
        let _ = writeln!(io::stderr(), "mttx: error: {e}");
        return ExitCode::from(2);
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    let result =
        mttx::commands::run(&cli, &mut out, &mut err).map_err(anyhow::Error::from).and_then(|status| out.flush().map(|()| status).map_err(anyhow::Error::from));
    match result {
        Ok(mttx::commands::Status::Success) => ExitCode::SUCCESS,
        Ok(mttx::commands::Status::Failure) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(err, "mttx: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || matches!(cause.downcast_ref::<mttx::Error>(), Some(mttx::Error::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe)
    })
}
