//! The parsers on reports written from the public schemas and examples: RFC 9990 and RFC 7489
//! aggregate XML, the draft schema, the RFC 8460 JSON example, and RFC 5965 / RFC 6591 feedback.

use inkan_reports::{Schema, parse_aggregate, parse_tls_report};

use crate::support::{collect, fixture};

/// RFC 9990 section 3 and appendix A: the 2.0 namespace, `np`, `testing`, `discovery_method`,
/// `generator`, multiple DKIM results, override reasons and an unknown element kept.
#[test]
fn rfc9990_aggregate_report() {
    let (header, records, trailer) = parse_aggregate(&fixture("rfc9990.xml")).unwrap();
    assert_eq!(header.schema, Schema::Rfc9990);
    assert_eq!(header.version.as_deref(), Some("1.0"));
    assert_eq!(header.metadata.org_name, "receiver.example");
    assert_eq!(header.metadata.report_id, "r9990-2026-11-27-0001");
    assert_eq!(
        (header.metadata.begin, header.metadata.end),
        (Some(1_795_737_600), Some(1_795_823_999))
    );
    assert_eq!(
        header.metadata.generator.as_deref(),
        Some("Example Reporter 2.1")
    );
    assert_eq!(header.policy.domain, "sender.example");
    assert_eq!(header.policy.np.as_deref(), Some("reject"));
    assert_eq!(header.policy.testing.as_deref(), Some("n"));
    assert_eq!(header.policy.discovery_method.as_deref(), Some("treewalk"));
    assert_eq!(records.len(), 3);
    assert_eq!(trailer.records, 3);
    assert_eq!(trailer.messages, 155);

    let google = &records[1];
    assert_eq!(google.source_ip, "198.51.100.7");
    assert_eq!(google.disposition.as_deref(), Some("reject"));
    assert!(!google.dmarc_pass());
    assert_eq!(google.reasons[0].kind, "local_policy");
    assert_eq!(
        google.reasons[0].comment.as_deref(),
        Some("Sender requirement failed: 550-5.7.30 Authentication required")
    );
    assert_eq!(google.dkim.len(), 2);
    assert_eq!(
        google.dkim[0].human_result.as_deref(),
        Some("signature ok, domain not aligned")
    );
    assert_eq!(google.envelope_from.as_deref(), Some("bulk.example"));

    let first = &records[0];
    assert_eq!(first.envelope_to.as_deref(), Some("receiver.example"));
    assert_eq!(first.dkim[0].selector.as_deref(), Some("s2026"));
    assert_eq!(first.spf[0].scope.as_deref(), Some("mfrom"));

    let third = &records[2];
    assert_eq!(third.reasons[0].kind, "forwarded");
    assert_eq!(third.reasons[0].comment, None);
    assert_eq!(
        third.extra,
        [("record.x_vendor_score".to_owned(), "0.7".to_owned())]
    );
    assert_eq!(
        trailer.extra,
        [("extension.arc_override".to_owned(), "none".to_owned())]
    );
    assert!(trailer.warnings.is_empty(), "{:?}", trailer.warnings);
}

/// RFC 7489 appendix C: `pct`, `extra_contact_info`, SPF without scope.
#[test]
fn rfc7489_aggregate_report() {
    let (header, records, trailer) = parse_aggregate(&fixture("rfc7489.xml")).unwrap();
    assert_eq!(header.schema, Schema::Rfc7489);
    assert_eq!(header.policy.pct, Some(100));
    assert_eq!(header.policy.p.as_deref(), Some("quarantine"));
    assert_eq!(
        header.metadata.extra_contact_info.as_deref(),
        Some("https://mailbox.example/dmarc")
    );
    assert_eq!(records.len(), 2);
    assert_eq!(trailer.messages, 45);
    assert!(records[0].dmarc_pass());
    assert!(!records[1].dmarc_pass());
    assert_eq!(records[0].spf[0].scope, None);
}

/// The pre-RFC draft schema (`<version>0.1</version>`).
#[test]
fn draft_aggregate_report() {
    let (header, records, _) = parse_aggregate(&fixture("draft.xml")).unwrap();
    assert_eq!(header.schema, Schema::Draft);
    assert_eq!(header.metadata.org_name, "Legacy Mail");
    assert_eq!(records[0].dkim[0].result, "neutral");
    assert_eq!(records[0].dkim[0].human_result.as_deref(), Some("no key"));
}

