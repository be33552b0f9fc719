//! DMARC as RFC 9989 defines it: the policy record ([`record`]), policy discovery and the
//! Organizational Domain by the DNS Tree Walk of §4.10, or RFC 7489's public-suffix method for
//! comparison ([`orgdomain`]), and the receiver's evaluation of identifier alignment, result,
//! applicable policy and disposition (§4.4, §5.3; [`evaluate`]).
//!
//! The vocabulary shared by those three lives here.

mod author;
mod evaluate;
mod orgdomain;
mod record;

use serde::Serialize;

pub use author::{AuthorError, author_domain};
pub use evaluate::{
    DkimIdentifier, DmarcInput, DmarcVerdict, IdentifierCheck, PolicySource, SpfIdentifier,
    SpfScope, evaluate,
};
pub use orgdomain::{
    Discovery, OrgDomainMethod, discover, organizational_domain, psl_organizational_domain,
};
pub use record::{DmarcRecord, RecordError, RecordWarning, WarningKind};

/// A Domain Owner Assessment Policy (`p`, `sp`, `np`), RFC 9989 §4.7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// No preference expressed.
    None,
    /// Treat failing mail as suspicious.
    Quarantine,
    /// Reject failing mail.
    Reject,
}

impl Policy {
    /// The tag value, as published and as `policy.dmarc` in RFC 8601 headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
        }
    }

    /// Parses a policy value; DMARC values are case-insensitive in practice, matched as such.
    pub fn parse(value: &str) -> Option<Policy> {
        [Policy::None, Policy::Quarantine, Policy::Reject]
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(value))
    }

    /// The policy one level lower, as `t=y` asks (RFC 9989 §4.7, tag `t`).
    pub fn one_level_lower(self) -> Policy {
        match self {
            Policy::Reject => Policy::Quarantine,
            Policy::Quarantine | Policy::None => Policy::None,
        }
    }
}

/// Identifier alignment mode (`adkim`, `aspf`), RFC 9989 §4.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Alignment {
    /// Same Organizational Domain.
    #[serde(rename = "r")]
    Relaxed,
    /// Identical domains.
    #[serde(rename = "s")]
    Strict,
}

impl Alignment {
    /// The tag value: `r` or `s`.
    pub fn as_str(self) -> &'static str {
        match self {
            Alignment::Relaxed => "r",
            Alignment::Strict => "s",
        }
    }
}

/// The `psd` flag, RFC 9989 §4.7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum PsdFlag {
    /// `psd=y`: the publishing domain is a Public Suffix Domain.
    #[serde(rename = "y")]
    Yes,
    /// `psd=n`: the publishing domain is an Organizational Domain.
    #[serde(rename = "n")]
    No,
    /// `psd=u` or absent: decided by the tree walk.
    #[serde(rename = "u")]
    Unknown,
}

impl PsdFlag {
    /// The tag value: `y`, `n` or `u`.
    pub fn as_str(self) -> &'static str {
        match self {
            PsdFlag::Yes => "y",
            PsdFlag::No => "n",
            PsdFlag::Unknown => "u",
        }
    }
}

/// The DMARC result, with the RFC 8601 §2.7.1 tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DmarcResult {
    /// An aligned identifier passed.
    Pass,
    /// A policy record applies and no aligned identifier passed.
    Fail,
    /// No DMARC policy record applies.
    None,
    /// A DNS failure kept the evaluation from completing.
    TempError,
    /// The input cannot be evaluated (for example, no usable From domain).
    PermError,
}

impl DmarcResult {
    /// The RFC 8601 result token.
    pub fn as_str(self) -> &'static str {
        match self {
            DmarcResult::Pass => "pass",
            DmarcResult::Fail => "fail",
            DmarcResult::None => "none",
            DmarcResult::TempError => "temperror",
            DmarcResult::PermError => "permerror",
        }
    }
}

/// Why DMARC discovery could not give an answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DmarcError {
    /// A DNS query needed by the tree walk failed (timeout, SERVFAIL, ...).
    #[error("dmarc lookup failed: {0}")]
    Dns(#[from] inkan_dns::DnsError),
    /// The domain is not a usable DNS name.
    #[error("'{domain}' is not a valid domain name: {why}")]
    InvalidDomain {
        /// The domain given.
        domain: String,
        /// What is wrong with it.
        why: String,
    },
}

impl DmarcError {
    /// True when asking again later may give an answer (DMARC temperror).
    pub fn is_temporary(&self) -> bool {
        match self {
            DmarcError::Dns(err) => err.is_temporary(),
            DmarcError::InvalidDomain { .. } => false,
        }
    }
}
