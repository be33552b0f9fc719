//! Tag lists (RFC 6376 §3.2) and the DKIM-Signature header field (RFC 6376 §3.5) with the
//! checks a verifier makes before it asks DNS: required tags, `h=` lists From, `i=` is within
//! `d=`, `x=` is not before `t=`, known algorithm and canonicalization, base64 with folding
//! whitespace, no duplicate tags.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::canon::{is_space as is_fws, space_bounds};
use super::{Algorithm, Canon, Canonicalization};

/// Most tags accepted in one tag list; real lists have about a dozen.
const MAX_TAGS: usize = 64;

/// Why a tag list could not be read (RFC 6376 §3.2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TagListError {
    /// The text is not UTF-8.
    #[error("tag list is not UTF-8 text")]
    NotUtf8,
    /// A tag-spec has no `=`.
    #[error("tag-spec '{spec}' has no '='")]
    MissingEquals {
        /// The offending tag-spec.
        spec: String,
    },
    /// A tag name is empty or has characters other than letters, digits and `_`, or does not
    /// start with a letter.
    #[error("invalid tag name '{name}'")]
    InvalidName {
        /// The offending name.
        name: String,
    },
    /// A tag value holds a control character or whitespace that is not folding whitespace.
    #[error("tag '{name}' has an invalid character in its value '{value}'")]
    InvalidValue {
        /// The tag name.
        name: String,
        /// The value.
        value: String,
    },
    /// A tag appears twice (RFC 6376 §3.2: "Tags with duplicate names MUST NOT occur").
    #[error("tag '{name}' appears more than once")]
    Duplicate {
        /// The repeated name.
        name: String,
    },
    /// More tags than anyone writes.
    #[error("more than {MAX_TAGS} tags")]
    TooManyTags,
}

/// A parsed tag list: names with their values, in the order written. Values have surrounding
/// whitespace removed but keep inner folding whitespace.
#[derive(Clone, PartialEq, Eq)]
pub struct TagList<'a> {
    tags: Vec<(&'a str, &'a str)>,
}

impl<'a> TagList<'a> {
    /// Parses `input` (RFC 6376 §3.2). Tag names are case-sensitive; empty tag-specs (`;;`,
    /// trailing `;`) are tolerated.
    pub fn parse(input: &'a [u8]) -> Result<TagList<'a>, TagListError> {
        let text = std::str::from_utf8(input).map_err(|_| TagListError::NotUtf8)?;
        // Every delimiter is ASCII, so byte positions found here are char boundaries.
        let bytes = text.as_bytes();
        let mut tags = TagList {
            tags: Vec::with_capacity(16),
        };
        // Real lists have no control characters: one pass over the whole list spares a pass
        // over each value.
        let check_values = has_control(bytes);
        let mut from = 0;
        while from <= bytes.len() {
            let end = memchr::memchr(b';', &bytes[from..]).map_or(bytes.len(), |p| from + p);
            let spec = trim_fws(&text[from..end]);
            from = end + 1;
            if spec.is_empty() {
                continue;
            }
            // The name is short: a byte loop finds the `=` sooner than a call to memchr.
            let Some(eq) = spec.bytes().position(|b| b == b'=') else {
                return Err(TagListError::MissingEquals {
                    spec: spec.chars().take(60).collect(),
                });
            };
            let name = trim_fws(&spec[..eq]);
            let value = trim_fws(&spec[eq + 1..]);
            let mut name_bytes = name.bytes();
            let valid_name = name_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
                && name_bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid_name {
                return Err(TagListError::InvalidName {
                    name: name.chars().take(60).collect(),
                });
            }
            if check_values && has_control(value.as_bytes()) {
                return Err(TagListError::InvalidValue {
                    name: name.into(),
                    value: value.chars().take(60).collect(),
                });
            }
            if tags.iter().any(|(n, _)| same(n, name)) {
                return Err(TagListError::Duplicate { name: name.into() });
            }
            if tags.tags.len() >= MAX_TAGS {
                return Err(TagListError::TooManyTags);
            }
            tags.tags.push((name, value));
        }
        Ok(tags)
    }

    /// The value of tag `name`.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.tags
            .iter()
            .find(|(n, _)| same(n, name))
            .map(|(_, v)| *v)
    }

