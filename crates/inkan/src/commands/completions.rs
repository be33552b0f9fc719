//! `inkan completions SHELL`: a shell completion script generated from the clap definitions.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::{Cli, GlobalArgs};
use crate::exit::Exit;

/// Arguments of `inkan completions`.
#[derive(Debug, Args)]
pub struct CompletionsCommand {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

impl CompletionsCommand {
    /// Writes the completion script to `out`.
    pub fn run(self, _globals: &GlobalArgs, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
        clap_complete::generate(self.shell, &mut Cli::command(), "inkan", out);
        Ok(Exit::Pass)
    }
}
