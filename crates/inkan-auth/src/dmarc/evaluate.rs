//! The receiver's DMARC evaluation (RFC 9989 §4.4 identifier alignment, §4.10.1 the policy
//! that applies, §5.3 mail receiver actions): from the Author Domain and the SPF and DKIM
//! outcomes to a result, the published policy (`p`, `sp` or `np`) and the disposition.
//!
//! Inputs are plain values (domains and RFC 8601 result tokens), so this does not depend on how
//! SPF or DKIM were checked. DNS is passed in: policy discovery, the Organizational Domains of
//! the authenticated identifiers under relaxed alignment, and the existence check `np` needs.

use std::collections::HashMap;

use inkan_dns::{Answer, RecordType, Resolver};
use serde::Serialize;

use super::orgdomain::normalize_domain;
use super::{
    Alignment, DmarcError, DmarcRecord, DmarcResult, OrgDomainMethod, Policy, discover,
    organizational_domain,
};
use crate::authres::MethodResult;

/// Which SMTP identity SPF checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfScope {
    /// The RFC5321.MailFrom domain.
    MailFrom,
    /// The HELO domain, used when MAIL FROM was empty (RFC 7208 §2.4).
    Helo,
}

/// The SPF outcome DMARC takes as input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SpfIdentifier {
    /// The domain SPF authenticated (MAIL FROM domain, or HELO when MAIL FROM was empty).
    pub domain: String,
    /// Which identity that domain came from.
    pub scope: SpfScope,
    /// The SPF result token (`pass`, `fail`, `softfail`, ...).
    pub result: String,
}

/// One DKIM signature's outcome, as DMARC takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DkimIdentifier {
    /// The signature's `d=`.
    pub domain: String,
    /// The signature's `s=`, for reporting.
    pub selector: Option<String>,
    /// The DKIM result token (`pass`, `fail`, `neutral`, ...).
    pub result: String,
}

/// Everything DMARC evaluation needs about one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DmarcInput {
    /// The RFC5322.From domain.
    pub from_domain: String,
    /// SPF's outcome, when SPF was checked.
    pub spf: Option<SpfIdentifier>,
    /// Every DKIM signature's outcome.
    pub dkim: Vec<DkimIdentifier>,
}

/// How one authenticated identifier fared against the Author Domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdentifierCheck {
    /// The identifier's domain.
    pub domain: String,
    /// The underlying result token.
    pub result: String,
    /// Its Organizational Domain, when it had to be found.
    pub org_domain: Option<String>,
    /// True when it passed and is aligned.
    pub aligned: bool,
    /// Why it is or is not aligned.
    pub reason: String,
}

/// Which tag of the record gave the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicySource {
    /// The record is the Author Domain's own: `p`.
    P,
    /// The Author Domain is an existing subdomain: `sp` (or `p` when absent).
    Sp,
    /// The Author Domain does not exist: `np` (or `sp`, then `p`).
    Np,
}

/// The outcome of DMARC for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DmarcVerdict {
    /// pass, fail, none, temperror or permerror.
    pub result: DmarcResult,
    /// Why, for a person.
    pub reason: String,
    /// The Author Domain.
    pub from_domain: String,
    /// The Organizational Domain of the Author Domain, when discovery completed.
    pub org_domain: Option<String>,
    /// The published policy that applies (`None` when no record applies).
    pub policy: Option<Policy>,
    /// Which tag gave [`DmarcVerdict::policy`].
    pub policy_source: Option<PolicySource>,
    /// What a receiver honouring the policy does: the policy on fail (one level lower under
    /// `t=y`), `none` otherwise.
    pub disposition: Policy,
    /// The record asks for testing (`t=y`).
    pub testing: bool,
    /// An SPF pass aligned with the Author Domain.
    pub spf_aligned: bool,
    /// A DKIM pass aligned with the Author Domain.
    pub dkim_aligned: bool,
    /// The record that applies.
    pub record: Option<DmarcRecord>,
    /// Where that record was published.
    pub record_domain: Option<String>,
    /// The Organizational Domain method used.
    pub method: OrgDomainMethod,
    /// The SPF identifier's check.
    pub spf: Option<IdentifierCheck>,
    /// Each DKIM signature's check, in input order.
    pub dkim: Vec<IdentifierCheck>,
    /// The `_dmarc` names asked during policy discovery.
    pub queries: Vec<String>,
}