    /// Every tag in the order written.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.tags.iter().copied()
    }
}

/// True when `value` holds an ASCII control character other than folding whitespace.
/// Branch-free, so the compiler vectorizes it: `b=` values are hundreds of bytes long.
fn has_control(value: &[u8]) -> bool {
    value.iter().fold(false, |bad, &b| {
        bad | ((b < 0x20) & (b != b'\t') & (b != b'\r') & (b != b'\n')) | (b == 0x7f)
    })
}

impl std::fmt::Debug for TagList<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// `a == b` for the one- and two-letter tag names, without a call to `memcmp`.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// `text` without folding whitespace at either end (a byte loop: `trim_matches` with a set of
/// chars decodes UTF-8 and is several times slower on these short strings).
fn trim_fws(text: &str) -> &str {
    // Only ASCII bytes are cut off, so both ends are char boundaries.
    &text[space_bounds(text.as_bytes())]
}

/// Removes folding whitespace from a value.
pub(crate) fn strip_fws(value: &str) -> String {
    fws_free(value).into_owned()
}

fn is_fws_char(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_fws)
}

/// Decodes base64 that may contain folding whitespace (RFC 6376 §2.4), with or without
/// padding.
pub fn decode_base64(value: &str) -> Result<Vec<u8>, base64::DecodeError> {
    match decode_base64_plain(value.as_bytes()) {
        Some(decoded) => Ok(decoded),
        // Whatever the plain decoder leaves (odd padding, bad symbols) the general one judges,
        // so that errors say what it says.
        None => decode_base64_general(value),
    }
}

/// The base64 crate's decoder, after the folding whitespace is removed.
fn decode_base64_general(value: &str) -> Result<Vec<u8>, base64::DecodeError> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let clean: Vec<u8> = value.bytes().filter(|&b| !is_fws(b)).collect();
    ENGINE.decode(clean)
}

/// The value of each base64 symbol, or [`NOT_BASE64`].
const BASE64_VALUES: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [NOT_BASE64; 256];
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};
const NOT_BASE64: u8 = 0xff;

/// Decodes the common form in one pass: symbols with folding whitespace anywhere, then full
/// padding or none. `None` for anything else; what this accepts, [`decode_base64`]'s general
/// decoder accepts with the same result.
fn decode_base64_plain(value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut held = 0;
    let mut at = 0;
    while at < value.len() {
        // Eight symbols in a row, the bulk of any value (folded lines hold a multiple of
        // eight): six bytes at once.
        if held == 0
            && let Some(symbols) = value.get(at..at + 8)
        {
            let v: [u8; 8] = std::array::from_fn(|i| BASE64_VALUES[usize::from(symbols[i])]);
            // Two halves of 24 bits each, built side by side rather than in one chain.
            let half = |h: &[u8]| {
                h.iter()
                    .fold(0u64, |n, &sextet| (n << 6) | u64::from(sextet))
            };
            let n = (half(&v[..4]) << 24) | half(&v[4..]);
            // Any symbol that is not base64 (0xff in the table) shows in the union.
            let bad = v.iter().fold(0u8, |bad, &sextet| bad | sextet);
            if bad < 64 {
                out.extend_from_slice(&n.to_be_bytes()[2..]);
                at += 8;
                continue;
            }
        }
        let b = value[at];
        let v = BASE64_VALUES[b as usize];
        if v != NOT_BASE64 {
            acc = (acc << 6) | u32::from(v);
            held += 1;
            if held == 4 {
                out.extend_from_slice(&acc.to_be_bytes()[1..]);
                acc = 0;
                held = 0;
            }
        } else if b == b'=' {
            break;
        } else if !is_fws(b) {
            return None;
        }
        at += 1;
    }
    let mut padding = 0;
    for &b in &value[at..] {
        match b {
            b'=' => padding += 1,
            b if is_fws(b) => {}
            _ => return None,
        }
    }
    match (held, padding) {
        (0, 0) => {}
        (2, 0 | 2) => out.push((acc >> 4) as u8),
        (3, 0 | 1) => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return None,
    }
    Some(out)
}

