//! Reports in an encoding other than UTF-8 (XML 1.0 §4.3.3): a UTF-16 byte order mark, or an
//! XML declaration naming windows-1252, ISO-8859-1, Shift_JIS and the like. Such input is
//! converted to UTF-8 as it streams in, so that the parser, which reads UTF-8, sees the
//! characters the reporter wrote instead of replacement characters. Labels are matched as the
//! WHATWG Encoding Standard does (`encoding_rs`), so ISO-8859-1 reads as windows-1252, which
//! is how mail software writes it. Everything else passes through untouched.

use std::io::{self, BufRead, Read};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_8};

/// Bytes looked at for a byte order mark and the XML declaration.
const HEAD: usize = 512;

/// What [`decoded`] found at the start of the input.
#[derive(Debug, Default)]
pub(crate) struct Sniffed {
    /// The encoding converted from, when not UTF-8.
    pub(crate) encoding: Option<&'static Encoding>,
    /// A declared encoding that is unknown or cannot apply to the bytes; read as UTF-8.
    pub(crate) ignored: Option<String>,
}

/// The input as UTF-8: the first bytes, kept while looking at them, then the rest, converted
/// when the input is in another encoding.
pub(crate) struct Decoded<R> {
    head: Vec<u8>,
    at: usize,
    inner: R,
    convert: Option<Convert>,
}

struct Convert {
    decoder: Decoder,
    out: Vec<u8>,
    at: usize,
    head_done: bool,
    input_done: bool,
    /// Sequences replaced (with U+FFFD) because they are not valid in the encoding, counted
    /// as the input is read.
    replaced: u64,
}

impl<R> std::fmt::Debug for Decoded<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoded")
            .field(
                "encoding",
                &self.convert.as_ref().map(|c| c.decoder.encoding().name()),
            )
            .finish_non_exhaustive()
    }
}

impl<R> Decoded<R> {
    /// The encoding converted from and how many sequences not valid in it were replaced
    /// since the last call; `None` for input read as UTF-8.
    pub(crate) fn take_replaced(&mut self) -> Option<(&'static str, u64)> {
        self.convert
            .as_mut()
            .map(|c| (c.decoder.encoding().name(), std::mem::take(&mut c.replaced)))
    }
}

/// Reads the start of `input` and returns it as a UTF-8 stream, with what was found. The
/// first buffer of a report usually holds its whole XML declaration, and is then looked at in
/// place; otherwise the first bytes are read into a buffer of their own.
pub(crate) fn decoded<R: BufRead>(mut input: R) -> io::Result<(Decoded<R>, Sniffed)> {
    let in_place = {
        let first = input.fill_buf()?;
        (first.len() >= HEAD || declaration_end(first).is_some()).then(|| sniff(first))
    };
    let (head, (encoding, ignored)) = match in_place {
        Some(found) => (Vec::new(), found),
        None => {
            let head = read_head(&mut input)?;
            let found = sniff(&head);
            (head, found)
        }
    };
    let sniffed = Sniffed {
        encoding: (encoding != UTF_8).then_some(encoding),
        ignored,
    };
    let convert = sniffed.encoding.map(|encoding| Convert {
        decoder: encoding.new_decoder(),
        out: Vec::new(),
        at: 0,
        head_done: head.is_empty(),
        input_done: false,
        replaced: 0,
    });
    Ok((
        Decoded {
            head,
            at: 0,
            inner: input,
            convert,
        },
        sniffed,
    ))
}

/// Up to [`HEAD`] bytes from the start of `input`, or fewer when its XML declaration ends
/// sooner.
fn read_head(input: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(HEAD);
    while head.len() < HEAD && declaration_end(&head).is_none() {
        let bytes = input.fill_buf()?;
        if bytes.is_empty() {
            break;
        }
        let take = bytes.len().min(HEAD - head.len());
        head.extend_from_slice(&bytes[..take]);
        input.consume(take);
    }
    Ok(head)
}

/// The encoding of the input that starts with `head`: its byte order mark, else its XML
/// declaration's, else UTF-8; and a declared label that was not used.
fn sniff(head: &[u8]) -> (&'static Encoding, Option<String>) {
    if let Some((encoding, _)) = Encoding::for_bom(head) {
        return (encoding, None);
    }
    let Some(label) = declared_label(head) else {
        return (UTF_8, None);
    };
    match Encoding::for_label(label.as_bytes()) {
        // A declaration read as ASCII cannot be in UTF-16, and the replacement encoding would
        // turn the whole report into one replacement character.
        Some(e) if e.is_ascii_compatible() && e != encoding_rs::REPLACEMENT => (e, None),
        _ => (UTF_8, Some(label)),
    }
}

/// Where the XML declaration at the start of `head` ends (the offset of its `?>`).
fn declaration_end(head: &[u8]) -> Option<usize> {
    let rest = head.strip_prefix(b"<?xml")?;
    rest.windows(2).position(|w| w == b"?>").map(|p| p + 5)
}

/// The `encoding` pseudo-attribute of an XML declaration at the start of `head`.
fn declared_label(head: &[u8]) -> Option<String> {
    let declaration = &head[5..declaration_end(head)?];
    let at = declaration.windows(8).position(|w| w == b"encoding")?;
    let rest = declaration[at + 8..].trim_ascii_start();
    let rest = rest.strip_prefix(b"=")?.trim_ascii_start();
    let quote = *rest.first().filter(|&&q| q == b'"' || q == b'\'')?;
    let value = &rest[1..];
    let close = value.iter().position(|&b| b == quote)?;
    Some(String::from_utf8_lossy(&value[..close]).trim().to_owned())
}

