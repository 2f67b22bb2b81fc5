//! The `mttx` binary: parse flags, run the library, map the outcome to an exit code
//! (0 success, 1 a check or diff found regressions, 2 error; a closed stdout pipe is not an error).

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;
use mttx::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
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
