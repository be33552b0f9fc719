//! Signing (RFC 6376 §5) and key generation: private keys from PEM (PKCS#1 or PKCS#8 RSA of
//! 1024 to 4096 bits, PKCS#8 Ed25519), a default header set that covers what receivers and RFC 8058 one-click
//! unsubscribe need with From, Subject and the unsubscribe headers over-signed, relaxed/relaxed
//! by default, `t=` always and `x=` on request, and the TXT record to publish split into
//! strings of at most 255 bytes (RFC 1035 §3.3.14 via RFC 6376 §3.6.2.2).
//!
//! aws-lc signs only with RSA keys of 2048 bits and more, while receivers accept 1024 (RFC 8301
//! §3.2, Gmail's sender rules): keys of 1024 to 2047 bits are signed by the RustCrypto `rsa`
//! crate (constant-time big-integer arithmetic, blinded with randomness from aws-lc), everything
//! else by aws-lc.

use std::borrow::Cow;
use std::sync::Arc;

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self as sig, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;

use super::canon::{BodyHasher, header_digest};
use super::parse::{
    SignatureError, TagList, check_identity, decode_base64, lowercase_header_name, strip_fws,
};
use super::{Algorithm, Canon, Canonicalization};
use crate::message::{Message, eq_ignore_case, name_key};

/// Header fields signed by default, in the order they appear in `h=`.
pub const DEFAULT_SIGNED_HEADERS: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "Feedback-ID",
];

/// Header fields listed once more than they occur, so that nobody can add one after signing
/// without breaking the signature.
pub const DEFAULT_OVERSIGNED: &[&str] = &[
    "From",
    "Subject",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Why a private key file could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// No `-----BEGIN ...-----` block.
    #[error(
        "no PEM block found (expected '-----BEGIN PRIVATE KEY-----' or '-----BEGIN RSA PRIVATE KEY-----')"
    )]
    NoPem,
    /// A PEM label other than a private key.
    #[error("PEM block is '{0}', not a private key")]
    UnsupportedLabel(String),
    /// The PEM body is not base64.
    #[error("PEM body is not valid base64: {0}")]
    Base64(String),
    /// The DER inside is not a key aws-lc accepts.
    #[error("'{label}' block is not a usable RSA or Ed25519 private key: {detail}")]
    InvalidKey {
        /// The PEM label.
        label: String,
        /// What the crypto library said.
        detail: String,
    },
    /// The RSA key is over 4096 bits.
    #[error("RSA key is {0} bits; inkan signs with 1024 to 4096-bit keys")]
    RsaSize(u32),
    /// The RSA key is under 1024 bits: receivers fail its signatures (RFC 8301 §3.2).
    #[error(
        "RSA key is under 1024 bits: receivers fail signatures made with it (RFC 8301); make a 2048-bit key with 'inkan keygen'"
    )]
    RsaTooSmall,
    /// Key generation was asked for a size it cannot make.
    #[error("cannot generate a {0}-bit RSA key: choose 1024, 2048, 3072 or 4096")]
    GenerateSize(u32),
    /// The crypto library failed.
    #[error("crypto failure: {0}")]
    Crypto(String),
}

/// Why a message could not be signed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The algorithm does not fit the key (`rsa-sha256` with an Ed25519 key, or rsa-sha1).
    #[error("cannot sign with {algorithm} using a {key} key")]
    AlgorithmMismatch {
        /// Requested algorithm.
        algorithm: Algorithm,
        /// The key's type.
        key: &'static str,
    },
    /// `d=` or `s=` is not a valid name.
    #[error("invalid {what} '{value}'")]
    InvalidName {
        /// `domain` or `selector`.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A header name contains characters a field name cannot have.
    #[error("invalid header name '{0}' in the list of headers to sign")]
    InvalidHeaderName(String),
    /// The signing template is unusable.
    #[error("invalid signature template: {0}")]
    Template(String),
    /// `i=` has no `@`, or names a domain outside `d=` (RFC 6376 §3.5): every verifier would
    /// refuse the signature.
    #[error("cannot sign with this identity: {0}")]
    Identity(SignatureError),
    /// The message has no From field, which every signature must cover (RFC 6376 §5.4) and
    /// DMARC aligns with (RFC 7489 §3.1).
    #[error(
        "the message has no From field: a DKIM signature must cover From, and without one no \
         receiver can align the signature with the author's domain"
    )]
    NoFrom,
    /// The crypto library failed.
    #[error("crypto failure while signing")]
    Crypto,
}

/// A private key that signs.
#[derive(Clone, Debug)]
pub enum SigningKey {
    /// An RSA key pair of 2048 to 4096 bits (signed by aws-lc).
    Rsa(Arc<RsaKeyPair>),
    /// An RSA key of 1024 to 2047 bits, which aws-lc refuses to sign with (signed by the
    /// RustCrypto `rsa` crate).
    RsaUnder2048(Arc<rsa::PrivateKey>),
    /// An Ed25519 key pair.
    Ed25519(Arc<Ed25519KeyPair>),
}

/// The DER prefix of a PKCS#1 v1.5 SHA-256 `DigestInfo` (RFC 8017 §9.2, note 1): what precedes
/// the 32 digest bytes inside an rsa-sha256 signature.
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// aws-lc's system random generator as the `rand_core` source the `rsa` crate asks for (key
/// generation and signature blinding).
struct SystemRng;

