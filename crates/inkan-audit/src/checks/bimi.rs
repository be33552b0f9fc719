//! BIMI's dependence on DMARC (`bimi.dmarc`): a logo is shown only for mail from a domain whose
//! DMARC policy is at enforcement, as the BIMI specification
//! (draft-brand-indicators-for-message-identification, "DMARC policy requirements") and the
//! mailbox providers require: the policy applied to the domain is `quarantine` or `reject`, not
//! in testing (`t=y`), with no `pct` below 100; and the Organizational Domain's own policy is
//! enforcing too, with a subdomain policy `sp` other than `none`.
//!
//! Made only when the domain publishes a BIMI record asking for a logo; the DMARC records come
//! from the discovery the DMARC checks already made, plus the Organizational Domain's record
//! when another record applies to the domain.

use inkan_auth::dmarc::{DmarcRecord, Policy};
use serde_json::json;

use super::dmarc::Found;
use crate::lookup::Lookup;
use crate::report::{Category, Check, Status};

fn check(status: Status, message: String) -> Check {
    Check::new("bimi.dmarc", Category::Bimi, status, &[], message)
}

/// What keeps DMARC from counting as enforcement, each said once: the same record may be both
/// the one applied and the Organizational Domain's.
#[derive(Debug, Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, problem: String) {
        if !self.0.contains(&problem) {
            self.0.push(problem);
        }
    }

    /// `t=y` and a `pct` below 100 in `record`, published at `_dmarc.<at>`.
    fn record(&mut self, record: &DmarcRecord, at: &str) {
        if record.testing {
            self.add(format!("t=y (testing mode) at _dmarc.{at}"));
        }
        if let Some(pct) = record.pct.as_deref().map(str::trim)
            && pct != "100"
        {
            self.add(format!("pct={pct} at _dmarc.{at} (BIMI needs 100)"));
        }
    }
}

/// The Organizational Domain's DMARC record, when it is not the one discovery found.
async fn org_record(lookup: &Lookup<'_>, org: &str) -> Result<Option<DmarcRecord>, String> {
    let name = format!("_dmarc.{org}");
    let texts = lookup
        .txt(&name)
        .await
        .map_err(|e| format!("the {name} lookup failed ({})", e.kind))?;
    let mut records = texts.iter().filter(|t| t.starts_with("v=DMARC1"));
    match (records.next(), records.next()) {
        (Some(one), None) => Ok(DmarcRecord::parse(one).ok()),
        _ => Ok(None),
    }
}

