//! Feedback reports in the Abuse Reporting Format (RFC 5965): the machine-readable
//! `message/feedback-report` part and the original message (or its headers) that comes with it.
//! `Feedback-Type: auth-failure` makes it a DMARC failure report (RFC 9991, RFC 6591 section 3);
//! every other type (abuse, fraud, virus, other, not-spam) is a complaint as sent by feedback
//! loops such as Yahoo's CFL. From the original message the DKIM signing domain (`d=`) and
//! Google's `Feedback-ID` are kept, since complaints are counted per both.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ParseError;
use crate::warnings::Warnings;

/// One feedback report, complaint or authentication failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedbackReport {
    /// `Feedback-Type`, lower-cased: abuse, fraud, virus, other, not-spam, auth-failure.
    pub feedback_type: String,
    /// `User-Agent`: the generator.
    pub user_agent: Option<String>,
    /// `Version`.
    pub version: Option<String>,
    /// `Source-IP`.
    pub source_ip: Option<String>,
    /// `Original-Mail-From`, without angle brackets.
    pub original_mail_from: Option<String>,
    /// `Original-Rcpt-To`s, without angle brackets.
    pub original_rcpt_to: Vec<String>,
    /// `Arrival-Date` (or the older `Received-Date`) as written.
    pub arrival_date: Option<String>,
    /// `Arrival-Date` in seconds since the epoch, when it parses.
    pub arrival_timestamp: Option<i64>,
    /// `Reporting-MTA`.
    pub reporting_mta: Option<String>,
    /// `Reported-Domain`s.
    pub reported_domain: Vec<String>,
    /// `Reported-URI`s.
    pub reported_uri: Vec<String>,
    /// `Authentication-Results` fields.
    pub authentication_results: Vec<String>,
    /// `Auth-Failure` (RFC 6591): dkim, spf, dmarc...
    pub auth_failure: Option<String>,
    /// `Delivery-Result` (RFC 6591).
    pub delivery_result: Option<String>,
    /// `DKIM-Domain` field of a failure report (RFC 6591).
    pub dkim_domain_field: Option<String>,
    /// `DKIM-Selector` (RFC 6591).
    pub dkim_selector: Option<String>,
    /// `Identity-Alignment` (RFC 9991).
    pub identity_alignment: Option<String>,
    /// `d=` of the first DKIM-Signature of the original message (or `DKIM-Domain`).
    pub dkim_domain: Option<String>,
    /// The original message's `Feedback-ID` header.
    pub feedback_id: Option<String>,
    /// The original message's `From` domain.
    pub original_from_domain: Option<String>,
    /// Fields this parser does not know, as `name = value`.
    pub extra: Vec<(String, String)>,
    /// Recoverable problems met.
    pub warnings: Warnings,
    /// A stable identity for de-duplication: SHA-256 over the report part and original headers.
    pub digest: String,
}

impl FeedbackReport {
    /// Whether this is a DMARC failure report (RFC 9991) rather than a complaint.
    pub fn is_auth_failure(&self) -> bool {
        self.feedback_type == "auth-failure"
    }
}

/// Header-style `Name: value` fields with folded lines joined, in order. Lines that are not
/// fields are skipped with a warning.
pub(crate) fn header_fields(bytes: &[u8], warnings: &mut Warnings) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        warnings.add("invalid utf-8 in feedback fields replaced");
    }
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            // The end of a header block: what follows is a body.
            if !fields.is_empty() {
                break;
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((name, value)) if !name.is_empty() && !name.contains(' ') => {
                fields.push((name.trim().to_owned(), value.trim().to_owned()));
            }
            _ => warnings.add("line that is not a field skipped"),
        }
    }
    fields
}

