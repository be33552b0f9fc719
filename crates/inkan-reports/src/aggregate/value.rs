//! Lenient readers for the scalar values of aggregate reports: enumerations compared
//! case-insensitively (with a warning when a reporter shouts), numbers that tolerate stray
//! decimals, and IP addresses checked but kept as written.

use crate::limits::MAX_COUNT;
use crate::warnings::Warnings;

/// Emptied strings kept for reuse, so that values can be built without allocating; the
/// plain functions below use an empty one.
pub(crate) type Pool = Vec<String>;

/// `text` in a string from `pool`.
pub(crate) fn text_in(pool: &mut Pool, text: &str) -> String {
    let mut out = pool.pop().unwrap_or_default();
    out.push_str(text);
    out
}

/// `text` lower-cased; a warning when it was not already.
pub(crate) fn token(text: &str, element: &str, warnings: &mut Warnings) -> String {
    token_in(&mut Pool::new(), text, element, warnings)
}

/// [`token`] in a string from `pool`.
pub(crate) fn token_in(
    pool: &mut Pool,
    text: &str,
    element: &str,
    warnings: &mut Warnings,
) -> String {
    let mut out = text_in(pool, text);
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        warnings.add(format!(
            "upper-case value in <{element}> ('{text}') lower-cased"
        ));
        out.make_ascii_lowercase();
    }
    out
}

/// An optional enumerated value: `None` for absent or empty.
pub(crate) fn opt_token(
    text: Option<&str>,
    element: &str,
    warnings: &mut Warnings,
) -> Option<String> {
    opt_token_in(&mut Pool::new(), text, element, warnings)
}

/// [`opt_token`] in a string from `pool`.
pub(crate) fn opt_token_in(
    pool: &mut Pool,
    text: Option<&str>,
    element: &str,
    warnings: &mut Warnings,
) -> Option<String> {
    text.filter(|t| !t.is_empty())
        .map(|t| token_in(pool, t, element, warnings))
}

/// A non-negative integer. `+5` is accepted; `1.0` and other fractions are truncated with a
/// warning. A negative number, one too large for 64 bits and garbage are ignored with a
/// warning, so that they cannot throw totals off.
pub(crate) fn integer(text: Option<&str>, element: &str, warnings: &mut Warnings) -> Option<i64> {
    at_most(i64::MAX, text, element, warnings)
}

/// A message count: [`integer`] with [`MAX_COUNT`] as the largest value kept.
pub(crate) fn count(text: Option<&str>, element: &str, warnings: &mut Warnings) -> Option<i64> {
    at_most(MAX_COUNT, text, element, warnings)
}

/// [`integer`] up to `max`: a larger value is out of range, ignored with a warning.
fn at_most(max: i64, text: Option<&str>, element: &str, warnings: &mut Warnings) -> Option<i64> {
    let text = text?;
    if text.is_empty() {
        return None;
    }
    let out_of_range = |warnings: &mut Warnings| {
        warnings.add(format!(
            "value out of range in <{element}> ('{text}') ignored"
        ));
        None
    };
    if let Ok(n) = text.parse::<i64>() {
        if n < 0 {
            warnings.add(format!("negative value in <{element}> ('{text}') ignored"));
            return None;
        }
        return if n > max {
            out_of_range(warnings)
        } else {
            Some(n)
        };
    }
    let Ok(f) = text.parse::<f64>() else {
        warnings.add(format!("invalid number in <{element}> ('{text}') ignored"));
        return None;
    };
    // Below max + 1, which for i64::MAX is 2^63 (the f64 nearest it), which no i64 holds.
    if !(0.0..max as f64 + 1.0).contains(&f) {
        return out_of_range(warnings);
    }
    warnings.add(format!(
        "non-integer value in <{element}> ('{text}') truncated"
    ));
    Some(f as i64)
}