impl DmarcVerdict {
    /// This verdict as an RFC 8601 `dmarc=` result: the record's policies and the disposition
    /// in a comment, `header.from` and `policy.dmarc`.
    pub fn auth_result(&self) -> MethodResult {
        let mut method = MethodResult::new("dmarc", self.result.as_str());
        if let Some(record) = &self.record {
            method = method.with_comment(format!(
                "p={} sp={} dis={}",
                record.p.as_str(),
                record.sp.unwrap_or(record.p).as_str(),
                self.disposition.as_str()
            ));
        }
        if matches!(self.result, DmarcResult::TempError | DmarcResult::PermError) {
            method = method.with_reason(self.reason.clone());
        }
        method = method.with_property("header", "from", self.from_domain.clone());
        if let Some(policy) = self.policy {
            method = method.with_property("policy", "dmarc", policy.as_str());
        }
        method
    }

    /// The verdict for a message without a usable Author Domain (no From, several, or no
    /// address in it): DMARC cannot be applied (RFC 9989 §5.3.1), reported as `permerror`.
    pub fn without_author(reason: String, method: OrgDomainMethod) -> Self {
        Self::early(DmarcResult::PermError, reason, "", method)
    }

    fn early(
        result: DmarcResult,
        reason: String,
        from_domain: &str,
        method: OrgDomainMethod,
    ) -> Self {
        DmarcVerdict {
            result,
            reason,
            from_domain: from_domain.to_owned(),
            org_domain: None,
            policy: None,
            policy_source: None,
            disposition: Policy::None,
            testing: false,
            spf_aligned: false,
            dkim_aligned: false,
            record: None,
            record_domain: None,
            method,
            spf: None,
            dkim: Vec::new(),
            queries: Vec::new(),
        }
    }
}

/// Evaluates DMARC for one message. Never fails: DNS failures become `temperror`, an unusable
/// From domain `permerror`.
pub async fn evaluate<R: Resolver + ?Sized>(
    resolver: &R,
    input: &DmarcInput,
    method: OrgDomainMethod,
) -> DmarcVerdict {
    let from_domain = match normalize_domain(&input.from_domain) {
        Ok(d) => d,
        Err(err) => {
            return DmarcVerdict::early(
                DmarcResult::PermError,
                err.to_string(),
                &input.from_domain,
                method,
            );
        }
    };
    let discovery = match discover(resolver, &from_domain, method).await {
        Ok(d) => d,
        Err(err) => {
            let result = if err.is_temporary() {
                DmarcResult::TempError
            } else {
                DmarcResult::PermError
            };
            return DmarcVerdict::early(result, err.to_string(), &from_domain, method);
        }
    };
    let mut verdict = DmarcVerdict::early(DmarcResult::None, String::new(), &from_domain, method);
    verdict.org_domain = Some(discovery.org_domain.clone());
    verdict.queries = discovery.queries.clone();
    let Some(record) = discovery.record.clone() else {
        verdict.reason = format!("no DMARC policy record for {from_domain}");
        return verdict;
    };
    verdict.testing = record.testing;
    verdict.record_domain = discovery.record_domain.clone();

    // §4.10.1: p for the Author Domain's own record, sp or np for a parent's.
    let mut lookup_failure: Option<DmarcError> = None;
    let (policy, source) = if discovery.record_at_author_domain() {
        (record.p, PolicySource::P)
    } else {
        match record.np {
            Some(np) => match domain_exists(resolver, &from_domain).await {
                Ok(true) => (record.sp.unwrap_or(record.p), PolicySource::Sp),
                Ok(false) => (np, PolicySource::Np),
                Err(err) => {
                    lookup_failure = Some(err);
                    (record.sp.unwrap_or(record.p), PolicySource::Sp)
                }
            },
            None => (record.sp.unwrap_or(record.p), PolicySource::Sp),
        }
    };
    verdict.policy = Some(policy);
    verdict.policy_source = Some(source);

    let mut orgs = OrgCache {
        method,
        known: HashMap::new(),
    };
    if let Some(spf) = &input.spf {
        let check = check_identifier(
            resolver,
            &discovery.org_domain,
            &from_domain,
            &spf.domain,
            &spf.result,
            record.aspf,
            &mut orgs,
            &mut lookup_failure,
        )
        .await;
        verdict.spf_aligned = check.aligned;
        verdict.spf = Some(check);
    }
    for sig in &input.dkim {
        let check = check_identifier(
            resolver,
            &discovery.org_domain,
            &from_domain,
            &sig.domain,
            &sig.result,
            record.adkim,
            &mut orgs,
            &mut lookup_failure,
        )
        .await;
        verdict.dkim_aligned |= check.aligned;
        verdict.dkim.push(check);
    }

    if verdict.spf_aligned || verdict.dkim_aligned {
        verdict.result = DmarcResult::Pass;
        let what: Vec<&str> = [(verdict.spf_aligned, "SPF"), (verdict.dkim_aligned, "DKIM")]
            .into_iter()
            .filter_map(|(aligned, name)| aligned.then_some(name))
            .collect();
        verdict.reason = format!("{} aligned with {from_domain}", what.join(" and "));
    } else if let Some(err) = lookup_failure {
        // §5.3.5: a DNS query that did not complete leaves neither pass nor fail.
        verdict.result = DmarcResult::TempError;
        verdict.reason = err.to_string();
    } else {
        verdict.result = DmarcResult::Fail;
        verdict.disposition = if record.testing {
            policy.one_level_lower()
        } else {
            policy
        };
        verdict.reason = format!(
            "no aligned SPF or DKIM pass for {from_domain} (policy {}={}{})",
            match source {
                PolicySource::P => "p",
                PolicySource::Sp => "sp",
                PolicySource::Np => "np",
            },
            policy.as_str(),
            if record.testing {
                ", t=y: applied one level lower"
            } else {
                ""
            }
        );
    }
    verdict.record = Some(record);
    verdict
}