fn strip_angles(value: &str) -> String {
    value
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

/// `d=` of a DKIM-Signature header value.
fn dkim_d(value: &str) -> Option<String> {
    value.split(';').find_map(|tag| {
        let (name, v) = tag.split_once('=')?;
        (name.trim() == "d").then(|| {
            v.split_whitespace()
                .collect::<String>()
                .to_ascii_lowercase()
        })
    })
}

fn from_domain(value: &str) -> Option<String> {
    let addr = match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => &value[open + 1..close],
        _ => value,
    };
    addr.rsplit_once('@')
        .map(|(_, d)| d.trim().trim_end_matches('>').to_ascii_lowercase())
}

/// Parses the `message/feedback-report` part (`report`) with, when present, the original
/// message or its headers (`original`).
pub fn parse_feedback(
    report: &[u8],
    original: Option<&[u8]>,
) -> Result<FeedbackReport, ParseError> {
    let mut out = FeedbackReport::default();
    let mut warnings = Warnings::default();
    for (name, value) in header_fields(report, &mut warnings) {
        match name.to_ascii_lowercase().as_str() {
            "feedback-type" => {
                if value.bytes().any(|b| b.is_ascii_uppercase()) {
                    warnings.add(format!("upper-case Feedback-Type ('{value}') lower-cased"));
                }
                out.feedback_type = value.to_ascii_lowercase();
            }
            "user-agent" => out.user_agent = Some(value),
            "version" => out.version = Some(value),
            "source-ip" => match ip_literal(&value) {
                Some(ip) => out.source_ip = Some(ip.to_string()),
                None => {
                    warnings.add(format!("Source-IP '{value}' is not an IP address"));
                    out.source_ip = Some(value);
                }
            },
            "original-mail-from" => out.original_mail_from = Some(strip_angles(&value)),
            "original-rcpt-to" => out.original_rcpt_to.push(strip_angles(&value)),
            "arrival-date" | "received-date" => {
                out.arrival_timestamp = date_timestamp(&value);
                if out.arrival_timestamp.is_none() {
                    warnings.add(format!("Arrival-Date '{value}' does not parse"));
                }
                out.arrival_date = Some(value);
            }
            "reporting-mta" => out.reporting_mta = Some(value),
            "reported-domain" => out
                .reported_domain
                .push(value.trim_end_matches('.').to_ascii_lowercase()),
            "reported-uri" => out.reported_uri.push(value),
            "authentication-results" => out.authentication_results.push(value),
            "auth-failure" => out.auth_failure = Some(value.to_ascii_lowercase()),
            "delivery-result" => out.delivery_result = Some(value.to_ascii_lowercase()),
            "dkim-domain" => out.dkim_domain_field = Some(value.to_ascii_lowercase()),
            "dkim-selector" => out.dkim_selector = Some(value),
            "identity-alignment" => out.identity_alignment = Some(value.to_ascii_lowercase()),
            _ => out.extra.push((name, value)),
        }
    }
    if out.feedback_type.is_empty() {
        return Err(ParseError::Feedback(
            "missing Feedback-Type field".to_owned(),
        ));
    }
    for (present, field) in [
        (out.user_agent.is_some(), "User-Agent"),
        (out.version.is_some(), "Version"),
    ] {
        if !present {
            warnings.add(format!("missing {field} field (RFC 5965 section 3.1)"));
        }
    }
    let mut digest = Sha256::new();
    digest.update(report);
    if let Some(original) = original {
        digest.update(b"\0");
        digest.update(original);
        let fields = header_fields(original, &mut Warnings::default());
        for (name, value) in &fields {
            match name.to_ascii_lowercase().as_str() {
                "dkim-signature" if out.dkim_domain.is_none() => out.dkim_domain = dkim_d(value),
                "feedback-id" if out.feedback_id.is_none() => out.feedback_id = Some(value.clone()),
                "from" if out.original_from_domain.is_none() => {
                    out.original_from_domain = from_domain(value)
                }
                _ => {}
            }
        }
        fill_from_original(&mut out, &fields, &mut warnings);
    }
    if out.dkim_domain.is_none() {
        out.dkim_domain = out.dkim_domain_field.clone();
    }
    out.digest = digest
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    out.warnings = warnings;
    Ok(out)
}

