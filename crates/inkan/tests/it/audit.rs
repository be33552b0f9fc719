//! `inkan audit` end to end: fixture domains for every kind of problem, served from a zone file
//! (`--zone`) and by the testkit DNS server on 127.0.0.1 (`--nameserver`), with exact statuses
//! and verdicts asserted; output formats, bad input lines, exit codes; and a fleet of 10,000
//! generated domains through the real server with bounded memory.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, Fault, FaultPlan};
use serde_json::Value;

use crate::harness::{Run, inkan, inkan_with_stdin};

fn fixture_path() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit/problems.zone"
    )
    .to_owned()
}

/// The domains of the fixture zone with the selectors to check (empty: discovery).
const FIXTURE_DOMAINS: &str = "\
# domain,selectors
good.test,s1
nomx.test
nullmx.test
empty.test
missing.test
badopt.test
twosts.test
noauth.test
spflookups.test,s1
spfvoid.test,s1
spfsyntax.test,s1
twospf.test
dkimcname.test,s1;old
news.org.test,k1
timeout.test,s1
servfail.test,s1
";

/// Names whose every question times out or fails in the served fixture.
fn fault_plan() -> FaultPlan {
    let mut plan = FaultPlan::new();
    for (domain, fault) in [
        ("timeout.test", Fault::Timeout),
        ("servfail.test", Fault::ServFail),
    ] {
        for prefix in [
            "",
            "_dmarc.",
            "s1._domainkey.",
            "_mta-sts.",
            "_smtp._tls.",
            "default._bimi.",
        ] {
            plan.add(&format!("{prefix}{domain}"), fault, []);
        }
    }
    plan
}

fn serve_fixture() -> DnsServer {
    let text = std::fs::read_to_string(fixture_path()).unwrap();
    let zone = MemoryResolver::from_zone_text(&text, None, "problems.zone").unwrap();
    DnsServer::builder(zone)
        .faults(fault_plan())
        .start()
        .unwrap()
}

