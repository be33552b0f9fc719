//! The Authentication-Results header field, RFC 8601: rendering the one a receiver adds, and
//! parsing ones found in a message (comments, quoted strings, versions and `none` included), so
//! a milter can read what upstream hosts concluded.
//!
//! Grammar followed: RFC 8601 §2.2 (`authres-header-field`, `resinfo`, `methodspec`,
//! `reasonspec`, `propspec`), with CFWS and quoted-string from RFC 5322 §3.2 and `value` /
//! token from RFC 2045 §5.1.

use serde::Serialize;

/// Longest header value parsed.
const MAX_LEN: usize = 64 * 1024;
/// Deepest comment nesting accepted.
const MAX_COMMENT_DEPTH: usize = 32;

/// One Authentication-Results header field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthResults {
    /// The host that did the checks (`authserv-id`).
    pub authserv_id: String,
    /// The header version after the authserv-id, when written (only `1` is defined).
    pub version: Option<u32>,
    /// One entry per method result; empty for `none`.
    pub results: Vec<MethodResult>,
}

/// One `method=result` with its reason and properties.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MethodResult {
    /// `spf`, `dkim`, `dmarc`, `arc`, ... (lower case).
    pub method: String,
    /// The method version, when written (`dkim/1`).
    pub method_version: Option<u32>,
    /// The result token (lower case).
    pub result: String,
    /// The comment right after the result, when there is one.
    pub comment: Option<String>,
    /// The `reason=` text.
    pub reason: Option<String>,
    /// `ptype.property=value` items, in order.
    pub properties: Vec<Property>,
}

/// A `ptype.property=value` item (`smtp.mailfrom=...`, `header.d=...`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Property {
    /// `smtp`, `header`, `body`, `policy` (lower case).
    pub ptype: String,
    /// `mailfrom`, `d`, `from`, ... (lower case).
    pub name: String,
    /// The value, unquoted.
    pub value: String,
}

/// Why a header value is not a valid Authentication-Results field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthResError {
    /// Something other than what the grammar allows.
    #[error("authentication-results: expected {expected} at offset {offset}, found '{found}'")]
    Syntax {
        /// What the grammar wanted.
        expected: &'static str,
        /// Byte offset into the unfolded value.
        offset: usize,
        /// What was there (a short excerpt).
        found: String,
    },
    /// A comment or quoted string is never closed.
    #[error("authentication-results: {what} opened at offset {offset} is never closed")]
    Unclosed {
        /// `comment` or `quoted string`.
        what: &'static str,
        /// Where it opened.
        offset: usize,
    },
    /// Comments nest deeper than inkan follows.
    #[error(
        "authentication-results: comments nested deeper than {MAX_COMMENT_DEPTH} at offset {offset}"
    )]
    TooDeep {
        /// Where the limit was passed.
        offset: usize,
    },
    /// The value is longer than inkan parses.
    #[error("authentication-results: value is {len} bytes long, more than {MAX_LEN}")]
    TooLong {
        /// Its length.
        len: usize,
    },
}

impl MethodResult {
    /// A result with no reason or properties yet.
    pub fn new(method: &str, result: &str) -> Self {
        MethodResult {
            method: method.to_ascii_lowercase(),
            method_version: None,
            result: result.to_ascii_lowercase(),
            comment: None,
            reason: None,
            properties: Vec::new(),
        }
    }

