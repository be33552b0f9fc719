//! The domain list of a fleet audit: one domain per line, `#` comments, or CSV
//! `domain,selectors` with DKIM selectors separated by `;` or spaces. Internationalized names are
//! converted to A-labels (UTS #46 / IDNA 2008).

/// One domain to audit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainInput {
    /// The domain in A-labels, lower case, without the trailing dot.
    pub domain: String,
    /// DKIM selectors named for this domain (empty: use the global ones or discovery).
    pub selectors: Vec<String>,
}

/// Why a line of the domain list was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The domain is not a valid name even after IDNA conversion.
    #[error("'{input}' is not a domain name: {reason}")]
    BadDomain {
        /// The text found.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A selector is not a valid DNS label sequence.
    #[error("'{0}' is not a DKIM selector")]
    BadSelector(String),
}

/// Parses one line: `Ok(None)` for blank lines, comments and a `domain,...` header.
pub fn parse_line(line: &str) -> Result<Option<DomainInput>, InputError> {
    let line = line.trim().trim_start_matches('\u{feff}');
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (domain_field, selector_field) = match line.split_once(',') {
        Some((d, rest)) => (
            unquote(d),
            Some(unquote(rest.split(',').next().unwrap_or(""))),
        ),
        None => (line, None),
    };
    if domain_field.eq_ignore_ascii_case("domain") {
        return Ok(None);
    }
    let domain = to_a_label(domain_field)?;
    let mut selectors = Vec::new();
    if let Some(field) = selector_field {
        for s in field
            .split(|c: char| c == ';' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            selectors.push(parse_selector(s)?);
        }
    }
    Ok(Some(DomainInput { domain, selectors }))
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
        .trim()
}

/// A domain name in A-labels, checked against RFC 1035 §2.3.4 lengths; `_` is allowed in labels
/// since mail names carry it.
pub fn to_a_label(input: &str) -> Result<String, InputError> {
    let bad = |reason: &str| InputError::BadDomain {
        input: input.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = input.trim().strip_suffix('.').unwrap_or(input.trim());
    if trimmed.is_empty() {
        return Err(bad("empty"));
    }
    let ascii = if trimmed.is_ascii() {
        trimmed.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(trimmed).map_err(|e| bad(&format!("IDNA conversion failed ({e})")))?
    };
    if ascii.len() > 253 {
        return Err(bad("longer than 253 bytes"));
    }
    if !ascii.contains('.') {
        return Err(bad("a single label, not a domain"));
    }
    for label in ascii.split('.') {
        if label.is_empty() {
            return Err(bad("empty label"));
        }
        if label.len() > 63 {
            return Err(bad("a label is longer than 63 bytes"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(bad(
                "only letters, digits, '-' and '_' may appear in a label",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label starts or ends with '-'"));
        }
    }
    Ok(ascii)
}

/// A DKIM selector: one or more dot-separated labels (RFC 6376 §3.1).
pub fn parse_selector(s: &str) -> Result<String, InputError> {
    let ok = !s.is_empty()
        && s.len() <= 63 * 2
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(InputError::BadSelector(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(domain: &str, selectors: &[&str]) -> Option<DomainInput> {
        Some(DomainInput {
            domain: domain.into(),
            selectors: selectors.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn plain_comment_csv_and_header_lines() {
        assert_eq!(
            parse_line("  Example.COM. ").unwrap(),
            d("example.com", &[])
        );
        assert_eq!(parse_line("# a comment").unwrap(), None);
        assert_eq!(parse_line("").unwrap(), None);
        assert_eq!(parse_line("domain,selectors").unwrap(), None);
        assert_eq!(
            parse_line("example.org,s1;s2").unwrap(),
            d("example.org", &["s1", "s2"])
        );
        assert_eq!(
            parse_line("example.org, \"google k1\"").unwrap(),
            d("example.org", &["google", "k1"])
        );
        assert_eq!(parse_line("example.org,").unwrap(), d("example.org", &[]));
    }

    #[test]
    fn idn_becomes_a_labels() {
        assert_eq!(
            parse_line("bücher.example").unwrap(),
            d("xn--bcher-kva.example", &[])
        );
        assert_eq!(
            parse_line("ÉCOLE.example").unwrap().unwrap().domain,
            "xn--cole-9oa.example"
        );
    }

    #[test]
    fn bad_lines_say_what_is_wrong() {
        let err = parse_line("not a domain").unwrap_err();
        assert!(err.to_string().contains("'not a domain'"), "{err}");
        assert!(parse_line("localhost").is_err());
        assert!(parse_line(&format!("{}.test", "a".repeat(64))).is_err());
        assert!(parse_line("a..test").is_err());
        assert!(parse_line("-a.test").is_err());
        assert_eq!(
            parse_line("example.org,s!1").unwrap_err(),
            InputError::BadSelector("s!1".into())
        );
    }
}
