//! `inkan arc seal`: a forwarder's ARC step (RFC 8617 §5.1). The message is evaluated as a
//! receiver would (SPF when the envelope is given, DKIM, DMARC, and the ARC chain it arrived
//! with), the results are written as the RFC 8601 payload of the new
//! ARC-Authentication-Results, and the message is printed with the new set on top.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use inkan_auth::Message;
use inkan_auth::arc::SealParams;
use inkan_auth::authres::AuthResults;
use inkan_auth::dmarc::OrgDomainMethod;

use super::verify::{Envelope, evaluate};
use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Arguments of `inkan arc`.
#[derive(Debug, Args)]
pub struct ArcCommand {
    #[command(subcommand)]
    pub command: ArcSubcommand,
}

/// What `inkan arc` does.
#[derive(Debug, Subcommand)]
pub enum ArcSubcommand {
    /// Evaluate a message as a receiver (SPF, DKIM, DMARC, ARC), then add the next ARC set
    /// (ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal) and print the message.
    Seal(SealCommand),
}

/// Arguments of `inkan arc seal`.
#[derive(Debug, Args)]
pub struct SealCommand {
    /// The message (RFC 5322); `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// The sealing domain (`d=`).
    #[arg(long)]
    pub domain: String,
    /// The selector (`s=`); the key is published at SELECTOR._domainkey.DOMAIN.
    #[arg(long)]
    pub selector: String,
    /// The private key, PEM (RSA PKCS#1 or PKCS#8, Ed25519 PKCS#8), as `inkan keygen` writes.
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// The authserv-id written in the ARC-Authentication-Results (usually this host's name).
    #[arg(long = "authserv-id", value_name = "ID")]
    pub authserv_id: String,
    /// The SMTP client's address, to check SPF.
    #[arg(long)]
    pub ip: Option<IpAddr>,
    /// The HELO/EHLO name the client gave.
    #[arg(long, requires = "ip")]
    pub helo: Option<String>,
    /// The MAIL FROM address (empty for bounces).
    #[arg(long = "mail-from", value_name = "ADDR", requires = "ip")]
    pub mail_from: Option<String>,
}

impl ArcCommand {
    /// Runs the subcommand.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        match self.command {
            ArcSubcommand::Seal(cmd) => cmd.run(globals, out).await,
        }
    }
}

impl SealCommand {
    /// Seals the message and prints it. Exit 0 when sealed, 2 on any error.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        let saved = super::input::read_saved_message(self.file.as_deref(), globals.quiet)?;
        let message = Message::parse(saved.message).context("reading the message")?;
        let key = super::input::read_signing_key(&self.key)?;
        let resolver = crate::resolver::build(globals)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let envelope = self
            .ip
            .map(|ip| Envelope::new(ip, self.helo.as_deref(), self.mail_from.as_deref()))
            .transpose()?;
        let evaluation = evaluate(
            &*resolver,
            &message,
            envelope.as_ref(),
            OrgDomainMethod::default(),
            now,
        )
        .await;
        let mut header = AuthResults::new(&self.authserv_id);
        header.results = evaluation.methods;
        let rendered = header.render("\r\n\t");
        // The AAR carries the payload after the authserv-id, which seal() writes itself.
        let payload = rendered
            .split_once(';')
            .map_or("", |(_, rest)| rest.trim_start());
        let mut params =
            SealParams::new(self.domain, self.selector, key, self.authserv_id, payload);
        params.chain = evaluation.arc.result;
        params.now = now;
        let sealed = inkan_auth::arc::seal(&message, &params).context("sealing the message")?;
        out.write_all(&saved.prefix)?;
        out.write_all(&sealed)?;
        Ok(Exit::Pass)
    }
}