/// The sentence that opens the plain-text failure reports of Exim (and the cPanel gateways
/// built on it), which carry no `message/feedback-report` part.
const TEXT_FAILURE_OPENING: &str = "A message claiming to be from you has failed";

/// Reads a DMARC failure report written as plain text, as Exim sends them: the opening
/// sentence, then `Sender Domain`, `Sender IP Address`, `Received Date`, `SPF Alignment`,
/// `DKIM Alignment` and `DMARC Results` lines, then the failed message's header (or it comes
/// as `original`, a part of its own). `None` when `text` is not such a report. The fields are
/// rewritten as the RFC 6591 ones they stand for and read by [`parse_feedback`]; a warning
/// says the report was read from text, and the Exim values kept as written are in `extra`.
pub(crate) fn parse_text_failure(
    text: &str,
    original: Option<&[u8]>,
) -> Option<Result<FeedbackReport, ParseError>> {
    let opening = text.find(TEXT_FAILURE_OPENING)?;
    let text = &text[opening..];
    let mut fields = String::from("Feedback-Type: auth-failure\r\nAuth-Failure: dmarc\r\n");
    let (mut spf, mut dkim) = (None, None);
    let mut end_of_fields = 0;
    for (at, line) in lines_at(text, 0) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let standard = match name.trim().to_ascii_lowercase().as_str() {
            "sender domain" => "Reported-Domain",
            "sender ip address" => "Source-IP",
            "received date" => "Arrival-Date",
            "spf alignment" => {
                spf = Some(value.eq_ignore_ascii_case("yes"));
                "X-Exim-SPF-Alignment"
            }
            "dkim alignment" => {
                dkim = Some(value.eq_ignore_ascii_case("yes"));
                "X-Exim-DKIM-Alignment"
            }
            "dmarc results" => {
                let delivery = match value.to_ascii_lowercase() {
                    v if v.contains("reject") => "reject",
                    v if v.contains("quarantine") => "spam",
                    _ => "other",
                };
                fields.push_str(&format!("Delivery-Result: {delivery}\r\n"));
                "X-Exim-DMARC-Results"
            }
            _ => continue,
        };
        fields.push_str(&format!("{standard}: {value}\r\n"));
        end_of_fields = at + line.len();
    }
    if end_of_fields == 0 {
        return None;
    }
    let alignment = match (dkim, spf) {
        (Some(true), Some(true)) => "dkim, spf",
        (Some(true), _) => "dkim",
        (_, Some(true)) => "spf",
        _ => "none",
    };
    fields.push_str(&format!("Identity-Alignment: {alignment}\r\n"));
    // The failed message's header, when the text carries it: from the first line after the
    // fields that starts a header field.
    let copied = lines_at(text, end_of_fields)
        .find(|(_, line)| {
            line.split_once(':').is_some_and(|(name, _)| {
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
        })
        .map(|(at, _)| &text.as_bytes()[at..]);
    let mut report = match parse_feedback(fields.as_bytes(), original.or(copied)) {
        Ok(report) => report,
        Err(err) => return Some(Err(err)),
    };
    report.warnings.add(
        "failure report in plain text (no message/feedback-report part); fields read from the text",
    );
    Some(Ok(report))
}

/// The lines of `text` from byte `from` on, each with the offset where it starts.
fn lines_at(text: &str, from: usize) -> impl Iterator<Item = (usize, &str)> {
    text[from..].split_inclusive('\n').scan(from, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    })
}

