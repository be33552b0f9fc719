//! The SPF analyzer for operators: the whole include/redirect tree of a domain, walked past
//! the limits a receiver stops at, with the lookup cost of every node, void lookups, findings
//! with stable ids, a flatten preview and, for given client IPs, whether and how they are
//! authorized.
//!
//! The counts follow RFC 7208 §4.6.4 (10 DNS-querying terms, 2 void lookups, 10 MX names);
//! record size advice follows §3.4 (450 bytes, 512-byte UDP answers); `ptr` is §5.5 ("do not
//! use"); the SPF RR type is withdrawn by §3.1 and §14.1.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use inkan_dns::{Answer, RData, RecordType, Resolver};
use serde::{Serialize, Serializer};

use super::eval::{SpfParams, check_host, prefix_match};
use super::parse::{is_spf_record, parse_record};
use super::{
    MAX_DNS_LOOKUPS, MAX_NAME_LOOKUPS, MAX_VOID_LOOKUPS, Mechanism, Qualifier, SpfRecord, SpfResult,
};

/// The shared scale (see [`crate::Severity`]), re-exported where these findings live.
pub use crate::Severity;

/// RFC 7208 §3.4: keep records small enough for a 512-byte UDP answer.
const RECORD_SIZE_ADVICE: usize = 450;
/// Nodes the analyzer visits before it stops (a tree of includes can fan out).
const MAX_NODES: usize = 200;
/// DNS questions the analyzer asks before it stops.
const MAX_QUERIES: usize = 2000;
/// Overlap findings reported before they are summarized.
const MAX_OVERLAP_FINDINGS: usize = 20;

/// One problem found, with a stable id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, e.g. `spf.lookups.over-limit`.
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// What is wrong, for a person.
    pub message: String,
    /// The domain whose record has the problem.
    pub domain: String,
    /// The term concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
}

/// An IPv4 or IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Network {
    /// IPv4 address and prefix length.
    V4(Ipv4Addr, u8),
    /// IPv6 address and prefix length.
    V6(Ipv6Addr, u8),
}

impl Network {
    /// True when `ip` is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Network::V4(net, len), IpAddr::V4(ip)) => {
                prefix_match(&ip.octets(), &net.octets(), *len)
            }
            (Network::V6(net, len), IpAddr::V6(ip)) => {
                prefix_match(&ip.octets(), &net.octets(), *len)
            }
            _ => false,
        }
    }

    /// True when every address of `other` is inside `self`.
    pub fn covers(&self, other: &Network) -> bool {
        match (self, other) {
            (Network::V4(a, la), Network::V4(b, lb)) => {
                la <= lb && prefix_match(&a.octets(), &b.octets(), *la)
            }
            (Network::V6(a, la), Network::V6(b, lb)) => {
                la <= lb && prefix_match(&a.octets(), &b.octets(), *la)
            }
            _ => false,
        }
    }

    /// The network with host bits cleared.
    fn normalized(self) -> Network {
        match self {
            Network::V4(a, len) => {
                let mask = if len == 0 {
                    0
                } else {
                    u32::MAX << (32 - u32::from(len))
                };
                Network::V4(Ipv4Addr::from(u32::from(a) & mask), len)
            }
            Network::V6(a, len) => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - u32::from(len))
                };
                Network::V6(Ipv6Addr::from(u128::from(a) & mask), len)
            }
        }
    }

    /// As an SPF term: `ip4:…` or `ip6:…`, without the prefix for single hosts.
    pub fn term(&self) -> String {
        match self {
            Network::V4(a, 32) => format!("ip4:{a}"),
            Network::V4(a, l) => format!("ip4:{a}/{l}"),
            Network::V6(a, 128) => format!("ip6:{a}"),
            Network::V6(a, l) => format!("ip6:{a}/{l}"),
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Network::V4(a, l) => write!(f, "{a}/{l}"),
            Network::V6(a, l) => write!(f, "{a}/{l}"),
        }
    }
}

impl Serialize for Network {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What was found at a node's domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NodeStatus {
    /// One SPF record, parsed.
    Ok,
    /// No SPF record (or the name does not exist).
    NoRecord,
    /// More than one SPF record.
    MultipleRecords,
    /// The record does not parse.
    SyntaxError,
    /// DNS gave no answer.
    DnsError,
    /// The domain is already being evaluated above: an include/redirect loop.
    Loop,
    /// The target holds macros and depends on the message; not followed.
    DependsOnMessage,
    /// Not followed: the analyzer's own size bounds were reached.
    NotFollowed,
}