/// An IP address (in a string from `pool`), so that one source is one text whoever reported
/// it: an IPv4 address as written; an IPv6 one in its canonical form (RFC 5952: lower case,
/// zeros compressed), and as IPv4 when it is an IPv4-mapped address (`::ffff:192.0.2.1`).
/// An address literal as in a Received field (`[192.0.2.1]`, `[IPv6:2001:db8::1]`) is read
/// with a warning; anything else that does not parse is kept as written, with a warning.
pub(crate) fn ip_in(pool: &mut Pool, text: &str, warnings: &mut Warnings) -> String {
    use std::net::IpAddr;
    let canonical = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or_else(|| v6.to_string(), |v4| v4.to_string()),
        IpAddr::V4(v4) => v4.to_string(),
    };
    match text.parse::<IpAddr>() {
        // Rust reads IPv4 only in its one written form: nothing to change.
        Ok(IpAddr::V4(_)) => text_in(pool, text),
        Ok(ip) => text_in(pool, &canonical(ip)),
        Err(_) => match crate::feedback::ip_literal(text) {
            Some(ip) => {
                let read = canonical(ip);
                warnings.add(format!(
                    "address literal in <source_ip> ('{text}') read as {read}"
                ));
                text_in(pool, &read)
            }
            None => {
                warnings.add(format!("invalid IP address in <source_ip> ('{text}') kept"));
                text_in(pool, text)
            }
        },
    }
}

/// A domain name lower-cased without a warning (case is not significant in DNS) and with a
/// trailing dot dropped.
pub(crate) fn domain(text: Option<&str>) -> Option<String> {
    domain_in(&mut Pool::new(), text)
}

/// [`domain`] in a string from `pool`.
pub(crate) fn domain_in(pool: &mut Pool, text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(|t| {
        let mut out = text_in(pool, t.trim_end_matches('.'));
        out.make_ascii_lowercase();
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_ips_are_one_text_per_address() {
        let mut pool = Pool::new();
        let mut warnings = Warnings::default();
        for (written, read) in [
            ("192.0.2.10", "192.0.2.10"),
            ("2001:DB8::0:1", "2001:db8::1"),
            ("2001:db8:0:0:0:0:0:1", "2001:db8::1"),
            ("::ffff:192.0.2.10", "192.0.2.10"),
            ("[192.0.2.10]", "192.0.2.10"),
            ("[IPv6:2001:db8::1]", "2001:db8::1"),
            ("not-an-ip", "not-an-ip"),
        ] {
            assert_eq!(ip_in(&mut pool, written, &mut warnings), read, "{written}");
        }
        for said in [
            "address literal in <source_ip> ('[192.0.2.10]') read as 192.0.2.10",
            "invalid IP address in <source_ip> ('not-an-ip') kept",
        ] {
            assert!(warnings.contains(said), "{said}: {warnings:?}");
        }
        assert_eq!(warnings.iter().count(), 3, "{warnings:?}");
    }

    #[test]
    fn integers_out_of_range_negative_or_garbage_are_ignored_with_a_warning() {
        let mut warnings = Warnings::default();
        let mut read = |text: &str| integer(Some(text), "count", &mut warnings);
        assert_eq!(read("42"), Some(42));
        assert_eq!(read("+5"), Some(5));
        assert_eq!(read("7.9"), Some(7));
        assert_eq!(read("1e3"), Some(1000));
        assert_eq!(read("-5"), None);
        assert_eq!(read("-0.5"), None);
        assert_eq!(read("99999999999999999999"), None);
        assert_eq!(read("9223372036854775807"), Some(i64::MAX));
        assert_eq!(read("NaN"), None);
        assert_eq!(read("inf"), None);
        assert_eq!(read("many"), None);
        for needle in [
            "non-integer value in <count> ('7.9') truncated",
            "negative value in <count> ('-5') ignored",
            "value out of range in <count> ('-0.5') ignored",
            "value out of range in <count> ('99999999999999999999') ignored",
            "value out of range in <count> ('NaN') ignored",
            "value out of range in <count> ('inf') ignored",
            "invalid number in <count> ('many') ignored",
        ] {
            assert!(warnings.contains(needle), "{needle} not in {warnings:?}");
        }
        assert_eq!(
            count(Some("4294967295"), "count", &mut warnings),
            Some(4_294_967_295)
        );
        assert_eq!(count(Some("4294967296"), "count", &mut warnings), None);
        assert!(warnings.contains("value out of range in <count> ('4294967296') ignored"));
        let mut one = Warnings::default();
        assert_eq!(count(Some("5e9"), "count", &mut one), None);
        assert_eq!(
            one.iter().collect::<Vec<_>>(),
            [("value out of range in <count> ('5e9') ignored", 1)]
        );
        assert_eq!(integer(Some(""), "count", &mut warnings), None);
        assert_eq!(integer(None, "count", &mut warnings), None);
    }
}
