//! `inkan spf check` and `inkan spf analyze` end to end: the binary against zone files
//! (`--zone`) and against the testkit DNS server on 127.0.0.1 (`--nameserver`), including the
//! whole RFC 7208 openspf suite (<https://www.rfc-editor.org/rfc/rfc7208>).

use std::sync::Mutex;

use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, load_spf_suite};
use serde_json::Value;

use crate::harness::{Run, inkan};

const RFC7208: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/spf/rfc7208-tests.yml"
);

const ZONE: &str = r#"$ORIGIN example.test.
$TTL 300
@     IN SOA ns1 hostmaster 1 7200 900 1209600 120
@     IN TXT "v=spf1 a mx include:_spf.hoster.test ip4:192.0.2.0/24 ip4:192.0.2.7 -all"
@     IN A 192.0.2.10
@     IN MX 10 mx1
mx1   IN A 198.51.100.25
clean IN TXT "v=spf1 ip4:198.51.100.0/24 -all"
big   IN TXT "v=spf1 include:a.hoster.test include:b.hoster.test include:c.hoster.test ~all"
$ORIGIN hoster.test.
_spf  IN TXT "v=spf1 ip4:203.0.113.0/24 ptr ~all"
a     IN TXT "v=spf1 a:x1.hoster.test a:x2.hoster.test a:x3.hoster.test ~all"
b     IN TXT "v=spf1 a:x1.hoster.test a:x2.hoster.test a:x3.hoster.test ~all"
c     IN TXT "v=spf1 a:x1.hoster.test a:x2.hoster.test a:x3.hoster.test ~all"
x1    IN A 203.0.113.1
x2    IN A 203.0.113.2
x3    IN A 203.0.113.3
"#;

fn with_zone(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spf.zone");
    std::fs::write(&path, ZONE).unwrap();
    let mut all = vec!["--zone", path.to_str().unwrap()];
    all.extend_from_slice(args);
    inkan(&all)
}

