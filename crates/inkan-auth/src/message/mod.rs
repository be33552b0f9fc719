//! The raw message as authentication sees it (RFC 5322 §2.1–§2.2, RFC 6376 §5.4.2): the header
//! section split from the body at the first empty line, header fields kept byte-exact with
//! their folding, case-insensitive lookup in order or bottom-up, and the body untouched.
//!
//! Input with bare LF line endings (as files on disk often have) is converted to CRLF, the form
//! an MTA sees on the wire, and the conversion is reported. Parsing enforces explicit size
//! limits so that hostile input costs bounded memory and time.

use std::borrow::Cow;
use std::ops::Range;

use fearless_simd::prelude::*;
use fearless_simd::{Level, dispatch, mask8x64, u8x64};
use wide::u8x16;

/// Limits applied while parsing a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted, in bytes (after LF → CRLF conversion).
    pub max_message_bytes: usize,
    /// Largest header section accepted, in bytes.
    pub max_header_bytes: usize,
    /// Most header fields accepted.
    pub max_header_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024 * 1024,
            max_header_bytes: 1024 * 1024,
            max_header_fields: 10_000,
        }
    }
}

/// Why bytes could not be read as a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The message is larger than [`Limits::max_message_bytes`].
    #[error("message is {size} bytes, more than the limit of {limit}")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The limit in force.
        limit: usize,
    },
    /// The header section is larger than [`Limits::max_header_bytes`].
    #[error("header section is longer than the limit of {limit} bytes")]
    HeaderTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// There are more header fields than [`Limits::max_header_fields`].
    #[error("message has more than {limit} header fields")]
    TooManyFields {
        /// The limit in force.
        limit: usize,
    },
    /// A line in the header section is neither a field (`name:`) nor a continuation.
    #[error("header line {line} is not a header field (no 'name:'): '{text}'")]
    MalformedField {
        /// 1-based line number within the header section.
        line: usize,
        /// The start of the offending line, lossily decoded.
        text: String,
    },
    /// The first line of the message is a continuation line (starts with whitespace).
    #[error(
        "header line 1 starts with whitespace, so it continues a field that does not exist: '{text}'"
    )]
    LeadingContinuation {
        /// The start of the offending line, lossily decoded.
        text: String,
    },
}

/// A parsed message: the bytes (CRLF line endings), where each header field lies, and where the
/// body starts. The bytes are borrowed from the input when it was given as a slice and already
/// had CRLF line endings, so that verifying a message held in a buffer copies nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    raw: Cow<'a, [u8]>,
    fields: Vec<FieldSpan>,
    body_start: usize,
    has_separator: bool,
    converted_line_endings: bool,
}

/// Where one header field lies in the message.
///
/// Offsets are `u32`, so that the spans of a usual header section (20 bytes each) fit in one
/// small allocation and a scan for a name reads little memory; a header section that reaches
/// past 4 GiB is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldSpan {
    /// Where the field starts: its name, then the whole field.
    start: u32,
    /// Where the name ends, without trailing whitespace before the colon (checked printable
    /// ASCII once here, so it is always valid UTF-8).
    name_end: u32,
    /// Where the value starts: after the colon.
    value_start: u32,
    /// Where the value ends: before the final CRLF.
    value_end: u32,
    /// Where the field ends, after its final CRLF.
    end: u32,
    /// [`name_key`] of the name.
    key: u32,
}

impl FieldSpan {
    fn name(&self) -> Range<usize> {
        self.start as usize..self.name_end as usize
    }

    fn value(&self) -> Range<usize> {
        self.value_start as usize..self.value_end as usize
    }

    fn raw(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One header field of a [`Message`], borrowed from it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HeaderField<'a> {
    /// Printable ASCII (checked when parsed), read as text only when asked for.
    name: &'a [u8],
    value: &'a [u8],
    raw: &'a [u8],
    index: usize,
}

impl<'a> HeaderField<'a> {
    /// The field name as written (letter case kept).
    pub fn name(&self) -> &'a str {
        // Checked printable ASCII when parsed, so this never falls back to "".
        std::str::from_utf8(self.name).unwrap_or_default()
    }

    /// True when the name equals `name` ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name.as_bytes())
    }

    /// The value: every byte after the colon up to the final CRLF, folding kept.
    pub fn value(&self) -> &'a [u8] {
        self.value
    }

    /// The whole field byte-exact: name, colon, value and the final CRLF.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The position of this field among all header fields (0 = topmost).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The value unfolded (RFC 5322 §2.2.3: each CRLF followed by whitespace removed) with
    /// leading and trailing whitespace trimmed.
    pub fn unfolded_value(&self) -> Cow<'a, [u8]> {
        unfold(self.value)
    }

    /// [`Self::unfolded_value`] as text, invalid UTF-8 replaced.
    pub fn unfolded_str(&self) -> String {
        String::from_utf8_lossy(&self.unfolded_value()).into_owned()
    }
}

