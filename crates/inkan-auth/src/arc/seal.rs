//! Sealing as a forwarder (RFC 8617 §5.1): the next instance's ARC-Authentication-Results
//! (what this hop concluded), ARC-Message-Signature (a DKIM-style signature over the message,
//! §4.1.2, made with DKIM's template signer) and ARC-Seal (over every set so far in the §5.1.1
//! order, or only the new set when the chain arrived broken, `cv=fail`). A chain whose newest
//! seal already says `cv=fail` is not extended (§5.1.2), and never past instance 50.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::parse::claimed_instance;
use super::verify::{chain_sets, seal_hash};
use super::{ArcHeader, ArcReason, ArcResult, ArcSeal, MAX_INSTANCES};
use crate::dkim::{
    DEFAULT_SIGNED_HEADERS, SignError, Signer, SigningKey, fold_tags, sign_template_as,
};
use crate::message::{Message, MessageError};

/// Why a message could not be sealed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The chain already has [`MAX_INSTANCES`] sets.
    #[error("the message already has {MAX_INSTANCES} ARC sets; no more can be added")]
    TooManyInstances,
    /// The newest seal says `cv=fail`: a broken chain is not extended (RFC 8617 §5.1.2).
    #[error("ARC-Seal i={0} says cv=fail: a failed chain must not be extended")]
    ChainFailed(u32),
    /// The message has ARC sets but the chain's validation result was given as `none`.
    #[error(
        "the message has ARC sets (newest i={0}) but the chain result given is 'none': validate the chain first"
    )]
    ChainNotValidated(u32),
    /// The chain result was given as `pass` but the existing sets are not a complete chain.
    #[error("the chain result given is 'pass' but the existing chain is broken: {0}")]
    BrokenChain(String),
    /// `domain`, `selector` or `authserv_id` is unusable.
    #[error("invalid {what} '{value}'")]
    InvalidName {
        /// Which parameter.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// The authentication results hold a line break that is not folding whitespace.
    #[error("authentication results contain a bare line break: '{0}'")]
    AuthResults(String),
    /// The AMS header list names ARC-Seal, which an AMS must not sign (RFC 8617 §4.1.2).
    #[error("the ARC-Message-Signature must not sign ARC-Seal")]
    SealInHeaderList,
    /// Signing failed (key, algorithm, header names).
    #[error("signing failed: {0}")]
    Sign(#[from] SignError),
    /// The sealed message could not be read back (an internal consistency check).
    #[error("the sealed message does not parse: {0}")]
    Message(#[from] MessageError),
}

/// What a forwarder needs to seal a message.
#[derive(Clone, Debug)]
pub struct SealParams {
    /// `d=` of the AMS and AS.
    pub domain: String,
    /// `s=` of the AMS and AS.
    pub selector: String,
    /// The private key (RSA: rsa-sha256, Ed25519: ed25519-sha256).
    pub key: SigningKey,
    /// The authserv-id written in the ARC-Authentication-Results.
    pub authserv_id: String,
    /// The results after the authserv-id, as an RFC 8601 payload
    /// (`spf=pass smtp.mailfrom=...;\r\n\tdkim=pass ...`); empty means `none`.
    pub auth_results: String,
    /// The result of validating the chain the message arrived with ([`super::validate`]);
    /// ignored when it has no ARC sets.
    pub chain: ArcResult,
    /// Header names the AMS signs; From is always added.
    pub headers: Vec<String>,
    /// Seconds since the Unix epoch, for `t=`.
    pub now: u64,
}

impl SealParams {
    /// Parameters signing DKIM's default header set plus DKIM-Signature, with chain result
    /// `none` and time 0; set `chain` and `now` before sealing a real message.
    pub fn new(
        domain: impl Into<String>,
        selector: impl Into<String>,
        key: SigningKey,
        authserv_id: impl Into<String>,
        auth_results: impl Into<String>,
    ) -> SealParams {
        let mut headers: Vec<String> = DEFAULT_SIGNED_HEADERS
            .iter()
            .map(|h| (*h).to_owned())
            .collect();
        headers.push("DKIM-Signature".into());
        SealParams {
            domain: domain.into(),
            selector: selector.into(),
            key,
            authserv_id: authserv_id.into(),
            auth_results: auth_results.into(),
            chain: ArcResult::None,
            headers,
            now: 0,
        }
    }
}

/// One new ARC set: three whole header fields (name, value, final CRLF).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArcSet {
    /// The instance.
    pub instance: u32,
    /// The `cv=` written in the seal.
    pub cv: ArcResult,
    /// `ARC-Seal: ...`.
    pub seal: String,
    /// `ARC-Message-Signature: ...`.
    pub message_signature: String,
    /// `ARC-Authentication-Results: ...`.
    pub authentication_results: String,
}

impl ArcSet {
    /// The message with this set on top: AS, AMS, AAR, then the original.
    pub fn prepend_to(&self, message: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.seal.len()
                + self.message_signature.len()
                + self.authentication_results.len()
                + message.len(),
        );
        out.extend_from_slice(self.seal.as_bytes());
        out.extend_from_slice(self.message_signature.as_bytes());
        out.extend_from_slice(self.authentication_results.as_bytes());
        out.extend_from_slice(message);
        out
    }
}

