//! Containers around reports, recognised by their content rather than their file name: gzip
//! (RFC 1952), zip, mail messages (RFC 5322/MIME, as `.eml` or Maildir files) with reports as
//! attachments or as a `multipart/report` (RFC 6522) feedback report, and mbox files. Each
//! leaf is handed to a [`Visitor`]: aggregate reports as a streaming reader, TLS and feedback
//! reports parsed, and anything unreadable as a [`ParseError`] — after which the walk goes on.

use std::io::{BufRead, BufReader, Cursor};

use mail_parser::{MessageParser, MimeHeaders};

use crate::aggregate::AggregateReader;
use crate::error::ParseError;
use crate::feedback::{FeedbackReport, parse_feedback};
use crate::limits::{LimitedReader, Limits, read_capped};
use crate::tlsrpt::{TlsReport, parse_tls_report};

/// What a byte stream holds, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// gzip (`1f 8b`).
    Gzip,
    /// zip (`PK\x03\x04`).
    Zip,
    /// XML: an aggregate report.
    Xml,
    /// JSON: a TLS report.
    Json,
    /// An mbox file (`From ` line first).
    Mbox,
    /// One mail message.
    Mail,
    /// None of these.
    Unknown,
}

/// Judges what `prefix` (the first bytes of a stream) is.
pub fn detect(prefix: &[u8]) -> Content {
    if prefix.starts_with(&[0x1f, 0x8b]) {
        return Content::Gzip;
    }
    if prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06") {
        return Content::Zip;
    }
    if prefix.starts_with(b"From ") {
        return Content::Mbox;
    }
    // After a byte order mark (UTF-8, or UTF-16 in either order, whose zero bytes the
    // search below skips), the first character decides.
    let body = [&b"\xef\xbb\xbf"[..], b"\xff\xfe", b"\xfe\xff"]
        .iter()
        .find_map(|bom| prefix.strip_prefix(*bom))
        .unwrap_or(prefix);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0)
        .unwrap_or(body.len());
    let body = &body[start..];
    match body.first() {
        Some(b'<') => return Content::Xml,
        Some(b'{') => return Content::Json,
        _ => {}
    }
    // A mail message starts with a header field: a name of printable characters, a colon.
    let line_end = prefix
        .iter()
        .position(|b| *b == b'\n')
        .unwrap_or(prefix.len());
    let line = &prefix[..line_end];
    if let Some(colon) = line.iter().position(|b| *b == b':') {
        let name = &line[..colon];
        if !name.is_empty() && name.iter().all(|b| b.is_ascii_graphic() && *b != b':') {
            return Content::Mail;
        }
    }
    Content::Unknown
}

/// Receives the reports found in one input.
pub trait Visitor {
    /// What stops the walk (a store failure): parse problems never do.
    type Error;
    /// An aggregate report whose header was read; the visitor pulls its records.
    fn aggregate(
        &mut self,
        location: &str,
        report: AggregateReader<Box<dyn BufRead + '_>>,
    ) -> Result<(), Self::Error>;
    /// A TLS report.
    fn tls(&mut self, location: &str, report: TlsReport) -> Result<(), Self::Error>;
    /// A feedback report (failure report or complaint).
    fn feedback(&mut self, location: &str, report: FeedbackReport) -> Result<(), Self::Error>;
    /// Something at `location` could not be read.
    fn failed(&mut self, location: &str, error: ParseError) -> Result<(), Self::Error>;
}

fn join(location: &str, part: &str) -> String {
    if location.is_empty() {
        part.to_owned()
    } else {
        format!("{location}/{part}")
    }
}

fn shown_prefix(prefix: &[u8]) -> String {
    String::from_utf8_lossy(&prefix[..prefix.len().min(16)])
        .escape_debug()
        .to_string()
}

