//! The bulk-sender message rules: what Gmail, Yahoo, Outlook.com and Apple ask of a message's
//! form and headers, checked on one message, each finding with a stable id, a severity, the
//! provider rules it comes from and the fix.
//!
//! Sources: RFC 5322 §2.1.1 (line length) and §3.6 (header field counts, Date, Message-ID,
//! From), RFC 2369 and RFC 8058 (List-Unsubscribe, one-click List-Unsubscribe-Post, covered by
//! a DKIM signature, §3 and §4), RFC 2919 (List-Id), Gmail's Feedback-ID format, and the
//! published sender requirements of Gmail and Yahoo (February 2024), Outlook.com (May 2025) and
//! Apple iCloud Mail. MIME bodies are read with `mail-parser`.

use mail_parser::{Address, MessageParser};
use serde::Serialize;

use crate::dmarc::DmarcResult;

/// The shared scale (see [`crate::Severity`]), re-exported where these findings live.
pub use crate::Severity;

/// Longest header line RFC 5322 §2.1.1 allows, without CRLF.
const MAX_LINE: usize = 998;

/// A mailbox provider whose published sender rules a finding comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Gmail (Google sender guidelines).
    Gmail,
    /// Yahoo Mail (Yahoo sender best practices).
    Yahoo,
    /// Outlook.com (requirements for high-volume senders).
    Outlook,
    /// Apple iCloud Mail.
    Apple,
}

/// Which senders a provider rule binds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every sender.
    All,
    /// Bulk senders only (Gmail: 5,000+ messages a day to its users).
    Bulk,
}

/// One provider rule a finding answers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ProviderRule {
    /// The provider.
    pub provider: Provider,
    /// All senders or bulk senders.
    pub scope: Scope,
}

/// One problem found in a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable identifier, for scripts and suppression lists.
    pub id: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// The provider rules behind it (empty when only a standard is behind it).
    pub providers: Vec<ProviderRule>,
    /// The standard behind it.
    pub source: &'static str,
    /// What is wrong, quoting the message.
    pub message: String,
    /// What to change.
    pub fix: String,
}

/// A DKIM signature as the rules need it: did it pass, and which header fields it covers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SignatureCoverage {
    /// The signature's `d=`.
    pub domain: String,
    /// True when the signature verified.
    pub passed: bool,
    /// The names in its `h=` tag.
    pub signed_headers: Vec<String>,
}

/// What the rules look at.
#[derive(Clone, Copy, Debug)]
pub struct RuleInput<'a> {
    /// The whole message as received.
    pub raw: &'a [u8],
    /// Every DKIM signature's outcome and coverage.
    pub signatures: &'a [SignatureCoverage],
    /// The DMARC result for the From domain, when evaluated.
    pub dmarc: Option<DmarcResult>,
    /// Whether the message is bulk mail; `None` guesses from its headers.
    pub bulk: Option<bool>,
}

/// The rules' verdict on one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RulesReport {
    /// Whether the message was judged as bulk mail.
    pub bulk: bool,
    /// The findings, in rule order.
    pub findings: Vec<Finding>,
}

use Provider::{Apple, Gmail, Outlook, Yahoo};

const fn rule(provider: Provider, scope: Scope) -> ProviderRule {
    ProviderRule { provider, scope }
}

/// Every provider asks all senders for RFC 5322 form.
const FORM_RULES: [ProviderRule; 4] = [
    rule(Gmail, Scope::All),
    rule(Yahoo, Scope::All),
    rule(Outlook, Scope::All),
    rule(Apple, Scope::All),
];

/// Free-mail domains and the provider that must have sent mail using them in From.
const PROVIDER_DOMAINS: [(&str, Provider); 6] = [
    ("gmail.com", Gmail),
    ("googlemail.com", Gmail),
    ("yahoo.com", Yahoo),
    ("outlook.com", Outlook),
    ("hotmail.com", Outlook),
    ("icloud.com", Apple),
];

/// Words that name an unsubscribe link, in the languages bulk mail is most often written in.
const UNSUBSCRIBE_WORDS: [&str; 12] = [
    "unsubscribe",
    "opt-out",
    "opt out",
    "optout",
    "abmelden",
    "désinscri",
    "desinscri",
    "désabonner",
    "darse de baja",
    "cancelar suscripción",
    "disiscriviti",
    "uitschrijven",
];