fn check_name(what: &'static str, value: &str) -> Result<(), SealError> {
    if value.is_empty()
        || value.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ';' | '=' | '"' | '(' | ')')
        })
    {
        return Err(SealError::InvalidName {
            what,
            value: value.chars().take(80).collect(),
        });
    }
    Ok(())
}

/// True when every CR or LF in `text` is part of CRLF followed by a space or tab.
fn only_folding(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().all(|(i, &c)| match c {
        b'\r' => b.get(i + 1) == Some(&b'\n') && matches!(b.get(i + 2), Some(b' ' | b'\t')),
        b'\n' => i > 0 && b[i - 1] == b'\r' && matches!(b.get(i + 1), Some(b' ' | b'\t')),
        _ => true,
    })
}

/// The newest instance any ARC field claims, and that instance's seal when it parses.
fn newest_existing(message: &Message<'_>) -> (u32, Option<ArcSeal>) {
    let mut newest = 0;
    let mut seal = None;
    for field in message.headers() {
        let Some(header) = ArcHeader::from_name(field.name()) else {
            continue;
        };
        let Some(i) = claimed_instance(header, field.value()) else {
            continue;
        };
        if i > newest {
            newest = i;
            seal = None;
        }
        if i == newest && header == ArcHeader::Seal {
            seal = ArcSeal::parse(field.value()).ok();
        }
    }
    (newest, seal)
}

/// Seals `message`: the next ARC set, ready to prepend.
pub fn seal_set(message: &Message<'_>, params: &SealParams) -> Result<ArcSet, SealError> {
    let domain = params.domain.trim_end_matches('.').to_ascii_lowercase();
    check_name("domain", &domain)?;
    check_name("selector", &params.selector)?;
    check_name("authserv-id", &params.authserv_id)?;
    if !only_folding(&params.auth_results) {
        return Err(SealError::AuthResults(
            params.auth_results.chars().take(80).collect(),
        ));
    }
    if params
        .headers
        .iter()
        .any(|h| h.trim().eq_ignore_ascii_case("arc-seal"))
    {
        return Err(SealError::SealInHeaderList);
    }
    let (newest, newest_seal) = newest_existing(message);
    if newest >= MAX_INSTANCES {
        return Err(SealError::TooManyInstances);
    }
    if let Some(seal) = &newest_seal
        && seal.cv == ArcResult::Fail
    {
        return Err(SealError::ChainFailed(newest));
    }
    let instance = newest + 1;
    let cv = match (instance, params.chain) {
        (1, _) => ArcResult::None,
        (_, ArcResult::None) => return Err(SealError::ChainNotValidated(newest)),
        (_, chain) => chain,
    };
    // The sets the seal covers, as header indexes in the sealed message (three fields on top).
    let mut covered: Vec<[usize; 3]> = Vec::new();
    if cv == ArcResult::Pass {
        let sets =
            chain_sets(message).map_err(|r: ArcReason| SealError::BrokenChain(r.to_string()))?;
        covered.extend(sets.iter().map(|s| s.indexes().map(|i| i + 3)));
    }
    covered.push([2, 1, 0]);

    let results = params.auth_results.trim();
    let aar = format!(
        "ARC-Authentication-Results: i={instance}; {};\r\n\t{}\r\n",
        params.authserv_id,
        if results.is_empty() { "none" } else { results }
    );

    let algorithm = params.key.default_algorithm();
    let mut signer = Signer::new(domain.clone(), params.selector.clone(), params.key.clone());
    signer.headers = params.headers.clone();
    let h = signer.signed_names(message)?;
    let ams_tags = [
        format!("i={instance}"),
        format!("a={algorithm}"),
        "c=relaxed/relaxed".into(),
        format!("d={domain}"),
        format!("s={}", params.selector),
        format!("t={}", params.now),
        format!("h={}", h.join(":")),
        "bh=".into(),
        "b=".into(),
    ];
    let ams = sign_template_as(
        "ARC-Message-Signature",
        &params.key,
        message,
        &fold_tags(&ams_tags),
    )?;

    let seal_tags = [
        format!("i={instance}"),
        format!("cv={cv}"),
        format!("a={algorithm}"),
        format!("d={domain}"),
        format!("s={}", params.selector),
        format!("t={}", params.now),
        "b=".into(),
    ];
    let mut seal = format!("ARC-Seal: {}", fold_tags(&seal_tags));
    let mut draft = Vec::with_capacity(message.as_bytes().len() + 4096);
    draft.extend_from_slice(seal.as_bytes());
    draft.extend_from_slice(b"\r\n");
    draft.extend_from_slice(ams.as_bytes());
    draft.extend_from_slice(aar.as_bytes());
    draft.extend_from_slice(message.as_bytes());
    let draft = Message::parse(draft)?;
    let hash = seal_hash(&draft, &covered, algorithm);
    let signature = params.key.sign_digest(algorithm, &hash)?;
    let b64 = STANDARD.encode(signature);
    let line_start = seal.rfind('\n').map_or(0, |p| p + 1);
    let mut column = seal.len() - line_start;
    for chunk in b64.as_bytes().chunks(64) {
        if column + chunk.len() > 78 {
            seal.push_str("\r\n\t");
            column = 8;
        }
        seal.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        column += chunk.len();
    }
    seal.push_str("\r\n");
    Ok(ArcSet {
        instance,
        cv,
        seal,
        message_signature: ams,
        authentication_results: aar,
    })
}

