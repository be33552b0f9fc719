//! Reading an SPF record: record selection and the term grammar (RFC 7208 §4.5, §4.6, §5,
//! §6 and the ABNF of §12).
//!
//! A record is parsed whole before evaluation, so a syntax error anywhere gives `permerror`
//! (§4.6) and names the offending term.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Directive, MacroString, Mechanism, ParseError, Qualifier, SpfRecord, UnknownModifier};

/// The longest record inkan parses, in bytes. A TXT RRset can hold 64 KiB, but nothing close
/// to this fits the 10-lookup budget; longer text is refused before any work is done.
pub const MAX_RECORD_LEN: usize = 16 * 1024;

/// True when `bytes` is an SPF version 1 record: `v=spf1` (any case) followed by a space or
/// the end (RFC 7208 §4.5).
pub fn is_spf_record(bytes: impl IntoIterator<Item = u8>) -> bool {
    let mut it = bytes.into_iter();
    for expected in *b"v=spf1" {
        match it.next() {
            Some(b) if b.eq_ignore_ascii_case(&expected) => {}
            _ => return false,
        }
    }
    matches!(it.next(), None | Some(b' '))
}

/// Parses one SPF record (its TXT character-strings already joined).
pub fn parse_record(bytes: &[u8]) -> Result<SpfRecord, ParseError> {
    if !is_spf_record(bytes.iter().copied()) {
        return Err(ParseError::NotSpf);
    }
    if bytes.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong {
            len: bytes.len(),
            limit: MAX_RECORD_LEN,
        });
    }
    if let Some(offset) = bytes.iter().position(|b| !(0x20..=0x7e).contains(b)) {
        return Err(ParseError::NonAscii {
            byte: bytes[offset],
            offset,
        });
    }
    // Checked above: every byte is printable ASCII.
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::NotSpf)?;
    let mut record = SpfRecord {
        directives: Vec::new(),
        redirect: None,
        exp: None,
        unknown_modifiers: Vec::new(),
        text: text.into(),
    };
    for term in text[6..].split(' ').filter(|t| !t.is_empty()) {
        parse_term(term, &mut record)?;
    }
    Ok(record)
}

fn parse_term(term: &str, record: &mut SpfRecord) -> Result<(), ParseError> {
    if let Some((name, value)) = split_modifier(term) {
        if name.eq_ignore_ascii_case("redirect") {
            if record.redirect.is_some() {
                return Err(ParseError::DuplicateModifier { name: "redirect" });
            }
            record.redirect = Some(MacroString::parse_domain_spec(value)?);
        } else if name.eq_ignore_ascii_case("exp") {
            if record.exp.is_some() {
                return Err(ParseError::DuplicateModifier { name: "exp" });
            }
            record.exp = Some(MacroString::parse_domain_spec(value)?);
        } else {
            record.unknown_modifiers.push(UnknownModifier {
                name: name.into(),
                value: MacroString::parse(value, true)?,
            });
        }
        return Ok(());
    }
    record.directives.push(parse_directive(term)?);
    Ok(())
}

/// `name "=" value` when the term is a modifier: the name is ALPHA *(ALPHA / DIGIT / "-" /
/// "_" / ".") and is followed directly by `=` (RFC 7208 §4.6.1, §12).
fn split_modifier(term: &str) -> Option<(&str, &str)> {
    let bytes = term.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))?;
    (bytes[end] == b'=').then(|| (&term[..end], &term[end + 1..]))
}

