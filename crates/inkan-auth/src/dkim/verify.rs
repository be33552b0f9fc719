//! Verifying every DKIM-Signature on a message (RFC 6376 §6) with the RFC 8301 rules (rsa-sha1
//! and RSA keys under 1024 bits never pass) and RFC 8463 ed25519-sha256. Each signature gets an
//! RFC 8601 result and a reason a person can act on: the body changed vs the signed headers
//! changed, no key published vs DNS failing, revoked, short, expired, testing.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use inkan_dns::{Answer, DnsError, RecordType, Resolver};

use super::canon::{BodyHasher, header_digest, header_digest_with_b};
use super::key::{DkimKey, KeyError, KeyType};
use super::parse::{Signature, SignatureError};
use super::{Algorithm, DkimResult};
use crate::message::{HeaderField, Message};

/// At most this many signatures on one message are verified; the rest get `permerror`, so that
/// a message cannot make a verifier do unbounded DNS and crypto work.
pub const MAX_SIGNATURES: usize = 16;

/// Why a signature got its result.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The signature verified.
    Verified,
    /// The signature verified but the key is in testing mode (`t=y`).
    VerifiedTesting,
    /// The DKIM-Signature field is malformed.
    Malformed(SignatureError),
    /// `x=` is in the past.
    Expired {
        /// `x=`.
        expiration: u64,
        /// The verifier's time.
        now: u64,
    },
    /// DNS says there is no key at the name (NXDOMAIN, NODATA, or no TXT record).
    KeyAbsent {
        /// The key's DNS name.
        name: String,
    },
    /// DNS failed: the key could not be fetched now.
    DnsFailure(DnsError),
    /// The key name is not a valid DNS name.
    InvalidKeyName(DnsError),
    /// The key record is malformed.
    KeySyntax(KeyError),
    /// The key record's `p=` is empty.
    KeyRevoked,
    /// The key type does not match `a=`.
    KeyTypeMismatch {
        /// `k=` of the key.
        key_type: KeyType,
        /// `a=` of the signature.
        algorithm: Algorithm,
    },
    /// The key's `h=` does not allow the signature's hash.
    HashNotAllowed,
    /// The key's `s=` does not include email.
    NotForEmail,
    /// The key has `t=s` but `i=` is in a subdomain of `d=`.
    StrictIdentity,
    /// The RSA key is under 1024 bits (RFC 8301 §3.2).
    KeyTooShort {
        /// The key size.
        bits: u32,
    },
    /// The signature uses rsa-sha1 (RFC 8301 §3.1).
    Sha1,
    /// `l=` is longer than the body.
    BodyTooShort {
        /// `l=`.
        length: u64,
        /// The canonical body's length.
        actual: u64,
    },
    /// The body hash does not match: the body changed after signing.
    BodyHashMismatch {
        /// True when the signature over the headers still verifies.
        headers_intact: bool,
    },
    /// The signature over the headers does not verify: a signed header changed, or the key in
    /// DNS is not the one that signed.
    SignatureMismatch,
    /// More than [`MAX_SIGNATURES`] signatures precede this one.
    TooManySignatures,
}

