//! Lenient readers for the scalar values of aggregate reports: enumerations compared
//! case-insensitively (with a warning when a reporter shouts), numbers that tolerate stray
//! decimals, and IP addresses checked but kept as written.

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

/// A non-negative integer; `1.0` and `+5` are accepted with a warning, garbage is 0 with one.
pub(crate) fn integer(text: Option<&str>, element: &str, warnings: &mut Warnings) -> Option<i64> {
    let text = text?;
    if text.is_empty() {
        return None;
    }
    if let Ok(n) = text.parse::<i64>() {
        return Some(n);
    }
    if let Ok(f) = text.parse::<f64>()
        && f.is_finite()
    {
        warnings.add(format!(
            "non-integer value in <{element}> ('{text}') truncated"
        ));
        return Some(f as i64);
    }
    warnings.add(format!("invalid number in <{element}> ('{text}') ignored"));
    None
}

/// An IP address kept as written (in a string from `pool`), warned about when it does not
/// parse.
pub(crate) fn ip_in(pool: &mut Pool, text: &str, warnings: &mut Warnings) -> String {
    if text.parse::<std::net::IpAddr>().is_err() {
        warnings.add(format!("invalid IP address in <source_ip> ('{text}') kept"));
    }
    text_in(pool, text)
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
