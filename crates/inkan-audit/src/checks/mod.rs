//! The checks made for one domain, each in its own module, and the order they run in. Checks
//! only ask DNS through [`Lookup`]; they never print and never read the clock.

pub mod dkim;
pub mod domain;
pub mod ptr;
pub mod records;

use std::net::IpAddr;
use std::time::Duration;

use crate::lookup::Lookup;
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
    let (existence, ptr, dkim, optional) = futures::join!(
        domain::check(lookup, domain),
        ptr::check(lookup, &options.sending_ips),
        dkim::check(lookup, domain, selectors, &options.discovery_selectors),
        records::check(lookup, domain),
    );
    let mut checks = existence;
    checks.extend(ptr);
    checks.extend(dkim);
    checks.extend(optional);
    checks
}
