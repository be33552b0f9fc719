//! Canonicalization (RFC 6376 §3.4): simple and relaxed for header fields and the body, the
//! `l=` body length (§3.5), header selection bottom-up (§5.4.2) and the signature field with
//! its `b=` value removed (§3.7). Shared with ARC (RFC 8617 §4.1.2 and §5.1.1), whose AMS and AS
//! are hashed the same way.

use std::borrow::Cow;

use aws_lc_rs::digest;
use fearless_simd::prelude::*;
use fearless_simd::{Level, dispatch, u8x64};
use wide::u8x16;

use super::{Algorithm, Canon};
use crate::message::{Message, vector_level};

fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Appends the relaxed form of one header field to `out` (RFC 6376 §3.4.2): the name
/// lower-cased, the value unfolded with whitespace runs reduced to one space and trimmed, no
/// whitespace around the colon, then CRLF.
pub fn canonicalize_header_relaxed(name: &str, value: &[u8], out: &mut Vec<u8>) {
    relaxed_field(name.as_bytes(), &[value], out);
}

/// [`canonicalize_header_relaxed`] of a value given in pieces (a signature field around its
/// removed `b=` value).
fn relaxed_field(name: &[u8], value: &[&[u8]], out: &mut Vec<u8>) {
    let name_len = name.iter().rposition(|&b| !is_wsp(b)).map_or(0, |p| p + 1);
    extend_lowercase(out, &name[..name_len]);
    out.push(b':');
    relaxed_value(value, out);
    out.extend_from_slice(b"\r\n");
}

/// Appends `bytes` with ASCII letters lower-cased, 16 at a time.
fn extend_lowercase(out: &mut Vec<u8>, bytes: &[u8]) {
    let lower = |block: [u8; 16]| {
        let lanes = u8x16::new(block);
        let upper = lanes.max(u8x16::splat(b'A')).cmp_eq(lanes)
            & lanes.min(u8x16::splat(b'Z')).cmp_eq(lanes);
        (lanes | (upper & u8x16::splat(0x20))).to_array()
    };
    let (blocks, rest) = bytes.as_chunks::<16>();
    for block in blocks {
        out.extend_from_slice(&lower(*block));
    }
    if !rest.is_empty() {
        let mut padded = [0; 16];
        padded[..rest.len()].copy_from_slice(rest);
        let end = out.len() + rest.len();
        out.extend_from_slice(&lower(padded));
        out.truncate(end);
    }
}

/// Whitespace as DKIM folds and trims it: WSP, CR and LF.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where `value` lies without [`is_space`] bytes at either end.
pub(super) fn space_bounds(value: &[u8]) -> std::ops::Range<usize> {
    let start = value
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |p| p + 1);
    start..end
}

/// Appends the pieces of one value unfolded (CR and LF dropped), every whitespace run reduced
/// to one space and none at either end: one pass over each piece, 16 bytes a step, copying
/// the bytes between the whitespace that changes (see [`Changes`]). Tag lists and addresses
/// have a single space every few bytes, which stays; most values are one copy.
fn relaxed_value(pieces: &[&[u8]], out: &mut Vec<u8>) {
    let mut started = false;
    let mut pending = false;
    for piece in pieces {
        // Where the bytes not yet copied or dropped start.
        let mut run = 0;
        let mut on_change = |change: usize| {
            if change > run {
                push_text(out, &mut started, &mut pending, &piece[run..change]);
            }
            pending |= is_wsp(piece[change]);
            run = change + 1;
        };
        let mut changes = Changes::new();
        let (blocks, tail) = piece.as_chunks::<16>();
        for (k, block) in blocks.iter().enumerate() {
            let mut mask = changes.step(*block);
            while mask != 0 {
                // Bit `i` is position `16 k + i - 1`; bit 0 of the first step is never set.
                on_change(16 * k + mask.trailing_zeros() as usize - 1);
                mask &= mask - 1;
            }
        }
        // The tail padded with spaces, which also stand for the end of the piece; its bits
        // past the end are no positions.
        let mut padded = [b' '; 16];
        padded[..tail.len()].copy_from_slice(tail);
        let mut mask = changes.step(padded) & ((2 << tail.len()) - 1);
        while mask != 0 {
            on_change(16 * blocks.len() + mask.trailing_zeros() as usize - 1);
            mask &= mask - 1;
        }
        if piece.len() > run {
            push_text(out, &mut started, &mut pending, &piece[run..]);
        }
    }
}

/// Appends `text` (no whitespace that changes), after the one space a run of whitespace
/// before it leaves when text came before that run.
fn push_text(out: &mut Vec<u8>, started: &mut bool, pending: &mut bool, text: &[u8]) {
    if *pending && *started {
        out.push(b' ');
    }
    *pending = false;
    *started = true;
    out.extend_from_slice(text);
}