/// [`strip_fws`] without a copy when there is no folding whitespace inside (the usual case:
/// what folding there is lies at the ends, as in a folded `h=` list).
fn fws_free(value: &str) -> Cow<'_, str> {
    let value = trim_fws(value);
    if value.bytes().any(is_fws) {
        Cow::Owned(value.split(is_fws_char).collect())
    } else {
        Cow::Borrowed(value)
    }
}

/// Header names signers list in `h=`, lower-cased and sorted by length: a name found here
/// (in any letter case) costs no allocation, and a lookup only compares names of its length.
const KNOWN_HEADERS: &[&str] = &[
    "to",
    "cc",
    "from",
    "date",
    "sender",
    "list-id",
    "subject",
    "reply-to",
    "references",
    "message-id",
    "content-id",
    "in-reply-to",
    "feedback-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "content-description",
    "list-unsubscribe-post",
    "content-transfer-encoding",
];

/// The longest name in [`KNOWN_HEADERS`] (the last, as they are sorted by length), plus one.
const KNOWN_LENGTHS: usize = KNOWN_HEADERS[KNOWN_HEADERS.len() - 1].len() + 1;

/// For each name length, where the names of that length lie in [`KNOWN_HEADERS`].
const KNOWN_BY_LENGTH: [(usize, usize); KNOWN_LENGTHS] = {
    let mut ranges = [(0, 0); KNOWN_LENGTHS];
    let mut i = 0;
    while i < KNOWN_HEADERS.len() {
        let len = KNOWN_HEADERS[i].len();
        if ranges[len].1 == 0 {
            ranges[len].0 = i;
        }
        ranges[len].1 = i + 1;
        i += 1;
    }
    ranges
};

fn known_header(name: &str) -> Option<&'static str> {
    let &(start, end) = KNOWN_BY_LENGTH.get(name.len())?;
    KNOWN_HEADERS[start..end]
        .iter()
        .find(|known| known.eq_ignore_ascii_case(name))
        .copied()
}

/// `name` lower-cased, borrowed from [`KNOWN_HEADERS`] when it is there.
pub(crate) fn lowercase_header_name(name: Cow<'_, str>) -> Cow<'static, str> {
    match known_header(&name) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(name.to_ascii_lowercase()),
    }
}

/// The names in an `h=` value, lower-cased, without folding whitespace and empty names.
fn signed_header_names(h: &str) -> Result<Vec<Cow<'static, str>>, SignatureError> {
    let printable = |b: u8| (33..=126).contains(&b);
    // When every byte is printable or folding whitespace, so is every name: one branch-free
    // pass spares checking each name byte by byte.
    let all_printable = h
        .bytes()
        .fold(true, |ok, b| ok & (printable(b) | is_fws(b)));
    let mut names = Vec::with_capacity(h.len() / 6 + 1);
    let mut start = 0;
    for end in memchr::memchr_iter(b':', h.as_bytes()).chain([h.len()]) {
        let name = fws_free(&h[start..end]);
        start = end + 1;
        if name.is_empty() {
            continue;
        }
        if !all_printable && !name.bytes().all(printable) {
            return Err(SignatureError::InvalidHeaderName(name.into_owned()));
        }
        names.push(lowercase_header_name(name));
    }
    Ok(names)
}

