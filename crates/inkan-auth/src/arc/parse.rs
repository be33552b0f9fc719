//! The three ARC header fields (RFC 8617 §4.1): ARC-Authentication-Results (§4.1.1: `i=` then
//! an RFC 8601 payload), ARC-Message-Signature (§4.1.2: a DKIM-Signature with `i=` as the
//! instance and no `v=`) and ARC-Seal (§4.1.3: `i`, `cv`, `a`, `b`, `d`, `s`, `t`; `h=` is
//! forbidden). Tag lists, base64 and domain checks come from [`crate::dkim`].

use super::{ArcHeader, ArcResult, MAX_INSTANCES};
use crate::authres::AuthResults;
use crate::dkim::{
    Algorithm, Signature, SignatureError, TagList, TagListError, decode_base64, strip_fws,
    valid_domain,
};

/// Why an ARC header field is not usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The field value is not a valid tag list.
    #[error("{header}: malformed tag list: {source}")]
    TagList {
        /// Which field.
        header: ArcHeader,
        /// What the tag-list parser said.
        source: TagListError,
    },
    /// A required tag is absent.
    #[error("{header}: required tag '{tag}=' is missing")]
    MissingTag {
        /// Which field.
        header: ArcHeader,
        /// The tag.
        tag: &'static str,
    },
    /// `i=` is not a whole number from 1 to [`MAX_INSTANCES`].
    #[error("{header}: i='{value}' is not an instance number from 1 to {MAX_INSTANCES}")]
    Instance {
        /// Which field.
        header: ArcHeader,
        /// The value written.
        value: String,
    },
    /// `cv=` is none of `none`, `pass`, `fail`.
    #[error("ARC-Seal: cv='{0}' is not one of none, pass, fail")]
    ChainValidation(String),
    /// A tag that the field must not carry (`h=` in an ARC-Seal, RFC 8617 §4.1.3).
    #[error("{header}: tag '{tag}=' is not allowed in this field")]
    TagNotAllowed {
        /// Which field.
        header: ArcHeader,
        /// The tag.
        tag: &'static str,
    },
    /// `a=` names an algorithm this validator does not know.
    #[error("{header}: unknown signing algorithm a='{value}'")]
    UnknownAlgorithm {
        /// Which field.
        header: ArcHeader,
        /// The value written.
        value: String,
    },
    /// The DKIM-shaped tags of an ARC-Message-Signature break a DKIM-Signature rule
    /// (RFC 8617 §4.1.2 defers to RFC 6376 §3.5: `a`, `b`, `bh`, `c`, `d`, `h`, `s`, ...).
    #[error("ARC-Message-Signature: {0}")]
    MessageSignature(SignatureError),
    /// A base64 tag does not decode or is empty.
    #[error("{header}: tag '{tag}=' is not valid base64: {detail}")]
    Base64 {
        /// Which field.
        header: ArcHeader,
        /// The tag (`b` or `bh`).
        tag: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// `d=` or `s=` is not a usable domain name or selector.
    #[error("{header}: tag '{tag}=' is not a valid domain name: '{value}'")]
    InvalidDomain {
        /// Which field.
        header: ArcHeader,
        /// The tag.
        tag: &'static str,
        /// The value.
        value: String,
    },
    /// A numeric tag (`t`, `x`, `l`) is not a decimal number.
    #[error("{header}: tag '{tag}=' is not a decimal number: '{value}'")]
    InvalidNumber {
        /// Which field.
        header: ArcHeader,
        /// The tag.
        tag: &'static str,
        /// The value.
        value: String,
    },
    /// `h=` lists ARC-Seal (RFC 8617 §4.1.2: the AMS MUST NOT sign ARC-Seal fields).
    #[error("ARC-Message-Signature: h= includes ARC-Seal, which an AMS must not sign")]
    SealSigned,
    /// The ARC-Authentication-Results value does not start `i=N;`.
    #[error("ARC-Authentication-Results: expected 'i=N;' before the authserv-id, found '{0}'")]
    AarInstance(String),
    /// The ARC-Authentication-Results value has no authserv-id after `i=N;`.
    #[error("ARC-Authentication-Results: no authserv-id after 'i=N;'")]
    AarAuthservId,
    /// The field is not UTF-8.
    #[error("{0}: value is not UTF-8 text")]
    NotUtf8(ArcHeader),
}

