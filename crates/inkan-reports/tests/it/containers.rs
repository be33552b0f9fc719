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
    // A zip made on a Mac: the Finder's resource fork and .DS_Store are not reports.
    let apple_double = b"\0\x05\x16\x07\0\x02\0\0Mac OS X        ";
    let from_a_mac = zip(&[
        ("reports/a.xml", &fixture("rfc7489.xml")),
        ("__MACOSX/reports/._a.xml", apple_double),
        ("reports/.DS_Store", b"\0\0\0\x01Bud1"),
    ]);
    let found = collect(&from_a_mac);
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    assert_eq!(ids(&found), ["7489.424242"]);
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

/// The RFC 7489 fixture with `org_name` "Mailbox Café €" and the XML declaration naming
/// `label`, in that encoding's bytes.
fn in_windows_1252(label: &str) -> Vec<u8> {
    let text = String::from_utf8(fixture("rfc7489.xml"))
        .unwrap()
        .replacen("encoding=\"UTF-8\"", &format!("encoding=\"{label}\""), 1)
        .replacen(
            "<org_name>mailbox.example</org_name>",
            "<org_name>Mailbox Caf\u{e9} \u{20ac}</org_name>",
            1,
        );
    text.chars()
        .map(|c| match c {
            '\u{20ac}' => 0x80,
            c => u8::try_from(u32::from(c)).unwrap(),
        })
        .collect()
}

#[test]
fn reports_in_other_encodings_are_read_as_written_in_every_container() {
    let latin = in_windows_1252("ISO-8859-1");
    let mut utf16 = vec![0xff, 0xfe];
    let text = String::from_utf8(fixture("rfc7489.xml")).unwrap().replacen(
        "<org_name>mailbox.example</org_name>",
        "<org_name>Mailbox Caf\u{e9} \u{20ac}</org_name>",
        1,
    );
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    for report in [in_windows_1252("windows-1252"), latin.clone(), utf16] {
        for bytes in [
            report.clone(),
            gzip(&report),
            eml_with_attachment(
                "m@receiver.example",
                "receiver.example!sender.example!1!2.xml.gz",
                "application/octet-stream",
                &gzip(&report),
            ),
            eml_with_attachment(
                "m@receiver.example",
                "receiver.example!sender.example!1!2.zip",
                "application/x-zip-compressed",
                &zip(&[("r.xml", &report)]),
            ),
        ] {
            let found = collect(&bytes);
            assert!(found.failures.is_empty(), "{:?}", found.failures);
            let (_, header, records, trailer) = &found.aggregates[0];
            assert_eq!(header.metadata.org_name, "Mailbox Café €");
            assert_eq!(records.len(), 2);
            assert!(trailer.warnings.is_empty(), "{:?}", trailer.warnings);
        }
    }
    // Declared UTF-8 but written in Latin-1: the bytes that are not UTF-8 are replaced and
    // the report says so, as before.
    let mislabelled = in_windows_1252("UTF-8");
    let found = collect(&mislabelled);
    let (_, header, _, trailer) = &found.aggregates[0];
    assert!(header.metadata.org_name.contains('\u{fffd}'));
    assert!(
        trailer.warnings.contains("invalid utf-8"),
        "{:?}",
        trailer.warnings
    );
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
