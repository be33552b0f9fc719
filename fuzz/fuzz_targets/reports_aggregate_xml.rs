//! Fuzzes the streaming DMARC aggregate-report reader and the container walk around it (gzip,
//! zip, mail): any input must give records or a `ParseError`, never a panic, within limits.
#![no_main]

use std::io::BufRead;

use inkan_reports::{AggregateReader, FeedbackReport, Limits, ParseError, TlsReport, Visitor};
use libfuzzer_sys::fuzz_target;

struct Drain;

impl Visitor for Drain {
    type Error = ();

    fn aggregate(&mut self, _: &str, mut report: AggregateReader<Box<dyn BufRead + '_>>) -> Result<(), ()> {
        while let Ok(Some(_)) = report.next_record() {}
        let _ = report.finish();
        Ok(())
    }

    fn tls(&mut self, _: &str, _: TlsReport) -> Result<(), ()> {
        Ok(())
    }

    fn feedback(&mut self, _: &str, _: FeedbackReport) -> Result<(), ()> {
        Ok(())
    }

    fn failed(&mut self, _: &str, _: ParseError) -> Result<(), ()> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_decompressed: 16 << 20, max_in_memory: 16 << 20, ..Limits::default() };
    let _ = inkan_reports::parse_aggregate(data);
    let _ = inkan_reports::walk(Box::new(data), "", 0, &limits, &mut Drain);
});