/// Walks one byte stream, whatever it holds, reporting each leaf to `visitor`.
pub fn walk<V: Visitor>(
    mut input: Box<dyn BufRead + '_>,
    location: &str,
    depth: usize,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    if depth > limits.max_nesting {
        return visitor.failed(location, ParseError::NestedTooDeep(limits.max_nesting));
    }
    let prefix = match peek(&mut input, 512) {
        Ok(prefix) => prefix,
        Err(err) => return visitor.failed(location, err),
    };
    match detect(&prefix) {
        Content::Gzip => {
            let what = if location.is_empty() {
                "gzip stream".to_owned()
            } else {
                format!("gzip stream {location}")
            };
            let inflated = LimitedReader::new(
                flate2::bufread::MultiGzDecoder::new(input),
                limits.max_decompressed,
                what,
            );
            walk(
                Box::new(BufReader::with_capacity(64 * 1024, inflated)),
                location,
                depth + 1,
                limits,
                visitor,
            )
        }
        Content::Zip => match read_capped(input, limits.max_in_memory, "zip archive") {
            Ok(bytes) => walk_zip(&bytes, location, depth, limits, visitor),
            Err(err) => visitor.failed(location, err),
        },
        Content::Xml => match AggregateReader::new(input, *limits) {
            Ok(reader) => visitor.aggregate(location, reader),
            Err(err) => visitor.failed(location, err),
        },
        Content::Json => match read_capped(input, limits.max_in_memory, "json report")
            .and_then(|b| parse_tls_report(&b))
        {
            Ok(report) => visitor.tls(location, report),
            Err(err) => visitor.failed(location, err),
        },
        Content::Mbox => walk_mbox(input, location, depth, limits, visitor),
        Content::Mail => match read_capped(input, limits.max_in_memory, "mail message") {
            Ok(bytes) => walk_mail(&bytes, location, depth, limits, visitor),
            Err(err) => visitor.failed(location, err),
        },
        Content::Unknown => {
            let error = if prefix.is_empty() {
                ParseError::Empty
            } else {
                ParseError::Unrecognised(shown_prefix(&prefix))
            };
            visitor.failed(location, error)
        }
    }
}

/// The first bytes of `input` without consuming them (fewer at the end of the stream).
fn peek(input: &mut Box<dyn BufRead + '_>, want: usize) -> Result<Vec<u8>, ParseError> {
    let buf = input.fill_buf()?;
    Ok(buf[..buf.len().min(want)].to_vec())
}

fn walk_zip<V: Visitor>(
    bytes: &[u8],
    location: &str,
    depth: usize,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => archive,
        Err(err) => return visitor.failed(location, ParseError::Zip(err.to_string())),
    };
    if archive.len() > limits.max_zip_entries {
        return visitor.failed(
            location,
            ParseError::TooManyEntries {
                count: archive.len(),
                limit: limits.max_zip_entries,
            },
        );
    }
    for index in 0..archive.len() {
        let entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(err) => {
                visitor.failed(
                    &join(location, &format!("entry {index}")),
                    ParseError::Zip(err.to_string()),
                )?;
                continue;
            }
        };
        // Folders, and what the Finder and other tools add to a zip they make: `__MACOSX/`
        // resource forks, `.DS_Store` and other hidden files, skipped as a directory walk
        // skips them.
        let hidden = entry.name().starts_with("__MACOSX/")
            || entry
                .name()
                .rsplit('/')
                .next()
                .is_some_and(|file| file.starts_with('.'));
        if entry.is_dir() || hidden {
            continue;
        }
        let here = join(location, entry.name());
        let limited =
            LimitedReader::new(entry, limits.max_decompressed, format!("zip entry {here}"));
        walk(
            Box::new(BufReader::with_capacity(64 * 1024, limited)),
            &here,
            depth + 1,
            limits,
            visitor,
        )?;
    }
    Ok(())
}

fn walk_mbox<V: Visitor>(
    input: Box<dyn BufRead + '_>,
    location: &str,
    depth: usize,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    let capped = LimitedReader::new(input, u64::MAX, "mbox");
    for (index, message) in
        mail_parser::mailbox::mbox::MessageIterator::new(BufReader::new(capped)).enumerate()
    {
        let here = join(location, &format!("message {}", index + 1));
        match message {
            Ok(message) => walk_mail(message.contents(), &here, depth + 1, limits, visitor)?,
            Err(err) => visitor.failed(&here, ParseError::from(err))?,
        }
    }
    Ok(())
}