struct Collector {
    findings: Vec<Finding>,
}

impl Collector {
    fn add(
        &mut self,
        id: &'static str,
        severity: Severity,
        providers: &[ProviderRule],
        source: &'static str,
        message: String,
        fix: &str,
    ) {
        self.findings.push(Finding {
            id,
            severity,
            providers: providers.to_vec(),
            source,
            message,
            fix: fix.into(),
        });
    }
}

/// Checks one message against the rules.
pub fn check_message(input: &RuleInput<'_>) -> RulesReport {
    let mut out = Collector {
        findings: Vec::new(),
    };
    let Some(message) = MessageParser::default().parse(input.raw) else {
        out.add(
            "message-unparsable",
            Severity::Error,
            &FORM_RULES,
            "RFC 5322 §2.1",
            "the input is not an Internet message (no header fields found)".into(),
            "send a message with a header section, an empty line and a body",
        );
        return RulesReport {
            bulk: input.bulk.unwrap_or(false),
            findings: out.findings,
        };
    };
    let raw = message.raw_message();
    let headers = message.headers();
    let count = |name: &str| {
        headers
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .count()
    };
    let raw_values = |name: &str| -> Vec<String> {
        headers
            .iter()
            .filter(|h| h.name.as_str().eq_ignore_ascii_case(name))
            .map(|h| {
                let bytes = raw
                    .get(h.offset_start as usize..h.offset_end as usize)
                    .unwrap_or_default();
                unfold(&String::from_utf8_lossy(bytes))
            })
            .collect()
    };
    let has = |name: &str| count(name) > 0;

    // RFC 5322 §3.6: exactly one From, Date; at most one Message-ID, Subject, To, Cc, Reply-To.
    for (name, min, max) in [
        ("From", 1, 1),
        ("Date", 1, 1),
        ("Message-ID", 1, 1),
        ("Subject", 0, 1),
        ("To", 0, 1),
        ("Cc", 0, 1),
        ("Reply-To", 0, 1),
        ("Sender", 0, 1),
    ] {
        let n = count(name);
        if n < min {
            let (severity, fix) = if name == "Message-ID" {
                (
                    Severity::Error,
                    "add a Message-ID such as <unique-id@your-domain.example> (Gmail requires one)",
                )
            } else {
                (Severity::Error, "add the header field")
            };
            out.add(
                missing_id(name),
                severity,
                &FORM_RULES,
                "RFC 5322 §3.6",
                format!("no {name} header field"),
                fix,
            );
        } else if n > max {
            out.add(
                duplicate_id(name),
                Severity::Error,
                &FORM_RULES,
                "RFC 5322 §3.6",
                format!("{n} {name} header fields; at most {max} is allowed"),
                "keep only one",
            );
        }
    }

    // From holds exactly one mailbox.
    if count("From") == 1 {
        match message.from() {
            Some(Address::List(list))
                if list.len() == 1 && list[0].address().is_some_and(|a| a.contains('@')) => {}
            Some(Address::List(list)) if list.len() > 1 => out.add(
                "from-multiple-addresses",
                Severity::Error,
                &FORM_RULES,
                "RFC 5322 §3.6.2",
                format!(
                    "From holds {} addresses; DMARC needs exactly one author",
                    list.len()
                ),
                "put one address in From (add a Sender field if several authors are meant)",
            ),
            _ => out.add(
                "from-invalid",
                Severity::Error,
                &FORM_RULES,
                "RFC 5322 §3.6.2",
                format!(
                    "From '{}' is not one mailbox address",
                    raw_values("From").join("")
                ),
                "write From as \"Name <local@domain>\" or local@domain",
            ),
        }
    }

    if count("Date") == 1 && !matches!(message.date(), Some(d) if d.is_valid()) {
        out.add(
            "date-invalid",
            Severity::Error,
            &FORM_RULES,
            "RFC 5322 §3.3",
            format!(
                "Date '{}' is not an RFC 5322 date-time",
                raw_values("Date").join("")
            ),
            "write Date as e.g. \"Tue, 1 Jul 2025 10:00:00 +0000\"",
        );
    }

    if count("Message-ID") == 1 {
        let value = raw_values("Message-ID").join("");
        if !msg_id_is_valid(value.trim()) {
            out.add(
                "message-id-invalid",
                Severity::Error,
                &FORM_RULES,
                "RFC 5322 §3.6.4",
                format!("Message-ID '{}' is not <left@right>", value.trim()),
                "generate Message-ID as <unique-id@your-domain.example>",
            );
        }
    }

    // RFC 5322 §2.1.1: lines of the header section at most 998 characters.
    let header_end = find_header_end(raw);
    for (number, line) in raw[..header_end].split(|&b| b == b'\n').enumerate() {
        let len = line.strip_suffix(b"\r").unwrap_or(line).len();
        if len > MAX_LINE {
            out.add(
                "header-line-too-long",
                Severity::Error,
                &FORM_RULES,
                "RFC 5322 §2.1.1",
                format!(
                    "header line {} is {len} characters long, more than {MAX_LINE}",
                    number + 1
                ),
                "fold long header fields onto continuation lines",
            );
            break;
        }
    }

    // Bulk mail: the caller says so, or list headers and Feedback-ID suggest it.
    let precedence = raw_values("Precedence").join(" ").to_ascii_lowercase();
    let bulk = input.bulk.unwrap_or_else(|| {
        has("List-Unsubscribe")
            || has("List-Id")
            || has("Feedback-ID")
            || precedence.contains("bulk")
            || precedence.contains("list")
    });

    let provider_pairs = [
        rule(Gmail, Scope::Bulk),
        rule(Yahoo, Scope::Bulk),
        rule(Apple, Scope::Bulk),
    ];
    let unsubscribe = raw_values("List-Unsubscribe");
    let uris: Vec<String> = unsubscribe.iter().flat_map(|v| angle_uris(v)).collect();
    let https: Vec<&String> = uris
        .iter()
        .filter(|u| u.to_ascii_lowercase().starts_with("https://"))
        .collect();
    let mailto = uris
        .iter()
        .any(|u| u.to_ascii_lowercase().starts_with("mailto:"));
    let post = raw_values("List-Unsubscribe-Post");
    if bulk && unsubscribe.is_empty() {
        out.add(
            "list-unsubscribe-missing",
            Severity::Error,
            &[rule(Gmail, Scope::Bulk), rule(Yahoo, Scope::Bulk), rule(Outlook, Scope::Bulk), rule(Apple, Scope::Bulk)],
            "RFC 8058 §3",
            "bulk mail without a List-Unsubscribe header field".into(),
            "add List-Unsubscribe: <https://...> with List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        );
    }
    if !unsubscribe.is_empty() {
        if uris.is_empty() {
            out.add(
                "list-unsubscribe-invalid",
                Severity::Error,
                &provider_pairs,
                "RFC 2369 §2",
                format!("List-Unsubscribe '{}' holds no <URI>", unsubscribe.join(", ")),
                "write each URI in angle brackets: <https://example.com/u/123>, <mailto:u@example.com>",
            );
        } else if https.is_empty() {
            let message = if mailto {
                "List-Unsubscribe offers only mailto: Yahoo accepts it, Gmail asks bulk senders for one-click HTTPS".into()
            } else {
                format!("List-Unsubscribe has no https URI ({})", uris.join(", "))
            };
            out.add(
                "list-unsubscribe-no-https",
                if mailto {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                &[rule(Gmail, Scope::Bulk)],
                "RFC 8058 §3",
                message,
                "add an https URI that unsubscribes on a POST, with List-Unsubscribe-Post",
            );
        }
    }
    if !https.is_empty() || !post.is_empty() {
        match post.as_slice() {
            [] => out.add(
                "list-unsubscribe-post-missing",
                Severity::Error,
                &provider_pairs,
                "RFC 8058 §3.1",
                "an https List-Unsubscribe without List-Unsubscribe-Post: not one-click".into(),
                "add List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            ),
            [value] if value.trim() == "List-Unsubscribe=One-Click" => {}
            values => out.add(
                "list-unsubscribe-post-invalid",
                Severity::Error,
                &provider_pairs,
                "RFC 8058 §3.1",
                format!(
                    "List-Unsubscribe-Post is '{}', not exactly List-Unsubscribe=One-Click",
                    values.join("', '")
                ),
                "write exactly one List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            ),
        }
        if https.is_empty() && !post.is_empty() {
            out.add(
                "list-unsubscribe-post-without-https",
                Severity::Error,
                &provider_pairs,
                "RFC 8058 §3.1",
                "List-Unsubscribe-Post is present but List-Unsubscribe has no https URI to POST to"
                    .into(),
                "add an https URI to List-Unsubscribe",
            );
        }
        // RFC 8058 §4: a valid DKIM signature covers both fields.
        let passing: Vec<&SignatureCoverage> =
            input.signatures.iter().filter(|s| s.passed).collect();
        let covers = |field: &str| {
            passing.iter().any(|s| {
                s.signed_headers
                    .iter()
                    .any(|h| h.trim().eq_ignore_ascii_case(field))
            })
        };
        let mut uncovered: Vec<&str> = Vec::new();
        for field in ["List-Unsubscribe", "List-Unsubscribe-Post"] {
            if has(field) && !covers(field) {
                uncovered.push(field);
            }
        }
        if !uncovered.is_empty() {
            let message = if passing.is_empty() {
                format!(
                    "{} not covered: no DKIM signature passed",
                    uncovered.join(" and ")
                )
            } else {
                format!(
                    "{} not in h= of any passing DKIM signature",
                    uncovered.join(" and ")
                )
            };
            out.add(
                "list-unsubscribe-not-signed",
                Severity::Error,
                &provider_pairs,
                "RFC 8058 §4",
                message,
                "sign List-Unsubscribe and List-Unsubscribe-Post with DKIM (add both to h=)",
            );
        }
    }

    // A free-mail From domain must come through that provider.
    if let (Some(dmarc), Some(Address::List(list))) = (input.dmarc, message.from()) {
        let domain = list
            .first()
            .and_then(|a| a.address())
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.trim_end_matches('.').to_ascii_lowercase());
        if let Some(domain) = domain
            && let Some((_, provider)) = PROVIDER_DOMAINS.iter().find(|(d, _)| *d == domain)
            && dmarc != DmarcResult::Pass
        {
            out.add(
                "from-provider-domain-not-via-provider",
                Severity::Error,
                &[rule(*provider, Scope::All), rule(Gmail, Scope::All), rule(Yahoo, Scope::All)],
                "RFC 9989 §4.4",
                format!(
                    "From is at {domain} but the message did not pass DMARC for it (dmarc={}): it was not sent through {}",
                    dmarc.as_str(),
                    provider_name(*provider)
                ),
                "send from a domain you control, with SPF and DKIM aligned to it; keep the free-mail address in Reply-To if needed",
            );
        }
    }

    // RFC 2919: mailing-list mail carries List-Id.
    let list_mail = precedence.contains("list")
        || [
            "List-Post",
            "List-Help",
            "List-Subscribe",
            "List-Archive",
            "List-Owner",
            "Mailing-List",
        ]
        .iter()
        .any(|h| has(h));
    if list_mail && !has("List-Id") {
        out.add(
            "list-id-missing",
            Severity::Warning,
            &[rule(Gmail, Scope::Bulk)],
            "RFC 2919 §3",
            "mailing-list mail (list headers or Precedence: list) without List-Id".into(),
            "add List-Id: Description <list-name.your-domain.example>",
        );
    }

    // Gmail's Feedback-ID: up to four colon-separated identifiers, the last the SenderId.
    for value in raw_values("Feedback-ID") {
        let fields: Vec<&str> = value.trim().split(':').collect();
        let ok = (2..=4).contains(&fields.len())
            && fields.last().is_some_and(|f| !f.is_empty())
            && fields
                .iter()
                .all(|f| f.bytes().all(|b| b.is_ascii_graphic()));
        if !ok {
            out.add(
                "feedback-id-invalid",
                Severity::Warning,
                &[rule(Gmail, Scope::Bulk)],
                "Gmail Feedback-ID format",
                format!("Feedback-ID '{}' is not a:b:c:SenderId (two to four colon-separated identifiers, no spaces)", value.trim()),
                "write Feedback-ID: CampaignId:CustomerId:MailType:SenderId",
            );
        }
    }

    // Bulk mail shows a visible unsubscribe link in its body.
    if bulk && !has_visible_unsubscribe(&message, &https) {
        out.add(
            "body-unsubscribe-link-missing",
            Severity::Warning,
            &[
                rule(Gmail, Scope::Bulk),
                rule(Yahoo, Scope::Bulk),
                rule(Outlook, Scope::Bulk),
            ],
            "Gmail/Yahoo bulk sender requirements",
            "bulk mail whose body shows no unsubscribe link".into(),
            "put a clearly labelled unsubscribe link in the body (text and HTML parts)",
        );
    }

    RulesReport {
        bulk,
        findings: out.findings,
    }
}

fn provider_name(provider: Provider) -> &'static str {
    match provider {
        Gmail => "Gmail",
        Yahoo => "Yahoo",
        Outlook => "Outlook.com",
        Apple => "iCloud Mail",
    }
}

fn missing_id(name: &str) -> &'static str {
    match name {
        "From" => "from-missing",
        "Date" => "date-missing",
        _ => "message-id-missing",
    }
}

fn duplicate_id(name: &str) -> &'static str {
    match name {
        "From" => "from-duplicate",
        "Date" => "date-duplicate",
        "Message-ID" => "message-id-duplicate",
        "Subject" => "subject-duplicate",
        "To" => "to-duplicate",
        "Cc" => "cc-duplicate",
        "Reply-To" => "reply-to-duplicate",
        _ => "sender-duplicate",
    }
}

