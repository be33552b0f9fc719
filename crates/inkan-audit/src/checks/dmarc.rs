//! DMARC as a domain publishes it (RFC 9989): the policy record found by the DNS tree walk
//! (§4.10), its policy strength, the subdomain policies `sp` and `np`, alignment modes, report
//! destinations, and whether external report destinations agree to receive the reports
//! (`<domain>._report._dmarc.<destination>`, RFC 9990 §3).

use inkan_auth::dmarc::{Discovery, OrgDomainMethod, Policy, discover};
use serde_json::json;

use crate::lookup::{Lookup, error_evidence};
use crate::report::{Category, Check, Status};

/// The rules a DMARC record is evidence for.
pub const RULES: &[&str] = &[
    "gmail.bulk.dmarc",
    "yahoo.bulk.dmarc",
    "outlook.bulk.dmarc",
    "apple.bulk.dmarc",
];

fn strength(p: Policy) -> u8 {
    match p {
        Policy::None => 0,
        Policy::Quarantine => 1,
        Policy::Reject => 2,
    }
}

/// The domain of a `mailto:` report URI, lower case; `None` for other schemes or bad syntax.
fn mailto_domain(uri: &str) -> Option<String> {
    let rest = uri
        .trim()
        .strip_prefix("mailto:")
        .or_else(|| uri.trim().strip_prefix("MAILTO:"))?;
    // A size limit may follow the address after '!' (RFC 7489 §6.2).
    let address = rest.split('!').next()?;
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() || !domain.contains('.') {
        return None;
    }
    Some(domain.trim_end_matches('.').to_ascii_lowercase())
}

fn is_within(name: &str, domain: &str) -> bool {
    name == domain || name.ends_with(&format!(".{domain}"))
}

/// What DMARC discovery left for the checks that depend on it (BIMI).
#[derive(Clone, Debug)]
pub enum Found {
    /// Discovery ran; [`Discovery::record`] may be `None`.
    Discovered(Box<Discovery>),
    /// Several records at the domain itself: receivers apply none of them.
    Ambiguous,
    /// Discovery failed.
    Failed {
        /// A timeout or SERVFAIL, as opposed to a permanent error.
        temporary: bool,
        /// Why, for a person.
        reason: String,
    },
}

/// The DMARC checks: `dmarc.record`, and when a record applies `dmarc.policy`,
/// `dmarc.subdomain-policy`, `dmarc.alignment`, `dmarc.reporting` and
/// `dmarc.external-destinations`.
pub async fn check(lookup: &Lookup<'_>, domain: &str) -> Vec<Check> {
    check_and_find(lookup, domain).await.0
}

