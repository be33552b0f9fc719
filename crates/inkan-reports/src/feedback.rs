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
        for (name, value) in header_fields(original, &mut Warnings::default()) {
            match name.to_ascii_lowercase().as_str() {
                "dkim-signature" if out.dkim_domain.is_none() => out.dkim_domain = dkim_d(&value),
                "feedback-id" if out.feedback_id.is_none() => out.feedback_id = Some(value),
                "from" if out.original_from_domain.is_none() => {
                    out.original_from_domain = from_domain(&value)
                }
                _ => {}
            }
        }
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

/// An IP address as reporters write it: bare, or as an address literal in brackets
/// (`[192.0.2.1]`, `[IPv6:2001:db8::1]`), as in Received fields.
fn ip_literal(value: &str) -> Option<std::net::IpAddr> {
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

    #[test]
    fn missing_feedback_type_is_an_error() {
        let err = parse_feedback(b"User-Agent: x\r\n", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "feedback report: missing Feedback-Type field"
        );
    }
}
