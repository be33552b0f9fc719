//! `inkan audit --fetch-mta-sts` end to end: policies served over real HTTPS on 127.0.0.1 (the
//! testkit [`HttpsServer`], its test authority trusted through `--mta-sts-ca`), policy hosts
//! resolved from a zone file (`--zone`) and from the testkit DNS server (`--nameserver`); and
//! the BIMI ↔ DMARC cross-check on fixture domains.

use std::collections::BTreeMap;
use std::path::PathBuf;

use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, HttpsServer, Reply};
use serde_json::Value;

use crate::harness::{Run, inkan};

fn zone_path() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit/mta-sts-bimi.zone"
    )
    .to_owned()
}

const ENFORCE: &str = "version: STSv1\r\nmode: enforce\r\nmx: mx1.sts-good.test\r\nmx: *.backup.sts-good.test\r\nmax_age: 1209600\r\n";

/// The policy servers of the fixture domains, all on one port, told apart by SNI.
fn policy_server() -> HttpsServer {
    HttpsServer::builder()
        .host("mta-sts.sts-good.test", Reply::text(ENFORCE))
        .host(
            "mta-sts.sts-testing.test",
            Reply::text(
                "version: STSv1\nmode: testing\nmx: mx1.sts-testing.test\nmax_age: 86400\n",
            ),
        )
        .host(
            "mta-sts.sts-uncovered.test",
            Reply::text(
                "version: STSv1\nmode: enforce\nmx: mx1.sts-uncovered.test\nmax_age: 604800\n",
            ),
        )
        .untrusted_host("mta-sts.sts-untrusted.test", Reply::text(ENFORCE))
        .host("mta-sts.sts-slow.test", Reply::Hang)
        .host(
            "mta-sts.sts-moved.test",
            Reply::redirect("https://policies.example.test/sts-moved.txt"),
        )
        .start()
        .unwrap()
}

/// Writes the server's authority to a PEM file.
fn ca_file(server: &HttpsServer) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test-ca.pem");
    std::fs::write(&path, server.ca_pem()).unwrap();
    (dir, path)
}

fn by_domain(run: &Run) -> BTreeMap<String, Value> {
    run.stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}\n{}", run.stderr));
            (v["domain"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

fn find<'a>(report: &'a Value, id: &str) -> Option<&'a Value> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    find(report, id).unwrap_or_else(|| panic!("{id} missing in {}", report["domain"]))
}

fn status(report: &Value, id: &str) -> String {
    check(report, id)["status"].as_str().unwrap().to_owned()
}

const STS_DOMAINS: [&str; 6] = [
    "sts-good.test",
    "sts-testing.test",
    "sts-uncovered.test",
    "sts-untrusted.test",
    "sts-slow.test",
    "sts-moved.test",
];

fn fetch_args<'a>(port: &'a str, ca: &'a str) -> Vec<&'a str> {
    vec![
        "audit",
        "--format",
        "jsonl",
        "--fetch-mta-sts",
        "--mta-sts-ca",
        ca,
        "--mta-sts-port",
        port,
        "--mta-sts-timeout",
        "1",
    ]
}