/// `bimi.dmarc` for `domain`, given what DMARC discovery found.
pub async fn dmarc_enforcement(lookup: &Lookup<'_>, domain: &str, found: &Found) -> Check {
    let discovery = match found {
        Found::Failed {
            temporary: true,
            reason,
        } => {
            return check(
                Status::Unknown,
                format!("DMARC could not be looked up ({reason}), so BIMI eligibility is unknown"),
            );
        }
        Found::Failed {
            temporary: false,
            reason,
        } => {
            return check(
                Status::Fail,
                format!("a BIMI record is published, but DMARC cannot be evaluated ({reason}): no logo will be shown"),
            )
            .fix(format!("publish one valid record at _dmarc.{domain} with p=quarantine or p=reject"));
        }
        Found::Ambiguous => {
            return check(
                Status::Fail,
                format!("a BIMI record is published, but _dmarc.{domain} holds several DMARC records, so no policy applies: no logo will be shown"),
            )
            .fix(format!("keep exactly one v=DMARC1 record at _dmarc.{domain}, with p=quarantine or p=reject"));
        }
        Found::Discovered(d) => d,
    };
    let org = discovery.org_domain.as_str();
    let (Some(record), Some(record_domain)) = (&discovery.record, &discovery.record_domain) else {
        return check(
            Status::Fail,
            format!("a BIMI record is published, but no DMARC record applies to {domain}: no logo will be shown"),
        )
        .evidence(json!({ "org_domain": org, "record_domain": null }))
        .fix(format!("publish _dmarc.{org} TXT \"v=DMARC1; p=reject\" (or p=quarantine), then keep the BIMI record"));
    };
    let applied = if record_domain == domain {
        record.p
    } else {
        record.sp.unwrap_or(record.p)
    };
    let mut problems = Problems::default();
    if applied == Policy::None {
        let tag = if record_domain == domain || record.sp.is_none() {
            "p"
        } else {
            "sp"
        };
        problems.add(format!("{tag}=none at _dmarc.{record_domain}"));
    }
    problems.record(record, record_domain);

    let org_found = if record_domain == org {
        Ok(Some(record.clone()))
    } else {
        org_record(lookup, org).await
    };
    let org_record = match org_found {
        Err(reason) => {
            return check(
                Status::Unknown,
                format!("{reason}, so BIMI eligibility is unknown"),
            );
        }
        Ok(r) => r,
    };
    match &org_record {
        None => problems.add(format!(
            "no valid DMARC record at the organizational domain ({org})"
        )),
        Some(o) => {
            if domain != org && o.p == Policy::None {
                problems.add(format!("p=none at _dmarc.{org}"));
            }
            if o.sp == Some(Policy::None) {
                problems.add(format!("sp=none at _dmarc.{org}"));
            }
            problems.record(o, org);
        }
    }
    let problems = problems.0;
    let org_note = if domain == org {
        String::new()
    } else {
        format!(" ({org} is the organizational domain)")
    };
    let evidence = json!({
        "org_domain": org,
        "record_domain": record_domain,
        "applied_policy": applied.as_str(),
        "record": record,
        "org_record": org_record,
        "problems": problems,
    });
    if problems.is_empty() {
        check(
            Status::Pass,
            format!(
                "DMARC is at enforcement ({} applied, from _dmarc.{record_domain}): receivers may show the BIMI logo",
                applied.as_str()
            ),
        )
        .evidence(evidence)
    } else {
        check(
            Status::Fail,
            format!(
                "a BIMI record is published, but DMARC is not at enforcement: {}{org_note}; receivers will not show the logo",
                problems.join("; ")
            ),
        )
        .evidence(evidence)
        .fix(if record_domain == org {
            format!("publish p=quarantine or p=reject at _dmarc.{org}, with no t=y, no pct below 100 and no sp=none")
        } else {
            format!("publish p=quarantine or p=reject at _dmarc.{record_domain} and at _dmarc.{org}, with no t=y, no pct below 100 and no sp=none at _dmarc.{org}")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_auth::dmarc::{OrgDomainMethod, discover};
    use inkan_dns::MemoryResolver;
    use std::time::Duration;

    async fn judge(zone: &str, domain: &str) -> Check {
        let resolver = MemoryResolver::from_zone_text(zone, None, "bimi-test.zone").unwrap();
        let lookup = Lookup::new(&resolver, Duration::ZERO);
        let found = Found::Discovered(Box::new(
            discover(&lookup, domain, OrgDomainMethod::TreeWalk)
                .await
                .unwrap(),
        ));
        dmarc_enforcement(&lookup, domain, &found).await
    }

    const ZONE: &str = "$ORIGIN example.\n\
        _dmarc.reject 300 IN TXT \"v=DMARC1; p=reject\"\n\
        _dmarc.none 300 IN TXT \"v=DMARC1; p=none\"\n\
        _dmarc.pct 300 IN TXT \"v=DMARC1; p=quarantine; pct=50\"\n\
        _dmarc.spnone 300 IN TXT \"v=DMARC1; p=reject; sp=none\"\n\
        _dmarc.testing 300 IN TXT \"v=DMARC1; p=reject; t=y\"\n\
        _dmarc.sub.none 300 IN TXT \"v=DMARC1; p=reject\"\n";

    #[tokio::test]
    async fn enforcement_cases() {
        assert_eq!(judge(ZONE, "reject.example").await.status, Status::Pass);
        let none = judge(ZONE, "none.example").await;
        assert_eq!(none.status, Status::Fail);
        assert!(none.message.contains("p=none"), "{}", none.message);
        assert!(none.fix.unwrap().contains("p=quarantine or p=reject"));
        assert!(judge(ZONE, "pct.example").await.message.contains("pct=50"));
        let sp = judge(ZONE, "spnone.example").await;
        assert!(sp.message.contains("sp=none"), "{}", sp.message);
        assert!(judge(ZONE, "testing.example").await.message.contains("t=y"));
        // A subdomain at p=reject under an organizational domain at p=none still fails.
        let sub = judge(ZONE, "sub.none.example").await;
        assert_eq!(sub.status, Status::Fail);
        assert!(
            sub.message.contains("organizational domain"),
            "{}",
            sub.message
        );
        let missing = judge(ZONE, "nothing.example").await;
        assert_eq!(missing.status, Status::Fail);
        assert!(missing.message.contains("no DMARC record"));
    }
}