impl std::fmt::Debug for HeaderField<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeaderField")
            .field("name", &self.name())
            .field("value", &self.value)
            .field("raw", &self.raw)
            .field("index", &self.index)
            .finish()
    }
}

/// Removes every CRLF that is followed by whitespace and trims the result.
pub fn unfold(value: &[u8]) -> Cow<'_, [u8]> {
    let trimmed = trim_wsp(value);
    if !trimmed.contains(&b'\n') && !trimmed.contains(&b'\r') {
        return Cow::Borrowed(trimmed);
    }
    let mut out = Vec::with_capacity(trimmed.len());
    let mut i = 0;
    while i < trimmed.len() {
        let b = trimmed[i];
        if b == b'\r' && trimmed.get(i + 1) == Some(&b'\n') {
            i += 2;
            continue;
        }
        if b == b'\n' {
            i += 1;
            continue;
        }
        out.push(b);
        i += 1;
    }
    Cow::Owned(out)
}

fn trim_wsp(v: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = v.iter().position(|b| !is_ws(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !is_ws(b)).map_or(start, |p| p + 1);
    &v[start..end]
}

fn preview(line: &[u8]) -> String {
    let cut = &line[..line.len().min(60)];
    String::from_utf8_lossy(cut).trim_end().to_owned()
}

/// The vector instructions for the long passes over a message (this bare-LF check, the relaxed
/// body): the widest the CPU has up to AVX2, found at run time. AVX-512 measured slower than
/// AVX2 for the relaxed body pass on the Zen 4 machines we bench on (`bench/dkim/README.md`).
pub(crate) fn vector_level() -> Level {
    let level = Level::new();
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    let level = level.as_avx2().map_or(level, Level::Avx2);
    level
}

/// True when some LF in `input` does not follow a CR. Most mail has none and this runs on every
/// message, as the first read of its bytes.
fn has_bare_lf(input: &[u8]) -> bool {
    has_bare_lf_with(vector_level(), input)
}

/// Set where `at` holds an LF and `before` (the bytes one earlier) no CR.
#[inline(always)]
fn bare_lfs<S: Simd>(simd: S, before: &[u8; 64], at: &[u8; 64]) -> mask8x64<S> {
    u8x64::from_slice(simd, at).simd_eq(u8x64::splat(simd, b'\n'))
        & !u8x64::from_slice(simd, before).simd_eq(u8x64::splat(simd, b'\r'))
}

/// [`has_bare_lf`] with the vectors of `level`.
fn has_bare_lf_with(level: Level, input: &[u8]) -> bool {
    dispatch!(level, simd => bare_lf_in(simd, input))
}

/// One pass, 128 bytes a step: each 64-byte half compared with LF and the same half one byte
/// earlier with CR, the two results tested once a step; the bytes after the last step are
/// tested 64 at a time (the last 64 overlapping bytes already tested) or, in an input shorter
/// than 65 bytes, one by one.
#[inline(always)]
fn bare_lf_in<S: Simd>(simd: S, input: &[u8]) -> bool {
    if input.first() == Some(&b'\n') {
        return true;
    }
    let Some(last) = input.len().checked_sub(1) else {
        return false;
    };
    // `at[i]` is the byte tested for LF, `before[i]` the one before it.
    let (before, at) = (&input[..last], &input[1..]);
    let bare = |before: &[u8; 64], at: &[u8; 64]| bare_lfs(simd, before, at);
    let (before_steps, _) = before.as_chunks::<128>();
    let (at_steps, _) = at.as_chunks::<128>();
    for (b, a) in before_steps.iter().zip(at_steps) {
        let (b, a) = (b.as_chunks::<64>().0, a.as_chunks::<64>().0);
        if (bare(&b[0], &a[0]) | bare(&b[1], &a[1])).any_true() {
            return true;
        }
    }
    // Fewer than 128 bytes are left after the steps: the 64 they start with and the last 64
    // cover them.
    let rest = before_steps.len() * 128;
    let found = |b: Option<&[u8; 64]>, a: Option<&[u8; 64]>| {
        b.zip(a).is_some_and(|(b, a)| bare(b, a).any_true())
    };
    match (before.last_chunk::<64>(), at.last_chunk::<64>()) {
        (Some(b), Some(a)) => {
            rest < last
                && (bare(b, a).any_true()
                    || found(before[rest..].first_chunk(), at[rest..].first_chunk()))
        }
        _ => before
            .iter()
            .zip(at)
            .any(|(&b, &a)| a == b'\n' && b != b'\r'),
    }
}

/// What [`Message::parse`] accepts: bytes it can own (`Vec<u8>`, `String`) or borrow (slices,
/// arrays, `&str`) for as long as the message lives.
pub trait MessageBytes<'a> {
    /// The bytes, owned or borrowed.
    fn into_bytes(self) -> Cow<'a, [u8]>;
}

