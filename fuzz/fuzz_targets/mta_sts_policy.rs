//! Any text as an MTA-STS policy body (RFC 8461 §3.2): parse never panics, and a parsed policy
//! keeps the RFC's invariants (max_age within the limit, mx patterns unless mode none, each
//! pattern matching a host of its own form).
#![no_main]

use inkan_audit::mta_sts::{MAX_AGE_LIMIT, Mode, mx_matches, parse_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(policy) = parse_policy(text) {
        assert!(policy.max_age <= MAX_AGE_LIMIT);
        assert!(policy.mode == Mode::None || !policy.mx.is_empty());
        for pattern in &policy.mx {
            let host = match pattern.strip_prefix("*.") {
                Some(rest) => format!("mx1.{rest}"),
                None => pattern.clone(),
            };
            assert!(mx_matches(pattern, &host), "{pattern} vs {host}");
        }
    }
});
