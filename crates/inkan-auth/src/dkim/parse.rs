//! Tag lists (RFC 6376 §3.2) and the DKIM-Signature header field (RFC 6376 §3.5) with the
//! checks a verifier makes before it asks DNS: required tags, `h=` lists From, `i=` is within
//! `d=`, `x=` is not before `t=`, known algorithm and canonicalization, base64 with folding
//! whitespace, no duplicate tags.

use std::borrow::Cow;
use std::ops::Range;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use wide::u8x16;

use super::canon::{is_space as is_fws, space_bounds};
use super::{Algorithm, Canon, Canonicalization};
use crate::message::positions;

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
        let mut tags = TagList {
            tags: Vec::with_capacity(16),
        };
        scan_tags(input, &mut tags)?;
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

/// Where [`scan_tags`] puts the tags it reads: a [`TagList`] keeps them all, a
/// [`SignatureTags`] the values of the tags a DKIM-Signature has.
trait TagSink<'a> {
    /// Takes the next tag, or refuses it as a duplicate or as one too many. `raw_value` is
    /// where the value lies in the input with the whitespace around it.
    fn add(
        &mut self,
        name: &'a str,
        value: &'a str,
        raw_value: Range<usize>,
    ) -> Result<(), TagListError>;
}

impl<'a> TagSink<'a> for TagList<'a> {
    fn add(&mut self, name: &'a str, value: &'a str, _: Range<usize>) -> Result<(), TagListError> {
        if self.tags.iter().any(|(n, _)| same(n, name)) {
            return Err(TagListError::Duplicate { name: name.into() });
        }
        if self.tags.len() >= MAX_TAGS {
            return Err(TagListError::TooManyTags);
        }
        self.tags.push((name, value));
        Ok(())
    }
}

/// Reads the tag-specs of `input` in order into `sink` (RFC 6376 §3.2), stopping at the
/// first that is malformed or that `sink` refuses.
fn scan_tags<'a>(input: &'a [u8], sink: &mut impl TagSink<'a>) -> Result<(), TagListError> {
    let text = std::str::from_utf8(input).map_err(|_| TagListError::NotUtf8)?;
    // Every delimiter is ASCII, so byte positions found here are char boundaries.
    let bytes = text.as_bytes();
    let mut from = 0;
    // The tag-spec that ends at `end`. Real lists have no control characters: a value is
    // searched for one only when `control` says the blocks read so far hold one.
    // Positions are worked out on the bytes, and only the name and the value cut from `text`:
    // each cut checks that its ends are char boundaries.
    let mut spec_to = |end: usize, control: bool| -> Result<(), TagListError> {
        let bounds = space_bounds(&bytes[from..end]);
        let (spec_start, spec_end) = (from + bounds.start, from + bounds.end);
        from = end + 1;
        if spec_start == spec_end {
            return Ok(());
        }
        // The name is short: a byte loop finds the `=` sooner than a call to memchr.
        let Some(eq) = bytes[spec_start..spec_end].iter().position(|&b| b == b'=') else {
            return Err(TagListError::MissingEquals {
                spec: text[spec_start..spec_end].chars().take(60).collect(),
            });
        };
        let eq = spec_start + eq;
        // The spec has no whitespace at its ends: the name none before it, the value none
        // after it.
        let name_end = bytes[spec_start..eq]
            .iter()
            .rposition(|&b| !is_fws(b))
            .map_or(spec_start, |p| spec_start + p + 1);
        let value_start = bytes[eq + 1..spec_end]
            .iter()
            .position(|&b| !is_fws(b))
            .map_or(spec_end, |p| eq + 1 + p);
        let mut name_bytes = bytes[spec_start..name_end].iter();
        let valid_name = name_bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && name_bytes.all(|&b| b.is_ascii_alphanumeric() || b == b'_');
        let name = &text[spec_start..name_end];
        let value = &text[value_start..spec_end];
        if !valid_name {
            return Err(TagListError::InvalidName {
                name: name.chars().take(60).collect(),
            });
        }
        if control && has_control(value.as_bytes()) {
            return Err(TagListError::InvalidValue {
                name: name.into(),
                value: value.chars().take(60).collect(),
            });
        }
        sink.add(name, value, eq + 1..end)
    };
    // One pass, 32 bytes a step, finds the semicolons and notes control characters.
    let mut control = false;
    let (blocks, rest) = bytes.as_chunks::<32>();
    for (k, block) in blocks.iter().enumerate() {
        let (mut semicolons, block_control) = tag_block(block);
        control |= block_control;
        while semicolons != 0 {
            spec_to(32 * k + semicolons.trailing_zeros() as usize, control)?;
            semicolons &= semicolons - 1;
        }
    }
    if !rest.is_empty() {
        let (mut semicolons, block_control) = match bytes.last_chunk::<32>() {
            // The last 32 bytes, shifted so that bit 0 stands for the first of `rest`.
            Some(last) => {
                let (semicolons, control) = tag_block(last);
                (semicolons >> (32 - rest.len()), control)
            }
            None => {
                let mut padded = [b' '; 32];
                padded[..rest.len()].copy_from_slice(rest);
                tag_block(&padded)
            }
        };
        control |= block_control;
        let base = bytes.len() - rest.len();
        while semicolons != 0 {
            spec_to(base + semicolons.trailing_zeros() as usize, control)?;
            semicolons &= semicolons - 1;
        }
    }
    spec_to(bytes.len(), control)
}