impl<'a> MessageBytes<'a> for Vec<u8> {
    fn into_bytes(self) -> Cow<'a, [u8]> {
        Cow::Owned(self)
    }
}

impl<'a> MessageBytes<'a> for String {
    fn into_bytes(self) -> Cow<'a, [u8]> {
        Cow::Owned(self.into_bytes())
    }
}

/// Slices, arrays, `&Vec<u8>`, `&str` and `&String` are borrowed.
impl<'a, T: AsRef<[u8]> + ?Sized> MessageBytes<'a> for &'a T {
    fn into_bytes(self) -> Cow<'a, [u8]> {
        Cow::Borrowed(self.as_ref())
    }
}

impl<'a> MessageBytes<'a> for Cow<'a, [u8]> {
    fn into_bytes(self) -> Cow<'a, [u8]> {
        self
    }
}

/// Converts every bare LF to CRLF; returns `None` when there is none.
fn to_crlf(input: &[u8]) -> Option<Vec<u8>> {
    if !has_bare_lf(input) {
        return None;
    }
    let is_bare = |i: usize| i == 0 || input[i - 1] != b'\r';
    let bare = memchr::memchr_iter(b'\n', input)
        .filter(|&i| is_bare(i))
        .count();
    if bare == 0 {
        return None;
    }
    let mut out = Vec::with_capacity(input.len() + bare);
    let mut copied = 0;
    for i in memchr::memchr_iter(b'\n', input).filter(|&i| is_bare(i)) {
        out.extend_from_slice(&input[copied..i]);
        out.extend_from_slice(b"\r\n");
        copied = i + 1;
    }
    out.extend_from_slice(&input[copied..]);
    Some(out)
}

impl<'a> Message<'a> {
    /// Parses `input` with the default [`Limits`].
    pub fn parse(input: impl MessageBytes<'a>) -> Result<Message<'a>, MessageError> {
        Self::parse_with_limits(input, Limits::default())
    }

    /// Parses `input` under `limits`.
    pub fn parse_with_limits(
        input: impl MessageBytes<'a>,
        limits: Limits,
    ) -> Result<Message<'a>, MessageError> {
        Self::parse_bytes(input.into_bytes(), limits)
    }

