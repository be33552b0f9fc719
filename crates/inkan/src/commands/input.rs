//! Reading what the commands take from files: a message (or standard input) and a signing key.

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

/// Reads a private signing key: PEM, RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8), as
/// `inkan keygen` writes. Errors name the file.
pub fn read_signing_key(path: &Path) -> anyhow::Result<inkan_auth::dkim::SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("reading key file {}", path.display()))?;
    inkan_auth::dkim::SigningKey::from_pem(&pem)
        .with_context(|| format!("reading key file {}", path.display()))
}
