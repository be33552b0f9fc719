//! `inkan keygen`: a new DKIM key pair, the private key written with mode 0600, and the TXT
//! record to publish (RFC 6376 §3.6.1, RFC 8463 §4) split into strings of at most 255 bytes.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, ValueEnum};
use inkan_auth::dkim;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{Format, write_json};

/// Key algorithms `keygen` makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KeyAlgorithm {
    /// RSA (for rsa-sha256), accepted by every receiver.
    Rsa,
    /// Ed25519 (for ed25519-sha256, RFC 8463); sign with RSA as well, many receivers ignore it.
    Ed25519,
}

/// Arguments of `inkan keygen`.
#[derive(Debug, Args)]
pub struct KeygenCommand {
    /// The signing domain (d=).
    #[arg(long)]
    pub domain: String,
    /// The selector (s=): the key is published at SELECTOR._domainkey.DOMAIN.
    #[arg(long)]
    pub selector: String,
    /// Key algorithm.
    #[arg(long, value_enum, default_value_t = KeyAlgorithm::Rsa)]
    pub algorithm: KeyAlgorithm,
    /// RSA key size: 2048 (default), 3072, 4096, or 1024 (the smallest receivers accept).
    /// Not for Ed25519 keys, which are always 256 bits.
    #[arg(long)]
    pub bits: Option<u32>,
    /// Where to write the private key (PKCS#8 PEM, mode 0600).
    #[arg(long, value_name = "KEYFILE")]
    pub out: PathBuf,
    /// Replace KEYFILE if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(serde::Serialize)]
struct KeygenOutput<'a> {
    private_key_path: String,
    txt_name: String,
    txt_value: &'a str,
    txt_strings: Vec<String>,
    zone_line: String,
    algorithm: &'static str,
    bits: u32,
}

impl KeygenCommand {
    /// Makes the key, writes it and prints the record.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        if self.algorithm == KeyAlgorithm::Ed25519 && self.bits.is_some() {
            anyhow::bail!("--bits applies to RSA keys only; Ed25519 keys are always 256 bits");
        }
        let key = match self.algorithm {
            KeyAlgorithm::Rsa => dkim::generate_rsa(self.bits.unwrap_or(2048))?,
            KeyAlgorithm::Ed25519 => dkim::generate_ed25519()?,
        };
        let pem = key.to_pkcs8_pem()?;
        write_private(&self.out, pem.as_bytes(), self.force)?;
        let txt_value = key.txt_value()?;
        let txt_strings = dkim::txt_record_strings(&txt_value);
        let domain = self.domain.trim_end_matches('.').to_ascii_lowercase();
        let txt_name = format!("{}._domainkey.{domain}", self.selector);
        let quoted: Vec<String> = txt_strings.iter().map(|s| format!("\"{s}\"")).collect();
        let zone_line = format!("{txt_name}. 3600 IN TXT ( {} )", quoted.join(" "));
        let report = KeygenOutput {
            private_key_path: self.out.display().to_string(),
            txt_name,
            txt_value: &txt_value,
            txt_strings,
            zone_line,
            algorithm: key.key_type_name(),
            bits: key.bits(),
        };
        match globals.format {
            Format::Json => write_json(out, &report)?,
            _ => {
                writeln!(
                    out,
                    "Wrote the {}-bit {} private key to {} (mode 0600).",
                    report.bits, report.algorithm, report.private_key_path
                )?;
                writeln!(out, "Publish this TXT record (zone-file line):")?;
                writeln!(out, "{}", report.zone_line)?;
                writeln!(out, "TXT name: {}", report.txt_name)?;
                writeln!(out, "TXT value: {}", report.txt_value)?;
            }
        }
        Ok(Exit::Pass)
    }
}

/// Writes the private key readable by its owner only.
fn write_private(path: &std::path::Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!(
                "{} exists; refusing to overwrite a key (use --force)",
                path.display()
            )
        } else {
            format!("creating {}", path.display())
        }
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("setting mode 0600 on {}", path.display()))?;
    }
    file.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
