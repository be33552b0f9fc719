//! `inkan verify` end to end: whole messages, signed with real keys, checked by the binary
//! against the testkit DNS server on 127.0.0.1 (`--nameserver`) or the same zone from a file
//! (`--zone`).

use std::path::PathBuf;

use inkan_auth::Message;
use inkan_auth::dkim::{Signer, SigningKey, generate_ed25519};
use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, Fault, FaultPlan};

use crate::harness::{Run, inkan, inkan_with_stdin};

/// The zone every test uses; `{KEY}` is replaced by the DKIM key record.
const ZONE: &str = r#"$ORIGIN test.
$TTL 300
example            IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mail.example       IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.example     IN TXT "v=DMARC1; p=reject; sp=quarantine; np=reject; rua=mailto:d@example.test"
s1._domainkey.example IN TXT "{KEY}"
news.example       IN A 192.0.2.10
strict             IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
bounce.strict      IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.strict      IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s"
s1._domainkey.strict IN TXT "{KEY}"
s1._domainkey.esp  IN TXT "{KEY}"
testing            IN A 192.0.2.11
_dmarc.testing     IN TXT "v=DMARC1; p=reject; t=y; pct=50"
s1._domainkey.slow IN TXT "{KEY}"
"#;

const BODY: &str = "Hello,\r\n\r\nthe news.\r\n";

struct Fixture {
    key: SigningKey,
    zone_text: String,
    server: DnsServer,
    zone_file: PathBuf,
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self::with_faults(FaultPlan::new())
    }

    fn with_faults(plan: FaultPlan) -> Self {
        let key = generate_ed25519().unwrap();
        let zone_text = ZONE.replace("{KEY}", &key.txt_value().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let zone_file = dir.path().join("test.zone");
        std::fs::write(&zone_file, &zone_text).unwrap();
        let zone = MemoryResolver::from_zone_text(&zone_text, None, "test.zone").unwrap();
        let server = DnsServer::builder(zone).faults(plan).start().unwrap();
        Fixture {
            key,
            zone_text,
            server,
            zone_file,
            dir,
        }
    }

    /// A message from `from`, signed by `d` when given.
    fn message(&self, from: &str, signer: Option<&str>, extra_headers: &str) -> Vec<u8> {
        let unsigned = format!(
            "From: Sender <{from}>\r\nTo: user@example.net\r\nSubject: News\r\n\
             Date: Tue, 01 Jul 2025 10:00:00 +0000\r\nMessage-ID: <m1@example.test>\r\n{extra_headers}\r\n{BODY}"
        );
        match signer {
            Some(d) => {
                let message = Message::parse(unsigned.into_bytes()).unwrap();
                let mut signer = Signer::new(d, "s1", self.key.clone());
                signer.headers.extend([
                    "list-unsubscribe".to_owned(),
                    "list-unsubscribe-post".to_owned(),
                ]);
                signer.sign_message_at(&message, 1_750_000_000).unwrap()
            }
            None => unsigned.into_bytes(),
        }
    }

    fn verify(&self, message: &[u8], args: &[&str]) -> Run {
        let addr = self.server.addr().to_string();
        let mut all = vec!["verify", "-", "--nameserver", &addr, "--timeout", "2"];
        all.extend_from_slice(args);
        inkan_with_stdin(&all, message)
    }

    fn verify_json(&self, message: &[u8], args: &[&str]) -> (i32, serde_json::Value) {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let run = self.verify(message, &all);
        (run.code, run.json())
    }
}