impl rsa::rand_core::TryRng for SystemRng {
    type Error = aws_lc_rs::error::Unspecified;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0; 4];
        aws_lc_rs::rand::fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0; 8];
        aws_lc_rs::rand::fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        aws_lc_rs::rand::fill(dst)
    }
}

impl rsa::rand_core::TryCryptoRng for SystemRng {}

/// Reads an RSA key aws-lc refused as too small (`der` in PKCS#1 or PKCS#8): one of 1024 to 2047
/// bits, or [`KeyFileError::RsaTooSmall`].
fn rsa_under_2048(der: &[u8], pkcs8: bool) -> Result<SigningKey, KeyFileError> {
    let key = if pkcs8 {
        rsa::PrivateKey::from_pkcs8_der(der).ok()
    } else {
        rsa::PrivateKey::from_pkcs1_der(der).ok()
    };
    match key {
        Some(k) if k.size() * 8 >= 1024 => Ok(SigningKey::RsaUnder2048(Arc::new(k))),
        _ => Err(KeyFileError::RsaTooSmall),
    }
}

impl SigningKey {
    /// Reads a PEM private key: `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8, RSA or
    /// Ed25519).
    pub fn from_pem(pem: &str) -> Result<SigningKey, KeyFileError> {
        let begin = pem.find("-----BEGIN ").ok_or(KeyFileError::NoPem)?;
        let rest = &pem[begin + 11..];
        let label_end = rest.find("-----").ok_or(KeyFileError::NoPem)?;
        let label = rest[..label_end].to_owned();
        let body_start = label_end + 5;
        let end_marker = format!("-----END {label}-----");
        let body_end = rest.find(&end_marker).ok_or(KeyFileError::NoPem)?;
        if body_end < body_start {
            return Err(KeyFileError::NoPem);
        }
        let der = decode_base64(&rest[body_start..body_end])
            .map_err(|e| KeyFileError::Base64(e.to_string()))?;
        let invalid = |detail: String| KeyFileError::InvalidKey {
            label: label.clone(),
            detail,
        };
        let key = match label.as_str() {
            "RSA PRIVATE KEY" => match RsaKeyPair::from_der(&der) {
                Ok(k) => SigningKey::Rsa(Arc::new(k)),
                Err(e) if e.to_string() == "TooSmall" => rsa_under_2048(&der, false)?,
                Err(e) => return Err(invalid(e.to_string())),
            },
            "PRIVATE KEY" => match RsaKeyPair::from_pkcs8(&der) {
                Ok(k) => SigningKey::Rsa(Arc::new(k)),
                Err(rsa_err) => match Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
                    Ok(k) => SigningKey::Ed25519(Arc::new(k)),
                    Err(_) if rsa_err.to_string() == "TooSmall" => rsa_under_2048(&der, true)?,
                    Err(ed_err) => {
                        return Err(invalid(format!("as RSA: {rsa_err}; as Ed25519: {ed_err}")));
                    }
                },
            },
            other => return Err(KeyFileError::UnsupportedLabel(other.into())),
        };
        if let SigningKey::Rsa(_) = &key
            && key.bits() > 4096
        {
            return Err(KeyFileError::RsaSize(key.bits()));
        }
        Ok(key)
    }

    /// An Ed25519 key from its 32-byte seed (RFC 8032 §5.1.5).
    pub fn from_ed25519_seed(seed: &[u8]) -> Result<SigningKey, KeyFileError> {
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|k| SigningKey::Ed25519(Arc::new(k)))
            .map_err(|e| KeyFileError::InvalidKey {
                label: "ed25519 seed".into(),
                detail: e.to_string(),
            })
    }

    /// The algorithm this key signs with by default.
    pub fn default_algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Rsa(_) | SigningKey::RsaUnder2048(_) => Algorithm::RsaSha256,
            SigningKey::Ed25519(_) => Algorithm::Ed25519Sha256,
        }
    }

    /// The key size in bits (256 for Ed25519).
    pub fn bits(&self) -> u32 {
        match self {
            SigningKey::Rsa(k) => u32::try_from(k.public_modulus_len() * 8).unwrap_or(u32::MAX),
            SigningKey::RsaUnder2048(k) => u32::try_from(k.size() * 8).unwrap_or(u32::MAX),
            SigningKey::Ed25519(_) => 256,
        }
    }

    /// The `k=` token of the matching key record.
    pub fn key_type_name(&self) -> &'static str {
        match self {
            SigningKey::Rsa(_) | SigningKey::RsaUnder2048(_) => "rsa",
            SigningKey::Ed25519(_) => "ed25519",
        }
    }

    /// The public key as the key record's `p=` carries it: SubjectPublicKeyInfo DER for RSA,
    /// the raw 32 bytes for Ed25519 (RFC 8463 §4).
    pub fn public_key_bytes(&self) -> Result<Vec<u8>, KeyFileError> {
        match self {
            SigningKey::Rsa(k) => k
                .public_key()
                .as_der()
                .map(|d| d.as_ref().to_vec())
                .map_err(|e| KeyFileError::Crypto(e.to_string())),
            SigningKey::RsaUnder2048(k) => k
                .to_public_key()
                .to_public_key_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|e| KeyFileError::Crypto(e.to_string())),
            SigningKey::Ed25519(k) => Ok(k.public_key().as_ref().to_vec()),
        }
    }

    /// The key record to publish: `v=DKIM1; k=...; p=...`.
    pub fn txt_value(&self) -> Result<String, KeyFileError> {
        Ok(format!(
            "v=DKIM1; k={}; p={}",
            self.key_type_name(),
            STANDARD.encode(self.public_key_bytes()?)
        ))
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pkcs8_pem(&self) -> Result<String, KeyFileError> {
        let crypto = |e: &dyn std::fmt::Display| KeyFileError::Crypto(e.to_string());
        let der = match self {
            SigningKey::Rsa(k) => k
                .as_der()
                .map(|d| d.as_ref().to_vec())
                .map_err(|e| crypto(&e)),
            SigningKey::RsaUnder2048(k) => k
                .to_pkcs8_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|e| crypto(&e)),
            SigningKey::Ed25519(k) => k
                .to_pkcs8v1()
                .map(|d| d.as_ref().to_vec())
                .map_err(|e| crypto(&e)),
        }?;
        let b64 = STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        Ok(pem)
    }

    /// Signs the header hash `digest` (computed with `algorithm`'s hash).
    pub fn sign_digest(
        &self,
        algorithm: Algorithm,
        digest_bytes: &[u8],
    ) -> Result<Vec<u8>, SignError> {
        match (self, algorithm) {
            (SigningKey::Rsa(k), Algorithm::RsaSha256) => {
                let d = digest::Digest::import_less_safe(digest_bytes, &digest::SHA256)
                    .map_err(|_| SignError::Crypto)?;
                let mut out = vec![0; k.public_modulus_len()];
                k.sign_digest(&sig::RSA_PKCS1_SHA256, &d, &mut out)
                    .map_err(|_| SignError::Crypto)?;
                Ok(out)
            }
            (SigningKey::RsaUnder2048(k), Algorithm::RsaSha256) => {
                let padding = rsa::Pkcs1v15Sign {
                    hash_len: Some(digest::SHA256_OUTPUT_LEN),
                    prefix: Box::new(SHA256_DIGEST_INFO),
                };
                k.sign_with_rng(&mut SystemRng, padding, digest_bytes)
                    .map_err(|_| SignError::Crypto)
            }
            (SigningKey::Ed25519(k), Algorithm::Ed25519Sha256) => {
                Ok(k.sign(digest_bytes).as_ref().to_vec())
            }
            (key, algorithm) => Err(SignError::AlgorithmMismatch {
                algorithm,
                key: key.key_type_name(),
            }),
        }
    }
}