    /// Adds a comment after the result.
    pub fn with_comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Sets `reason=`.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Adds `ptype.name=value`.
    pub fn with_property(mut self, ptype: &str, name: &str, value: impl Into<String>) -> Self {
        self.properties.push(Property {
            ptype: ptype.into(),
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// The value of `ptype.name`, if present.
    pub fn property(&self, ptype: &str, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|p| p.ptype.eq_ignore_ascii_case(ptype) && p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    fn render(&self, out: &mut String) {
        out.push_str(&self.method);
        if let Some(v) = self.method_version {
            out.push_str(&format!("/{v}"));
        }
        out.push('=');
        out.push_str(&self.result);
        if let Some(comment) = &self.comment {
            out.push_str(" (");
            for c in comment.chars() {
                if matches!(c, '(' | ')' | '\\') {
                    out.push('\\');
                }
                out.push(if matches!(c, '\r' | '\n') { ' ' } else { c });
            }
            out.push(')');
        }
        if let Some(reason) = &self.reason {
            out.push_str(" reason=");
            out.push_str(&quote(reason));
        }
        for p in &self.properties {
            out.push_str(&format!(" {}.{}=", p.ptype, p.name));
            if p.value.bytes().all(is_pvalue_char) && !p.value.is_empty() {
                out.push_str(&p.value);
            } else {
                out.push_str(&quote(&p.value));
            }
        }
    }
}

impl AuthResults {
    /// A header for `authserv_id` with no results yet.
    pub fn new(authserv_id: &str) -> Self {
        AuthResults {
            authserv_id: authserv_id.into(),
            version: None,
            results: Vec::new(),
        }
    }

    /// The first result of `method`, if any.
    pub fn result(&self, method: &str) -> Option<&MethodResult> {
        self.results
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(method))
    }

    /// The field value, each result on its own line after `fold` (`"\r\n\t"` on the wire); an
    /// empty `fold` gives one line with `"; "` between results.
    pub fn render(&self, fold: &str) -> String {
        let mut out = if self.authserv_id.bytes().all(is_token_char) && !self.authserv_id.is_empty()
        {
            self.authserv_id.clone()
        } else {
            quote(&self.authserv_id)
        };
        if let Some(v) = self.version {
            out.push_str(&format!(" {v}"));
        }
        if self.results.is_empty() {
            out.push_str("; none");
            return out;
        }
        for r in &self.results {
            out.push(';');
            out.push_str(if fold.is_empty() { " " } else { fold });
            r.render(&mut out);
        }
        out
    }

    /// The whole header field: `Authentication-Results: ` and the value folded for the wire.
    pub fn to_header(&self) -> String {
        format!("Authentication-Results: {}", self.render("\r\n\t"))
    }

    /// Parses a field value (a leading `Authentication-Results:` name is accepted and skipped).
    pub fn parse(text: &str) -> Result<AuthResults, AuthResError> {
        if text.len() > MAX_LEN {
            return Err(AuthResError::TooLong { len: text.len() });
        }
        let mut value = text;
        if let Some((name, rest)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("authentication-results")
        {
            value = rest;
        }
        let mut p = Parser {
            s: value.as_bytes(),
            pos: 0,
            last_comment: None,
        };
        p.cfws()?;
        let authserv_id = p.value("an authserv-id")?;
        p.cfws()?;
        let version = if p.peek().is_some_and(|b| b.is_ascii_digit()) {
            Some(p.number("a version")?)
        } else {
            None
        };
        let mut out = AuthResults {
            authserv_id,
            version,
            results: Vec::new(),
        };
        let mut first = true;
        loop {
            p.cfws()?;
            match p.peek() {
                None => break,
                Some(b';') => p.pos += 1,
                Some(_) => return Err(p.expected("';'")),
            }
            p.cfws()?;
            if p.peek().is_none() {
                break;
            }
            let method = p.keyword("a method name")?.to_ascii_lowercase();
            p.cfws()?;
            if first && method == "none" && p.peek() != Some(b'=') && p.peek() != Some(b'/') {
                p.cfws()?;
                if p.peek().is_some() {
                    return Err(p.expected("the end after 'none'"));
                }
                break;
            }
            first = false;
            let mut result = MethodResult::new(&method, "");
            if p.peek() == Some(b'/') {
                p.pos += 1;
                p.cfws()?;
                result.method_version = Some(p.number("a method version")?);
                p.cfws()?;
            }
            if p.peek() != Some(b'=') {
                return Err(p.expected("'=' after the method"));
            }
            p.pos += 1;
            p.cfws()?;
            result.result = p.keyword("a result")?.to_ascii_lowercase();
            p.last_comment = None;
            p.cfws()?;
            result.comment = p.last_comment.take();
            loop {
                p.cfws()?;
                if matches!(p.peek(), None | Some(b';')) {
                    break;
                }
                let word = p.keyword("reason= or a property")?.to_ascii_lowercase();
                p.cfws()?;
                match p.peek() {
                    Some(b'=') if word == "reason" => {
                        p.pos += 1;
                        p.cfws()?;
                        result.reason = Some(p.value("a reason")?);
                    }
                    Some(b'.') => {
                        p.pos += 1;
                        p.cfws()?;
                        let name = p.keyword("a property name")?.to_ascii_lowercase();
                        p.cfws()?;
                        if p.peek() != Some(b'=') {
                            return Err(p.expected("'=' after the property"));
                        }
                        p.pos += 1;
                        p.cfws()?;
                        let value = p.pvalue()?;
                        result.properties.push(Property {
                            ptype: word,
                            name,
                            value,
                        });
                    }
                    _ => return Err(p.expected("'.' in ptype.property")),
                }
            }
            out.results.push(result);
        }
        Ok(out)
    }
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    last_comment: Option<String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn expected(&self, expected: &'static str) -> AuthResError {
        let rest = &self.s[self.pos.min(self.s.len())..];
        let found = String::from_utf8_lossy(&rest[..rest.len().min(20)]).into_owned();
        AuthResError::Syntax {
            expected,
            offset: self.pos,
            found: if found.is_empty() {
                "end of value".into()
            } else {
                found
            },
        }
    }

    /// Skips folding white space and comments; keeps the first comment's text.
    fn cfws(&mut self) -> Result<(), AuthResError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'(') => {
                    let text = self.comment()?;
                    self.last_comment.get_or_insert(text);
                }
                _ => return Ok(()),
            }
        }
    }