/// One term of a record, with what it costs and, for include/redirect, the subtree.
#[derive(Clone, Debug, Serialize)]
pub struct AnalyzedTerm {
    /// The term as published.
    pub term: String,
    /// DNS-querying terms this term counts for itself (0 or 1).
    pub lookups: u32,
    /// DNS-querying terms of the term and everything under it.
    pub subtree_lookups: u32,
    /// True when the term's own lookup found nothing (a void lookup).
    pub void: bool,
    /// Networks this term authorizes today (ip4/ip6, or a/mx resolved now).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub networks: Vec<Network>,
    /// For include and redirect: the target's node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub child: Option<Box<AnalyzedNode>>,
    #[serde(skip)]
    qualifier: Option<Qualifier>,
    #[serde(skip)]
    kind: TermKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum TermKind {
    #[default]
    Other,
    All,
    Include,
    Redirect,
    Addresses,
    Unflattenable,
}

/// A domain in the tree and its record.
#[derive(Clone, Debug, Serialize)]
pub struct AnalyzedNode {
    /// The domain.
    pub domain: String,
    /// `top`, `include` or `redirect`.
    pub via: &'static str,
    /// What was found.
    pub status: NodeStatus,
    /// The record text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// The record's length in bytes.
    pub record_bytes: usize,
    /// Why the status is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// DNS-querying terms in this record.
    pub own_lookups: u32,
    /// DNS-querying terms in this record and every record under it.
    pub subtree_lookups: u32,
    /// Void lookups of this record's own terms.
    pub own_void_lookups: u32,
    /// Void lookups in this record and every record under it.
    pub subtree_void_lookups: u32,
    /// The terms, with the redirect last.
    pub terms: Vec<AnalyzedTerm>,
}

/// The ip4/ip6 set a domain's record resolves to today, as information.
#[derive(Clone, Debug, Serialize)]
pub struct FlattenPreview {
    /// Networks authorized by pass-qualified terms, de-duplicated, covered ones dropped.
    pub networks: Vec<Network>,
    /// Terms that cannot be flattened (ptr, exists, macros): they would still cost lookups.
    pub unflattenable: Vec<String>,
    /// DNS-querying terms a flattened record would still need.
    pub lookups_needed: u32,
    /// Length of the flattened record text, in bytes.
    pub record_bytes: usize,
}

/// The answer for one client IP.
#[derive(Clone, Debug, Serialize)]
pub struct IpAnswer {
    /// The address.
    pub ip: IpAddr,
    /// The result a receiver reaches (`check_host()` with `postmaster@DOMAIN`).
    pub result: SpfResult,
    /// True when that result is `pass`.
    pub authorized: bool,
    /// Where the record authorizes the address, found by walking the whole tree, limits
    /// ignored: the terms from the top record to the one that matches.
    pub path: Vec<String>,
    /// The result the record would give were no limit hit (the qualifier of the matching
    /// term, `neutral` when nothing matches).
    pub result_without_limits: SpfResult,
    /// Why the receiver's result is what it is.
    pub reason: String,
}

/// Everything the analyzer found about one domain.
#[derive(Clone, Debug, Serialize)]
pub struct SpfAnalysis {
    /// The domain analyzed.
    pub domain: String,
    /// Every DNS-querying term in the whole tree, each time it would be evaluated.
    pub lookups_total: u32,
    /// Void lookups in the whole tree.
    pub void_lookups_total: u32,
    /// The include/redirect tree.
    pub tree: AnalyzedNode,
    /// The problems found, most severe first.
    pub findings: Vec<Finding>,
    /// The flatten preview.
    pub flatten: FlattenPreview,
    /// One answer per IP asked about.
    pub ips: Vec<IpAnswer>,
}

impl SpfAnalysis {
    /// The most severe finding, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Analyzes `domain`'s SPF record and everything it includes; `ips` are the operator's
/// outbound addresses to check.
pub async fn analyze(resolver: &dyn Resolver, domain: &str, ips: &[IpAddr]) -> SpfAnalysis {
    let domain = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    let mut walker = Walker {
        resolver,
        findings: Vec::new(),
        nodes: 0,
        queries: 0,
        truncated: false,
    };
    let mut ancestors = Vec::new();
    let tree = walker.node(&domain, "top", &mut ancestors).await;
    let mut findings = std::mem::take(&mut walker.findings);
    if walker.truncated {
        findings.push(Finding {
            id: "spf.analysis.truncated",
            severity: Severity::Warning,
            message: format!(
                "the tree is larger than the analyzer follows ({MAX_NODES} records, {MAX_QUERIES} DNS questions); parts are not shown"
            ),
            domain: domain.clone(),
            term: None,
        });
    }
    top_level_findings(&tree, &mut findings);
    overlap_findings(&tree, &mut findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let flatten = flatten(&tree);
    let mut answers = Vec::new();
    for &ip in ips {
        let sender = format!("postmaster@{domain}");
        let out = check_host(
            resolver,
            &SpfParams {
                trace: false,
                ..SpfParams::new(ip, &domain, &sender)
            },
        )
        .await;
        let (result_without_limits, path) = match static_match(&tree, ip, 0) {
            Some((result, path)) => (result, path),
            None => (SpfResult::Neutral, Vec::new()),
        };
        answers.push(IpAnswer {
            ip,
            result: out.result,
            authorized: out.result == SpfResult::Pass,
            path,
            result_without_limits,
            reason: match &out.mechanism {
                Some(m) => format!(
                    "{} matched in {}",
                    m,
                    out.mechanism_domain.as_deref().unwrap_or(&domain)
                ),
                None => out.reason.to_string(),
            },
        });
    }
    SpfAnalysis {
        domain,
        lookups_total: tree.subtree_lookups,
        void_lookups_total: tree.subtree_void_lookups,
        tree,
        findings,
        flatten,
        ips: answers,
    }
}

struct Walker<'r> {
    resolver: &'r dyn Resolver,
    findings: Vec<Finding>,
    nodes: usize,
    queries: usize,
    truncated: bool,
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

impl<'r> Walker<'r> {
    fn finding(
        &mut self,
        id: &'static str,
        severity: Severity,
        domain: &str,
        term: Option<&str>,
        message: String,
    ) {
        self.findings.push(Finding {
            id,
            severity,
            message,
            domain: domain.to_owned(),
            term: term.map(str::to_owned),
        });
    }

    async fn lookup(
        &mut self,
        name: &str,
        rtype: RecordType,
    ) -> Option<Result<Answer, inkan_dns::DnsError>> {
        if self.queries >= MAX_QUERIES {
            self.truncated = true;
            return None;
        }
        self.queries += 1;
        Some(self.resolver.lookup(name, rtype).await)
    }

    fn node<'s>(
        &'s mut self,
        domain: &'s str,
        via: &'static str,
        ancestors: &'s mut Vec<String>,
    ) -> BoxFuture<'s, AnalyzedNode> {
        Box::pin(async move {
            let mut node = AnalyzedNode {
                domain: domain.to_owned(),
                via,
                status: NodeStatus::Ok,
                record: None,
                record_bytes: 0,
                error: None,
                own_lookups: 0,
                subtree_lookups: 0,
                own_void_lookups: 0,
                subtree_void_lookups: 0,
                terms: Vec::new(),
            };
            if ancestors.iter().any(|a| a == domain) {
                node.status = NodeStatus::Loop;
                node.error = Some(format!("'{domain}' is already being evaluated: a loop"));
                let msg = format!(
                    "{via} of '{domain}' loops back to a record being evaluated; receivers reach permerror at the lookup limit"
                );
                let parent = ancestors.last().cloned().unwrap_or_default();
                self.finding(
                    "spf.include.loop",
                    Severity::Error,
                    &parent,
                    Some(domain),
                    msg,
                );
                return node;
            }
            if self.nodes >= MAX_NODES {
                self.truncated = true;
                node.status = NodeStatus::NotFollowed;
                return node;
            }
            self.nodes += 1;
            let Some(record) = self.fetch(&mut node).await else {
                return node;
            };
            ancestors.push(domain.to_owned());
            self.walk_record(&mut node, &record, ancestors).await;
            ancestors.pop();
            node
        })
    }

