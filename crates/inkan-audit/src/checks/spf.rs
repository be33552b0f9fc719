//! SPF as a domain publishes it (RFC 7208), through the SPF analyzer: one valid record, at most
//! 10 DNS-querying terms (§4.6.4) and 2 void lookups in the whole include tree, the `all`
//! qualifier, the rest of the tree's findings, and for each sending address whether a receiver
//! would pass it and through which include.

use std::net::IpAddr;

use inkan_auth::spf::{NodeStatus, Severity, SpfAnalysis, SpfResult, analyze};
use serde_json::json;

use crate::lookup::Lookup;
use crate::report::{Category, Check, Status};

/// The rules an SPF record is evidence for.
pub const RULES: &[&str] = &[
    "gmail.spf-or-dkim",
    "yahoo.spf-or-dkim",
    "gmail.bulk.spf",
    "yahoo.bulk.spf",
    "outlook.bulk.spf",
    "apple.bulk.spf",
];

/// Findings that have a check of their own.
const OWN_CHECKS: &[&str] = &[
    "spf.lookups.over-limit",
    "spf.void.over-limit",
    "spf.all.pass",
    "spf.all.neutral",
    "spf.all.missing",
    "spf.record.multiple",
    "spf.record.syntax",
];

fn has(analysis: &SpfAnalysis, id: &str) -> bool {
    analysis.findings.iter().any(|f| f.id == id)
}