/// A new RSA key of `bits` (1024, 2048, 3072 or 4096).
pub fn generate_rsa(bits: u32) -> Result<SigningKey, KeyFileError> {
    let size = match bits {
        1024 => {
            return rsa::PrivateKey::new(&mut SystemRng, 1024)
                .map(|k| SigningKey::RsaUnder2048(Arc::new(k)))
                .map_err(|e| KeyFileError::Crypto(e.to_string()));
        }
        2048 => KeySize::Rsa2048,
        3072 => KeySize::Rsa3072,
        4096 => KeySize::Rsa4096,
        other => return Err(KeyFileError::GenerateSize(other)),
    };
    RsaKeyPair::generate(size)
        .map(|k| SigningKey::Rsa(Arc::new(k)))
        .map_err(|e| KeyFileError::Crypto(e.to_string()))
}

/// A new Ed25519 key.
pub fn generate_ed25519() -> Result<SigningKey, KeyFileError> {
    Ed25519KeyPair::generate()
        .map(|k| SigningKey::Ed25519(Arc::new(k)))
        .map_err(|e| KeyFileError::Crypto(e.to_string()))
}

/// Splits a TXT value into character-strings of at most 255 bytes.
pub fn txt_record_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let mut cut = rest.len().min(255);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    out
}

/// Signs messages for one domain and selector.
#[derive(Clone, Debug)]
pub struct Signer {
    /// `d=`.
    pub domain: String,
    /// `s=`.
    pub selector: String,
    /// The private key.
    pub key: SigningKey,
    /// `a=` (defaults from the key).
    pub algorithm: Algorithm,
    /// `c=` (default relaxed/relaxed).
    pub canonicalization: Canonicalization,
    /// Header names to sign (each occurrence in the message is listed).
    pub headers: Vec<String>,
    /// Header names listed once more than they occur.
    pub oversigned: Vec<String>,
    /// `i=`, if wanted.
    pub identity: Option<String>,
    /// Seconds after `t=` for `x=`, if wanted.
    pub expire_after: Option<u64>,
    /// Whether to add `l=` (the canonical body length); a risk, off by default.
    pub body_length: bool,
}

impl Signer {
    /// A signer with the defaults: the key's algorithm, relaxed/relaxed, the default header set.
    pub fn new(domain: impl Into<String>, selector: impl Into<String>, key: SigningKey) -> Signer {
        Signer {
            domain: domain.into(),
            selector: selector.into(),
            algorithm: key.default_algorithm(),
            key,
            canonicalization: Canonicalization::default(),
            headers: DEFAULT_SIGNED_HEADERS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            oversigned: DEFAULT_OVERSIGNED.iter().map(|s| (*s).to_owned()).collect(),
            identity: None,
            expire_after: None,
            body_length: false,
        }
    }