    /// Finds and parses the record at `node.domain`, setting the status and findings.
    async fn fetch(&mut self, node: &mut AnalyzedNode) -> Option<SpfRecord> {
        let domain = node.domain.clone();
        let Some(answer) = self.lookup(&domain, RecordType::Txt).await else {
            node.status = NodeStatus::NotFollowed;
            return None;
        };
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                node.status = NodeStatus::DnsError;
                node.error = Some(e.to_string());
                self.finding("spf.dns.error", Severity::Error, &domain, None, format!("DNS lookup of the TXT records at '{domain}' failed ({e}); receivers get temperror"));
                return None;
            }
        };
        let spf: Vec<Vec<u8>> = answer
            .records()
            .iter()
            .filter_map(|r| match &r.data {
                RData::Txt(t) if is_spf_record(t.strings().iter().flatten().copied()) => {
                    Some(t.concat())
                }
                _ => None,
            })
            .collect();
        // RFC 7208 §3.4: the whole TXT answer should fit a 512-byte UDP message.
        let answer_size = 12
            + domain.len()
            + 2
            + 4
            + answer
                .records()
                .iter()
                .map(|r| match &r.data {
                    RData::Txt(t) => 12 + t.strings().iter().map(|s| 1 + s.len()).sum::<usize>(),
                    _ => 0,
                })
                .sum::<usize>();
        match spf.len() {
            0 => {
                node.status = NodeStatus::NoRecord;
                node.error = Some(format!("no SPF record at '{domain}'"));
                if let Some(Ok(Answer::Records(set))) = self.lookup(&domain, RecordType::Spf).await
                    && set.records.iter().any(|r| matches!(&r.data, RData::Spf(t) if is_spf_record(t.strings().iter().flatten().copied())))
                {
                    self.finding(
                        "spf.record.spf-type-only",
                        Severity::Error,
                        &domain,
                        None,
                        format!("'{domain}' publishes SPF only as the obsolete SPF (type 99) record, which receivers no longer read (RFC 7208 §3.1); publish it as TXT"),
                    );
                }
                None
            }
            1 => {
                let bytes = &spf[0];
                node.record_bytes = bytes.len();
                node.record = Some(String::from_utf8_lossy(bytes).into_owned());
                if bytes.len() > RECORD_SIZE_ADVICE {
                    self.finding(
                        "spf.record.too-long",
                        Severity::Warning,
                        &domain,
                        None,
                        format!("the SPF record at '{domain}' is {} bytes, more than the {RECORD_SIZE_ADVICE} RFC 7208 §3.4 advises", bytes.len()),
                    );
                }
                if answer_size > 512 {
                    self.finding(
                        "spf.record.needs-tcp",
                        Severity::Warning,
                        &domain,
                        None,
                        format!("the TXT answer at '{domain}' is about {answer_size} bytes, more than fits a 512-byte UDP message; receivers without EDNS0 must retry over TCP"),
                    );
                }
                match parse_record(bytes) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        node.status = NodeStatus::SyntaxError;
                        node.error = Some(e.to_string());
                        self.finding("spf.record.syntax", Severity::Error, &domain, None, format!("the SPF record at '{domain}' does not parse: {e}; receivers get permerror"));
                        None
                    }
                }
            }
            n => {
                node.status = NodeStatus::MultipleRecords;
                node.error = Some(format!("{n} SPF records at '{domain}'"));
                self.finding("spf.record.multiple", Severity::Error, &domain, None, format!("'{domain}' publishes {n} SPF records; receivers get permerror (RFC 7208 §4.5)"));
                None
            }
        }
    }

    async fn walk_record(
        &mut self,
        node: &mut AnalyzedNode,
        record: &SpfRecord,
        ancestors: &mut Vec<String>,
    ) {
        let domain = node.domain.clone();
        if record.uses_macros() {
            self.finding("spf.macros", Severity::Info, &domain, None, format!("the record at '{domain}' uses macros; parts of it depend on each message and cannot be analyzed or flattened"));
        }
        for d in &record.directives {
            let mut term = AnalyzedTerm {
                term: d.text.to_string(),
                lookups: u32::from(d.mechanism.queries_dns()),
                subtree_lookups: 0,
                void: false,
                networks: Vec::new(),
                child: None,
                qualifier: Some(d.qualifier),
                kind: TermKind::Other,
            };
            let literal = d
                .mechanism
                .domain_spec()
                .and_then(|s| s.as_literal())
                .map(|s| s.strip_suffix('.').unwrap_or(s).to_ascii_lowercase());
            let has_macro = d
                .mechanism
                .domain_spec()
                .is_some_and(|s| s.as_literal().is_none());
            let target = literal.clone().unwrap_or_else(|| domain.clone());
            match &d.mechanism {
                Mechanism::All => term.kind = TermKind::All,
                Mechanism::Ip4 { addr, prefix } => {
                    term.kind = TermKind::Addresses;
                    term.networks.push(Network::V4(*addr, *prefix).normalized());
                }
                Mechanism::Ip6 { addr, prefix } => {
                    term.kind = TermKind::Addresses;
                    term.networks.push(Network::V6(*addr, *prefix).normalized());
                }
                Mechanism::Ptr(_) => {
                    term.kind = TermKind::Unflattenable;
                    self.finding("spf.mechanism.ptr", Severity::Warning, &domain, Some(&d.text), format!("'{}' uses ptr, which RFC 7208 §5.5 says not to use: slow, unreliable, and some receivers ignore it", d.text));
                }
                Mechanism::Exists(_) => term.kind = TermKind::Unflattenable,
                Mechanism::A { v4, v6, .. } if !has_macro => {
                    term.kind = TermKind::Addresses;
                    let (nets, void) = self.addresses(&target, *v4, *v6).await;
                    term.networks = nets;
                    term.void = void;
                }
                Mechanism::Mx { v4, v6, .. } if !has_macro => {
                    term.kind = TermKind::Addresses;
                    self.mx(&mut term, &domain, &target, *v4, *v6).await;
                }
                Mechanism::A { .. } | Mechanism::Mx { .. } => term.kind = TermKind::Unflattenable,
                Mechanism::Include(_) => {
                    term.kind = TermKind::Include;
                    match literal {
                        Some(t) => {
                            let child = self.node(&t, "include", ancestors).await;
                            if matches!(child.status, NodeStatus::NoRecord) {
                                term.void = true;
                                self.finding("spf.include.missing", Severity::Error, &domain, Some(&d.text), format!("'{}': '{t}' has no SPF record; receivers get permerror (RFC 7208 §5.2)", d.text));
                            }
                            term.child = Some(Box::new(child));
                        }
                        None => term.kind = TermKind::Unflattenable,
                    }
                }
            }
            if matches!(d.mechanism, Mechanism::Exists(_))
                && !has_macro
                && let Some(Ok(a)) = self.lookup(&target, RecordType::A).await
            {
                term.void = a.is_empty();
            }
            node.terms.push(term);
        }
        if let Some(spec) = &record.redirect {
            let text = format!("redirect={spec}");
            let mut term = AnalyzedTerm {
                term: text.clone(),
                lookups: 1,
                subtree_lookups: 0,
                void: false,
                networks: Vec::new(),
                child: None,
                qualifier: None,
                kind: TermKind::Redirect,
            };
            if record.all().is_some() {
                term.lookups = 0;
                self.finding("spf.redirect.ignored", Severity::Info, &domain, Some(&text), format!("'{text}' is ignored because the record has an 'all' mechanism (RFC 7208 §6.1)"));
            } else if let Some(t) = spec.as_literal() {
                let t = t.strip_suffix('.').unwrap_or(t).to_ascii_lowercase();
                let child = self.node(&t, "redirect", ancestors).await;
                if matches!(child.status, NodeStatus::NoRecord) {
                    term.void = true;
                    self.finding("spf.redirect.missing", Severity::Error, &domain, Some(&text), format!("'{text}': '{t}' has no SPF record; receivers get permerror (RFC 7208 §6.1)"));
                }
                term.child = Some(Box::new(child));
            } else {
                term.kind = TermKind::Unflattenable;
            }
            node.terms.push(term);
        }
        for term in &mut node.terms {
            term.subtree_lookups =
                term.lookups + term.child.as_ref().map_or(0, |c| c.subtree_lookups);
        }
        node.own_lookups = node.terms.iter().map(|t| t.lookups).sum();
        node.subtree_lookups = node.terms.iter().map(|t| t.subtree_lookups).sum();
        node.own_void_lookups = node.terms.iter().map(|t| u32::from(t.void)).sum();
        node.subtree_void_lookups = node.own_void_lookups
            + node
                .terms
                .iter()
                .filter_map(|t| t.child.as_ref())
                .map(|c| c.subtree_void_lookups)
                .sum::<u32>();
        if node.via != "include" {
            self.all_findings(node, record);
        }
        self.redundancy_findings(node);
    }

    /// A and AAAA of `name` as networks; `true` when it has neither (a void lookup).
    async fn addresses(&mut self, name: &str, v4: u8, v6: u8) -> (Vec<Network>, bool) {
        let mut nets = Vec::new();
        let mut found = false;
        for rtype in [RecordType::A, RecordType::Aaaa] {
            if let Some(Ok(answer)) = self.lookup(name, rtype).await {
                found |= !answer.is_empty();
                nets.extend(answer.ipv4().map(|a| Network::V4(a, v4).normalized()));
                nets.extend(answer.ipv6().map(|a| Network::V6(a, v6).normalized()));
            }
        }
        (nets, !found)
    }

    async fn mx(&mut self, term: &mut AnalyzedTerm, domain: &str, target: &str, v4: u8, v6: u8) {
        let Some(Ok(answer)) = self.lookup(target, RecordType::Mx).await else {
            return;
        };
        if answer.is_empty() {
            term.void = true;
            return;
        }
        let hosts: Vec<String> = answer
            .names()
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .collect();
        if hosts.len() > MAX_NAME_LOOKUPS {
            self.finding("spf.mx.too-many", Severity::Error, domain, Some(&term.term), format!("'{}': '{target}' has {} MX names, more than {MAX_NAME_LOOKUPS}; receivers get permerror (RFC 7208 §4.6.4)", term.term, hosts.len()));
        }
        for host in hosts.iter().take(MAX_NAME_LOOKUPS) {
            let (nets, _) = self.addresses(host, v4, v6).await;
            term.networks.extend(nets);
        }
    }

    /// `+all`, `?all`, no `all` at all: for the record a receiver ends in.
    fn all_findings(&mut self, node: &AnalyzedNode, record: &SpfRecord) {
        let domain = &node.domain;
        match record.all() {
            Some(all) if all.qualifier == Qualifier::Pass => self.finding("spf.all.pass", Severity::Error, domain, Some(&all.text), format!("'{}' authorizes every host on the Internet to send as '{domain}'", all.text)),
            Some(all) if all.qualifier == Qualifier::Neutral => self.finding("spf.all.neutral", Severity::Warning, domain, Some(&all.text), format!("'{}' makes no assertion about other hosts; use '~all' or '-all'", all.text)),
            Some(_) => {}
            None if record.redirect.is_none() => self.finding("spf.all.missing", Severity::Warning, domain, None, format!("the record at '{domain}' has no 'all' and no redirect, so other hosts get neutral; end it with '~all' or '-all'")),
            None => {}
        }
    }

    /// ip4/ip6 terms in one record that another term of the same record already covers.
    fn redundancy_findings(&mut self, node: &AnalyzedNode) {
        let nets: Vec<(&str, Network)> = node
            .terms
            .iter()
            .filter(|t| {
                t.kind == TermKind::Addresses
                    && (t.term.contains("ip4:") || t.term.contains("ip6:"))
            })
            .filter_map(|t| t.networks.first().map(|n| (t.term.as_str(), *n)))
            .collect();
        let mut reported = 0;
        for (i, (term, net)) in nets.iter().enumerate() {
            let cover = nets
                .iter()
                .enumerate()
                .find(|(j, (_, other))| *j != i && other.covers(net) && (other != net || *j < i));
            if let Some((_, (other_term, _))) = cover {
                reported += 1;
                if reported > MAX_OVERLAP_FINDINGS {
                    break;
                }
                self.finding(
                    "spf.ip.redundant",
                    Severity::Warning,
                    &node.domain,
                    Some(term),
                    format!("'{term}' is already covered by '{other_term}' in the same record"),
                );
            }
        }
    }
}

