//! SPF, the Sender Policy Framework (RFC 7208): the record vocabulary, results and errors.
//!
//! The work is split by verb: [`parse`] reads a record (RFC 7208 §4.5, §4.6, §5, §6, §12),
//! [`macros`] expands macro-strings (§7), [`eval`] runs `check_host()` (§4–§6, §2.3–§2.4 for the
//! identities) and [`analyze`] diagnoses a domain's whole include tree for operators.

pub mod analyze;
pub mod eval;
pub mod macros;
pub mod parse;

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

pub use analyze::{
    AnalyzedNode, AnalyzedTerm, Finding, FlattenPreview, IpAnswer, Network, NodeStatus, Severity,
    SpfAnalysis, analyze,
};
pub use eval::{
    ExplanationSource, Identity, SpfOutput, SpfParams, SpfReason, SpfVerdict, SpfVerifier,
    TraceStep, check_host,
};
pub use macros::{MacroContext, MacroExpr, MacroLetter, MacroPart, MacroString};
pub use parse::parse_record;

/// The result of `check_host()` (RFC 7208 §2.6), with the RFC 8601 tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpfResult {
    /// The client is authorized to inject mail with the identity (§2.6.3).
    Pass,
    /// The client is not authorized (§2.6.4).
    Fail,
    /// The client is probably not authorized (§2.6.5).
    SoftFail,
    /// The domain owner makes no assertion about the client (§2.6.2).
    Neutral,
    /// No SPF record, or no checkable domain (§2.6.1).
    None,
    /// A transient DNS error; trying later may succeed (§2.6.6).
    TempError,
    /// The published records could not be interpreted (§2.6.7).
    PermError,
}

impl SpfResult {
    /// The RFC 8601 / RFC 7208 token: `pass`, `fail`, `softfail`, `neutral`, `none`,
    /// `temperror`, `permerror`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::None => "none",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl fmt::Display for SpfResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A directive's qualifier (RFC 7208 §4.6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Qualifier {
    /// `+` (the default): pass.
    Pass,
    /// `-`: fail.
    Fail,
    /// `~`: softfail.
    SoftFail,
    /// `?`: neutral.
    Neutral,
}

impl Qualifier {
    /// The result a matching directive with this qualifier produces.
    pub fn result(self) -> SpfResult {
        match self {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }

    /// The qualifier character.
    pub fn as_char(self) -> char {
        match self {
            Qualifier::Pass => '+',
            Qualifier::Fail => '-',
            Qualifier::SoftFail => '~',
            Qualifier::Neutral => '?',
        }
    }
}

/// A mechanism (RFC 7208 §5) with its arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// `all` (§5.1).
    All,
    /// `include:domain-spec` (§5.2).
    Include(MacroString),
    /// `a[:domain-spec][/v4][//v6]` (§5.3).
    A {
        /// The target; the current domain when absent.
        domain: Option<MacroString>,
        /// IPv4 prefix length, 32 by default.
        v4: u8,
        /// IPv6 prefix length, 128 by default.
        v6: u8,
    },
    /// `mx[:domain-spec][/v4][//v6]` (§5.4).
    Mx {
        /// The target; the current domain when absent.
        domain: Option<MacroString>,
        /// IPv4 prefix length, 32 by default.
        v4: u8,
        /// IPv6 prefix length, 128 by default.
        v6: u8,
    },
    /// `ptr[:domain-spec]` (§5.5, "do not use").
    Ptr(Option<MacroString>),
    /// `ip4:network[/len]` (§5.6).
    Ip4 {
        /// The network address.
        addr: Ipv4Addr,
        /// Prefix length, 0–32.
        prefix: u8,
    },
    /// `ip6:network[/len]` (§5.6).
    Ip6 {
        /// The network address.
        addr: Ipv6Addr,
        /// Prefix length, 0–128.
        prefix: u8,
    },
    /// `exists:domain-spec` (§5.7).
    Exists(MacroString),
}

impl Mechanism {
    /// The mechanism's name as written in records.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include(_) => "include",
            Mechanism::A { .. } => "a",
            Mechanism::Mx { .. } => "mx",
            Mechanism::Ptr(_) => "ptr",
            Mechanism::Ip4 { .. } => "ip4",
            Mechanism::Ip6 { .. } => "ip6",
            Mechanism::Exists(_) => "exists",
        }
    }

    /// True for the mechanisms that query DNS and count against the limit of 10 (§4.6.4).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self,
            Mechanism::Include(_)
                | Mechanism::A { .. }
                | Mechanism::Mx { .. }
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }

    /// The domain-spec argument, if any.
    pub fn domain_spec(&self) -> Option<&MacroString> {
        match self {
            Mechanism::Include(d) | Mechanism::Exists(d) => Some(d),
            Mechanism::A { domain, .. } | Mechanism::Mx { domain, .. } | Mechanism::Ptr(domain) => {
                domain.as_ref()
            }
            Mechanism::All | Mechanism::Ip4 { .. } | Mechanism::Ip6 { .. } => None,
        }
    }
}

