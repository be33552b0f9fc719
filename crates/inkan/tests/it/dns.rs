//! `inkan dns` end to end: the binary against the testkit DNS server on 127.0.0.1
//! (`--nameserver`) and against the same zone read from a file (`--zone`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, Fault, FaultPlan};
use serde_json::{Value, json};

use crate::harness::{Run, inkan};

const ZONE: &str = r#"$ORIGIN example.test.
$TTL 300
@           IN SOA ns1 hostmaster 2026112801 7200 900 1209600 120
@           3600 IN NS ns1
ns1         3600 IN A 192.0.2.53
@           IN MX 10 mx1
mx1         600 IN A 192.0.2.25
mx1         600 IN AAAA 2001:db8::25
@           IN TXT "v=spf1 ip4:192.0.2.0/24 " "-all"
_dmarc      IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
www         120 IN CNAME web
web         90 IN CNAME host
host        60 IN A 192.0.2.80
host        60 IN TXT "behind two aliases"
big         IN TXT ( "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                     "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
                     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
                     "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
                     "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
                     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy" )
"#;

/// The zone served over the network and written to a file, with two names that fail.
struct Fixture {
    server: DnsServer,
    zone_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let zone_file = dir.path().join("example.test.zone");
        std::fs::write(&zone_file, ZONE).unwrap();
        let zone = MemoryResolver::from_zone_text(ZONE, None, "example.test.zone").unwrap();
        let mut plan = FaultPlan::new();
        plan.add("timeout.example.test", Fault::Timeout, []);
        plan.add("servfail.example.test", Fault::ServFail, []);
        // Large answers must take the TCP path, whatever EDNS size the client offers.
        let server = DnsServer::builder(zone)
            .faults(plan)
            .max_udp_payload(512)
            .start()
            .unwrap();
        Fixture {
            server,
            zone_file,
            _dir: dir,
        }
    }

    fn with_nameserver(&self, args: &[&str]) -> Run {
        let addr = self.server.addr().to_string();
        let mut all = vec!["dns"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--nameserver", &addr]);
        inkan(&all)
    }

    fn with_zone_file(&self, args: &[&str]) -> Run {
        let zone = self.zone_file.to_str().unwrap();
        let mut all = vec!["dns"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--zone", zone]);
        inkan(&all)
    }
}

/// `--zone FILE` and `--nameserver` show the same records, TTLs and aliases, in text and JSON.
#[test]
fn zone_file_and_nameserver_show_the_same_answers() {
    let fx = Fixture::new();
    let questions: &[&[&str]] = &[
        &["example.test"],
        &["example.test", "MX"],
        &["example.test", "NS"],
        &["example.test", "SOA"],
        &["_dmarc.example.test", "TXT"],
        &["mx1.example.test", "AAAA"],
        &["www.example.test", "A"],
        &["www.example.test", "TXT"],
        &["www.example.test", "CNAME"],
        &["big.example.test"],
        &["nope.example.test"],
        &["host.example.test", "MX"],
    ];
    for question in questions {
        let file = fx.with_zone_file(question);
        let net = fx.with_nameserver(question);
        assert_eq!(
            net.stdout, file.stdout,
            "{question:?}\nnetwork stderr: {}",
            net.stderr
        );
        assert_eq!(net.code, file.code, "{question:?}");
        let mut json_question = question.to_vec();
        json_question.extend_from_slice(&["--format", "json"]);
        assert_eq!(
            fx.with_nameserver(&json_question).json(),
            fx.with_zone_file(&json_question).json(),
            "{question:?}"
        );
    }
    assert!(
        fx.server.tcp_query_count() >= 1,
        "the big TXT answer came over TCP"
    );
}

#[test]
fn found_records_print_with_ttl_and_exit_0() {
    let fx = Fixture::new();
    let run = fx.with_nameserver(&["example.test"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "example.test TXT: found (1 record)\n\
         example.test.\t300\tTXT\t\"v=spf1 ip4:192.0.2.0/24 \" \"-all\"\n\
         ;   joined: \"v=spf1 ip4:192.0.2.0/24 -all\"\n"
    );
    let www = fx.with_nameserver(&["WWW.example.test.", "A"]);
    assert_eq!(www.code, 0);
    assert!(
        www.stdout
            .contains("; via CNAME WWW.example.test -> web.example.test -> host.example.test\n")
    );
    assert!(
        www.stdout
            .contains("host.example.test.\t60\tA\t192.0.2.80\n"),
        "{}",
        www.stdout
    );
}

#[test]
fn nxdomain_and_nodata_exit_1() {
    let fx = Fixture::new();
    let nx = fx.with_nameserver(&["nope.example.test"]);
    assert_eq!(
        (nx.code, nx.stdout.as_str()),
        (1, "nope.example.test TXT: NXDOMAIN (negative TTL 120)\n")
    );
    let nodata = fx.with_nameserver(&["mx1.example.test", "TXT"]);
    assert_eq!(
        (nodata.code, nodata.stdout.as_str()),
        (1, "mx1.example.test TXT: NODATA (negative TTL 120)\n")
    );
    let json = fx
        .with_nameserver(&["nope.example.test", "--format", "json"])
        .json();
    assert_eq!(json["status"], "nxdomain");
    assert_eq!(json["negative_ttl"], 120);
}

/// The issue's acceptance test: a name whose server never answers says "timeout" within the
/// `--timeout` and exits 2.
#[test]
fn silence_says_timeout_within_the_timeout_and_exits_2() {
    let fx = Fixture::new();
    let started = Instant::now();
    let run = fx.with_nameserver(&["timeout.example.test", "--timeout", "1"]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "timeout.example.test TXT: timeout\n");
    assert!(
        run.stderr
            .contains("timeout looking up timeout.example.test TXT"),
        "{}",
        run.stderr
    );
    // One second of waiting plus process start-up on a loaded machine.
    assert!(elapsed < Duration::from_secs(4), "took {elapsed:?}");
    assert!(
        fx.server
            .query_count_for("timeout.example.test", inkan_dns::RecordType::Txt)
            >= 1
    );
}

#[test]
fn servfail_exits_2_and_is_never_absence() {
    let fx = Fixture::new();
    let run = fx.with_nameserver(&["servfail.example.test", "A"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "servfail.example.test A: SERVFAIL\n");
    assert!(
        run.stderr
            .contains("servfail looking up servfail.example.test A"),
        "{}",
        run.stderr
    );
    let json = fx.with_nameserver(&["servfail.example.test", "A", "--format", "json"]);
    assert_eq!(json.code, 2);
    assert_eq!(json.json()["status"], "servfail");
}

/// The JSON object is part of the CLI contract: these fields, these types.
#[test]
fn json_shape_is_stable() {
    let fx = Fixture::new();
    let run = fx.with_zone_file(&["www.example.test", "A", "--format", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(
        run.json(),
        json!({
            "name": "www.example.test",
            "type": "A",
            "status": "found",
            "records": [{"name": "host.example.test", "type": "A", "ttl": 60, "data": "192.0.2.80"}],
            "cname_chain": ["web.example.test", "host.example.test"],
        })
    );
    let txt = fx
        .with_zone_file(&["example.test", "--format", "json"])
        .json();
    let record: &Value = &txt["records"][0];
    assert_eq!(
        record["strings"],
        json!(["v=spf1 ip4:192.0.2.0/24 ", "-all"])
    );
    assert_eq!(record["text"], "v=spf1 ip4:192.0.2.0/24 -all");
    assert_eq!(record["data"], "\"v=spf1 ip4:192.0.2.0/24 \" \"-all\"");
    let timeout = fx.with_nameserver(&[
        "timeout.example.test",
        "--timeout",
        "0.5",
        "--format",
        "json",
    ]);
    let timeout = timeout.json();
    assert_eq!(timeout["status"], "timeout");
    assert!(timeout["error"].is_string());
    assert_eq!(timeout["records"], json!([]));
}

#[test]
fn quiet_prints_nothing_on_success_but_still_reports_absence() {
    let fx = Fixture::new();
    let ok = fx.with_zone_file(&["example.test", "-q"]);
    assert_eq!((ok.code, ok.stdout.as_str()), (0, ""));
    let nx = fx.with_zone_file(&["nope.example.test", "-q"]);
    assert_eq!(nx.code, 1);
    assert!(nx.stdout.contains("NXDOMAIN"));
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let fx = Fixture::new();
    let always = fx.with_zone_file(&["example.test", "--color", "always"]);
    assert!(
        always.stdout.contains("\x1b[1;32mfound\x1b[0m"),
        "{:?}",
        always.stdout
    );
    // The harness sets NO_COLOR and stdout is a pipe: auto means no colour.
    let auto = fx.with_zone_file(&["example.test"]);
    assert!(!auto.stdout.contains('\x1b'));
}

#[test]
fn usage_errors_exit_2() {
    let fx = Fixture::new();
    for args in [
        &["dns", "--no-such-flag", "example.test"][..],
        &["dns", "example.test", "NOTATYPE"],
        &["dns"],
        &["dns", "example.test", "--timeout", "0"],
        &["dns", "example.test", "--nameserver", "not-an-ip"],
    ] {
        let run = inkan(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    let bad_zone = fx.zone_file.with_file_name("bad.zone");
    std::fs::write(
        &bad_zone,
        "$ORIGIN example.test.\nwww IN A 192.0.2.1\nbroken IN A not-an-address\n",
    )
    .unwrap();
    let run = inkan(&["dns", "example.test", "--zone", bad_zone.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.zone") && run.stderr.contains('3'),
        "{}",
        run.stderr
    );
}

#[test]
fn completions_and_man_page_come_from_the_definitions() {
    let bash = inkan(&["completions", "bash"]);
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("_inkan()") && bash.stdout.contains("--nameserver"));
    let man = inkan(&["man"]);
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH inkan"),
        "{}",
        &man.stdout[..200]
    );
    assert!(man.stdout.contains("nameserver"));
}

#[test]
fn verbose_says_which_source_answered() {
    let fx = Fixture::new();
    let net = fx.with_nameserver(&["example.test", "-v"]);
    assert_eq!(net.code, 0);
    assert!(net.stderr.starts_with(&format!("; asked name servers {} in ", fx.server.addr())), "{}", net.stderr);
    let file = fx.with_zone_file(&["example.test", "-v"]);
    assert!(file.stderr.contains("; asked zone files ") && file.stderr.contains("example.test.zone"), "{}", file.stderr);
    assert_eq!(net.stdout, file.stdout, "-v changes stderr only");
}
