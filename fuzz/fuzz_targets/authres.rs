//! Any bytes as an Authentication-Results value: parse never panics, and what parses renders
//! to text that parses back to the same thing.
#![no_main]

use inkan_auth::authres::AuthResults;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(parsed) = AuthResults::parse(&text) {
        for fold in ["", "\r\n\t"] {
            let rendered = parsed.render(fold);
            let again = AuthResults::parse(&rendered).expect("rendered header parses");
            assert_eq!(again, parsed, "{rendered}");
        }
    }
});
