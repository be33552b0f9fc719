//! The domain itself: does it exist (SOA, A or MX at the name), and where does its mail go (MX,
//! null MX per RFC 7505, or the implicit A fallback of RFC 5321 §5.1).

use inkan_dns::{Answer, DnsError, RData, RecordType};
use serde_json::json;

use crate::lookup::{Lookup, error_evidence};
use crate::report::{Category, Check, Status};

/// The rules a domain's existence is evidence for.
const EXISTS_RULES: &[&str] = &["yahoo.domain-resolves"];

fn describe(answer: &Result<Answer, DnsError>) -> serde_json::Value {
    match answer {
        Ok(Answer::Records(set)) => {
            json!(
                set.records
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>()
            )
        }
        Ok(Answer::NxDomain { .. }) => json!("NXDOMAIN"),
        Ok(Answer::NoData { .. }) => json!("NODATA"),
        Err(e) => error_evidence(e),
    }
}

/// `domain.exists` and `mx.present`, from the SOA, A, AAAA and MX answers at `domain`.
pub async fn check(lookup: &Lookup<'_>, domain: &str) -> Vec<Check> {
    let (soa, a, aaaa, mx) = futures::join!(
        lookup.get(domain, RecordType::Soa),
        lookup.get(domain, RecordType::A),
        lookup.get(domain, RecordType::Aaaa),
        lookup.get(domain, RecordType::Mx),
    );
    let answers = [("SOA", &soa), ("A", &a), ("AAAA", &aaaa), ("MX", &mx)];
    let evidence = json!(
        answers
            .iter()
            .map(|(t, r)| (t.to_string(), describe(r)))
            .collect::<serde_json::Map<_, _>>()
    );
    let has = |r: &Result<Answer, DnsError>| matches!(r, Ok(a) if !a.is_empty());
    let failed: Vec<&DnsError> = answers
        .iter()
        .filter_map(|(_, r)| r.as_ref().err())
        .collect();
    let all_nx = answers
        .iter()
        .all(|(_, r)| matches!(r, Ok(Answer::NxDomain { .. })));

    let exists = if has(&soa) || has(&a) || has(&aaaa) || has(&mx) {
        let found: Vec<&str> = answers.iter().filter(|(_, r)| has(r)).map(|(t, _)| *t).collect();
        Check::new("domain.exists", Category::Domain, Status::Pass, EXISTS_RULES, format!("the domain exists ({})", found.join(", ")))
    } else if !failed.is_empty() {
        Check::new(
            "domain.exists",
            Category::Domain,
            Status::Unknown,
            EXISTS_RULES,
            format!("DNS did not answer for the domain ({})", failed[0].kind),
        )
        .fix("check that the domain's name servers answer; run the audit again")
    } else if all_nx {
        Check::new("domain.exists", Category::Domain, Status::Fail, EXISTS_RULES, "the domain does not exist (NXDOMAIN)")
            .fix("register the domain or correct its spelling; mail from a non-existent domain is refused")
    } else {
        Check::new(
            "domain.exists",
            Category::Domain,
            Status::Fail,
            EXISTS_RULES,
            "the name exists but has no SOA, A, AAAA or MX record",
        )
        .fix("publish an MX record (or an A record) for the domain so that replies and bounces can reach it")
    }
    .evidence(evidence.clone());

    let mx_check = match &mx {
        Err(e) => Check::new(
            "mx.present",
            Category::Mx,
            Status::Unknown,
            &[],
            format!("the MX lookup failed ({})", e.kind),
        )
        .evidence(error_evidence(e)),
        Ok(answer) => {
            let exchanges: Vec<(u16, &str)> = answer
                .records()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::Mx {
                        preference,
                        exchange,
                    } => Some((*preference, exchange.as_str())),
                    _ => None,
                })
                .collect();
            let listed = json!(
                exchanges
                    .iter()
                    .map(|(p, e)| format!("{p} {e}."))
                    .collect::<Vec<_>>()
            );
            if exchanges.len() == 1 && exchanges[0].1.is_empty() {
                Check::new(
                    "mx.present",
                    Category::Mx,
                    Status::Warn,
                    &[],
                    "null MX (RFC 7505): the domain declares that it receives no mail, so bounces and replies to it are lost",
                )
                .evidence(json!({ "mx": listed }))
                .fix("if the domain sends mail, publish real MX records so that bounces and replies reach it")
            } else if exchanges.iter().any(|(_, e)| e.is_empty()) {
                Check::new(
                    "mx.present",
                    Category::Mx,
                    Status::Fail,
                    &[],
                    "a null MX is mixed with other MX records (RFC 7505 §3)",
                )
                .evidence(json!({ "mx": listed }))
                .fix("remove the '0 .' MX record, or all the others")
            } else if !exchanges.is_empty() {
                Check::new(
                    "mx.present",
                    Category::Mx,
                    Status::Pass,
                    &[],
                    format!("{} MX record(s)", exchanges.len()),
                )
                .evidence(json!({ "mx": listed }))
            } else if has(&a) || has(&aaaa) {
                Check::new(
                    "mx.present",
                    Category::Mx,
                    Status::Warn,
                    &[],
                    "no MX record: mail to the domain falls back to its address records (RFC 5321 §5.1)",
                )
                .evidence(json!({ "mx": [] }))
                .fix("publish an MX record, or a null MX ('0 .') if the domain receives no mail")
            } else {
                Check::new(
                    "mx.present",
                    Category::Mx,
                    Status::Fail,
                    &[],
                    "no MX record and no address: the domain cannot receive mail",
                )
                .evidence(json!({ "mx": [] }))
                .fix("publish an MX record so that bounces and replies reach the domain")
            }
        }
    };
    vec![exists, mx_check]
}