/// Real reporters shout, pad values and send Latin-1: all tolerated and recorded.
#[test]
fn recoverable_problems_are_warnings() {
    let xml = b"\xef\xbb\xbf<?xml version=\"1.0\"?>\n<feedback><report_metadata><org_name>Caf\xe9 Mail</org_name>\
<report_id> r1 </report_id><date_range><begin>1795737600.0</begin><end>1795823999</end></date_range></report_metadata>\
<policy_published><domain>Sender.Example.</domain><p>REJECT</p></policy_published>\
<record><row><source_ip>192.0.2.1</source_ip><count>2</count><policy_evaluated><disposition>NONE</disposition>\
<dkim>Pass</dkim><spf>fail</spf></policy_evaluated></row><identifiers><header_from>sender.example</header_from></identifiers>\
<auth_results><dkim><domain>sender.example</domain><result>PASS</result></dkim></auth_results></record>\
<record><row><source_ip>not-an-ip</source_ip><count>1</count><policy_evaluated><disposition>none</disposition>\
<dkim>fail</dkim><spf>fail</spf><reason><type>other</type><comment>a &amp; b &unknown; &#65;</comment></reason></policy_evaluated></row></record>\
</feedback>\n\x00garbage after the end";
    let (header, records, trailer) = parse_aggregate(xml).unwrap();
    assert_eq!(header.metadata.org_name, "Caf\u{fffd} Mail");
    assert_eq!(header.metadata.report_id, "r1");
    assert_eq!(header.metadata.begin, Some(1_795_737_600));
    assert_eq!(header.policy.domain, "sender.example");
    assert_eq!(header.policy.p.as_deref(), Some("reject"));
    assert_eq!(records[0].disposition.as_deref(), Some("none"));
    assert_eq!(records[0].dkim_aligned.as_deref(), Some("pass"));
    assert_eq!(records[0].dkim[0].result, "pass");
    assert_eq!(
        records[1].reasons[0].comment.as_deref(),
        Some("a & b &unknown; A")
    );
    let w = &trailer.warnings;
    for needle in [
        "invalid utf-8 in <org_name>",
        "whitespace around the value of <report_id>",
        "non-integer value in <begin>",
        "upper-case value in <p> ('REJECT')",
        "upper-case value in <disposition>",
        "invalid IP address in <source_ip> ('not-an-ip')",
        "unknown entity '&unknown;'",
    ] {
        assert!(w.contains(needle), "missing warning {needle:?} in {w:?}");
    }
}

/// Mistakes real reporters have made, each in the RFC 7489 fixture: the metadata after the
/// records, an XML Schema tag left open inside the root (IKEA), an end tag without its `<`
/// (KDDI), an address in angle brackets written unescaped, an element left open inside a
/// record, and a `<reason>` whose type is its text. Each report is read whole, with a warning naming the mistake.
#[test]
fn reporters_broken_xml_is_read_with_a_warning() {
    let base = String::from_utf8(fixture("rfc7489.xml")).unwrap();
    let schema = r#"<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://dmarc.org/dmarc-xml/0.1">"#;
    let metadata = &base[base.find("<report_metadata>").unwrap()
        ..base.find("</report_metadata>").unwrap() + "</report_metadata>".len()];
    let metadata_last = base.replacen(metadata, "", 1).replacen(
        "</feedback>",
        &format!("{metadata}\n</feedback>"),
        1,
    );
    for (broken, warning) in [
        (
            metadata_last,
            "<report_metadata> or <policy_published> after records (out of schema order); read all the same",
        ),
        (
            base.replacen("<feedback>", &format!("<feedback>\n{schema}"), 1),
            "XML Schema tag <xs:schema> inside the report ignored",
        ),
        (
            base.replacen("7489.424242</report_id>", "7489.424242/report_id>", 1),
            "end tag </report_id> written without '<'; read as one",
        ),
        (
            base.replacen(
                "<email>noreply-dmarc@mailbox.example</email>",
                "<email><noreply-dmarc@mailbox.example></email>",
                1,
            ),
            "'<noreply-dmarc@mailbox.example>' in <email> is not a tag; read as text",
        ),
        (
            base.replacen("<count>40</count>", "<count>40", 1),
            "<count> never closed; closed at </row>",
        ),
        (
            base.replacen(
                "<disposition>none</disposition>",
                "<disposition>none</disposition><reason>forwarded</reason>",
                1,
            ),
            "<reason> without <type>: its text read as the type",
        ),
    ] {
        let (header, records, trailer) =
            parse_aggregate(broken.as_bytes()).unwrap_or_else(|e| panic!("{warning}: {e}"));
        assert_eq!(header.metadata.report_id, "7489.424242", "{warning}");
        assert_eq!(header.metadata.begin, Some(1_795_651_200), "{warning}");
        assert_eq!(header.policy.domain, "sender.example", "{warning}");
        assert_eq!(records.len(), 2, "{warning}");
        assert_eq!(records[0].source_ip, "192.0.2.10", "{warning}");
        assert_eq!(records[0].count, 40, "{warning}");
        let all: Vec<&str> = trailer.warnings.iter().map(|(text, _)| text).collect();
        assert!(all.contains(&warning), "{warning}: {all:?}");
    }
    // An end tag that matches nothing open is still an error.
    let err = parse_aggregate(base.replacen("</count>", "</counted>", 1).as_bytes()).unwrap_err();
    assert!(
        err.to_string()
            .contains("expected `</count>`, but `</counted>` was found"),
        "{err}"
    );
}