/// Why a DKIM-Signature field is not usable (each is a PERMFAIL in RFC 6376 §6.1.1).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The tag list itself is malformed.
    #[error("malformed tag list: {0}")]
    TagList(#[from] TagListError),
    /// A required tag is absent.
    #[error("required tag '{0}=' is missing")]
    MissingTag(&'static str),
    /// `v=` is not 1.
    #[error("unsupported version v={0}")]
    Version(String),
    /// `a=` names an algorithm this verifier does not know.
    #[error("unknown signing algorithm a={0}")]
    UnknownAlgorithm(String),
    /// `c=` names an unknown canonicalization.
    #[error("unknown canonicalization c={0}")]
    UnknownCanonicalization(String),
    /// `q=` offers no method this verifier knows (only dns/txt exists).
    #[error("unsupported query method q={0}")]
    UnknownQueryMethod(String),
    /// A base64 tag does not decode.
    #[error("tag '{tag}=' is not valid base64: {detail}")]
    Base64 {
        /// The tag (`b` or `bh`).
        tag: &'static str,
        /// What the decoder said.
        detail: String,
    },
    /// A tag that must be empty-or-something has an empty value.
    #[error("tag '{0}=' is empty")]
    EmptyTag(&'static str),
    /// `h=` does not list From (RFC 6376 §5.4: From MUST be signed).
    #[error("h= does not include From: '{0}'")]
    FromNotSigned(String),
    /// `h=` lists a name with characters a header name cannot have.
    #[error("h= lists an invalid header name '{0}'")]
    InvalidHeaderName(String),
    /// `i=` is not within `d=` (RFC 6376 §3.5).
    #[error("i={identity} is not in d={domain} or a subdomain of it")]
    IdentityOutsideDomain {
        /// The `i=` value.
        identity: String,
        /// The `d=` value.
        domain: String,
    },
    /// `i=` has no `@`.
    #[error("i={0} has no '@'")]
    InvalidIdentity(String),
    /// `d=` or `s=` is not a usable domain name or selector.
    #[error("tag '{tag}=' is not a valid domain name: '{value}'")]
    InvalidDomain {
        /// The tag (`d` or `s`).
        tag: &'static str,
        /// The value.
        value: String,
    },
    /// A numeric tag (`t`, `x`, `l`) is not a decimal number.
    #[error("tag '{tag}=' is not a decimal number: '{value}'")]
    InvalidNumber {
        /// The tag.
        tag: &'static str,
        /// The value.
        value: String,
    },
    /// `x=` is before `t=` (RFC 6376 §3.5: "the value of the x= tag MUST be greater than the
    /// value of the t= tag").
    #[error("x={expiration} is not after t={timestamp}")]
    ExpiresBeforeSigned {
        /// `t=`.
        timestamp: u64,
        /// `x=`.
        expiration: u64,
    },
}

/// A parsed DKIM-Signature field value (RFC 6376 §3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `a=`.
    pub algorithm: Algorithm,
    /// `b=`, decoded.
    pub signature: Vec<u8>,
    /// `bh=`, decoded.
    pub body_hash: Vec<u8>,
    /// `c=` (default simple/simple).
    pub canonicalization: Canonicalization,
    /// `d=`, lower-cased.
    pub domain: String,
    /// `h=`, lower-cased, in order. Well-known names borrow a static string.
    pub signed_headers: Vec<Cow<'static, str>>,
    /// `i=`, if present.
    pub identity: Option<String>,
    /// `l=`, if present.
    pub body_length: Option<u64>,
    /// `s=`, as written.
    pub selector: String,
    /// `t=`, if present.
    pub timestamp: Option<u64>,
    /// `x=`, if present.
    pub expiration: Option<u64>,
}

fn number(tags: &TagList<'_>, tag: &'static str) -> Result<Option<u64>, SignatureError> {
    let Some(raw) = tags.get(tag) else {
        return Ok(None);
    };
    let value = fws_free(raw);
    // RFC 6376 limits these to 12 digits; more than u64 holds is an error, not a wrap.
    if value.is_empty() || value.len() > 20 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::InvalidNumber {
            tag,
            value: raw.chars().take(40).collect(),
        });
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| SignatureError::InvalidNumber {
            tag,
            value: value.into_owned(),
        })
}

/// Checks `i=` against `domain` (lower case, without a final dot): it must have an `@`, and
/// the domain after it must be `domain` or a subdomain of it (RFC 6376 §3.5).
pub(crate) fn check_identity(identity: &str, domain: &str) -> Result<(), SignatureError> {
    let Some((_, idomain)) = identity.rsplit_once('@') else {
        return Err(SignatureError::InvalidIdentity(identity.to_owned()));
    };
    let idomain = idomain.to_ascii_lowercase();
    let idomain = idomain.strip_suffix('.').unwrap_or(&idomain);
    let subdomain = idomain
        .strip_suffix(domain)
        .is_some_and(|rest| rest.ends_with('.'));
    if idomain != domain && !subdomain {
        return Err(SignatureError::IdentityOutsideDomain {
            identity: identity.to_owned(),
            domain: domain.to_owned(),
        });
    }
    Ok(())
}