#[test]
fn aligned_dkim_passes_and_prints_the_header() {
    let fx = Fixture::new();
    let msg = fx.message("news@example.test", Some("example.test"), "");
    let run = fx.verify(&msg, &["--authserv-id", "mx.receiver.test"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("Authentication-Results: mx.receiver.test;\n\tdkim=pass header.d=example.test header.s=s1 header.b="), "{}", run.stdout);
    assert!(run.stdout.contains("\tdmarc=pass (p=reject sp=quarantine dis=none) header.from=example.test policy.dmarc=reject;\n\tarc=none"), "{}", run.stdout);

    let (code, json) = fx.verify_json(&msg, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["dkim"][0]["result"], "pass");
    assert_eq!(json["dkim"][0]["domain"], "example.test");
    assert_eq!(json["dkim"][0]["selector"], "s1");
    assert_eq!(json["dkim"][0]["algorithm"], "ed25519-sha256");
    let dmarc = &json["dmarc"];
    assert_eq!(dmarc["result"], "pass");
    assert_eq!(dmarc["policy"], "reject");
    assert_eq!(dmarc["disposition"], "none");
    assert_eq!(dmarc["from_domain"], "example.test");
    assert_eq!(dmarc["org_domain"], "example.test");
    assert_eq!(dmarc["dkim_aligned"], true);
    assert_eq!(dmarc["spf_aligned"], false);
    assert_eq!(dmarc["record"]["p"], "reject");
    assert_eq!(json["spf"], serde_json::Value::Null);
    assert_eq!(json["arc"]["result"], "none");
    let header = json["authentication_results"].as_str().unwrap();
    let parsed = inkan_auth::authres::AuthResults::parse(header).unwrap();
    assert_eq!(parsed.result("dmarc").unwrap().result, "pass");
}

#[test]
fn unsigned_mail_fails_with_the_published_policy() {
    let fx = Fixture::new();
    let msg = fx.message("news@example.test", None, "");
    let (code, json) = fx.verify_json(&msg, &[]);
    assert_eq!(code, 1);
    assert_eq!(json["dmarc"]["result"], "fail");
    assert_eq!(json["dmarc"]["disposition"], "reject");
    assert_eq!(
        json["authentication_results"],
        "inkan;\r\n\tdkim=none;\r\n\tdmarc=fail (p=reject sp=quarantine dis=reject) header.from=example.test policy.dmarc=reject;\r\n\tarc=none"
    );
    // An existing subdomain gets sp, a missing one np.
    let (_, json) = fx.verify_json(&fx.message("a@news.example.test", None, ""), &[]);
    assert_eq!(
        (
            json["dmarc"]["policy"].as_str(),
            json["dmarc"]["policy_source"].as_str()
        ),
        (Some("quarantine"), Some("sp"))
    );
    let (_, json) = fx.verify_json(&fx.message("a@ghost.example.test", None, ""), &[]);
    assert_eq!(
        (
            json["dmarc"]["policy"].as_str(),
            json["dmarc"]["policy_source"].as_str()
        ),
        (Some("reject"), Some("np"))
    );
}

#[test]
fn relaxed_and_strict_alignment_through_the_binary() {
    let fx = Fixture::new();
    // A subdomain signature aligns under relaxed alignment.
    let msg = fx.message("news@example.test", Some("esp.test"), "");
    let (code, json) = fx.verify_json(&msg, &[]);
    assert_eq!(
        (code, json["dkim"][0]["result"].as_str()),
        (1, Some("pass"))
    );
    assert_eq!(json["dmarc"]["dkim_aligned"], false);
    // Strict alignment: the MAIL FROM subdomain does not align, the exact domain does.
    let msg = fx.message("news@strict.test", None, "");
    let (code, json) = fx.verify_json(
        &msg,
        &[
            "--ip",
            "192.0.2.7",
            "--mail-from",
            "b@bounce.strict.test",
            "--helo",
            "mx.strict.test",
        ],
    );
    assert_eq!(json["dmarc"]["spf_aligned"], false, "{json}");
    assert_eq!(
        (code, json["dmarc"]["disposition"].as_str()),
        (1, Some("quarantine"))
    );
    let msg = fx.message("news@strict.test", Some("strict.test"), "");
    let (code, _) = fx.verify_json(&msg, &[]);
    assert_eq!(code, 0);
}

#[test]
fn testing_flag_lowers_the_disposition() {
    let fx = Fixture::new();
    let (code, json) = fx.verify_json(&fx.message("x@testing.test", None, ""), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["dmarc"]["policy"], "reject");
    assert_eq!(json["dmarc"]["disposition"], "quarantine");
    assert_eq!(json["dmarc"]["record"]["warnings"][0]["kind"], "obsolete");
}

#[test]
fn no_record_is_none_and_exits_1() {
    let fx = Fixture::new();
    let (code, json) = fx.verify_json(&fx.message("x@esp.test", Some("esp.test"), ""), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["dmarc"]["result"], "none");
    assert_eq!(json["dmarc"]["policy"], serde_json::Value::Null);
}

#[test]
fn dns_failure_is_temperror() {
    let mut plan = FaultPlan::new();
    plan.add("_dmarc.slow.test", Fault::ServFail, []);
    let fx = Fixture::with_faults(plan);
    let (code, json) = fx.verify_json(&fx.message("x@slow.test", Some("slow.test"), ""), &[]);
    assert_eq!(code, 1);
    assert_eq!(json["dkim"][0]["result"], "pass");
    assert_eq!(json["dmarc"]["result"], "temperror");
    assert!(
        json["dmarc"]["reason"]
            .as_str()
            .unwrap()
            .contains("_dmarc.slow.test"),
        "{json}"
    );
}

#[test]
fn zone_file_gives_the_same_verdict() {
    let fx = Fixture::new();
    let msg = fx.message("news@example.test", Some("example.test"), "");
    let path = fx.dir.path().join("m.eml");
    std::fs::write(&path, &msg).unwrap();
    let run = inkan(&[
        "verify",
        path.to_str().unwrap(),
        "--zone",
        fx.zone_file.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let (_, net) = fx.verify_json(&msg, &[]);
    assert_eq!(run.json()["dmarc"], net["dmarc"]);
    assert!(fx.zone_text.contains("_dmarc.example"));
}

#[test]
fn bulk_mail_findings() {
    let fx = Fixture::new();
    let headers = "List-Unsubscribe: <mailto:u@example.test>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n";
    let msg = fx.message("news@example.test", Some("example.test"), headers);
    let (code, json) = fx.verify_json(&msg, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["bulk"], true);
    let ids: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "list-unsubscribe-no-https",
            "list-unsubscribe-post-without-https",
            "body-unsubscribe-link-missing"
        ]
    );
    let first = &json["findings"][0];
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["providers"][0]["provider"], "gmail");
    assert!(first["fix"].as_str().unwrap().contains("https"));
    // Text output lists them under the header.
    let run = fx.verify(&msg, &[]);
    assert!(
        run.stdout.contains("\nwarning list-unsubscribe-no-https: "),
        "{}",
        run.stdout
    );
}

