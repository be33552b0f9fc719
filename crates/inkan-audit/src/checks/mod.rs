//! The checks made for one domain, each in its own module, and the order they run in. Checks
//! only ask DNS through [`Lookup`]; they never print and never read the clock.

pub mod bimi;
pub mod dkim;
pub mod dmarc;
pub mod domain;
pub mod mta_sts;
pub mod ptr;
pub mod records;
pub mod spf;

use std::net::IpAddr;
use std::time::Duration;

use crate::lookup::Lookup;
use crate::mta_sts::PolicyFetcher;
use crate::report::Check;

/// Selectors tried when none is named for a domain: the defaults of common mail platforms
/// (Google Workspace, Microsoft 365, Mailchimp, Amazon SES-style `s1/s2`, cPanel and Plesk
/// `default`, and generic names).
pub const DISCOVERY_SELECTORS: &[&str] = &[
    "google",
    "selector1",
    "selector2",
    "k1",
    "k2",
    "k3",
    "s1",
    "s2",
    "default",
    "dkim",
    "mail",
    "smtp",
    "mx",
    "email",
    "key1",
    "key2",
    "sig1",
    "mandrill",
    "everlytickey1",
    "zoho",
    "protonmail",
];

/// What an audit is told besides the domain.
#[derive(Clone, Debug)]
pub struct AuditOptions {
    /// The addresses the domain's mail leaves from (`--sending-ip`).
    pub sending_ips: Vec<IpAddr>,
    /// DKIM selectors to check on every domain (`--selector`); a domain's own list wins.
    pub selectors: Vec<String>,
    /// Selectors tried when a domain has none named.
    pub discovery_selectors: Vec<String>,
    /// Wait before the one retry of a timed-out or SERVFAIL lookup.
    pub retry_backoff: Duration,
    /// Fetch and check the MTA-STS policy file over HTTPS (`--fetch-mta-sts`); `None` checks
    /// the TXT record only.
    pub mta_sts: Option<PolicyFetcher>,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            sending_ips: Vec::new(),
            selectors: Vec::new(),
            discovery_selectors: DISCOVERY_SELECTORS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            retry_backoff: Duration::from_millis(200),
            mta_sts: None,
        }
    }
}

/// Every check for `domain`, in a stable order.
pub async fn run_all(
    lookup: &Lookup<'_>,
    domain: &str,
    selectors: &[String],
    options: &AuditOptions,
) -> Vec<Check> {
    let sts_policy = async {
        match &options.mta_sts {
            Some(fetcher) => mta_sts::check(lookup, domain, fetcher).await,
            None => Vec::new(),
        }
    };
    let (existence, ptr, spf, dkim, (dmarc, dmarc_found), (optional, bimi_record), sts_policy) = futures::join!(
        domain::check(lookup, domain),
        ptr::check(lookup, &options.sending_ips),
        spf::check(lookup, domain, &options.sending_ips),
        dkim::check(lookup, domain, selectors, &options.discovery_selectors),
        dmarc::check_and_find(lookup, domain),
        records::check_and_find_bimi(lookup, domain),
        sts_policy,
    );
    let mut checks = existence;
    checks.extend(ptr);
    checks.extend(spf);
    checks.extend(dkim);
    checks.extend(dmarc);
    checks.extend(optional);
    checks.extend(sts_policy);
    if let Some(record) = bimi_record
        && records::bimi_shows_logo(&record)
    {
        checks.push(bimi::dmarc_enforcement(lookup, domain, &dmarc_found).await);
    }
    checks
}