/// RFC 8460 section 4.4's example report (adapted to example domains).
#[test]
fn rfc8460_tls_report() {
    let report = parse_tls_report(&fixture("tlsrpt.json")).unwrap();
    assert_eq!(report.organization_name, "Receiver Org");
    assert_eq!(report.report_id, "tlsrpt-2026-11-27-sender");
    assert_eq!(report.start_timestamp(), Some(1_795_737_600));
    assert_eq!(report.policies.len(), 2);
    let sts = &report.policies[0];
    assert_eq!(sts.policy.policy_type, "sts");
    assert_eq!(sts.policy.mx_host, ["*.mail.sender.example"]);
    assert_eq!(sts.summary.total_successful_session_count, 5326);
    assert_eq!(sts.summary.total_failure_session_count, 303);
    assert_eq!(sts.failure_details.len(), 3);
    assert_eq!(
        sts.failure_details[2].failure_reason_code.as_deref(),
        Some("X509_V_ERR_PROXY_PATH_LENGTH_EXCEEDED")
    );
    assert_eq!(report.policies[1].policy.policy_type, "no-policy-found");
    assert!(report.extra.contains_key("x-vendor-note"));
}

/// Counts written as strings, fractions, negative or huge numbers: the report is kept, each
/// odd count read as well as it can be and named in a warning; a single policy-string.
#[test]
fn tls_report_with_odd_counts_is_kept_with_warnings() {
    let json = br#"{"organization-name": "Odd Org", "report-id": "odd-1",
        "date-range": {"start-datetime": "2026-11-27T00:00:00Z", "end-datetime": "2026-11-28T00:00:00Z"},
        "policies": [
          {"policy": {"policy-type": "sts", "policy-domain": "example.com",
                      "policy-string": "version: STSv1"},
           "summary": {"total-successful-session-count": "120",
                       "total-failure-session-count": 2.5},
           "failure-details": [{"result-type": "certificate-expired", "failed-session-count": -3},
                               {"result-type": "validation-failure", "failed-session-count": 1e30},
                               {"result-type": "starttls-not-supported", "failed-session-count": "many"},
                               {"result-type": "sts-policy-invalid", "failed-session-count": 4}]}]}"#;
    let report = parse_tls_report(json).unwrap();
    let policy = &report.policies[0];
    assert_eq!(policy.policy.policy_string, ["version: STSv1"]);
    assert_eq!(policy.summary.total_successful_session_count, 120);
    assert_eq!(policy.summary.total_failure_session_count, 2);
    let counts: Vec<i64> = policy
        .failure_details
        .iter()
        .map(|d| d.failed_session_count)
        .collect();
    assert_eq!(counts, [0, 0, 0, 4]);
    let w = &report.warnings;
    for needle in [
        "total-successful-session-count \"120\" is a string; read as 120",
        "total-failure-session-count 2.5 is not a whole number; read as 2",
        "failed-session-count -3 is not a count; read as 0",
        "failed-session-count 1e+30 is not a count; read as 0",
        "failed-session-count \"many\" is not a count; read as 0",
    ] {
        assert!(w.contains(needle), "missing warning {needle:?} in {w:?}");
    }
    assert_eq!(w.iter().count(), 5, "{w:?}");
}