    fn parse_bytes(input: Cow<'a, [u8]>, limits: Limits) -> Result<Message<'a>, MessageError> {
        if input.len() > limits.max_message_bytes {
            return Err(MessageError::TooLarge {
                size: input.len(),
                limit: limits.max_message_bytes,
            });
        }
        let (raw, converted_line_endings) = match to_crlf(&input) {
            Some(converted) => (Cow::Owned(converted), true),
            None => (input, false),
        };
        if raw.len() > limits.max_message_bytes {
            return Err(MessageError::TooLarge {
                size: raw.len(),
                limit: limits.max_message_bytes,
            });
        }
        let offset = |at: usize| {
            u32::try_from(at).map_err(|_| MessageError::HeaderTooLarge {
                limit: u32::MAX as usize,
            })
        };
        let mut fields: Vec<FieldSpan> = Vec::with_capacity(32);
        let mut pos = 0;
        let mut line_no = 0;
        let mut body_start = raw.len();
        let mut has_separator = false;
        let mut line_ends = positions(&raw, b'\n');
        while pos < raw.len() {
            if pos > limits.max_header_bytes {
                return Err(MessageError::HeaderTooLarge {
                    limit: limits.max_header_bytes,
                });
            }
            line_no += 1;
            // Every LF follows a CR here (bare ones were converted), so a line ends after the
            // next LF; the last line may have no line ending at all.
            let (line_end, content_end) = match line_ends.next() {
                Some(lf) => (lf + 1, lf - usize::from(raw[..lf].ends_with(b"\r"))),
                None => (raw.len(), raw.len()),
            };
            let line = &raw[pos..line_end];
            if line == b"\r\n" {
                body_start = line_end;
                has_separator = true;
                break;
            }
            if matches!(line[0], b' ' | b'\t') {
                match fields.last_mut() {
                    Some(last) => {
                        last.end = offset(line_end)?;
                        last.value_end = content_end as u32;
                    }
                    None => {
                        return Err(MessageError::LeadingContinuation {
                            text: preview(line),
                        });
                    }
                }
            } else {
                // The name: printable ASCII up to the colon, which may follow whitespace.
                let name_len = name_len(&raw[pos..], line.len());
                let colon = line[name_len..]
                    .iter()
                    .position(|&b| !matches!(b, b' ' | b'\t'))
                    .map(|p| name_len + p)
                    .filter(|&c| line[c] == b':');
                let Some(colon) = colon.filter(|_| name_len > 0) else {
                    return Err(MessageError::MalformedField {
                        line: line_no,
                        text: preview(line),
                    });
                };
                if fields.len() >= limits.max_header_fields {
                    return Err(MessageError::TooManyFields {
                        limit: limits.max_header_fields,
                    });
                }
                // The other offsets lie before the end of the line, so they fit when it does.
                let end = offset(line_end)?;
                fields.push(FieldSpan {
                    start: pos as u32,
                    name_end: (pos + name_len) as u32,
                    value_start: (pos + colon + 1) as u32,
                    value_end: content_end as u32,
                    end,
                    key: name_key(&line[..name_len]),
                });
            }
            pos = line_end;
        }
        if !has_separator && pos > limits.max_header_bytes {
            return Err(MessageError::HeaderTooLarge {
                limit: limits.max_header_bytes,
            });
        }
        Ok(Message {
            raw,
            fields,
            body_start,
            has_separator,
            converted_line_endings,
        })
    }

    /// Every header field, top to bottom.
    pub fn headers(&self) -> impl DoubleEndedIterator<Item = HeaderField<'_>> + ExactSizeIterator {
        self.fields
            .iter()
            .enumerate()
            .map(|(index, span)| self.field(index, span))
    }

    /// The header field at `index` (0 = topmost).
    pub fn header_at(&self, index: usize) -> Option<HeaderField<'_>> {
        self.fields.get(index).map(|span| self.field(index, span))
    }

    /// The fields named `name` (any letter case), top to bottom; `.rev()` gives the bottom-up
    /// order RFC 6376 §5.4.2 selects signed fields in.
    pub fn header_fields<'b>(
        &'b self,
        name: &'b str,
    ) -> impl DoubleEndedIterator<Item = HeaderField<'b>> + 'b {
        let key = name_key(name.as_bytes());
        self.fields
            .iter()
            .enumerate()
            .filter(move |(_, span)| self.is_named(span, key, name.as_bytes()))
            .map(|(index, span)| self.field(index, span))
    }

    /// The topmost field named `name`.
    pub fn first_header(&self, name: &str) -> Option<HeaderField<'_>> {
        let key = name_key(name.as_bytes());
        self.fields
            .iter()
            .enumerate()
            .find(|(_, span)| self.is_named(span, key, name.as_bytes()))
            .map(|(index, span)| self.field(index, span))
    }

    /// Calls `each` with the name, value and raw bytes of the fields `names` select, in their
    /// order, chosen bottom-up (RFC 6376 §5.4.2): the `k`-th listing of a name takes the
    /// `k`-th field of that name from the bottom, and a listing beyond the fields there are
    /// selects nothing.
    pub(crate) fn select_bottom_up<S: AsRef<str>>(
        &self,
        names: &[S],
        mut each: impl FnMut(&[u8], &[u8], &[u8]),
    ) {
        // Which fields are taken: bits for the first 64, a flag each when there are more.
        let mut taken_bits = 0u64;
        let mut taken_flags = if self.fields.len() > 64 {
            vec![false; self.fields.len()]
        } else {
            Vec::new()
        };
        for name in names {
            let name = name.as_ref().as_bytes();
            let key = name_key(name);
            for (index, span) in self.fields.iter().enumerate().rev() {
                if !self.is_named(span, key, name) {
                    continue;
                }
                let fresh = match taken_flags.get_mut(index) {
                    Some(taken) => !std::mem::replace(taken, true),
                    None => {
                        let bit = 1u64 << index;
                        let fresh = taken_bits & bit == 0;
                        taken_bits |= bit;
                        fresh
                    }
                };
                if fresh {
                    each(
                        &self.raw[span.name()],
                        &self.raw[span.value()],
                        &self.raw[span.raw()],
                    );
                    break;
                }
            }
        }
    }

    /// True when the field at `span` is named `name`, whose [`name_key`] is `key`.
    #[inline]
    fn is_named(&self, span: &FieldSpan, key: u32, name: &[u8]) -> bool {
        span.key == key && eq_ignore_case(&self.raw[span.name()], name)
    }

    /// The [`name_key`] and name of every field, top to bottom.
    pub(crate) fn keyed_names(&self) -> impl Iterator<Item = (u32, &[u8])> {
        self.fields
            .iter()
            .map(|span| (span.key, &self.raw[span.name()]))
    }

    /// How many header fields the message has.
    pub fn header_count(&self) -> usize {
        self.fields.len()
    }

    /// The header section byte-exact, without the empty line that ends it.
    pub fn header_bytes(&self) -> &[u8] {
        let end = self.fields.last().map_or(0, |f| f.end as usize);
        &self.raw[..end]
    }

    /// The body: every byte after the empty line that ends the header section.
    pub fn body(&self) -> &[u8] {
        &self.raw[self.body_start..]
    }

    /// The whole message (with CRLF line endings).
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// True when the input used bare LF line endings that were converted to CRLF.
    pub fn converted_line_endings(&self) -> bool {
        self.converted_line_endings
    }

    /// True when an empty line separated the header section from a body (false when the
    /// message is only header fields).
    pub fn has_body_separator(&self) -> bool {
        self.has_separator
    }

    fn field<'b>(&'b self, index: usize, span: &'b FieldSpan) -> HeaderField<'b> {
        HeaderField {
            name: &self.raw[span.name()],
            value: &self.raw[span.value()],
            raw: &self.raw[span.raw()],
            index,
        }
    }
}

