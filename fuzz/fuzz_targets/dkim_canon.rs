//! Canonicalization (RFC 6376 §3.4) over any message: never panics, relaxed canonicalization is
//! idempotent on bodies, and every signature on the message gets a verdict.
#![no_main]

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
    let no_keys = |_: &str| -> Option<std::sync::Arc<dkim::DkimKey>> { None };
    let outputs = dkim::verify_with_keys(&message, &no_keys, 0);
    assert_eq!(
        outputs.len(),
        message.header_fields("DKIM-Signature").count()
    );
});