/// Findings about the tree as a whole: the lookup and void limits.
fn top_level_findings(tree: &AnalyzedNode, findings: &mut Vec<Finding>) {
    if tree.subtree_lookups > MAX_DNS_LOOKUPS {
        let mut running = 0;
        let mut over = Vec::new();
        for t in &tree.terms {
            let before = running;
            running += t.subtree_lookups;
            if running > MAX_DNS_LOOKUPS && t.subtree_lookups > 0 {
                over.push(format!(
                    "'{}' (cost {}, {before} → {running})",
                    t.term, t.subtree_lookups
                ));
            }
        }
        findings.push(Finding {
            id: "spf.lookups.over-limit",
            severity: Severity::Error,
            message: format!(
                "the record needs {} DNS lookups, more than the {MAX_DNS_LOOKUPS} RFC 7208 §4.6.4 allows; receivers get permerror. Over the limit: {}",
                tree.subtree_lookups,
                over.join(", ")
            ),
            domain: tree.domain.clone(),
            term: first_over(tree),
        });
    }
    if tree.subtree_void_lookups > MAX_VOID_LOOKUPS {
        findings.push(Finding {
            id: "spf.void.over-limit",
            severity: Severity::Error,
            message: format!(
                "the tree has {} void lookups (names that do not exist or hold nothing), more than the {MAX_VOID_LOOKUPS} RFC 7208 §4.6.4 allows; receivers may return permerror",
                tree.subtree_void_lookups
            ),
            domain: tree.domain.clone(),
            term: None,
        });
    }
}