/// The positions of `byte` in `hay`, in order. Header sections (LF), tag lists (`;`) and `h=`
/// lists (`:`) hold a delimiter every few bytes: a call to memchr for each costs more than this
/// search, 16 bytes a step, inlined.
pub(crate) fn positions(hay: &[u8], byte: u8) -> Positions<'_> {
    Positions {
        hay,
        byte,
        base: 0,
        next: 0,
        mask: 0,
    }
}

/// The iterator [`positions`] returns.
pub(crate) struct Positions<'a> {
    hay: &'a [u8],
    byte: u8,
    /// Where the block of `mask` starts.
    base: usize,
    /// Where the next block starts.
    next: usize,
    /// Bit `i` set for each `byte` at `base + i` not yet returned.
    mask: u32,
}

impl Iterator for Positions<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let start = self.next;
            let rest = self.hay.get(start..).filter(|rest| !rest.is_empty())?;
            self.mask = match rest.first_chunk::<16>() {
                Some(block) => byte_mask(*block, self.byte),
                // The last 16 bytes, shifted so that bit 0 stands for `start`.
                None => match self.hay.last_chunk::<16>() {
                    Some(last) => byte_mask(*last, self.byte) >> (16 - rest.len()),
                    None => rest
                        .iter()
                        .enumerate()
                        .fold(0, |mask, (i, &b)| mask | u32::from(b == self.byte) << i),
                },
            };
            self.base = start;
            self.next = start + 16;
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// Bit `i` set where `block[i]` is `byte`.
#[inline]
fn byte_mask(block: [u8; 16], byte: u8) -> u32 {
    u8x16::new(block).cmp_eq(u8x16::splat(byte)).move_mask() as u32
}

/// How many bytes from the start of `rest` (a line of `line_len` bytes, then the rest of the
/// message) can be a field name: printable ASCII other than the colon. Reads 16 bytes a step.
fn name_len(rest: &[u8], line_len: usize) -> usize {
    let mut at = 0;
    while at < line_len {
        let Some(block) = rest.get(at..at + 16) else {
            return at
                + rest[at..line_len]
                    .iter()
                    .position(|&b| !(33..=126).contains(&b) || b == b':')
                    .unwrap_or(line_len - at);
        };
        let lanes = u8x16::new(block.try_into().unwrap_or_default());
        let not_name = lanes.min(u8x16::splat(32)).cmp_eq(lanes)
            | lanes.max(u8x16::splat(127)).cmp_eq(lanes)
            | lanes.cmp_eq(u8x16::splat(b':'));
        let mask = not_name.move_mask();
        if mask != 0 {
            return (at + mask.trailing_zeros() as usize).min(line_len);
        }
        at += 16;
    }
    line_len
}