/// Finds, 16 bytes a step, the whitespace of a piece that relaxed canonicalization changes: any
/// but a single space with a byte that is not whitespace on both sides of it. The ends of the
/// piece count as whitespace, so a space next to one is a change. Whether the last byte of a
/// step changes depends on the first of the next, so each step decides the last byte of the
/// step before and the first 15 of its own.
struct Changes {
    /// Bits 14 and 15 of the last step's whitespace (FWS: SP, HTAB, CR, LF) and bit 15 of its
    /// spaces, as bits 0, 1 and 2; before the first step, FWS (the start of the piece).
    carry: u32,
    /// The bits a step may set: not bit 0 on the first, which stands before the piece.
    positions: u32,
}

impl Changes {
    fn new() -> Self {
        Self {
            carry: 0b011,
            positions: 0xFFFE,
        }
    }

    /// Bit `i` set where the byte `i - 1` positions into `block` (bit 0: the last byte of the
    /// step before) changes. Bit 0 is never set on the first step.
    fn step(&mut self, block: [u8; 16]) -> u32 {
        let lanes = u8x16::new(block);
        let space = lanes.cmp_eq(u8x16::splat(b' '));
        let fws = space
            | lanes.cmp_eq(u8x16::splat(b'\t'))
            | lanes.cmp_eq(u8x16::splat(b'\r'))
            | lanes.cmp_eq(u8x16::splat(b'\n'));
        let fws = fws.move_mask() as u32;
        let space = space.move_mask() as u32;
        // Bit i is byte i - 1 of the block: the byte before the block, then the block.
        let fws_here = (fws << 1) | (self.carry >> 1 & 1);
        let space_here = (space << 1) | (self.carry >> 2 & 1);
        let fws_before = (fws_here << 1) | (self.carry & 1);
        let fws_after = fws_here >> 1;
        let lone_space = space_here & !fws_before & !fws_after;
        self.carry = (fws >> 14 & 0b11) | (space >> 15 & 1) << 2;
        let changes = fws_here & !lone_space & self.positions;
        self.positions = 0xFFFF;
        changes
    }
}

/// Appends one header field canonicalized with `canon` to `out`.
pub fn canonicalize_header(canon: Canon, name: &str, value: &[u8], raw: &[u8], out: &mut Vec<u8>) {
    canonical_field(canon, name.as_bytes(), value, raw, out);
}

