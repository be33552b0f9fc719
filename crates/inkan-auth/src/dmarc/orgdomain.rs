//! DMARC policy discovery and the Organizational Domain.
//!
//! The default method is RFC 9989's DNS Tree Walk (§4.10): query `_dmarc` at the domain, then
//! walk towards the root (jumping to seven labels first for names of eight or more, so no walk
//! takes more than eight queries), stopping at a record with `psd=y` or `psd=n`; the
//! Organizational Domain is chosen from the records found by the rules of §4.10.2 and the
//! policy record by §4.10.1. RFC 7489's method (§3.2 and §6.6.3: registrable domain from the
//! Public Suffix List, embedded in the `psl` crate, at most two queries) is kept as an option
//! so results can be compared with receivers that still use it.

use inkan_dns::{FailureKind, RecordType, Resolver};
use serde::Serialize;

use super::{DmarcError, DmarcRecord, PsdFlag};

/// The most labels the tree walk keeps after its first query (RFC 9989 §4.10 step 4).
const WALK_KEEP_LABELS: usize = 7;

/// How the Organizational Domain is found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgDomainMethod {
    /// RFC 9989 §4.10: the DNS Tree Walk.
    #[default]
    TreeWalk,
    /// RFC 7489 §3.2: the Public Suffix List.
    PublicSuffix,
}

impl OrgDomainMethod {
    /// A short name: `tree-walk` or `public-suffix`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrgDomainMethod::TreeWalk => "tree-walk",
            OrgDomainMethod::PublicSuffix => "public-suffix",
        }
    }
}

/// What policy discovery found for an Author Domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Discovery {
    /// The Author Domain, normalized (lower case, no trailing dot).
    pub from_domain: String,
    /// The method used.
    pub method: OrgDomainMethod,
    /// The Organizational Domain of the Author Domain.
    pub org_domain: String,
    /// The DMARC Policy Record that applies, if any.
    pub record: Option<DmarcRecord>,
    /// The domain whose `_dmarc` name holds [`Discovery::record`].
    pub record_domain: Option<String>,
    /// The `_dmarc` names asked, in order.
    pub queries: Vec<String>,
}

impl Discovery {
    /// True when the policy record was published at the Author Domain itself.
    pub fn record_at_author_domain(&self) -> bool {
        self.record_domain.as_deref() == Some(self.from_domain.as_str())
    }
}

/// Records found by one tree walk, longest name first.
#[derive(Debug, Default)]
struct Walk {
    found: Vec<(String, DmarcRecord)>,
    queries: Vec<String>,
}

/// Finds the DMARC policy record for `from_domain` and its Organizational Domain.
///
/// DNS failures (timeout, SERVFAIL) are errors, never "no record": the caller turns them into
/// DMARC `temperror`.
pub async fn discover<R: Resolver + ?Sized>(
    resolver: &R,
    from_domain: &str,
    method: OrgDomainMethod,
) -> Result<Discovery, DmarcError> {
    let from_domain = normalize_domain(from_domain)?;
    match method {
        OrgDomainMethod::TreeWalk => {
            let walk = tree_walk(resolver, &from_domain).await?;
            let org_domain = select_org_domain(&from_domain, &walk.found);
            let pick = |domain: &str| walk.found.iter().find(|(d, _)| d == domain);
            // §4.10.1: the Author Domain's record, else the Organizational Domain's, else the PSD's.
            let chosen = pick(&from_domain)
                .or_else(|| pick(&org_domain))
                .or_else(|| walk.found.iter().find(|(_, r)| r.psd == PsdFlag::Yes));
            Ok(Discovery {
                record: chosen.map(|(_, r)| r.clone()),
                record_domain: chosen.map(|(d, _)| d.clone()),
                from_domain,
                method,
                org_domain,
                queries: walk.queries,
            })
        }
        OrgDomainMethod::PublicSuffix => {
            let mut queries = vec![dmarc_name(&from_domain)];
            let org_domain = psl_organizational_domain(&from_domain);
            let mut found = fetch_record(resolver, &from_domain)
                .await?
                .map(|r| (from_domain.clone(), r));
            if found.is_none() && org_domain != from_domain {
                queries.push(dmarc_name(&org_domain));
                found = fetch_record(resolver, &org_domain)
                    .await?
                    .map(|r| (org_domain.clone(), r));
            }
            Ok(Discovery {
                record_domain: found.as_ref().map(|(d, _)| d.clone()),
                record: found.map(|(_, r)| r),
                from_domain,
                method,
                org_domain,
                queries,
            })
        }
    }
}

