//! `inkan man`: the manual page, in roff, generated from the clap definitions.

use clap::{Args, CommandFactory};

use crate::cli::{Cli, GlobalArgs};
use crate::exit::Exit;

/// Arguments of `inkan man` (none).
#[derive(Debug, Args)]
pub struct ManCommand {}

impl ManCommand {
    /// Writes the manual page to `out`; `inkan man | man -l -` shows it.
    pub fn run(self, _globals: &GlobalArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
        clap_mangen::Man::new(Cli::command()).render(out)?;
        Ok(Exit::Pass)
    }
}