impl ParseError {
    /// The field the error is about.
    pub fn header(&self) -> ArcHeader {
        match self {
            ParseError::TagList { header, .. }
            | ParseError::MissingTag { header, .. }
            | ParseError::Instance { header, .. }
            | ParseError::TagNotAllowed { header, .. }
            | ParseError::UnknownAlgorithm { header, .. }
            | ParseError::Base64 { header, .. }
            | ParseError::InvalidDomain { header, .. }
            | ParseError::InvalidNumber { header, .. }
            | ParseError::NotUtf8(header) => *header,
            ParseError::ChainValidation(_) => ArcHeader::Seal,
            ParseError::MessageSignature(_) | ParseError::SealSigned => ArcHeader::MessageSignature,
            ParseError::AarInstance(_) | ParseError::AarAuthservId => {
                ArcHeader::AuthenticationResults
            }
        }
    }
}

/// A parsed ARC-Seal (RFC 8617 §4.1.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArcSeal {
    /// `i=`: the instance.
    pub instance: u32,
    /// `cv=`: the chain validation state the sealer found.
    pub cv: ArcResult,
    /// `a=`.
    pub algorithm: Algorithm,
    /// `b=`, decoded.
    pub signature: Vec<u8>,
    /// `d=`, lower-cased.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// `t=`, if present.
    pub timestamp: Option<u64>,
}

/// A parsed ARC-Message-Signature (RFC 8617 §4.1.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArcMessageSignature {
    /// `i=`: the instance.
    pub instance: u32,
    /// The DKIM-shaped part (`a`, `b`, `bh`, `c`, `d`, `h`, `l`, `s`, `t`, `x`), which is hashed
    /// and verified exactly like a DKIM-Signature; its `identity` is always `None`.
    pub signature: Signature,
}

/// A parsed ARC-Authentication-Results (RFC 8617 §4.1.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArcAuthenticationResults {
    /// `i=`: the instance.
    pub instance: u32,
    /// The authserv-id of the sealer.
    pub authserv_id: String,
    /// The RFC 8601 payload after `i=N;`, unfolded.
    pub payload: String,
    /// The payload parsed, when it follows RFC 8601 (a validator does not need it to).
    pub results: Option<AuthResults>,
}

fn tags(header: ArcHeader, value: &[u8]) -> Result<TagList<'_>, ParseError> {
    TagList::parse(value).map_err(|source| match source {
        TagListError::NotUtf8 => ParseError::NotUtf8(header),
        source => ParseError::TagList { header, source },
    })
}

fn required<'a>(
    header: ArcHeader,
    tags: &TagList<'a>,
    tag: &'static str,
) -> Result<&'a str, ParseError> {
    tags.get(tag).ok_or(ParseError::MissingTag { header, tag })
}

/// Reads an instance number: decimal digits, 1 to [`MAX_INSTANCES`].
fn instance_number(header: ArcHeader, raw: &str) -> Result<u32, ParseError> {
    let value = strip_fws(raw);
    let bad = || ParseError::Instance {
        header,
        value: value.chars().take(40).collect(),
    };
    if value.is_empty() || value.len() > 3 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    match value.parse::<u32>() {
        Ok(n) if (1..=MAX_INSTANCES).contains(&n) => Ok(n),
        _ => Err(bad()),
    }
}

fn instance(header: ArcHeader, tags: &TagList<'_>) -> Result<u32, ParseError> {
    instance_number(header, required(header, tags, "i")?)
}

fn algorithm(header: ArcHeader, tags: &TagList<'_>) -> Result<Algorithm, ParseError> {
    match strip_fws(required(header, tags, "a")?)
        .to_ascii_lowercase()
        .as_str()
    {
        "rsa-sha256" => Ok(Algorithm::RsaSha256),
        "ed25519-sha256" => Ok(Algorithm::Ed25519Sha256),
        "rsa-sha1" => Ok(Algorithm::RsaSha1),
        other => Err(ParseError::UnknownAlgorithm {
            header,
            value: other.chars().take(40).collect(),
        }),
    }
}

fn base64_tag(
    header: ArcHeader,
    tags: &TagList<'_>,
    tag: &'static str,
) -> Result<Vec<u8>, ParseError> {
    let decoded = decode_base64(required(header, tags, tag)?).map_err(|e| ParseError::Base64 {
        header,
        tag,
        detail: e.to_string(),
    })?;
    if decoded.is_empty() {
        return Err(ParseError::Base64 {
            header,
            tag,
            detail: "the value is empty".into(),
        });
    }
    Ok(decoded)
}