impl Reason {
    /// A short stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Verified => "verified",
            Reason::VerifiedTesting => "verified_testing_mode",
            Reason::Malformed(_) => "malformed_signature",
            Reason::Expired { .. } => "expired",
            Reason::KeyAbsent { .. } => "key_absent",
            Reason::DnsFailure(_) => "dns_failure",
            Reason::InvalidKeyName(_) => "invalid_key_name",
            Reason::KeySyntax(_) => "key_syntax",
            Reason::KeyRevoked => "key_revoked",
            Reason::KeyTypeMismatch { .. } => "key_type_mismatch",
            Reason::HashNotAllowed => "hash_not_allowed",
            Reason::NotForEmail => "key_not_for_email",
            Reason::StrictIdentity => "strict_identity",
            Reason::KeyTooShort { .. } => "key_too_short",
            Reason::Sha1 => "rsa_sha1",
            Reason::BodyTooShort { .. } => "body_shorter_than_l",
            Reason::BodyHashMismatch { .. } => "body_hash_mismatch",
            Reason::SignatureMismatch => "signature_mismatch",
            Reason::TooManySignatures => "too_many_signatures",
        }
    }

    /// The words for a reason that names no value, so that they need no formatting.
    fn static_text(&self) -> Option<&'static str> {
        Some(match self {
            Reason::Verified => "signature verified",
            Reason::VerifiedTesting => {
                "signature verified, but the key is in testing mode (t=y): receivers may treat the message as unsigned; remove t=y from the key record"
            }
            Reason::KeyRevoked => "key revoked: the key record's p= is empty",
            Reason::HashNotAllowed => "key record's h= does not allow the signature's hash",
            Reason::NotForEmail => "key record's s= does not include email",
            Reason::Sha1 => "rsa-sha1 signatures never pass (RFC 8301); sign with rsa-sha256",
            Reason::BodyHashMismatch {
                headers_intact: true,
            } => {
                "body hash mismatch: the body changed after signing (the signed headers are intact); look for a footer or re-encoding added in transit"
            }
            Reason::BodyHashMismatch {
                headers_intact: false,
            } => {
                "body hash mismatch: the body changed after signing, and the signed headers changed too"
            }
            Reason::StrictIdentity => {
                "key has t=s, so i= must be in exactly d=, but it names a subdomain"
            }
            Reason::SignatureMismatch => {
                "signature mismatch: the body is intact but a signed header changed after signing, or the key in DNS is not the signing key"
            }
            _ => return None,
        })
    }

    /// The result this reason gives.
    pub fn result(&self) -> DkimResult {
        match self {
            Reason::Verified | Reason::VerifiedTesting => DkimResult::Pass,
            Reason::BodyHashMismatch { .. }
            | Reason::SignatureMismatch
            | Reason::BodyTooShort { .. }
            | Reason::KeyTooShort { .. } => DkimResult::Fail,
            Reason::Expired { .. } => DkimResult::Neutral,
            Reason::Sha1 => DkimResult::Policy,
            Reason::DnsFailure(_) => DkimResult::TempError,
            Reason::Malformed(_)
            | Reason::KeyAbsent { .. }
            | Reason::InvalidKeyName(_)
            | Reason::KeySyntax(_)
            | Reason::KeyRevoked
            | Reason::KeyTypeMismatch { .. }
            | Reason::HashNotAllowed
            | Reason::NotForEmail
            | Reason::StrictIdentity
            | Reason::TooManySignatures => DkimResult::PermError,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(text) = self.static_text() {
            return f.write_str(text);
        }
        match self {
            Reason::Malformed(e) => write!(f, "malformed DKIM-Signature: {e}"),
            Reason::Expired { expiration, now } => {
                write!(
                    f,
                    "signature expired: x={expiration} is {} seconds before now ({now})",
                    now - expiration
                )
            }
            Reason::KeyAbsent { name } => write!(
                f,
                "no key published at {name} (DNS says the name or its TXT record does not exist): publish the key or fix s=/d="
            ),
            Reason::DnsFailure(e) => write!(f, "key lookup failed, try again later: {e}"),
            Reason::InvalidKeyName(e) => write!(f, "key name cannot be looked up: {e}"),
            Reason::KeySyntax(e) => write!(f, "key record is unusable: {e}"),
            Reason::KeyTypeMismatch {
                key_type,
                algorithm,
            } => {
                write!(
                    f,
                    "key is k={} but the signature uses a={algorithm}",
                    key_type.as_str()
                )
            }
            Reason::KeyTooShort { bits } => {
                write!(
                    f,
                    "RSA key is {bits} bits, under the 1024-bit minimum (RFC 8301); publish a 2048-bit key"
                )
            }
            Reason::BodyTooShort { length, actual } => {
                write!(
                    f,
                    "l={length} but the canonical body is only {actual} bytes: the body was truncated"
                )
            }
            Reason::TooManySignatures => {
                write!(
                    f,
                    "not verified: more than {MAX_SIGNATURES} signatures on the message"
                )
            }
            // Written above from their static text.
            Reason::Verified
            | Reason::VerifiedTesting
            | Reason::KeyRevoked
            | Reason::HashNotAllowed
            | Reason::NotForEmail
            | Reason::Sha1
            | Reason::BodyHashMismatch { .. }
            | Reason::StrictIdentity
            | Reason::SignatureMismatch => Ok(()),
        }
    }
}