fn parse_directive(term: &str) -> Result<Directive, ParseError> {
    let (qualifier, rest) = match term.as_bytes()[0] {
        b'+' => (Qualifier::Pass, &term[1..]),
        b'-' => (Qualifier::Fail, &term[1..]),
        b'~' => (Qualifier::SoftFail, &term[1..]),
        b'?' => (Qualifier::Neutral, &term[1..]),
        _ => (Qualifier::Pass, term),
    };
    let name_end = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, args) = rest.split_at(name_end);
    let invalid = |why| ParseError::InvalidTerm {
        term: term.to_owned(),
        why,
    };
    let lower = |s: &str| s.to_ascii_lowercase();
    let mechanism = match lower(name).as_str() {
        "all" => {
            if !args.is_empty() {
                return Err(invalid("'all' takes no argument"));
            }
            Mechanism::All
        }
        "include" => Mechanism::Include(required_domain(args, term)?),
        "exists" => Mechanism::Exists(required_domain(args, term)?),
        "ptr" => {
            let domain = match args.strip_prefix(':') {
                Some(spec) => Some(MacroString::parse_domain_spec(spec)?),
                None if args.is_empty() => None,
                None => return Err(invalid("'ptr' takes no prefix length")),
            };
            Mechanism::Ptr(domain)
        }
        "a" | "mx" => {
            let (spec, v4, v6) =
                split_dual_cidr(args).ok_or_else(|| invalid("invalid prefix length"))?;
            let domain = match spec.strip_prefix(':') {
                Some(spec) => Some(MacroString::parse_domain_spec(spec)?),
                None if spec.is_empty() => None,
                None => return Err(invalid("unexpected text after the mechanism name")),
            };
            let v4 = v4.unwrap_or(32);
            let v6 = v6.unwrap_or(128);
            if name.eq_ignore_ascii_case("a") {
                Mechanism::A { domain, v4, v6 }
            } else {
                Mechanism::Mx { domain, v4, v6 }
            }
        }
        "ip4" => {
            let net = args
                .strip_prefix(':')
                .ok_or_else(|| invalid("'ip4' needs ':' and a network"))?;
            let (addr, prefix) = match net.split_once('/') {
                Some((addr, len)) => (
                    addr,
                    parse_cidr(len, 32).ok_or_else(|| invalid("invalid prefix length"))?,
                ),
                None => (net, 32),
            };
            let addr: Ipv4Addr = addr.parse().map_err(|_| invalid("not an IPv4 address"))?;
            Mechanism::Ip4 { addr, prefix }
        }
        "ip6" => {
            let net = args
                .strip_prefix(':')
                .ok_or_else(|| invalid("'ip6' needs ':' and a network"))?;
            let (addr, prefix) = match net.split_once('/') {
                Some((addr, len)) => (
                    addr,
                    parse_cidr(len, 128).ok_or_else(|| invalid("invalid prefix length"))?,
                ),
                None => (net, 128),
            };
            let addr: Ipv6Addr = addr.parse().map_err(|_| invalid("not an IPv6 address"))?;
            Mechanism::Ip6 { addr, prefix }
        }
        _ => {
            return Err(ParseError::UnknownMechanism {
                term: term.to_owned(),
            });
        }
    };
    Ok(Directive {
        qualifier,
        mechanism,
        text: term.into(),
    })
}

fn required_domain(args: &str, term: &str) -> Result<MacroString, ParseError> {
    match args.strip_prefix(':') {
        Some(spec) => MacroString::parse_domain_spec(spec),
        None => Err(ParseError::InvalidTerm {
            term: term.to_owned(),
            why: "needs ':' and a domain",
        }),
    }
}

/// `"0" / %x31-39 0*2DIGIT` no larger than `max` (RFC 7208 §12, no leading zeros).
fn parse_cidr(digits: &str, max: u8) -> Option<u8> {
    let b = digits.as_bytes();
    if b.is_empty()
        || b.len() > 3
        || !b.iter().all(u8::is_ascii_digit)
        || (b.len() > 1 && b[0] == b'0')
    {
        return None;
    }
    digits.parse::<u8>().ok().filter(|&n| n <= max)
}