/// The Organizational Domain of any domain (an authenticated identifier, say) by `method`.
pub async fn organizational_domain<R: Resolver + ?Sized>(
    resolver: &R,
    domain: &str,
    method: OrgDomainMethod,
) -> Result<String, DmarcError> {
    let domain = normalize_domain(domain)?;
    match method {
        OrgDomainMethod::TreeWalk => {
            let walk = tree_walk(resolver, &domain).await?;
            Ok(select_org_domain(&domain, &walk.found))
        }
        OrgDomainMethod::PublicSuffix => Ok(psl_organizational_domain(&domain)),
    }
}

/// RFC 7489 §3.2: the public suffix plus one label, or the domain itself when it is a public
/// suffix (or under none the embedded list knows).
pub fn psl_organizational_domain(domain: &str) -> String {
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&domain)
        .map(str::to_owned)
        .unwrap_or(domain)
}

/// RFC 9989 §4.10 steps 1–7.
async fn tree_walk<R: Resolver + ?Sized>(resolver: &R, start: &str) -> Result<Walk, DmarcError> {
    let mut walk = Walk::default();
    let labels: Vec<&str> = start.split('.').collect();
    let mut keep = labels.len();
    while keep > 0 {
        let target = labels[labels.len() - keep..].join(".");
        walk.queries.push(dmarc_name(&target));
        if let Some(record) = fetch_record(resolver, &target).await? {
            let stop = record.psd != PsdFlag::Unknown;
            walk.found.push((target, record));
            if stop {
                break;
            }
        }
        // Only the first step can jump: afterwards at most seven labels are left.
        keep = if keep > WALK_KEEP_LABELS {
            WALK_KEEP_LABELS
        } else {
            keep - 1
        };
    }
    Ok(walk)
}

/// RFC 9989 §4.10.2: picks the Organizational Domain from the records a walk found.
fn select_org_domain(start: &str, found: &[(String, DmarcRecord)]) -> String {
    for (domain, record) in found {
        match record.psd {
            PsdFlag::No => return domain.clone(),
            PsdFlag::Yes if domain != start => return one_label_below(start, domain),
            PsdFlag::Yes | PsdFlag::Unknown => {}
        }
    }
    found
        .last()
        .map_or_else(|| start.to_owned(), |(domain, _)| domain.clone())
}

/// The suffix of `start` one label longer than `ancestor`.
fn one_label_below(start: &str, ancestor: &str) -> String {
    let labels: Vec<&str> = start.split('.').collect();
    let want = ancestor.split('.').count() + 1;
    labels[labels.len().saturating_sub(want)..].join(".")
}

fn dmarc_name(domain: &str) -> String {
    format!("_dmarc.{domain}")
}

/// Asks for `_dmarc.DOMAIN` TXT and keeps the single DMARC record, if exactly one is published
/// (§4.10 step 2: several DMARC records are all discarded).
async fn fetch_record<R: Resolver + ?Sized>(
    resolver: &R,
    domain: &str,
) -> Result<Option<DmarcRecord>, DmarcError> {
    let name = dmarc_name(domain);
    let answer = match resolver.lookup(&name, RecordType::Txt).await {
        Ok(answer) => answer,
        // A name too long to ask cannot hold a record; the walk goes on with shorter names.
        Err(err) if err.kind == FailureKind::InvalidName => return Ok(None),
        Err(err) => return Err(DmarcError::Dns(err)),
    };
    let mut records = answer.txt().filter_map(|txt| {
        let text = String::from_utf8(txt.concat()).ok()?;
        DmarcRecord::parse(&text).ok()
    });
    let first = records.next();
    Ok(if records.next().is_some() {
        None
    } else {
        first
    })
}