/// True when `a` and `b` are equal but for ASCII case, compared 8 bytes a step.
pub(crate) fn eq_ignore_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.len() <= 8 {
        return lower_word(short_word(a)) == lower_word(short_word(b));
    }
    let word = |s: &[u8], at: usize| {
        lower_word(u64::from_le_bytes(
            s[at..at + 8].try_into().unwrap_or_default(),
        ))
    };
    // Whole words, then the last 8 bytes (overlapping the words before when the length is not
    // a multiple of 8).
    (0..a.len() / 8).all(|k| word(a, 8 * k) == word(b, 8 * k))
        && word(a, a.len() - 8) == word(b, b.len() - 8)
}

/// The bytes of `s` (at most 8) in one word: its first and last halves read as overlapping
/// words, so that two slices of the same length are equal when their words are.
fn short_word(s: &[u8]) -> u64 {
    let n = s.len();
    let u32_at = |at: usize| {
        u64::from(u32::from_le_bytes(
            s[at..at + 4].try_into().unwrap_or_default(),
        ))
    };
    let u16_at = |at: usize| {
        u64::from(u16::from_le_bytes(
            s[at..at + 2].try_into().unwrap_or_default(),
        ))
    };
    match n {
        4..=8 => u32_at(0) | u32_at(n - 4) << 32,
        2..=3 => u16_at(0) | u16_at(n - 2) << 16,
        _ => s.first().map_or(0, |&b| u64::from(b)),
    }
}

/// The 8 bytes of `word` with ASCII capitals lower-cased, all at once: a byte's top bit is
/// cleared, `0x3F` and `0x25` added (no carry leaves the byte), and the sums' top bits say
/// whether it reached `A` and passed `Z`.
fn lower_word(word: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const TOP: u64 = 0x8080_8080_8080_8080;
    let low = word & LOW7;
    let from_a = low + 0x3F3F_3F3F_3F3F_3F3F;
    let past_z = low + 0x2525_2525_2525_2525;
    let capital = from_a & !past_z & !word & TOP;
    word | (capital >> 2)
}

