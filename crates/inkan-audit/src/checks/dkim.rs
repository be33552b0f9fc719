//! DKIM key records (RFC 6376 §3.6.1, RFC 8301 §3.2, RFC 8463 §4) at the selectors named for a
//! domain, or at common selectors when none is named. Discovery that finds nothing is
//! `unknown`: a selector can be any name, so not finding one proves nothing.

use inkan_auth::dkim::{DkimKey, KeyType};
use inkan_dns::{Answer, RecordType};
use serde_json::json;

use crate::lookup::{Lookup, error_evidence};
use crate::report::{Category, Check, Status};

/// The rules a DKIM key is evidence for.
pub const RULES: &[&str] = &[
    "gmail.spf-or-dkim",
    "yahoo.spf-or-dkim",
    "gmail.bulk.dkim",
    "yahoo.bulk.dkim",
    "outlook.bulk.dkim",
    "apple.bulk.dkim",
];

/// What one selector's lookup found.
enum Found {
    /// NXDOMAIN or NODATA.
    Nothing,
    /// The lookup failed.
    Failed(Check),
    /// A key record, judged.
    Key { check: Check, usable: bool },
}

/// Judges one key record; returns the status, message and fix.
fn judge(key: &DkimKey, name: &str) -> (Status, String, Option<String>) {
    let bits = key.bits.unwrap_or(0);
    if key.revoked {
        return (
            Status::Fail,
            format!("the key at {name} is revoked (empty p=)"),
            Some("publish the current public key at this selector, or stop signing with it".into()),
        );
    }
    if !key.allows_email() {
        return (
            Status::Fail,
            format!("the key at {name} is not for email (s= excludes it)"),
            Some("remove s= or set s=email".into()),
        );
    }
    match key.key_type {
        KeyType::Rsa if bits < 1024 => (
            Status::Fail,
            format!(
                "RSA key of {bits} bits at {name}: keys under 1024 bits never verify (RFC 8301 §3.2)"
            ),
            Some("generate a 2048-bit key (inkan keygen) and publish it".into()),
        ),
        KeyType::Rsa if bits < 2048 => (
            Status::Warn,
            format!("RSA key of {bits} bits at {name}: accepted, but 2048 bits is recommended"),
            Some("rotate to a 2048-bit key".into()),
        ),
        KeyType::Ed25519 => (
            Status::Warn,
            format!(
                "Ed25519 key at {name}: valid (RFC 8463), but not every receiver verifies Ed25519 yet"
            ),
            Some("sign with an RSA key as well".into()),
        ),
        _ if key.flags.testing => (
            Status::Warn,
            format!(
                "{} key of {bits} bits at {name} is in testing mode (t=y)",
                key.key_type.as_str()
            ),
            Some("remove t=y once signing works".into()),
        ),
        _ => (
            Status::Pass,
            format!("{} key of {bits} bits at {name}", key.key_type.as_str()),
            None,
        ),
    }
}

async fn lookup_selector(
    lookup: &Lookup<'_>,
    domain: &str,
    selector: &str,
    discovering: bool,
) -> Found {
    let name = format!("{selector}._domainkey.{domain}");
    let answer = match lookup.get(&name, RecordType::Txt).await {
        Ok(a) => a,
        Err(e) => {
            let check = Check::new(
                "dkim.selector",
                Category::Dkim,
                Status::Unknown,
                RULES,
                format!("the lookup of {name} failed ({})", e.kind),
            )
            .evidence(json!({ "selector": selector, "name": name, "error": error_evidence(&e) }));
            return Found::Failed(check);
        }
    };
    let Answer::Records(set) = &answer else {
        return Found::Nothing;
    };
    let texts: Vec<String> = answer.txt().map(|t| t.concat_lossy()).collect();
    if texts.is_empty() {
        return Found::Nothing;
    }
    let mut evidence = json!({ "selector": selector, "name": name, "records": texts });
    if !set.cname_chain.is_empty() {
        evidence["cname"] = json!(set.cname_chain);
    }
    let delegated = set
        .cname_chain
        .last()
        .map(|t| format!(" (delegated by CNAME to {t})"))
        .unwrap_or_default();
    let parsed = DkimKey::parse(texts[0].as_bytes());
    let (status, message, fix, usable) = match &parsed {
        Err(e) => (
            Status::Fail,
            format!("the key record at {name} is invalid: {e}"),
            Some("publish a valid v=DKIM1 record".to_owned()),
            false,
        ),
        Ok(key) => {
            evidence["key"] = json!({
                "type": key.key_type.as_str(),
                "bits": key.bits,
                "testing": key.flags.testing,
                "revoked": key.revoked,
            });
            let (status, message, fix) = judge(key, &name);
            // A revoked key found by discovery is an old selector, not a finding against the domain.
            let status = if discovering && key.revoked {
                Status::Skip
            } else {
                status
            };
            (
                status,
                message,
                fix,
                matches!(status, Status::Pass | Status::Warn),
            )
        }
    };
    let mut message = format!("{message}{delegated}");
    if texts.len() > 1 {
        message.push_str(&format!(
            "; {} TXT records at this name, receivers may pick any",
            texts.len()
        ));
    }
    let mut check =
        Check::new("dkim.selector", Category::Dkim, status, RULES, message).evidence(evidence);
    if let Some(fix) = fix
        && status != Status::Pass
    {
        check = check.fix(fix);
    }
    Found::Key { check, usable }
}

/// One `dkim.selector` check per named selector; or, in discovery, one per key found and a
/// `dkim.discovery` check when no usable key was found.
pub async fn check(
    lookup: &Lookup<'_>,
    domain: &str,
    selectors: &[String],
    discovery: &[String],
) -> Vec<Check> {
    if !selectors.is_empty() {
        let found = futures::future::join_all(
            selectors
                .iter()
                .map(|s| lookup_selector(lookup, domain, s, false)),
        )
        .await;
        return selectors
            .iter()
            .zip(found)
            .map(|(selector, f)| match f {
                Found::Nothing => {
                    let name = format!("{selector}._domainkey.{domain}");
                    Check::new("dkim.selector", Category::Dkim, Status::Fail, RULES, format!("no DKIM key at {name}"))
                        .evidence(json!({ "selector": selector, "name": name, "records": [] }))
                        .fix(format!("publish the public key of selector '{selector}' at {name} (TXT \"v=DKIM1; k=rsa; p=...\")"))
                }
                Found::Failed(c) | Found::Key { check: c, .. } => c,
            })
            .collect();
    }
    let found = futures::future::join_all(
        discovery
            .iter()
            .map(|s| lookup_selector(lookup, domain, s, true)),
    )
    .await;
    let mut checks = Vec::new();
    let mut failures = Vec::new();
    let mut usable = false;
    for f in found {
        match f {
            Found::Nothing => {}
            Found::Failed(c) => failures.push(c.evidence),
            Found::Key { check, usable: u } => {
                usable |= u;
                checks.push(check);
            }
        }
    }
    if !usable {
        let tried = discovery.len();
        let message = if failures.is_empty() {
            format!(
                "no DKIM key at any of {tried} common selectors; this does not prove there is none"
            )
        } else {
            format!(
                "no DKIM key found at {tried} common selectors, and {} lookups failed",
                failures.len()
            )
        };
        checks.push(
            Check::new("dkim.discovery", Category::Dkim, Status::Unknown, RULES, message)
                .evidence(json!({ "selectors_tried": discovery, "failed": failures }))
                .fix("name the selector your mail is signed with (--selector, or the selectors column of --domains)"),
        );
    }
    checks
}