/// The verdict on one DKIM-Signature field.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DkimOutput {
    /// `d=` (empty when the field could not be parsed).
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// `a=`, or what was written when unknown.
    pub algorithm: Cow<'static, str>,
    /// The RFC 8601 result.
    pub result: DkimResult,
    /// Why, in words a person can act on.
    pub reason: Cow<'static, str>,
    /// A stable code for the reason.
    pub reason_code: &'static str,
    /// `i=`, if present.
    pub identity: Option<String>,
    /// `c=`, as `header/body`.
    pub canonicalization: Option<Cow<'static, str>>,
    /// `h=`, lower-cased, in order.
    pub signed_headers: Vec<Cow<'static, str>>,
    /// The key's size in bits, when the key was fetched.
    pub key_bits: Option<u32>,
    /// The key type, when the key was fetched.
    pub key_type: Option<KeyType>,
    /// The key is in testing mode (`t=y`).
    pub testing: bool,
    /// `t=`.
    pub timestamp: Option<u64>,
    /// `x=`.
    pub expiration: Option<u64>,
    /// `l=`: when present, content can be appended below the signed length.
    pub body_length: Option<u64>,
    /// Bytes of canonical body after `l=` that the signature does not cover.
    pub unsigned_body_bytes: Option<u64>,
    /// True when `l=` is present: anyone can append content (a risk, RFC 6376 §8.2).
    pub body_length_risk: bool,
    /// True when `h=` lists From more often than the message has From fields, so another From
    /// cannot be added.
    pub from_oversigned: bool,
    /// True when `h=` covers List-Unsubscribe.
    pub list_unsubscribe_signed: bool,
    /// True when `h=` covers List-Unsubscribe-Post.
    pub list_unsubscribe_post_signed: bool,
    /// Position of the DKIM-Signature field among all header fields (0 = topmost).
    pub header_index: usize,
    #[serde(skip)]
    reason_kind: Reason,
}

impl DkimOutput {
    /// The reason as a value.
    pub fn reason_kind(&self) -> &Reason {
        &self.reason_kind
    }

    /// An output for the signature in `field` that says nothing yet; [`Self::take_signature`]
    /// or [`Self::describe_unparsed`] fill in what the signature states, [`Self::set_reason`]
    /// the verdict.
    fn blank(field: &HeaderField<'_>) -> Self {
        DkimOutput {
            domain: String::new(),
            selector: String::new(),
            algorithm: Cow::Borrowed(""),
            result: DkimResult::PermError,
            reason: Cow::Borrowed(""),
            reason_code: "",
            identity: None,
            canonicalization: None,
            signed_headers: Vec::new(),
            key_bits: None,
            key_type: None,
            testing: false,
            timestamp: None,
            expiration: None,
            body_length: None,
            unsigned_body_bytes: None,
            body_length_risk: false,
            from_oversigned: false,
            list_unsubscribe_signed: false,
            list_unsubscribe_post_signed: false,
            header_index: field.index(),
            reason_kind: Reason::TooManySignatures,
        }
    }

    /// The facts `signature` states about itself, moved out of it once it is no longer needed;
    /// `from_count` is how many From fields the message has.
    fn take_signature(&mut self, s: Signature, from_count: usize) {
        // One pass over `h=` for the three facts it gives.
        let (mut from_listed, mut unsubscribe, mut unsubscribe_post) = (0, false, false);
        for name in &s.signed_headers {
            match name.as_ref() {
                "list-unsubscribe" => unsubscribe = true,
                "list-unsubscribe-post" => unsubscribe_post = true,
                name if name.eq_ignore_ascii_case("from") => from_listed += 1,
                _ => {}
            }
        }
        self.from_oversigned = from_listed > from_count;
        self.list_unsubscribe_signed = unsubscribe;
        self.list_unsubscribe_post_signed = unsubscribe_post;
        self.domain = s.domain;
        self.selector = s.selector;
        self.algorithm = Cow::Borrowed(s.algorithm.as_str());
        self.identity = s.identity;
        self.canonicalization = Some(Cow::Borrowed(s.canonicalization.as_str()));
        self.signed_headers = s.signed_headers;
        self.timestamp = s.timestamp;
        self.expiration = s.expiration;
        self.body_length = s.body_length;
        self.body_length_risk = s.body_length.is_some();
    }

    /// What can be said about a signature that does not parse.
    fn describe_unparsed(&mut self, field: &HeaderField<'_>) {
        if let Ok(tags) = super::parse::TagList::parse(field.value()) {
            let get = |t| tags.get(t).map(super::parse::strip_fws).unwrap_or_default();
            self.domain = get("d").to_ascii_lowercase();
            self.selector = get("s");
            self.algorithm = get("a").into();
        }
    }

    fn set_reason(&mut self, reason: Reason) {
        self.result = reason.result();
        self.reason = match reason.static_text() {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(reason.to_string()),
        };
        self.reason_code = reason.code();
        self.reason_kind = reason;
    }
}

