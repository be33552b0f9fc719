//! What an audit says about one domain: checks with a status, the rules each one evidences,
//! and a verdict per profile derived from them.
//!
//! A check's status is one of pass, fail, warn, unknown (DNS could not be asked: timeout,
//! SERVFAIL) and skip (not applicable or not asked for). A rule's outcome combines the checks
//! that name it; a profile's verdict combines its DNS-judged rules: any fail → fail, else any
//! unknown → unknown, else pass.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::catalogue::{Catalogue, Combine, Evidence, Profile, Rule};

/// The outcome of one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The published records meet the requirement.
    Pass,
    /// They do not.
    Fail,
    /// They meet it, but something deserves attention.
    Warn,
    /// DNS could not answer (timeout, SERVFAIL after a retry), or nothing could be found where
    /// finding nothing proves nothing (DKIM selector discovery).
    Unknown,
    /// Not applicable, or not asked for (no `--sending-ip`, no optional record).
    Skip,
}

impl Status {
    /// Every status, in display order.
    pub const ALL: [Status; 5] = [
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::Unknown,
        Status::Skip,
    ];

    /// The lower-case word used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Unknown => "unknown",
            Status::Skip => "skip",
        }
    }

    /// Position in [`Status::ALL`], for counters.
    pub fn index(self) -> usize {
        match self {
            Status::Pass => 0,
            Status::Fail => 1,
            Status::Warn => 2,
            Status::Unknown => 3,
            Status::Skip => 4,
        }
    }
}

/// What a check is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Category {
    /// SPF (RFC 7208).
    #[serde(rename = "spf")]
    Spf,
    /// DKIM keys (RFC 6376, RFC 8301, RFC 8463).
    #[serde(rename = "dkim")]
    Dkim,
    /// DMARC (RFC 9989).
    #[serde(rename = "dmarc")]
    Dmarc,
    /// The domain itself.
    #[serde(rename = "domain")]
    Domain,
    /// Mail exchangers (RFC 5321 §5.1, RFC 7505).
    #[serde(rename = "mx")]
    Mx,
    /// Reverse DNS of the sending addresses.
    #[serde(rename = "ptr")]
    Ptr,
    /// MTA-STS (RFC 8461).
    #[serde(rename = "mta-sts")]
    MtaSts,
    /// SMTP TLS reporting (RFC 8460).
    #[serde(rename = "tls-rpt")]
    TlsRpt,
    /// BIMI.
    #[serde(rename = "bimi")]
    Bimi,
}

impl Category {
    /// The word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Spf => "spf",
            Category::Dkim => "dkim",
            Category::Dmarc => "dmarc",
            Category::Domain => "domain",
            Category::Mx => "mx",
            Category::Ptr => "ptr",
            Category::MtaSts => "mta-sts",
            Category::TlsRpt => "tls-rpt",
            Category::Bimi => "bimi",
        }
    }
}

/// One finding about one domain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    /// Stable id, e.g. `spf.lookups`, `dkim.selector`.
    pub id: &'static str,
    /// What it is about.
    pub category: Category,
    /// The outcome.
    pub status: Status,
    /// The catalogue rules this check is evidence for.
    pub rules: Vec<&'static str>,
    /// One sentence for a person.
    pub message: String,
    /// What was seen in DNS (records, names, counts).
    pub evidence: serde_json::Value,
    /// What to publish or change, when the status is not pass.
    pub fix: Option<String>,
}

impl Check {
    /// A check with no evidence and no fix yet.
    pub fn new(
        id: &'static str,
        category: Category,
        status: Status,
        rules: &[&'static str],
        message: impl Into<String>,
    ) -> Check {
        Check {
            id,
            category,
            status,
            rules: rules.to_vec(),
            message: message.into(),
            evidence: serde_json::Value::Null,
            fix: None,
        }
    }

    /// Sets the evidence.
    pub fn evidence(mut self, evidence: serde_json::Value) -> Check {
        self.evidence = evidence;
        self
    }

    /// Sets the fix.
    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

/// A rule's or a profile's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Everything judged passes.
    Pass,
    /// Something fails.
    Fail,
    /// Nothing fails, but something could not be judged.
    Unknown,
}

impl Verdict {
    /// The lower-case word used in JSON and text.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unknown => "unknown",
        }
    }

    /// Position in pass/fail/unknown order, for counters.
    pub fn index(self) -> usize {
        match self {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
            Verdict::Unknown => 2,
        }
    }
}

