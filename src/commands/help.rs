//! `mttx completions` and `mttx man`: shell completion scripts and the man page, generated from
//! the same flag definitions that parse the command line, so they never fall behind it.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Result;
use crate::render::stdout_error;

/// The completion script for `shell`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<()> {
    // Generated into memory first: the generator panics on a failed write, and a closed pipe
    // (`mttx completions bash | head`) is not an error.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mttx", &mut script);
    out.write_all(&script).map_err(stdout_error)
}

/// The man page, in roff.
pub fn man(out: &mut dyn Write) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page).map_err(stdout_error)?;
    out.write_all(&page).map_err(stdout_error)
}