/// Looks up and parses the key at `name`: the first TXT record there that parses as a key.
pub async fn fetch_key(resolver: &dyn Resolver, name: &str) -> Result<DkimKey, Reason> {
    let answer = match resolver.lookup(name, RecordType::Txt).await {
        Ok(a) => a,
        Err(e) if e.is_temporary() => return Err(Reason::DnsFailure(e)),
        Err(e) => return Err(Reason::InvalidKeyName(e)),
    };
    let records: Vec<Vec<u8>> = match &answer {
        Answer::Records(_) => answer.txt().map(|t| t.concat()).collect(),
        Answer::NxDomain { .. } | Answer::NoData { .. } => Vec::new(),
    };
    let mut first_error = None;
    for txt in &records {
        match DkimKey::parse(txt) {
            Ok(key) => return Ok(key),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(match first_error {
        Some(e) => Reason::KeySyntax(e),
        None => Reason::KeyAbsent {
            name: name.to_owned(),
        },
    })
}

/// The header hash of `signature` as it appears in `field` (RFC 6376 §3.7): the fields
/// listed in `h=` then the signature field without its `b=` value, canonicalized and hashed.
pub fn header_hash(
    message: &Message<'_>,
    signature: &Signature,
    field: &HeaderField<'_>,
) -> Vec<u8> {
    header_digest(
        message,
        &signature.signed_headers,
        signature.canonicalization.header,
        field.name(),
        field.raw(),
        signature.algorithm,
    )
    .as_ref()
    .to_vec()
}

/// The body hash `signature` asks for (canonicalization, `l=`, hash), or `Err(len)` when
/// `l=` is longer than the canonical body.
pub fn body_hash(message: &Message<'_>, signature: &Signature) -> Result<Vec<u8>, u64> {
    BodyHasher::for_message(message).hash(
        signature.canonicalization.body,
        signature.body_length,
        signature.algorithm,
    )
}

/// Verifies every DKIM-Signature on `message`, top to bottom, at the current time.
pub async fn verify(resolver: &dyn Resolver, message: &Message<'_>) -> Vec<DkimOutput> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    verify_at(resolver, message, now).await
}

/// Verifies every DKIM-Signature on `message` as of `now` (seconds since the Unix epoch),
/// fetching each key named by a signature once.
pub async fn verify_at(
    resolver: &dyn Resolver,
    message: &Message<'_>,
    now: u64,
) -> Vec<DkimOutput> {
    let signatures: Vec<_> = parse_signatures(message).collect();
    let mut keys: Vec<(String, Result<Arc<DkimKey>, Reason>)> = Vec::new();
    for (signature, _) in signatures.iter().filter_map(|(_, s)| s.as_ref().ok()) {
        if needs_key(signature, now) {
            let name = signature.key_name();
            if !keys.iter().any(|(n, _)| *n == name) {
                let key = fetch_key(resolver, &name).await.map(Arc::new);
                keys.push((name, key));
            }
        }
    }
    let lookup = |name: &str| match keys.iter().find(|(n, _)| n == name) {
        Some((_, key)) => key.clone(),
        None => Err(Reason::KeyAbsent {
            name: name.to_owned(),
        }),
    };
    verify_signatures(message, signatures, now, &lookup)
}

/// Verifies every DKIM-Signature on `message` with keys already at hand (`keys` maps the key
/// name `selector._domainkey.domain` to the parsed key), as of `now`. Signatures whose key is
/// not in `keys` get [`Reason::KeyAbsent`]. For hot loops that cache keys themselves.
pub fn verify_with_keys(
    message: &Message<'_>,
    keys: &dyn Fn(&str) -> Option<Arc<DkimKey>>,
    now: u64,
) -> Vec<DkimOutput> {
    let lookup = |name: &str| {
        keys(name).ok_or_else(|| Reason::KeyAbsent {
            name: name.to_owned(),
        })
    };
    verify_signatures(message, parse_signatures(message), now, &lookup)
}

/// A DKIM-Signature field with its parsed value and where the `b=` value lies in the field's
/// value.
type Parsed<'m> = (HeaderField<'m>, Result<(Signature, Range<usize>), Reason>);

/// Every DKIM-Signature field, top to bottom, with its parsed value; fields past
/// [`MAX_SIGNATURES`] are not parsed.
fn parse_signatures<'m>(message: &'m Message<'_>) -> impl Iterator<Item = Parsed<'m>> {
    message
        .header_fields("DKIM-Signature")
        .enumerate()
        .map(|(n, field)| {
            let signature = if n >= MAX_SIGNATURES {
                Err(Reason::TooManySignatures)
            } else {
                Signature::parse_locating_b(field.value()).map_err(Reason::Malformed)
            };
            (field, signature)
        })
}

/// True when `signature` is judged by its key (not refused before for rsa-sha1 or expiry).
fn needs_key(signature: &Signature, now: u64) -> bool {
    signature.algorithm != Algorithm::RsaSha1 && signature.expiration.is_none_or(|x| x >= now)
}

/// The loop [`verify_at`] and [`verify_with_keys`] share: each parsed signature checked with the
/// key `keys` gives for its key name, sharing body hashes between signatures.
fn verify_signatures<'m>(
    message: &Message<'_>,
    signatures: impl IntoIterator<Item = Parsed<'m>>,
    now: u64,
    keys: &dyn Fn(&str) -> Result<Arc<DkimKey>, Reason>,
) -> Vec<DkimOutput> {
    let mut body = BodyHasher::for_message(message);
    let from_count = message.header_fields("From").count();
    let signatures = signatures.into_iter();
    let mut outputs = Vec::with_capacity(signatures.size_hint().0.max(1));
    for (field, signature) in signatures {
        let mut out = DkimOutput::blank(&field);
        let (signature, b_value) = match signature {
            Ok(s) => s,
            Err(reason) => {
                out.describe_unparsed(&field);
                out.set_reason(reason);
                outputs.push(out);
                continue;
            }
        };
        let reason = if signature.algorithm == Algorithm::RsaSha1 {
            Reason::Sha1
        } else if let Some(x) = signature.expiration.filter(|&x| x < now) {
            Reason::Expired { expiration: x, now }
        } else {
            let mut buf = [0; KEY_NAME_ROOM];
            let found = match key_name_in(&signature, &mut buf) {
                Some(name) => keys(name),
                None => keys(&signature.key_name()),
            };
            match found {
                Ok(key) => verify_with_key(
                    message, &field, &signature, b_value, &key, &mut body, &mut out,
                ),
                Err(reason) => reason,
            }
        };
        out.take_signature(signature, from_count);
        out.set_reason(reason);
        outputs.push(out);
    }
    outputs
}