/// [`check`], also handing back what discovery found.
pub async fn check_and_find(lookup: &Lookup<'_>, domain: &str) -> (Vec<Check>, Found) {
    let own_name = format!("_dmarc.{domain}");
    let (discovery, own) = futures::join!(
        discover(lookup, domain, OrgDomainMethod::TreeWalk),
        lookup.txt(&own_name)
    );
    let discovery = match discovery {
        Ok(d) => d,
        Err(e) => {
            let evidence = match &e {
                inkan_auth::dmarc::DmarcError::Dns(dns) => error_evidence(dns),
                other => json!({ "error": other.to_string() }),
            };
            let status = if e.is_temporary() {
                Status::Unknown
            } else {
                Status::Fail
            };
            let found = Found::Failed {
                temporary: e.is_temporary(),
                reason: e.to_string(),
            };
            return (
                vec![
                    Check::new(
                        "dmarc.record",
                        Category::Dmarc,
                        status,
                        RULES,
                        format!("DMARC discovery failed: {e}"),
                    )
                    .evidence(evidence),
                ],
                found,
            );
        }
    };
    let own_records: Vec<String> = own
        .unwrap_or_default()
        .into_iter()
        .filter(|t| t.starts_with("v=DMARC1"))
        .collect();
    let mut evidence = json!({
        "org_domain": discovery.org_domain,
        "record_domain": discovery.record_domain,
        "queries": discovery.queries,
        "records_at_domain": own_records,
    });
    if own_records.len() > 1 {
        return (
            vec![
                Check::new(
                    "dmarc.record",
                    Category::Dmarc,
                    Status::Fail,
                    RULES,
                    format!(
                        "{} DMARC records at {own_name}; receivers ignore them all",
                        own_records.len()
                    ),
                )
                .evidence(evidence)
                .fix(format!("keep exactly one v=DMARC1 record at {own_name}")),
            ],
            Found::Ambiguous,
        );
    }
    let (Some(record), Some(record_domain)) = (&discovery.record, &discovery.record_domain) else {
        return (vec![Check::new("dmarc.record", Category::Dmarc, Status::Fail, RULES, format!("no DMARC record for {domain}"))
            .evidence(evidence)
            .fix(format!("publish {own_name} TXT \"v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}\", then move to p=quarantine or p=reject"))], Found::Discovered(Box::new(discovery)));
    };
    evidence["record"] = json!(record);
    let inherited = if record_domain == domain {
        String::new()
    } else {
        format!(" (inherited from {record_domain})")
    };
    let mut checks = Vec::new();
    let problems: Vec<&str> = record.warnings.iter().map(|w| w.message.as_str()).collect();
    checks.push(if problems.is_empty() {
        Check::new(
            "dmarc.record",
            Category::Dmarc,
            Status::Pass,
            RULES,
            format!("DMARC record found{inherited}"),
        )
        .evidence(evidence)
    } else {
        Check::new(
            "dmarc.record",
            Category::Dmarc,
            Status::Warn,
            RULES,
            format!(
                "DMARC record found{inherited}, with problems: {}",
                problems.join("; ")
            ),
        )
        .evidence(evidence)
        .fix(format!("correct the record at _dmarc.{record_domain}"))
    });

    // The policy that applies to this domain: p at the domain itself, else sp (or p) inherited.
    let applied = if record_domain == domain {
        record.p
    } else {
        record.sp.unwrap_or(record.p)
    };
    let policy = json!({ "p": record.p.as_str(), "applied": applied.as_str(), "p_explicit": record.p_explicit, "testing": record.testing });
    checks.push(match (applied, record.testing) {
        (_, true) => Check::new("dmarc.policy", Category::Dmarc, Status::Warn, &[], format!("policy {} in testing mode (t=y): applied one level lower", applied.as_str()))
            .evidence(policy)
            .fix("remove t=y once reports show all your mail passing"),
        (Policy::None, _) => Check::new(
            "dmarc.policy",
            Category::Dmarc,
            Status::Warn,
            &[],
            if record.p_explicit { "p=none: enough for the providers' rules, but it asks receivers to do nothing with failing mail".to_owned() } else { "no valid p= tag: treated as p=none".to_owned() },
        )
        .evidence(policy)
        .fix("once aggregate reports show your mail passing, move to p=quarantine, then p=reject"),
        (p, false) => Check::new("dmarc.policy", Category::Dmarc, Status::Pass, &[], format!("p={}", p.as_str())).evidence(policy),
    });

    let weaker: Vec<String> = [("sp", record.sp), ("np", record.np)]
        .into_iter()
        .filter_map(|(tag, v)| {
            v.filter(|v| strength(*v) < strength(record.p))
                .map(|v| format!("{tag}={}", v.as_str()))
        })
        .collect();
    let sub = json!({ "sp": record.sp.map(Policy::as_str), "np": record.np.map(Policy::as_str) });
    checks.push(if weaker.is_empty() {
        Check::new(
            "dmarc.subdomain-policy",
            Category::Dmarc,
            Status::Pass,
            &[],
            "subdomains are covered at least as strictly as the domain",
        )
        .evidence(sub)
    } else {
        Check::new(
            "dmarc.subdomain-policy",
            Category::Dmarc,
            Status::Warn,
            &[],
            format!(
                "{} is weaker than p={}: spoofed subdomains get less protection",
                weaker.join(", "),
                record.p.as_str()
            ),
        )
        .evidence(sub)
        .fix("remove sp/np or set them as strict as p")
    });

    checks.push(
        Check::new(
            "dmarc.alignment",
            Category::Dmarc,
            Status::Pass,
            &[],
            format!(
                "alignment: DKIM {}, SPF {}",
                record.adkim.as_str(),
                record.aspf.as_str()
            ),
        )
        .evidence(json!({ "adkim": record.adkim.as_str(), "aspf": record.aspf.as_str() })),
    );

    let mut bad = Vec::new();
    let mut destinations = Vec::new();
    for uri in record.rua.iter().chain(&record.ruf) {
        match mailto_domain(uri) {
            Some(d) => destinations.push(d),
            None => bad.push(uri.clone()),
        }
    }
    let reporting = json!({ "rua": record.rua, "ruf": record.ruf });
    checks.push(if !bad.is_empty() {
        Check::new(
            "dmarc.reporting",
            Category::Dmarc,
            Status::Fail,
            &[],
            format!(
                "report URI(s) not of the form mailto:address: {}",
                bad.join(", ")
            ),
        )
        .evidence(reporting)
        .fix("write report destinations as mailto:address@domain")
    } else if record.rua.is_empty() {
        Check::new(
            "dmarc.reporting",
            Category::Dmarc,
            Status::Warn,
            &[],
            "no rua=: you receive no aggregate reports about who sends as this domain",
        )
        .evidence(reporting)
        .fix(format!("add rua=mailto:dmarc-reports@{record_domain}"))
    } else {
        Check::new(
            "dmarc.reporting",
            Category::Dmarc,
            Status::Pass,
            &[],
            format!(
                "{} report destination(s)",
                record.rua.len() + record.ruf.len()
            ),
        )
        .evidence(reporting)
    });

    destinations.sort();
    destinations.dedup();
    let external: Vec<String> = destinations
        .into_iter()
        .filter(|d| !is_within(d, &discovery.org_domain))
        .collect();
    if !external.is_empty() {
        checks.push(external_destinations(lookup, record_domain, &external).await);
    }
    (checks, Found::Discovered(Box::new(discovery)))
}