/// [`canonicalize_header`] of a field whose name is given as bytes.
fn canonical_field(canon: Canon, name: &[u8], value: &[u8], raw: &[u8], out: &mut Vec<u8>) {
    match canon {
        Canon::Simple => {
            out.extend_from_slice(raw);
            if !raw.ends_with(b"\r\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
        Canon::Relaxed => relaxed_field(name, &[value], out),
    }
}

/// Appends the fields named in `signed_headers`, chosen bottom-up (RFC 6376 §5.4.2; a name
/// listed more often than it occurs contributes nothing for the extra listings), each
/// canonicalized with `canon`.
pub fn canonical_headers(
    message: &Message<'_>,
    signed_headers: &[impl AsRef<str>],
    canon: Canon,
    out: &mut Vec<u8>,
) {
    message.select_bottom_up(signed_headers, |name, value, raw| {
        canonical_field(canon, name, value, raw, out);
    });
}

/// Where the value of the `b=` tag lies in `raw_field` (RFC 6376 §3.7: the value "including
/// all surrounding whitespace"), if there is such a tag.
pub(super) fn b_value(raw_field: &[u8]) -> Option<std::ops::Range<usize>> {
    let colon = memchr::memchr(b':', raw_field)?;
    let content_end = if raw_field.ends_with(b"\r\n") {
        raw_field.len() - 2
    } else {
        raw_field.len()
    };
    let mut spec_start = colon + 1;
    while spec_start <= content_end {
        let spec_end = memchr::memchr(b';', &raw_field[spec_start..content_end])
            .map_or(content_end, |p| spec_start + p);
        let spec = &raw_field[spec_start..spec_end];
        let name_start = spec
            .iter()
            .position(|&b| !is_space(b))
            .unwrap_or(spec.len());
        let rest = &spec[name_start..];
        if rest.first() == Some(&b'b') {
            let after = rest[1..].iter().position(|&b| !is_space(b)).map(|p| p + 1);
            if let Some(eq) = after
                && rest[eq] == b'='
            {
                return Some(spec_start + name_start + eq + 1..spec_end);
            }
        }
        spec_start = spec_end + 1;
    }
    None
}

/// The field with the value of its `b=` tag deleted (RFC 6376 §3.7: "including all surrounding
/// whitespace"), the rest byte-exact. Returns the input unchanged when there is no `b=` tag.
pub fn strip_b_value(raw_field: &[u8]) -> Cow<'_, [u8]> {
    match b_value(raw_field) {
        Some(b) => {
            let mut out = Vec::with_capacity(raw_field.len() - b.len());
            out.extend_from_slice(&raw_field[..b.start]);
            out.extend_from_slice(&raw_field[b.end..]);
            Cow::Owned(out)
        }
        None => Cow::Borrowed(raw_field),
    }
}

/// Appends the signature field itself (with `b=` emptied and without its final CRLF) as the
/// last input to the header hash (RFC 6376 §3.7).
pub fn canonical_signature_field(canon: Canon, name: &str, raw_field: &[u8], out: &mut Vec<u8>) {
    signature_field_into(canon, name.as_bytes(), raw_field, b_value(raw_field), out);
}

/// [`canonical_signature_field`] of a field whose `b=` value lies at `b`.
fn signature_field_into(
    canon: Canon,
    name: &[u8],
    raw_field: &[u8],
    b: Option<std::ops::Range<usize>>,
    out: &mut Vec<u8>,
) {
    let (before, after) = match b {
        Some(b) => (&raw_field[..b.start], &raw_field[b.end..]),
        None => (raw_field, &raw_field[raw_field.len()..]),
    };
    match canon {
        Canon::Simple => {
            out.extend_from_slice(before);
            out.extend_from_slice(after);
        }
        Canon::Relaxed => {
            // The value starts after the colon, which lies before any `b=` value.
            let colon = memchr::memchr(b':', before).map_or(before.len(), |c| c + 1);
            relaxed_field(name, &[&before[colon..], after], out);
        }
    }
    if out.ends_with(b"\r\n") {
        out.truncate(out.len() - 2);
    }
}

/// The header hash of a signature (RFC 6376 §3.7): the fields named in `signed` (bottom-up)
/// then the signature field `raw_field`, named `field_name`, with its `b=` value emptied, all
/// canonicalized with `canon` and hashed with `algorithm`'s hash. What a signer signs and a
/// verifier checks.
pub(crate) fn header_digest(
    message: &Message<'_>,
    signed: &[impl AsRef<str>],
    canon: Canon,
    field_name: &str,
    raw_field: &[u8],
    algorithm: Algorithm,
) -> digest::Digest {
    let b = b_value(raw_field);
    header_digest_with_b(
        message,
        signed,
        canon,
        field_name.as_bytes(),
        raw_field,
        b,
        algorithm,
    )
}

/// [`header_digest`] of a signature field whose `b=` value lies at `b` (as [`b_value`]
/// finds it), known from parsing the field.
pub(crate) fn header_digest_with_b(
    message: &Message<'_>,
    signed: &[impl AsRef<str>],
    canon: Canon,
    field_name: &[u8],
    raw_field: &[u8],
    b: Option<std::ops::Range<usize>>,
    algorithm: Algorithm,
) -> digest::Digest {
    // Room for the canonical headers of most messages (about 1 KB), in a size the allocator
    // keeps per thread; it grows for more.
    let mut buf = Vec::with_capacity(1024);
    canonical_headers(message, signed, canon, &mut buf);
    signature_field_into(canon, field_name, raw_field, b, &mut buf);
    digest::digest(algorithm.digest(), &buf)
}

/// Where canonical body bytes go: a `Vec` (to look at them) or a [`HashSink`] (to hash them
/// without building the canonical body).
trait Sink {
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// Bytes staged before one hash update: canonicalization emits many short pieces, and each
/// update of the digest costs a call into aws-lc.
const STAGE: usize = 4096;

/// Counts canonical body bytes without keeping them (for [`BodyHasher::canonical_len`]).
struct Counter(u64);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len() as u64;
    }
}

/// Counts canonical body bytes and hashes the first `remaining` of them (`l=`; `u64::MAX`
/// without one), staging short pieces so that the digest sees a few large updates. The stage
/// is a `Vec` with room for [`STAGE`] bytes rather than an array, which would be zeroed (and
/// moved) for every hash.
struct HashSink {
    context: digest::Context,
    remaining: u64,
    total: u64,
    stage: Vec<u8>,
}

impl HashSink {
    fn new(algorithm: Algorithm, limit: Option<u64>) -> Self {
        Self {
            context: digest::Context::new(algorithm.digest()),
            remaining: limit.unwrap_or(u64::MAX),
            total: 0,
            stage: Vec::with_capacity(STAGE),
        }
    }

    /// Hashes the stage and then `bytes`, which did not fit in it (directly when they are
    /// long, else as the start of the next stage).
    #[inline(never)]
    fn spill(&mut self, bytes: &[u8]) {
        self.context.update(&self.stage);
        self.stage.clear();
        if bytes.len() >= STAGE / 2 {
            self.context.update(bytes);
        } else {
            self.stage.extend_from_slice(bytes);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.context.update(&self.stage);
        self.context.finish().as_ref().to_vec()
    }
}

impl Sink for HashSink {
    // Called for every piece between two changes: inlined, its checks fold into the loop.
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        let take = (bytes.len() as u64).min(self.remaining) as usize;
        self.remaining -= take as u64;
        let bytes = &bytes[..take];
        if bytes.len() <= self.stage.capacity() - self.stage.len() {
            self.stage.extend_from_slice(bytes);
        } else {
            self.spill(bytes);
        }
    }
}