/// Organizational Domains of identifiers, each found once per message.
struct OrgCache {
    method: OrgDomainMethod,
    known: HashMap<String, Result<String, DmarcError>>,
}

#[allow(clippy::too_many_arguments)]
async fn check_identifier<R: Resolver + ?Sized>(
    resolver: &R,
    from_org: &str,
    from_domain: &str,
    domain: &str,
    result: &str,
    mode: Alignment,
    orgs: &mut OrgCache,
    failure: &mut Option<DmarcError>,
) -> IdentifierCheck {
    let mut check = IdentifierCheck {
        domain: domain.to_owned(),
        result: result.to_owned(),
        org_domain: None,
        aligned: false,
        reason: String::new(),
    };
    if !result.eq_ignore_ascii_case("pass") {
        check.reason = format!("{result}, not pass");
        return check;
    }
    let Ok(id) = normalize_domain(domain) else {
        check.reason = format!("'{domain}' is not a valid domain");
        return check;
    };
    if id == from_domain {
        check.aligned = true;
        check.reason = "identical to the From domain".into();
        return check;
    }
    if mode == Alignment::Strict {
        check.reason = "strict alignment needs the identical domain".into();
        return check;
    }
    // An Organizational Domain is always a suffix of its domain, so an identifier outside the
    // From domain's Organizational Domain cannot share it: no walk needed.
    if !is_same_or_subdomain(&id, from_org) {
        check.reason = format!("not within {from_org}, the From domain's Organizational Domain");
        return check;
    }
    let org = match orgs.known.get(&id) {
        Some(known) => known.clone(),
        None => {
            let found = organizational_domain(resolver, &id, orgs.method).await;
            orgs.known.insert(id.clone(), found.clone());
            found
        }
    };
    match org {
        Ok(org) => {
            check.aligned = org == from_org;
            check.reason = if check.aligned {
                format!("same Organizational Domain {org}")
            } else {
                format!("Organizational Domain {org} differs from {from_org}")
            };
            check.org_domain = Some(org);
        }
        Err(err) => {
            check.reason = err.to_string();
            failure.get_or_insert(err);
        }
    }
    check
}

/// RFC 8020: NXDOMAIN means the name and everything under it does not exist.
async fn domain_exists<R: Resolver + ?Sized>(
    resolver: &R,
    domain: &str,
) -> Result<bool, DmarcError> {
    match resolver.lookup(domain, RecordType::A).await {
        Ok(Answer::NxDomain { .. }) => Ok(false),
        Ok(_) => Ok(true),
        Err(err) => Err(DmarcError::Dns(err)),
    }
}