pub(crate) fn valid_domain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.as_bytes().split(|&b| b == b'.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.iter()
                    .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Signature {
    /// Parses a DKIM-Signature field value (everything after the colon).
    pub fn parse(value: &[u8]) -> Result<Signature, SignatureError> {
        let tags = TagList::parse(value)?;
        let version = fws_free(tags.get("v").ok_or(SignatureError::MissingTag("v"))?);
        if version != "1" {
            return Err(SignatureError::Version(version.into_owned()));
        }
        Self::from_tags(&tags, true)
    }

    /// The DKIM-shaped part of an ARC-Message-Signature (RFC 8617 §4.1.2): the DKIM-Signature
    /// tags without `v=`. Its `i=` is the ARC instance, which the ARC parser reads, so the
    /// signature's `identity` is `None`.
    pub(crate) fn from_arc_message_signature_tags(
        tags: &TagList<'_>,
    ) -> Result<Signature, SignatureError> {
        Self::from_tags(tags, false)
    }

    fn from_tags(tags: &TagList<'_>, dkim_identity: bool) -> Result<Signature, SignatureError> {
        let required = |tag: &'static str| tags.get(tag).ok_or(SignatureError::MissingTag(tag));
        let a = fws_free(required("a")?);
        let algorithm = if a.eq_ignore_ascii_case("rsa-sha256") {
            Algorithm::RsaSha256
        } else if a.eq_ignore_ascii_case("ed25519-sha256") {
            Algorithm::Ed25519Sha256
        } else if a.eq_ignore_ascii_case("rsa-sha1") {
            Algorithm::RsaSha1
        } else {
            return Err(SignatureError::UnknownAlgorithm(a.to_ascii_lowercase()));
        };
        let b64 = |tag: &'static str| -> Result<Vec<u8>, SignatureError> {
            let raw = required(tag)?;
            let decoded = decode_base64(raw).map_err(|e| SignatureError::Base64 {
                tag,
                detail: e.to_string(),
            })?;
            if decoded.is_empty() {
                return Err(SignatureError::EmptyTag(tag));
            }
            Ok(decoded)
        };
        let signature = b64("b")?;
        let body_hash = b64("bh")?;
        let canonicalization = match tags.get("c") {
            None => Canonicalization {
                header: Canon::Simple,
                body: Canon::Simple,
            },
            Some(raw) => {
                let c = fws_free(raw);
                let one = |s: &str| {
                    if s.eq_ignore_ascii_case("simple") {
                        Ok(Canon::Simple)
                    } else if s.eq_ignore_ascii_case("relaxed") {
                        Ok(Canon::Relaxed)
                    } else {
                        Err(SignatureError::UnknownCanonicalization(
                            c.to_ascii_lowercase(),
                        ))
                    }
                };
                match c.split_once('/') {
                    Some((h, b)) => Canonicalization {
                        header: one(h)?,
                        body: one(b)?,
                    },
                    None => Canonicalization {
                        header: one(&c)?,
                        body: Canon::Simple,
                    },
                }
            }
        };
        let mut domain = fws_free(required("d")?).to_ascii_lowercase();
        if domain.ends_with('.') {
            domain.pop();
        }
        if !valid_domain(&domain) {
            return Err(SignatureError::InvalidDomain {
                tag: "d",
                value: domain,
            });
        }
        let selector = strip_fws(required("s")?);
        if !valid_domain(&selector) {
            return Err(SignatureError::InvalidDomain {
                tag: "s",
                value: selector,
            });
        }
        let h = required("h")?;
        let signed_headers = signed_header_names(h)?;
        if !signed_headers.iter().any(|n| n == "from") {
            return Err(SignatureError::FromNotSigned(strip_fws(h)));
        }
        let identity = match tags.get("i").filter(|_| dkim_identity) {
            None => None,
            Some(raw) => {
                let i = strip_fws(raw);
                check_identity(&i, &domain)?;
                Some(i)
            }
        };
        if let Some(q) = tags.get("q") {
            let q = strip_fws(q);
            if !q
                .split(':')
                .any(|m| m.eq_ignore_ascii_case("dns/txt") || m.eq_ignore_ascii_case("dns"))
            {
                return Err(SignatureError::UnknownQueryMethod(q));
            }
        }
        let body_length = number(tags, "l")?;
        let timestamp = number(tags, "t")?;
        let expiration = number(tags, "x")?;
        if let (Some(t), Some(x)) = (timestamp, expiration)
            && x <= t
        {
            return Err(SignatureError::ExpiresBeforeSigned {
                timestamp: t,
                expiration: x,
            });
        }
        Ok(Signature {
            algorithm,
            signature,
            body_hash,
            canonicalization,
            domain,
            signed_headers,
            identity,
            body_length,
            selector,
            timestamp,
            expiration,
        })
    }

    /// The DNS name of the key: `selector._domainkey.domain`.
    pub fn key_name(&self) -> String {
        let mut name = String::with_capacity(self.selector.len() + self.domain.len() + 12);
        name.push_str(&self.selector);
        name.push_str("._domainkey.");
        name.push_str(&self.domain);
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_headers_are_sorted_by_length_and_found_in_any_case() {
        assert!(KNOWN_HEADERS.is_sorted_by_key(|known| known.len()));
        assert!(
            KNOWN_HEADERS
                .iter()
                .all(|known| known.len() < KNOWN_LENGTHS)
        );
        for known in KNOWN_HEADERS {
            assert_eq!(known.to_ascii_lowercase(), *known);
            for name in [known.to_string(), known.to_ascii_uppercase()] {
                assert_eq!(known_header(&name), Some(*known), "{name}");
                assert!(
                    matches!(lowercase_header_name(name.into()), Cow::Borrowed(k) if k == *known)
                );
            }
        }
        assert_eq!(known_header("X-Mailer"), None);
        assert_eq!(known_header(""), None);
        assert_eq!(lowercase_header_name("X-Campaign".into()), "x-campaign");
    }

    #[test]
    fn plain_base64_decoder_agrees_with_the_general_one() {
        let samples = [
            "",
            "QQ==",
            "QQ",
            "QUI=",
            "QUI",
            "QUJD",
            "QUJDRA==",
            " QU\r\n\tJD RA = = ",
            "QUJ\r\n DRA",
            "Q",
            "QQ=",
            "QUI==",
            "QQ==QQ",
            "QU!D",
            "QUJD=",
            "QR==",
            "QUJ=",
            "AAAA\r\n",
            "====",
            "Q\r\nQ\r\n=\r\n=",
            "QUJDé",
            "+/+/",
            "-_-_",
        ];
        for sample in samples {
            let general = decode_base64_general(sample);
            match decode_base64_plain(sample.as_bytes()) {
                Some(plain) => assert_eq!(Ok(plain), general, "{sample:?}"),
                None => assert_eq!(decode_base64(sample), general, "{sample:?}"),
            }
        }
        let long: String = (0..2000)
            .map(|i| ["QUJD", "\r\n\t", "ZW Zn"][i % 3])
            .collect();
        assert_eq!(decode_base64(&long), decode_base64_general(&long));
    }

    const GOOD: &str = "v=1; a=rsa-sha256; c=relaxed/simple; d=Example.COM; s=sel;\r\n\t\
        h=From : To:subject; bh=YWJj\r\n ZA==; b=ZGVm; t=100; x=200; i=user@mail.example.com; l=5";

    #[test]
    fn tag_list_keeps_order_and_trims() {
        let t = TagList::parse(b" a = 1 ;b=two words ; c=\r\n\tfolded\r\n value;").unwrap();
        let all: Vec<_> = t.iter().collect();
        assert_eq!(
            all,
            [("a", "1"), ("b", "two words"), ("c", "folded\r\n value")]
        );
    }

    #[test]
    fn tag_list_errors() {
        assert_eq!(
            TagList::parse(b"a=1; a=2"),
            Err(TagListError::Duplicate { name: "a".into() })
        );
        assert!(matches!(
            TagList::parse(b"a=1; nothing"),
            Err(TagListError::MissingEquals { .. })
        ));
        assert!(matches!(
            TagList::parse(b"1a=1"),
            Err(TagListError::InvalidName { .. })
        ));
        assert!(matches!(
            TagList::parse(b"a-b=1"),
            Err(TagListError::InvalidName { .. })
        ));
        assert!(matches!(
            TagList::parse(b"a=x\x01y"),
            Err(TagListError::InvalidValue { .. })
        ));
        assert_eq!(TagList::parse(b"a=\xff"), Err(TagListError::NotUtf8));
    }

    #[test]
    fn parses_a_complete_signature() {
        let s = Signature::parse(GOOD.as_bytes()).unwrap();
        assert_eq!(s.algorithm, Algorithm::RsaSha256);
        assert_eq!(
            s.canonicalization,
            Canonicalization {
                header: Canon::Relaxed,
                body: Canon::Simple
            }
        );
        assert_eq!(s.domain, "example.com");
        assert_eq!(s.signed_headers, ["from", "to", "subject"]);
        assert_eq!(s.body_hash, b"abcd");
        assert_eq!(s.signature, b"def");
        assert_eq!(
            (s.timestamp, s.expiration, s.body_length),
            (Some(100), Some(200), Some(5))
        );
        assert_eq!(s.key_name(), "sel._domainkey.example.com");
    }

    fn with(from: &str, to: &str) -> Result<Signature, SignatureError> {
        Signature::parse(GOOD.replace(from, to).as_bytes())
    }

    #[test]
    fn precise_errors() {
        assert_eq!(with("s=sel;", ""), Err(SignatureError::MissingTag("s")));
        assert_eq!(
            with("a=rsa-sha256", "a=rsa-md5"),
            Err(SignatureError::UnknownAlgorithm("rsa-md5".into()))
        );
        assert!(matches!(
            with("h=From : To:subject", "h=to:subject"),
            Err(SignatureError::FromNotSigned(_))
        ));
        assert_eq!(
            with("h=From : To:subject", "h=From : To:subjéct"),
            Err(SignatureError::InvalidHeaderName("subjéct".into()))
        );
        assert_eq!(
            with("h=From : To:subject", "h=Fr\r\n om: To ::Subject:").map(|s| s.signed_headers),
            Ok(vec!["from".into(), "to".into(), "subject".into()])
        );
        assert!(matches!(
            with("i=user@mail.example.com", "i=user@example.net"),
            Err(SignatureError::IdentityOutsideDomain { .. })
        ));
        assert!(matches!(
            with("i=user@mail.example.com", "i=user@badexample.com"),
            Err(SignatureError::IdentityOutsideDomain { .. })
        ));
        assert_eq!(
            with("x=200", "x=50"),
            Err(SignatureError::ExpiresBeforeSigned {
                timestamp: 100,
                expiration: 50
            })
        );
        assert!(matches!(
            with("b=ZGVm", "b=Z!Vm"),
            Err(SignatureError::Base64 { tag: "b", .. })
        ));
        assert!(matches!(
            with("t=100", "t=100; d=x.test"),
            Err(SignatureError::TagList(TagListError::Duplicate { .. }))
        ));
        assert!(matches!(
            with("c=relaxed/simple", "c=loose"),
            Err(SignatureError::UnknownCanonicalization(_))
        ));
        assert!(matches!(
            with("l=5", "l=-5"),
            Err(SignatureError::InvalidNumber { tag: "l", .. })
        ));
        assert!(matches!(
            with("v=1", "v=2"),
            Err(SignatureError::Version(_))
        ));
        let msg = with("a=rsa-sha256", "a=rsa-md5").unwrap_err().to_string();
        assert_eq!(msg, "unknown signing algorithm a=rsa-md5");
    }

    #[test]
    fn base64_with_folding_whitespace() {
        assert_eq!(decode_base64("YW\r\n\tJj ZA").unwrap(), b"abcd");
    }
}