    /// The `h=` list for `message`.
    pub fn header_list(&self, message: &Message<'_>) -> Result<Vec<String>, SignError> {
        Ok(self
            .signed_names(message)?
            .into_iter()
            .map(Cow::into_owned)
            .collect())
    }

    /// [`Self::header_list`] with well-known names borrowed from a static table instead of
    /// allocated one by one.
    pub(crate) fn signed_names(
        &self,
        message: &Message<'_>,
    ) -> Result<Vec<Cow<'static, str>>, SignError> {
        /// One name to sign: its key, whether an earlier listing has it, how many fields
        /// have it.
        struct Wanted<'n> {
            name: &'n str,
            key: u32,
            repeat: bool,
            count: usize,
        }
        let from_listed = self
            .headers
            .iter()
            .any(|h| h.len() == 4 && eq_ignore_case(h.as_bytes(), b"from"));
        let names = (!from_listed)
            .then_some("From")
            .into_iter()
            .chain(self.headers.iter().map(String::as_str));
        let mut wanted: Vec<Wanted<'_>> = Vec::with_capacity(self.headers.len() + 1);
        for name in names {
            // Branch-free, as most names are valid.
            let valid = name.bytes().fold(!name.is_empty(), |ok, b| {
                ok & (33..=126).contains(&b) & (b != b':')
            });
            if !valid {
                return Err(SignError::InvalidHeaderName(name.to_owned()));
            }
            let key = name_key(name.as_bytes());
            let repeat = wanted
                .iter()
                .any(|w| w.key == key && eq_ignore_case(w.name.as_bytes(), name.as_bytes()));
            wanted.push(Wanted {
                name,
                key,
                repeat,
                count: 0,
            });
        }
        // One pass over the fields, each counted for the first listing of its name.
        for (key, field) in message.keyed_names() {
            if let Some(w) = wanted
                .iter_mut()
                .find(|w| w.key == key && !w.repeat && eq_ignore_case(w.name.as_bytes(), field))
            {
                w.count += 1;
            }
        }
        let mut names = Vec::with_capacity(wanted.len() + self.oversigned.len());
        for w in wanted.iter().filter(|w| !w.repeat) {
            let extra = usize::from(self.oversigned.iter().any(|o| {
                o.len() == w.name.len() && eq_ignore_case(o.as_bytes(), w.name.as_bytes())
            }));
            if w.count + extra > 0 {
                let lower = lowercase_header_name(Cow::Borrowed(w.name));
                names.extend(std::iter::repeat_n(lower, w.count + extra));
            }
        }
        Ok(names)
    }

    /// The DKIM-Signature field (name, value and final CRLF) for `message` signed now.
    pub fn sign(&self, message: &Message<'_>) -> Result<String, SignError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.sign_at(message, now)
    }

    /// The DKIM-Signature field for `message` signed at `now` (seconds since the Unix epoch).
    pub fn sign_at(&self, message: &Message<'_>, now: u64) -> Result<String, SignError> {
        if message.first_header("From").is_none() {
            return Err(SignError::NoFrom);
        }
        let domain = self.domain.trim_end_matches('.').to_ascii_lowercase();
        if domain.is_empty() || domain.contains(|c: char| c.is_whitespace() || c == ';') {
            return Err(SignError::InvalidName {
                what: "domain",
                value: self.domain.clone(),
            });
        }
        if self.selector.is_empty()
            || self
                .selector
                .contains(|c: char| c.is_whitespace() || c == ';')
        {
            return Err(SignError::InvalidName {
                what: "selector",
                value: self.selector.clone(),
            });
        }
        if let Some(i) = &self.identity {
            check_identity(i, &domain).map_err(SignError::Identity)?;
        }
        // One pass over the body gives both its canonical length and its hash: the hash with
        // an `l=` of the whole body is the hash without one.
        let mut body = BodyHasher::for_message(message);
        let length = self.body_length.then(|| {
            let canon = self.canonicalization.body;
            let _ = body.hash(canon, None, self.algorithm);
            body.canonical_len(canon)
        });
        let signed = self.signed_names(message)?;
        check_signable(self.algorithm)?;
        let body_hash = body_hash(
            &mut body,
            self.canonicalization.body,
            length,
            self.algorithm,
        )?;
        // The field written tag by tag, folded as `fold_tags` folds the tag list; each tag is
        // made in `tag`, one buffer for all.
        let mut folder = TagFolder::new(String::with_capacity(1024));
        folder.out.push_str("DKIM-Signature: ");
        let mut tag = String::with_capacity(256);
        let mut push = |folder: &mut TagFolder, parts: &[&str], number: Option<u64>| {
            tag.clear();
            parts.iter().for_each(|part| tag.push_str(part));
            if let Some(n) = number {
                push_decimal(&mut tag, n);
            }
            folder.push(&tag);
        };
        push(&mut folder, &["v=1"], None);
        push(&mut folder, &["a=", self.algorithm.as_str()], None);
        push(&mut folder, &["c=", self.canonicalization.as_str()], None);
        push(&mut folder, &["d=", &domain], None);
        if let Some(i) = &self.identity {
            push(&mut folder, &["i=", i], None);
        }
        push(&mut folder, &["s=", &self.selector], None);
        push(&mut folder, &["t="], Some(now));
        if let Some(after) = self.expire_after {
            push(&mut folder, &["x="], Some(now.saturating_add(after.max(1))));
        }
        if let Some(l) = length {
            push(&mut folder, &["l="], Some(l));
        }
        folder.push_h(&signed);
        folder.push("bh=");
        // The value comes after the folding is decided, as it does for a template.
        STANDARD.encode_string(body_hash, &mut folder.out);
        folder.push("b=");
        finish_field(
            "DKIM-Signature",
            &self.key,
            message,
            folder.out,
            self.algorithm,
            self.canonicalization.header,
            &signed,
        )
    }

    /// `message` with a new DKIM-Signature field first.
    pub fn sign_message_at(&self, message: &Message<'_>, now: u64) -> Result<Vec<u8>, SignError> {
        let field = self.sign_at(message, now)?;
        let mut out = Vec::with_capacity(field.len() + message.as_bytes().len());
        out.extend_from_slice(field.as_bytes());
        out.extend_from_slice(message.as_bytes());
        Ok(out)
    }
}

