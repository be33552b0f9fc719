//! The raw message as authentication sees it (RFC 5322 §2.1–§2.2, RFC 6376 §5.4.2): the header
//! section split from the body at the first empty line, header fields kept byte-exact with
//! their folding, case-insensitive lookup in order or bottom-up, and the body untouched.
//!
//! Input with bare LF line endings (as files on disk often have) is converted to CRLF, the form
//! an MTA sees on the wire, and the conversion is reported. Parsing enforces explicit size
//! limits so that hostile input costs bounded memory and time.

use std::borrow::Cow;
use std::ops::Range;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderField<'a> {
    name: &'a str,
    value: &'a [u8],
    raw: &'a [u8],
    index: usize,
}

impl<'a> HeaderField<'a> {
    /// The field name as written (letter case kept).
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// True when the name equals `name` ignoring ASCII case.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
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

/// True when some LF in `input` does not follow a CR. Written as a branch-free pass over
/// blocks, which the compiler vectorizes: most mail has none, and this runs on every message.
fn has_bare_lf(input: &[u8]) -> bool {
    if input.first() == Some(&b'\n') {
        return true;
    }
    let Some(last) = input.len().checked_sub(1) else {
        return false;
    };
    input[..last]
        .chunks(512)
        .zip(input[1..].chunks(512))
        .any(|(before, at)| {
            before
                .iter()
                .zip(at)
                .fold(false, |bare, (&b, &a)| bare | ((a == b'\n') & (b != b'\r')))
        })
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
        let input = input.into_bytes();
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
        while pos < raw.len() {
            if pos > limits.max_header_bytes {
                return Err(MessageError::HeaderTooLarge {
                    limit: limits.max_header_bytes,
                });
            }
            line_no += 1;
            let line_end = match memchr_crlf(&raw[pos..]) {
                Some(off) => pos + off + 2,
                None => raw.len(),
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
                        last.value_end = offset(content_end(&raw, line_end))?;
                    }
                    None => {
                        return Err(MessageError::LeadingContinuation {
                            text: preview(line),
                        });
                    }
                }
            } else {
                let Some(colon) = line.iter().position(|&b| b == b':') else {
                    return Err(MessageError::MalformedField {
                        line: line_no,
                        text: preview(line),
                    });
                };
                let name_bytes = &line[..colon];
                let name_len = name_bytes
                    .iter()
                    .rposition(|b| !matches!(b, b' ' | b'\t'))
                    .map_or(0, |p| p + 1);
                let name = &name_bytes[..name_len];
                if name.is_empty() || !name.iter().all(|&b| (33..=126).contains(&b)) {
                    return Err(MessageError::MalformedField {
                        line: line_no,
                        text: preview(line),
                    });
                }
                if fields.len() >= limits.max_header_fields {
                    return Err(MessageError::TooManyFields {
                        limit: limits.max_header_fields,
                    });
                }
                fields.push(FieldSpan {
                    start: offset(pos)?,
                    name_end: offset(pos + name_len)?,
                    value_start: offset(pos + colon + 1)?,
                    value_end: offset(content_end(&raw, line_end))?,
                    end: offset(line_end)?,
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
        self.fields
            .iter()
            .enumerate()
            .filter(move |(_, span)| self.raw[span.name()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(index, span)| self.field(index, span))
    }

    /// The topmost field named `name`.
    pub fn first_header(&self, name: &str) -> Option<HeaderField<'_>> {
        self.fields
            .iter()
            .enumerate()
            .find(|(_, span)| self.raw[span.name()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(index, span)| self.field(index, span))
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
            // Checked printable ASCII when parsed, so this never falls back to "".
            name: std::str::from_utf8(&self.raw[span.name()]).unwrap_or_default(),
            value: &self.raw[span.value()],
            raw: &self.raw[span.raw()],
            index,
        }
    }
}

/// Where the content of a line ending at `line_end` stops (before its CRLF).
fn content_end(raw: &[u8], line_end: usize) -> usize {
    if raw[..line_end].ends_with(b"\r\n") {
        line_end - 2
    } else {
        line_end
    }
}

/// Offset of the first CRLF in `hay`.
fn memchr_crlf(hay: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'\n', hay)
        .find(|&at| at > 0 && hay[at - 1] == b'\r')
        .map(|at| at - 1)
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
}