/// The semicolons of `block` (bit `i` for byte `i`), and whether it holds an ASCII control
/// character other than folding whitespace. Two lanes of 16 a step: one test of the control
/// characters serves both.
#[inline]
fn tag_block(block: &[u8; 32]) -> (u32, bool) {
    let (halves, _) = block.as_chunks::<16>();
    let (mut semicolons, mut control) = (0, u8x16::splat(0));
    for (i, half) in halves.iter().enumerate() {
        let lanes = u8x16::new(*half);
        semicolons |= (lanes.cmp_eq(u8x16::splat(b';')).move_mask() as u32) << (16 * i);
        let below_space = lanes.min(u8x16::splat(0x1f)).cmp_eq(lanes);
        let fws = lanes.cmp_eq(u8x16::splat(b'\t'))
            | lanes.cmp_eq(u8x16::splat(b'\r'))
            | lanes.cmp_eq(u8x16::splat(b'\n'));
        // Folding whitespace is below a space too: the difference is the control characters.
        control |= (below_space ^ fws) | lanes.cmp_eq(u8x16::splat(0x7f));
    }
    (semicolons, control.any())
}

/// True when `value` holds an ASCII control character other than folding whitespace.
fn has_control(value: &[u8]) -> bool {
    value
        .iter()
        .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\r' | b'\n')) || b == 0x7f)
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

/// [`BASE64_VALUES`] shifted into place for each of the four symbols of a quantum, with every
/// byte that is not a symbol set to all ones: a quantum's 24 bits are the union of four
/// lookups, and a union above 24 bits holds a byte that is not a symbol (whitespace, `=`,
/// anything else), so one comparison checks four symbols.
const BASE64_PLACED: [[u32; 256]; 4] = {
    let mut tables = [[u32::MAX; 256]; 4];
    let mut b = 0;
    while b < 256 {
        let v = BASE64_VALUES[b];
        if v != NOT_BASE64 {
            let mut place = 0;
            while place < 4 {
                tables[place][b] = (v as u32) << (18 - 6 * place);
                place += 1;
            }
        }
        b += 1;
    }
    tables
};

/// The 24 bits of the quantum `q`, or a value above 24 bits when a byte is not a symbol.
fn quantum(q: [u8; 4]) -> u32 {
    BASE64_PLACED[0][usize::from(q[0])]
        | BASE64_PLACED[1][usize::from(q[1])]
        | BASE64_PLACED[2][usize::from(q[2])]
        | BASE64_PLACED[3][usize::from(q[3])]
}

const QUANTUM_BITS: u32 = (1 << 24) - 1;

/// Decodes the common form in one pass: symbols with folding whitespace anywhere, then full
/// padding or none. `None` for anything else; what this accepts, [`decode_base64`]'s general
/// decoder accepts with the same result.
// `vec![0; n]` asks the allocator for zeroed memory, which glibc serves past its cache of
// small blocks: by callgrind's count (bench/dkim/count.sh) it costs more than a plain
// allocation and a fill.
#[expect(
    clippy::slow_vector_initialization,
    reason = "measured: calloc is the slower way"
)]
fn decode_base64_plain(value: &[u8]) -> Option<Vec<u8>> {
    // Written by position into a buffer as long as the most the value can decode to, plus
    // two bytes of scratch for a word store, and cut to size at the end: each write then
    // checks one bound, where a push also reloads and stores the length.
    let most = value.len() / 4 * 3 + 5;
    let mut out = Vec::with_capacity(most);
    out.resize(most, 0);
    let mut len = 0;
    let mut acc: u32 = 0;
    let mut held = 0;
    let mut rest = value;
    loop {
        // The bulk of a value is runs of symbols between folds (a folded line holds a
        // multiple of eight): two quanta, six bytes, per step while no quantum is open.
        if held == 0 {
            while let Some((eight, tail)) = rest.split_first_chunk::<8>() {
                let [a, b, c, d, e, f, g, h] = *eight;
                let (high, low) = (quantum([a, b, c, d]), quantum([e, f, g, h]));
                if (high | low) > QUANTUM_BITS {
                    if high <= QUANTUM_BITS {
                        out.get_mut(len..len + 3)?
                            .copy_from_slice(&high.to_be_bytes()[1..]);
                        len += 3;
                        rest = &rest[4..];
                    }
                    break;
                }
                // Six bytes stored as one word of eight: the two after them are scratch,
                // overwritten by what follows or cut off at the end.
                let both = (u64::from(high) << 40) | (u64::from(low) << 16);
                out.get_mut(len..len + 8)?
                    .copy_from_slice(&both.to_be_bytes());
                len += 6;
                rest = tail;
            }
        }
        let Some((&b, tail)) = rest.split_first() else {
            break;
        };
        let v = BASE64_VALUES[usize::from(b)];
        if v != NOT_BASE64 {
            acc = (acc << 6) | u32::from(v);
            held += 1;
            if held == 4 {
                out.get_mut(len..len + 3)?
                    .copy_from_slice(&acc.to_be_bytes()[1..]);
                len += 3;
                acc = 0;
                held = 0;
            }
            rest = tail;
        } else if b == b'=' {
            break;
        } else if is_fws(b) {
            // A fold is a run of whitespace: pass all of it before the next eight.
            rest = tail;
            while let Some((&b, tail)) = rest.split_first()
                && is_fws(b)
            {
                rest = tail;
            }
        } else {
            return None;
        }
    }
    let mut padding = 0;
    for &b in rest {
        match b {
            b'=' => padding += 1,
            b if is_fws(b) => {}
            _ => return None,
        }
    }
    let tail: &[u8] = match (held, padding) {
        (0, 0) => &[],
        (2, 0 | 2) => &[(acc >> 4) as u8],
        (3, 0 | 1) => &[(acc >> 10) as u8, (acc >> 2) as u8],
        _ => return None,
    };
    out.get_mut(len..len + tail.len())?.copy_from_slice(tail);
    out.truncate(len + tail.len());
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

/// Marks a length and first letter that no name in [`KNOWN_HEADERS`] has.
const NOT_KNOWN: u8 = u8::MAX;

/// For each name length and first letter, the index in [`KNOWN_HEADERS`] of the one name of
/// that shape, or [`NOT_KNOWN`]: a lookup compares a name with one candidate at most. Two
/// known names of one shape stop the build.
const KNOWN_BY_SHAPE: [[u8; 26]; KNOWN_LENGTHS] = {
    let mut table = [[NOT_KNOWN; 26]; KNOWN_LENGTHS];
    let mut i = 0;
    while i < KNOWN_HEADERS.len() {
        let name = KNOWN_HEADERS[i].as_bytes();
        let slot = &mut table[name.len()][(name[0] - b'a') as usize];
        assert!(
            *slot == NOT_KNOWN,
            "two known header names of one length and first letter"
        );
        *slot = i as u8;
        i += 1;
    }
    table
};

/// Each name of [`KNOWN_HEADERS`] as four little-endian words, padded with zeros.
const KNOWN_WORDS: [[u64; 4]; KNOWN_HEADERS.len()] = known_words(false);

/// For each name of [`KNOWN_HEADERS`], its letters' case bit (0x20) in the place of each
/// letter: a name is the known one in any letter case when its words with these bits set are
/// the known words (a byte with the bit set is only then the lower-case letter when the known
/// byte is a letter, so the other bytes must match exactly).
const KNOWN_CASE_BITS: [[u64; 4]; KNOWN_HEADERS.len()] = known_words(true);

/// [`KNOWN_WORDS`], or with `case_bits` [`KNOWN_CASE_BITS`]. Known names are lower-case
/// letters and hyphens, at most 32 bytes long; any other stops the build.
const fn known_words(case_bits: bool) -> [[u64; 4]; KNOWN_HEADERS.len()] {
    let mut words = [[0; 4]; KNOWN_HEADERS.len()];
    let mut i = 0;
    while i < KNOWN_HEADERS.len() {
        let name = KNOWN_HEADERS[i].as_bytes();
        assert!(name.len() <= 32, "a known header name longer than 32 bytes");
        let mut j = 0;
        while j < name.len() {
            let b = name[j];
            assert!(
                b.is_ascii_lowercase() || b == b'-',
                "a known header name with a byte other than a-z and '-'"
            );
            let byte = if !case_bits {
                b
            } else if b.is_ascii_lowercase() {
                0x20
            } else {
                0
            };
            words[i][j / 8] |= (byte as u64) << (8 * (j % 8));
            j += 1;
        }
        i += 1;
    }
    words
}

/// The entry of [`KNOWN_HEADERS`] that is `name` in any letter case.
fn known_header(name: &[u8]) -> Option<&'static str> {
    let letter = name.first()?.to_ascii_lowercase().wrapping_sub(b'a');
    let index = usize::from(*KNOWN_BY_SHAPE.get(name.len())?.get(usize::from(letter))?);
    let known = KNOWN_HEADERS.get(index)?;
    // Word by word rather than byte by byte: the name is as long as the known one, so both
    // are padded with the same zeros.
    let mut padded = [0u8; 32];
    padded.get_mut(..name.len())?.copy_from_slice(name);
    let (words, _) = padded.as_chunks::<8>();
    let differ = words
        .iter()
        .zip(KNOWN_WORDS.get(index)?)
        .zip(KNOWN_CASE_BITS.get(index)?)
        .fold(0, |differ, ((word, known), case)| {
            differ | ((u64::from_le_bytes(*word) | case) ^ known)
        });
    (differ == 0).then_some(known)
}

