//! Fuzzes the RFC 1035 master-file parser: any input must give records or an error, never a
//! panic, and records written back in presentation format must read back the same.
//!
//! `cargo +nightly fuzz run zone_parse` from `fuzz/`.
#![no_main]

use inkan_dns::{Record, parse_zone};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(records) = parse_zone(text, Some("fuzz.test."), "fuzz.zone") else { return };
    let written: String = records.iter().map(presentation).collect();
    let reread = parse_zone(&written, None, "rewritten.zone")
        .unwrap_or_else(|e| panic!("records written back do not parse: {e}\n{written}"));
    assert_eq!(records, reread, "round trip changed the records\n{written}");
});

fn presentation(record: &Record) -> String {
    format!("{}. {} IN {} {}\n", record.name, record.ttl, record.data.record_type(), record.data)
}
