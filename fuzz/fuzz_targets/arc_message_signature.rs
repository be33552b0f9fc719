//! Any bytes as an ARC-Message-Signature value: parse never panics, a parsed signature has an
//! instance from 1 to 50, signs From and never ARC-Seal.
#![no_main]

use inkan_auth::arc::{ArcMessageSignature, MAX_INSTANCES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ams) = ArcMessageSignature::parse(data) {
        assert!((1..=MAX_INSTANCES).contains(&ams.instance));
        let h = &ams.signature.signed_headers;
        assert!(h.iter().any(|n| n.eq_ignore_ascii_case("from")));
        assert!(!h.iter().any(|n| n.eq_ignore_ascii_case("arc-seal")));
    }
});
