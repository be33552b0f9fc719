//! Fuzzes the ARF / failure-report parser (RFC 5965, RFC 6591): the feedback fields and the
//! original message's headers, split at the first NUL byte of the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (report, original) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    if let Ok(feedback) = inkan_reports::parse_feedback(report, original) {
        assert!(!feedback.feedback_type.is_empty());
        assert_eq!(feedback.digest.len(), 64);
    }
    let _ = inkan_reports::walk_mail(data, "", 0, &inkan_reports::Limits::default(), &mut NoOp);
});

struct NoOp;

impl inkan_reports::Visitor for NoOp {
    type Error = ();

    fn aggregate(
        &mut self,
        _: &str,
        _: inkan_reports::AggregateReader<Box<dyn std::io::BufRead + '_>>,
    ) -> Result<(), ()> {
        Ok(())
    }

    fn tls(&mut self, _: &str, _: inkan_reports::TlsReport) -> Result<(), ()> {
        Ok(())
    }

    fn feedback(&mut self, _: &str, _: inkan_reports::FeedbackReport) -> Result<(), ()> {
        Ok(())
    }

    fn failed(&mut self, _: &str, _: inkan_reports::ParseError) -> Result<(), ()> {
        Ok(())
    }
}
