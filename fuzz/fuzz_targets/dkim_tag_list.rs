//! Tag lists (RFC 6376 §3.2) and DKIM-Signature values (§3.5): any bytes give a value or an
//! error, and a parsed tag list's values never contain `;`.
#![no_main]

use inkan_auth::dkim::{Signature, TagList};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tags) = TagList::parse(data) {
        for (name, value) in tags.iter() {
            assert!(!name.is_empty());
            assert!(!value.contains(';'));
        }
    }
    let _ = Signature::parse(data);
});
