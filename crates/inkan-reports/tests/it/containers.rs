//! Every container: raw XML and JSON, gzip, zip, a mail attachment, mbox and Maildir;
//! recognised by content, whatever the file is called.

use inkan_reports::{Content, Limits, detect};

use crate::support::{collect, eml_with_attachment, fixture, gzip, mbox, zip};

fn ids(found: &crate::support::Collected) -> Vec<String> {
    found
        .aggregates
        .iter()
        .map(|(_, h, _, _)| h.metadata.report_id.clone())
        .collect()
}

#[test]
fn raw_gzip_and_zip() {
    let xml = fixture("rfc9990.xml");
    for bytes in [
        xml.clone(),
        gzip(&xml),
        zip(&[("receiver.example!sender.example!1.xml", &xml)]),
    ] {
        let found = collect(&bytes);
        assert!(found.failures.is_empty(), "{:?}", found.failures);
        assert_eq!(ids(&found), ["r9990-2026-11-27-0001"]);
        assert_eq!(found.aggregates[0].2.len(), 3);
    }
    let zipped = zip(&[
        ("a.xml", &fixture("rfc7489.xml")),
        ("b.xml.gz", &gzip(&fixture("draft.xml"))),
    ]);
    let found = collect(&zipped);
    assert_eq!(ids(&found), ["7489.424242", "legacy-0001"]);
    assert_eq!(found.aggregates[1].0, "b.xml.gz");
    let found = collect(&gzip(&fixture("tlsrpt.json")));
    assert_eq!(found.tls[0].1.report_id, "tlsrpt-2026-11-27-sender");
}

#[test]
fn mail_attachments_mbox_and_nested() {
    let gz = gzip(&fixture("rfc9990.xml"));
    let eml = eml_with_attachment(
        "m1@receiver.example",
        "report.xml.gz",
        "application/gzip",
        &gz,
    );
    let found = collect(&eml);
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    assert_eq!(ids(&found), ["r9990-2026-11-27-0001"]);
    assert_eq!(found.aggregates[0].0, "report.xml.gz");

    let z = zip(&[("r.xml", &fixture("rfc7489.xml"))]);
    let tls = gzip(&fixture("tlsrpt.json"));
    let messages = vec![
        eml,
        eml_with_attachment("m2@receiver.example", "r.zip", "application/zip", &z),
        eml_with_attachment(
            "m3@receiver.example",
            "tls.json.gz",
            "application/tlsrpt+gzip",
            &tls,
        ),
        fixture("arf.eml"),
        fixture("failure.eml"),
    ];
    let found = collect(&mbox(&messages));
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    assert_eq!(ids(&found), ["r9990-2026-11-27-0001", "7489.424242"]);
    assert_eq!(found.aggregates[1].0, "message 2/r.zip/r.xml");
    assert_eq!(found.tls.len(), 1);
    assert_eq!(found.feedback.len(), 2);
    assert_eq!(found.feedback[0].0, "message 4");
}

#[test]
fn mail_without_report_is_an_error() {
    let found = collect(b"From: a@example.com\r\nSubject: hi\r\n\r\nJust text.\r\n");
    assert_eq!(found.failures.len(), 1);
    assert_eq!(
        found.failures[0].1.to_string(),
        "mail message carries no report"
    );
}

#[test]
fn detection_ignores_names() {
    assert_eq!(detect(&gzip(b"<feedback/>")), Content::Gzip);
    assert_eq!(detect(&fixture("arf.eml")), Content::Mail);
    assert_eq!(detect(&fixture("tlsrpt.json")), Content::Json);
    assert_eq!(detect(&mbox(&[fixture("arf.eml")])), Content::Mbox);
    let _ = Limits::default();
}
