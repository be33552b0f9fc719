//! Key records (RFC 6376 §3.6.1): any bytes give a key or an error; a key that parses and is
//! not revoked has a size.
#![no_main]

use inkan_auth::dkim::DkimKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(key) = DkimKey::parse(data) {
        assert_eq!(key.revoked, key.bits.is_none());
    }
});