/// Joins tags with `; `, folding before a tag that would pass column 78.
pub(crate) fn fold_tags(tags: &[String]) -> String {
    let mut folder = TagFolder::new(String::new());
    for tag in tags {
        folder.push(tag);
    }
    folder.out
}

/// Appends tags to `out` joined with `; `, folding before a tag that would pass column 78 (as
/// counted after a `DKIM-Signature: ` prefix) and a long `h=` list at its colons.
struct TagFolder {
    out: String,
    column: usize,
    first: bool,
}

impl TagFolder {
    fn new(out: String) -> Self {
        Self {
            out,
            column: "DKIM-Signature: ".len(),
            first: true,
        }
    }

    fn push(&mut self, tag: &str) {
        self.separate(tag.len());
        if tag.starts_with("h=") && self.column + tag.len() > 78 {
            self.push_parts(tag.split(':'));
        } else {
            self.out.push_str(tag);
            self.column += tag.len();
        }
    }

    /// [`Self::push`] of `h=` and `names` joined with colons (none of them has one), without
    /// joining them.
    fn push_h(&mut self, names: &[impl AsRef<str>]) {
        let len = 2 + names.iter().map(|n| n.as_ref().len() + 1).sum::<usize>();
        let len = len - usize::from(!names.is_empty());
        self.separate(len);
        self.out.push_str("h=");
        self.column += 2;
        if self.column - 2 + len > 78 {
            // Folded at the colons as `push` folds a joined list, whose first part is `h=`
            // and the first name.
            self.push_parts(names.iter().map(AsRef::as_ref));
        } else {
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    self.out.push(':');
                }
                self.out.push_str(name.as_ref());
            }
            self.column += len - 2;
        }
    }

    /// The parts of an `h=` list, folded at the colons between them.
    fn push_parts<'p>(&mut self, mut parts: impl Iterator<Item = &'p str>) {
        if let Some(first) = parts.next() {
            self.out.push_str(first);
            self.column += first.len();
        }
        for part in parts {
            self.colon_then(part);
        }
    }

    /// A colon, then `part` on a new line if it would pass column 78.
    fn colon_then(&mut self, part: &str) {
        self.out.push(':');
        self.column += 1;
        if self.column + part.len() > 78 {
            self.out.push_str("\r\n\t");
            self.column = 8;
        }
        self.out.push_str(part);
        self.column += part.len();
    }

    /// What goes before a tag of `len` bytes: nothing for the first, else the `;` that ends
    /// the one before and a space or a fold.
    fn separate(&mut self, len: usize) {
        if !self.first {
            self.out.push(';');
            self.column += 1;
            if self.column + 1 + len + 1 > 78 {
                self.out.push_str("\r\n\t");
                self.column = 8;
            } else {
                self.out.push(' ');
                self.column += 1;
            }
        }
        self.first = false;
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// An error unless `algorithm` is one inkan signs with (not rsa-sha1, RFC 8301).
fn check_signable(algorithm: Algorithm) -> Result<(), SignError> {
    if matches!(algorithm, Algorithm::RsaSha256 | Algorithm::Ed25519Sha256) {
        Ok(())
    } else {
        Err(SignError::Template(format!(
            "a={} cannot be signed",
            algorithm.as_str()
        )))
    }
}

/// The body hash for `canon`, `length` (`l=`) and `algorithm`'s hash.
fn body_hash(
    body: &mut BodyHasher<'_>,
    canon: Canon,
    length: Option<u64>,
    algorithm: Algorithm,
) -> Result<Vec<u8>, SignError> {
    body.hash(canon, length, algorithm).map_err(|len| {
        SignError::Template(format!(
            "l={} is longer than the {len}-byte body",
            length.unwrap_or(0)
        ))
    })
}

/// Signs `message` with the tag list `template`, whose `bh=` and `b=` values are empty and whose
/// `b=` tag comes last: computes the body hash into `bh=`, then the signature into `b=`, and
/// returns the whole field (`DKIM-Signature: ...` with the final CRLF). Tags keep exactly the
/// text and order given, so a known signature can be reproduced; ARC's AMS reuses this.
pub fn sign_template(
    key: &SigningKey,
    message: &Message<'_>,
    template: &str,
) -> Result<String, SignError> {
    sign_template_as("DKIM-Signature", key, message, template)
}

/// [`sign_template`] for a field named `field_name` (ARC-Message-Signature uses the same tags).
pub fn sign_template_as(
    field_name: &str,
    key: &SigningKey,
    message: &Message<'_>,
    template: &str,
) -> Result<String, SignError> {
    let tags =
        TagList::parse(template.as_bytes()).map_err(|e| SignError::Template(e.to_string()))?;
    let algorithm = match tags.get("a").map(strip_fws).as_deref() {
        Some("rsa-sha256") => Algorithm::RsaSha256,
        Some("ed25519-sha256") => Algorithm::Ed25519Sha256,
        other => {
            return Err(SignError::Template(format!(
                "a={} cannot be signed",
                other.unwrap_or("(missing)")
            )));
        }
    };
    let canon_tag = tags
        .get("c")
        .map(strip_fws)
        .unwrap_or_else(|| "simple/simple".into());
    let parse_canon = |s: &str| match s {
        "simple" => Ok(Canon::Simple),
        "relaxed" => Ok(Canon::Relaxed),
        _ => Err(SignError::Template(format!(
            "unknown canonicalization c={canon_tag}"
        ))),
    };
    let (header_canon, body_canon) = match canon_tag.split_once('/') {
        Some((h, b)) => (parse_canon(h)?, parse_canon(b)?),
        None => (parse_canon(&canon_tag)?, Canon::Simple),
    };
    let length = match tags.get("l") {
        Some(l) => Some(
            strip_fws(l)
                .parse::<u64>()
                .map_err(|_| SignError::Template(format!("l={l}")))?,
        ),
        None => None,
    };
    let signed: Vec<String> = tags
        .get("h")
        .ok_or_else(|| SignError::Template("no h= tag".into()))?
        .split(':')
        .map(strip_fws)
        .filter(|h| !h.is_empty())
        .collect();
    if tags.get("bh").is_none_or(|v| !v.is_empty()) || tags.get("b").is_none_or(|v| !v.is_empty()) {
        return Err(SignError::Template(
            "bh= and b= must be present and empty".into(),
        ));
    }
    sign_parsed(
        field_name,
        key,
        message,
        &mut BodyHasher::for_message(message),
        template,
        Parsed {
            algorithm,
            canonicalization: Canonicalization {
                header: header_canon,
                body: body_canon,
            },
            length,
            signed: &signed,
        },
    )
}

/// What [`sign_parsed`] needs to know of a template: what its tags say, read once.
struct Parsed<'a, S> {
    algorithm: Algorithm,
    canonicalization: Canonicalization,
    length: Option<u64>,
    signed: &'a [S],
}

