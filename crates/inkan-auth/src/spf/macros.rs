//! SPF macro-strings: parsing and expansion (RFC 7208 §7).
//!
//! A macro-string is parsed once, with its record, into literal runs and macro expressions;
//! expansion then writes into one output buffer with no per-macro allocation. Expansion is
//! bounded ([`MAX_EXPANSION`]) whatever the record and the identities hold.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use super::ParseError;

/// The longest expansion inkan produces, in bytes; longer results are an error.
pub const MAX_EXPANSION: usize = 8192;
/// The longest domain name queried (RFC 7208 §7.3): longer expansions lose labels on the left.
const MAX_DOMAIN: usize = 253;

/// A macro letter (RFC 7208 §7.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MacroLetter {
    /// `s`: the sender, `local-part@domain`.
    Sender,
    /// `l`: the sender's local-part.
    LocalPart,
    /// `o`: the sender's domain.
    SenderDomain,
    /// `d`: the current domain.
    Domain,
    /// `i`: the client IP, dotted (IPv6 as nibbles).
    Ip,
    /// `p`: the validated domain name of the client IP ("do not use").
    ValidatedName,
    /// `v`: `in-addr` or `ip6`.
    IpVersion,
    /// `h`: the HELO/EHLO domain.
    Helo,
    /// `c`: the client IP in readable form (explanations only).
    ClientIp,
    /// `r`: the receiving host (explanations only).
    Receiver,
    /// `t`: the current time in seconds since the epoch (explanations only).
    Timestamp,
}

impl MacroLetter {
    fn from_byte(b: u8) -> Option<(MacroLetter, bool)> {
        let letter = match b.to_ascii_lowercase() {
            b's' => MacroLetter::Sender,
            b'l' => MacroLetter::LocalPart,
            b'o' => MacroLetter::SenderDomain,
            b'd' => MacroLetter::Domain,
            b'i' => MacroLetter::Ip,
            b'p' => MacroLetter::ValidatedName,
            b'v' => MacroLetter::IpVersion,
            b'h' => MacroLetter::Helo,
            b'c' => MacroLetter::ClientIp,
            b'r' => MacroLetter::Receiver,
            b't' => MacroLetter::Timestamp,
            _ => return None,
        };
        Some((letter, b.is_ascii_uppercase()))
    }

    /// The letter as written (lower case).
    pub fn as_char(self) -> char {
        match self {
            MacroLetter::Sender => 's',
            MacroLetter::LocalPart => 'l',
            MacroLetter::SenderDomain => 'o',
            MacroLetter::Domain => 'd',
            MacroLetter::Ip => 'i',
            MacroLetter::ValidatedName => 'p',
            MacroLetter::IpVersion => 'v',
            MacroLetter::Helo => 'h',
            MacroLetter::ClientIp => 'c',
            MacroLetter::Receiver => 'r',
            MacroLetter::Timestamp => 't',
        }
    }

    /// True for `c`, `r` and `t`, which only explanation text may use (RFC 7208 §7.2).
    pub fn exp_only(self) -> bool {
        matches!(
            self,
            MacroLetter::ClientIp | MacroLetter::Receiver | MacroLetter::Timestamp
        )
    }
}

/// One `%{...}` expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacroExpr {
    /// The letter.
    pub letter: MacroLetter,
    /// Upper-case letter: URL-escape the value (RFC 7208 §7.3).
    pub url_escape: bool,
    /// Keep this many right-hand parts (0 = all).
    pub keep: u8,
    /// Reverse the parts first (`r` transformer).
    pub reverse: bool,
    /// The delimiters as a bit set over `.-+,/_=`; 0 means `.`.
    pub delimiters: u8,
}

const DELIMITERS: &[u8; 7] = b".-+,/_=";

impl MacroExpr {
    fn is_delimiter(&self, b: u8) -> bool {
        if self.delimiters == 0 {
            return b == b'.';
        }
        DELIMITERS
            .iter()
            .position(|&d| d == b)
            .is_some_and(|i| self.delimiters & (1 << i) != 0)
    }
}

impl fmt::Display for MacroExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.letter.as_char();
        f.write_str("%{")?;
        f.write_char(if self.url_escape {
            c.to_ascii_uppercase()
        } else {
            c
        })?;
        if self.keep > 0 {
            write!(f, "{}", self.keep)?;
        }
        if self.reverse {
            f.write_char('r')?;
        }
        for (i, d) in DELIMITERS.iter().enumerate() {
            if self.delimiters & (1 << i) != 0 {
                f.write_char(*d as char)?;
            }
        }
        f.write_char('}')
    }
}