/// The outcome of one rule for one domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleOutcome {
    /// Judged.
    Judged(Verdict),
    /// Every check behind it was skipped (e.g. PTR without `--sending-ip`): it does not count.
    NotChecked,
}

/// Everything an audit found about one domain.
#[derive(Clone, Debug, PartialEq)]
pub struct DomainReport {
    /// The domain as audited (A-labels).
    pub domain: String,
    /// The checks, in the order they were made.
    pub checks: Vec<Check>,
    /// The verdict per profile, in catalogue order.
    pub verdicts: Vec<(String, Verdict)>,
}

impl DomainReport {
    /// Builds the report and its verdicts for every profile of `catalogue`.
    pub fn new(domain: String, checks: Vec<Check>, catalogue: &Catalogue) -> DomainReport {
        let verdicts = catalogue
            .profiles
            .iter()
            .map(|p| (p.id.clone(), profile_verdict(catalogue, p, &checks)))
            .collect();
        DomainReport {
            domain,
            checks,
            verdicts,
        }
    }

    /// The verdict for one profile.
    pub fn verdict(&self, profile: &str) -> Option<Verdict> {
        self.verdicts
            .iter()
            .find(|(p, _)| p == profile)
            .map(|(_, v)| *v)
    }

    /// How many checks ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }
}

impl Serialize for DomainReport {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Verdicts<'a>(&'a [(String, Verdict)]);
        impl Serialize for Verdicts<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (profile, verdict) in self.0 {
                    map.serialize_entry(profile, verdict)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("domain", &self.domain)?;
        map.serialize_entry("checks", &self.checks)?;
        map.serialize_entry("verdicts", &Verdicts(&self.verdicts))?;
        map.end()
    }
}

/// Folds statuses: any fail → fail; else any unknown → unknown; else pass when something was
/// judged (pass or warn); None when everything was skipped.
fn fold<'a>(checks: impl Iterator<Item = &'a Check>) -> Option<Verdict> {
    let (mut fail, mut unknown, mut judged) = (false, false, false);
    for c in checks {
        match c.status {
            Status::Fail => fail = true,
            Status::Unknown => unknown = true,
            Status::Pass | Status::Warn => judged = true,
            Status::Skip => {}
        }
    }
    if fail {
        Some(Verdict::Fail)
    } else if unknown {
        Some(Verdict::Unknown)
    } else if judged {
        Some(Verdict::Pass)
    } else {
        None
    }
}

/// The outcome of `rule` given a domain's checks. A DNS rule no check names is unknown: the
/// audit could not judge it.
pub fn rule_outcome(rule: &Rule, checks: &[Check]) -> RuleOutcome {
    let naming = || {
        checks
            .iter()
            .filter(|c| c.rules.iter().any(|r| *r == rule.id))
    };
    if naming().next().is_none() {
        return RuleOutcome::Judged(Verdict::Unknown);
    }
    let outcome = match rule.combine {
        Combine::All => fold(naming()),
        Combine::Any => {
            let mut categories: Vec<Category> = naming().map(|c| c.category).collect();
            categories.sort();
            categories.dedup();
            let per: Vec<Verdict> = categories
                .into_iter()
                .filter_map(|cat| fold(naming().filter(|c| c.category == cat)))
                .collect();
            if per.is_empty() {
                None
            } else if per.contains(&Verdict::Pass) {
                Some(Verdict::Pass)
            } else if per.contains(&Verdict::Unknown) {
                Some(Verdict::Unknown)
            } else {
                Some(Verdict::Fail)
            }
        }
    };
    outcome.map_or(RuleOutcome::NotChecked, RuleOutcome::Judged)
}