/// Members of the wrong JSON type, as some senders write them: nulls, a number for text,
/// host objects in `mx-host`, one object for a list. The report is kept, read as well as it
/// can be, with a warning for each member that changed (none for a null, JSON's "absent").
#[test]
fn tls_report_in_odd_shapes_is_kept_with_warnings() {
    let json = br#"{"organization-name": "Shapes Org", "report-id": 133944884956529435,
        "contact-info": null,
        "date-range": {"start-datetime": "2026-11-27T00:00:00Z", "end-datetime": null},
        "policies": {"policy": {"policy-type": "sts", "policy-domain": "example.com",
                                "policy-string": ["version: STSv1", null, 7],
                                "mx-host": [{"hostname": "mx.example.com", "failure-count": 0},
                                            {"pattern": "*.example.net"}]},
                     "summary": {"total-successful-session-count": 12,
                                 "total-failure-session-count": null},
                     "failure-details": [{"result-type": "sts-policy-fetch-error",
                                          "sending-mta-ip": null, "receiving-ip": false,
                                          "failed-session-count": 3},
                                         "not a detail"]}}"#;
    let report = parse_tls_report(json).unwrap();
    assert_eq!(report.report_id, "133944884956529435");
    assert_eq!(report.contact_info, None);
    assert_eq!(report.date_range.end_datetime, "");
    assert_eq!(report.policies.len(), 1);
    let entry = &report.policies[0];
    assert_eq!(entry.policy.policy_string, ["version: STSv1", "7"]);
    assert_eq!(
        entry.policy.mx_host,
        ["mx.example.com", r#"{"pattern":"*.example.net"}"#]
    );
    assert_eq!(entry.summary.total_successful_session_count, 12);
    assert_eq!(entry.summary.total_failure_session_count, 0);
    assert_eq!(entry.failure_details.len(), 1);
    let detail = &entry.failure_details[0];
    assert_eq!(detail.sending_mta_ip, None);
    assert_eq!(detail.receiving_ip.as_deref(), Some("false"));
    assert_eq!(detail.failed_session_count, 3);
    // Warnings come out in the order of their text.
    let w: Vec<&str> = report.warnings.iter().map(|(text, _)| text).collect();
    let mut expected = [
        "report-id 133944884956529435 is not text; read as '133944884956529435'",
        "policies is one object, not a list; read as a list of one",
        "policy-string entry 7 is not text; read as '7'",
        r#"mx-host entry {"failure-count":0,"hostname":"mx.example.com"} is an object; read as 'mx.example.com'"#,
        r#"mx-host entry {"pattern":"*.example.net"} is an object; read as '{"pattern":"*.example.net"}'"#,
        "failure-details entry \"not a detail\" is not an object; left out",
        "receiving-ip false is not text; read as 'false'",
    ];
    expected.sort_unstable();
    assert_eq!(w, expected);
    // A warning shows at most 100 characters of what it is about.
    let long = format!(
        r#"{{"organization-name": "o", "report-id": "r", "policies": [{{"policy":
            {{"policy-type": "sts", "policy-domain": "example.com", "mx-host": [[{}]]}}}}]}}"#,
        vec!["1"; 500].join(",")
    );
    let report = parse_tls_report(long.as_bytes()).unwrap();
    let (warning, _) = report.warnings.iter().next().unwrap();
    assert!(warning.len() < 260 && warning.contains("...'"), "{warning}");
    // Not an object at all: an error that says what it is.
    for (json, found) in [(&b"[1, 2]"[..], "a list"), (b"\"text\"", "text")] {
        let err = parse_tls_report(json).unwrap_err().to_string();
        assert!(
            err.contains(&format!("the report is {found}, not a JSON object")),
            "{err}"
        );
    }
    // A member of the wrong kind that cannot be read is left out; one that is required
    // then fails as missing.
    let err = parse_tls_report(br#"{"organization-name": ["a"], "report-id": "x"}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing \"organization-name\""), "{err}");
}