/// Writes `text` to a file in a fresh directory.
fn temp_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("domains.txt");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// The JSON Lines output as domain → report.
fn by_domain(run: &Run) -> BTreeMap<String, Value> {
    run.stdout
        .lines()
        .map(|l| {
            let v: Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}"));
            (v["domain"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

/// The statuses of the checks with `id`, in order.
fn statuses(report: &Value, id: &str) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == id)
        .map(|c| c["status"].as_str().unwrap().to_owned())
        .collect()
}

fn status(report: &Value, id: &str) -> String {
    let all = statuses(report, id);
    assert_eq!(all.len(), 1, "{id} in {}: {all:?}", report["domain"]);
    all.into_iter().next().unwrap()
}

/// Asserts the statuses every fixture domain must have, whichever way DNS was served.
fn assert_fixture_statuses(reports: &BTreeMap<String, Value>) {
    let r = |d: &str| {
        reports
            .get(d)
            .unwrap_or_else(|| panic!("{d} missing from output"))
    };
    let expect = |d: &str, id: &str, want: &str| {
        assert_eq!(
            status(r(d), id),
            want,
            "{d} {id}: {}",
            serde_json::to_string_pretty(r(d)).unwrap()
        );
    };
    expect("good.test", "domain.exists", "pass");
    expect("good.test", "mx.present", "pass");
    expect("good.test", "ptr.fcrdns", "pass");
    expect("good.test", "dkim.selector", "pass");
    expect("good.test", "mta-sts.record", "pass");
    expect("good.test", "tls-rpt.record", "pass");
    expect("good.test", "bimi.record", "pass");
    expect("nomx.test", "domain.exists", "pass");
    expect("nomx.test", "mx.present", "warn");
    expect("nullmx.test", "mx.present", "warn");
    expect("nullmx.test", "mta-sts.record", "skip");
    expect("empty.test", "domain.exists", "fail");
    expect("empty.test", "mx.present", "fail");
    expect("missing.test", "domain.exists", "fail");
    expect("badopt.test", "mta-sts.record", "fail");
    expect("badopt.test", "tls-rpt.record", "fail");
    expect("badopt.test", "bimi.record", "fail");
    expect("twosts.test", "mta-sts.record", "fail");
    expect("noauth.test", "dkim.discovery", "unknown");
    assert!(statuses(r("noauth.test"), "dkim.selector").is_empty());
    expect("spflookups.test", "dkim.selector", "warn");
    expect("spfvoid.test", "dkim.selector", "fail");
    expect("spfsyntax.test", "dkim.selector", "warn");
    assert_eq!(
        statuses(r("dkimcname.test"), "dkim.selector"),
        ["warn", "fail"]
    );
    let cname = &r("dkimcname.test")["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "dkim.selector")
        .unwrap()["evidence"]["cname"];
    assert_eq!(cname[0], "s1.dkim.provider.test");
    expect("news.org.test", "dkim.selector", "pass");

    for id in [
        "spf.record",
        "spf.lookups",
        "spf.void-lookups",
        "spf.all",
        "spf.tree",
        "spf.authorizes",
    ] {
        expect("good.test", id, "pass");
    }
    expect("noauth.test", "spf.record", "fail");
    expect("spflookups.test", "spf.lookups", "fail");
    expect("spflookups.test", "spf.all", "pass");
    expect("spfvoid.test", "spf.void-lookups", "fail");
    expect("spfvoid.test", "spf.all", "fail");
    expect("spfsyntax.test", "spf.record", "fail");
    expect("twospf.test", "spf.record", "fail");
    expect("dkimcname.test", "spf.record", "pass");
    expect("dkimcname.test", "spf.authorizes", "fail");
    expect("news.org.test", "spf.record", "pass");

    for id in [
        "dmarc.record",
        "dmarc.policy",
        "dmarc.subdomain-policy",
        "dmarc.alignment",
        "dmarc.reporting",
    ] {
        expect("good.test", id, "pass");
    }
    assert!(statuses(r("good.test"), "dmarc.external-destinations").is_empty());
    expect("noauth.test", "dmarc.record", "fail");
    expect("spflookups.test", "dmarc.policy", "warn");
    expect("spflookups.test", "dmarc.reporting", "warn");
    expect("spfvoid.test", "dmarc.policy", "pass");
    expect("spfvoid.test", "dmarc.subdomain-policy", "warn");
    expect("spfsyntax.test", "dmarc.record", "warn");
    expect("spfsyntax.test", "dmarc.policy", "warn");
    expect("dkimcname.test", "dmarc.external-destinations", "fail");
    expect("news.org.test", "dmarc.record", "pass");
    expect("news.org.test", "dmarc.policy", "pass");
    expect("news.org.test", "dmarc.subdomain-policy", "warn");
    let inherited = r("news.org.test")["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "dmarc.record")
        .unwrap();
    assert_eq!(inherited["evidence"]["record_domain"], "org.test");

    // Verdicts per profile.
    for profile in [
        "gmail",
        "gmail-bulk",
        "yahoo",
        "yahoo-bulk",
        "outlook-bulk",
        "apple-bulk",
        "all-bulk",
    ] {
        assert_eq!(
            r("good.test")["verdicts"][profile],
            "pass",
            "good.test {profile}"
        );
    }
    for profile in [
        "gmail-bulk",
        "yahoo-bulk",
        "outlook-bulk",
        "apple-bulk",
        "all-bulk",
    ] {
        assert_eq!(
            r("noauth.test")["verdicts"][profile],
            "fail",
            "noauth.test {profile}"
        );
    }
    // No SPF, and DKIM discovery found nothing: "SPF or DKIM" cannot be judged, so unknown.
    assert_eq!(r("noauth.test")["verdicts"]["gmail"], "unknown");
    assert_eq!(r("spflookups.test")["verdicts"]["gmail-bulk"], "fail");
    assert_eq!(
        r("spflookups.test")["verdicts"]["gmail"],
        "pass",
        "DKIM alone satisfies 'SPF or DKIM'"
    );

    // Verdicts that SPF and DMARC cannot change: a domain that does not exist fails Yahoo's
    // rules; discovery that finds nothing leaves DKIM-only rules unknown, never failed.
    assert_eq!(r("missing.test")["verdicts"]["yahoo"], "fail");
    assert_eq!(r("empty.test")["verdicts"]["yahoo-bulk"], "fail");
    assert_eq!(
        r("spfvoid.test")["verdicts"]["gmail-bulk"],
        "fail",
        "512-bit key"
    );
    assert_eq!(
        r("dkimcname.test")["verdicts"]["outlook-bulk"],
        "fail",
        "revoked key at a named selector"
    );
    for verdicts in reports.values().map(|v| &v["verdicts"]) {
        assert_eq!(verdicts.as_object().unwrap().len(), 7);
    }
}

/// Text, JSON and CSV come in the order of the domain list even when the first domain is the
/// slowest (every question about it times out); JSON Lines comes as each domain finishes.
#[test]
fn reports_are_printed_in_input_order_except_json_lines() {
    let server = serve_fixture();
    let domains = [
        "timeout.test",
        "nomx.test",
        "nullmx.test",
        "empty.test",
        "twospf.test",
    ];
    let (_dir, list) = temp_file(&domains.join("\n"));
    let addr = server.addr().to_string();
    let audit = |format: &str| {
        inkan(&[
            "--nameserver",
            &addr,
            "--timeout",
            "0.5",
            "--format",
            format,
            "audit",
            "--domains",
            list.to_str().unwrap(),
            "--retry-backoff",
            "10",
        ])
    };
    let jsonl = audit("jsonl");
    let finished: Vec<String> = jsonl
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["domain"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(finished.len(), domains.len(), "{}", jsonl.stderr);
    assert_eq!(
        finished.last().map(String::as_str),
        Some("timeout.test"),
        "{finished:?}"
    );

    let csv = audit("csv");
    let rows: Vec<&str> = csv
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(rows, domains, "{}", csv.stdout);

    let json = audit("json");
    let array: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let names: Vec<&str> = array
        .iter()
        .map(|r| r["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, domains);

    let text = audit("text");
    let at: Vec<usize> = domains
        .iter()
        .map(|d| {
            text.stdout
                .find(d)
                .unwrap_or_else(|| panic!("{d} missing: {}", text.stdout))
        })
        .collect();
    assert!(at.is_sorted(), "blocks out of input order: {}", text.stdout);
}

#[test]
fn fixtures_from_zone_file_have_exact_statuses() {
    let (_dir, list) = temp_file(FIXTURE_DOMAINS);
    let run = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "jsonl",
        "audit",
        "--domains",
        list.to_str().unwrap(),
        "--sending-ip",
        "192.0.2.10",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let reports = by_domain(&run);
    assert_eq!(reports.len(), 16, "{}", run.stderr);
    assert_fixture_statuses(&reports);
    // Zone files know no failures: absent names are NXDOMAIN.
    assert_eq!(status(&reports["timeout.test"], "domain.exists"), "fail");
    assert!(
        run.stderr.contains("inkan audit: 16 domains"),
        "{}",
        run.stderr
    );
}

#[test]
fn fixtures_over_the_network_have_exact_statuses_and_failures_are_unknown() {
    let server = serve_fixture();
    let (_dir, list) = temp_file(FIXTURE_DOMAINS);
    let addr = server.addr().to_string();
    let run = inkan(&[
        "--nameserver",
        &addr,
        "--timeout",
        "1.5",
        "--format",
        "jsonl",
        "audit",
        "--domains",
        list.to_str().unwrap(),
        "--sending-ip",
        "192.0.2.10",
        "--retry-backoff",
        "10",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let reports = by_domain(&run);
    assert_eq!(reports.len(), 16);
    assert_fixture_statuses(&reports);
    for domain in ["timeout.test", "servfail.test"] {
        let r = &reports[domain];
        for id in [
            "domain.exists",
            "mx.present",
            "dkim.selector",
            "mta-sts.record",
            "tls-rpt.record",
            "bimi.record",
        ] {
            assert_eq!(status(r, id), "unknown", "{domain} {id}");
        }
        for checks in r["checks"].as_array().unwrap() {
            assert_ne!(
                checks["status"], "fail",
                "{domain}: a DNS failure is never a fail: {checks}"
            );
        }
        for (profile, verdict) in r["verdicts"].as_object().unwrap() {
            assert_eq!(verdict, "unknown", "{domain} {profile}");
        }
    }
    // One retry: every faulted question was asked at least twice.
    assert!(server.query_count_for("servfail.test", inkan_dns::RecordType::Mx) >= 2);
}

#[test]
fn reverse_dns_of_each_sending_ip() {
    let run = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "json",
        "audit",
        "good.test",
        "--selector",
        "s1",
        "--sending-ip",
        "192.0.2.10",
        "--sending-ip",
        "192.0.2.20",
        "--sending-ip",
        "192.0.2.30",
        "--sending-ip",
        "192.0.2.40",
    ]);
    let report = run.json();
    assert_eq!(
        statuses(&report, "ptr.fcrdns"),
        ["pass", "warn", "fail", "fail"]
    );
    let ptr: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "ptr.fcrdns")
        .collect();
    assert_eq!(ptr[1]["evidence"]["ptr"][0], "20-2-0-192.dynamic.isp.test");
    assert!(
        ptr[2]["message"]
            .as_str()
            .unwrap()
            .contains("does not resolve back")
    );
    assert!(ptr[3]["fix"].as_str().unwrap().contains("192.0.2.40"));
    assert_eq!(
        report["verdicts"]["gmail"], "fail",
        "PTR is a rule for every Gmail sender"
    );

    let no_ip = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "json",
        "audit",
        "good.test",
        "--selector",
        "s1",
    ])
    .json();
    assert_eq!(statuses(&no_ip, "ptr.fcrdns"), ["skip"]);
}

#[test]
fn a_good_domain_passes_every_profile_and_exits_0() {
    let run = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "json",
        "audit",
        "good.test",
        "--selector",
        "s1",
        "--sending-ip",
        "192.0.2.10",
        "--profile",
        "gmail",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdicts"]["gmail"], "pass");
    assert_eq!(report["verdicts"]["yahoo"], "pass");
    let yahoo = inkan(&[
        "--zone",
        &fixture_path(),
        "audit",
        "good.test",
        "--selector",
        "s1",
        "--sending-ip",
        "192.0.2.10",
        "--profile",
        "yahoo",
    ]);
    assert_eq!(yahoo.code, 0, "{}", yahoo.stdout);
}

#[test]
fn global_options_are_accepted_after_the_subcommand() {
    // --timeout is global, and audit's own --mta-sts-timeout must not shadow it.
    let run = inkan(&[
        "audit",
        "good.test",
        "--zone",
        &fixture_path(),
        "--timeout",
        "3",
        "--format",
        "json",
        "--selector",
        "s1",
        "--sending-ip",
        "192.0.2.10",
        "--profile",
        "gmail",
    ]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["verdicts"]["gmail"], "pass");
    let bad = inkan(&[
        "audit",
        "good.test",
        "--zone",
        &fixture_path(),
        "--timeout",
        "soon",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("timeout"), "{}", bad.stderr);
}

#[test]
fn text_output_reads_at_a_glance() {
    let run = inkan(&[
        "--zone",
        &fixture_path(),
        "audit",
        "badopt.test",
        "--profile",
        "gmail-bulk",
    ]);
    assert_eq!(run.code, 1);
    let first = run.stdout.lines().next().unwrap();
    assert!(first.starts_with("badopt.test  gmail-bulk: "), "{first}");
    assert!(
        run.stdout.contains("✗ fail    mta-sts.record"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("      fix: correct the MTA-STS record at _mta-sts.badopt.test"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("? unknown dkim.discovery"),
        "{}",
        run.stdout
    );
    let quiet = inkan(&["--zone", &fixture_path(), "-q", "audit", "badopt.test"]);
    assert!(!quiet.stdout.contains("✓"), "{}", quiet.stdout);
    assert!(quiet.stdout.contains("✗"), "{}", quiet.stdout);
}

#[test]
fn bad_lines_are_reported_by_number_and_skipped() {
    let input =
        "good.test,s1\n# comment\nnot a domain\n\nbücher.test\ngood.test,bad!selector\nnomx.test\n";
    let run = inkan_with_stdin(
        &[
            "--zone",
            &fixture_path(),
            "--format",
            "jsonl",
            "audit",
            "--domains",
            "-",
        ],
        input.as_bytes(),
    );
    assert!(
        run.stderr
            .contains("input line 3: 'not a domain' is not a domain name"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("input line 6: 'bad!selector' is not a DKIM selector"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("2 bad input line(s) skipped"),
        "{}",
        run.stderr
    );
    let reports = by_domain(&run);
    let domains: Vec<&String> = reports.keys().collect();
    assert_eq!(domains, ["good.test", "nomx.test", "xn--bcher-kva.test"]);
    assert_eq!(
        status(&reports["xn--bcher-kva.test"], "domain.exists"),
        "fail"
    );
}

#[test]
fn exit_codes() {
    let none = inkan(&["--zone", &fixture_path(), "audit"]);
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("no domain to audit"),
        "{}",
        none.stderr
    );
    let unreadable = inkan(&[
        "--zone",
        &fixture_path(),
        "audit",
        "--domains",
        "/nonexistent/list",
    ]);
    assert_eq!(unreadable.code, 2);
    assert!(
        unreadable.stderr.contains("/nonexistent/list"),
        "{}",
        unreadable.stderr
    );
    let bad_zone = inkan(&["--zone", "/nonexistent/zone", "audit", "good.test"]);
    assert_eq!(bad_zone.code, 2);
    let only_bad = inkan_with_stdin(
        &["--zone", &fixture_path(), "audit", "--domains", "-"],
        b"###\n-bad-.test\n",
    );
    assert_eq!(only_bad.code, 2, "{}", only_bad.stderr);
    let unknown_profile = inkan(&["audit", "x.test", "--profile", "hotmail"]);
    assert_eq!(unknown_profile.code, 2);
}

#[test]
fn json_csv_and_html_formats() {
    let one = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "json",
        "audit",
        "nomx.test",
    ])
    .json();
    assert_eq!(one["domain"], "nomx.test");
    for check in one["checks"].as_array().unwrap() {
        for key in [
            "id", "category", "status", "rules", "message", "evidence", "fix",
        ] {
            assert!(check.get(key).is_some(), "{key} missing from {check}");
        }
    }
    let many = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "json",
        "audit",
        "nomx.test",
        "good.test",
    ])
    .json();
    assert_eq!(many.as_array().unwrap().len(), 2);

    let csv = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "csv",
        "audit",
        "empty.test",
    ]);
    let mut lines = csv.stdout.lines();
    assert_eq!(
        lines.next().unwrap(),
        "domain,gmail,gmail-bulk,yahoo,yahoo-bulk,outlook-bulk,apple-bulk,all-bulk,fail,warn,unknown,failed_checks"
    );
    assert_eq!(
        lines.next().unwrap(),
        "empty.test,unknown,fail,fail,fail,fail,fail,fail,4,0,1,domain.exists mx.present spf.record dmarc.record"
    );

    let (_dir, list) = temp_file(FIXTURE_DOMAINS);
    let html = inkan(&[
        "--zone",
        &fixture_path(),
        "--format",
        "html",
        "audit",
        "--domains",
        list.to_str().unwrap(),
    ]);
    assert!(html.stdout.starts_with("<!DOCTYPE html>"));
    assert!(html.stdout.contains("<svg"));
    assert!(html.stdout.contains("yahoo.domain-resolves"));
    assert!(html.stdout.contains("empty.test"));
    assert!(!html.stdout.contains("src=\"http"), "no external assets");
    assert!(!html.stdout.contains("<script"), "no script");
}

#[test]
fn rule_catalogue_is_listed() {
    let text = inkan(&["audit", "--list-rules"]);
    assert_eq!(text.code, 0);
    assert!(text.stdout.contains("gmail.arc-forwarding"));
    assert!(text.stdout.contains("removed 2026-03-01"));
    let json = inkan(&["--format", "json", "audit", "--list-rules"]).json();
    assert_eq!(json["profiles"].as_array().unwrap().len(), 7);
}

/// Peak resident memory of a running process, from /proc (Linux).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn fleet_of_ten_thousand_domains_through_the_real_server() {
    const N: usize = 10_000;
    let mut zone =
        String::from("$ORIGIN fleet.test.\n$TTL 3600\n@ SOA ns hostmaster 1 3600 600 86400 300\n");
    let mut list = String::from("domain,selectors\n");
    for i in 0..N {
        let d = format!("d{i:05}");
        zone.push_str(&format!("{d} MX 10 mx.fleet.test.\n"));
        if i % 10 != 0 {
            zone.push_str(&format!("s1._domainkey.{d} TXT \"v=DKIM1; k=ed25519; p=3d+1ZQQ0JUNwhHR5jO94ky9+X+cWJUMw9zeYIZtwHWY=\"\n"));
        }
        list.push_str(&format!("{d}.fleet.test,s1\n"));
    }
    let server =
        DnsServer::start(MemoryResolver::from_zone_text(&zone, None, "fleet.zone").unwrap())
            .unwrap();
    let (_dir, path) = temp_file(&list);
    let mut child = Command::new(env!("CARGO_BIN_EXE_inkan"))
        .args([
            "--nameserver",
            &server.addr().to_string(),
            "--format",
            "jsonl",
            "audit",
            "--domains",
        ])
        .arg(&path)
        .args(["--profile", "gmail", "--concurrency", "256"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut verdicts = BTreeMap::<String, usize>::new();
        let mut lines = 0;
        for line in std::io::BufReader::new(stdout).lines() {
            let v: Value = serde_json::from_str(&line.unwrap()).unwrap();
            *verdicts
                .entry(v["verdicts"]["gmail"].as_str().unwrap().to_owned())
                .or_default() += 1;
            lines += 1;
        }
        (lines, verdicts)
    });
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    let (lines, verdicts) = reader.join().unwrap();
    assert_eq!(lines, N, "{stderr}");
    // Ed25519-only keys warn (pass the rule); the tenth without a key fails "SPF or DKIM" only
    // once SPF is judged too, so it is the DKIM side that decides here.
    assert_eq!(
        verdicts.get("pass").copied().unwrap_or(0)
            + verdicts.get("fail").copied().unwrap_or(0)
            + verdicts.get("unknown").copied().unwrap_or(0),
        N
    );
    assert!(
        stderr.contains(&format!("inkan audit: {N} domains")),
        "{stderr}"
    );
    assert!(peak > 0, "could not read /proc/{pid}/status");
    assert!(peak < 200 * 1024, "peak RSS {peak} KiB for {N} domains");
    let _ = std::io::stdout().flush();
}