/// The canonical body (RFC 6376 §3.4.3 and §3.4.4). Simple canonicalization borrows the body
/// whenever it already ends in CRLF.
pub fn canonical_body(body: &[u8], canon: Canon) -> Cow<'_, [u8]> {
    match canon {
        Canon::Simple => {
            let end = simple_body_end(body);
            if end == 0 {
                Cow::Borrowed(b"\r\n")
            } else if end + 2 <= body.len() {
                Cow::Borrowed(&body[..end + 2])
            } else {
                let mut out = Vec::with_capacity(end + 2);
                simple_body_into(body, &mut out);
                Cow::Owned(out)
            }
        }
        Canon::Relaxed => Cow::Owned(relaxed_body(body)),
    }
}

/// Where the body ends once every CRLF at its end is removed.
fn simple_body_end(body: &[u8]) -> usize {
    let mut end = body.len();
    while body[..end].ends_with(b"\r\n") {
        end -= 2;
    }
    end
}

/// Simple body canonicalization (RFC 6376 §3.4.3): empty lines at the end removed, a missing
/// final CRLF added; an empty body is one CRLF.
fn simple_body_into(body: &[u8], out: &mut impl Sink) {
    let end = simple_body_end(body);
    if end == 0 {
        out.put(b"\r\n");
    } else if end + 2 <= body.len() {
        out.put(&body[..end + 2]);
    } else {
        out.put(&body[..end]);
        out.put(b"\r\n");
    }
}

fn relaxed_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    relaxed_body_into(body, &mut out);
    out
}

/// The next position at or after a point where a pattern occurs, searched lazily and
/// remembered, so that one scan over the body serves every line.
struct NextAt {
    at: usize,
    searched_from: usize,
}

impl NextAt {
    fn new() -> Self {
        Self {
            at: 0,
            searched_from: usize::MAX,
        }
    }

    fn next(&mut self, from: usize, search: impl FnOnce(usize) -> Option<usize>) -> usize {
        if self.searched_from == usize::MAX || (self.at < from && self.at != usize::MAX) {
            self.at = search(from).map_or(usize::MAX, |p| from + p);
            self.searched_from = from;
        }
        self.at
    }
}

/// Relaxed body canonicalization (RFC 6376 §3.4.4): whitespace at line ends removed, other
/// whitespace runs reduced to one space, empty lines at the end removed, lines ended with
/// CRLF (a bare LF ends a line too). Stretches of the body that need no change go to `out` as
/// they are, in as few pieces as the changes allow.
fn relaxed_body_into(body: &[u8], out: &mut impl Sink) {
    // Whitespace and line ends at the very end go: what is left ends in content.
    let mut end = body.len();
    loop {
        if body[..end].ends_with(b"\r\n") {
            end -= 2;
        } else if end > 0 && matches!(body[end - 1], b'\n' | b' ' | b'\t') {
            end -= 1;
        } else {
            break;
        }
    }
    if end == 0 {
        return;
    }
    // When the last line kept its CRLF, it can go out unchanged like the others.
    let limit = if body[end..].starts_with(b"\r\n") {
        end + 2
    } else {
        end
    };
    let double_space = memchr::memmem::Finder::new(b"  ");
    let mut tab = NextAt::new();
    let mut doubled = NextAt::new();
    let mut copied = 0;
    let mut start = 0;
    while start < limit {
        let (text_end, next, crlf) = match memchr::memchr(b'\n', &body[start..limit]) {
            Some(off) if off > 0 && body[start + off - 1] == b'\r' => {
                (start + off - 1, start + off + 1, true)
            }
            Some(off) => (start + off, start + off + 1, false),
            None => (limit, limit, false),
        };
        let mut trimmed = text_end;
        while trimmed > start && is_wsp(body[trimmed - 1]) {
            trimmed -= 1;
        }
        let line = start..trimmed;
        if tab.next(start, |f| memchr::memchr(b'\t', &body[f..limit])) < line.end
            || doubled.next(start, |f| double_space.find(&body[f..limit])) < line.end
        {
            out.put(&body[copied..start]);
            reduce_whitespace(&body[line.clone()], out);
            copied = line.end;
        }
        if trimmed < text_end || !crlf {
            out.put(&body[copied..trimmed]);
            out.put(b"\r\n");
            copied = next;
        }
        start = next;
    }
    out.put(&body[copied..limit]);
}