    fn comment(&mut self) -> Result<String, AuthResError> {
        let open = self.pos;
        let mut depth = 0usize;
        let mut text = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'(' => {
                    depth += 1;
                    if depth > MAX_COMMENT_DEPTH {
                        return Err(AuthResError::TooDeep {
                            offset: self.pos - 1,
                        });
                    }
                    if depth > 1 {
                        text.push(b);
                    }
                }
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(String::from_utf8_lossy(&text).trim().to_owned());
                    }
                    text.push(b);
                }
                b'\\' => self.quoted_pair(&mut text),
                b'\r' | b'\n' => {}
                _ => text.push(b),
            }
        }
        Err(AuthResError::Unclosed {
            what: "comment",
            offset: open,
        })
    }

    fn quoted(&mut self) -> Result<String, AuthResError> {
        let open = self.pos;
        self.pos += 1;
        let mut text = Vec::new();
        while let Some(b) = self.peek() {
            self.pos += 1;
            match b {
                b'"' => return Ok(String::from_utf8_lossy(&text).into_owned()),
                b'\\' => self.quoted_pair(&mut text),
                b'\r' | b'\n' => {}
                _ => text.push(b),
            }
        }
        Err(AuthResError::Unclosed {
            what: "quoted string",
            offset: open,
        })
    }

    /// The character after a backslash in a comment or quoted string, taken as it is; a CR
    /// or LF there (obsolete syntax, RFC 5322 §4.1) is line folding, dropped as it is
    /// everywhere else, so that no line break ends up inside a value.
    fn quoted_pair(&mut self, text: &mut Vec<u8>) {
        if let Some(next) = self.peek() {
            if !matches!(next, b'\r' | b'\n') {
                text.push(next);
            }
            self.pos += 1;
        }
    }

    fn run(&mut self, accept: impl Fn(u8) -> bool) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(&accept) {
            self.pos += 1;
        }
        // Only ASCII bytes or whole UTF-8 sequences are accepted, so this never splits one.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or_default()
    }

    fn keyword(&mut self, what: &'static str) -> Result<String, AuthResError> {
        let word = self
            .run(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            .to_owned();
        if word.is_empty() {
            Err(self.expected(what))
        } else {
            Ok(word)
        }
    }

    fn number(&mut self, what: &'static str) -> Result<u32, AuthResError> {
        let at = self.pos;
        let digits = self.run(|b| b.is_ascii_digit()).to_owned();
        digits.parse().map_err(|_| {
            self.pos = at;
            self.expected(what)
        })
    }

    /// RFC 2045 `value`: a token or a quoted string.
    fn value(&mut self, what: &'static str) -> Result<String, AuthResError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let token = self.run(|b| is_token_char(b) || b >= 0x80).to_owned();
        if token.is_empty() {
            Err(self.expected(what))
        } else {
            Ok(token)
        }
    }

    /// RFC 8601 `pvalue`: a value, or an addr-spec / domain, read liberally up to white space,
    /// `;` or a comment.
    fn pvalue(&mut self) -> Result<String, AuthResError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let v = self
            .run(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"'))
            .to_owned();
        if v.is_empty() {
            Err(self.expected("a property value"))
        } else {
            Ok(v)
        }
    }
}