/// A summary of a field name that names equal but for ASCII case share: its length and three
/// of its bytes with the case bit set. Comparing it first skips the byte-wise comparison for
/// nearly every field that does not match.
pub(crate) fn name_key(name: &[u8]) -> u32 {
    let (Some(first), Some(last)) = (name.first(), name.last()) else {
        return 0;
    };
    let middle = name[name.len() / 2];
    u32::from(name.len().min(255) as u8)
        | u32::from(first | 0x20) << 8
        | u32::from(middle | 0x20) << 16
        | u32::from(last | 0x20) << 24
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_first_empty_line_and_keeps_folding() {
        let m = Message::parse(
            &b"From: a@b.test\r\nSubject: one\r\n\ttwo\r\n\r\nbody\r\n\r\nmore\r\n"[..],
        )
        .unwrap();
        assert_eq!(m.header_count(), 2);
        let subject = m.first_header("subject").unwrap();
        assert_eq!(subject.raw(), b"Subject: one\r\n\ttwo\r\n");
        assert_eq!(subject.value(), b" one\r\n\ttwo");
        assert_eq!(&*subject.unfolded_value(), b"one\ttwo");
        assert_eq!(m.body(), b"body\r\n\r\nmore\r\n");
        assert!(m.has_body_separator());
        assert!(!m.converted_line_endings());
    }

    #[test]
    fn a_borrowed_crlf_message_is_not_copied_and_a_bare_lf_one_is_converted() {
        let crlf: &[u8] = b"From: a@example.com\r\n\r\nbody\r\n";
        let m = Message::parse(crlf).unwrap();
        assert!(std::ptr::eq(m.as_bytes(), crlf));
        assert_eq!(m.body(), b"body\r\n");
        let lf: &[u8] = b"From: a@example.com\n\nbody\n";
        let m = Message::parse(lf).unwrap();
        assert!(m.converted_line_endings());
        assert_eq!(m.as_bytes(), crlf);
        let owned = Message::parse(crlf.to_vec()).unwrap();
        assert_eq!(owned, Message::parse(crlf).unwrap());
    }

    #[test]
    fn lf_only_input_is_converted_and_reported() {
        let m = Message::parse(&b"From: a@b.test\nTo: c@d.test\n\nhello\n"[..]).unwrap();
        assert!(m.converted_line_endings());
        assert_eq!(
            m.as_bytes(),
            b"From: a@b.test\r\nTo: c@d.test\r\n\r\nhello\r\n"
        );
        assert_eq!(m.body(), b"hello\r\n");
    }

    #[test]
    fn lookup_is_case_insensitive_and_reversible() {
        let m = Message::parse(&b"Received: 1\r\nreceived: 2\r\nRECEIVED : 3\r\nX: y\r\n\r\n"[..])
            .unwrap();
        let top_down: Vec<_> = m
            .header_fields("Received")
            .map(|f| f.unfolded_str())
            .collect();
        assert_eq!(top_down, ["1", "2", "3"]);
        let bottom_up: Vec<_> = m
            .header_fields("received")
            .rev()
            .map(|f| f.index())
            .collect();
        assert_eq!(bottom_up, [2, 1, 0]);
        assert_eq!(m.header_at(2).unwrap().name(), "RECEIVED");
    }

    #[test]
    fn message_without_body_or_final_newline() {
        let m = Message::parse(&b"From: a@b.test\r\nSubject: x"[..]).unwrap();
        assert_eq!(m.header_count(), 2);
        assert_eq!(m.first_header("subject").unwrap().value(), b" x");
        assert!(m.body().is_empty());
        assert!(!m.has_body_separator());
        let empty_headers = Message::parse(&b"\r\nbody"[..]).unwrap();
        assert_eq!(empty_headers.header_count(), 0);
        assert_eq!(empty_headers.body(), b"body");
    }

    #[test]
    fn malformed_headers_are_errors_naming_the_line() {
        let err = Message::parse(&b"From: a\r\nnot a header\r\n\r\n"[..]).unwrap_err();
        assert_eq!(
            err,
            MessageError::MalformedField {
                line: 2,
                text: "not a header".into()
            }
        );
        assert!(err.to_string().contains("'not a header'"));
        let err = Message::parse(&b" folded: first\r\n\r\n"[..]).unwrap_err();
        assert!(matches!(err, MessageError::LeadingContinuation { .. }));
        assert!(matches!(
            Message::parse(&b": no name\r\n\r\n"[..]),
            Err(MessageError::MalformedField { .. })
        ));
    }

    #[test]
    fn limits_are_enforced() {
        let limits = Limits {
            max_message_bytes: 100,
            max_header_bytes: 20,
            max_header_fields: 2,
        };
        let big = vec![b'a'; 101];
        assert!(matches!(
            Message::parse_with_limits(big, limits),
            Err(MessageError::TooLarge { .. })
        ));
        let many = b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n".to_vec();
        assert_eq!(
            Message::parse_with_limits(many, limits),
            Err(MessageError::TooManyFields { limit: 2 })
        );
        let long = b"Subject: a very long subject line indeed\r\n\r\n".to_vec();
        assert_eq!(
            Message::parse_with_limits(long, limits),
            Err(MessageError::HeaderTooLarge { limit: 20 })
        );
    }

    #[test]
    fn bare_lf_is_found_anywhere() {
        assert!(!has_bare_lf(b""));
        assert!(has_bare_lf(b"\n"));
        assert!(!has_bare_lf(b"a\r\nb\r\n"));
        let mut long = b"x\r\n".repeat(700);
        assert!(!has_bare_lf(&long));
        for at in [1, 511, 512, 513, 1500, long.len()] {
            let mut with = long.clone();
            with.insert(at, b'\n');
            assert!(has_bare_lf(&with), "LF inserted at {at}");
        }
        long.push(b'\r');
        assert!(!has_bare_lf(&long));
    }

    /// [`has_bare_lf`] at every vector level, which must all agree; their answer.
    fn has_bare_lf(input: &[u8]) -> bool {
        let found = super::has_bare_lf(input);
        for level in crate::test_support::vector_levels() {
            assert_eq!(
                has_bare_lf_with(level, input),
                found,
                "{level:?} on {input:?}"
            );
        }
        found
    }

    /// The plain reading of [`has_bare_lf`].
    fn has_bare_lf_reference(input: &[u8]) -> bool {
        (0..input.len()).any(|i| input[i] == b'\n' && (i == 0 || input[i - 1] != b'\r'))
    }

    #[test]
    fn bare_lf_scan_agrees_with_the_byte_by_byte_reading() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        // CRLF text with one LF or CR at every position around the 16- and 64-byte steps.
        for len in [
            0, 1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 130, 255, 256, 257, 300,
        ] {
            let base: Vec<u8> = b"ab\r\n".iter().copied().cycle().take(len).collect();
            assert_eq!(has_bare_lf(&base), has_bare_lf_reference(&base), "{len}");
            for at in 0..len {
                for byte in [b'\n', b'\r', b'x'] {
                    let mut with = base.clone();
                    with[at] = byte;
                    assert_eq!(
                        has_bare_lf(&with),
                        has_bare_lf_reference(&with),
                        "{len} bytes, {byte} at {at}"
                    );
                }
            }
        }
        // Random bytes drawn mostly from CR, LF and letters.
        for _ in 0..3000 {
            let len = (crate::test_support::xorshift(&mut state) % 300) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| match crate::test_support::xorshift(&mut state) % 16 {
                    0 => b'\n',
                    1..=3 => b'\r',
                    _ => b'a',
                })
                .collect();
            let crlf: Vec<u8> = bytes
                .iter()
                .flat_map(|&b| if b == b'\n' { &b"\r\n"[..] } else { &b"a"[..] })
                .copied()
                .collect();
            for input in [&bytes, &crlf] {
                assert_eq!(
                    has_bare_lf(input),
                    has_bare_lf_reference(input),
                    "{input:?}"
                );
            }
        }
    }

    #[test]
    fn positions_are_every_place_of_the_byte() {
        let mut state = 0x9051_7105_5eed_0001;
        let mut below = |n: u64| (crate::test_support::xorshift(&mut state) % n) as usize;
        for round in 0..3000 {
            let len = below(200);
            let hay: Vec<u8> = (0..len)
                .map(|_| [b';', b':', b'\n', b'a', b' ', 0xbb][below(6)])
                .collect();
            for byte in [b';', b':', b'\n', 0xbb] {
                let reference: Vec<usize> = (0..len).filter(|&i| hay[i] == byte).collect();
                let found: Vec<usize> = positions(&hay, byte).collect();
                assert_eq!(found, reference, "round {round}: {hay:?}");
            }
        }
    }

    #[test]
    fn names_equal_but_for_case_share_a_key() {
        for (a, b) in [
            ("From", "FROM"),
            ("list-unsubscribe-post", "List-Unsubscribe-Post"),
            ("X", "x"),
            ("", ""),
        ] {
            assert_eq!(name_key(a.as_bytes()), name_key(b.as_bytes()), "{a}");
        }
        assert_ne!(name_key(b"To"), name_key(b"Cc"));
        assert_ne!(
            name_key(b"List-Unsubscribe"),
            name_key(b"List-Unsubscribe-Post")
        );
    }

    #[test]
    fn field_names_end_at_whitespace_before_the_colon_or_are_malformed() {
        let m = Message::parse(&b"A \t: 1\r\nB:2\r\n\r\n"[..]).unwrap();
        let names: Vec<_> = m.headers().map(|f| (f.name(), f.value())).collect();
        assert_eq!(names, [("A", &b" 1"[..]), ("B", &b"2"[..])]);
        for bad in [
            &b"a b: c\r\n\r\n"[..],
            b"Subject\x80: x\r\n\r\n",
            b"NoColon\r\n\r\n",
            b"Name \r\n: x\r\n\r\n",
        ] {
            assert!(
                matches!(
                    Message::parse(bad),
                    Err(MessageError::MalformedField { line: 1, .. })
                ),
                "{bad:?}"
            );
        }
        assert_eq!(m.header_fields("a").count(), 1);
        assert_eq!(m.header_fields("C").count(), 0);
    }

    #[test]
    fn eq_ignore_case_agrees_with_the_standard_library() {
        let mut state = 11;
        for _ in 0..20_000 {
            let len = (crate::test_support::xorshift(&mut state) % 24) as usize;
            let a: Vec<u8> = (0..len)
                .map(|_| (crate::test_support::xorshift(&mut state) % 256) as u8)
                .collect();
            let mut b = a.clone();
            for byte in &mut b {
                match crate::test_support::xorshift(&mut state) % 8 {
                    0 => *byte ^= 0x20,
                    1 => *byte = (crate::test_support::xorshift(&mut state) % 256) as u8,
                    2 => *byte = byte.to_ascii_uppercase(),
                    _ => {}
                }
            }
            assert_eq!(
                eq_ignore_case(&a, &b),
                a.eq_ignore_ascii_case(&b),
                "{a:?} {b:?}"
            );
        }
        for (a, b) in [
            ("@[\\]^_", "`{|}~\x7f"),
            ("List-Unsubscribe-Post", "list-unsubscribe-post"),
        ] {
            assert_eq!(
                eq_ignore_case(a.as_bytes(), b.as_bytes()),
                a.eq_ignore_ascii_case(b)
            );
        }
        assert!(!eq_ignore_case(b"from", b"fro"));
    }
}