/// A piece of a macro-string.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MacroPart {
    /// Literal text, with `%%`, `%_` and `%-` already turned into `%`, space and `%20`.
    Literal(Box<str>),
    /// A macro expression.
    Macro(MacroExpr),
}

/// A parsed macro-string (RFC 7208 §7.1): a domain-spec or explanation text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MacroString {
    parts: Box<[MacroPart]>,
    text: Box<str>,
}

/// What a macro expands to, for one evaluation (RFC 7208 §7.2).
#[derive(Clone, Copy, Debug)]
pub struct MacroContext<'a> {
    /// `s`.
    pub sender: &'a str,
    /// `l`.
    pub local_part: &'a str,
    /// `o`.
    pub sender_domain: &'a str,
    /// `d`.
    pub domain: &'a str,
    /// `i`, `c`, `v`.
    pub ip: IpAddr,
    /// `h`.
    pub helo: &'a str,
    /// `r`.
    pub receiver: &'a str,
    /// `t`.
    pub now: u64,
    /// `p`: the validated name, when the caller resolved one (else `unknown`).
    pub validated_name: Option<&'a str>,
}

/// Why an expansion failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandError {
    /// The result would exceed [`MAX_EXPANSION`] bytes.
    #[error("macro expansion longer than {MAX_EXPANSION} bytes")]
    TooLong,
}

impl ExpandError {
    /// Always false: a runaway expansion is a property of the record.
    pub fn is_temporary(&self) -> bool {
        match self {
            ExpandError::TooLong => false,
        }
    }
}

impl MacroString {
    /// Parses a domain-spec (RFC 7208 §7.1): a macro-string without spaces or the
    /// explanation-only letters that ends in a macro or in `.toplabel[.]`.
    pub fn parse_domain_spec(text: &str) -> Result<MacroString, ParseError> {
        let (ms, ends_in_macro) = Self::parse_impl(text, false)?;
        let invalid = |why| {
            Err(ParseError::InvalidDomainSpec {
                spec: text.to_owned(),
                why,
            })
        };
        if text.is_empty() {
            return invalid("empty");
        }
        // A domain-spec may end in any macro-expand, including %%, %_ and %-.
        if ends_in_macro {
            return Ok(ms);
        }
        let tail = match ms.parts.last() {
            Some(MacroPart::Literal(l)) => &**l,
            _ => return invalid("does not end in a macro or a top label"),
        };
        let tail = tail.strip_suffix('.').unwrap_or(tail);
        let Some((_, top)) = tail.rsplit_once('.') else {
            return invalid("does not end in '.' and a top label");
        };
        if !is_toplabel(top) {
            return invalid("the top label is not a valid domain label with a letter");
        }
        Ok(ms)
    }

    /// Parses a macro-string. With `explanation`, spaces and the `c`, `r`, `t` letters are
    /// allowed (explain-string, RFC 7208 §6.2).
    pub fn parse(text: &str, explanation: bool) -> Result<MacroString, ParseError> {
        Self::parse_impl(text, explanation).map(|(ms, _)| ms)
    }