/// RFC 5965 section 3 example (an abuse complaint) with the original message's DKIM d= and
/// Feedback-ID.
#[test]
fn rfc5965_arf_report() {
    let found = collect(&fixture("arf.eml"));
    assert!(found.failures.is_empty(), "{:?}", found.failures);
    let (_, arf) = &found.feedback[0];
    assert_eq!(arf.feedback_type, "abuse");
    assert!(!arf.is_auth_failure());
    assert_eq!(arf.user_agent.as_deref(), Some("SomeGenerator/1.0"));
    assert_eq!(arf.version.as_deref(), Some("1"));
    assert_eq!(arf.source_ip.as_deref(), Some("192.0.2.1"));
    assert_eq!(
        arf.original_mail_from.as_deref(),
        Some("bounce@sender.example")
    );
    assert_eq!(arf.original_rcpt_to, ["user@isp.example"]);
    assert_eq!(arf.arrival_timestamp, Some(1_795_788_000));
    assert_eq!(arf.reported_domain, ["sender.example"]);
    assert_eq!(
        arf.authentication_results,
        [
            "mail.isp.example; spf=pass smtp.mail=bounce@sender.example; dkim=pass header.d=news.sender.example"
        ]
    );
    assert_eq!(arf.dkim_domain.as_deref(), Some("news.sender.example"));
    assert_eq!(
        arf.feedback_id.as_deref(),
        Some("campaign42:newsletter:mailer:sender")
    );
    assert_eq!(arf.reported_uri, ["http://sender.example/earn_money.html"]);
    assert!(
        arf.extra
            .iter()
            .any(|(k, v)| k == "Removal-Recipient" && v == "user@isp.example")
    );
}

/// RFC 6591 / RFC 9991: an auth-failure report with text/rfc822-headers.
#[test]
fn rfc9991_failure_report() {
    let found = collect(&fixture("failure.eml"));
    let (_, failure) = &found.feedback[0];
    assert!(failure.is_auth_failure());
    assert_eq!(failure.auth_failure.as_deref(), Some("dmarc"));
    assert_eq!(failure.delivery_result.as_deref(), Some("reject"));
    assert_eq!(failure.identity_alignment.as_deref(), Some("none"));
    assert_eq!(
        failure.original_from_domain.as_deref(),
        Some("sender.example")
    );
    assert_eq!(failure.source_ip.as_deref(), Some("203.0.113.99"));
}

/// Exim (and the cPanel gateways built on it) write failure reports as plain text, without a
/// `message/feedback-report` part: read as the RFC 6591 report they stand for, the failed
/// message's header from the text or from a part of its own, with a warning.
#[test]
fn exim_plain_text_failure_report() {
    let header = "Received: from mail.spoofer.example ([198.51.100.23]) by mx.receiver.example\n\
        From: \"Billing\" <billing@sender.example>\n\
        DKIM-Signature: v=1; a=rsa-sha256; d=spoofer.example; s=s1; h=from; bh=x; b=y\n\
        Subject: Invoice\n";
    let body = "A message claiming to be from you has failed the published DMARC\n\
        policy for your domain.\n\n\
        \x20 Sender Domain: sender.example\n\
        \x20 Sender IP Address: 198.51.100.23\n\
        \x20 Received Date: Fri, 27 Nov 2026 14:00:00 +0000\n\
        \x20 SPF Alignment: no\n\
        \x20 DKIM Alignment: yes\n\
        \x20 DMARC Results: Reject\n\n\
        ------ This is a copy of the message's headers. ------\n\n";
    let inline = format!(
        "From: mailer@receiver.example\nTo: ruf@sender.example\n\
         Subject: DMARC Forensic Report for sender.example from IP 198.51.100.23\n\n{body}{header}"
    );
    let attached = format!(
        "From: mailer@receiver.example\nTo: ruf@sender.example\nSubject: DMARC failure\n\
         MIME-Version: 1.0\nContent-Type: multipart/report; boundary=\"b\"\n\n\
         --b\nContent-Type: text/plain\n\n{body}\n--b\nContent-Type: text/rfc822-headers\n\n\
         {header}\n--b--\n"
    );
    for mail in [inline, attached] {
        let found = collect(mail.as_bytes());
        assert!(found.failures.is_empty(), "{:?}", found.failures);
        let (_, failure) = &found.feedback[0];
        assert!(failure.is_auth_failure());
        assert_eq!(failure.auth_failure.as_deref(), Some("dmarc"));
        assert_eq!(failure.source_ip.as_deref(), Some("198.51.100.23"));
        assert_eq!(failure.arrival_timestamp, Some(1_795_788_000));
        assert_eq!(failure.reported_domain, ["sender.example"]);
        assert_eq!(failure.delivery_result.as_deref(), Some("reject"));
        assert_eq!(failure.identity_alignment.as_deref(), Some("dkim"));
        assert_eq!(failure.dkim_domain.as_deref(), Some("spoofer.example"));
        assert_eq!(
            failure.original_from_domain.as_deref(),
            Some("sender.example")
        );
        assert!(
            failure
                .extra
                .iter()
                .any(|(k, v)| k == "X-Exim-DMARC-Results" && v == "Reject")
        );
        assert!(failure.warnings.contains("failure report in plain text"));
    }
}
