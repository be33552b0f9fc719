//! Reading a message from a file or standard input, shared by the commands that take one.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

/// Reads `path`, or standard input when it is `-` or absent.
pub fn read_message(path: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match path {
        Some(p) if p != Path::new("-") => {
            std::fs::read(p).with_context(|| format!("reading message {}", p.display()))
        }
        _ => {
            let mut buf = Vec::new();
            std::io::stdin()
                .read_to_end(&mut buf)
                .context("reading message from standard input")?;
            Ok(buf)
        }
    }
}