/// Removes folding (CRLF followed by white space) from a raw header value.
fn unfold(value: &str) -> String {
    value.replace("\r\n", "").replace('\n', "")
}

/// Offset just past the header section (the empty line), or the whole input.
fn find_header_end(raw: &[u8]) -> usize {
    let crlf = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 2);
    let lf = raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 1);
    match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => raw.len(),
    }
}

/// The `<...>` URIs of an RFC 2369 field.
fn angle_uris(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>') else {
            break;
        };
        let uri: String = rest[open + 1..open + close]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if !uri.is_empty() {
            out.push(uri);
        }
        rest = &rest[open + close + 1..];
    }
    out
}

/// RFC 5322 §3.6.4 msg-id: `<` id-left `@` id-right `>`, dot-atom-text or a no-fold literal.
fn msg_id_is_valid(value: &str) -> bool {
    let Some(inner) = value.strip_prefix('<').and_then(|v| v.strip_suffix('>')) else {
        return false;
    };
    let Some((left, right)) = inner.rsplit_once('@') else {
        return false;
    };
    let atext = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b);
    let dot_atom = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|part| !part.is_empty() && part.bytes().all(atext))
    };
    let literal = |s: &str| {
        s.strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .is_some_and(|s| {
                s.bytes()
                    .all(|b| b.is_ascii_graphic() && !b"[]\\".contains(&b))
            })
    };
    dot_atom(left) && (dot_atom(right) || literal(right))
}