fn is_type(part: &mail_parser::MessagePart<'_>, ctype: &str, subtypes: &[&str]) -> bool {
    part.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case(ctype)
            && ct
                .subtype()
                .is_some_and(|s| subtypes.iter().any(|want| s.eq_ignore_ascii_case(want)))
    })
}

/// The part of a feedback report that holds the original message or its header.
fn original_message<'m>(parts: &'m [mail_parser::MessagePart<'_>]) -> Option<&'m [u8]> {
    parts
        .iter()
        .find(|p| {
            is_type(p, "message", &["rfc822", "global", "rfc822-headers"])
                || is_type(p, "text", &["rfc822-headers"])
        })
        .map(|p| p.contents())
}

/// Walks one mail message: a feedback report, or reports in its parts.
pub fn walk_mail<V: Visitor>(
    bytes: &[u8],
    location: &str,
    depth: usize,
    limits: &Limits,
    visitor: &mut V,
) -> Result<(), V::Error> {
    let Some(message) = MessageParser::default().parse(bytes) else {
        return visitor.failed(location, ParseError::Mail("not a mail message".to_owned()));
    };
    let parts = &message.parts;
    if let Some(report) = parts
        .iter()
        .find(|p| is_type(p, "message", &["feedback-report"]))
    {
        return match parse_feedback(report.contents(), original_message(parts)) {
            Ok(feedback) => visitor.feedback(location, feedback),
            Err(err) => visitor.failed(location, err),
        };
    }
    // Exim's failure reports are plain text, with no feedback part.
    if let Some(parsed) = parts
        .iter()
        .filter_map(|p| p.text_contents())
        .find_map(|text| crate::feedback::parse_text_failure(text, original_message(parts)))
    {
        return match parsed {
            Ok(feedback) => visitor.feedback(location, feedback),
            Err(err) => visitor.failed(location, err),
        };
    }
    let mut found = 0usize;
    let single = parts.len() == 1;
    for (index, part) in parts.iter().enumerate() {
        if part.is_multipart() || (index == 0 && !single) {
            continue;
        }
        let contents = part.contents();
        if part.is_message() {
            found += 1;
            let here = join(location, &format!("part {index} (message)"));
            walk_mail(contents, &here, depth + 1, limits, visitor)?;
            continue;
        }
        let kind = detect(&contents[..contents.len().min(512)]);
        if !matches!(
            kind,
            Content::Gzip | Content::Zip | Content::Xml | Content::Json
        ) {
            continue;
        }
        found += 1;
        let name = part
            .attachment_name()
            .map_or_else(|| format!("part {index}"), str::to_owned);
        let here = join(location, &name);
        let reader: Box<dyn BufRead + '_> = Box::new(contents);
        walk(reader, &here, depth + 1, limits, visitor)?;
    }
    if found == 0 {
        return visitor.failed(location, ParseError::NoReport);
    }
    Ok(())
}

/// A reader over a whole file for [`walk`].
pub fn file_reader(file: std::fs::File) -> Box<dyn BufRead + 'static> {
    Box::new(BufReader::with_capacity(256 * 1024, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        assert_eq!(detect(b"\x1f\x8b\x08"), Content::Gzip);
        assert_eq!(detect(b"PK\x03\x04"), Content::Zip);
        assert_eq!(detect(b"\xef\xbb\xbf  <?xml"), Content::Xml);
        assert_eq!(detect(b"\n{\"organization-name\""), Content::Json);
        assert_eq!(
            detect(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n"),
            Content::Mbox
        );
        assert_eq!(detect(b"Return-Path: <a@b>\r\n"), Content::Mail);
        assert_eq!(detect(b"hello world"), Content::Unknown);
    }
}