/// The SPF checks for `domain`.
pub async fn check(lookup: &Lookup<'_>, domain: &str, ips: &[IpAddr]) -> Vec<Check> {
    let analysis = analyze(lookup, domain, ips).await;
    let tree = &analysis.tree;
    let record = json!({ "record": tree.record, "status": tree.status, "error": tree.error });
    let top = match tree.status {
        NodeStatus::Ok => None,
        NodeStatus::NoRecord => Some(
            Check::new(
                "spf.record",
                Category::Spf,
                Status::Fail,
                RULES,
                format!("no SPF record at {domain}"),
            )
            .fix(format!(
                "publish {domain} TXT \"v=spf1 <your senders> -all\""
            )),
        ),
        NodeStatus::MultipleRecords => Some(
            Check::new(
                "spf.record",
                Category::Spf,
                Status::Fail,
                RULES,
                format!("more than one SPF record at {domain}: receivers return permerror"),
            )
            .fix("merge them into one v=spf1 record"),
        ),
        NodeStatus::SyntaxError => Some(
            Check::new(
                "spf.record",
                Category::Spf,
                Status::Fail,
                RULES,
                format!(
                    "the SPF record does not parse: {}",
                    tree.error.as_deref().unwrap_or("syntax error")
                ),
            )
            .fix("correct the record; receivers return permerror for it"),
        ),
        NodeStatus::DnsError => Some(Check::new(
            "spf.record",
            Category::Spf,
            Status::Unknown,
            RULES,
            format!(
                "the SPF lookup failed: {}",
                tree.error.as_deref().unwrap_or("no answer")
            ),
        )),
        NodeStatus::Loop | NodeStatus::DependsOnMessage | NodeStatus::NotFollowed => {
            Some(Check::new(
                "spf.record",
                Category::Spf,
                Status::Unknown,
                RULES,
                format!("the SPF record could not be analyzed ({:?})", tree.status),
            ))
        }
    };
    if let Some(check) = top {
        return vec![check.evidence(record)];
    }
    let dns_trouble = has(&analysis, "spf.dns.error");
    let mut checks = vec![
        Check::new(
            "spf.record",
            Category::Spf,
            Status::Pass,
            RULES,
            format!("SPF record: {}", tree.record.as_deref().unwrap_or("")),
        )
        .evidence(record),
    ];

    let lookups = json!({ "lookups": analysis.lookups_total, "limit": 10 });
    checks.push(if analysis.lookups_total > 10 {
        Check::new(
            "spf.lookups",
            Category::Spf,
            Status::Fail,
            RULES,
            format!("{} DNS-querying terms in the include tree, more than 10: receivers return permerror (RFC 7208 §4.6.4)", analysis.lookups_total),
        )
        .evidence(lookups)
        .fix("remove unused includes, or replace includes with ip4/ip6 ranges (see `inkan spf analyze` for a flattened set)")
    } else if dns_trouble {
        Check::new("spf.lookups", Category::Spf, Status::Unknown, RULES, "part of the include tree could not be looked up").evidence(lookups)
    } else {
        Check::new("spf.lookups", Category::Spf, Status::Pass, RULES, format!("{} of 10 DNS-querying terms", analysis.lookups_total)).evidence(lookups)
    });

    let void = json!({ "void_lookups": analysis.void_lookups_total, "limit": 2 });
    checks.push(if analysis.void_lookups_total > 2 {
        Check::new(
            "spf.void-lookups",
            Category::Spf,
            Status::Fail,
            RULES,
            format!(
                "{} void lookups, more than 2: receivers return permerror (RFC 7208 §4.6.4)",
                analysis.void_lookups_total
            ),
        )
        .evidence(void)
        .fix("remove the a:, mx: or include: terms whose names no longer exist")
    } else {
        Check::new(
            "spf.void-lookups",
            Category::Spf,
            Status::Pass,
            RULES,
            format!("{} of 2 void lookups", analysis.void_lookups_total),
        )
        .evidence(void)
    });

    let all_term = tree.terms.iter().map(|t| t.term.as_str()).find(|t| {
        t.trim_start_matches(['+', '-', '~', '?'])
            .eq_ignore_ascii_case("all")
    });
    let all_evidence = json!({ "all": all_term });
    checks.push(if has(&analysis, "spf.all.pass") {
        Check::new(
            "spf.all",
            Category::Spf,
            Status::Fail,
            RULES,
            format!(
                "'{}' lets every host on the Internet pass SPF as {domain}",
                all_term.unwrap_or("+all")
            ),
        )
        .evidence(all_evidence)
        .fix("end the record with -all (or ~all while you check your senders)")
    } else if has(&analysis, "spf.all.neutral") || has(&analysis, "spf.all.missing") {
        Check::new(
            "spf.all",
            Category::Spf,
            Status::Warn,
            &[],
            "the record ends neither in -all nor ~all: other hosts get neutral",
        )
        .evidence(all_evidence)
        .fix("end the record with -all or ~all")
    } else {
        let message = match all_term {
            Some(t) if t.starts_with('~') => "~all: other hosts soft-fail".to_owned(),
            Some(t) => format!("{t}: other hosts fail"),
            None => "the record ends in a redirect".to_owned(),
        };
        Check::new("spf.all", Category::Spf, Status::Pass, &[], message).evidence(all_evidence)
    });

    let rest: Vec<_> = analysis
        .findings
        .iter()
        .filter(|f| !OWN_CHECKS.contains(&f.id) && f.severity != Severity::Info)
        .collect();
    let tree_evidence = json!({ "findings": rest });
    let worst = rest.iter().map(|f| f.severity).max();
    checks.push(match worst {
        Some(Severity::Error) if rest.iter().all(|f| f.id == "spf.dns.error") => Check::new(
            "spf.tree",
            Category::Spf,
            Status::Unknown,
            RULES,
            "part of the include tree could not be looked up",
        )
        .evidence(tree_evidence),
        Some(Severity::Error) => Check::new(
            "spf.tree",
            Category::Spf,
            Status::Fail,
            RULES,
            rest.iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .evidence(tree_evidence)
        .fix("correct the records named; receivers reach permerror or an unintended result"),
        Some(_) => Check::new(
            "spf.tree",
            Category::Spf,
            Status::Warn,
            &[],
            rest.iter()
                .map(|f| f.message.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        )
        .evidence(tree_evidence),
        None => Check::new(
            "spf.tree",
            Category::Spf,
            Status::Pass,
            &[],
            "no other problem in the include tree",
        )
        .evidence(tree_evidence),
    });

    for answer in &analysis.ips {
        let evidence = json!({ "ip": answer.ip.to_string(), "result": answer.result.as_str(), "path": answer.path, "reason": answer.reason });
        checks.push(if answer.authorized {
            let via = if answer.path.len() > 1 {
                format!(" via {}", answer.path.join(" → "))
            } else {
                answer
                    .path
                    .first()
                    .map(|t| format!(" by {t}"))
                    .unwrap_or_default()
            };
            Check::new(
                "spf.authorizes",
                Category::Spf,
                Status::Pass,
                RULES,
                format!("{} is authorized{via}", answer.ip),
            )
            .evidence(evidence)
        } else if answer.result == SpfResult::TempError {
            Check::new(
                "spf.authorizes",
                Category::Spf,
                Status::Unknown,
                RULES,
                format!("SPF for {} could not be evaluated (temperror)", answer.ip),
            )
            .evidence(evidence)
        } else {
            Check::new(
                "spf.authorizes",
                Category::Spf,
                Status::Fail,
                RULES,
                format!(
                    "{} is not authorized: receivers get {} ({})",
                    answer.ip,
                    answer.result.as_str(),
                    answer.reason
                ),
            )
            .evidence(evidence)
            .fix(format!(
                "add ip{}:{} or your provider's include: to the record",
                if answer.ip.is_ipv4() { 4 } else { 6 },
                answer.ip
            ))
        });
    }
    checks
}