/// The first field `name` (any letter case) of `fields`.
fn first<'f>(fields: &'f [(String, String)], name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Fills what a sparse report leaves out from the original message's header, as feedback
/// loops that send only the three required fields (Microsoft's JMRP: `Feedback-Type`,
/// `User-Agent`, `Version`) make necessary: without an arrival date a complaint belongs to no
/// day. Only empty fields are filled, each with a warning naming where its value came from, so
/// that reported and derived values stay apart:
/// - `Arrival-Date`: the date of the topmost `Received` field (the receiver's own), else the
///   original's `Date`;
/// - `Source-IP`: the first address literal after `from` in a `Received` field, from the top,
///   that is not private, loopback or link-local (the receiver's internal hops come first);
/// - `Original-Mail-From`: the original's `Return-Path`;
/// - `Original-Rcpt-To`: Microsoft's `X-HmXmrOriginalRecipient`.
fn fill_from_original(
    out: &mut FeedbackReport,
    fields: &[(String, String)],
    warnings: &mut Warnings,
) {
    let received = || {
        fields
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("received"))
            .map(|(_, v)| v.as_str())
    };
    if out.arrival_date.is_none() {
        let topmost = received()
            .next()
            .and_then(|r| r.rsplit_once(';'))
            .map(|(_, date)| (date.trim(), "topmost Received field"));
        let written = first(fields, "date").map(|date| (date, "Date field"));
        let stamped = topmost
            .into_iter()
            .chain(written)
            .find_map(|(date, from)| Some((date, from, date_timestamp(date)?)));
        if let Some((date, from, at)) = stamped {
            warnings.add(format!(
                "Arrival-Date missing; taken from the original message's {from}"
            ));
            out.arrival_date = Some(date.to_owned());
            out.arrival_timestamp = Some(at);
        }
    }
    if out.source_ip.is_none()
        && let Some(ip) = received().find_map(connecting_ip)
    {
        warnings.add("Source-IP missing; taken from the original message's Received fields");
        out.source_ip = Some(ip.to_string());
    }
    if out.original_mail_from.is_none()
        && let Some(path) = first(fields, "return-path")
    {
        warnings.add("Original-Mail-From missing; taken from the original message's Return-Path");
        out.original_mail_from = Some(strip_angles(path));
    }
    if out.original_rcpt_to.is_empty()
        && let Some(rcpt) = first(fields, "x-hmxmroriginalrecipient")
    {
        warnings.add(
            "Original-Rcpt-To missing; taken from the original message's X-HmXmrOriginalRecipient",
        );
        out.original_rcpt_to.push(strip_angles(rcpt));
    }
}

/// The public address of the host a `Received` field says the message came from: the first
/// address literal (`[192.0.2.1]`, `[IPv6:...]`) in its `from` clause, when it is not
/// private, loopback, link-local or unspecified.
fn connecting_ip(received: &str) -> Option<std::net::IpAddr> {
    use std::net::IpAddr;
    let received = received.trim_start();
    if !received.get(..5)?.eq_ignore_ascii_case("from ") {
        return None;
    }
    let from = &received[..received.find(" by ").unwrap_or(received.len())];
    from.split(['(', ')', ' '])
        .filter(|token| token.starts_with('['))
        .filter_map(ip_literal)
        .find(|ip| match ip {
            IpAddr::V4(v4) => {
                let shared = v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64;
                !(v4.is_private()
                    || v4.is_loopback()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || shared)
            }
            IpAddr::V6(v6) => {
                let unique_local = (v6.segments()[0] & 0xfe00) == 0xfc00;
                let link_local = (v6.segments()[0] & 0xffc0) == 0xfe80;
                !(v6.is_loopback() || v6.is_unspecified() || unique_local || link_local)
            }
        })
}

/// An IP address as reporters write it: bare, or as an address literal in brackets
/// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), as in Received fields.
pub(crate) fn ip_literal(value: &str) -> Option<std::net::IpAddr> {
    let value = value.trim();
    let bare = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(value);
    let bare = match bare.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("ipv6:") => &bare[5..],
        _ => bare,
    };
    bare.parse().ok()
}