#[test]
fn check_pass_exits_0_with_the_contract_fields() {
    let run = with_zone(&[
        "--format",
        "json",
        "spf",
        "check",
        "--ip",
        "203.0.113.5",
        "--helo",
        "mx.example.test",
        "--sender",
        "a@example.test",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v = run.json();
    assert_eq!(v["result"], "pass");
    assert_eq!(v["mechanism"], "include:_spf.hoster.test");
    assert_eq!(v["dns_lookups"], 3);
    assert_eq!(v["void_lookups"], 0);
    assert_eq!(v["explanation"], Value::Null);
    assert_eq!(v["identity"], "mailfrom");
    let trace = v["trace"].as_array().unwrap();
    assert!(
        trace.iter().any(|s| s["step"] == "term"
            && s["term"] == "ip4:203.0.113.0/24"
            && s["matched"] == true)
    );
}

#[test]
fn check_fail_exits_1_with_explanation_and_text_form() {
    let run = with_zone(&[
        "--format",
        "json",
        "spf",
        "check",
        "--ip",
        "192.0.3.5",
        "--sender",
        "a@example.test",
    ]);
    assert_eq!(run.code, 1);
    let v = run.json();
    assert_eq!(v["result"], "fail");
    assert_eq!(v["mechanism"], "-all");
    assert_eq!(
        v["explanation"],
        "192.0.3.5 is not one of example.test's designated mail senders"
    );
    let text = with_zone(&[
        "spf",
        "check",
        "--ip",
        "192.0.3.5",
        "--helo",
        "example.test",
    ]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.starts_with(
            "spf=fail for 192.0.3.5 as helo example.test (sender postmaster@example.test)"
        ),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("matched: -all in example.test"),
        "{}",
        text.stdout
    );
}

#[test]
fn check_without_helo_or_sender_domain_is_a_usage_error() {
    let run = with_zone(&["spf", "check", "--ip", "192.0.2.1"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("give --helo"), "{}", run.stderr);
    let run = with_zone(&["spf", "check", "--ip", "not-an-ip", "--helo", "x.test"]);
    assert_eq!(run.code, 2);
}

#[test]
fn analyze_reports_tree_costs_findings_and_ip_paths() {
    let run = with_zone(&[
        "--format",
        "json",
        "spf",
        "analyze",
        "example.test",
        "--ip",
        "203.0.113.5",
        "--ip",
        "192.0.3.1",
    ]);
    assert_eq!(run.code, 1, "ptr and a redundant range are warnings");
    let v = run.json();
    assert_eq!(v["lookups_total"], 4);
    assert_eq!(v["void_lookups_total"], 0);
    assert_eq!(v["tree"]["own_lookups"], 3);
    assert_eq!(v["tree"]["terms"][2]["child"]["domain"], "_spf.hoster.test");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"spf.mechanism.ptr") && ids.contains(&"spf.ip.redundant"),
        "{ids:?}"
    );
    assert_eq!(v["ips"][0]["authorized"], true);
    assert_eq!(
        v["ips"][0]["path"],
        serde_json::json!(["include:_spf.hoster.test", "ip4:203.0.113.0/24"])
    );
    assert_eq!(v["ips"][1]["result"], "fail");
    let clean = with_zone(&["spf", "analyze", "clean.example.test"]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);
}

#[test]
fn analyze_text_names_the_include_over_the_limit() {
    let run = with_zone(&[
        "spf",
        "analyze",
        "big.example.test",
        "--ip",
        "203.0.113.3",
        "--ip",
        "192.0.2.99",
    ]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("big.example.test: 12 DNS lookups of 10 (over the limit)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  include:b.hoster.test  (1 + 3 = 4 lookups)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("'include:c.hoster.test' (cost 4, 8 → 12)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "203.0.113.3: pass (authorized), include:a.hoster.test → a:x3.hoster.test → 203.0.113.3/32"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("192.0.2.99: permerror (not authorized), ~all"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("without the limits it would be softfail"),
        "{}",
        run.stdout
    );
}

/// RFC 7208 openspf suite through the binary and a real DNS server: every one of the 203
/// cases, TIMEOUT names never answered, `--timeout 1`. Cases run on parallel threads.
#[test]
fn rfc7208_suite_end_to_end_against_a_dns_server() {
    let scenarios = load_spf_suite(RFC7208);
    let mut servers = Vec::new();
    let mut jobs = Vec::new();
    for scenario in scenarios {
        let server = DnsServer::builder(MemoryResolver::from_records(scenario.records.clone()))
            .faults(scenario.faults.clone())
            .start()
            .expect("start the test DNS server");
        let addr = server.addr().to_string();
        servers.push(server);
        for case in scenario.cases {
            jobs.push((addr.clone(), case));
        }
    }
    assert_eq!(jobs.len(), 203);
    let jobs = Mutex::new(jobs);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| {
                loop {
                    let Some((addr, case)) = jobs.lock().unwrap().pop() else {
                        break;
                    };
                    let ip = case.host.to_string();
                    let sender = format!("--sender={}", case.mailfrom);
                    let helo = format!("--helo={}", case.helo);
                    let run = inkan(&[
                        "--nameserver",
                        &addr,
                        "--timeout",
                        "1",
                        "--format",
                        "json",
                        "spf",
                        "check",
                        "--ip",
                        &ip,
                        &helo,
                        &sender,
                    ]);
                    let problem = match serde_json::from_str::<Value>(&run.stdout) {
                        Err(e) => Some(format!(
                            "{}: no JSON ({e}); exit {}; stderr {}",
                            case.id, run.code, run.stderr
                        )),
                        Ok(v) => {
                            let got = v["result"].as_str().unwrap_or("?").to_owned();
                            let want_code = if got == "pass" { 0 } else { 1 };
                            if !case.results.contains(&got) {
                                Some(format!(
                                    "{}: expected {:?}, got {got} ({})",
                                    case.id, case.results, v["reason"]
                                ))
                            } else if run.code != want_code {
                                Some(format!("{}: {got} exited {}", case.id, run.code))
                            } else {
                                match case.explanation.as_deref() {
                                    Some("DEFAULT") if v["explanation_source"] != "default" => {
                                        Some(format!(
                                            "{}: expected the default explanation, got {}",
                                            case.id, v["explanation"]
                                        ))
                                    }
                                    Some(want)
                                        if want != "DEFAULT"
                                            && !v["explanation"]
                                                .as_str()
                                                .is_some_and(|e| e.eq_ignore_ascii_case(want)) =>
                                    {
                                        Some(format!(
                                            "{}: expected explanation {want:?}, got {}",
                                            case.id, v["explanation"]
                                        ))
                                    }
                                    _ => None,
                                }
                            }
                        }
                    };
                    if let Some(p) = problem {
                        failures.lock().unwrap().push(p);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} of 203 cases failed end to end:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