/// A qualifier with a mechanism, and the text it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The qualifier (`+` when none was written).
    pub qualifier: Qualifier,
    /// The mechanism.
    pub mechanism: Mechanism,
    /// The term exactly as published.
    pub text: Box<str>,
}

/// A modifier other than `redirect=` and `exp=`, kept for the analyzer (RFC 7208 §6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownModifier {
    /// The name before `=`.
    pub name: Box<str>,
    /// The macro-string after `=`.
    pub value: MacroString,
}

/// A parsed SPF record (RFC 7208 §4.5–§4.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpfRecord {
    /// The directives, in order.
    pub directives: Vec<Directive>,
    /// The `redirect=` target (§6.1).
    pub redirect: Option<MacroString>,
    /// The `exp=` target (§6.2).
    pub exp: Option<MacroString>,
    /// Other modifiers, which `check_host()` ignores.
    pub unknown_modifiers: Vec<UnknownModifier>,
    /// The record text as published.
    pub text: Box<str>,
}

impl SpfRecord {
    /// The directive for `all`, if the record has one.
    pub fn all(&self) -> Option<&Directive> {
        self.directives
            .iter()
            .find(|d| matches!(d.mechanism, Mechanism::All))
    }

    /// True when any term uses a macro.
    pub fn uses_macros(&self) -> bool {
        self.directives
            .iter()
            .any(|d| d.mechanism.domain_spec().is_some_and(|m| m.has_macros()))
            || self.redirect.as_ref().is_some_and(MacroString::has_macros)
            || self.exp.as_ref().is_some_and(MacroString::has_macros)
    }
}

/// Why a record, a term or a macro-string could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The record does not start with `v=spf1` followed by a space or its end.
    #[error("record does not start with 'v=spf1'")]
    NotSpf,
    /// A byte outside printable 7-bit ASCII (RFC 7208 §3.1, §4.6.1: terms are separated by
    /// spaces only).
    #[error("byte 0x{byte:02x} at offset {offset} is not printable ASCII")]
    NonAscii {
        /// The offending byte.
        byte: u8,
        /// Its offset in the record.
        offset: usize,
    },
    /// A term names no known mechanism and is not a modifier.
    #[error("unknown mechanism in term '{term}'")]
    UnknownMechanism {
        /// The term.
        term: String,
    },
    /// A term has the shape of a known mechanism but its arguments are wrong.
    #[error("invalid term '{term}': {why}")]
    InvalidTerm {
        /// The term.
        term: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A domain-spec does not end in a macro or a valid top label (RFC 7208 §7.1).
    #[error("invalid domain-spec '{spec}': {why}")]
    InvalidDomainSpec {
        /// The domain-spec.
        spec: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A macro-string has a bad `%` sequence (RFC 7208 §7.1).
    #[error("invalid macro at offset {offset} in '{text}': {why}")]
    InvalidMacro {
        /// The macro-string.
        text: String,
        /// The offset of the `%`.
        offset: usize,
        /// What is wrong.
        why: &'static str,
    },
    /// `redirect=` or `exp=` appears twice (RFC 7208 §6).
    #[error("modifier '{name}' appears more than once")]
    DuplicateModifier {
        /// The modifier name.
        name: &'static str,
    },
    /// The record has more terms than inkan evaluates.
    #[error("record has more than {limit} terms")]
    TooManyTerms {
        /// The limit.
        limit: usize,
    },
    /// The record text is longer than inkan reads.
    #[error("record is {len} bytes long, more than {limit}")]
    TooLong {
        /// The record's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

impl ParseError {
    /// Always false: a record that does not parse gives `permerror` (RFC 7208 §4.6).
    pub fn is_temporary(&self) -> bool {
        match self {
            ParseError::NotSpf
            | ParseError::NonAscii { .. }
            | ParseError::UnknownMechanism { .. }
            | ParseError::InvalidTerm { .. }
            | ParseError::InvalidDomainSpec { .. }
            | ParseError::InvalidMacro { .. }
            | ParseError::DuplicateModifier { .. }
            | ParseError::TooManyTerms { .. }
            | ParseError::TooLong { .. } => false,
        }
    }
}

/// The number of DNS-querying terms `check_host()` evaluates (RFC 7208 §4.6.4).
pub const MAX_DNS_LOOKUPS: u32 = 10;
/// The number of void lookups allowed (RFC 7208 §4.6.4).
pub const MAX_VOID_LOOKUPS: u32 = 2;
/// The number of MX or PTR names looked at per mechanism (RFC 7208 §4.6.4).
pub const MAX_NAME_LOOKUPS: usize = 10;