/// Fills `bh=` and `b=` of `template`, whose tags say what `parsed` holds (read once).
fn sign_parsed<S: AsRef<str>>(
    field_name: &str,
    key: &SigningKey,
    message: &Message<'_>,
    body: &mut BodyHasher<'_>,
    template: &str,
    parsed: Parsed<'_, S>,
) -> Result<String, SignError> {
    let Parsed {
        algorithm,
        canonicalization,
        length,
        signed,
    } = parsed;
    check_signable(algorithm)?;
    let body_hash = body_hash(body, canonicalization.body, length, algorithm)?;
    let bh_at = find_tag(template, "bh").ok_or_else(|| SignError::Template("no bh= tag".into()))?;
    let mut field = String::with_capacity(field_name.len() + template.len() + 450);
    field.push_str(field_name);
    field.push_str(": ");
    field.push_str(&template[..bh_at]);
    STANDARD.encode_string(body_hash, &mut field);
    field.push_str(&template[bh_at..]);
    finish_field(
        field_name,
        key,
        message,
        field,
        algorithm,
        canonicalization.header,
        signed,
    )
}

/// Signs `field` (`name: tags`, the `bh=` value filled in, `b=` last and empty) and returns
/// it with the `b=` value, folded, and the final CRLF.
fn finish_field<S: AsRef<str>>(
    field_name: &str,
    key: &SigningKey,
    message: &Message<'_>,
    mut field: String,
    algorithm: Algorithm,
    header_canon: Canon,
    signed: &[S],
) -> Result<String, SignError> {
    let trimmed_len = field.trim_end_matches([' ', '\t', '\r', '\n', ';']).len();
    if !field[..trimmed_len].ends_with("b=") && !field[..trimmed_len].ends_with("b =") {
        return Err(SignError::Template("b= must be the last tag".into()));
    }
    field.truncate(trimmed_len);
    let hash = header_digest(
        message,
        signed,
        header_canon,
        field_name,
        field.as_bytes(),
        algorithm,
    );
    let signature = key.sign_digest(algorithm, hash.as_ref())?;
    let b64 = STANDARD.encode(signature);
    let line_start = field.rfind('\n').map_or(0, |p| p + 1);
    let mut column = field.len() - line_start;
    // Base64 is ASCII: 64-byte pieces of it are text, cut without decoding them again.
    field.reserve(b64.len() + b64.len() / 64 * 3 + 5);
    let mut rest = b64.as_str();
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(rest.len().min(64));
        if column + chunk.len() > 78 {
            field.push_str("\r\n\t");
            column = 8;
        }
        field.push_str(chunk);
        column += chunk.len();
        rest = after;
    }
    field.push_str("\r\n");
    Ok(field)
}