/// Lower-cases, strips one trailing dot and checks the name can be asked in DNS.
pub(crate) fn normalize_domain(domain: &str) -> Result<String, DmarcError> {
    let invalid = |why: &str| DmarcError::InvalidDomain {
        domain: domain.to_owned(),
        why: why.to_owned(),
    };
    let mut name = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    // RFC 9989 §5.3.1: U-labels are converted to A-labels before anything else.
    if !name.is_ascii() {
        name = idna::domain_to_ascii(&name)
            .map_err(|_| invalid("not a valid internationalized domain name"))?;
    }
    if name.len() > 253 {
        return Err(invalid("longer than 253 bytes"));
    }
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid("a label is empty or longer than 63 bytes"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "a label holds a character other than a letter, digit, '-' or '_'",
            ));
        }
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::{MemoryResolver, RData, Record, Txt};
    use inkan_testkit::{Fault, FaultPlan, FaultResolver};

    pub(crate) fn zone(records: &[(&str, &str)]) -> MemoryResolver {
        MemoryResolver::from_records(records.iter().map(|(name, text)| Record {
            name: (*name).into(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![text.as_bytes().to_vec()])),
        }))
    }

    async fn disc(r: &MemoryResolver, domain: &str) -> Discovery {
        discover(r, domain, OrgDomainMethod::TreeWalk)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn record_at_author_domain_wins() {
        let r = zone(&[
            ("_dmarc.mail.example.com", "v=DMARC1; p=reject"),
            ("_dmarc.example.com", "v=DMARC1; p=none"),
        ]);
        let d = disc(&r, "Mail.Example.com.").await;
        assert_eq!(d.from_domain, "mail.example.com");
        assert_eq!(d.record_domain.as_deref(), Some("mail.example.com"));
        assert_eq!(d.record.unwrap().p, super::super::Policy::Reject);
        assert_eq!(d.org_domain, "example.com");
        assert_eq!(
            d.queries,
            [
                "_dmarc.mail.example.com",
                "_dmarc.example.com",
                "_dmarc.com"
            ]
        );
    }

    /// RFC 9989 §4.10.2, first example: records at mail.example.com and example.com.
    #[tokio::test]
    async fn org_domain_is_the_record_with_fewest_labels() {
        let r = zone(&[
            ("_dmarc.mail.example.com", "v=DMARC1; p=reject"),
            ("_dmarc.example.com", "v=DMARC1; p=none"),
        ]);
        let d = disc(&r, "a.mail.example.com").await;
        assert_eq!(d.org_domain, "example.com");
        assert_eq!(d.record_domain.as_deref(), Some("example.com"));
    }

    /// RFC 9989 §4.10.2, second example: psd=n makes mail.example.com its own org domain.
    #[tokio::test]
    async fn psd_n_stops_the_walk() {
        let r = zone(&[
            ("_dmarc.mail.example.com", "v=DMARC1; p=reject; psd=n"),
            ("_dmarc.example.com", "v=DMARC1; p=none"),
        ]);
        let d = disc(&r, "a.mail.example.com").await;
        assert_eq!(d.org_domain, "mail.example.com");
        assert_eq!(d.record_domain.as_deref(), Some("mail.example.com"));
        assert_eq!(
            d.queries,
            ["_dmarc.a.mail.example.com", "_dmarc.mail.example.com"]
        );
    }

    /// RFC 9989 §4.10.2, third example: only a PSD record (psd=y) at com.
    #[tokio::test]
    async fn psd_y_makes_the_label_below_the_org_domain() {
        let r = zone(&[("_dmarc.com", "v=DMARC1; p=reject; psd=y")]);
        let d = disc(&r, "a.mail.example.com").await;
        assert_eq!(d.org_domain, "example.com");
        assert_eq!(d.record_domain.as_deref(), Some("com"));
    }

    #[tokio::test]
    async fn org_record_beats_psd_record() {
        let r = zone(&[
            ("_dmarc.example.com", "v=DMARC1; p=none"),
            ("_dmarc.com", "v=DMARC1; p=reject; psd=y"),
        ]);
        let d = disc(&r, "a.example.com").await;
        assert_eq!(d.org_domain, "example.com");
        assert_eq!(d.record_domain.as_deref(), Some("example.com"));
    }

    #[tokio::test]
    async fn psd_y_at_the_author_domain_is_its_own_org_domain() {
        let r = zone(&[("_dmarc.gov.example", "v=DMARC1; p=reject; psd=y")]);
        let d = disc(&r, "gov.example").await;
        assert_eq!(d.org_domain, "gov.example");
        assert!(d.record_at_author_domain());
        assert_eq!(d.queries.len(), 1);
    }

    #[tokio::test]
    async fn no_record_anywhere() {
        let d = disc(&zone(&[]), "a.b.example.com").await;
        assert!(d.record.is_none());
        assert_eq!(d.org_domain, "a.b.example.com");
        assert_eq!(d.queries.len(), 4);
    }

    /// RFC 9989 §4.10: a name of more than eight labels costs at most eight queries.
    #[tokio::test]
    async fn long_names_jump_to_seven_labels() {
        let r = zone(&[("_dmarc.example.com", "v=DMARC1; p=quarantine")]);
        let d = disc(&r, "a.b.c.d.e.f.g.h.i.j.mail.example.com").await;
        assert_eq!(
            d.queries,
            [
                "_dmarc.a.b.c.d.e.f.g.h.i.j.mail.example.com",
                "_dmarc.g.h.i.j.mail.example.com",
                "_dmarc.h.i.j.mail.example.com",
                "_dmarc.i.j.mail.example.com",
                "_dmarc.j.mail.example.com",
                "_dmarc.mail.example.com",
                "_dmarc.example.com",
                "_dmarc.com",
            ]
        );
        assert_eq!(d.org_domain, "example.com");
        let nine = disc(&r, "a.b.c.d.e.f.g.example.com").await;
        assert_eq!(nine.queries.len(), 8);
        assert_eq!(nine.queries[1], "_dmarc.c.d.e.f.g.example.com");
    }

    /// The §4.9 example: a psd=n record below the jump is never seen.
    #[tokio::test]
    async fn records_skipped_by_the_jump_are_not_found() {
        let r = zone(&[
            (
                "_dmarc.b.c.d.e.f.g.example.com",
                "v=DMARC1; p=reject; psd=n",
            ),
            ("_dmarc.example.com", "v=DMARC1; p=none"),
        ]);
        let d = disc(&r, "mail.a.b.c.d.e.f.g.example.com").await;
        assert_eq!(d.org_domain, "example.com");
        assert_eq!(d.record_domain.as_deref(), Some("example.com"));
    }

    #[tokio::test]
    async fn multiple_and_foreign_records() {
        let mut r = zone(&[
            ("_dmarc.example.com", "v=DMARC1; p=reject"),
            ("_dmarc.example.com", "v=DMARC1; p=none"),
        ]);
        r.insert(Record {
            name: "_dmarc.other.test".into(),
            ttl: 1,
            data: RData::Txt(Txt::new(vec![b"v=spf1 -all".to_vec()])),
        });
        r.insert(Record {
            name: "_dmarc.other.test".into(),
            ttl: 1,
            data: RData::Txt(Txt::new(vec![
                b"v=DMARC1; ".to_vec(),
                b"p=quarantine".to_vec(),
            ])),
        });
        assert!(disc(&r, "example.com").await.record.is_none());
        let d = disc(&r, "other.test").await;
        assert_eq!(d.record.unwrap().p, super::super::Policy::Quarantine);
    }

    #[tokio::test]
    async fn dns_failure_is_an_error_not_absence() {
        let base = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject")]);
        let mut plan = FaultPlan::new();
        plan.add("_dmarc.mail.example.com", Fault::ServFail, []);
        let r = FaultResolver::new(base, plan);
        let err = discover(&r, "mail.example.com", OrgDomainMethod::TreeWalk)
            .await
            .unwrap_err();
        assert!(err.is_temporary(), "{err}");
        assert!(err.to_string().contains("_dmarc.mail.example.com"), "{err}");
    }

    #[tokio::test]
    async fn public_suffix_method() {
        let r = zone(&[
            ("_dmarc.example.co.uk", "v=DMARC1; p=reject"),
            ("_dmarc.mail.example.co.uk", "v=DMARC1; p=none"),
        ]);
        let d = discover(&r, "a.mail.example.co.uk", OrgDomainMethod::PublicSuffix)
            .await
            .unwrap();
        assert_eq!(d.org_domain, "example.co.uk");
        // RFC 7489 never looks at intermediate names.
        assert_eq!(d.record_domain.as_deref(), Some("example.co.uk"));
        assert_eq!(
            d.queries,
            ["_dmarc.a.mail.example.co.uk", "_dmarc.example.co.uk"]
        );
        assert_eq!(psl_organizational_domain("co.uk"), "co.uk");
        assert_eq!(psl_organizational_domain("x.y.Example.COM."), "example.com");
    }

    #[tokio::test]
    async fn identifier_org_domain() {
        let r = zone(&[("_dmarc.example.com", "v=DMARC1; p=reject")]);
        let org = organizational_domain(&r, "bounces.mail.example.com", OrgDomainMethod::TreeWalk)
            .await
            .unwrap();
        assert_eq!(org, "example.com");
        let org = organizational_domain(
            &r,
            "bounces.mail.example.com",
            OrgDomainMethod::PublicSuffix,
        )
        .await
        .unwrap();
        assert_eq!(org, "example.com");
    }

    #[test]
    fn bad_domains_are_refused() {
        for bad in [
            "",
            ".",
            "a..b",
            "exa mple.com",
            "\u{e9}\u{2028}.com",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(normalize_domain(bad).is_err(), "{bad:?}");
        }
        assert_eq!(normalize_domain("EXAMPLE.com.").unwrap(), "example.com");
        assert_eq!(
            normalize_domain("B\u{fc}cher.example").unwrap(),
            "xn--bcher-kva.example"
        );
    }
}
