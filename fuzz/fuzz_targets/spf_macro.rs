//! Any text as a macro-string, expanded against identities also taken from the input:
//! parsing and expansion never panic, and a domain expansion never exceeds 253 bytes.
#![no_main]

use inkan_auth::spf::{MacroContext, MacroString};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (spec, ident) = text.split_once('\n').unwrap_or((text, "user@example.com"));
    let (local, domain) = ident.rsplit_once('@').unwrap_or(("postmaster", ident));
    let ctx = MacroContext {
        sender: ident,
        local_part: local,
        sender_domain: domain,
        domain,
        ip: "2001:db8::1".parse().expect("address"),
        helo: domain,
        receiver: "",
        now: 0,
        validated_name: Some(domain),
    };
    let mut out = String::new();
    if let Ok(ms) = MacroString::parse(spec, true) {
        let _ = ms.expand_into(&ctx, &mut out);
    }
    if let Ok(ms) = MacroString::parse_domain_spec(spec)
        && ms.expand_domain(&ctx, &mut out).is_ok()
    {
        assert!(out.len() <= 253, "domain expansion of {} bytes", out.len());
    }
});
