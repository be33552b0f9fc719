//! Any bytes as an ARC-Seal value: parse never panics, a parsed seal has an instance from 1 to
//! 50 and no h= tag, and every error names the ARC-Seal field.
#![no_main]

use inkan_auth::arc::{ArcHeader, ArcSeal, MAX_INSTANCES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match ArcSeal::parse(data) {
        Ok(seal) => {
            assert!((1..=MAX_INSTANCES).contains(&seal.instance));
            assert!(!seal.signature.is_empty());
        }
        Err(e) => {
            assert_eq!(e.header(), ArcHeader::Seal);
            assert!(!e.to_string().is_empty());
        }
    }
});
