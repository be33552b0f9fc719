//! Lenient readers for the scalar values of aggregate reports: enumerations compared
//! case-insensitively (with a warning when a reporter shouts), numbers that tolerate stray
//! decimals, and IP addresses checked but kept as written.

use crate::warnings::Warnings;

/// `text` lower-cased; a warning when it was not already.
pub(crate) fn token(text: &str, element: &str, warnings: &mut Warnings) -> String {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        warnings.add(format!(
            "upper-case value in <{element}> ('{text}') lower-cased"
        ));
        text.to_ascii_lowercase()
    } else {
        text.to_owned()
    }
}

/// An optional enumerated value: `None` for absent or empty.
pub(crate) fn opt_token(
    text: Option<&str>,
    element: &str,
    warnings: &mut Warnings,
) -> Option<String> {
    text.filter(|t| !t.is_empty())
        .map(|t| token(t, element, warnings))
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
    if let Ok(f) = text.parse::<f64>() {
        if f.is_finite() {
            warnings.add(format!(
                "non-integer value in <{element}> ('{text}') truncated"
            ));
            return Some(f as i64);
        }
    }
    warnings.add(format!("invalid number in <{element}> ('{text}') ignored"));
    None
}

/// An IP address kept as written, warned about when it does not parse.
pub(crate) fn ip(text: &str, warnings: &mut Warnings) -> String {
    if text.parse::<std::net::IpAddr>().is_err() {
        warnings.add(format!("invalid IP address in <source_ip> ('{text}') kept"));
    }
    text.to_owned()
}

/// A domain name lower-cased without a warning (case is not significant in DNS) and with a
/// trailing dot dropped.
pub(crate) fn domain(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty())
        .map(|t| t.trim_end_matches('.').to_ascii_lowercase())
}
