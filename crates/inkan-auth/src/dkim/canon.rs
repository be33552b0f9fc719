//! Canonicalization (RFC 6376 §3.4): simple and relaxed for header fields and the body, the
//! `l=` body length (§3.5), header selection bottom-up (§5.4.2) and the signature field with
//! its `b=` value removed (§3.7). Shared with ARC (RFC 8617 §4.1.2 and §5.1.1), whose AMS and AS
//! are hashed the same way.

use std::borrow::Cow;

use aws_lc_rs::digest;

use super::{Algorithm, Canon};
use crate::message::Message;

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Appends the relaxed form of one header field to `out` (RFC 6376 §3.4.2): the name
/// lower-cased, the value unfolded with whitespace runs reduced to one space and trimmed, no
/// whitespace around the colon, then CRLF.
pub fn canonicalize_header_relaxed(name: &str, value: &[u8], out: &mut Vec<u8>) {
    out.extend(
        name.trim_end_matches([' ', '\t'])
            .bytes()
            .map(|b| b.to_ascii_lowercase()),
    );
    out.push(b':');
    let mut pending_space = false;
    let mut started = false;
    for &b in value {
        match b {
            b'\r' | b'\n' => {}
            b' ' | b'\t' => pending_space = started,
            _ => {
                if pending_space {
                    out.push(b' ');
                    pending_space = false;
                }
                started = true;
                out.push(b);
            }
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends one header field canonicalized with `canon` to `out`.
pub fn canonicalize_header(canon: Canon, name: &str, value: &[u8], raw: &[u8], out: &mut Vec<u8>) {
    match canon {
        Canon::Simple => {
            out.extend_from_slice(raw);
            if !raw.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
        Canon::Relaxed => canonicalize_header_relaxed(name, value, out),
    }
}

/// Appends the fields named in `signed_headers`, chosen bottom-up (RFC 6376 §5.4.2; a name
/// listed more often than it occurs contributes nothing for the extra listings), each
/// canonicalized with `canon`.
pub fn canonical_headers(
    message: &Message,
    signed_headers: &[impl AsRef<str>],
    canon: Canon,
    out: &mut Vec<u8>,
) {
    let mut used: Vec<(&str, usize)> = Vec::with_capacity(signed_headers.len());
    for name in signed_headers {
        let name = name.as_ref();
        let skip = match used.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some((_, count)) => {
                *count += 1;
                *count - 1
            }
            None => {
                used.push((name, 1));
                0
            }
        };
        if let Some(field) = message.header_fields(name).rev().nth(skip) {
            canonicalize_header(canon, field.name(), field.value(), field.raw(), out);
        }
    }
}

/// The field with the value of its `b=` tag deleted (RFC 6376 §3.7: "including all surrounding
/// whitespace"), the rest byte-exact. Returns the input unchanged when there is no `b=` tag.
pub fn strip_b_value(raw_field: &[u8]) -> Cow<'_, [u8]> {
    let Some(colon) = raw_field.iter().position(|&b| b == b':') else {
        return Cow::Borrowed(raw_field);
    };
    let content_end = if raw_field.ends_with(b"\r\n") {
        raw_field.len() - 2
    } else {
        raw_field.len()
    };
    let mut spec_start = colon + 1;
    while spec_start <= content_end {
        let spec_end = raw_field[spec_start..content_end]
            .iter()
            .position(|&b| b == b';')
            .map_or(content_end, |p| spec_start + p);
        let spec = &raw_field[spec_start..spec_end];
        let name_start = spec
            .iter()
            .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .unwrap_or(spec.len());
        let rest = &spec[name_start..];
        if rest.first() == Some(&b'b') {
            let after = rest[1..]
                .iter()
                .position(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
                .map(|p| p + 1);
            if let Some(eq) = after
                && rest[eq] == b'='
            {
                let value_start = spec_start + name_start + eq + 1;
                let mut out = Vec::with_capacity(raw_field.len());
                out.extend_from_slice(&raw_field[..value_start]);
                out.extend_from_slice(&raw_field[spec_end..]);
                return Cow::Owned(out);
            }
        }
        spec_start = spec_end + 1;
    }
    Cow::Borrowed(raw_field)
}

/// Appends the signature field itself (with `b=` emptied and without its final CRLF) as the
/// last input to the header hash (RFC 6376 §3.7).
pub fn canonical_signature_field(canon: Canon, name: &str, raw_field: &[u8], out: &mut Vec<u8>) {
    let stripped = strip_b_value(raw_field);
    match canon {
        Canon::Simple => out.extend_from_slice(&stripped),
        Canon::Relaxed => {
            let colon = stripped
                .iter()
                .position(|&b| b == b':')
                .map_or(stripped.len(), |c| c + 1);
            canonicalize_header_relaxed(name, &stripped[colon.min(stripped.len())..], out);
        }
    }
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
}

/// The canonical body (RFC 6376 §3.4.3 and §3.4.4). Simple canonicalization borrows the body
/// whenever it already ends in CRLF.
pub fn canonical_body(body: &[u8], canon: Canon) -> Cow<'_, [u8]> {
    match canon {
        Canon::Simple => {
            let mut end = body.len();
            while end >= 2 && &body[end - 2..end] == b"\r\n" {
                end -= 2;
            }
            if end == 0 {
                Cow::Borrowed(b"\r\n")
            } else if end + 2 <= body.len() {
                Cow::Borrowed(&body[..end + 2])
            } else {
                let mut out = Vec::with_capacity(end + 2);
                out.extend_from_slice(&body[..end]);
                out.extend_from_slice(b"\r\n");
                Cow::Owned(out)
            }
        }
        Canon::Relaxed => Cow::Owned(relaxed_body(body)),
    }
}

fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut pending_empty = 0usize;
    let mut rest = body;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                let line = &rest[..lf];
                (line.strip_suffix(b"\r").unwrap_or(line), &rest[lf + 1..])
            }
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if line.iter().all(|&b| is_wsp(b)) {
            pending_empty += 1;
            continue;
        }
        for _ in 0..pending_empty {
            out.extend_from_slice(b"\r\n");
        }
        pending_empty = 0;
        let mut in_wsp = false;
        let mut run_start = 0;
        for (i, &b) in line.iter().enumerate() {
            if is_wsp(b) {
                if !in_wsp {
                    out.extend_from_slice(&line[run_start..i]);
                    in_wsp = true;
                }
            } else if in_wsp {
                out.push(b' ');
                in_wsp = false;
                run_start = i;
            }
        }
        if !in_wsp {
            out.extend_from_slice(&line[run_start..]);
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Canonicalization, `l=` and hash family: what a body hash depends on.
type BodyHashKey = (Canon, Option<u64>, Algorithm);

/// Computes body hashes, canonicalizing the body at most once per canonicalization and hashing
/// it at most once per (canonicalization, `l=`, hash) combination, so that several signatures
/// over one message share the work.
#[derive(Debug)]
pub struct BodyHasher<'a> {
    body: &'a [u8],
    simple: Option<Cow<'a, [u8]>>,
    relaxed: Option<Vec<u8>>,
    hashes: Vec<(BodyHashKey, Result<Vec<u8>, u64>)>,
}

impl<'a> BodyHasher<'a> {
    /// A hasher over `body` (the raw body, CRLF line endings).
    pub fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            simple: None,
            relaxed: None,
            hashes: Vec::new(),
        }
    }

    /// The length of the canonical body.
    pub fn canonical_len(&mut self, canon: Canon) -> u64 {
        self.canonical(canon).len() as u64
    }

    fn canonical(&mut self, canon: Canon) -> &[u8] {
        match canon {
            Canon::Simple => self
                .simple
                .get_or_insert_with(|| canonical_body(self.body, Canon::Simple)),
            Canon::Relaxed => self.relaxed.get_or_insert_with(|| relaxed_body(self.body)),
        }
    }

    /// The body hash for `canon`, limited to `length` bytes when given. `Err(len)` when the
    /// canonical body is shorter (`len` bytes) than `length`.
    pub fn hash(
        &mut self,
        canon: Canon,
        length: Option<u64>,
        algorithm: Algorithm,
    ) -> Result<Vec<u8>, u64> {
        let key = (canon, length, hash_family(algorithm));
        if let Some((_, h)) = self.hashes.iter().find(|(k, _)| *k == key) {
            return h.clone();
        }
        let body = self.canonical(canon);
        let result = match length {
            Some(l) if l > body.len() as u64 => Err(body.len() as u64),
            Some(l) => Ok(digest::digest(algorithm.digest(), &body[..l as usize])
                .as_ref()
                .to_vec()),
            None => Ok(digest::digest(algorithm.digest(), body).as_ref().to_vec()),
        };
        self.hashes.push((key, result.clone()));
        result
    }
}