/// The byte offset just after `name=` in a tag list (the start of its value).
fn find_tag(list: &str, name: &str) -> Option<usize> {
    let mut offset = 0;
    for spec in list.split(';') {
        let lead = spec.len() - spec.trim_start().len();
        let body = &spec[lead..];
        if let Some(after) = body.strip_prefix(name) {
            let ws = after.len() - after.trim_start().len();
            if after[ws..].starts_with('=') {
                return Some(offset + lead + name.len() + ws + 1);
            }
        }
        offset += spec.len() + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::Signature;

    #[test]
    fn txt_strings_are_at_most_255_bytes() {
        let value = "x".repeat(600);
        let parts = txt_record_strings(&value);
        assert_eq!(
            parts.iter().map(String::len).collect::<Vec<_>>(),
            [255, 255, 90]
        );
        assert_eq!(parts.concat(), value);
    }

    #[test]
    fn signer_refuses_rsa_sha1_and_no_from_and_its_h_list_is_the_header_list() {
        let m = Message::parse(&b"from: a@x.test\r\nX-Custom: 1\r\nSubject: s\r\n\r\nhi\r\n"[..])
            .unwrap();
        let mut s = Signer::new("x.test", "sel", generate_ed25519().unwrap());
        s.headers = vec!["Subject".into(), "X-CUSTOM".into(), "subject".into()];
        let field = s.sign_at(&m, 1_700_000_000).unwrap();
        let signature = Signature::parse(&field.as_bytes()["DKIM-Signature:".len()..]).unwrap();
        assert_eq!(
            signature.signed_headers,
            ["from", "from", "subject", "subject", "x-custom"]
        );
        assert_eq!(s.header_list(&m).unwrap(), signature.signed_headers);
        for (identity, ok) in [
            ("@x.test", true),
            ("user@Mail.X.Test.", true),
            ("user@other.test", false),
            ("user@notx.test", false),
            ("user", false),
        ] {
            s.identity = Some(identity.into());
            let out = s.sign_at(&m, 1_700_000_000);
            assert_eq!(out.is_ok(), ok, "{identity}: {out:?}");
            if let Ok(field) = out {
                let back = Signature::parse(&field.as_bytes()["DKIM-Signature:".len()..]);
                assert_eq!(back.unwrap().identity.as_deref(), Some(identity));
            } else {
                assert!(matches!(out, Err(SignError::Identity(_))), "{out:?}");
            }
        }
        s.identity = None;
        let no_from = Message::parse(&b"Subject: s\r\n\r\nhi\r\n"[..]).unwrap();
        assert_eq!(s.sign_at(&no_from, 1_700_000_000), Err(SignError::NoFrom));
        s.algorithm = Algorithm::RsaSha1;
        assert_eq!(
            s.sign_at(&m, 1_700_000_000).unwrap_err(),
            SignError::Template("a=rsa-sha1 cannot be signed".into())
        );
    }

    /// The field a [`Signer`] writes tag by tag is the one its tag list, joined and folded by
    /// [`fold_tags`], gives as a template (Ed25519 signatures are deterministic).
    #[test]
    fn signer_field_equals_signing_its_tag_list_as_a_template() {
        let m = Message::parse(
            &b"From: a@x.test\r\nTo: b@y.test\r\nCc: c@y.test\r\nSubject: s\r\nDate: d\r\n\
               Message-ID: <m@x.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\
               List-Unsubscribe: <https://x.test/u>\r\nList-Id: l\r\nFeedback-ID: f\r\n\
               \r\nhi  there \r\n\r\n"[..],
        )
        .unwrap();
        let key = SigningKey::from_ed25519_seed(&[7; 32]).unwrap();
        let now = 1_700_000_000;
        for (identity, expire, length, headers) in [
            (None, None, false, None),
            (Some("user@Mail.X.Test"), Some(3600), true, None),
            (None, Some(1), false, Some(vec!["subject".to_owned()])),
        ] {
            let mut s = Signer::new("X.test.", "sel", key.clone());
            s.identity = identity.map(str::to_owned);
            s.expire_after = expire;
            s.body_length = length;
            if let Some(h) = headers {
                s.headers = h;
            }
            let field = s.sign_at(&m, now).unwrap();
            let mut tags = vec![
                "v=1".to_owned(),
                format!("a={}", s.algorithm),
                format!("c={}", s.canonicalization),
                "d=x.test".to_owned(),
            ];
            if let Some(i) = identity {
                tags.push(format!("i={i}"));
            }
            tags.push("s=sel".to_owned());
            tags.push(format!("t={now}"));
            if let Some(after) = expire {
                tags.push(format!("x={}", now + after));
            }
            if length {
                let body = super::super::canon::canonical_body(m.body(), Canon::Relaxed);
                tags.push(format!("l={}", body.len()));
            }
            tags.push(format!("h={}", s.header_list(&m).unwrap().join(":")));
            tags.push("bh=".into());
            tags.push("b=".into());
            let template = fold_tags(&tags);
            assert_eq!(
                field,
                sign_template(&key, &m, &template).unwrap(),
                "{tags:?}"
            );
            assert!(field.lines().all(|line| line.len() <= 78 + 44), "{field}");
        }
    }

    #[test]
    fn header_list_oversigns_and_always_has_from() {
        let m = Message::parse(
            &b"From: a@x.test\r\nTo: b@y.test\r\nTo: c@y.test\r\nSubject: s\r\n\r\nhi\r\n"[..],
        )
        .unwrap();
        let key = generate_ed25519().unwrap();
        let mut s = Signer::new("x.test", "sel", key);
        let h = s.header_list(&m).unwrap();
        assert_eq!(
            h,
            [
                "from",
                "from",
                "to",
                "to",
                "subject",
                "subject",
                "list-unsubscribe",
                "list-unsubscribe-post"
            ]
        );
        s.headers = vec!["Subject".into()];
        assert_eq!(
            s.header_list(&m).unwrap(),
            ["from", "from", "subject", "subject"]
        );
        s.headers = vec!["Bad Name".into()];
        assert!(matches!(
            s.header_list(&m),
            Err(SignError::InvalidHeaderName(_))
        ));
    }

    #[test]
    fn pem_round_trip_and_errors() {
        let key = generate_ed25519().unwrap();
        let pem = key.to_pkcs8_pem().unwrap();
        let back = SigningKey::from_pem(&pem).unwrap();
        assert_eq!(
            back.public_key_bytes().unwrap(),
            key.public_key_bytes().unwrap()
        );
        assert_eq!(
            SigningKey::from_pem("nothing here").unwrap_err(),
            KeyFileError::NoPem
        );
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            SigningKey::from_pem(cert).unwrap_err(),
            KeyFileError::UnsupportedLabel("CERTIFICATE".into())
        );
        assert!(matches!(
            generate_rsa(1000),
            Err(KeyFileError::GenerateSize(1000))
        ));
    }

    /// A 512-bit RSA key made by `openssl genrsa -traditional 512`, for the refusal test.
    const RSA512_PKCS1: &str = "-----BEGIN RSA PRIVATE KEY-----\n\
MIIBOQIBAAJBAMONIs1DkoWqmaZO46aH+AVSOfU3BFZwtaGXRBbuA8bJG61mPR9z\n\
YUg6u5Xzi+CE1UlyFB6IJlpYT2FTxZq9ih0CAwEAAQJALjp+QLI5wDmtayB5NtQr\n\
8O4YX3zrHJg2iAXfheAsqmBUQf/njyuAZaGndQ+ROdKGQSA/kR45VMBJknAYxF5K\n\
QQIhAPet6HwtCxD+xYU97MIW/ZL47wMtqNEdC3eju4U78ZbxAiEAyh7qmhUKOAtt\n\
bZ62yvQ2gcmScC1FAwB/6WzmI+izne0CIEefuwNt4y1e/6+wYK8gBuRhqHy6z37p\n\
b0+BwdCdrReBAiAR98GfRPONm+Z0ckGJtUALNaIg+sVByQ+V7qpe0tb02QIgehB6\n\
HBA1TGP3aT5pSA8d/E9lYLEHigJ275Aqa0RY7nM=\n\
-----END RSA PRIVATE KEY-----\n";

    /// Keys aws-lc refuses (1024 to 2047 bits) sign through the `rsa` crate; their signatures
    /// verify with aws-lc, and the PEM round-trips. Keys under 1024 bits are refused.
    #[test]
    fn rsa_keys_under_2048_bits_sign_and_verify() {
        let key = generate_rsa(1024).unwrap();
        assert!(matches!(key, SigningKey::RsaUnder2048(_)));
        assert_eq!(
            (key.bits(), key.default_algorithm()),
            (1024, Algorithm::RsaSha256)
        );
        let back = SigningKey::from_pem(&key.to_pkcs8_pem().unwrap()).unwrap();
        assert_eq!(
            back.public_key_bytes().unwrap(),
            key.public_key_bytes().unwrap()
        );
        let record = super::super::DkimKey::parse(key.txt_value().unwrap()).unwrap();
        assert_eq!(record.bits, Some(1024));
        let d = digest::digest(&digest::SHA256, b"header hash input");
        let signature = back.sign_digest(Algorithm::RsaSha256, d.as_ref()).unwrap();
        assert_eq!(signature.len(), 128);
        assert!(record.verify_signature(Algorithm::RsaSha256, d.as_ref(), &signature));
        assert!(!record.verify_signature(
            Algorithm::RsaSha256,
            digest::digest(&digest::SHA256, b"other").as_ref(),
            &signature
        ));
        assert!(matches!(
            back.sign_digest(Algorithm::RsaSha256, b"short"),
            Err(SignError::Crypto)
        ));

        assert_eq!(
            SigningKey::from_pem(RSA512_PKCS1).unwrap_err(),
            KeyFileError::RsaTooSmall
        );
    }

    #[test]
    fn find_tag_skips_similar_names() {
        assert_eq!(find_tag("v=1; bh=; b=", "bh"), Some(8));
        assert_eq!(find_tag("v=1; bh=; b=", "b"), Some(12));
        assert_eq!(find_tag("v=1;\r\n b = x", "b"), Some(10));
    }
}