/// RFC 9990 §3: a destination outside the domain must publish
/// `<domain>._report._dmarc.<destination>` TXT `v=DMARC1`, or it will not be sent reports.
async fn external_destinations(
    lookup: &Lookup<'_>,
    record_domain: &str,
    external: &[String],
) -> Check {
    let names: Vec<String> = external
        .iter()
        .map(|d| format!("{record_domain}._report._dmarc.{d}"))
        .collect();
    let answers = futures::future::join_all(names.iter().map(|n| lookup.txt(n))).await;
    let (mut missing, mut failed, mut seen) = (Vec::new(), Vec::new(), serde_json::Map::new());
    for (name, answer) in names.iter().zip(answers) {
        match answer {
            Ok(texts) => {
                let ok = texts.iter().any(|t| t.starts_with("v=DMARC1"));
                seen.insert(name.clone(), json!(ok));
                if !ok {
                    missing.push(name.clone());
                }
            }
            Err(e) => {
                seen.insert(name.clone(), error_evidence(&e));
                failed.push(name.clone());
            }
        }
    }
    let evidence = json!({ "destinations": external, "authorizations": seen });
    if !missing.is_empty() {
        Check::new(
            "dmarc.external-destinations",
            Category::Dmarc,
            Status::Fail,
            &[],
            format!("external report destination(s) do not accept reports for {record_domain}: {} missing", missing.join(", ")),
        )
        .evidence(evidence)
        .fix(format!("ask the destination to publish {} TXT \"v=DMARC1\", or remove it", missing[0]))
    } else if !failed.is_empty() {
        Check::new(
            "dmarc.external-destinations",
            Category::Dmarc,
            Status::Unknown,
            &[],
            format!("the lookup of {} failed", failed.join(", ")),
        )
        .evidence(evidence)
    } else {
        Check::new(
            "dmarc.external-destinations",
            Category::Dmarc,
            Status::Pass,
            &[],
            format!("{} external destination(s) accept reports", external.len()),
        )
        .evidence(evidence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailto_domains() {
        assert_eq!(
            mailto_domain("mailto:a@Reports.Example").as_deref(),
            Some("reports.example")
        );
        assert_eq!(
            mailto_domain("mailto:a@r.example!10m").as_deref(),
            Some("r.example")
        );
        assert_eq!(mailto_domain("https://r.example/x"), None);
        assert_eq!(mailto_domain("mailto:nobody"), None);
        assert!(is_within("a.b.example", "b.example"));
        assert!(!is_within("ab.example", "b.example"));
    }
}