fn domain_tag(
    header: ArcHeader,
    tags: &TagList<'_>,
    tag: &'static str,
) -> Result<String, ParseError> {
    let mut value = strip_fws(required(header, tags, tag)?);
    if tag == "d" {
        value.make_ascii_lowercase();
        if value.ends_with('.') {
            value.pop();
        }
    }
    if !valid_domain(&value) {
        return Err(ParseError::InvalidDomain {
            header,
            tag,
            value: value.chars().take(80).collect(),
        });
    }
    Ok(value)
}

fn number(
    header: ArcHeader,
    tags: &TagList<'_>,
    tag: &'static str,
) -> Result<Option<u64>, ParseError> {
    let Some(raw) = tags.get(tag) else {
        return Ok(None);
    };
    let value = strip_fws(raw);
    let bad = || ParseError::InvalidNumber {
        header,
        tag,
        value: value.chars().take(40).collect(),
    };
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    value.parse().map(Some).map_err(|_| bad())
}

/// The instance a field claims, read as leniently as possible, so that an error in some other
/// tag can still be attributed to its set.
pub(crate) fn claimed_instance(header: ArcHeader, value: &[u8]) -> Option<u32> {
    match header {
        ArcHeader::AuthenticationResults => {
            let text = std::str::from_utf8(value).ok()?;
            let (first, _) = text.split_once(';')?;
            let (name, number) = first.split_once('=')?;
            (strip_fws(name) == "i")
                .then(|| instance_number(header, number).ok())
                .flatten()
        }
        ArcHeader::MessageSignature | ArcHeader::Seal => {
            let tags = TagList::parse(value).ok()?;
            instance_number(header, tags.get("i")?).ok()
        }
    }
}

impl ArcSeal {
    /// Parses an ARC-Seal field value (everything after the colon).
    pub fn parse(value: &[u8]) -> Result<ArcSeal, ParseError> {
        const H: ArcHeader = ArcHeader::Seal;
        let tags = tags(H, value)?;
        let instance = instance(H, &tags)?;
        if tags.get("h").is_some() {
            return Err(ParseError::TagNotAllowed {
                header: H,
                tag: "h",
            });
        }
        let cv_raw = strip_fws(required(H, &tags, "cv")?);
        let cv = ArcResult::from_token(&cv_raw)
            .ok_or_else(|| ParseError::ChainValidation(cv_raw.chars().take(40).collect()))?;
        Ok(ArcSeal {
            instance,
            cv,
            algorithm: algorithm(H, &tags)?,
            signature: base64_tag(H, &tags, "b")?,
            domain: domain_tag(H, &tags, "d")?,
            selector: domain_tag(H, &tags, "s")?,
            timestamp: number(H, &tags, "t")?,
        })
    }

    /// The DNS name of the key: `selector._domainkey.domain`.
    pub fn key_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }
}

impl ArcMessageSignature {
    /// Parses an ARC-Message-Signature field value (everything after the colon): the instance,
    /// then the DKIM-Signature tags through the DKIM parser, then the ARC rule that `h=` must not
    /// list ARC-Seal.
    pub fn parse(value: &[u8]) -> Result<ArcMessageSignature, ParseError> {
        const H: ArcHeader = ArcHeader::MessageSignature;
        let tags = tags(H, value)?;
        let instance = instance(H, &tags)?;
        let signature = Signature::from_arc_message_signature_tags(&tags)
            .map_err(ParseError::MessageSignature)?;
        if signature
            .signed_headers
            .iter()
            .any(|n| n.eq_ignore_ascii_case("arc-seal"))
        {
            return Err(ParseError::SealSigned);
        }
        Ok(ArcMessageSignature {
            instance,
            signature,
        })
    }

    /// The DNS name of the key: `selector._domainkey.domain`.
    pub fn key_name(&self) -> String {
        self.signature.key_name()
    }
}

