//! ARC, the Authenticated Received Chain (RFC 8617): the vocabulary lives here (the three
//! header fields, chain validation states, results and errors); the verbs live in `parse`
//! (the ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results fields, §4.1), `verify`
//! (chain validation, §5.2, with the §5.1.1 seal hashing) and `seal` (adding a set as a
//! forwarder, §5.1).
//!
//! ARC reuses DKIM's tag lists, canonicalization, key records and crypto ([`crate::dkim`]), so
//! the same key rules apply: rsa-sha1 never passes and RSA keys under 1024 bits fail
//! (RFC 8301). A chain has at most [`MAX_INSTANCES`] sets (RFC 8617 §4.2.1); anything beyond is a
//! failure, never more work.

mod parse;
mod seal;
mod verify;

pub use parse::{ArcAuthenticationResults, ArcMessageSignature, ArcSeal, ParseError};
pub use seal::{ArcSet, SealError, SealParams, seal, seal_set};
pub use verify::{ArcOutput, ArcReason, ArcSetSummary, validate, validate_at};

/// The highest instance number a chain may reach (RFC 8617 §4.2.1).
pub const MAX_INSTANCES: u32 = 50;

/// The three ARC header fields (RFC 8617 §4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum ArcHeader {
    /// `ARC-Authentication-Results` (AAR, §4.1.1).
    #[serde(rename = "ARC-Authentication-Results")]
    AuthenticationResults,
    /// `ARC-Message-Signature` (AMS, §4.1.2).
    #[serde(rename = "ARC-Message-Signature")]
    MessageSignature,
    /// `ARC-Seal` (AS, §4.1.3).
    #[serde(rename = "ARC-Seal")]
    Seal,
}

impl ArcHeader {
    /// The field name as RFC 8617 writes it.
    pub fn name(self) -> &'static str {
        match self {
            ArcHeader::AuthenticationResults => "ARC-Authentication-Results",
            ArcHeader::MessageSignature => "ARC-Message-Signature",
            ArcHeader::Seal => "ARC-Seal",
        }
    }

    /// The header a field name denotes, ignoring case.
    pub fn from_name(name: &str) -> Option<ArcHeader> {
        [
            ArcHeader::AuthenticationResults,
            ArcHeader::MessageSignature,
            ArcHeader::Seal,
        ]
        .into_iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for ArcHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A chain validation state: the `cv=` tag of an ARC-Seal (RFC 8617 §4.1.3) and the `arc=`
/// result of a validator (§5.2, RFC 8601 §2.7.x as registered by RFC 8617 §10.1), with the
/// RFC tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArcResult {
    /// No chain: the message carries no ARC sets (`cv=none` on instance 1).
    None,
    /// The chain validated.
    Pass,
    /// The chain is broken.
    Fail,
}

impl ArcResult {
    /// The RFC token.
    pub fn as_str(self) -> &'static str {
        match self {
            ArcResult::None => "none",
            ArcResult::Pass => "pass",
            ArcResult::Fail => "fail",
        }
    }

    /// The state a `cv=` token names (tokens are case-insensitive).
    pub fn from_token(token: &str) -> Option<ArcResult> {
        match token.to_ascii_lowercase().as_str() {
            "none" => Some(ArcResult::None),
            "pass" => Some(ArcResult::Pass),
            "fail" => Some(ArcResult::Fail),
            _ => None,
        }
    }
}

impl std::fmt::Display for ArcResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_round_trip() {
        for h in [
            ArcHeader::AuthenticationResults,
            ArcHeader::MessageSignature,
            ArcHeader::Seal,
        ] {
            assert_eq!(
                ArcHeader::from_name(&h.name().to_ascii_lowercase()),
                Some(h)
            );
        }
        assert_eq!(ArcHeader::from_name("DKIM-Signature"), None);
    }

    #[test]
    fn cv_tokens() {
        assert_eq!(ArcResult::from_token("PASS"), Some(ArcResult::Pass));
        assert_eq!(ArcResult::from_token("none"), Some(ArcResult::None));
        assert_eq!(ArcResult::from_token("fail"), Some(ArcResult::Fail));
        assert_eq!(ArcResult::from_token("neutral"), None);
        assert_eq!(ArcResult::Fail.to_string(), "fail");
    }
}