fn has_visible_unsubscribe(message: &mail_parser::Message<'_>, https: &[&String]) -> bool {
    let mentions = |text: &str| {
        let lower = text.to_lowercase();
        UNSUBSCRIBE_WORDS.iter().any(|w| lower.contains(w))
            || https.iter().any(|u| text.contains(u.as_str()))
    };
    for i in 0..message.html_body_count() {
        if let Some(html) = message.body_html(i)
            && html_has_unsubscribe_link(&html, &mentions)
        {
            return true;
        }
    }
    for i in 0..message.text_body_count() {
        if let Some(text) = message.body_text(i)
            && text.lines().any(|line| {
                let lower = line.to_lowercase();
                mentions(line)
                    && (lower.contains("http://")
                        || lower.contains("https://")
                        || lower.contains("mailto:"))
            })
        {
            return true;
        }
    }
    false
}

/// True when an `<a ...>` element's href or text names unsubscription.
fn html_has_unsubscribe_link(html: &str, mentions: &impl Fn(&str) -> bool) -> bool {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<a").map(|p| p + from) {
        let end = lower[start..]
            .find("</a")
            .map_or(lower.len(), |p| p + start);
        if html.get(start..end).is_some_and(mentions) {
            return true;
        }
        from = start + 2;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "From: Shop <news@shop.example>\r\n\
        To: user@example.net\r\n\
        Subject: Sale\r\n\
        Date: Tue, 01 Jul 2025 10:00:00 +0000\r\n\
        Message-ID: <abc.123@shop.example>\r\n\
        List-Unsubscribe: <https://shop.example/u/123>, <mailto:u@shop.example>\r\n\
        List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
        List-Id: Shop news <news.shop.example>\r\n\
        Feedback-ID: c1:cust9:promo:shop\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: text/html; charset=utf-8\r\n\
        \r\n\
        <p>Hello</p><p><a href=\"https://shop.example/u/123\">Unsubscribe</a></p>\r\n";

    fn signed(headers: &[&str]) -> Vec<SignatureCoverage> {
        vec![SignatureCoverage {
            domain: "shop.example".into(),
            passed: true,
            signed_headers: headers.iter().map(|s| (*s).into()).collect(),
        }]
    }

    fn ids(
        raw: &str,
        sigs: &[SignatureCoverage],
        dmarc: Option<DmarcResult>,
        bulk: Option<bool>,
    ) -> Vec<&'static str> {
        let report = check_message(&RuleInput {
            raw: raw.as_bytes(),
            signatures: sigs,
            dmarc,
            bulk,
        });
        report.findings.iter().map(|f| f.id).collect()
    }

    #[test]
    fn a_good_bulk_message_has_no_findings() {
        let sigs = signed(&["from", "list-unsubscribe", "List-Unsubscribe-Post"]);
        let report = check_message(&RuleInput {
            raw: GOOD.as_bytes(),
            signatures: &sigs,
            dmarc: Some(DmarcResult::Pass),
            bulk: None,
        });
        assert!(report.bulk);
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
    }

    #[test]
    fn header_counts_follow_rfc5322() {
        let raw = "From: a@x.example\r\nFrom: b@x.example\r\nSubject: 1\r\nSubject: 2\r\nTo: a@b.example\r\nTo: c@d.example\r\n\
                   Cc: a@b.example\r\nCc: a@b.example\r\nReply-To: a@b.example\r\nReply-To: a@b.example\r\n\r\nbody\r\n";
        let got = ids(raw, &[], None, Some(false));
        for id in [
            "from-duplicate",
            "date-missing",
            "message-id-missing",
            "subject-duplicate",
            "to-duplicate",
            "cc-duplicate",
            "reply-to-duplicate",
        ] {
            assert!(got.contains(&id), "{id} missing from {got:?}");
        }
    }

    #[test]
    fn from_date_and_message_id_are_checked() {
        let raw = "From: a@x.example, b@x.example\r\nDate: yesterday\r\nMessage-ID: no-brackets@x\r\n\r\nbody\r\n";
        assert_eq!(
            ids(raw, &[], None, Some(false)),
            [
                "from-multiple-addresses",
                "date-invalid",
                "message-id-invalid"
            ]
        );
        let raw = "From: undisclosed\r\nDate: Tue, 01 Jul 2025 10:00:00 +0000\r\nMessage-ID: <a@[192.0.2.1]>\r\n\r\nbody\r\n";
        assert_eq!(ids(raw, &[], None, Some(false)), ["from-invalid"]);
        assert!(msg_id_is_valid("<a.b+c@d.example>"));
        for bad in ["<a@b", "<@b>", "<a@>", "<a b@c>", "<a..b@c>", "a@b"] {
            assert!(!msg_id_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn long_header_lines_are_found() {
        let raw = format!(
            "From: a@x.example\r\nX-Long: {}\r\n\r\nbody\r\n",
            "a".repeat(1000)
        );
        assert!(ids(&raw, &[], None, Some(false)).contains(&"header-line-too-long"));
        // Body lines are not header lines.
        let raw = format!("From: a@x.example\r\n\r\n{}\r\n", "a".repeat(1000));
        assert!(!ids(&raw, &[], None, Some(false)).contains(&"header-line-too-long"));
    }

    #[test]
    fn unsubscribe_rules() {
        let all = signed(&["list-unsubscribe", "list-unsubscribe-post"]);
        // mailto only: a Gmail warning, not an error.
        let raw = GOOD
            .replace(
                "<https://shop.example/u/123>, <mailto:u@shop.example>",
                "<mailto:u@shop.example>",
            )
            .replace("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "");
        let report = check_message(&RuleInput {
            raw: raw.as_bytes(),
            signatures: &all,
            dmarc: None,
            bulk: None,
        });
        let f = report
            .findings
            .iter()
            .find(|f| f.id == "list-unsubscribe-no-https")
            .unwrap();
        assert_eq!(f.severity, Severity::Warning);
        assert_eq!(f.providers, [rule(Gmail, Scope::Bulk)]);
        // No Post header.
        let raw = GOOD.replace("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "");
        assert!(ids(&raw, &all, None, None).contains(&"list-unsubscribe-post-missing"));
        // Wrong Post value.
        let raw = GOOD.replace("List-Unsubscribe=One-Click", "List-Unsubscribe=one-click");
        assert!(ids(&raw, &all, None, None).contains(&"list-unsubscribe-post-invalid"));
        // Missing entirely on bulk mail.
        let raw = GOOD
            .replace(
                "List-Unsubscribe: <https://shop.example/u/123>, <mailto:u@shop.example>\r\n",
                "",
            )
            .replace("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", "");
        assert!(ids(&raw, &all, None, Some(true)).contains(&"list-unsubscribe-missing"));
    }

    /// RFC 8058 §4: both fields covered by a passing signature; say which is not.
    #[test]
    fn unsubscribe_fields_must_be_signed() {
        let report = check_message(&RuleInput {
            raw: GOOD.as_bytes(),
            signatures: &signed(&["from", "list-unsubscribe"]),
            dmarc: None,
            bulk: None,
        });
        let f = report
            .findings
            .iter()
            .find(|f| f.id == "list-unsubscribe-not-signed")
            .unwrap();
        assert_eq!(
            f.message,
            "List-Unsubscribe-Post not in h= of any passing DKIM signature"
        );
        let mut failing = signed(&["list-unsubscribe", "list-unsubscribe-post"]);
        failing[0].passed = false;
        let report = check_message(&RuleInput {
            raw: GOOD.as_bytes(),
            signatures: &failing,
            dmarc: None,
            bulk: None,
        });
        let f = report
            .findings
            .iter()
            .find(|f| f.id == "list-unsubscribe-not-signed")
            .unwrap();
        assert!(
            f.message
                .contains("List-Unsubscribe and List-Unsubscribe-Post not covered"),
            "{}",
            f.message
        );
    }

    #[test]
    fn provider_domains_must_come_through_the_provider() {
        let raw = "From: someone@gmail.com\r\nDate: Tue, 01 Jul 2025 10:00:00 +0000\r\nMessage-ID: <a@b.example>\r\n\r\nhi\r\n";
        assert_eq!(
            ids(raw, &[], Some(DmarcResult::Fail), None),
            ["from-provider-domain-not-via-provider"]
        );
        assert!(ids(raw, &[], Some(DmarcResult::Pass), None).is_empty());
        let raw = raw.replace("gmail.com", "Hotmail.com");
        let report = check_message(&RuleInput {
            raw: raw.as_bytes(),
            signatures: &[],
            dmarc: Some(DmarcResult::None),
            bulk: None,
        });
        assert_eq!(report.findings[0].providers[0], rule(Outlook, Scope::All));
        assert!(report.findings[0].message.contains("Outlook.com"));
    }

    #[test]
    fn list_id_feedback_id_and_body_link() {
        let sigs = signed(&["list-unsubscribe", "list-unsubscribe-post"]);
        let raw = GOOD.replace(
            "List-Id: Shop news <news.shop.example>\r\n",
            "List-Post: <mailto:news@shop.example>\r\n",
        );
        assert_eq!(ids(&raw, &sigs, None, None), ["list-id-missing"]);
        let raw = GOOD.replace("c1:cust9:promo:shop", "just one id with spaces");
        assert_eq!(ids(&raw, &sigs, None, None), ["feedback-id-invalid"]);
        let raw = GOOD.replace(
            "<a href=\"https://shop.example/u/123\">Unsubscribe</a>",
            "<a href=\"https://shop.example/\">Shop</a>",
        );
        assert_eq!(
            ids(&raw, &sigs, None, None),
            ["body-unsubscribe-link-missing"]
        );
        // A plain-text part with the link counts.
        let raw = GOOD
            .replace(
                "Content-Type: text/html; charset=utf-8",
                "Content-Type: text/plain; charset=utf-8",
            )
            .replace(
                "<p>Hello</p><p><a href=\"https://shop.example/u/123\">Unsubscribe</a></p>",
                "Hello\r\nTo unsubscribe: https://shop.example/u/123",
            );
        assert!(ids(&raw, &sigs, None, None).is_empty());
    }

    #[test]
    fn garbage_never_panics() {
        for raw in [
            "",
            "\r\n\r\n",
            "no colon here",
            "From:\r\n",
            "From: <@>\r\n\r\n",
            "\u{0}\u{1}",
        ] {
            let report = check_message(&RuleInput {
                raw: raw.as_bytes(),
                signatures: &[],
                dmarc: Some(DmarcResult::Fail),
                bulk: None,
            });
            assert!(!report.findings.is_empty(), "{raw:?}");
        }
    }
}