/// The top-level term during which the running count passes the limit.
fn first_over(tree: &AnalyzedNode) -> Option<String> {
    let mut running = 0;
    tree.terms.iter().find_map(|t| {
        running += t.subtree_lookups;
        (running > MAX_DNS_LOOKUPS).then(|| t.term.clone())
    })
}

/// Networks in different records that overlap: information for cleaning up.
fn overlap_findings(tree: &AnalyzedNode, findings: &mut Vec<Finding>) {
    let mut all = Vec::new();
    collect_networks(tree, &mut all, false);
    let mut count = 0;
    let mut seen = HashSet::new();
    for (i, (dom_a, term_a, a)) in all.iter().enumerate() {
        for (dom_b, term_b, b) in all.iter().skip(i + 1) {
            if dom_a == dom_b
                || !(a.covers(b) || b.covers(a))
                || !seen.insert((term_a.clone(), term_b.clone()))
            {
                continue;
            }
            count += 1;
            if count <= MAX_OVERLAP_FINDINGS {
                findings.push(Finding {
                    id: "spf.ip.overlap",
                    severity: Severity::Info,
                    message: format!("'{term_a}' in '{dom_a}' overlaps '{term_b}' in '{dom_b}'"),
                    domain: dom_a.clone(),
                    term: Some(term_a.clone()),
                });
            }
        }
    }
}

