//! Any bytes as an SPF record: parsing never panics, and a record that parses has terms whose
//! published text parses again to the same mechanism.
#![no_main]

use inkan_auth::spf::parse_record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut record = b"v=spf1 ".to_vec();
    record.extend_from_slice(data);
    for bytes in [data, record.as_slice()] {
        if let Ok(parsed) = parse_record(bytes) {
            for directive in &parsed.directives {
                let again = parse_record(format!("v=spf1 {}", directive.text).as_bytes())
                    .expect("a parsed term parses again on its own");
                assert_eq!(again.directives[0].mechanism, directive.mechanism);
            }
        }
    }
});