    /// Parses, and tells whether the text ends in a macro-expand (a macro or an escape).
    fn parse_impl(text: &str, explanation: bool) -> Result<(MacroString, bool), ParseError> {
        let mut ends_in_expand = false;
        let bytes = text.as_bytes();
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        let err = |offset, why| ParseError::InvalidMacro {
            text: text.to_owned(),
            offset,
            why,
        };
        while i < bytes.len() {
            let b = bytes[i];
            ends_in_expand = b == b'%';
            if b != b'%' {
                let ok = if explanation {
                    (0x20..=0x7e).contains(&b)
                } else {
                    (0x21..=0x7e).contains(&b)
                };
                if !ok {
                    return Err(err(i, "character not allowed in a macro-string"));
                }
                literal.push(b as char);
                i += 1;
                continue;
            }
            match bytes.get(i + 1) {
                Some(b'%') => {
                    literal.push('%');
                    i += 2;
                }
                Some(b'_') => {
                    literal.push(' ');
                    i += 2;
                }
                Some(b'-') => {
                    literal.push_str("%20");
                    i += 2;
                }
                Some(b'{') => {
                    let start = i;
                    i += 2;
                    let Some((letter, url_escape)) =
                        bytes.get(i).and_then(|&b| MacroLetter::from_byte(b))
                    else {
                        return Err(err(start, "unknown macro letter"));
                    };
                    if letter.exp_only() && !explanation {
                        return Err(err(
                            start,
                            "macro letters c, r and t are for explanations only",
                        ));
                    }
                    i += 1;
                    let mut keep: u32 = 0;
                    let mut has_digits = false;
                    while let Some(d) = bytes.get(i).filter(|b| b.is_ascii_digit()) {
                        keep = (keep * 10 + u32::from(d - b'0')).min(1000);
                        has_digits = true;
                        i += 1;
                    }
                    if has_digits && keep == 0 {
                        return Err(err(start, "the number of labels to keep must not be zero"));
                    }
                    let reverse = matches!(bytes.get(i), Some(b'r' | b'R'));
                    if reverse {
                        i += 1;
                    }
                    let mut delimiters = 0u8;
                    while let Some(pos) = bytes
                        .get(i)
                        .and_then(|b| DELIMITERS.iter().position(|d| d == b))
                    {
                        delimiters |= 1 << pos;
                        i += 1;
                    }
                    if bytes.get(i) != Some(&b'}') {
                        return Err(err(start, "macro is not closed by '}'"));
                    }
                    i += 1;
                    if !literal.is_empty() {
                        parts.push(MacroPart::Literal(
                            std::mem::take(&mut literal).into_boxed_str(),
                        ));
                    }
                    parts.push(MacroPart::Macro(MacroExpr {
                        letter,
                        url_escape,
                        keep: u8::try_from(keep).unwrap_or(u8::MAX),
                        reverse,
                        delimiters,
                    }));
                }
                _ => return Err(err(i, "'%' must be followed by '{', '%', '_' or '-'")),
            }
        }
        if !literal.is_empty() {
            parts.push(MacroPart::Literal(literal.into_boxed_str()));
        }
        Ok((
            MacroString {
                parts: parts.into_boxed_slice(),
                text: text.into(),
            },
            ends_in_expand,
        ))
    }

    /// The text as published.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parts.
    pub fn parts(&self) -> &[MacroPart] {
        &self.parts
    }

    /// True when the string holds a `%{...}` expression.
    pub fn has_macros(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, MacroPart::Macro(_)))
    }

    /// True when the string uses `%{p}`, which needs a PTR lookup before expansion.
    pub fn uses_validated_name(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, MacroPart::Macro(m) if m.letter == MacroLetter::ValidatedName))
    }

    /// The text when the string holds no macro at all (escapes already resolved).
    pub fn as_literal(&self) -> Option<&str> {
        match &*self.parts {
            [] => Some(""),
            [MacroPart::Literal(l)] => Some(l),
            _ => None,
        }
    }

    /// Appends the expansion to `out` (RFC 7208 §7.3).
    pub fn expand_into(&self, ctx: &MacroContext<'_>, out: &mut String) -> Result<(), ExpandError> {
        let start = out.len();
        for part in self.parts.iter() {
            match part {
                MacroPart::Literal(l) => out.push_str(l),
                MacroPart::Macro(m) => expand_one(m, ctx, out),
            }
            if out.len() - start > MAX_EXPANSION {
                out.truncate(start);
                return Err(ExpandError::TooLong);
            }
        }
        Ok(())
    }

    /// Expands a domain-spec into a name to query: the expansion without a trailing dot,
    /// with labels removed on the left until it fits in 253 bytes (RFC 7208 §7.3).
    pub fn expand_domain(
        &self,
        ctx: &MacroContext<'_>,
        out: &mut String,
    ) -> Result<(), ExpandError> {
        out.clear();
        self.expand_into(ctx, out)?;
        if out.ends_with('.') {
            out.pop();
        }
        if out.len() > MAX_DOMAIN {
            let mut cut = out.len() - MAX_DOMAIN;
            // Drop whole labels: the cut lands just after a dot (searched as bytes: the text
            // may hold non-ASCII from the identities, and a dot is always a char boundary).
            match out.as_bytes()[cut..]
                .iter()
                .position(|&b| b == b'.')
                .map(|p| p + cut)
            {
                Some(dot) if out.as_bytes()[cut - 1] != b'.' => cut = dot + 1,
                Some(_) => {}
                None => cut = out.len(),
            }
            out.drain(..cut);
        }
        Ok(())
    }
}

