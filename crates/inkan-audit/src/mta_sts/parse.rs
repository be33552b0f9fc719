//! The MTA-STS policy file (RFC 8461 §3.2): `key: value` lines ended by LF or CRLF, with
//! `version: STSv1`, `mode`, `max_age` and one or more `mx` patterns; and the matching of an MX
//! host against those patterns (RFC 8461 §4.1).

use super::{MAX_AGE_LIMIT, Mode, Policy, PolicyError};

/// Parses a policy body. Unknown keys are ignored (§3.2 extensions) but must be well formed;
/// `version`, `mode` and `max_age` must appear exactly once; `mx` is required unless the mode is
/// `none`. Blank lines are tolerated.
pub fn parse_policy(text: &str) -> Result<Policy, PolicyError> {
    let mut version = None;
    let mut mode = None;
    let mut max_age = None;
    let mut mx = Vec::new();
    for (index, raw) in text.split('\n').enumerate() {
        let line_no = index + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| PolicyError::Line {
            line: line_no,
            text: line.to_owned(),
            why,
        };
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| bad("it is not 'key: value'".into()))?;
        let value = value.trim_matches([' ', '\t']);
        if !is_field_name(key) {
            return Err(bad(format!("'{key}' is not a field name")));
        }
        let once = |seen: bool| -> Result<(), PolicyError> {
            if seen {
                Err(PolicyError::Duplicate {
                    key: key.to_owned(),
                    line: line_no,
                })
            } else {
                Ok(())
            }
        };
        match key {
            "version" => {
                once(version.is_some())?;
                if value != "STSv1" {
                    return Err(bad(format!("version '{value}' is not STSv1")));
                }
                version = Some(());
            }
            "mode" => {
                once(mode.is_some())?;
                mode = Some(match value {
                    "enforce" => Mode::Enforce,
                    "testing" => Mode::Testing,
                    "none" => Mode::None,
                    other => {
                        return Err(bad(format!(
                            "mode '{other}' is not enforce, testing or none"
                        )));
                    }
                });
            }
            "max_age" => {
                once(max_age.is_some())?;
                if value.is_empty()
                    || value.len() > 10
                    || !value.bytes().all(|b| b.is_ascii_digit())
                {
                    return Err(bad(format!("max_age '{value}' is not 1 to 10 digits")));
                }
                let seconds: u64 = value
                    .parse()
                    .map_err(|_| bad(format!("max_age '{value}' is not a number")))?;
                if seconds > MAX_AGE_LIMIT {
                    return Err(bad(format!(
                        "max_age {seconds} is above the limit of {MAX_AGE_LIMIT} seconds"
                    )));
                }
                max_age = Some(seconds);
            }
            "mx" => {
                let pattern = value.to_ascii_lowercase();
                if !is_mx_pattern(&pattern) {
                    return Err(bad(format!(
                        "mx '{value}' is not a host name or '*.' followed by one"
                    )));
                }
                mx.push(pattern);
            }
            _ => {
                if value.is_empty()
                    || !value
                        .bytes()
                        .all(|b| (0x21..=0x7e).contains(&b) && b != b'=' && b != b';')
                {
                    return Err(bad(format!(
                        "value '{value}' of extension '{key}' is not allowed"
                    )));
                }
            }
        }
    }
    if version.is_none() {
        return Err(PolicyError::Missing("version"));
    }
    let mode = mode.ok_or(PolicyError::Missing("mode"))?;
    let max_age = max_age.ok_or(PolicyError::Missing("max_age"))?;
    if mx.is_empty() && mode != Mode::None {
        return Err(PolicyError::Missing("mx"));
    }
    Ok(Policy { mode, max_age, mx })
}

/// `(ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`.
fn is_field_name(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 32
        && bytes[0].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// `["*."] Domain`, with letter-digit-hyphen labels.
fn is_mx_pattern(pattern: &str) -> bool {
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// RFC 8461 §4.1: `host` matches a pattern equal to it, or `*.rest` when `host` is exactly one
/// label followed by `rest` (the wildcard covers the leftmost label only). Case and a trailing
/// dot do not matter.
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let norm = |s: &str| s.trim_end_matches('.').to_ascii_lowercase();
    let (pattern, host) = (norm(pattern), norm(host));
    match pattern.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(label, tail)| !label.is_empty() && tail == rest),
        None => pattern == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8461 §3.2 example, with CRLF line ends.
    #[test]
    fn rfc8461_section_3_2_example() {
        let p = parse_policy(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n",
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.max_age, 604_800);
        assert_eq!(
            p.mx,
            ["mail.example.com", "*.example.net", "backupmx.example.com"]
        );
    }

    #[test]
    fn lf_lines_no_final_newline_and_extensions() {
        let p = parse_policy(
            "version: STSv1\nmode:testing\nmx: MX.Example.COM\nmax_age: 86400\nx-ext.1: yes",
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Testing);
        assert_eq!(p.mx, ["mx.example.com"]);
    }

    #[test]
    fn mode_none_needs_no_mx() {
        let p = parse_policy("version: STSv1\nmode: none\nmax_age: 86400\n").unwrap();
        assert_eq!(p.mode, Mode::None);
        assert!(p.mx.is_empty());
    }

    #[test]
    fn errors_name_the_line_and_the_input() {
        let err = |t: &str| parse_policy(t).unwrap_err().to_string();
        assert!(err("version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1").contains("'STSv2'"));
        assert!(err("version: STSv1\nmode: strict\nmx: a.b\nmax_age: 1").contains("line 2"));
        assert!(
            err("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601").contains("31557601")
        );
        assert!(err("version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1").contains("'-1'"));
        assert!(err("version: STSv1\nmode: enforce\nmax_age: 86400").contains("mx"));
        assert!(err("mode: enforce\nmx: a.b\nmax_age: 86400").contains("version"));
        assert!(
            err("version: STSv1\nmode: enforce\nmode: testing\nmx: a.b\nmax_age: 1")
                .contains("'mode'")
        );
        assert!(
            err("version: STSv1\nmode enforce\nmx: a.b\nmax_age: 1").contains("'mode enforce'")
        );
        assert!(err("version: STSv1\nmode: enforce\nmx: a..b\nmax_age: 1").contains("'a..b'"));
        assert!(err("<html><body>hello</body></html>").contains("line 1"));
    }

    /// RFC 8461 §4.1: the wildcard covers one leftmost label only.
    #[test]
    fn rfc8461_section_4_1_wildcards() {
        assert!(mx_matches("mail.example.com", "MAIL.example.com."));
        assert!(mx_matches("*.example.com", "mx1.example.com"));
        assert!(!mx_matches("*.example.com", "example.com"));
        assert!(!mx_matches("*.example.com", "a.b.example.com"));
        assert!(!mx_matches("*.example.com", "mx1.example.org"));
        assert!(!mx_matches("mail.example.com", "mail2.example.com"));
    }
}
