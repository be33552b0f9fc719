//! Hostile and broken input: each is refused with a clear error within the limits, and the
//! walk goes on to what follows.

use inkan_reports::{Limits, ParseError};

use crate::support::{collect, collect_with, fixture, gzip, zip};

#[test]
fn broken_xml_is_an_error_naming_the_place() {
    let found =
        collect(b"<feedback><report_metadata><org_name>x</org_name></report_meta></feedback>");
    assert_eq!(found.failures.len(), 1);
    let message = found.failures[0].1.to_string();
    assert!(message.starts_with("malformed xml at byte"), "{message}");
}

/// Found by the `reports_arf` fuzz target: a part whose boundary line runs into its header,
/// holding a message in a message. mail-parser's own `debug_assert!` fired on it; the
/// message now reads the same in every build (no report in it: an error), a report mailed
/// after it is still read.
#[test]
fn mime_that_tripped_the_mail_parser_is_an_error_not_a_panic() {
    let broken = b"Content-Type:multipart;boundary=b1\n\n--b1Content-Type:message/rfc822\n\n\
Content-Type:message/rfc822\n\n\n--b1--\n";
    let found = collect(broken);
    assert_eq!(found.failures.len(), 1, "{:?}", found.failures);
    assert!(
        found.failures[0]
            .1
            .to_string()
            .contains("carries no report"),
        "{:?}",
        found.failures
    );
    let mut batch = crate::support::mbox(&[broken.to_vec(), fixture("arf.eml")]);
    batch.extend_from_slice(b"\n");
    let found = collect(&batch);
    assert_eq!(found.feedback.len(), 1, "{:?}", found.failures);
}

/// Nothing to read, a file or a zip entry: said so, not "unrecognised content".
#[test]
fn empty_input_is_an_error_that_says_so() {
    let found = collect(b"");
    assert!(
        matches!(found.failures[..], [(_, ParseError::Empty)]),
        "{:?}",
        found.failures
    );
    assert_eq!(found.failures[0].1.to_string(), "empty: no bytes to read");
    let found = collect(&zip(&[
        ("empty.xml", b""),
        ("r.xml", &fixture("rfc7489.xml")),
    ]));
    assert_eq!(found.aggregates.len(), 1);
    assert_eq!(found.failures.len(), 1, "{:?}", found.failures);
    assert_eq!(found.failures[0].0, "empty.xml");
    assert!(matches!(found.failures[0].1, ParseError::Empty));
}

#[test]
fn truncated_report_is_an_error() {
    let xml = fixture("rfc9990.xml");
    let found = collect(&xml[..xml.len() / 2]);
    assert_eq!(found.aggregates.len(), 0);
    assert!(
        matches!(
            found.failures[0].1,
            ParseError::Truncated(_) | ParseError::Xml { .. }
        ),
        "{:?}",
        found.failures
    );
}

#[test]
fn truncated_gzip_is_an_error() {
    let gz = gzip(&fixture("rfc9990.xml"));
    let found = collect(&gz[..gz.len() - 20]);
    assert_eq!(found.aggregates.len(), 0);
    let message = found.failures[0].1.to_string();
    assert!(
        message.starts_with("gzip:") || message.contains("truncated"),
        "{message}"
    );
}

/// Billion laughs: entity declarations are refused before anything is expanded.
#[test]
fn xml_entity_bomb_is_refused() {
    let mut bomb =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n <!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        bomb.push_str(&format!(
            " <!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    bomb.push_str(
        "]>\n<feedback><report_metadata><org_name>&lol9;</org_name></report_metadata></feedback>",
    );
    let found = collect(bomb.as_bytes());
    assert!(
        matches!(found.failures[0].1, ParseError::EntityDeclaration(_)),
        "{:?}",
        found.failures
    );
}

/// XXE: an external entity is refused the same way, nothing is fetched.
#[test]
fn xxe_is_refused() {
    let xxe =
        b"<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\
<feedback><report_metadata><org_name>&xxe;</org_name></report_metadata></feedback>";
    let found = collect(xxe);
    assert!(
        found.failures[0]
            .1
            .to_string()
            .starts_with("document type declaration with entities refused")
    );
}

#[test]
fn deep_nesting_is_refused() {
    let mut xml = String::from("<feedback><report_metadata>");
    xml.push_str(&"<a>".repeat(100));
    xml.push_str(&"</a>".repeat(100));
    xml.push_str("</report_metadata></feedback>");
    let found = collect(xml.as_bytes());
    assert_eq!(
        found.failures[0].1.to_string(),
        "xml nested deeper than 32 elements at <a>"
    );
}

#[test]
fn gzip_bomb_is_refused_and_the_batch_goes_on() {
    let limits = Limits {
        max_decompressed: 1 << 20,
        ..Limits::default()
    };
    let mut inflated = b"<feedback>".to_vec();
    inflated.resize(8 << 20, b' ');
    let bomb = gzip(&inflated);
    assert!(bomb.len() < 64 << 10);
    let good = fixture("rfc7489.xml");
    let archive = zip(&[("bomb.xml.gz", &bomb), ("good.xml", &good)]);
    let found = collect_with(&archive, &limits);
    assert_eq!(found.failures.len(), 1, "{:?}", found.failures);
    assert_eq!(
        found.failures[0].1.to_string(),
        "decompressed size exceeds the limit of 1048576 bytes in gzip stream bomb.xml.gz (compression bomb?)"
    );
    assert_eq!(found.aggregates.len(), 1);
}

#[test]
fn zip_bomb_is_refused() {
    let limits = Limits {
        max_decompressed: 1 << 20,
        ..Limits::default()
    };
    let mut inflated = b"<feedback>".to_vec();
    inflated.resize(8 << 20, b' ');
    let archive = zip(&[("huge.xml", &inflated)]);
    let found = collect_with(&archive, &limits);
    assert!(
        found.failures[0]
            .1
            .to_string()
            .starts_with("decompressed size exceeds the limit"),
        "{:?}",
        found.failures
    );
    let many: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| (format!("{i}.xml"), b"x".to_vec()))
        .collect();
    let refs: Vec<(&str, &[u8])> = many
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let found = collect_with(
        &zip(&refs),
        &Limits {
            max_zip_entries: 10,
            ..Limits::default()
        },
    );
    assert_eq!(
        found.failures[0].1.to_string(),
        "zip archive has 20 entries, more than the limit of 10"
    );
}

#[test]
fn nested_containers_are_bounded() {
    let mut bytes = fixture("rfc7489.xml");
    for _ in 0..10 {
        bytes = gzip(&bytes);
    }
    let found = collect(&bytes);
    assert_eq!(
        found.failures[0].1.to_string(),
        "containers nested deeper than 6 levels"
    );
}

#[test]
fn unrecognised_and_invalid_json() {
    let found = collect(b"\x00\x01binary");
    assert!(
        found.failures[0]
            .1
            .to_string()
            .starts_with("unrecognised content")
    );
    let found = collect(b"{\"organization-name\": 5}");
    assert!(found.failures[0].1.to_string().starts_with("tls-rpt json:"));
}

/// A single giant text node cannot grow the reader's buffer past the element limit.
#[test]
fn giant_text_node_is_refused() {
    let mut xml = b"<feedback><report_metadata><org_name>".to_vec();
    xml.resize(16 << 20, b'a');
    xml.extend_from_slice(b"</org_name></report_metadata></feedback>");
    let found = collect(&xml);
    assert!(
        matches!(found.failures[0].1, ParseError::ElementTooLarge { .. }),
        "{:?}",
        found.failures
    );
}
