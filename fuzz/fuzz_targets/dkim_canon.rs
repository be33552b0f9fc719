//! Canonicalization (RFC 6376 §3.4) over any message: never panics, relaxed canonicalization is
//! idempotent on bodies, and every signature on the message gets a verdict, with no key and
//! with a key of each type (so that the body and header hashes of every signature run).
#![no_main]

use std::sync::{Arc, OnceLock};

use inkan_auth::Message;
use inkan_auth::dkim::{self, Canon};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(message) = Message::parse(data) else {
        return;
    };
    for canon in [Canon::Simple, Canon::Relaxed] {
        let once = dkim::canonical_body(message.body(), canon).into_owned();
        let twice = dkim::canonical_body(&once, canon);
        assert_eq!(once, *twice);
        let mut out = Vec::new();
        let names: Vec<String> = message.headers().map(|h| h.name().to_owned()).collect();
        dkim::canonical_headers(&message, &names, canon, &mut out);
    }
    let signatures = message.header_fields("DKIM-Signature").count();
    let no_keys = |_: &str| -> Option<Arc<dkim::DkimKey>> { None };
    assert_eq!(
        dkim::verify_with_keys(&message, &no_keys, 0).len(),
        signatures
    );
    let keys = KEYS.get_or_init(keys);
    let by_type = |name: &str| Some(keys[usize::from(name.starts_with('e'))].clone());
    assert_eq!(
        dkim::verify_with_keys(&message, &by_type, 0).len(),
        signatures
    );
});

static KEYS: OnceLock<[Arc<dkim::DkimKey>; 2]> = OnceLock::new();

/// An RSA-1024 key and an Ed25519 key (selectors starting with `e` get the second), made for
/// this target only.
fn keys() -> [Arc<dkim::DkimKey>; 2] {
    const RSA: &str = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCV5JLZoXvC55ZGAAW7qmIJ\
        KXE428AZCCMyJhNXqz9MzJj9TXSjcswxUvx0u6amK7vuAYpH/Lb+SanWuOgYc00xBK4vc6X6g87TTU51O/zV0QW/9IV\
        w1i+lKlrjSBkzCl+xc73RZrd+maFz3W+vrVIKAh5+kwksNNcbLaL0Ca6rqwIDAQAB";
    const ED25519: &str = "v=DKIM1; k=ed25519; p=ipK54GKzjtAKOWQwpxJfYavjeSKVLzKrO2juBM8M77Y=";
    [RSA, ED25519].map(|record| Arc::new(dkim::DkimKey::parse(record).expect("a valid key")))
}
