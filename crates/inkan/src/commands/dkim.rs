//! `inkan dkim verify`: every DKIM-Signature on a message, each with its RFC 8601 result and a
//! reason a person can act on.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use inkan_auth::Message;
use inkan_auth::dkim::{self, DkimOutput, DkimResult};

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{Format, write_json};

/// Arguments of `inkan dkim`.
#[derive(Debug, Args)]
pub struct DkimCommand {
    #[command(subcommand)]
    pub action: DkimAction,
}

/// What `inkan dkim` does.
#[derive(Debug, Subcommand)]
pub enum DkimAction {
    /// Verify every DKIM-Signature on a message. Exit 0 when at least one passes, else 1.
    Verify(VerifyArgs),
}

/// Arguments of `inkan dkim verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The message (RFC 5322); `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
}

#[derive(serde::Serialize)]
struct VerifyOutput<'a> {
    dkim: &'a [DkimOutput],
    line_endings_converted: bool,
}

impl DkimCommand {
    /// Runs the chosen action.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        match self.action {
            DkimAction::Verify(args) => verify(args, globals, out).await,
        }
    }
}

async fn verify(
    args: VerifyArgs,
    globals: &GlobalArgs,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    let saved = super::input::read_saved_message(args.file.as_deref(), globals.quiet)?;
    let message = Message::parse(saved.message).context("reading the message")?;
    let resolver = crate::resolver::build(globals)?;
    let results = dkim::verify(resolver.as_ref(), &message).await;
    match globals.format {
        Format::Json => write_json(
            out,
            &VerifyOutput {
                dkim: &results,
                line_endings_converted: message.converted_line_endings(),
            },
        )?,
        _ => write_text(out, &results, globals)?,
    }
    Ok(if results.iter().any(|r| r.result == DkimResult::Pass) {
        Exit::Pass
    } else {
        Exit::Findings
    })
}

fn write_text(
    out: &mut dyn Write,
    results: &[DkimOutput],
    globals: &GlobalArgs,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let color = globals.color.enabled(std::io::stdout().is_terminal());
    if results.is_empty() {
        writeln!(out, "dkim=none: the message has no DKIM-Signature field")?;
        return Ok(());
    }
    for r in results {
        if globals.quiet && r.result == DkimResult::Pass {
            continue;
        }
        let key = match (r.key_bits, r.key_type) {
            (Some(bits), Some(t)) => format!(" ({bits}-bit {} key)", t.as_str()),
            _ => String::new(),
        };
        let verdict = match (color, r.result) {
            (false, _) => format!("dkim={}", r.result),
            (true, DkimResult::Pass) => format!("\x1b[32mdkim={}\x1b[0m", r.result),
            (true, DkimResult::TempError | DkimResult::Neutral) => {
                format!("\x1b[33mdkim={}\x1b[0m", r.result)
            }
            (true, _) => format!("\x1b[31mdkim={}\x1b[0m", r.result),
        };
        writeln!(
            out,
            "{verdict} d={} s={} a={}{key}",
            r.domain, r.selector, r.algorithm
        )?;
        writeln!(out, "  {}", r.reason)?;
        if !r.signed_headers.is_empty() {
            writeln!(out, "  signed headers: {}", r.signed_headers.join(":"))?;
            let yes_no = |b: bool| if b { "yes" } else { "no" };
            writeln!(
                out,
                "  From over-signed: {}; List-Unsubscribe signed: {}; List-Unsubscribe-Post signed: {}",
                yes_no(r.from_oversigned),
                yes_no(r.list_unsubscribe_signed),
                yes_no(r.list_unsubscribe_post_signed)
            )?;
        }
        if let Some(l) = r.body_length {
            let unsigned = r
                .unsigned_body_bytes
                .map(|u| format!(", {u} bytes of body after it are not signed"))
                .unwrap_or_default();
            writeln!(
                out,
                "  warning: l={l} limits the signed body{unsigned}; anyone can append content"
            )?;
        }
        if r.testing {
            writeln!(out, "  note: the key is in testing mode (t=y)")?;
        }
    }
    Ok(())
}
