//! DKIM (RFC 6376) with the RFC 8301 algorithm and key-size rules and RFC 8463 ed25519-sha256:
//! the vocabulary (algorithms, canonicalizations, results, errors) lives here; the verbs live in
//! `parse` (tag lists, §3.2, and the DKIM-Signature field, §3.5), `key` (key records, §3.6.1),
//! `canon` (§3.4), `verify` (§6) and `sign` (§5).
//!
//! The signing and hashing core is public so that ARC (RFC 8617), whose ARC-Message-Signature
//! and ARC-Seal use the same tags, canonicalization and key rules, reuses it instead of copying:
//! the DKIM-Signature tag rules (the ARC parser reads AMS tags through them),
//! [`canonical_headers`] and [`canonical_signature_field`] (header hash input for AMS and AS),
//! [`BodyHasher`] (AMS body hash), [`fetch_key`] and [`check_key`] (key lookup and the RFC 8301
//! rules), [`DkimKey::verify_signature`], [`SigningKey::sign_digest`] (AS) and
//! [`sign_template_as`] (AMS).

mod canon;
mod key;
mod parse;
mod sign;
mod verify;

pub use canon::{
    BodyHasher, canonical_body, canonical_headers, canonical_signature_field, canonicalize_header,
    canonicalize_header_relaxed, strip_b_value,
};
pub use key::{DkimKey, KeyError, KeyFlags, KeyType};
pub use parse::{Signature, SignatureError, TagList, TagListError, decode_base64};
pub(crate) use parse::{strip_fws, valid_domain};
pub(crate) use sign::fold_tags;
pub use sign::{
    DEFAULT_OVERSIGNED, DEFAULT_SIGNED_HEADERS, KeyFileError, SignError, Signer, SigningKey,
    generate_ed25519, generate_rsa, sign_template, sign_template_as, txt_record_strings,
};
pub use verify::{
    DkimOutput, MAX_SIGNATURES, Reason, body_hash, check_key, fetch_key, header_hash, verify,
    verify_at, verify_with_keys,
};

/// Signing algorithms (RFC 6376 §3.3, RFC 8463 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[non_exhaustive]
pub enum Algorithm {
    /// `rsa-sha1`: parsed but never a pass (RFC 8301 §3.1).
    #[serde(rename = "rsa-sha1")]
    RsaSha1,
    /// `rsa-sha256`.
    #[serde(rename = "rsa-sha256")]
    RsaSha256,
    /// `ed25519-sha256` (RFC 8463).
    #[serde(rename = "ed25519-sha256")]
    Ed25519Sha256,
}

impl Algorithm {
    /// The `a=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::RsaSha1 => "rsa-sha1",
            Algorithm::RsaSha256 => "rsa-sha256",
            Algorithm::Ed25519Sha256 => "ed25519-sha256",
        }
    }

    /// The key type (`k=`) this algorithm needs.
    pub fn key_type(self) -> KeyType {
        match self {
            Algorithm::RsaSha1 | Algorithm::RsaSha256 => KeyType::Rsa,
            Algorithm::Ed25519Sha256 => KeyType::Ed25519,
        }
    }

    /// The hash name as the key record's `h=` tag lists it.
    pub fn hash_name(self) -> &'static str {
        match self {
            Algorithm::RsaSha1 => "sha1",
            Algorithm::RsaSha256 | Algorithm::Ed25519Sha256 => "sha256",
        }
    }

    pub(crate) fn digest(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self {
            Algorithm::RsaSha1 => &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::RsaSha256 | Algorithm::Ed25519Sha256 => &aws_lc_rs::digest::SHA256,
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One canonicalization algorithm (RFC 6376 §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Canon {
    /// `simple`: (almost) no change.
    Simple,
    /// `relaxed`: whitespace and header-name case normalised.
    #[default]
    Relaxed,
}

impl Canon {
    /// The `c=` token.
    pub fn as_str(self) -> &'static str {
        match self {
            Canon::Simple => "simple",
            Canon::Relaxed => "relaxed",
        }
    }
}

/// The `c=` tag: header and body canonicalization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Canonicalization {
    /// How header fields are canonicalized.
    pub header: Canon,
    /// How the body is canonicalized.
    pub body: Canon,
}

impl Default for Canonicalization {
    fn default() -> Self {
        Self {
            header: Canon::Relaxed,
            body: Canon::Relaxed,
        }
    }
}

impl Canonicalization {
    /// `header/body`, as `c=` writes it.
    pub fn as_str(&self) -> &'static str {
        match (self.header, self.body) {
            (Canon::Simple, Canon::Simple) => "simple/simple",
            (Canon::Simple, Canon::Relaxed) => "simple/relaxed",
            (Canon::Relaxed, Canon::Simple) => "relaxed/simple",
            (Canon::Relaxed, Canon::Relaxed) => "relaxed/relaxed",
        }
    }
}

impl std::fmt::Display for Canonicalization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of verifying one signature, with the RFC 8601 §2.7.1 tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DkimResult {
    /// The signature verified.
    Pass,
    /// The signature or the body hash did not verify, or the key is under 1024 bits.
    Fail,
    /// The signature could not be processed (for example it expired).
    Neutral,
    /// The signature is not acceptable whatever its bytes say (rsa-sha1, RFC 8301).
    Policy,
    /// A temporary failure, usually DNS: trying later may succeed.
    #[serde(rename = "temperror")]
    TempError,
    /// A permanent error: a malformed signature, an absent or revoked key.
    #[serde(rename = "permerror")]
    PermError,
}

impl DkimResult {
    /// The RFC 8601 token.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimResult::Pass => "pass",
            DkimResult::Fail => "fail",
            DkimResult::Neutral => "neutral",
            DkimResult::Policy => "policy",
            DkimResult::TempError => "temperror",
            DkimResult::PermError => "permerror",
        }
    }
}

impl std::fmt::Display for DkimResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::message::Message;

    /// Mutated signed messages and key records (a small deterministic fuzz run): every input
    /// gives a verdict or an error, never a panic.
    #[test]
    fn mutated_inputs_never_panic() {
        let key = generate_ed25519().unwrap();
        let txt = key.txt_value().unwrap();
        let m =
            Message::parse(&b"From: a@example.com\r\nSubject: x\r\n\r\nbody  \r\n"[..]).unwrap();
        let mut signer = Signer::new("example.com", "sel", key);
        signer.body_length = true;
        signer.expire_after = Some(60);
        let signed = signer.sign_message_at(&m, 1000).unwrap();
        let parsed_key = Arc::new(DkimKey::parse(&txt).unwrap());
        let keys = |_: &str| Some(parsed_key.clone());
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || crate::test_support::xorshift(&mut state);
        let alphabet = b"=;: \t\r\n\x00\xffabhlvx0-/@.";
        for _ in 0..3000 {
            let mut input = signed.clone();
            let mut record = txt.clone().into_bytes();
            for _ in 0..(next() % 4 + 1) {
                let pos = (next() as usize) % input.len();
                let byte = alphabet[(next() as usize) % alphabet.len()];
                match next() % 3 {
                    0 => input[pos] = byte,
                    1 => input.insert(pos, byte),
                    _ => {
                        input.remove(pos);
                    }
                }
                let rpos = (next() as usize) % record.len();
                record[rpos] = byte;
            }
            if let Ok(message) = Message::parse(input) {
                let out = verify_with_keys(&message, &keys, 1010);
                assert_eq!(out.len(), message.header_fields("DKIM-Signature").count());
            }
            let _ = DkimKey::parse(&record);
            let _ = TagList::parse(&record);
        }
    }
}