/// Room on the stack for most key names.
const KEY_NAME_ROOM: usize = 128;

/// [`Signature::key_name`] written into `buf`, without an allocation, when it fits.
fn key_name_in<'b>(signature: &Signature, buf: &'b mut [u8; KEY_NAME_ROOM]) -> Option<&'b str> {
    let mut len = 0;
    for part in signature.key_name_parts() {
        buf.get_mut(len..len + part.len())?
            .copy_from_slice(part.as_bytes());
        len += part.len();
    }
    std::str::from_utf8(&buf[..len]).ok()
}

/// The key rules every DKIM-style signature (DKIM-Signature, ARC-Message-Signature, ARC-Seal)
/// applies before any crypto: not revoked, the type `a=` needs, the hash allowed by `h=`, a
/// service type including email, and RSA of at least 1024 bits (RFC 8301 §3.2).
pub fn check_key(key: &DkimKey, algorithm: Algorithm) -> Result<(), Reason> {
    if key.revoked {
        return Err(Reason::KeyRevoked);
    }
    if key.key_type != algorithm.key_type() {
        return Err(Reason::KeyTypeMismatch {
            key_type: key.key_type,
            algorithm,
        });
    }
    if !key.allows_hash(algorithm) {
        return Err(Reason::HashNotAllowed);
    }
    if !key.allows_email() {
        return Err(Reason::NotForEmail);
    }
    if let Some(bits) = key.bits
        && key.key_type == KeyType::Rsa
        && bits < 1024
    {
        return Err(Reason::KeyTooShort { bits });
    }
    Ok(())
}