impl fmt::Display for MacroString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`.
fn is_toplabel(label: &str) -> bool {
    let b = label.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return false;
    }
    if !b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-') {
        return false;
    }
    b.contains(&b'-') || b.iter().any(u8::is_ascii_alphabetic)
}

/// A fixed buffer for the few values that must be formatted (addresses, the time).
struct StackBuf {
    buf: [u8; 72],
    len: usize,
}

impl StackBuf {
    fn new() -> Self {
        StackBuf {
            buf: [0; 72],
            len: 0,
        }
    }
    fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn expand_one(m: &MacroExpr, ctx: &MacroContext<'_>, out: &mut String) {
    let mut scratch = StackBuf::new();
    let value: &str = match m.letter {
        MacroLetter::Sender => ctx.sender,
        MacroLetter::LocalPart => ctx.local_part,
        MacroLetter::SenderDomain => ctx.sender_domain,
        MacroLetter::Domain => ctx.domain,
        MacroLetter::Helo => ctx.helo,
        MacroLetter::ValidatedName => ctx.validated_name.unwrap_or("unknown"),
        MacroLetter::Receiver => {
            if ctx.receiver.is_empty() {
                "unknown"
            } else {
                ctx.receiver
            }
        }
        MacroLetter::IpVersion => match ctx.ip {
            IpAddr::V4(_) => "in-addr",
            IpAddr::V6(_) => "ip6",
        },
        MacroLetter::Ip => {
            match ctx.ip {
                IpAddr::V4(v4) => {
                    let _ = write!(scratch, "{v4}");
                }
                IpAddr::V6(v6) => {
                    for (i, byte) in v6.octets().iter().enumerate() {
                        if i > 0 {
                            let _ = scratch.write_char('.');
                        }
                        let _ = scratch.write_char(HEX[usize::from(byte >> 4)] as char);
                        let _ = scratch.write_char('.');
                        let _ = scratch.write_char(HEX[usize::from(byte & 0xf)] as char);
                    }
                }
            }
            scratch.as_str()
        }
        MacroLetter::ClientIp => {
            let _ = write!(scratch, "{}", ctx.ip);
            scratch.as_str()
        }
        MacroLetter::Timestamp => {
            let _ = write!(scratch, "{}", ctx.now);
            scratch.as_str()
        }
    };
    let plain = m.keep == 0 && !m.reverse && m.delimiters == 0;
    if plain {
        push_value(out, value, m.url_escape);
        return;
    }
    let parts = value.split(|c: char| c.is_ascii() && m.is_delimiter(c as u8));
    let total = parts.clone().count();
    let keep = if m.keep == 0 {
        total
    } else {
        usize::from(m.keep).min(total)
    };
    let mut first = true;
    let mut emit = |p: &str, out: &mut String| {
        if !first {
            out.push('.');
        }
        first = false;
        push_value(out, p, m.url_escape);
    };
    if m.reverse {
        // Reversed, the rightmost `keep` parts are the first `keep` parts of the original, last
        // first.
        let end = parts.take(keep).last().map_or(0, |p| {
            p.as_ptr() as usize - value.as_ptr() as usize + p.len()
        });
        for p in value[..end].rsplit(|c: char| c.is_ascii() && m.is_delimiter(c as u8)) {
            emit(p, out);
        }
    } else {
        for p in parts.skip(total - keep) {
            emit(p, out);
        }
    }
}

fn push_value(out: &mut String, value: &str, url_escape: bool) {
    if !url_escape {
        out.push_str(value);
        return;
    }
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)].to_ascii_uppercase() as char);
            out.push(HEX[usize::from(b & 0xf)].to_ascii_uppercase() as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> MacroContext<'static> {
        MacroContext {
            sender: "strong-bad@email.example.com",
            local_part: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: "192.0.2.3".parse().unwrap(),
            helo: "mx.example.org",
            receiver: "",
            now: 1_700_000_000,
            validated_name: None,
        }
    }

    fn expand(s: &str, ctx: &MacroContext<'_>) -> String {
        let mut out = String::new();
        MacroString::parse(s, true)
            .unwrap()
            .expand_into(ctx, &mut out)
            .unwrap();
        out
    }

    /// RFC 7208 §7.4 examples.
    #[test]
    fn rfc7208_section_7_4_examples() {
        let c = ctx();
        assert_eq!(expand("%{s}", &c), "strong-bad@email.example.com");
        assert_eq!(expand("%{o}", &c), "email.example.com");
        assert_eq!(expand("%{d}", &c), "email.example.com");
        assert_eq!(expand("%{d4}", &c), "email.example.com");
        assert_eq!(expand("%{d3}", &c), "email.example.com");
        assert_eq!(expand("%{d2}", &c), "example.com");
        assert_eq!(expand("%{d1}", &c), "com");
        assert_eq!(expand("%{dr}", &c), "com.example.email");
        assert_eq!(expand("%{d2r}", &c), "example.email");
        assert_eq!(expand("%{l}", &c), "strong-bad");
        assert_eq!(expand("%{l-}", &c), "strong.bad");
        assert_eq!(expand("%{lr}", &c), "strong-bad");
        assert_eq!(expand("%{lr-}", &c), "bad.strong");
        assert_eq!(expand("%{l1r-}", &c), "strong");
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", &c),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp._spf.%{d2}", &c),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", &c),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", &c),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{d2}.trusted-domains.example.net", &c),
            "example.com.trusted-domains.example.net"
        );
        let v6 = MacroContext {
            ip: "2001:db8::cb01".parse().unwrap(),
            ..c
        };
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", &v6),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
        );
    }

    #[test]
    fn escapes_and_url_encoding() {
        let c = ctx();
        assert_eq!(expand("a%%b%_c%-d", &c), "a%b c%20d");
        assert_eq!(expand("%{S}", &c), "strong-bad%40email.example.com");
        assert_eq!(expand("%{c} %{t} %{r}", &c), "192.0.2.3 1700000000 unknown");
    }

    #[test]
    fn bad_macros_are_errors_naming_the_offset() {
        for bad in ["%{x}", "%{d", "%(d)", "%", "%a", "%{d0}", "%{d2q}"] {
            assert!(MacroString::parse(bad, true).is_err(), "{bad}");
        }
        assert!(MacroString::parse("%{c}", false).is_err());
        let err = MacroString::parse("ab%{x}", true).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid macro at offset 2 in 'ab%{x}': unknown macro letter"
        );
    }

    #[test]
    fn domain_spec_must_end_in_macro_or_toplabel() {
        for good in [
            "example.com",
            "example.com.",
            "%{d}",
            "a.%{d}",
            "foo.example-dash",
            "x.xn--zckzah",
            "%{d}%%",
        ] {
            assert!(MacroString::parse_domain_spec(good).is_ok(), "{good}");
        }
        for bad in [
            "museum",
            "museum.",
            "abc.123",
            "example.-com",
            "example.com:8080",
            "",
            "%{d}com",
        ] {
            assert!(MacroString::parse_domain_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_expansions_lose_labels_on_the_left() {
        let long = format!("{}.example.com", ["abcdefghij"; 30].join("."));
        let c = MacroContext {
            domain: &long,
            ..ctx()
        };
        let mut out = String::new();
        MacroString::parse_domain_spec("%{d}")
            .unwrap()
            .expand_domain(&c, &mut out)
            .unwrap();
        assert!(
            out.len() <= 253 && out.ends_with(".example.com") && !out.starts_with('.'),
            "{out}"
        );
    }

    #[test]
    fn long_non_ascii_expansion_is_cut_on_a_label_boundary() {
        let long = format!("{}.example.com", ["ééééééééé"; 20].join("."));
        let c = MacroContext {
            domain: &long,
            ..ctx()
        };
        let mut out = String::new();
        MacroString::parse_domain_spec("%{d}")
            .unwrap()
            .expand_domain(&c, &mut out)
            .unwrap();
        assert!(
            out.len() <= 253 && out.ends_with(".example.com") && out.starts_with('é'),
            "{out}"
        );
    }

    #[test]
    fn macro_explosion_is_bounded() {
        let big = "x".repeat(4000);
        let c = MacroContext {
            sender: &big,
            ..ctx()
        };
        let ms = MacroString::parse(&"%{s}".repeat(1000), false).unwrap();
        let mut out = String::new();
        assert_eq!(ms.expand_into(&c, &mut out), Err(ExpandError::TooLong));
        assert!(out.is_empty());
    }

    #[test]
    fn huge_digit_transformer_keeps_everything() {
        assert_eq!(expand("%{d99999999}", &ctx()), "email.example.com");
    }
}