/// Algorithms that share a hash share body hashes.
fn hash_family(algorithm: Algorithm) -> Algorithm {
    match algorithm {
        Algorithm::Ed25519Sha256 | Algorithm::RsaSha256 => Algorithm::RsaSha256,
        Algorithm::RsaSha1 => Algorithm::RsaSha1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relaxed_header(name: &str, value: &str) -> String {
        let mut out = Vec::new();
        canonicalize_header_relaxed(name, value.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    /// RFC 6376 §3.4.5 examples.
    #[test]
    fn rfc6376_3_4_5_examples() {
        assert_eq!(relaxed_header("A", " X"), "a:X\r\n");
        assert_eq!(relaxed_header("B ", " Y\t\r\n\tZ  "), "b:Y Z\r\n");
        let body = b" C \r\nD \t E\r\n\r\n\r\n";
        assert_eq!(&*canonical_body(body, Canon::Relaxed), b" C\r\nD E\r\n");
        assert_eq!(&*canonical_body(body, Canon::Simple), b" C \r\nD \t E\r\n");
    }

    #[test]
    fn empty_and_unterminated_bodies() {
        assert_eq!(&*canonical_body(b"", Canon::Simple), b"\r\n");
        assert_eq!(&*canonical_body(b"", Canon::Relaxed), b"");
        assert_eq!(&*canonical_body(b"\r\n\r\n", Canon::Simple), b"\r\n");
        assert_eq!(&*canonical_body(b" \r\n\t\r\n", Canon::Relaxed), b"");
        assert_eq!(&*canonical_body(b"abc", Canon::Simple), b"abc\r\n");
        assert_eq!(&*canonical_body(b"a  b  ", Canon::Relaxed), b"a b\r\n");
        assert_eq!(
            &*canonical_body(b"a\r\n\r\nb\r\n", Canon::Relaxed),
            b"a\r\n\r\nb\r\n"
        );
    }

    #[test]
    fn b_value_is_removed_but_bh_kept() {
        let raw = b"DKIM-Signature: v=1; bh=abc=; b=dGVz\r\n dA==; d=x\r\n";
        assert_eq!(
            &*strip_b_value(raw),
            b"DKIM-Signature: v=1; bh=abc=; b=; d=x\r\n"
        );
        let last = b"DKIM-Signature: v=1; bh=abc; b = dGVz\r\n\tdA==\r\n";
        assert_eq!(
            &*strip_b_value(last),
            b"DKIM-Signature: v=1; bh=abc; b =\r\n"
        );
        let mut out = Vec::new();
        canonical_signature_field(Canon::Relaxed, "DKIM-Signature", last, &mut out);
        assert_eq!(out, b"dkim-signature:v=1; bh=abc; b =");
    }

    #[test]
    fn headers_are_selected_bottom_up_and_oversigning_adds_nothing() {
        let m = Message::parse(&b"X: 1\r\nFrom: a\r\nX: 2\r\n\r\n"[..]).unwrap();
        let mut out = Vec::new();
        canonical_headers(
            &m,
            &["x", "from", "x", "x", "from"],
            Canon::Relaxed,
            &mut out,
        );
        assert_eq!(out, b"x:2\r\nfrom:a\r\nx:1\r\n");
    }

    #[test]
    fn body_hasher_honours_length_and_caches() {
        let mut h = BodyHasher::new(b"hello world\r\n");
        let full = h.hash(Canon::Simple, None, Algorithm::RsaSha256).unwrap();
        let part = h
            .hash(Canon::Simple, Some(5), Algorithm::Ed25519Sha256)
            .unwrap();
        assert_ne!(full, part);
        assert_eq!(part, digest::digest(&digest::SHA256, b"hello").as_ref());
        assert_eq!(
            h.hash(Canon::Simple, Some(100), Algorithm::RsaSha256),
            Err(13)
        );
    }
}