/// Checks `signature` in `field`, its `b=` value at `b_value` in the field's value, against an
/// already fetched `key` (the key rules, the body hash, then the header signature) and fills
/// the key facts into `out`.
fn verify_with_key(
    message: &Message<'_>,
    field: &HeaderField<'_>,
    signature: &Signature,
    b_value: Range<usize>,
    key: &DkimKey,
    body: &mut BodyHasher<'_>,
    out: &mut DkimOutput,
) -> Reason {
    out.key_bits = key.bits;
    out.key_type = Some(key.key_type);
    out.testing = key.flags.testing;
    if let Err(reason) = check_key(key, signature.algorithm) {
        return reason;
    }
    if key.flags.strict
        && let Some(i) = &signature.identity
    {
        let idomain = i.rsplit_once('@').map_or("", |(_, d)| d);
        if !idomain.eq_ignore_ascii_case(&signature.domain) {
            return Reason::StrictIdentity;
        }
    }
    let matched = body.hash_matches(
        signature.canonicalization.body,
        signature.body_length,
        signature.algorithm,
        &signature.body_hash,
    );
    if let Some(l) = signature.body_length {
        let canon_len = body.canonical_len(signature.canonicalization.body);
        out.unsigned_body_bytes = Some(canon_len.saturating_sub(l));
    }
    let body_ok = match matched {
        Ok(same) => same,
        Err(actual) => {
            return Reason::BodyTooShort {
                length: signature.body_length.unwrap_or_default(),
                actual,
            };
        }
    };
    // The value starts after the field's first colon (a name has none), where the `b=` value
    // is counted from; before it is the name, with any whitespace that relaxed
    // canonicalization takes off.
    let raw = field.raw();
    let colon = raw.iter().position(|&b| b == b':').unwrap_or(raw.len());
    let value_start = (colon + 1).min(raw.len());
    let hash = header_digest_with_b(
        message,
        &signature.signed_headers,
        signature.canonicalization.header,
        &raw[..colon],
        raw,
        Some(value_start + b_value.start..value_start + b_value.end),
        signature.algorithm,
    );
    let headers_ok = key.verify_signature(signature.algorithm, hash.as_ref(), &signature.signature);
    match (body_ok, headers_ok) {
        (true, true) if key.flags.testing => Reason::VerifiedTesting,
        (true, true) => Reason::Verified,
        (false, headers_intact) => Reason::BodyHashMismatch { headers_intact },
        (true, false) => Reason::SignatureMismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::{
        Canon, Canonicalization, Signer, SigningKey, generate_ed25519, generate_rsa,
    };
    use inkan_dns::{MemoryResolver, RData, Record, Txt};
    use inkan_testkit::{Fault, FaultPlan, FaultResolver};

    const NOW: u64 = 1_700_000_000;
    const MSG: &[u8] = b"From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: Hello\r\n\
        Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nMessage-ID: <1@example.com>\r\n\
        List-Unsubscribe: <https://example.com/u/1>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
        \r\nHello Bob,\r\n\r\nsee you  at\teight.\r\n";

    fn txt(name: &str, value: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![value.as_bytes().to_vec()])),
        }
    }

    fn signed(signer: &Signer, msg: &[u8]) -> Message<'static> {
        let m = Message::parse(msg).unwrap();
        Message::parse(signer.sign_message_at(&m, NOW).unwrap()).unwrap()
    }

    fn run(resolver: &dyn Resolver, m: &Message<'_>) -> Vec<DkimOutput> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(verify_at(resolver, m, NOW + 10))
    }

    fn published(key: &SigningKey, record_extra: &str) -> MemoryResolver {
        let value = key
            .txt_value()
            .unwrap()
            .replace("v=DKIM1;", &format!("v=DKIM1;{record_extra}"));
        MemoryResolver::from_records([txt("sel._domainkey.example.com", &value)])
    }

    fn one(resolver: &dyn Resolver, m: &Message<'_>) -> DkimOutput {
        let mut out = run(resolver, m);
        assert_eq!(out.len(), 1);
        out.remove(0)
    }

    #[test]
    fn key_names_written_on_the_stack_are_the_key_names() {
        let mut state = 0x6b65_795f_6e61_6d65_u64;
        let mut signature = Signature {
            algorithm: Algorithm::RsaSha256,
            signature: Vec::new(),
            body_hash: Vec::new(),
            canonicalization: Canonicalization::default(),
            domain: String::new(),
            signed_headers: Vec::new(),
            identity: None,
            body_length: None,
            selector: String::new(),
            timestamp: None,
            expiration: None,
        };
        let mut fitted = 0;
        for _ in 0..2000 {
            let mut text = |len: u64| -> String {
                (0..crate::test_support::xorshift(&mut state) % len)
                    .map(|_| {
                        let r = crate::test_support::xorshift(&mut state);
                        char::from(b"abz09-._"[(r % 8) as usize])
                    })
                    .collect()
            };
            signature.selector = text(70);
            signature.domain = text(90);
            let mut buf = [0; KEY_NAME_ROOM];
            let name = signature.key_name();
            match key_name_in(&signature, &mut buf) {
                Some(on_stack) => {
                    fitted += 1;
                    assert_eq!(on_stack, name);
                }
                None => assert!(name.len() > KEY_NAME_ROOM, "{name}"),
            }
        }
        assert!(fitted > 1000);
    }

    #[test]
    fn rsa_and_ed25519_sign_then_verify_in_all_canonicalizations() {
        for key in [generate_rsa(2048).unwrap(), generate_ed25519().unwrap()] {
            let resolver = published(&key, "");
            for header in [Canon::Simple, Canon::Relaxed] {
                for body in [Canon::Simple, Canon::Relaxed] {
                    let mut signer = Signer::new("example.com", "sel", key.clone());
                    signer.canonicalization = Canonicalization { header, body };
                    let out = one(&resolver, &signed(&signer, MSG));
                    assert_eq!(
                        out.result,
                        DkimResult::Pass,
                        "{header:?}/{body:?}: {}",
                        out.reason
                    );
                    assert!(
                        out.from_oversigned
                            && out.list_unsubscribe_signed
                            && out.list_unsubscribe_post_signed
                    );
                    assert_eq!(
                        out.key_bits,
                        Some(if key.bits() == 256 { 256 } else { 2048 })
                    );
                    assert_eq!(out.timestamp, Some(NOW));
                }
            }
        }
    }

    #[test]
    fn body_change_and_header_change_are_told_apart() {
        let key = generate_ed25519().unwrap();
        let resolver = published(&key, "");
        let good = signed(&Signer::new("example.com", "sel", key), MSG);
        let text = String::from_utf8(good.as_bytes().to_vec()).unwrap();

        let body_changed = Message::parse(text.replace("eight.", "nine.")).unwrap();
        let out = one(&resolver, &body_changed);
        assert_eq!(
            (out.result, out.reason_kind()),
            (
                DkimResult::Fail,
                &Reason::BodyHashMismatch {
                    headers_intact: true
                }
            )
        );

        let both = Message::parse(
            text.replace("eight.", "nine.")
                .replace("Subject: Hello", "Subject: Hi"),
        )
        .unwrap();
        assert_eq!(
            one(&resolver, &both).reason_kind(),
            &Reason::BodyHashMismatch {
                headers_intact: false
            }
        );

        for (from, to) in [
            ("Subject: Hello", "Subject: Hullo"),
            ("To: bob@example.net", "To: eve@example.net"),
            (
                "From: Alice <alice@example.com>",
                "From: Alice <alice@example.org>",
            ),
            (
                "List-Unsubscribe: <https://example.com/u/1>",
                "List-Unsubscribe: <https://evil.test/>",
            ),
            ("Message-ID: <1@example.com>", "Message-ID: <2@example.com>"),
        ] {
            let m = Message::parse(text.replace(from, to)).unwrap();
            let out = one(&resolver, &m);
            assert_eq!(
                out.reason_kind(),
                &Reason::SignatureMismatch,
                "changing {from}"
            );
            assert_eq!(out.result, DkimResult::Fail);
        }
        // Adding a second Subject (over-signed) breaks it; adding an unsigned header does not.
        let added = Message::parse(text.replace(
            "Subject: Hello\r\n",
            "Subject: Hello\r\nSubject: Buy now\r\n",
        ))
        .unwrap();
        assert_eq!(
            one(&resolver, &added).reason_kind(),
            &Reason::SignatureMismatch
        );
        let unsigned =
            Message::parse(text.replace("Subject: Hello\r\n", "Subject: Hello\r\nX-Spam: no\r\n"))
                .unwrap();
        assert_eq!(one(&resolver, &unsigned).result, DkimResult::Pass);
        // Relaxed canonicalization tolerates whitespace and header-name case changes.
        let rewrapped =
            Message::parse(text.replace("Subject: Hello", "subject:   Hello  ")).unwrap();
        assert_eq!(one(&resolver, &rewrapped).result, DkimResult::Pass);
        // So does whitespace before the colon of the signature field itself.
        let spaced =
            Message::parse(text.replacen("DKIM-Signature:", "DKIM-Signature \t:", 1)).unwrap();
        assert_eq!(one(&resolver, &spaced).result, DkimResult::Pass);
    }

    #[test]
    fn key_problems_have_their_own_reasons() {
        let key = generate_ed25519().unwrap();
        let m = signed(&Signer::new("example.com", "sel", key.clone()), MSG);

        let absent = one(&MemoryResolver::new(), &m);
        assert_eq!(absent.result, DkimResult::PermError);
        assert_eq!(absent.reason_code, "key_absent");
        assert!(
            absent.reason.contains("sel._domainkey.example.com"),
            "{}",
            absent.reason
        );

        let mut plan = FaultPlan::new();
        plan.add("sel._domainkey.example.com", Fault::ServFail, []);
        let failing = one(&FaultResolver::new(published(&key, ""), plan), &m);
        assert_eq!(
            (failing.result, failing.reason_code),
            (DkimResult::TempError, "dns_failure")
        );

        let revoked = MemoryResolver::from_records([txt(
            "sel._domainkey.example.com",
            "v=DKIM1; k=ed25519; p=",
        )]);
        assert_eq!(one(&revoked, &m).reason_kind(), &Reason::KeyRevoked);

        let garbage = MemoryResolver::from_records([txt(
            "sel._domainkey.example.com",
            "v=DKIM1; k=ed25519 p=x",
        )]);
        assert_eq!(one(&garbage, &m).result, DkimResult::PermError);
        assert_eq!(one(&garbage, &m).reason_code, "key_syntax");

        let testing = one(&published(&key, " t=y;"), &m);
        assert_eq!(
            (testing.result, testing.reason_code, testing.testing),
            (DkimResult::Pass, "verified_testing_mode", true)
        );

        let wrong_type = published(&generate_rsa(2048).unwrap(), "");
        assert!(matches!(
            one(&wrong_type, &m).reason_kind(),
            Reason::KeyTypeMismatch { .. }
        ));

        let other_key = published(&generate_ed25519().unwrap(), "");
        assert_eq!(
            one(&other_key, &m).reason_kind(),
            &Reason::SignatureMismatch
        );

        let sha1_only = published(&key, " h=sha1;");
        assert_eq!(one(&sha1_only, &m).reason_kind(), &Reason::HashNotAllowed);
    }

    #[test]
    fn short_rsa_key_fails() {
        let key = generate_rsa(2048).unwrap();
        let m = signed(&Signer::new("example.com", "sel", key), MSG);
        let short = "v=DKIM1; k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALEFlZWeu1U6cDtSI4e7LnmKVQ1XmGJ507Jh9geTLFxDvuo+SiOQMuhl6S/0IQy6dDCRh55os+SLr8WdTaE6gSsCAwEAAQ==";
        let out = one(
            &MemoryResolver::from_records([txt("sel._domainkey.example.com", short)]),
            &m,
        );
        assert_eq!(
            (out.result, out.reason_kind(), out.key_bits),
            (
                DkimResult::Fail,
                &Reason::KeyTooShort { bits: 512 },
                Some(512)
            )
        );
    }

    #[test]
    fn expiry_sha1_and_malformed_signatures() {
        let key = generate_ed25519().unwrap();
        let resolver = published(&key, "");
        let mut signer = Signer::new("example.com", "sel", key);
        signer.expire_after = Some(5);
        let out = one(&resolver, &signed(&signer, MSG));
        assert_eq!(
            (out.result, out.reason_code),
            (DkimResult::Neutral, "expired")
        );
        assert_eq!(out.expiration, Some(NOW + 5));

        let sha1 = Message::parse(
            [&b"DKIM-Signature: v=1; a=rsa-sha1; d=example.com; s=sel; h=from; bh=YQ==; b=YQ==\r\n"[..], MSG].concat(),
        )
        .unwrap();
        assert_eq!(one(&resolver, &sha1).result, DkimResult::Policy);

        let broken = Message::parse(
            [&b"DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=sel; h=to; bh=YQ==; b=YQ==\r\n"[..], MSG].concat(),
        )
        .unwrap();
        let out = one(&resolver, &broken);
        assert_eq!(
            (out.result, out.reason_code),
            (DkimResult::PermError, "malformed_signature")
        );
        assert_eq!(
            (out.domain.as_str(), out.selector.as_str()),
            ("example.com", "sel")
        );
        assert!(
            out.reason.contains("h= does not include From"),
            "{}",
            out.reason
        );
    }

    #[test]
    fn body_length_is_honoured_and_flagged() {
        let key = generate_ed25519().unwrap();
        let resolver = published(&key, "");
        let mut signer = Signer::new("example.com", "sel", key);
        signer.body_length = true;
        let m = signed(&signer, MSG);
        let out = one(&resolver, &m);
        assert_eq!(out.result, DkimResult::Pass);
        assert!(out.body_length_risk);
        assert_eq!(out.unsigned_body_bytes, Some(0));
        let appended =
            Message::parse([m.as_bytes(), b"Click here: https://evil.test/\r\n"].concat()).unwrap();
        let out = one(&resolver, &appended);
        assert_eq!(
            out.result,
            DkimResult::Pass,
            "content below l= is not covered"
        );
        assert_eq!(out.unsigned_body_bytes, Some(32));
        let text = String::from_utf8(m.as_bytes().to_vec()).unwrap();
        let truncated = Message::parse(text.replace("see you  at\teight.\r\n", "")).unwrap();
        assert!(matches!(
            one(&resolver, &truncated).reason_kind(),
            Reason::BodyTooShort { .. }
        ));
    }

    #[test]
    fn several_signatures_in_header_order_share_body_hashes() {
        let rsa = generate_rsa(2048).unwrap();
        let ed = generate_ed25519().unwrap();
        let first = signed(&Signer::new("example.com", "sel", ed.clone()), MSG);
        let both = signed(
            &Signer::new("example.org", "rsa", rsa.clone()),
            first.as_bytes(),
        );
        let resolver = MemoryResolver::from_records([
            txt("sel._domainkey.example.com", &ed.txt_value().unwrap()),
            txt("rsa._domainkey.example.org", &rsa.txt_value().unwrap()),
        ]);
        let out = run(&resolver, &both);
        assert_eq!(
            out.iter().map(|o| o.domain.as_str()).collect::<Vec<_>>(),
            ["example.org", "example.com"]
        );
        assert!(out.iter().all(|o| o.result == DkimResult::Pass));
        let keys = |name: &str| -> Option<Arc<DkimKey>> {
            let txt = if name.starts_with("sel.") {
                ed.txt_value()
            } else {
                rsa.txt_value()
            };
            DkimKey::parse(txt.ok()?).ok().map(Arc::new)
        };
        assert!(
            verify_with_keys(&both, &keys, NOW)
                .iter()
                .all(|o| o.result == DkimResult::Pass)
        );
    }
}