/// Seals `message` and returns it with the new set on top.
pub fn seal(message: &Message<'_>, params: &SealParams) -> Result<Vec<u8>, SealError> {
    Ok(seal_set(message, params)?.prepend_to(message.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::generate_ed25519;

    const MESSAGE: &[u8] = b"From: a@origin.example\r\nSubject: s\r\n\r\nbody\r\n";

    fn params() -> SealParams {
        let mut p = SealParams::new(
            "fwd.example",
            "arc",
            generate_ed25519().unwrap(),
            "mx.fwd.example",
            "spf=pass smtp.mailfrom=origin.example",
        );
        p.now = 1_700_000_000;
        p
    }

    fn message(prefix: &str) -> Message<'static> {
        let mut raw = prefix.as_bytes().to_vec();
        raw.extend_from_slice(MESSAGE);
        Message::parse(raw).unwrap()
    }

    #[test]
    fn first_set_has_instance_1_and_cv_none() {
        let mut p = params();
        p.chain = ArcResult::Pass;
        let set = seal_set(&message(""), &p).unwrap();
        assert_eq!((set.instance, set.cv), (1, ArcResult::None));
        assert!(
            set.seal
                .starts_with("ARC-Seal: i=1; cv=none; a=ed25519-sha256; d=fwd.example; s=arc;")
        );
        assert!(
            set.message_signature
                .starts_with("ARC-Message-Signature: i=1; a=ed25519-sha256;")
        );
        assert_eq!(
            set.authentication_results,
            "ARC-Authentication-Results: i=1; mx.fwd.example;\r\n\tspf=pass smtp.mailfrom=origin.example\r\n"
        );
        let sealed = set.prepend_to(MESSAGE);
        assert!(sealed.ends_with(MESSAGE));
        let parsed = Message::parse(sealed).unwrap();
        assert_eq!(parsed.header_count(), 5);
    }

    #[test]
    fn empty_results_are_none() {
        let mut p = params();
        p.auth_results = String::new();
        let set = seal_set(&message(""), &p).unwrap();
        assert!(
            set.authentication_results
                .ends_with("mx.fwd.example;\r\n\tnone\r\n")
        );
    }

    #[test]
    fn refuses_what_must_not_be_sealed() {
        let p = params();
        let failed = message("ARC-Seal: i=1; cv=fail; a=rsa-sha256; d=x.example; s=s; b=YQ==\r\n");
        assert_eq!(seal_set(&failed, &p), Err(SealError::ChainFailed(1)));

        let existing =
            message("ARC-Seal: i=1; cv=none; a=rsa-sha256; d=x.example; s=s; b=YQ==\r\n");
        assert_eq!(
            seal_set(&existing, &p),
            Err(SealError::ChainNotValidated(1))
        );
        let mut pass = params();
        pass.chain = ArcResult::Pass;
        assert!(matches!(
            seal_set(&existing, &pass),
            Err(SealError::BrokenChain(_))
        ));

        let full = message("ARC-Authentication-Results: i=50; x.example; none\r\n");
        assert_eq!(seal_set(&full, &pass), Err(SealError::TooManyInstances));

        let mut bad = params();
        bad.domain = "bad domain".into();
        assert!(matches!(
            seal_set(&message(""), &bad),
            Err(SealError::InvalidName { what: "domain", .. })
        ));
        let mut bad = params();
        bad.authserv_id = "a;b".into();
        assert!(matches!(
            seal_set(&message(""), &bad),
            Err(SealError::InvalidName {
                what: "authserv-id",
                ..
            })
        ));
        let mut bad = params();
        bad.auth_results = "spf=pass\r\nX-Injected: yes".into();
        assert!(matches!(
            seal_set(&message(""), &bad),
            Err(SealError::AuthResults(_))
        ));
        let mut bad = params();
        bad.headers.push("ARC-Seal".into());
        assert_eq!(
            seal_set(&message(""), &bad),
            Err(SealError::SealInHeaderList)
        );
    }

    #[test]
    fn a_failed_chain_gets_cv_fail_over_its_own_set() {
        let existing =
            message("ARC-Seal: i=1; cv=none; a=rsa-sha256; d=x.example; s=s; b=YQ==\r\n");
        let mut p = params();
        p.chain = ArcResult::Fail;
        let set = seal_set(&existing, &p).unwrap();
        assert_eq!((set.instance, set.cv), (2, ArcResult::Fail));
        assert!(set.seal.contains("cv=fail"));
    }

    #[test]
    fn folding_check() {
        assert!(only_folding("a;\r\n\tb"));
        assert!(!only_folding("a\r\nb"));
        assert!(!only_folding("a\nb"));
        assert!(!only_folding("a\r"));
    }
}
