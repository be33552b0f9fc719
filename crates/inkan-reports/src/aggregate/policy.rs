//! `<policy_published>`: the DMARC record the reporter found (RFC 9990 section 3.1.2; RFC 7489
//! appendix C): `p`, `sp`, `np`, alignment modes, `testing` (RFC 9989's `t`), the discovery
//! method, and RFC 7489's `pct`.

use serde::Serialize;

use super::value;
use super::xml::Node;
use crate::warnings::Warnings;

/// The published policy as the reporter saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PolicyPublished {
    /// `<domain>`: the domain the report is about.
    pub domain: String,
    /// `<p>`.
    pub p: Option<String>,
    /// `<sp>`.
    pub sp: Option<String>,
    /// `<np>` (RFC 9990).
    pub np: Option<String>,
    /// `<adkim>`: `r` or `s`.
    pub adkim: Option<String>,
    /// `<aspf>`: `r` or `s`.
    pub aspf: Option<String>,
    /// `<pct>` (RFC 7489; gone in RFC 9989).
    pub pct: Option<i64>,
    /// `<fo>`.
    pub fo: Option<String>,
    /// `<testing>` (RFC 9990): `y` or `n`.
    pub testing: Option<String>,
    /// `<discovery_method>` (RFC 9990): `psl` or `treewalk`.
    pub discovery_method: Option<String>,
    /// Elements this schema does not know, as `path = value`.
    pub extra: Vec<(String, String)>,
}

impl PolicyPublished {
    pub(crate) fn from_node(node: &Node, warnings: &mut Warnings) -> PolicyPublished {
        let mut policy = PolicyPublished::default();
        for child in &node.children {
            let text = Some(child.text.as_str());
            match child.name.as_str() {
                "domain" => policy.domain = value::domain(text).unwrap_or_default(),
                "p" => policy.p = value::opt_token(text, "p", warnings),
                "sp" => policy.sp = value::opt_token(text, "sp", warnings),
                "np" => policy.np = value::opt_token(text, "np", warnings),
                "adkim" => policy.adkim = value::opt_token(text, "adkim", warnings),
                "aspf" => policy.aspf = value::opt_token(text, "aspf", warnings),
                "pct" => policy.pct = value::integer(text, "pct", warnings),
                "fo" => policy.fo = value::opt_token(text, "fo", warnings),
                "testing" => policy.testing = value::opt_token(text, "testing", warnings),
                "discovery_method" => {
                    policy.discovery_method = value::opt_token(text, "discovery_method", warnings);
                }
                _ => child.flatten_into("policy_published", &mut policy.extra),
            }
        }
        policy
    }
}