impl ArcAuthenticationResults {
    /// Parses an ARC-Authentication-Results field value (everything after the colon).
    pub fn parse(value: &[u8]) -> Result<ArcAuthenticationResults, ParseError> {
        const H: ArcHeader = ArcHeader::AuthenticationResults;
        let text = std::str::from_utf8(value).map_err(|_| ParseError::NotUtf8(H))?;
        let unfolded: String = text
            .chars()
            .map(|c| if matches!(c, '\r' | '\n') { ' ' } else { c })
            .collect();
        let excerpt = || unfolded.trim().chars().take(40).collect::<String>();
        let Some((first, payload)) = unfolded.split_once(';') else {
            return Err(ParseError::AarInstance(excerpt()));
        };
        let Some((name, number)) = first.split_once('=') else {
            return Err(ParseError::AarInstance(excerpt()));
        };
        if strip_fws(name) != "i" {
            return Err(ParseError::AarInstance(excerpt()));
        }
        let instance = instance_number(H, number)?;
        let payload = payload.trim().to_owned();
        let results = AuthResults::parse(&payload).ok();
        let authserv_id = match &results {
            Some(r) => r.authserv_id.clone(),
            None => payload
                .split(|c: char| c == ';' || c.is_whitespace())
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        if authserv_id.is_empty() {
            return Err(ParseError::AarAuthservId);
        }
        Ok(ArcAuthenticationResults {
            instance,
            authserv_id,
            payload,
            results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEAL: &str =
        "i=2; a=rsa-sha256; cv=pass; d=Example.ORG; s=arc;\r\n\tt=1700000000; b=YWJj\r\n\tZA==";
    const AMS: &str = "i=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org;\r\n\ts=arc; t=1700000000; h=from:to:subject:dkim-signature; bh=YWJj; b=ZGVm";

    fn seal(from: &str, to: &str) -> Result<ArcSeal, ParseError> {
        ArcSeal::parse(SEAL.replacen(from, to, 1).as_bytes())
    }

    fn ams(from: &str, to: &str) -> Result<ArcMessageSignature, ParseError> {
        ArcMessageSignature::parse(AMS.replacen(from, to, 1).as_bytes())
    }

    #[test]
    fn parses_a_seal() {
        let s = ArcSeal::parse(SEAL.as_bytes()).unwrap();
        assert_eq!(s.instance, 2);
        assert_eq!(s.cv, ArcResult::Pass);
        assert_eq!(s.algorithm, Algorithm::RsaSha256);
        assert_eq!(s.domain, "example.org");
        assert_eq!(s.signature, b"abcd");
        assert_eq!(s.timestamp, Some(1_700_000_000));
        assert_eq!(s.key_name(), "arc._domainkey.example.org");
    }

    #[test]
    fn seal_errors_are_precise() {
        assert_eq!(
            seal("i=2; ", ""),
            Err(ParseError::MissingTag {
                header: ArcHeader::Seal,
                tag: "i"
            })
        );
        assert_eq!(
            seal("i=2", "i=0"),
            Err(ParseError::Instance {
                header: ArcHeader::Seal,
                value: "0".into()
            })
        );
        assert!(matches!(
            seal("i=2", "i=51"),
            Err(ParseError::Instance { .. })
        ));
        assert!(matches!(
            seal("i=2", "i=two"),
            Err(ParseError::Instance { .. })
        ));
        assert!(matches!(
            seal("i=2", "i=-1"),
            Err(ParseError::Instance { .. })
        ));
        assert_eq!(
            seal("cv=pass", "cv=neutral"),
            Err(ParseError::ChainValidation("neutral".into()))
        );
        assert_eq!(
            seal("cv=pass", "cv=Pass; h=from").unwrap_err(),
            ParseError::TagNotAllowed {
                header: ArcHeader::Seal,
                tag: "h"
            }
        );
        assert_eq!(seal("cv=pass", "cv=FAIL").unwrap().cv, ArcResult::Fail);
        assert!(matches!(
            seal("a=rsa-sha256", "a=rsa-md5"),
            Err(ParseError::UnknownAlgorithm { .. })
        ));
        assert!(matches!(
            seal("b=YWJj", "b=!!"),
            Err(ParseError::Base64 { tag: "b", .. })
        ));
        assert!(matches!(
            seal("d=Example.ORG", "d=exa mple..org"),
            Err(ParseError::InvalidDomain { tag: "d", .. })
        ));
        assert!(matches!(
            seal("t=1700000000", "t=soon"),
            Err(ParseError::InvalidNumber { tag: "t", .. })
        ));
        assert!(matches!(
            seal("s=arc;", "s=arc; s=again;"),
            Err(ParseError::TagList { .. })
        ));
        assert_eq!(
            seal("cv=pass", "cv=maybe").unwrap_err().to_string(),
            "ARC-Seal: cv='maybe' is not one of none, pass, fail"
        );
        assert_eq!(
            seal("i=2", "i=99").unwrap_err().to_string(),
            "ARC-Seal: i='99' is not an instance number from 1 to 50"
        );
    }

    #[test]
    fn parses_a_message_signature() {
        let m = ArcMessageSignature::parse(AMS.as_bytes()).unwrap();
        assert_eq!(m.instance, 1);
        assert_eq!(m.signature.algorithm, Algorithm::Ed25519Sha256);
        assert_eq!(
            m.signature.signed_headers,
            ["from", "to", "subject", "dkim-signature"]
        );
        assert_eq!(m.signature.identity, None);
        assert_eq!(m.key_name(), "arc._domainkey.example.org");
    }

    #[test]
    fn message_signature_errors_are_precise() {
        assert_eq!(
            ams("h=from:to", "h=to"),
            Err(ParseError::MessageSignature(SignatureError::FromNotSigned(
                "to:subject:dkim-signature".into()
            )))
        );
        assert_eq!(
            ams("h=from", "h=arc-seal:from"),
            Err(ParseError::SealSigned)
        );
        assert_eq!(
            ams("bh=YWJj; ", ""),
            Err(ParseError::MessageSignature(SignatureError::MissingTag(
                "bh"
            )))
        );
        assert!(matches!(
            ams("c=relaxed/relaxed", "c=loose"),
            Err(ParseError::MessageSignature(
                SignatureError::UnknownCanonicalization(_)
            ))
        ));
        assert!(matches!(
            ams("i=1", "i=1.5"),
            Err(ParseError::Instance { .. })
        ));
        assert_eq!(
            ams("h=from", "h=nämé:from"),
            Err(ParseError::MessageSignature(
                SignatureError::InvalidHeaderName("nämé".into())
            ))
        );
    }

    #[test]
    fn parses_authentication_results() {
        let a = ArcAuthenticationResults::parse(
            b" i=3; mx.example.net;\r\n\tspf=pass smtp.mailfrom=a.example;\r\n\tdkim=pass header.d=a.example",
        )
        .unwrap();
        assert_eq!(a.instance, 3);
        assert_eq!(a.authserv_id, "mx.example.net");
        let results = a.results.unwrap();
        assert_eq!(results.results.len(), 2);
        assert_eq!(results.result("spf").unwrap().result, "pass");
    }

    #[test]
    fn authentication_results_errors_are_precise() {
        assert!(matches!(
            ArcAuthenticationResults::parse(b" mx.example.net; spf=pass"),
            Err(ParseError::AarInstance(_))
        ));
        assert!(matches!(
            ArcAuthenticationResults::parse(b"i=1 mx.example.net"),
            Err(ParseError::AarInstance(_))
        ));
        assert!(matches!(
            ArcAuthenticationResults::parse(b"i=0; mx.example.net; none"),
            Err(ParseError::Instance { .. })
        ));
        assert_eq!(
            ArcAuthenticationResults::parse(b"i=1;  "),
            Err(ParseError::AarAuthservId)
        );
        assert_eq!(
            ArcAuthenticationResults::parse(b"i=1; \xff"),
            Err(ParseError::NotUtf8(ArcHeader::AuthenticationResults))
        );
        let lenient = ArcAuthenticationResults::parse(b"i=1; mx.example; spf=").unwrap();
        assert_eq!(lenient.authserv_id, "mx.example");
        assert!(lenient.results.is_none());
    }

    #[test]
    fn claimed_instance_survives_other_errors() {
        assert_eq!(claimed_instance(ArcHeader::Seal, b"i=4; cv=bogus"), Some(4));
        assert_eq!(
            claimed_instance(ArcHeader::AuthenticationResults, b" i = 7 ; x"),
            Some(7)
        );
        assert_eq!(claimed_instance(ArcHeader::Seal, b"cv=pass"), None);
    }
}

#[cfg(test)]
mod robustness {
    use super::*;

    /// Every prefix and every single-byte change of valid fields parses or fails cleanly (a
    /// deterministic stand-in for the fuzz targets in `fuzz/`).
    #[test]
    fn truncations_and_byte_flips_never_panic() {
        let samples: [&[u8]; 3] = [
            b"i=2; a=rsa-sha256; cv=pass; d=example.org; s=arc; t=1; b=YWJjZA==",
            b"i=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=arc; h=from:to; bh=YWJj; b=ZGVm",
            b"i=1; mx.example; spf=pass smtp.mailfrom=a.example; dkim=pass header.d=a.example",
        ];
        for sample in samples {
            for end in 0..=sample.len() {
                let cut = &sample[..end];
                let _ = ArcSeal::parse(cut);
                let _ = ArcMessageSignature::parse(cut);
                let _ = ArcAuthenticationResults::parse(cut);
            }
            for i in 0..sample.len() {
                for b in [0u8, b';', b'=', b'\r', b'\n', b' ', 0xff, b'9'] {
                    let mut v = sample.to_vec();
                    v[i] = b;
                    let _ = ArcSeal::parse(&v);
                    let _ = ArcMessageSignature::parse(&v);
                    let _ = ArcAuthenticationResults::parse(&v);
                }
            }
        }
    }
}