/// [`relaxed_body_into`] for a body whose every LF follows a CR, as [`Message`] guarantees:
/// instead of looking at each line, it marks the only places relaxed canonicalization changes
/// — a tab, two spaces in a row, a space before CRLF — 64 bytes at a time and passes
/// everything between them through untouched. The marks are made with the widest vectors
/// `level` has (64 bytes in one comparison with AVX-512, two with AVX2, four with SSE2).
fn relaxed_crlf_body_into(level: Level, body: &[u8], out: &mut impl Sink) {
    dispatch!(level, simd => relaxed_crlf_body_with(simd, body, out));
}

/// [`relaxed_crlf_body_into`] with the vector instructions of `simd`, inlined into the
/// function [`dispatch!`] compiles for them.
#[inline(always)]
fn relaxed_crlf_body_with<S: Simd>(simd: S, body: &[u8], out: &mut impl Sink) {
    let mut end = body.len();
    loop {
        if body[..end].ends_with(b"\r\n") {
            end -= 2;
        } else if end > 0 && is_wsp(body[end - 1]) {
            end -= 1;
        } else {
            break;
        }
    }
    if end == 0 {
        return;
    }
    let terminated = body[end..].starts_with(b"\r\n");
    let limit = if terminated { end + 2 } else { end };
    let mut copied = 0;
    let mut base = 0;
    while base < end {
        let mut mask = change_mask(simd, body, base);
        if end - base < CHUNK {
            mask &= (1 << (end - base)) - 1;
        }
        while mask != 0 {
            let at = base + mask.trailing_zeros() as usize;
            mask &= mask - 1;
            if at < copied {
                // Inside the whitespace run the last change took in whole.
                continue;
            }
            // The whitespace run starts at the change: a tab before it would be a change, and
            // so would a space (it comes before a space or a tab), which would have taken this
            // run in whole.
            let mut run_end = at + 1;
            while run_end < end && is_wsp(body[run_end]) {
                run_end += 1;
            }
            out.put(&body[copied..at]);
            if !body[run_end..].starts_with(b"\r\n") {
                out.put(b" ");
            }
            copied = run_end;
        }
        base += CHUNK;
    }
    out.put(&body[copied..limit]);
    if !terminated {
        out.put(b"\r\n");
    }
}

/// Bytes [`change_mask`] looks at in one call.
const CHUNK: usize = 64;

/// True where relaxed body canonicalization may change something at `a` (followed by `b`): a
/// tab, or a space before a byte up to 0x20 (another space, a tab, a CR). A space before any
/// other control byte is marked too, which one unsigned comparison makes cheaper than naming
/// the three: such a space is a run of one that stays one space, which the pass writes as it
/// is.
fn changes_at(a: u8, b: u8) -> bool {
    (a == b'\t') | ((a == b' ') & (b <= b' '))
}

/// Bit `i` set where [`changes_at`] holds at `hay[from + i]` and the byte after it (none
/// after the last byte), for the 64 bytes from `from` or as many as there are. Prose has a
/// space every few bytes, which would stop a substring search for two spaces at each one;
/// vector comparisons of all 64 positions (one, two or four instructions each, by the width
/// `simd` has) test every position at once.
#[inline(always)]
fn change_mask<S: Simd>(simd: S, hay: &[u8], from: usize) -> u64 {
    match hay.get(from..from + CHUNK + 1) {
        Some(window) => {
            let a = u8x64::from_slice(simd, &window[..CHUNK]);
            let b = u8x64::from_slice(simd, &window[1..]);
            let space = u8x64::splat(simd, b' ');
            let tab = u8x64::splat(simd, b'\t');
            (a.simd_eq(tab) | (a.simd_eq(space) & b.simd_le(space))).to_bitmask()
        }
        None => {
            let tail = &hay[from.min(hay.len())..];
            tail.iter().enumerate().fold(0, |mask, (i, &a)| {
                let b = tail.get(i + 1).copied().unwrap_or(0);
                mask | (u64::from(changes_at(a, b)) << i)
            })
        }
    }
}

/// Writes `line`, turning every whitespace run other than a single space into one space.
fn reduce_whitespace(line: &[u8], out: &mut impl Sink) {
    let mut copied = 0;
    let mut at = 0;
    while let Some(off) = memchr::memchr2(b' ', b'\t', &line[at..]) {
        let ws = at + off;
        let mut end = ws + 1;
        while end < line.len() && is_wsp(line[end]) {
            end += 1;
        }
        if end != ws + 1 || line[ws] != b' ' {
            out.put(&line[copied..ws]);
            out.put(b" ");
            copied = end;
        }
        at = end;
    }
    out.put(&line[copied..]);
}

/// Canonicalization, `l=` and hash family: what a body hash depends on.
type BodyHashKey = (Canon, Option<u64>, Algorithm);

fn canon_index(canon: Canon) -> usize {
    match canon {
        Canon::Simple => 0,
        Canon::Relaxed => 1,
    }
}