#[test]
fn mta_sts_policies_fetched_over_https_from_a_zone_file() {
    let server = policy_server();
    let (_dir, ca) = ca_file(&server);
    let port = server.port().to_string();
    let zone = zone_path();
    let mut args = fetch_args(&port, ca.to_str().unwrap());
    args.extend(["--zone", &zone]);
    args.extend(STS_DOMAINS);
    let run = inkan(&args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let reports = by_domain(&run);
    assert_eq!(reports.len(), STS_DOMAINS.len(), "{}", run.stderr);

    let good = &reports["sts-good.test"];
    for (id, expected) in [
        ("mta-sts.record", "pass"),
        ("mta-sts.policy", "pass"),
        ("mta-sts.mode", "pass"),
        ("mta-sts.mx", "pass"),
        ("mta-sts.max-age", "pass"),
    ] {
        assert_eq!(status(good, id), expected, "{id}: {}", check(good, id));
    }
    let policy = check(good, "mta-sts.policy");
    assert_eq!(policy["category"], "mta-sts");
    assert_eq!(policy["evidence"]["txt_id"], "20260301T000000");
    assert_eq!(policy["evidence"]["policy"]["mode"], "enforce");
    assert_eq!(
        policy["evidence"]["url"],
        format!("https://mta-sts.sts-good.test:{port}/.well-known/mta-sts.txt")
    );

    let testing = &reports["sts-testing.test"];
    assert_eq!(status(testing, "mta-sts.mode"), "warn");
    assert!(
        check(testing, "mta-sts.mode")["fix"]
            .as_str()
            .unwrap()
            .contains("mode: enforce")
    );

    let uncovered = check(&reports["sts-uncovered.test"], "mta-sts.mx");
    assert_eq!(uncovered["status"], "fail");
    assert_eq!(
        uncovered["evidence"]["uncovered"],
        serde_json::json!(["mx2.sts-uncovered.test"])
    );

    let untrusted = check(&reports["sts-untrusted.test"], "mta-sts.policy");
    assert_eq!(untrusted["status"], "fail", "{untrusted}");
    assert_eq!(untrusted["evidence"]["error"], "tls");
    assert!(
        untrusted["message"]
            .as_str()
            .unwrap()
            .contains("invalid peer certificate"),
        "{untrusted}"
    );
    assert!(find(&reports["sts-untrusted.test"], "mta-sts.mode").is_none());

    let slow = check(&reports["sts-slow.test"], "mta-sts.policy");
    assert_eq!(slow["status"], "unknown", "{slow}");
    assert_eq!(slow["evidence"]["error"], "timeout");

    let moved = check(&reports["sts-moved.test"], "mta-sts.policy");
    assert_eq!(moved["status"], "fail");
    assert_eq!(
        moved["evidence"]["location"],
        "https://policies.example.test/sts-moved.txt"
    );
    // The redirect was not followed: one request per fetched domain (the untrusted handshake
    // never gets to a request).
    assert_eq!(server.requests(), 5);
}

/// The policy host is resolved by inkan's own resolver: here the testkit DNS server.
#[test]
fn mta_sts_policy_host_resolved_through_the_name_server() {
    let server = policy_server();
    let (_dir, ca) = ca_file(&server);
    let port = server.port().to_string();
    let text = std::fs::read_to_string(zone_path()).unwrap();
    let zone = MemoryResolver::from_zone_text(&text, None, "mta-sts-bimi.zone").unwrap();
    let dns = DnsServer::builder(zone).start().unwrap();
    let nameserver = dns.addr().to_string();
    let mut args = fetch_args(&port, ca.to_str().unwrap());
    args.extend(["--nameserver", &nameserver, "sts-good.test"]);
    let run = inkan(&args);
    let reports = by_domain(&run);
    let good = &reports["sts-good.test"];
    assert_eq!(status(good, "mta-sts.policy"), "pass", "{}", run.stderr);
    assert_eq!(status(good, "mta-sts.mx"), "pass");
}

#[test]
fn without_the_flag_no_policy_is_fetched() {
    let server = policy_server();
    let zone = zone_path();
    let run = inkan(&[
        "audit",
        "--format",
        "jsonl",
        "--zone",
        &zone,
        "sts-good.test",
    ]);
    let reports = by_domain(&run);
    assert_eq!(status(&reports["sts-good.test"], "mta-sts.record"), "pass");
    assert!(find(&reports["sts-good.test"], "mta-sts.policy").is_none());
    assert_eq!(server.requests(), 0);
}

#[test]
fn without_the_test_authority_the_certificate_is_refused() {
    let server = policy_server();
    let port = server.port().to_string();
    let zone = zone_path();
    let run = inkan(&[
        "audit",
        "--format",
        "jsonl",
        "--zone",
        &zone,
        "--fetch-mta-sts",
        "--mta-sts-port",
        &port,
        "sts-good.test",
    ]);
    let policy = check(&by_domain(&run)["sts-good.test"], "mta-sts.policy").clone();
    assert_eq!(policy["status"], "fail");
    assert!(
        policy["message"]
            .as_str()
            .unwrap()
            .contains("UnknownIssuer"),
        "{policy}"
    );
    assert!(policy["fix"].as_str().unwrap().contains("certificate"));
}

#[test]
fn mta_sts_option_errors_exit_2() {
    let zone = zone_path();
    let missing = inkan(&[
        "audit",
        "--zone",
        &zone,
        "--fetch-mta-sts",
        "--mta-sts-ca",
        "/nonexistent/ca.pem",
        "sts-good.test",
    ]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("/nonexistent/ca.pem"),
        "{}",
        missing.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let bad = inkan(&[
        "audit",
        "--zone",
        &zone,
        "--fetch-mta-sts",
        "--mta-sts-ca",
        not_pem.to_str().unwrap(),
        "sts-good.test",
    ]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no CERTIFICATE"), "{}", bad.stderr);

    let without_flag = inkan(&[
        "audit",
        "--zone",
        &zone,
        "--mta-sts-ca",
        "x.pem",
        "sts-good.test",
    ]);
    assert_eq!(without_flag.code, 2);
    assert!(
        without_flag.stderr.contains("--fetch-mta-sts"),
        "{}",
        without_flag.stderr
    );
}

#[test]
fn bimi_needs_dmarc_at_enforcement() {
    let zone = zone_path();
    let run = inkan(&[
        "audit",
        "--format",
        "jsonl",
        "--zone",
        &zone,
        "bimi-ok.test",
        "bimi-none.test",
        "bimi-pct.test",
        "news.bimi-org.test",
        "bimi-declined.test",
    ]);
    let reports = by_domain(&run);
    assert_eq!(reports.len(), 5, "{}", run.stderr);

    let ok = check(&reports["bimi-ok.test"], "bimi.dmarc");
    assert_eq!(
        (ok["status"].as_str(), ok["category"].as_str()),
        (Some("pass"), Some("bimi"))
    );

    let none = check(&reports["bimi-none.test"], "bimi.dmarc");
    assert_eq!(none["status"], "fail");
    let message = none["message"].as_str().unwrap();
    assert!(message.contains("p=none"), "{message}");
    assert!(message.contains("not at enforcement"), "{message}");
    assert!(
        none["fix"]
            .as_str()
            .unwrap()
            .contains("p=quarantine or p=reject at _dmarc.bimi-none.test")
    );

    let pct = check(&reports["bimi-pct.test"], "bimi.dmarc");
    assert_eq!(pct["status"], "fail");
    assert!(pct["message"].as_str().unwrap().contains("pct=50"));

    let sub = check(&reports["news.bimi-org.test"], "bimi.dmarc");
    assert_eq!(sub["status"], "fail");
    assert_eq!(sub["evidence"]["org_domain"], "bimi-org.test");
    assert!(
        sub["message"].as_str().unwrap().contains("sp=none"),
        "{sub}"
    );

    assert_eq!(
        status(&reports["bimi-declined.test"], "bimi.record"),
        "pass"
    );
    assert!(find(&reports["bimi-declined.test"], "bimi.dmarc").is_none());
}
