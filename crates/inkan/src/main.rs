//! The `inkan` command: argument parsing, printing and exit codes. Everything it checks is
//! decided by the library crates; this crate only connects them to a terminal or a script.

mod cli;
mod commands;
mod exit;
mod output;
mod resolver;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::exit::Exit;

/// mimalloc instead of the system allocator: a fleet audit allocates and frees many small
/// objects across threads (answers, checks, JSON), and glibc's malloc spent a quarter of the
/// audit's CPU time on it, most in consolidating its fast bins.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("inkan: cannot start the async runtime: {err}");
            return Exit::Error.into();
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = runtime.block_on(cli.run(&mut out));
    let flushed = out.flush();
    match result.and_then(|exit| flushed.map(|()| exit).map_err(anyhow::Error::from)) {
        Ok(exit) => exit.into(),
        Err(err) if exit::is_broken_pipe(&err) => Exit::Pass.into(),
        Err(err) => {
            eprintln!("inkan: {err:#}");
            Exit::Error.into()
        }
    }
}