fn is_same_or_subdomain(name: &str, ancestor: &str) -> bool {
    name == ancestor
        || name
            .strip_suffix(ancestor)
            .is_some_and(|head| head.ends_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::{MemoryResolver, RData, Record, Txt};
    use inkan_testkit::{Fault, FaultPlan, FaultResolver};

    fn txt(name: &str, text: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![text.as_bytes().to_vec()])),
        }
    }

    fn a(name: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::A([192, 0, 2, 1].into()),
        }
    }

    fn input(from: &str, spf: Option<(&str, &str)>, dkim: &[(&str, &str)]) -> DmarcInput {
        DmarcInput {
            from_domain: from.into(),
            spf: spf.map(|(d, r)| SpfIdentifier {
                domain: d.into(),
                scope: SpfScope::MailFrom,
                result: r.into(),
            }),
            dkim: dkim
                .iter()
                .map(|(d, r)| DkimIdentifier {
                    domain: (*d).into(),
                    selector: Some("s1".into()),
                    result: (*r).into(),
                })
                .collect(),
        }
    }

    async fn run(r: &impl Resolver, i: &DmarcInput) -> DmarcVerdict {
        evaluate(r, i, OrgDomainMethod::TreeWalk).await
    }

    /// The exhaustive alignment matrix: mode × relation × mechanism, RFC 9989 §4.4.
    #[tokio::test]
    async fn alignment_matrix() {
        // From domain: news.example.com; records at example.com (the org domain) and at the
        // unrelated org.
        let relations = [
            ("same", "news.example.com", true, true),
            ("sub", "bounce.news.example.com", false, true),
            ("parent", "example.com", false, true),
            ("sibling", "mail.example.com", false, true),
            ("unrelated", "example.net", false, false),
            ("lookalike", "news.example.com.evil.test", false, false),
            ("suffix-trick", "badexample.com", false, false),
        ];
        for mode in [Alignment::Strict, Alignment::Relaxed] {
            let m = mode.as_str();
            let r = MemoryResolver::from_records([
                txt(
                    "_dmarc.example.com",
                    &format!("v=DMARC1; p=reject; adkim={m}; aspf={m}"),
                ),
                txt("_dmarc.example.net", "v=DMARC1; p=none"),
                a("news.example.com"),
            ]);
            for (name, id, strict_ok, relaxed_ok) in relations {
                let want = match mode {
                    Alignment::Strict => strict_ok,
                    Alignment::Relaxed => relaxed_ok,
                };
                for mech in ["spf", "dkim"] {
                    let i = if mech == "spf" {
                        input("news.example.com", Some((id, "pass")), &[])
                    } else {
                        input("news.example.com", None, &[(id, "pass")])
                    };
                    let v = run(&r, &i).await;
                    let got = if mech == "spf" {
                        v.spf_aligned
                    } else {
                        v.dkim_aligned
                    };
                    assert_eq!(got, want, "{m} {name} {mech}: {v:?}");
                    assert_eq!(
                        v.result,
                        if want {
                            DmarcResult::Pass
                        } else {
                            DmarcResult::Fail
                        },
                        "{m} {name} {mech}"
                    );
                    // A failing identifier never aligns, whatever its domain.
                    let i = if mech == "spf" {
                        input("news.example.com", Some((id, "fail")), &[])
                    } else {
                        input("news.example.com", None, &[(id, "fail")])
                    };
                    assert_eq!(
                        run(&r, &i).await.result,
                        DmarcResult::Fail,
                        "{m} {name} {mech} fail"
                    );
                }
            }
        }
    }

    #[tokio::test]
    async fn adkim_and_aspf_are_independent() {
        let r = MemoryResolver::from_records([txt(
            "_dmarc.example.com",
            "v=DMARC1; p=reject; adkim=s",
        )]);
        let v = run(
            &r,
            &input(
                "example.com",
                Some(("mail.example.com", "pass")),
                &[("mail.example.com", "pass")],
            ),
        )
        .await;
        assert!(v.spf_aligned);
        assert!(!v.dkim_aligned);
        assert_eq!(v.result, DmarcResult::Pass);
    }

    #[tokio::test]
    async fn any_passing_aligned_signature_is_enough() {
        let r = MemoryResolver::from_records([txt("_dmarc.example.com", "v=DMARC1; p=reject")]);
        let v = run(
            &r,
            &input(
                "example.com",
                None,
                &[
                    ("esp.test", "pass"),
                    ("example.com", "fail"),
                    ("example.com", "pass"),
                ],
            ),
        )
        .await;
        assert_eq!(v.result, DmarcResult::Pass);
        assert_eq!(
            v.dkim.iter().map(|c| c.aligned).collect::<Vec<_>>(),
            [false, false, true]
        );
    }

    #[tokio::test]
    async fn fail_applies_p_and_disposition() {
        let r = MemoryResolver::from_records([txt(
            "_dmarc.example.com",
            "v=DMARC1; p=reject; sp=quarantine",
        )]);
        let v = run(&r, &input("example.com", Some(("esp.test", "pass")), &[])).await;
        assert_eq!(v.result, DmarcResult::Fail);
        assert_eq!(
            (v.policy, v.policy_source, v.disposition),
            (Some(Policy::Reject), Some(PolicySource::P), Policy::Reject)
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["result"], "fail");
        let ar = v.auth_result();
        assert_eq!(
            ar.comment.as_deref(),
            Some("p=reject sp=quarantine dis=reject")
        );
        assert_eq!(ar.property("policy", "dmarc"), Some("reject"));
        assert_eq!(ar.property("header", "from"), Some("example.com"));
        assert_eq!(json["policy"], "reject");
    }

    /// RFC 9989 §4.10.1: p vs sp vs np, with the existence check np needs.
    #[tokio::test]
    async fn policy_selection() {
        let r = MemoryResolver::from_records([
            txt(
                "_dmarc.example.com",
                "v=DMARC1; p=reject; sp=quarantine; np=none",
            ),
            a("exists.example.com"),
            txt("_dmarc.nosp.test", "v=DMARC1; p=quarantine; np=reject"),
            a("exists.nosp.test"),
            txt("_dmarc.nonp.test", "v=DMARC1; p=reject; sp=none"),
        ]);
        let cases = [
            ("example.com", Policy::Reject, PolicySource::P),
            ("exists.example.com", Policy::Quarantine, PolicySource::Sp),
            ("ghost.example.com", Policy::None, PolicySource::Np),
            ("exists.nosp.test", Policy::Quarantine, PolicySource::Sp),
            ("ghost.nosp.test", Policy::Reject, PolicySource::Np),
            ("ghost.nonp.test", Policy::None, PolicySource::Sp),
        ];
        for (from, policy, source) in cases {
            let v = run(&r, &input(from, None, &[])).await;
            assert_eq!(
                (v.policy, v.policy_source),
                (Some(policy), Some(source)),
                "{from}"
            );
            assert_eq!(v.disposition, policy, "{from}");
        }
    }

    #[tokio::test]
    async fn psd_policy_and_psd_n() {
        let r = MemoryResolver::from_records([
            txt(
                "_dmarc.bank",
                "v=DMARC1; p=reject; sp=quarantine; np=reject; psd=y",
            ),
            a("real.bank"),
            txt("_dmarc.dept.corp.test", "v=DMARC1; p=quarantine; psd=n"),
            txt("_dmarc.corp.test", "v=DMARC1; p=none"),
        ]);
        // PSD policy: the org domain (one label below .bank) has no record of its own.
        let v = run(&r, &input("real.bank", None, &[])).await;
        assert_eq!(v.org_domain.as_deref(), Some("real.bank"));
        assert_eq!(v.record_domain.as_deref(), Some("bank"));
        assert_eq!(
            (v.policy, v.policy_source),
            (Some(Policy::Quarantine), Some(PolicySource::Sp))
        );
        let v = run(&r, &input("fake.bank", None, &[])).await;
        assert_eq!(
            (v.policy, v.policy_source),
            (Some(Policy::Reject), Some(PolicySource::Np))
        );
        // psd=y org: mail.real.bank and real.bank are aligned, other.bank is not.
        let v = run(
            &r,
            &input(
                "real.bank",
                Some(("mail.real.bank", "pass")),
                &[("other.bank", "pass")],
            ),
        )
        .await;
        assert!(v.spf_aligned && !v.dkim_aligned, "{v:?}");
        // psd=n: dept.corp.test is its own org domain; corp.test does not align with it.
        let v = run(
            &r,
            &input(
                "x.dept.corp.test",
                Some(("corp.test", "pass")),
                &[("y.dept.corp.test", "pass")],
            ),
        )
        .await;
        assert_eq!(v.org_domain.as_deref(), Some("dept.corp.test"));
        assert!(!v.spf_aligned && v.dkim_aligned, "{v:?}");
    }

    /// A From domain of nine labels: at most eight discovery queries, policy from the org domain.
    #[tokio::test]
    async fn nine_label_from_domain() {
        let r = MemoryResolver::from_records([txt(
            "_dmarc.example.com",
            "v=DMARC1; p=reject; sp=quarantine",
        )]);
        let from = "a.b.c.d.e.f.g.example.com";
        let v = run(&r, &input(from, None, &[(from, "pass")])).await;
        assert_eq!(v.result, DmarcResult::Pass);
        assert!(v.queries.len() <= 8);
        assert_eq!(v.org_domain.as_deref(), Some("example.com"));
        let v = run(&r, &input(from, None, &[("z.example.com", "pass")])).await;
        assert_eq!(v.result, DmarcResult::Pass, "{v:?}");
        let v = run(&r, &input(from, None, &[])).await;
        assert_eq!(v.policy, Some(Policy::Quarantine));
    }

    #[tokio::test]
    async fn testing_lowers_the_disposition() {
        for (p, disposition) in [
            ("reject", Policy::Quarantine),
            ("quarantine", Policy::None),
            ("none", Policy::None),
        ] {
            let r = MemoryResolver::from_records([txt(
                "_dmarc.example.com",
                &format!("v=DMARC1; p={p}; t=y"),
            )]);
            let v = run(&r, &input("example.com", None, &[])).await;
            assert_eq!(v.result, DmarcResult::Fail);
            assert!(v.testing);
            assert_eq!(v.disposition, disposition, "{p}");
            assert_eq!(v.policy, Policy::parse(p));
        }
    }

    #[tokio::test]
    async fn no_record_is_none_and_obsolete_pct_is_not_applied() {
        let r =
            MemoryResolver::from_records([txt("_dmarc.example.com", "v=DMARC1; p=reject; pct=0")]);
        let v = run(
            &r,
            &input("example.org", Some(("example.org", "pass")), &[]),
        )
        .await;
        assert_eq!(
            (v.result, v.policy, v.disposition),
            (DmarcResult::None, None, Policy::None)
        );
        let v = run(&r, &input("example.com", None, &[])).await;
        assert_eq!(v.disposition, Policy::Reject);
    }

    #[tokio::test]
    async fn dns_failures_are_temperror() {
        let base = MemoryResolver::from_records([
            txt(
                "_dmarc.example.com",
                "v=DMARC1; p=reject; np=reject; sp=none",
            ),
            txt("_dmarc.mail.example.com", "v=DMARC1; p=none"),
        ]);
        // Discovery itself fails.
        let mut plan = FaultPlan::new();
        plan.add("_dmarc.example.com", Fault::Timeout, []);
        let r = FaultResolver::new(base.clone(), plan);
        let v = run(&r, &input("example.com", None, &[("example.com", "pass")])).await;
        assert_eq!(v.result, DmarcResult::TempError);
        assert_eq!(v.disposition, Policy::None);
        // The identifier's walk fails: temperror unless another identifier aligns.
        let mut plan = FaultPlan::new();
        plan.add("_dmarc.bounce.mail.example.com", Fault::ServFail, []);
        let r = FaultResolver::new(base.clone(), plan);
        let v = run(
            &r,
            &input(
                "example.com",
                Some(("bounce.mail.example.com", "pass")),
                &[],
            ),
        )
        .await;
        assert_eq!(v.result, DmarcResult::TempError, "{v:?}");
        let v = run(
            &r,
            &input(
                "example.com",
                Some(("bounce.mail.example.com", "pass")),
                &[("example.com", "pass")],
            ),
        )
        .await;
        assert_eq!(v.result, DmarcResult::Pass);
        // The existence check np needs fails.
        let mut plan = FaultPlan::new();
        plan.add("ghost.example.com", Fault::Timeout, []);
        let r = FaultResolver::new(base, plan);
        let v = run(&r, &input("ghost.example.com", None, &[])).await;
        assert_eq!(v.result, DmarcResult::TempError);
    }

    #[tokio::test]
    async fn bad_from_domain_is_permerror() {
        let v = run(&MemoryResolver::new(), &input("not a domain", None, &[])).await;
        assert_eq!(v.result, DmarcResult::PermError);
        assert!(v.reason.contains("'not a domain'"));
    }

    #[tokio::test]
    async fn public_suffix_method_differs_where_the_walk_sees_more() {
        let r = MemoryResolver::from_records([
            txt("_dmarc.example.com", "v=DMARC1; p=reject"),
            txt("_dmarc.dept.example.com", "v=DMARC1; p=reject; psd=n"),
        ]);
        let i = input("dept.example.com", Some(("example.com", "pass")), &[]);
        assert_eq!(
            evaluate(&r, &i, OrgDomainMethod::TreeWalk).await.result,
            DmarcResult::Fail
        );
        assert_eq!(
            evaluate(&r, &i, OrgDomainMethod::PublicSuffix).await.result,
            DmarcResult::Pass
        );
    }
}