/// Computes body hashes in one streaming pass per (canonicalization, `l=`, hash) combination,
/// canonicalizing and hashing together without building the canonical body, so that several
/// signatures over one message share the work.
#[derive(Debug)]
pub struct BodyHasher<'a> {
    body: &'a [u8],
    crlf_only: bool,
    lengths: [Option<u64>; 2],
    hashes: Vec<(BodyHashKey, Result<Vec<u8>, u64>)>,
}

impl<'a> BodyHasher<'a> {
    /// A hasher over `body` (the raw body, CRLF line endings).
    pub fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            crlf_only: false,
            lengths: [None; 2],
            hashes: Vec::new(),
        }
    }

    /// A hasher over the body of `message`, whose line endings are all CRLF, which lets relaxed
    /// canonicalization skip looking at each line.
    pub fn for_message(message: &'a Message<'a>) -> Self {
        Self {
            crlf_only: true,
            ..Self::new(message.body())
        }
    }

    /// Writes the canonical body to `sink`.
    fn pass(&self, canon: Canon, sink: &mut impl Sink) {
        match canon {
            Canon::Simple => simple_body_into(self.body, sink),
            Canon::Relaxed if self.crlf_only => {
                relaxed_crlf_body_into(vector_level(), self.body, sink)
            }
            Canon::Relaxed => relaxed_body_into(self.body, sink),
        }
    }

    /// The length of the canonical body.
    pub fn canonical_len(&mut self, canon: Canon) -> u64 {
        if let Some(len) = self.lengths[canon_index(canon)] {
            return len;
        }
        let mut counter = Counter(0);
        self.pass(canon, &mut counter);
        self.lengths[canon_index(canon)] = Some(counter.0);
        counter.0
    }

    /// The body hash for `canon`, limited to `length` bytes when given. `Err(len)` when the
    /// canonical body is shorter (`len` bytes) than `length`.
    pub fn hash(
        &mut self,
        canon: Canon,
        length: Option<u64>,
        algorithm: Algorithm,
    ) -> Result<Vec<u8>, u64> {
        self.cached(canon, length, algorithm).clone()
    }

    /// Whether the body hash for `canon` and `length` is `expected`, without copying it out.
    /// `Err(len)` as for [`Self::hash`].
    pub fn hash_matches(
        &mut self,
        canon: Canon,
        length: Option<u64>,
        algorithm: Algorithm,
        expected: &[u8],
    ) -> Result<bool, u64> {
        match self.cached(canon, length, algorithm) {
            Ok(hash) => Ok(hash == expected),
            Err(len) => Err(*len),
        }
    }

    /// The body hash, computed on first use and kept for the signatures after.
    fn cached(
        &mut self,
        canon: Canon,
        length: Option<u64>,
        algorithm: Algorithm,
    ) -> &Result<Vec<u8>, u64> {
        // An `l=` of the whole canonical body hashes what no `l=` hashes.
        let length = length.filter(|&l| self.lengths[canon_index(canon)] != Some(l));
        let key = (canon, length, hash_family(algorithm));
        let at = match self.hashes.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let mut sink = HashSink::new(algorithm, length);
                self.pass(canon, &mut sink);
                let total = sink.total;
                self.lengths[canon_index(canon)] = Some(total);
                let result = match length {
                    Some(l) if l > total => Err(total),
                    _ => Ok(sink.finish()),
                };
                self.hashes.push((key, result));
                self.hashes.len() - 1
            }
        };
        &self.hashes[at].1
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
    use crate::test_support::{vector_levels, xorshift};

    fn relaxed_header(name: &str, value: &str) -> String {
        let mut out = Vec::new();
        canonicalize_header_relaxed(name, value.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn relaxed_value_in_pieces_equals_the_value_in_one() {
        let values: [&[u8]; 7] = [
            b" a  b\t\r\n\tc ",
            b"a\rb \r\n c",
            b"  \t ",
            b"v=1; a=rsa-sha256; b=; bh=x",
            b"x\r\n y\t",
            b"",
            b"plain single spaces",
        ];
        // Values built from the bytes that matter, in every order a small generator makes.
        let mut seed = 7u32;
        let generated: Vec<Vec<u8>> = (0..600)
            .map(|n| {
                (0..n % 61)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        b"ab  \t\r\n"[(seed >> 16) as usize % 7]
                    })
                    .collect()
            })
            .collect();
        for value in values
            .into_iter()
            .chain(generated.iter().map(Vec::as_slice))
        {
            let mut whole = Vec::new();
            relaxed_value(&[value], &mut whole);
            let mut old_way = Vec::new();
            for &b in &value[space_bounds(value)] {
                match b {
                    b'\r' | b'\n' => {}
                    b' ' | b'\t' => {
                        if old_way.last() != Some(&b' ') {
                            old_way.push(b' ');
                        }
                    }
                    _ => old_way.push(b),
                }
            }
            assert_eq!(whole, old_way, "{value:?}");
            for cut in 0..=value.len() {
                let mut pieces = Vec::new();
                relaxed_value(&[&value[..cut], &value[cut..]], &mut pieces);
                assert_eq!(pieces, whole, "{value:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn changes_agree_with_the_byte_by_byte_reading() {
        let changes_at = |piece: &[u8], at: usize| {
            let b = piece[at];
            let lone_space = b == b' '
                && at > 0
                && !is_space(piece[at - 1])
                && piece.get(at + 1).is_some_and(|&next| !is_space(next));
            is_space(b) && !lone_space
        };
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..5000 {
            let len = (xorshift(&mut state) % 70) as usize;
            let piece: Vec<u8> = (0..len)
                .map(|_| {
                    let r = xorshift(&mut state);
                    if r.is_multiple_of(4) {
                        b" \t\r\nx"[(r >> 8) as usize % 5]
                    } else {
                        b'a'
                    }
                })
                .collect();
            let expected: Vec<usize> = (0..len).filter(|&at| changes_at(&piece, at)).collect();
            let mut found = Vec::new();
            let mut changes = Changes::new();
            let (blocks, tail) = piece.as_chunks::<16>();
            let mut padded = [b' '; 16];
            padded[..tail.len()].copy_from_slice(tail);
            let steps = blocks.iter().copied().chain([padded]);
            for (k, block) in steps.enumerate() {
                let mask = changes.step(block);
                found.extend(
                    (0..16)
                        .filter(|i| mask >> i & 1 == 1)
                        .map(|i| 16 * k + i - 1),
                );
            }
            found.retain(|&at| at < len);
            assert_eq!(found, expected, "{piece:?}");
        }
    }

    #[test]
    fn names_are_lower_cased_at_any_length() {
        for len in 0..40 {
            let name: Vec<u8> = b"Az@[`{-09_XyZ".iter().copied().cycle().take(len).collect();
            let mut out = b"x".to_vec();
            extend_lowercase(&mut out, &name);
            assert_eq!(out[1..], name.to_ascii_lowercase(), "{len}");
            assert_eq!(out[0], b'x');
        }
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
    fn an_l_of_the_whole_body_shares_the_hash_without_l() {
        let body = b"Hello  world \r\n\r\nsecond\tline\r\n\r\n";
        let mut hasher = BodyHasher::new(body);
        let whole = hasher
            .hash(Canon::Relaxed, None, Algorithm::RsaSha256)
            .unwrap();
        let len = hasher.canonical_len(Canon::Relaxed);
        assert_eq!(len, b"Hello world\r\n\r\nsecond line\r\n".len() as u64);
        let with_l = hasher.hash(Canon::Relaxed, Some(len), Algorithm::Ed25519Sha256);
        assert_eq!(with_l, Ok(whole.clone()));
        assert_eq!(
            hasher.hashes.len(),
            1,
            "the whole-body l= made a second pass"
        );
        let shorter = hasher.hash(Canon::Relaxed, Some(len - 1), Algorithm::RsaSha256);
        assert_ne!(shorter, Ok(whole));
        assert_eq!(
            hasher.hash(Canon::Relaxed, Some(len + 1), Algorithm::RsaSha256),
            Err(len)
        );
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

    /// RFC 6376 §3.4.4 read literally, to check the fast implementation against.
    fn relaxed_body_reference(body: &[u8]) -> Vec<u8> {
        let text: Vec<u8> = body.to_vec();
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut rest = &text[..];
        while !rest.is_empty() {
            let lf = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let mut line = rest[..lf].to_vec();
            if line.last() == Some(&b'\r') && lf < rest.len() {
                line.pop();
            }
            rest = &rest[(lf + 1).min(rest.len())..];
            let mut reduced = Vec::new();
            for &b in &line {
                let b = if b == b'\t' { b' ' } else { b };
                if !(b == b' ' && reduced.last() == Some(&b' ')) {
                    reduced.push(b);
                }
            }
            while reduced.last() == Some(&b' ') {
                reduced.pop();
            }
            lines.push(reduced);
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
            .iter()
            .flat_map(|l| l.iter().copied().chain(*b"\r\n"))
            .collect()
    }

    #[test]
    fn relaxed_body_matches_the_literal_reading_of_the_rfc() {
        let alphabet = b" \t\r\nab";
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..20_000 {
            xorshift(&mut state);
            let len = (state % 24) as usize;
            let body: Vec<u8> = (0..len)
                .map(|i| alphabet[((state >> (i * 2 % 60)) % 6) as usize])
                .collect();
            assert_eq!(
                relaxed_body(&body),
                relaxed_body_reference(&body),
                "body {body:?}"
            );
        }
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

    /// The streaming hash (pieces staged, large stretches passed through, `l=` cutting inside a
    /// piece) equals hashing the canonical body built in memory, for bodies around the stage size.
    #[test]
    fn streaming_body_hash_equals_hashing_the_canonical_body() {
        let lines: [&[u8]; 6] = [
            b"plain prose line that needs no change\r\n",
            b"trailing space \r\n",
            b"tab\there  and  doubles\r\n",
            b" \t\r\n",
            b"\r\n",
            b"bare lf line\n",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for round in 0..300 {
            let mut body = Vec::new();
            let target = (round * 37) % (3 * STAGE);
            while body.len() < target {
                xorshift(&mut state);
                body.extend_from_slice(lines[(state % 6) as usize]);
                if state.is_multiple_of(97) {
                    body.extend_from_slice(&[b'x'; STAGE]);
                }
            }
            for canon in [Canon::Simple, Canon::Relaxed] {
                let whole = canonical_body(&body, canon);
                let mut hasher = BodyHasher::new(&body);
                assert_eq!(
                    hasher.hash(canon, None, Algorithm::RsaSha256).unwrap(),
                    digest::digest(&digest::SHA256, &whole).as_ref(),
                    "{canon:?} body of {} bytes",
                    body.len()
                );
                assert_eq!(hasher.canonical_len(canon), whole.len() as u64);
                let cut = (state as usize) % (whole.len() + 1);
                assert_eq!(
                    hasher
                        .hash(canon, Some(cut as u64), Algorithm::Ed25519Sha256)
                        .unwrap(),
                    digest::digest(&digest::SHA256, &whole[..cut]).as_ref()
                );
            }
        }
    }

    /// The whole-body relaxed canonicalization for CRLF-only bodies agrees with the line by line
    /// one on random CRLF-only bodies.
    #[test]
    fn crlf_only_relaxed_body_matches_the_line_by_line_one() {
        // Control bytes other than CR and LF are not whitespace: a space before one stays.
        let pieces: [&[u8]; 9] = [
            b" ", b"\t", b"\r\n", b"a", b"b", b"\r", b"  ", b"\x0b", b"\x01",
        ];
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..20_000 {
            xorshift(&mut state);
            let len = (state % 16) as usize;
            let mut body = Vec::new();
            for i in 0..len {
                body.extend_from_slice(pieces[((state >> (i * 3 % 60)) % 9) as usize]);
            }
            // Keep every LF after a CR, as a parsed message has it.
            if body.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r') {
                continue;
            }
            let expected = relaxed_body(&body);
            for level in vector_levels() {
                let mut fast = Vec::new();
                relaxed_crlf_body_into(level, &body, &mut fast);
                assert_eq!(fast, expected, "{level:?}, body {body:?}");
            }
        }
    }

    /// The vector comparisons mark the same places as a byte-by-byte reading, on random
    /// text with the places at random offsets in and across 16-byte lanes and 64-byte chunks.
    #[test]
    fn change_mask_marks_every_place() {
        let alphabet = b"  \t\r\nab\x01\x0b\x1f";
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..20_000 {
            let len = (xorshift(&mut state) % 160) as usize;
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    let r = xorshift(&mut state);
                    // Mostly letters, so that places are sparse and land anywhere.
                    if r.is_multiple_of(8) {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    } else {
                        b'a'
                    }
                })
                .collect();
            let from = (xorshift(&mut state) % 100) as usize;
            let expected = (from..(from + CHUNK).min(hay.len())).fold(0u64, |mask, i| {
                let b = hay.get(i + 1).copied().unwrap_or(0);
                mask | (u64::from(changes_at(hay[i], b)) << (i - from))
            });
            for level in vector_levels() {
                let mask = dispatch!(level, simd => change_mask(simd, &hay, from));
                assert_eq!(mask, expected, "{level:?}, hay {hay:?} from {from}");
            }
        }
    }

    /// Long CRLF-only bodies (several 32-byte blocks per line) canonicalize as the line by
    /// line reading does.
    #[test]
    fn long_crlf_only_relaxed_bodies_match_the_line_by_line_one() {
        let pieces: [&[u8]; 6] = [b"word ", b"words", b" \r\n", b"\r\n", b"\t", b"  "];
        let mut state = 0x2545_F491_4F6C_DD1D_u64;
        for _ in 0..3_000 {
            let len = (xorshift(&mut state) % 120) as usize;
            let mut body = Vec::new();
            for _ in 0..len {
                let r = xorshift(&mut state);
                let piece = if r.is_multiple_of(5) {
                    (r >> 8) as usize % 6
                } else {
                    0
                };
                body.extend_from_slice(pieces[piece]);
            }
            let expected = relaxed_body(&body);
            for level in vector_levels() {
                let mut fast = Vec::new();
                relaxed_crlf_body_into(level, &body, &mut fast);
                assert_eq!(fast, expected, "{level:?}, body {body:?}");
            }
        }
    }
}