#[test]
fn batch_over_a_directory_and_an_mbox() {
    let fx = Fixture::new();
    let dir = fx.dir.path().join("batch");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("1-pass.eml"),
        fx.message("a@example.test", Some("example.test"), ""),
    )
    .unwrap();
    std::fs::write(
        dir.join("2-fail.eml"),
        fx.message("a@example.test", None, ""),
    )
    .unwrap();
    std::fs::write(
        dir.join("3-garbage.eml"),
        b" starts with a continuation\r\n\r\n",
    )
    .unwrap();
    // Saved by a mail client: an mbox "From " line in front of the message.
    std::fs::write(
        dir.join("4-saved.eml"),
        [
            &b"From a@example.test Tue Jul  1 10:00:00 2025\n"[..],
            &fx.message("a@example.test", Some("example.test"), ""),
        ]
        .concat(),
    )
    .unwrap();
    let addr = fx.server.addr().to_string();
    let run = inkan(&[
        "verify",
        "--batch",
        dir.to_str().unwrap(),
        "--nameserver",
        &addr,
    ]);
    assert_eq!(run.code, 2, "{run:?}");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert!(lines[0]["file"].as_str().unwrap().ends_with("1-pass.eml"));
    assert_eq!(lines[3]["dmarc"]["result"], "pass", "{}", lines[3]);
    assert_eq!(lines[0]["dmarc"]["result"], "pass");
    assert_eq!(lines[1]["dmarc"]["result"], "fail");
    assert!(
        lines[2]["error"].as_str().unwrap().contains("continuation"),
        "{}",
        lines[2]
    );

    let mut mbox = Vec::new();
    for from in ["a@example.test", "b@example.test"] {
        mbox.extend_from_slice(b"From sender@example.test Tue Jul  1 10:00:00 2025\n");
        mbox.extend_from_slice(&fx.message(from, Some("example.test"), ""));
        mbox.extend_from_slice(b"\n");
    }
    let path = fx.dir.path().join("mail.mbox");
    std::fs::write(&path, &mbox).unwrap();
    let run = inkan(&[
        "verify",
        "--batch",
        path.to_str().unwrap(),
        "--nameserver",
        &addr,
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["index"], 1);
    assert_eq!(lines[1]["dmarc"]["result"], "pass", "{}", lines[1]);
}

#[test]
fn bad_input_is_a_clear_error() {
    let fx = Fixture::new();
    let run = inkan(&[
        "verify",
        "/nonexistent/message.eml",
        "--zone",
        fx.zone_file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("/nonexistent/message.eml"),
        "{}",
        run.stderr
    );
    let run = fx.verify(b" leading continuation\r\n\r\nbody", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("inkan: reading the message in -"),
        "{}",
        run.stderr
    );
    // A message without From is a verdict (permerror), not a crash.
    let (code, json) = fx.verify_json(b"Subject: x\r\n\r\nbody\r\n", &[]);
    assert_eq!(code, 1);
    assert_eq!(json["dmarc"]["result"], "permerror");
    let ids: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"from-missing"), "{ids:?}");
    let run = inkan(&[
        "verify",
        "--ip",
        "192.0.2.1",
        "--zone",
        fx.zone_file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--helo or --mail-from"),
        "{}",
        run.stderr
    );
}