fn collect_networks(
    node: &AnalyzedNode,
    out: &mut Vec<(String, String, Network)>,
    all_terms: bool,
) {
    for t in &node.terms {
        let explicit = t.term.contains("ip4:") || t.term.contains("ip6:");
        if t.kind == TermKind::Addresses && (explicit || all_terms) {
            for n in &t.networks {
                out.push((node.domain.clone(), t.term.clone(), *n));
            }
        }
        if let Some(c) = &t.child {
            collect_networks(c, out, all_terms);
        }
    }
}

/// The flatten preview: pass-qualified networks of the whole tree as they resolve today.
fn flatten(tree: &AnalyzedNode) -> FlattenPreview {
    let mut nets = Vec::new();
    let mut unflattenable = Vec::new();
    flatten_node(tree, &mut nets, &mut unflattenable, 0);
    nets.sort();
    nets.dedup();
    let covered: Vec<bool> = nets
        .iter()
        .enumerate()
        .map(|(i, n)| {
            nets.iter()
                .enumerate()
                .any(|(j, m)| j != i && m.covers(n) && m != n)
        })
        .collect();
    let networks: Vec<Network> = nets
        .into_iter()
        .zip(covered)
        .filter(|(_, c)| !c)
        .map(|(n, _)| n)
        .collect();
    let lookups_needed = unflattenable.len() as u32;
    let record_bytes = "v=spf1".len()
        + networks.iter().map(|n| 1 + n.term().len()).sum::<usize>()
        + unflattenable
            .iter()
            .map(|t: &String| 1 + t.len())
            .sum::<usize>()
        + " -all".len();
    FlattenPreview {
        networks,
        unflattenable,
        lookups_needed,
        record_bytes,
    }
}