/// RFC 2045 token characters: printable ASCII except tspecials.
fn is_token_char(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// Characters that may stand unquoted in a property value: a token, or an addr-spec / domain.
fn is_pvalue_char(b: u8) -> bool {
    is_token_char(b) || b == b'@'
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            out.push('\\');
        }
        out.push(if matches!(c, '\r' | '\n') { ' ' } else { c });
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::xorshift;

    fn sample() -> AuthResults {
        let mut ar = AuthResults::new("mx.example.org");
        ar.results.push(
            MethodResult::new("spf", "pass")
                .with_comment("sender IP is 192.0.2.1")
                .with_property("smtp", "mailfrom", "bounce@mail.example.com"),
        );
        ar.results.push(
            MethodResult::new("dkim", "fail")
                .with_reason("signature did not verify")
                .with_property("header", "d", "example.com")
                .with_property("header", "s", "s1")
                .with_property("header", "b", "abc/+="),
        );
        ar.results.push(
            MethodResult::new("dmarc", "pass")
                .with_property("header", "from", "example.com")
                .with_property("policy", "dmarc", "reject"),
        );
        ar.results.push(MethodResult::new("arc", "none"));
        ar
    }

    #[test]
    fn renders_folded_and_on_one_line() {
        let ar = sample();
        assert_eq!(
            ar.render(""),
            "mx.example.org; spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=bounce@mail.example.com; \
             dkim=fail reason=\"signature did not verify\" header.d=example.com header.s=s1 header.b=\"abc/+=\"; \
             dmarc=pass header.from=example.com policy.dmarc=reject; arc=none"
        );
        assert!(
            ar.to_header()
                .starts_with("Authentication-Results: mx.example.org;\r\n\tspf=pass")
        );
        assert_eq!(AuthResults::new("mx").render(""), "mx; none");
    }

    #[test]
    fn round_trips() {
        let ar = sample();
        assert_eq!(AuthResults::parse(&ar.to_header()).unwrap(), ar);
        assert_eq!(AuthResults::parse(&ar.render("")).unwrap(), ar);
        let odd = AuthResults {
            authserv_id: "odd host".into(),
            version: Some(1),
            results: vec![
                MethodResult::new("x-test", "pass")
                    .with_comment("a (nested) \\ comment")
                    .with_property("header", "i", "\"q\" @ x"),
            ],
        };
        assert_eq!(AuthResults::parse(&odd.render("\r\n ")).unwrap(), odd);
        // A backslash before a line break (found by the fuzz target): the break is folding,
        // dropped, not a character of the value that rendering would turn into a space.
        for (text, id, comment) in [
            ("\"\r\u{5}\\\r\r\"", "\u{5}", None),
            ("\"a\\\r\nb\"; x=pass (c\\\nd)", "ab", Some("cd")),
        ] {
            let ar = AuthResults::parse(text).unwrap();
            assert_eq!(ar.authserv_id, id, "{text:?}");
            assert_eq!(
                ar.results.first().and_then(|r| r.comment.as_deref()),
                comment
            );
            for fold in ["", "\r\n\t"] {
                assert_eq!(
                    AuthResults::parse(&ar.render(fold)).unwrap(),
                    ar,
                    "{text:?}"
                );
            }
        }
    }

    /// RFC 8601 Appendix B examples.
    #[test]
    fn parses_rfc8601_examples() {
        let ar = AuthResults::parse("example.org 1; none").unwrap();
        assert_eq!(
            (ar.authserv_id.as_str(), ar.version, ar.results.len()),
            ("example.org", Some(1), 0)
        );

        let ar =
            AuthResults::parse("example.com;\r\n  spf=pass smtp.mailfrom=example.net").unwrap();
        assert_eq!(
            ar.result("spf").unwrap().property("smtp", "mailfrom"),
            Some("example.net")
        );

        let ar = AuthResults::parse(
            "example.com;\r\n auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n spf=pass smtp.mailfrom=example.net",
        )
        .unwrap();
        assert_eq!(ar.results[0].comment.as_deref(), Some("cram-md5"));
        assert_eq!(ar.results[1].method, "spf");

        let ar = AuthResults::parse(
            "example.com; sender-id=fail header.from=example.com;\r\n dkim=pass (good signature) header.d=example.com",
        )
        .unwrap();
        assert_eq!(ar.results[1].property("header", "d"), Some("example.com"));

        let ar = AuthResults::parse(
            "mail-router.example.net;\r\n dkim=pass (good signature) header.d=newyork.example.com\r\n header.b=oINEO8hg;\r\n \
             dkim=fail (bad signature) header.d=newyork.example.com\r\n header.b=EToRSuvU",
        )
        .unwrap();
        assert_eq!(ar.results.len(), 2);
        assert_eq!(ar.results[1].property("header", "b"), Some("EToRSuvU"));
    }

    #[test]
    fn comments_quotes_versions_and_case() {
        let ar = AuthResults::parse(
            "Authentication-Results: (lead) \"mx.example.org\" (x) ; DKIM / 1 (c1) = Pass (why (nested)) reason = \"a \\\"b\\\"\" \
             Header . D = example.com (end) ; spf = none",
        )
        .unwrap();
        assert_eq!(ar.authserv_id, "mx.example.org");
        let dkim = &ar.results[0];
        assert_eq!(
            (
                dkim.method.as_str(),
                dkim.method_version,
                dkim.result.as_str()
            ),
            ("dkim", Some(1), "pass")
        );
        assert_eq!(dkim.comment.as_deref(), Some("why (nested)"));
        assert_eq!(dkim.reason.as_deref(), Some("a \"b\""));
        assert_eq!(dkim.property("header", "d"), Some("example.com"));
        assert_eq!(ar.results[1].result, "none");
        assert!(AuthResults::parse("mx; spf=pass;").is_ok());
    }

    #[test]
    fn errors_are_located() {
        let err = AuthResults::parse("mx; spf pass").unwrap_err();
        assert!(
            matches!(err, AuthResError::Syntax { offset: 8, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("'pass'"), "{err}");
        assert!(matches!(
            AuthResults::parse("mx; spf=pass (open"),
            Err(AuthResError::Unclosed {
                what: "comment",
                ..
            })
        ));
        assert!(matches!(
            AuthResults::parse("mx; spf=pass reason=\"x"),
            Err(AuthResError::Unclosed { .. })
        ));
        assert!(matches!(
            AuthResults::parse("mx; spf=pass smtp"),
            Err(AuthResError::Syntax { .. })
        ));
        assert!(matches!(
            AuthResults::parse("mx; none; spf=pass"),
            Err(AuthResError::Syntax { .. })
        ));
        assert!(matches!(
            AuthResults::parse(""),
            Err(AuthResError::Syntax { offset: 0, .. })
        ));
        let deep = format!("mx; spf=pass {}{}", "(".repeat(100), ")".repeat(100));
        assert!(matches!(
            AuthResults::parse(&deep),
            Err(AuthResError::TooDeep { .. })
        ));
        assert!(matches!(
            AuthResults::parse(&"a".repeat(70_000)),
            Err(AuthResError::TooLong { .. })
        ));
        for odd in [
            "\u{e9}; spf=\u{e9}",
            "mx; a=b c.\u{e9}=\u{e9}",
            ";;;;",
            "mx 99999999999; spf=pass",
            "\"\\",
        ] {
            let _ = AuthResults::parse(odd);
        }
    }

    /// A deterministic stand-in for the fuzz target: random strings over the grammar's
    /// characters never panic, and whatever parses round-trips.
    #[test]
    fn random_inputs_round_trip() {
        let alphabet: Vec<char> = "ab.=;/()\\\" \t\r\n@-1x\u{e9}".chars().collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut parsed = 0;
        for _ in 0..20_000 {
            let mut text = String::from("mx; ");
            xorshift(&mut state);
            for i in 0..(state % 40) {
                let pick = (state.rotate_left(i as u32 * 5) % alphabet.len() as u64) as usize;
                text.push(alphabet[pick]);
            }
            if let Ok(ar) = AuthResults::parse(&text) {
                parsed += 1;
                for fold in ["", "\r\n\t"] {
                    assert_eq!(
                        AuthResults::parse(&ar.render(fold)).as_ref(),
                        Ok(&ar),
                        "{text:?}"
                    );
                }
            }
        }
        assert!(parsed > 100, "only {parsed} inputs parsed");
    }
}