/// Seconds since the epoch of a date as reporters write it: RFC 5322 (with or without the
/// day of the week and the seconds) or RFC 3339.
fn date_timestamp(value: &str) -> Option<i64> {
    let parsed = mail_parser::DateTime::parse_rfc822(value)
        .or_else(|| mail_parser::DateTime::parse_rfc3339(value.trim()))
        .or_else(|| {
            // RFC 5322 allows a time without seconds; the mail parser wants them.
            let with_seconds: Vec<String> = value
                .split_whitespace()
                .map(|token| {
                    let short_time = token.split_once(':').is_some_and(|(h, m)| {
                        (1..=2).contains(&h.len())
                            && m.len() == 2
                            && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
                    });
                    if short_time {
                        format!("{token}:00")
                    } else {
                        token.to_owned()
                    }
                })
                .collect();
            mail_parser::DateTime::parse_rfc822(&with_seconds.join(" "))
        })?;
    Some(parsed.to_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ip_literals_in_brackets_are_read_as_addresses() {
        for (written, ip) in [
            ("192.0.2.1", "192.0.2.1"),
            ("[198.51.100.8]", "198.51.100.8"),
            ("[IPv6:2001:db8::7]", "2001:db8::7"),
            (" 2001:db8::1 ", "2001:db8::1"),
        ] {
            assert_eq!(
                ip_literal(written).map(|a| a.to_string()).as_deref(),
                Some(ip)
            );
        }
        for bad in ["unknown", "[192.0.2.1", "[IPv4:192.0.2.1]", ""] {
            assert_eq!(ip_literal(bad), None, "{bad}");
        }
    }

    #[test]
    fn arrival_dates_in_every_form_reporters_use() {
        let at = 1_795_737_541; // 2026-11-26 23:59:01 UTC
        for written in [
            "Thu, 26 Nov 2026 23:59:01 +0000",
            "26 Nov 2026 23:59:01 +0000",
            "Thu, 26 Nov 2026 23:59:01 +0000 (UTC)",
            "Thu, 26 Nov 2026 18:59:01 -0500",
            "2026-11-26T23:59:01Z",
            "2026-11-27T00:59:01+01:00",
        ] {
            assert_eq!(date_timestamp(written), Some(at), "{written}");
        }
        assert_eq!(date_timestamp("26 Nov 2026 23:59 GMT"), Some(at - 1));
        assert_eq!(date_timestamp("yesterday"), None);
    }

    #[test]
    fn folded_fields_and_original_headers() {
        let report = b"Feedback-Type: Abuse\r\nUser-Agent: Test/1.0\r\nVersion: 1\r\n\
Original-Rcpt-To: <a@example.com>\r\nOriginal-Rcpt-To: <b@example.com>\r\nAuthentication-Results: mx.example.com;\r\n  spf=pass smtp.mailfrom=example.net\r\n";
        let original = b"DKIM-Signature: v=1; a=rsa-sha256; d=Mail.Example.NET;\r\n s=sel; h=from; bh=x; b=y\r\nFeedback-ID: c1:c2:c3:sender\r\nFrom: News <news@example.net>\r\n\r\nbody\r\n";
        let fb = parse_feedback(report, Some(original)).unwrap();
        assert_eq!(fb.feedback_type, "abuse");
        assert!(fb.warnings.contains("upper-case Feedback-Type"));
        assert_eq!(fb.original_rcpt_to, ["a@example.com", "b@example.com"]);
        assert_eq!(
            fb.authentication_results,
            ["mx.example.com; spf=pass smtp.mailfrom=example.net"]
        );
        assert_eq!(fb.dkim_domain.as_deref(), Some("mail.example.net"));
        assert_eq!(fb.feedback_id.as_deref(), Some("c1:c2:c3:sender"));
        assert_eq!(fb.original_from_domain.as_deref(), Some("example.net"));
        assert_eq!(fb.digest.len(), 64);
    }

    /// Microsoft's JMRP sends only the three required fields: the rest comes from the
    /// original message, each with a warning; a report that has them keeps its own.
    #[test]
    fn a_sparse_report_is_filled_from_the_original_header() {
        let report = b"Feedback-Type: abuse\r\nUser-Agent: JMRP/1.0\r\nVersion: 1\r\n";
        let original = b"X-HmXmrOriginalRecipient: <someone@hotmail.example>\r\n\
Received: from internal.hotmail.example ([10.4.0.9]) by edge.hotmail.example; Tue, 24 Nov 2026 17:22:15 +0000\r\n\
Received: from mail.sender.example (mail.sender.example\r\n [203.0.113.55]) by mx.hotmail.example with ESMTPS;\r\n Tue, 24 Nov 2026 17:22:13 +0000\r\n\
Return-Path: <bounce@sender.example>\r\nFrom: news@sender.example\r\n\
Date: Tue, 24 Nov 2026 09:00:00 -0800\r\n\r\nbody\r\n";
        let fb = parse_feedback(report, Some(original)).unwrap();
        assert_eq!(fb.arrival_timestamp, Some(1_795_540_935));
        assert_eq!(fb.source_ip.as_deref(), Some("203.0.113.55"));
        assert_eq!(
            fb.original_mail_from.as_deref(),
            Some("bounce@sender.example")
        );
        assert_eq!(fb.original_rcpt_to, ["someone@hotmail.example"]);
        for from in [
            "Arrival-Date missing; taken from the original message's topmost Received field",
            "Source-IP missing; taken from the original message's Received fields",
            "Original-Mail-From missing; taken from the original message's Return-Path",
            "Original-Rcpt-To missing; taken from the original message's X-HmXmrOriginalRecipient",
        ] {
            assert!(fb.warnings.contains(from), "{from}: {:?}", fb.warnings);
        }
        // Without a date in the Received field, the Date field; no public address, none.
        let original = b"Received: by relay.example (Postfix)\r\n\
Received: from [192.168.1.20] by relay.example\r\nDate: Tue, 24 Nov 2026 09:00:00 -0800\r\n\r\n";
        let fb = parse_feedback(report, Some(original)).unwrap();
        assert_eq!(fb.arrival_timestamp, Some(1_795_539_600));
        assert!(fb.warnings.contains("original message's Date field"));
        assert_eq!(fb.source_ip, None);
        // What the report says is kept.
        let full = b"Feedback-Type: abuse\r\nUser-Agent: x\r\nVersion: 1\r\n\
Source-IP: 192.0.2.1\r\nArrival-Date: Mon, 23 Nov 2026 00:00:00 +0000\r\n\
Original-Mail-From: <a@b.example>\r\nOriginal-Rcpt-To: <c@d.example>\r\n";
        let first = b"X-HmXmrOriginalRecipient: <someone@hotmail.example>\r\n\
Received: from mail.sender.example ([203.0.113.55]) by mx.hotmail.example; Tue, 24 Nov 2026 17:22:13 +0000\r\n\
Return-Path: <bounce@sender.example>\r\n\r\n";
        let fb = parse_feedback(full, Some(first)).unwrap();
        assert_eq!(fb.source_ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(fb.arrival_timestamp, Some(1_795_392_000));
        assert_eq!(fb.original_mail_from.as_deref(), Some("a@b.example"));
        assert_eq!(fb.original_rcpt_to, ["c@d.example"]);
        assert!(fb.warnings.is_empty(), "{:?}", fb.warnings);
    }

    #[test]
    fn connecting_ip_skips_internal_hops_and_by_clauses() {
        for (received, ip) in [
            (
                "from a.example ([203.0.113.5]) by b.example",
                Some("203.0.113.5"),
            ),
            (
                "from a.example (a.example [IPv6:2001:db8::5]) by b",
                Some("2001:db8::5"),
            ),
            ("from a ([10.0.0.1]) by b ([203.0.113.9])", None),
            ("from a ([100.64.1.1]) by b", None),
            ("from a ([fd00::1]) by b", None),
            ("from a ([fe80::1]) by b", None),
            ("by b.example ([203.0.113.9]) for <x@y>", None),
            ("FROM a [198.51.100.3] by b", Some("198.51.100.3")),
        ] {
            assert_eq!(
                connecting_ip(received).map(|a| a.to_string()).as_deref(),
                ip,
                "{received}"
            );
        }
    }

    #[test]
    fn missing_feedback_type_is_an_error() {
        let err = parse_feedback(b"User-Agent: x\r\n", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "feedback report: missing Feedback-Type field"
        );
    }
}