fn flatten_node(
    node: &AnalyzedNode,
    nets: &mut Vec<Network>,
    unflattenable: &mut Vec<String>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for t in &node.terms {
        let pass = t.qualifier.is_none_or(|q| q == Qualifier::Pass);
        match t.kind {
            TermKind::Addresses if pass => nets.extend(t.networks.iter().copied()),
            TermKind::Unflattenable if pass => unflattenable.push(t.term.clone()),
            TermKind::Include | TermKind::Redirect if pass => {
                if let Some(c) = &t.child {
                    flatten_node(c, nets, unflattenable, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// The first term that matches `ip` walking the whole tree in evaluation order, limits
/// ignored: its result and the path of terms leading to it.
fn static_match(node: &AnalyzedNode, ip: IpAddr, depth: usize) -> Option<(SpfResult, Vec<String>)> {
    if depth > 32 {
        return None;
    }
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    for t in &node.terms {
        let hit = match t.kind {
            TermKind::All => Some(Vec::new()),
            TermKind::Addresses => t.networks.iter().find(|n| n.contains(ip)).map(|n| {
                let explicit = t.term.contains("ip4:") || t.term.contains("ip6:");
                if explicit {
                    Vec::new()
                } else {
                    vec![n.to_string()]
                }
            }),
            TermKind::Include => {
                let child = t.child.as_ref()?;
                match static_match(child, ip, depth + 1) {
                    Some((SpfResult::Pass, path)) => Some(path),
                    _ => None,
                }
            }
            TermKind::Redirect => {
                let child = t.child.as_ref()?;
                let (result, path) = static_match(child, ip, depth + 1)?;
                let mut full = vec![t.term.clone()];
                full.extend(path);
                return Some((result, full));
            }
            TermKind::Other | TermKind::Unflattenable => None,
        };
        if let Some(rest) = hit {
            let mut path = vec![t.term.clone()];
            path.extend(rest);
            let result = t.qualifier.map_or(SpfResult::Neutral, Qualifier::result);
            return Some((result, path));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::{MemoryResolver, Record, Txt};

    fn txt(name: &str, text: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![text.as_bytes().to_vec()])),
        }
    }
    fn a(name: &str, ip: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::A(ip.parse().unwrap()),
        }
    }
    fn mx(name: &str, host: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::Mx {
                preference: 10,
                exchange: host.into(),
            },
        }
    }
    fn ids(a: &SpfAnalysis) -> Vec<&'static str> {
        a.findings.iter().map(|f| f.id).collect()
    }

    /// A tree of 14 lookups: the exact per-node costs, the total, and the include that
    /// pushes it over.
    #[tokio::test]
    async fn counts_every_lookup_and_names_the_include_over_the_limit() {
        let r = MemoryResolver::from_records([
            txt(
                "example.com",
                "v=spf1 a mx include:_spf.hoster.example include:big.example ip4:192.0.2.0/24 -all",
            ),
            a("example.com", "192.0.2.10"),
            mx("example.com", "mx1.example.com"),
            a("mx1.example.com", "198.51.100.25"),
            txt(
                "_spf.hoster.example",
                "v=spf1 ip4:203.0.113.0/24 include:_spf2.hoster.example ~all",
            ),
            txt("_spf2.hoster.example", "v=spf1 a:relay.hoster.example ~all"),
            a("relay.hoster.example", "203.0.114.1"),
            txt(
                "big.example",
                "v=spf1 a:one.big.example a:two.big.example include:deep.big.example ~all",
            ),
            a("one.big.example", "233.252.0.1"),
            a("two.big.example", "233.252.0.2"),
            txt(
                "deep.big.example",
                "v=spf1 exists:x.deep.big.example a:three.big.example a:four.big.example mx:five.big.example ~all",
            ),
            a("x.deep.big.example", "127.0.0.2"),
            a("three.big.example", "233.252.0.3"),
            a("four.big.example", "233.252.0.4"),
            mx("five.big.example", "mx.five.big.example"),
            a("mx.five.big.example", "233.252.0.5"),
        ]);
        let ip: IpAddr = "203.0.114.1".parse().unwrap();
        let an = analyze(&r, "Example.com.", &[ip]).await;
        // top: a, mx, include, include = 4; hoster: include = 1; hoster2: a = 1;
        // big: a, a, include = 3; deep: exists, a, a, mx = 4. Total 13.
        assert_eq!(an.tree.own_lookups, 4);
        assert_eq!(an.tree.terms[2].subtree_lookups, 3);
        assert_eq!(an.tree.terms[3].subtree_lookups, 8);
        assert_eq!(an.lookups_total, 13);
        assert_eq!(an.void_lookups_total, 0);
        let over = an
            .findings
            .iter()
            .find(|f| f.id == "spf.lookups.over-limit")
            .expect("over-limit finding");
        assert_eq!(over.term.as_deref(), Some("include:big.example"));
        assert!(
            over.message
                .contains("'include:big.example' (cost 8, 5 → 13)"),
            "{}",
            over.message
        );
        let answer = &an.ips[0];
        assert_eq!(
            answer.path,
            [
                "include:_spf.hoster.example",
                "include:_spf2.hoster.example",
                "a:relay.hoster.example",
                "203.0.114.1/32"
            ]
        );
        assert_eq!(answer.result, SpfResult::Pass, "{}", answer.reason);
        assert!(
            an.flatten
                .networks
                .contains(&Network::V4("233.252.0.5".parse().unwrap(), 32))
        );
        assert_eq!(an.flatten.unflattenable, ["exists:x.deep.big.example"]);
        assert_eq!(an.flatten.lookups_needed, 1);
    }

    #[tokio::test]
    async fn void_lookups_missing_includes_and_loops() {
        let r = MemoryResolver::from_records([
            txt(
                "example.com",
                "v=spf1 a:gone1.example.com a:gone2.example.com mx:gone3.example.com include:nospf.example.com include:loop.example.com",
            ),
            a("nospf.example.com", "192.0.2.1"),
            txt("loop.example.com", "v=spf1 include:example.com -all"),
        ]);
        let an = analyze(&r, "example.com", &[]).await;
        assert_eq!(
            an.void_lookups_total, 4,
            "three empty targets and an include without SPF"
        );
        assert_eq!(an.lookups_total, 6);
        let found = ids(&an);
        for id in [
            "spf.void.over-limit",
            "spf.include.missing",
            "spf.include.loop",
            "spf.all.missing",
        ] {
            assert!(found.contains(&id), "{id} missing from {found:?}");
        }
        assert!(!found.contains(&"spf.lookups.over-limit"));
        assert_eq!(
            an.tree.terms[4].child.as_ref().unwrap().terms[0]
                .child
                .as_ref()
                .unwrap()
                .status,
            NodeStatus::Loop
        );
    }

    #[tokio::test]
    async fn record_level_findings() {
        let long = format!(
            "v=spf1 {} ptr ?all",
            (0..40)
                .map(|i| format!("ip4:198.51.100.{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let r = MemoryResolver::from_records([
            txt("long.example", &long),
            txt("plus.example", "v=spf1 ip4:192.0.2.0/24 ip4:192.0.2.7 +all"),
            txt("two.example", "v=spf1 -all"),
            txt("two.example", "v=spf1 ~all"),
            txt("bad.example", "v=spf1 ip4:1.2.3.4/33 -all"),
            Record {
                name: "old.example".into(),
                ttl: 1,
                data: RData::Spf(Txt::new(vec![b"v=spf1 -all".to_vec()])),
            },
            txt("macro.example", "v=spf1 exists:%{i}.bl.example -all"),
        ]);
        let check = |domain: &'static str, want: &'static [&'static str]| {
            let r = &r;
            async move {
                let an = analyze(r, domain, &[]).await;
                let got = ids(&an);
                for id in want {
                    assert!(got.contains(id), "{domain}: {id} missing from {got:?}");
                }
                an
            }
        };
        let an = check(
            "long.example",
            &[
                "spf.record.too-long",
                "spf.mechanism.ptr",
                "spf.all.neutral",
            ],
        )
        .await;
        assert_eq!(an.worst(), Some(Severity::Warning));
        check("plus.example", &["spf.all.pass", "spf.ip.redundant"]).await;
        check("two.example", &["spf.record.multiple"]).await;
        check("bad.example", &["spf.record.syntax"]).await;
        check("old.example", &["spf.record.spf-type-only"]).await;
        check("macro.example", &["spf.macros"]).await;
    }
}
