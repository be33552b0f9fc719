//! Any bytes as an ARC-Authentication-Results value: parse never panics, and a parsed field has
//! an instance from 1 to 50 and a non-empty authserv-id.
#![no_main]

use inkan_auth::arc::{ArcAuthenticationResults, MAX_INSTANCES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(aar) = ArcAuthenticationResults::parse(data) {
        assert!((1..=MAX_INSTANCES).contains(&aar.instance));
        assert!(!aar.authserv_id.is_empty());
    }
});