/// The DNS-judged rules of a profile with their outcomes, in catalogue order.
pub fn profile_rule_outcomes<'a>(
    catalogue: &'a Catalogue,
    profile: &'a Profile,
    checks: &'a [Check],
) -> impl Iterator<Item = (&'a Rule, RuleOutcome)> + 'a {
    catalogue
        .profile_rules(profile)
        .filter(|r| r.evidence == Evidence::Dns)
        .map(move |r| (r, rule_outcome(r, checks)))
}

/// A profile's verdict: any rule fails → fail; else any unknown → unknown; else pass.
pub fn profile_verdict(catalogue: &Catalogue, profile: &Profile, checks: &[Check]) -> Verdict {
    let mut unknown = false;
    for (_, outcome) in profile_rule_outcomes(catalogue, profile, checks) {
        match outcome {
            RuleOutcome::Judged(Verdict::Fail) => return Verdict::Fail,
            RuleOutcome::Judged(Verdict::Unknown) => unknown = true,
            RuleOutcome::Judged(Verdict::Pass) | RuleOutcome::NotChecked => {}
        }
    }
    if unknown {
        Verdict::Unknown
    } else {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        id: &'static str,
        category: Category,
        status: Status,
        rules: &[&'static str],
    ) -> Check {
        Check::new(id, category, status, rules, "m")
    }

    #[test]
    fn any_rule_passes_when_one_category_passes_entirely() {
        let c = Catalogue::builtin();
        let rule = c.rule("gmail.spf-or-dkim").unwrap();
        let r = ["gmail.spf-or-dkim"];
        let checks = vec![
            check("spf.record", Category::Spf, Status::Pass, &r),
            check("spf.lookups", Category::Spf, Status::Fail, &r),
            check("dkim.selector", Category::Dkim, Status::Pass, &r),
        ];
        assert_eq!(
            rule_outcome(rule, &checks),
            RuleOutcome::Judged(Verdict::Pass)
        );
        let checks = vec![
            check("spf.record", Category::Spf, Status::Fail, &r),
            check("dkim.discovery", Category::Dkim, Status::Unknown, &r),
        ];
        assert_eq!(
            rule_outcome(rule, &checks),
            RuleOutcome::Judged(Verdict::Unknown)
        );
        let checks = vec![
            check("spf.record", Category::Spf, Status::Fail, &r),
            check("dkim.selector", Category::Dkim, Status::Fail, &r),
        ];
        assert_eq!(
            rule_outcome(rule, &checks),
            RuleOutcome::Judged(Verdict::Fail)
        );
    }

    #[test]
    fn unnamed_dns_rule_is_unknown_and_skipped_rule_does_not_count() {
        let c = Catalogue::builtin();
        let ptr = c.rule("gmail.ptr").unwrap();
        assert_eq!(
            rule_outcome(ptr, &[]),
            RuleOutcome::Judged(Verdict::Unknown)
        );
        let skipped = [check(
            "ptr.fcrdns",
            Category::Ptr,
            Status::Skip,
            &["gmail.ptr"],
        )];
        assert_eq!(rule_outcome(ptr, &skipped), RuleOutcome::NotChecked);
    }

    #[test]
    fn warn_passes_fail_beats_unknown() {
        let c = Catalogue::builtin();
        let rule = c.rule("yahoo.domain-resolves").unwrap();
        let r = ["yahoo.domain-resolves"];
        let warn = [check("a", Category::Domain, Status::Warn, &r)];
        assert_eq!(
            rule_outcome(rule, &warn),
            RuleOutcome::Judged(Verdict::Pass)
        );
        let mixed = [
            check("a", Category::Domain, Status::Unknown, &r),
            check("b", Category::Domain, Status::Fail, &r),
        ];
        assert_eq!(
            rule_outcome(rule, &mixed),
            RuleOutcome::Judged(Verdict::Fail)
        );
    }

    #[test]
    fn json_shape_is_the_contract() {
        let c = Catalogue::builtin();
        let checks = vec![check("mx.present", Category::Mx, Status::Pass, &[]).fix("x")];
        let report = DomainReport::new("example.test".into(), checks, c);
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["domain"], "example.test");
        assert_eq!(v["checks"][0]["id"], "mx.present");
        assert_eq!(v["checks"][0]["category"], "mx");
        assert_eq!(v["checks"][0]["status"], "pass");
        assert_eq!(v["checks"][0]["fix"], "x");
        let keys: Vec<&String> = v["verdicts"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 7);
        assert_eq!(v["verdicts"]["all-bulk"], "unknown");
    }
}
