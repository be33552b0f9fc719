//! The MTA-STS options of `inkan audit`: `--fetch-mta-sts` to fetch and check each domain's
//! policy file over HTTPS, `--mta-sts-ca` for extra trust anchors, `--mta-sts-timeout`, and the
//! hidden `--mta-sts-port` that lets tests serve policies from 127.0.0.1 on a free port.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use inkan_audit::mta_sts::PolicyFetcher;

/// Options for fetching MTA-STS policies.
#[derive(Debug, Args)]
pub struct MtaStsArgs {
    /// Also fetch each domain's MTA-STS policy over HTTPS
    /// (https://mta-sts.DOMAIN/.well-known/mta-sts.txt; no redirect followed, certificate
    /// checked) and check its mode, MX patterns and max_age. mta-sts.DOMAIN is resolved like
    /// every other name (--zone, --nameserver).
    #[arg(long)]
    pub fetch_mta_sts: bool,
    /// Also trust the CA certificates in this PEM file when fetching policies (a private or
    /// test authority; the Mozilla roots are always trusted). Repeatable.
    #[arg(long = "mta-sts-ca", value_name = "FILE", requires = "fetch_mta_sts")]
    pub mta_sts_ca: Vec<PathBuf>,
    /// Seconds one policy fetch (connect, TLS, request, answer) may take; past it the policy is
    /// 'unknown'.
    #[arg(
        long = "mta-sts-timeout",
        value_name = "SECONDS",
        default_value_t = 10.0,
        requires = "fetch_mta_sts"
    )]
    pub mta_sts_timeout: f64,
    /// The port policy servers are asked on (443; another only for tests).
    #[arg(
        long = "mta-sts-port",
        value_name = "PORT",
        default_value_t = 443,
        hide = true,
        requires = "fetch_mta_sts"
    )]
    pub mta_sts_port: u16,
}

impl MtaStsArgs {
    /// The fetcher these options ask for; `None` without `--fetch-mta-sts`.
    pub fn fetcher(&self) -> anyhow::Result<Option<PolicyFetcher>> {
        if !self.fetch_mta_sts {
            return Ok(None);
        }
        let timeout = match Duration::try_from_secs_f64(self.mta_sts_timeout) {
            Ok(t) if !t.is_zero() => t,
            _ => anyhow::bail!(
                "--mta-sts-timeout must be a positive number of seconds, not '{}'",
                self.mta_sts_timeout
            ),
        };
        let mut fetcher = PolicyFetcher::new()
            .context("setting up TLS for MTA-STS policy fetches")?
            .with_port(self.mta_sts_port)
            .with_timeout(timeout);
        for path in &self.mta_sts_ca {
            let pem = std::fs::read(path)
                .with_context(|| format!("reading --mta-sts-ca {}", path.display()))?;
            fetcher
                .add_trust_anchors_pem(&pem, &path.display().to_string())
                .with_context(|| format!("loading --mta-sts-ca {}", path.display()))?;
        }
        Ok(Some(fetcher))
    }
}