/// `name` lower-cased, borrowed from [`KNOWN_HEADERS`] when it is there.
pub(crate) fn lowercase_header_name(name: Cow<'_, str>) -> Cow<'static, str> {
    match known_header(name.as_bytes()) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(name.to_ascii_lowercase()),
    }
}

/// The names in an `h=` value, lower-cased, without folding whitespace and empty names.
fn signed_header_names(h: &str) -> Result<Vec<Cow<'static, str>>, SignatureError> {
    let printable = |b: u8| (33..=126).contains(&b);
    let bytes = h.as_bytes();
    let mut names = Vec::with_capacity(h.len() / 6 + 1);
    let mut start = 0;
    for end in positions(bytes, b':').chain([h.len()]) {
        let raw = start..end;
        start = end + 1;
        let name = &bytes[raw.clone()];
        let name = &name[space_bounds(name)];
        if name.is_empty() {
            continue;
        }
        // A known name has neither whitespace nor unprintable bytes: found as it stands,
        // it needs neither check.
        if let Some(known) = known_header(name) {
            names.push(Cow::Borrowed(known));
            continue;
        }
        // `:` is ASCII, so the ends of `raw` are char boundaries.
        let name = fws_free(&h[raw]);
        if !name.bytes().all(printable) {
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

/// The algorithm `a=` names, in any letter case.
fn algorithm_named(a: &str) -> Option<Algorithm> {
    if a.eq_ignore_ascii_case("rsa-sha256") {
        Some(Algorithm::RsaSha256)
    } else if a.eq_ignore_ascii_case("ed25519-sha256") {
        Some(Algorithm::Ed25519Sha256)
    } else if a.eq_ignore_ascii_case("rsa-sha1") {
        Some(Algorithm::RsaSha1)
    } else {
        None
    }
}

/// The canonicalizations `c=` names, in any letter case: `header/body`, or `header` alone
/// with simple for the body.
fn canonicalization_named(c: &str) -> Option<Canonicalization> {
    let one = |s: &str| {
        if s.eq_ignore_ascii_case("simple") {
            Some(Canon::Simple)
        } else if s.eq_ignore_ascii_case("relaxed") {
            Some(Canon::Relaxed)
        } else {
            None
        }
    };
    // A byte loop: `split_once` with a char searches through a general matcher.
    Some(match c.bytes().position(|b| b == b'/') {
        Some(slash) => Canonicalization {
            header: one(&c[..slash])?,
            body: one(&c[slash + 1..])?,
        },
        None => Canonicalization {
            header: one(c)?,
            body: Canon::Simple,
        },
    })
}

/// The value of a tag the signature must have.
fn required<'a>(tag: &'static str, value: Option<&'a str>) -> Result<&'a str, SignatureError> {
    value.ok_or(SignatureError::MissingTag(tag))
}

fn number(raw: Option<&str>, tag: &'static str) -> Result<Option<u64>, SignatureError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    // Digits as written (the usual case) have no whitespace to take out.
    let as_written = raw.bytes().all(|b| b.is_ascii_digit());
    let value = if as_written {
        Cow::Borrowed(raw)
    } else {
        fws_free(raw)
    };
    // RFC 6376 limits these to 12 digits; more than u64 holds is an error, not a wrap.
    if value.is_empty()
        || value.len() > 20
        || !(as_written || value.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(SignatureError::InvalidNumber {
            tag,
            value: raw.chars().take(40).collect(),
        });
    }
    // Decimal digits only: none of the signs and forms `str::parse` also considers.
    value
        .bytes()
        .try_fold(0u64, |n, digit| {
            n.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
        })
        .map(Some)
        .ok_or_else(|| SignatureError::InvalidNumber {
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

/// The values of the tags a DKIM-Signature has (RFC 6376 §3.5), each in its own field, so
/// that the parse reads each value once, without a search by name.
#[derive(Default)]
struct SignatureTags<'a> {
    v: Option<&'a str>,
    a: Option<&'a str>,
    b: Option<&'a str>,
    bh: Option<&'a str>,
    c: Option<&'a str>,
    d: Option<&'a str>,
    h: Option<&'a str>,
    i: Option<&'a str>,
    l: Option<&'a str>,
    q: Option<&'a str>,
    s: Option<&'a str>,
    t: Option<&'a str>,
    x: Option<&'a str>,
    /// Where the `b=` value lies with the whitespace around it.
    b_value: Range<usize>,
    /// The names of the other tags, kept only to find duplicates among them.
    other: Vec<&'a str>,
    /// How many tags there are.
    count: usize,
}

impl<'a> SignatureTags<'a> {
    /// The field of tag `name`, if it is one this parse reads.
    fn slot(&mut self, name: &str) -> Option<&mut Option<&'a str>> {
        Some(match name {
            "v" => &mut self.v,
            "a" => &mut self.a,
            "b" => &mut self.b,
            "bh" => &mut self.bh,
            "c" => &mut self.c,
            "d" => &mut self.d,
            "h" => &mut self.h,
            "i" => &mut self.i,
            "l" => &mut self.l,
            "q" => &mut self.q,
            "s" => &mut self.s,
            "t" => &mut self.t,
            "x" => &mut self.x,
            _ => return None,
        })
    }
}

impl<'a> TagSink<'a> for SignatureTags<'a> {
    fn add(
        &mut self,
        name: &'a str,
        value: &'a str,
        raw_value: Range<usize>,
    ) -> Result<(), TagListError> {
        if same(name, "b") {
            self.b_value = raw_value;
        }
        let duplicate = match self.slot(name) {
            Some(slot) => slot.replace(value).is_some(),
            None => {
                let seen = self.other.iter().any(|n| same(n, name));
                self.other.push(name);
                seen
            }
        };
        if duplicate {
            return Err(TagListError::Duplicate { name: name.into() });
        }
        if self.count >= MAX_TAGS {
            return Err(TagListError::TooManyTags);
        }
        self.count += 1;
        Ok(())
    }
}

impl Signature {
    /// Parses a DKIM-Signature field value (everything after the colon).
    pub fn parse(value: &[u8]) -> Result<Signature, SignatureError> {
        Self::parse_locating_b(value).map(|(signature, _)| signature)
    }

    /// [`Signature::parse`], and where the `b=` value lies in `value` with the whitespace
    /// around it: what the header hash leaves out (RFC 6376 §3.7).
    pub(crate) fn parse_locating_b(
        value: &[u8],
    ) -> Result<(Signature, Range<usize>), SignatureError> {
        let mut tags = SignatureTags::default();
        scan_tags(value, &mut tags)?;
        let version = tags.v.ok_or(SignatureError::MissingTag("v"))?;
        // `1` as written needs no whitespace taken out; anything else is judged without it.
        if version != "1" {
            let version = fws_free(version);
            if version != "1" {
                return Err(SignatureError::Version(version.into_owned()));
            }
        }
        Ok((Self::from_tags(&tags, true)?, tags.b_value))
    }

    /// The DKIM-shaped part of an ARC-Message-Signature (RFC 8617 §4.1.2): the DKIM-Signature
    /// tags without `v=`. Its `i=` is the ARC instance, which the ARC parser reads, so the
    /// signature's `identity` is `None`.
    pub(crate) fn from_arc_message_signature_tags(
        tags: &TagList<'_>,
    ) -> Result<Signature, SignatureError> {
        let mut slots = SignatureTags::default();
        for (name, value) in tags.iter() {
            if let Some(slot) = slots.slot(name) {
                *slot = Some(value);
            }
        }
        Self::from_tags(&slots, false)
    }

    fn from_tags(
        tags: &SignatureTags<'_>,
        dkim_identity: bool,
    ) -> Result<Signature, SignatureError> {
        // The names hold no whitespace: a value that is one of them as written is the same
        // with whitespace taken out, so that is done only for a value that is none of them.
        let raw_a = required("a", tags.a)?;
        let algorithm = match algorithm_named(raw_a) {
            Some(algorithm) => algorithm,
            None => {
                let a = fws_free(raw_a);
                algorithm_named(&a)
                    .ok_or_else(|| SignatureError::UnknownAlgorithm(a.to_ascii_lowercase()))?
            }
        };
        let b64 = |tag: &'static str, value: Option<&str>| -> Result<Vec<u8>, SignatureError> {
            let raw = required(tag, value)?;
            let decoded = decode_base64(raw).map_err(|e| SignatureError::Base64 {
                tag,
                detail: e.to_string(),
            })?;
            if decoded.is_empty() {
                return Err(SignatureError::EmptyTag(tag));
            }
            Ok(decoded)
        };
        let signature = b64("b", tags.b)?;
        let body_hash = b64("bh", tags.bh)?;
        let canonicalization = match tags.c {
            None => Canonicalization {
                header: Canon::Simple,
                body: Canon::Simple,
            },
            // As for `a=`: a value that reads as written had no whitespace to take out.
            Some(raw) => match canonicalization_named(raw) {
                Some(canonicalization) => canonicalization,
                None => {
                    let c = fws_free(raw);
                    canonicalization_named(&c).ok_or_else(|| {
                        SignatureError::UnknownCanonicalization(c.to_ascii_lowercase())
                    })?
                }
            },
        };
        let mut domain = fws_free(required("d", tags.d)?).to_ascii_lowercase();
        if domain.ends_with('.') {
            domain.pop();
        }
        if !valid_domain(&domain) {
            return Err(SignatureError::InvalidDomain {
                tag: "d",
                value: domain,
            });
        }
        let selector = strip_fws(required("s", tags.s)?);
        if !valid_domain(&selector) {
            return Err(SignatureError::InvalidDomain {
                tag: "s",
                value: selector,
            });
        }
        let h = required("h", tags.h)?;
        let signed_headers = signed_header_names(h)?;
        if !signed_headers.iter().any(|n| n == "from") {
            return Err(SignatureError::FromNotSigned(strip_fws(h)));
        }
        let identity = match tags.i.filter(|_| dkim_identity) {
            None => None,
            Some(raw) => {
                let i = strip_fws(raw);
                check_identity(&i, &domain)?;
                Some(i)
            }
        };
        if let Some(q) = tags.q {
            let q = strip_fws(q);
            if !q
                .split(':')
                .any(|m| m.eq_ignore_ascii_case("dns/txt") || m.eq_ignore_ascii_case("dns"))
            {
                return Err(SignatureError::UnknownQueryMethod(q));
            }
        }
        let body_length = number(tags.l, "l")?;
        let timestamp = number(tags.t, "t")?;
        let expiration = number(tags.x, "x")?;
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
        self.key_name_parts().concat()
    }

    /// [`Self::key_name`] in the pieces it is joined from.
    pub(crate) fn key_name_parts(&self) -> [&str; 3] {
        [&self.selector, "._domainkey.", &self.domain]
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
                assert_eq!(known_header(name.as_bytes()), Some(*known), "{name}");
                assert!(
                    matches!(lowercase_header_name(name.into()), Cow::Borrowed(k) if k == *known)
                );
            }
        }
        assert_eq!(known_header(b"X-Mailer"), None);
        assert_eq!(known_header(b""), None);
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
    fn values_read_as_written_or_without_their_folding_whitespace() {
        let s = with("a=rsa-sha256", "a=RSA-\r\n Sha256").unwrap();
        assert_eq!(s.algorithm, Algorithm::RsaSha256);
        let s = with("c=relaxed/simple", "c=Simple /\r\n\tRELAXED").unwrap();
        assert_eq!(
            s.canonicalization,
            Canonicalization {
                header: Canon::Simple,
                body: Canon::Relaxed
            }
        );
        let s = with("c=relaxed/simple", "c=relaxed").unwrap();
        assert_eq!(s.canonicalization.body, Canon::Simple);
        let s = with("t=100", "t=1\r\n 00").unwrap();
        assert_eq!(s.timestamp, Some(100));
        assert_eq!(
            with("c=relaxed/simple", "c=Relaxed / Loose"),
            Err(SignatureError::UnknownCanonicalization(
                "relaxed/loose".into()
            ))
        );
        assert_eq!(
            with("c=relaxed/simple", "c=relaxed/simple/relaxed"),
            Err(SignatureError::UnknownCanonicalization(
                "relaxed/simple/relaxed".into()
            ))
        );
        assert_eq!(
            with("a=rsa-sha256", "a=RSA - MD5"),
            Err(SignatureError::UnknownAlgorithm("rsa-md5".into()))
        );
        assert_eq!(
            with("v=1", "v=1 1"),
            Err(SignatureError::Version("11".into()))
        );
        assert_eq!(
            with("t=100", "t=1 0x"),
            Err(SignatureError::InvalidNumber {
                tag: "t",
                value: "1 0x".into()
            })
        );
    }

    #[test]
    fn base64_with_folding_whitespace() {
        assert_eq!(decode_base64("YW\r\n\tJj ZA").unwrap(), b"abcd");
    }

    /// A small deterministic generator (xorshift64), so a failure names a reproducible seed.
    struct Xorshift(u64);

    impl Xorshift {
        fn below(&mut self, n: usize) -> usize {
            (crate::test_support::xorshift(&mut self.0) % n as u64) as usize
        }
    }

    #[test]
    fn plain_base64_decoder_agrees_with_the_general_one_on_random_values() {
        const FWS: [&str; 5] = [" ", "\t", "\r\n\t", "\r\n ", "  "];
        let mut rng = Xorshift(0x5eed_d1c1_b64b_64aa);
        let mut decoded_plainly = 0;
        for round in 0..3000 {
            // Well-formed values: random bytes encoded, folded anywhere, padding kept or cut.
            let len = rng.below(300);
            let data: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            let mut encoded = base64::engine::general_purpose::STANDARD.encode(&data);
            if rng.below(3) == 0 {
                encoded.truncate(encoded.trim_end_matches('=').len());
            }
            let mut value = String::new();
            for c in encoded.chars() {
                if rng.below(10) == 0 {
                    value.push_str(FWS[rng.below(FWS.len())]);
                }
                value.push(c);
            }
            if rng.below(4) == 0 {
                value.push_str("\r\n");
            }
            assert_eq!(decode_base64(&value), Ok(data), "round {round}: {value:?}");
            if decode_base64_plain(value.as_bytes()).is_some() {
                decoded_plainly += 1;
            }
            // Damaged values: a byte replaced, dropped or added, which both must judge alike
            // (the same bytes, or the same error at the same offset).
            let mut damaged = value.into_bytes();
            let at = rng.below(damaged.len() + 1);
            let odd = [b'=', b'!', b'-', b'_', b'\x01', b'.', b'A', b'\n', 0xc3][rng.below(9)];
            match rng.below(3) {
                0 if at < damaged.len() => damaged[at] = odd,
                1 if at < damaged.len() => {
                    damaged.remove(at);
                }
                _ => damaged.insert(at, odd),
            }
            let damaged = String::from_utf8_lossy(&damaged);
            let general = decode_base64_general(&damaged);
            if let Some(plain) = decode_base64_plain(damaged.as_bytes()) {
                assert_eq!(Ok(plain), general, "round {round}: {damaged:?}");
            }
            assert_eq!(
                decode_base64(&damaged),
                general,
                "round {round}: {damaged:?}"
            );
        }
        assert_eq!(
            decoded_plainly, 3000,
            "every well-formed value takes the plain path"
        );
    }

    #[test]
    fn plain_base64_decoder_edges() {
        // Eight symbols, then whitespace or padding at each place of the next eight.
        let symbols = "QUJDREVGR0hJSktMTU5PUA";
        for cut in 0..=symbols.len() {
            for insert in ["\r\n\t", "=", "!", "==", " = "] {
                let value = format!("{}{insert}{}", &symbols[..cut], &symbols[cut..]);
                assert_eq!(
                    decode_base64(&value),
                    decode_base64_general(&value),
                    "{value:?}"
                );
            }
        }
        assert_eq!(
            decode_base64("QUJD!EFG"),
            Err(base64::DecodeError::InvalidByte(4, b'!'))
        );
        assert_eq!(decode_base64("QUJDREVG\r\n\tR0hJ").unwrap(), b"ABCDEFGHI");
        assert_eq!(decode_base64("QUJDREVGR0hJSktM").unwrap(), b"ABCDEFGHIJKL");
    }

    #[test]
    fn the_b_value_located_by_the_parse_is_the_one_the_header_hash_leaves_out() {
        const FWS: [&str; 5] = ["", " ", "\t", "\r\n\t", "\r\n  "];
        let mut rng = Xorshift(0xb0b0_1234_5678_9abc);
        let mut parsed = 0;
        for round in 0..2000 {
            let fws = |rng: &mut Xorshift| FWS[rng.below(FWS.len())];
            let mut tags = vec![
                "v=1".to_string(),
                "a=rsa-sha256".into(),
                "d=example.com".into(),
                "s=sel".into(),
                "h=from:to".into(),
                format!("bh=YWJj{}ZA==", fws(&mut rng)),
                format!(
                    "b{}={}ZGVm{}ZGVm{}",
                    fws(&mut rng),
                    fws(&mut rng),
                    fws(&mut rng),
                    fws(&mut rng)
                ),
            ];
            if rng.below(2) == 0 {
                tags.push("z=b=x".into());
            }
            for i in (1..tags.len()).rev() {
                tags.swap(i, rng.below(i + 1));
            }
            let mut value = String::new();
            for tag in &tags {
                let (name, rest) = tag.split_once('=').unwrap();
                let (a, b, c) = (fws(&mut rng), fws(&mut rng), fws(&mut rng));
                value.push_str(&format!("{a}{name}{b}={rest}{c};"));
            }
            if rng.below(2) == 0 {
                value.pop();
            }
            let raw = format!("DKIM-Signature:{value}\r\n");
            let value_start = "DKIM-Signature:".len();
            if let Ok((_, b)) = Signature::parse_locating_b(value.as_bytes()) {
                parsed += 1;
                assert_eq!(
                    Some(value_start + b.start..value_start + b.end),
                    super::super::canon::b_value(raw.as_bytes()),
                    "round {round}: {raw:?}"
                );
            }
        }
        assert_eq!(parsed, 2000);
    }

    /// RFC 6376 §3.2 read plainly: split at `;`, trim, split at the first `=`, check.
    fn tag_list_reference(input: &[u8]) -> Result<Vec<(&str, &str)>, TagListError> {
        let text = std::str::from_utf8(input).map_err(|_| TagListError::NotUtf8)?;
        let fws: &[char] = &[' ', '\t', '\r', '\n'];
        let mut tags: Vec<(&str, &str)> = Vec::new();
        for spec in text.split(';').map(|spec| spec.trim_matches(fws)) {
            if spec.is_empty() {
                continue;
            }
            let Some((name, value)) = spec.split_once('=') else {
                return Err(TagListError::MissingEquals {
                    spec: spec.chars().take(60).collect(),
                });
            };
            let (name, value) = (name.trim_matches(fws), value.trim_matches(fws));
            let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_name {
                return Err(TagListError::InvalidName {
                    name: name.chars().take(60).collect(),
                });
            }
            if value
                .chars()
                .any(|c| (c.is_ascii_control() && !fws.contains(&c)) || c == '\x7f')
            {
                return Err(TagListError::InvalidValue {
                    name: name.into(),
                    value: value.chars().take(60).collect(),
                });
            }
            if tags.iter().any(|(n, _)| *n == name) {
                return Err(TagListError::Duplicate { name: name.into() });
            }
            if tags.len() >= MAX_TAGS {
                return Err(TagListError::TooManyTags);
            }
            tags.push((name, value));
        }
        Ok(tags)
    }

    #[test]
    fn tag_lists_read_as_the_plain_reading_does() {
        const PIECES: [&[u8]; 16] = [
            b"a",
            b"b",
            b"bh",
            b"x1",
            b"=",
            b";",
            b" ",
            b"\t",
            b"\r\n\t",
            b"QUJD",
            b"\x01",
            b"\x7f",
            b"\x1f",
            b"\xc3\xa9",
            b"_",
            b"9",
        ];
        let mut rng = Xorshift(0x7a95_11a7_0000_0001);
        let mut read = 0;
        for round in 0..20000 {
            let mut input = Vec::new();
            for _ in 0..rng.below(40) {
                // Mostly well-formed tags, so that most lists read far enough to matter.
                if rng.below(3) == 0 {
                    input.extend_from_slice(PIECES[rng.below(PIECES.len())]);
                } else {
                    let name = ["a", "b", "bh", "x", "z_"][rng.below(5)];
                    input.extend_from_slice(format!("{name}{}=", rng.below(50)).as_bytes());
                    input.extend_from_slice(&b"QUJDRA\r\n ZW Zn"[..rng.below(15)]);
                    input.extend_from_slice(b";");
                }
            }
            let reference = tag_list_reference(&input);
            read += usize::from(reference.is_ok());
            let parsed = TagList::parse(&input).map(|t| t.iter().collect::<Vec<_>>());
            assert_eq!(parsed, reference, "round {round}: {input:?}");
        }
        assert!(read > 1000, "only {read} lists read without an error");
    }

    #[test]
    fn numbers_read_as_str_parse_reads_them() {
        let mut rng = Xorshift(0x0123_4567_89ab_cdef);
        let mut samples: Vec<String> = ["18446744073709551615", "18446744073709551616"]
            .map(String::from)
            .to_vec();
        for _ in 0..3000 {
            let len = rng.below(23);
            let digit = |rng: &mut Xorshift| char::from(b'0' + rng.below(10) as u8);
            samples.push((0..len).map(|_| digit(&mut rng)).collect());
        }
        for sample in samples {
            let expected = match sample.parse::<u64>() {
                Ok(n) if sample.len() <= 20 => Ok(Some(n)),
                _ => Err(SignatureError::InvalidNumber {
                    tag: "t",
                    value: sample.clone(),
                }),
            };
            assert_eq!(number(Some(&sample), "t"), expected, "{sample:?}");
        }
        assert_eq!(number(Some("1 2\r\n 3"), "t"), Ok(Some(123)));
    }

    #[test]
    fn known_header_names_match_only_in_letter_case() {
        assert_eq!(known_header(b"LIST-ID"), Some("list-id"));
        assert_eq!(known_header(b"List-iD"), Some("list-id"));
        assert_eq!(
            known_header(b"Content-Transfer-Encoding"),
            Some("content-transfer-encoding")
        );
        let h = "From:To:Subject:Date:Message-ID:List-Unsubscribe:X-Custom:\r\n\t\
            list-unsubscribe-post:\r\n TO";
        let names = signed_header_names(h).unwrap();
        assert_eq!(
            names,
            [
                "from",
                "to",
                "subject",
                "date",
                "message-id",
                "list-unsubscribe",
                "x-custom",
                "list-unsubscribe-post",
                "to"
            ]
        );
        assert!(
            names
                .iter()
                .filter(|n| n.as_ref() != "x-custom")
                .all(|n| matches!(n, Cow::Borrowed(_)))
        );
        // A byte that equals the hyphen or a letter only with the case bit set is not it.
        for near in [
            &b"list\rid"[..],
            b"list_id",
            b"list\x0did",
            b"fr\x0fm",
            b"fro\x0d",
            b"from ",
            b" from",
            b"fro",
            b"Fr\xc3\xb6m",
            b"content-transfer-encodinG\x00",
        ] {
            assert_eq!(known_header(near), None, "{near:?}");
        }
    }

    #[test]
    fn signature_tag_errors_are_the_tag_list_errors() {
        let many: String = (0..=MAX_TAGS).map(|i| format!("z{i}=1;")).collect();
        for input in [
            "v=1; a=rsa-sha256; a=rsa-sha256",
            "v=1; z=1; y=2; z=3",
            "v=1; z=1; v=1",
            "v=1; =x",
            " ; ;v=1; a",
            "v=1; a b=1",
            "v=1; 9=1",
            "v=1; a=x\x01y",
            "v=1; h=a\x7f",
            many.as_str(),
        ] {
            let tag_list = TagList::parse(input.as_bytes()).unwrap_err();
            assert_eq!(
                Signature::parse(input.as_bytes()),
                Err(SignatureError::TagList(tag_list)),
                "{input:?}"
            );
        }
        assert_eq!(
            Signature::parse(b"v=1; a=\xff"),
            Err(SignatureError::TagList(TagListError::NotUtf8))
        );
        // Unknown tags are allowed and ignored, and tag names are case-sensitive.
        let s = with("l=5", "z=x|y; Z=1; V=2; foo_1=bar").unwrap();
        assert_eq!(s.body_length, None);
    }
}