impl Convert {
    /// Converts the next piece of input into `out`; false once everything was converted.
    fn refill(&mut self, head: &[u8], inner: &mut impl BufRead) -> io::Result<bool> {
        self.out.clear();
        self.at = 0;
        while self.out.is_empty() {
            if self.input_done {
                return Ok(false);
            }
            let (source, last, from_head) = if self.head_done {
                let bytes = inner.fill_buf()?;
                (bytes, bytes.is_empty(), false)
            } else {
                (head, false, true)
            };
            let room = self
                .decoder
                .max_utf8_buffer_length(source.len())
                .unwrap_or(source.len() * 3 + 16);
            self.out.resize(room, 0);
            let (result, read, written, replaced) =
                self.decoder.decode_to_utf8(source, &mut self.out, last);
            self.out.truncate(written);
            if replaced {
                let count = self
                    .out
                    .windows(3)
                    .filter(|w| *w == "\u{fffd}".as_bytes())
                    .count();
                self.replaced += count as u64;
            }
            if from_head {
                // The head is small and `room` fits all of it.
                self.head_done = read == source.len() && result == CoderResult::InputEmpty;
                if !self.head_done {
                    return Err(io::Error::other("converting the report's first bytes"));
                }
            } else {
                inner.consume(read);
                self.input_done = last;
            }
        }
        Ok(true)
    }
}

impl<R: BufRead> BufRead for Decoded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match &mut self.convert {
            None if self.at < self.head.len() => Ok(&self.head[self.at..]),
            None => self.inner.fill_buf(),
            Some(convert) => {
                if convert.at == convert.out.len()
                    && !convert.refill(&self.head, &mut self.inner)?
                {
                    return Ok(&[]);
                }
                Ok(&convert.out[convert.at..])
            }
        }
    }

    fn consume(&mut self, amount: usize) {
        match &mut self.convert {
            None if self.at < self.head.len() => self.at += amount,
            None => self.inner.consume(amount),
            Some(convert) => convert.at += amount,
        }
    }
}

impl<R: BufRead> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `input` gives, read through [`decoded`] from a reader that hands out
    /// `step` bytes at a time.
    /// Also how many sequences were replaced.
    fn through(input: &[u8], step: usize) -> (String, Sniffed, u64) {
        let reader = io::BufReader::with_capacity(step, input);
        let (mut decoded, sniffed) = decoded(reader).unwrap();
        let mut out = Vec::new();
        decoded.read_to_end(&mut out).unwrap();
        let replaced = decoded.take_replaced().map_or(0, |(_, n)| n);
        (String::from_utf8(out).unwrap(), sniffed, replaced)
    }

    #[test]
    fn declared_single_byte_encodings_are_converted() {
        for label in ["windows-1252", "ISO-8859-1", "latin1", "cp1252"] {
            let mut input =
                format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n<a>Caf").into_bytes();
            input.extend_from_slice(b"\xe9 \x80 ");
            input.extend(std::iter::repeat_n(b'x', 3000));
            input.extend_from_slice(b"\xfc</a>");
            for step in [1, 7, 64, 8192] {
                let (text, sniffed, replaced) = through(&input, step);
                assert!(text.contains("<a>Café € x"), "{label} {step}");
                assert!(text.ends_with("xü</a>"), "{label} {step}");
                assert_eq!(sniffed.encoding.map(|e| e.name()), Some("windows-1252"));
                assert_eq!(replaced, 0);
            }
        }
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_converted() {
        let text = "<?xml version=\"1.0\"?><a>Grüße</a>";
        let mut input = vec![0xff, 0xfe];
        input.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        for step in [1, 3, 4096] {
            let (out, sniffed, _) = through(&input, step);
            assert_eq!(out, text, "{step}");
            assert_eq!(sniffed.encoding.map(|e| e.name()), Some("UTF-16LE"));
        }
    }

    #[test]
    fn multi_byte_sequences_split_between_reads_are_kept() {
        let mut input = b"<?xml version='1.0' encoding='Shift_JIS'?><a>".to_vec();
        // "日本" in Shift_JIS, twice, so that some read splits a character.
        input.extend_from_slice(b"\x93\xfa\x96\x7b\x93\xfa\x96\x7b</a>");
        for step in 1..=9 {
            let (out, _, _) = through(&input, step);
            assert!(out.ends_with("<a>日本日本</a>"), "{step}: {out}");
        }
    }

    #[test]
    fn utf8_and_undeclared_input_pass_through_untouched() {
        let input = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>Café</a>".as_bytes();
        let (out, sniffed, _) = through(input, 5);
        assert_eq!(out.as_bytes(), input);
        assert!(sniffed.encoding.is_none() && sniffed.ignored.is_none());
        let raw = b"<feedback>\xe9</feedback>";
        let reader = io::BufReader::with_capacity(4, &raw[..]);
        let (mut decoded, _) = decoded(reader).unwrap();
        let mut out = Vec::new();
        decoded.read_to_end(&mut out).unwrap();
        assert_eq!(
            out, raw,
            "bytes that are not UTF-8 are left for the parser to report"
        );
    }

    #[test]
    fn unknown_or_impossible_labels_are_ignored_and_named() {
        for label in ["x-no-such-charset", "UTF-16", "ISO-2022-KR"] {
            let input = format!("<?xml version=\"1.0\" encoding=\"{label}\"?><a>b</a>");
            let (out, sniffed, _) = through(input.as_bytes(), 16);
            assert_eq!(out, input);
            assert_eq!(sniffed.ignored.as_deref(), Some(label));
            assert!(sniffed.encoding.is_none());
        }
    }

    #[test]
    fn bytes_invalid_in_the_encoding_are_counted() {
        let input = b"<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>\x85\x40</a>";
        let (out, _, replaced) = through(input, 8);
        assert!(out.contains('\u{fffd}'), "{out}");
        assert!(replaced > 0);
    }
}
