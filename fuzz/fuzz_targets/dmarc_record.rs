//! Any text as a DMARC record: parse never panics, and a parsed record survives a round trip
//! through its canonical text.
#![no_main]

use inkan_auth::dmarc::DmarcRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(record) = DmarcRecord::parse(text) {
        let again = DmarcRecord::parse(&record.to_text()).expect("canonical text parses");
        assert_eq!(again.p, record.p);
        assert_eq!(again.sp, record.sp);
        assert_eq!(again.np, record.np);
        assert_eq!(again.psd, record.psd);
        assert_eq!(again.adkim, record.adkim);
        assert_eq!(again.aspf, record.aspf);
        assert_eq!(again.testing, record.testing);
    }
});