/// Splits `[":" domain-spec] [ "/" ip4-len ] [ "//" ip6-len ]`: the trailing prefix lengths
/// are taken off the end, so a domain-spec may itself hold `/`. `None` when a length that is
/// clearly meant as one is invalid.
fn split_dual_cidr(args: &str) -> Option<(&str, Option<u8>, Option<u8>)> {
    let mut rest = args;
    let mut v6 = None;
    if let Some(pos) = rest.rfind("//") {
        let digits = &rest[pos + 2..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            v6 = Some(parse_cidr(digits, 128)?);
            rest = &rest[..pos];
        } else if !rest.starts_with(':') {
            return None;
        }
    }
    let mut v4 = None;
    if let Some(pos) = rest.rfind('/') {
        let digits = &rest[pos + 1..];
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            v4 = Some(parse_cidr(digits, 32)?);
            rest = &rest[..pos];
        } else if !rest.starts_with(':') {
            return None;
        }
    }
    Some((rest, v4, v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SpfRecord, ParseError> {
        parse_record(s.as_bytes())
    }

    #[test]
    fn every_mechanism_and_modifier() {
        let r = parse(
            "v=spf1 +all -include:_spf.example.com ~a ?a:x.example.com/24//64 mx/30 mx:m.example.com//48 \
             ptr ptr:example.org ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{ir}.bl.example.com \
             redirect=other.example.com exp=exp.%{d} moo=cow",
        )
        .unwrap();
        assert_eq!(r.directives.len(), 11);
        assert_eq!(r.directives[0].qualifier, Qualifier::Pass);
        assert_eq!(r.directives[1].qualifier, Qualifier::Fail);
        assert!(matches!(
            r.directives[3].mechanism,
            Mechanism::A { v4: 24, v6: 64, .. }
        ));
        assert!(matches!(
            r.directives[4].mechanism,
            Mechanism::Mx {
                domain: None,
                v4: 30,
                v6: 128
            }
        ));
        assert!(matches!(
            r.directives[5].mechanism,
            Mechanism::Mx { v4: 32, v6: 48, .. }
        ));
        assert!(matches!(
            r.directives[8].mechanism,
            Mechanism::Ip4 { prefix: 24, .. }
        ));
        assert!(matches!(
            r.directives[9].mechanism,
            Mechanism::Ip6 { prefix: 32, .. }
        ));
        assert_eq!(r.redirect.as_ref().unwrap().as_str(), "other.example.com");
        assert_eq!(r.exp.as_ref().unwrap().as_str(), "exp.%{d}");
        assert_eq!(&*r.unknown_modifiers[0].name, "moo");
        assert_eq!(&*r.directives[2].text, "~a");
    }

    #[test]
    fn version_must_end_in_space_or_end() {
        assert!(parse("v=spf1").unwrap().directives.is_empty());
        assert!(parse("V=SpF1 -all").is_ok());
        assert_eq!(parse("v=spf10"), Err(ParseError::NotSpf));
        assert!(!is_spf_record(*b"v=spf1-all"));
    }

    #[test]
    fn syntax_errors_name_the_term() {
        let cases = [
            ("v=spf1 -all moo", "unknown mechanism in term 'moo'"),
            (
                "v=spf1 -all:foo",
                "invalid term '-all:foo': 'all' takes no argument",
            ),
            (
                "v=spf1 ip4:1.2.3.4/032",
                "invalid term 'ip4:1.2.3.4/032': invalid prefix length",
            ),
            ("v=spf1 a/33", "invalid term 'a/33': invalid prefix length"),
            (
                "v=spf1 a//129",
                "invalid term 'a//129': invalid prefix length",
            ),
            (
                "v=spf1 ip6::CAFE::BABE",
                "invalid term 'ip6::CAFE::BABE': not an IPv6 address",
            ),
            (
                "v=spf1 redirect=a.example redirect=b.example",
                "modifier 'redirect' appears more than once",
            ),
            (
                "v=spf1 a:museum",
                "invalid domain-spec 'museum': does not end in '.' and a top label",
            ),
            ("v=spf1 =all", "unknown mechanism in term '=all'"),
        ];
        for (record, message) in cases {
            assert_eq!(parse(record).unwrap_err().to_string(), message, "{record}");
        }
        assert!(matches!(
            parse("v=spf1 a:x.example\rptr"),
            Err(ParseError::NonAscii {
                byte: 0x0d,
                offset: 18
            })
        ));
    }

    #[test]
    fn domain_spec_may_hold_a_slash() {
        let r = parse("v=spf1 a:foo:bar/baz.example.com").unwrap();
        assert!(
            matches!(&r.directives[0].mechanism, Mechanism::A { domain: Some(d), v4: 32, .. } if d.as_str() == "foo:bar/baz.example.com")
        );
        let r = parse("v=spf1 a:foo.example.com/24").unwrap();
        assert!(matches!(
            &r.directives[0].mechanism,
            Mechanism::A { v4: 24, .. }
        ));
        assert!(parse("v=spf1 include:ip5.example.com/24").is_err());
        assert!(parse("v=spf1 a/24/64").is_err());
    }

    #[test]
    fn hostile_input_is_refused_quickly() {
        let many = format!("v=spf1{}", " a".repeat(10_000));
        assert!(matches!(parse(&many), Err(ParseError::TooLong { .. })));
        let mut binary = b"v=spf1 ".to_vec();
        binary.extend((0u8..=255).cycle().take(3000));
        assert!(matches!(
            parse_record(&binary),
            Err(ParseError::NonAscii { .. })
        ));
        let long_label = format!("v=spf1 a:{}.example.com", "x".repeat(255));
        assert!(
            parse(&long_label).is_ok(),
            "a long label is valid syntax; evaluation treats it as no match"
        );
    }
}
