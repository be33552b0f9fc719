//! `inkan sign`: adds a DKIM-Signature (RFC 6376 §5) to a message, first in the header.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use inkan_auth::Message;
use inkan_auth::dkim::{Algorithm, Canon, Canonicalization, Signer};

use crate::cli::GlobalArgs;
use crate::exit::Exit;

/// Signing algorithms `sign` offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SignAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[value(name = "rsa-sha256")]
    RsaSha256,
    /// Ed25519 over SHA-256 (RFC 8463).
    #[value(name = "ed25519-sha256")]
    Ed25519Sha256,
}

/// Arguments of `inkan sign`.
#[derive(Debug, Args)]
pub struct SignCommand {
    /// The message (RFC 5322); `-` or nothing reads standard input.
    pub file: Option<PathBuf>,
    /// The signing domain (d=).
    #[arg(long)]
    pub domain: String,
    /// The selector (s=).
    #[arg(long)]
    pub selector: String,
    /// The private key: PEM, PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY", RSA or Ed25519).
    #[arg(long, value_name = "KEYFILE")]
    pub key: PathBuf,
    /// The algorithm (default: from the key).
    #[arg(long, value_enum)]
    pub algorithm: Option<SignAlgorithm>,
    /// Header fields to sign, colon-separated (default: From, To, Cc, Subject, Date, Message-ID,
    /// Reply-To, In-Reply-To, References, MIME headers, List-Unsubscribe, List-Unsubscribe-Post,
    /// List-Id, Feedback-ID). From is always signed; From, Subject and the unsubscribe headers
    /// are over-signed.
    #[arg(long, value_name = "h1:h2")]
    pub headers: Option<String>,
    /// Canonicalization, header/body.
    #[arg(long, value_name = "HEADER/BODY", default_value = "relaxed/relaxed", value_parser = parse_canon)]
    pub canonicalization: Canonicalization,
    /// Add x= this many seconds after t=.
    #[arg(long, value_name = "SECONDS")]
    pub expire: Option<u64>,
    /// Add l= (body length). Risky: anyone can append content that stays "signed".
    #[arg(long)]
    pub body_length: bool,
    /// Add i= (the agent or user identity, within --domain).
    #[arg(long)]
    pub identity: Option<String>,
    /// Sign as of this Unix time instead of now (reproducible output).
    #[arg(long, value_name = "UNIX_TIME")]
    pub timestamp: Option<u64>,
}

fn parse_canon(s: &str) -> Result<Canonicalization, String> {
    let one = |c: &str| match c {
        "simple" => Ok(Canon::Simple),
        "relaxed" => Ok(Canon::Relaxed),
        _ => Err(format!("'{s}' is not simple or relaxed, as header/body")),
    };
    match s.split_once('/') {
        Some((h, b)) => Ok(Canonicalization {
            header: one(h)?,
            body: one(b)?,
        }),
        None => Ok(Canonicalization {
            header: one(s)?,
            body: Canon::Simple,
        }),
    }
}

impl SignCommand {
    /// Signs the message and writes it to `out`.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        let key = super::input::read_signing_key(&self.key)?;
        let saved = super::input::read_saved_message(self.file.as_deref(), globals.quiet)?;
        let message = Message::parse(saved.message).context("reading the message")?;
        let mut signer = Signer::new(self.domain, self.selector, key);
        if let Some(a) = self.algorithm {
            signer.algorithm = match a {
                SignAlgorithm::RsaSha256 => Algorithm::RsaSha256,
                SignAlgorithm::Ed25519Sha256 => Algorithm::Ed25519Sha256,
            };
        }
        if let Some(h) = &self.headers {
            signer.headers = h
                .split(':')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
        }
        signer.canonicalization = self.canonicalization;
        signer.expire_after = self.expire;
        signer.body_length = self.body_length;
        signer.identity = self.identity;
        let now = self.timestamp.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
        let signed = signer.sign_message_at(&message, now)?;
        // What came before the message in the file goes back in front of it.
        out.write_all(&saved.prefix)?;
        if message.converted_line_endings() {
            // Give the message back with the line endings it came with.
            let lf: Vec<u8> = signed
                .windows(2)
                .filter(|w| w != b"\r\n")
                .map(|w| w[0])
                .collect();
            out.write_all(&lf)?;
            if let Some(&last) = signed.last() {
                out.write_all(&[last])?;
            }
        } else {
            out.write_all(&signed)?;
        }
        Ok(Exit::Pass)
    }
}
