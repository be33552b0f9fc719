//! `inkan arc seal`: seals as a forwarder after evaluating the message (SPF with the envelope,
//! DKIM, DMARC, the incoming ARC chain), with keys and policies served from `--zone` files or
//! the testkit DNS server on 127.0.0.1; the result validates in inkan and in dkimpy.

use std::path::{Path, PathBuf};

use inkan_auth::Message;
use inkan_auth::arc::{ArcResult, validate_at};
use inkan_auth::dkim::{SigningKey, generate_ed25519, generate_rsa, txt_record_strings};
use inkan_dns::MemoryResolver;
use inkan_testkit::DnsServer;

use crate::harness::inkan_with_stdin;

const MESSAGE: &str = "From: Alice <alice@origin.example>\r\nTo: list@lists.example\r\n\
Subject: sealed\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <cli@origin.example>\r\n\
\r\nHello.\r\n";

struct Setup {
    dir: tempfile::TempDir,
    zone: PathBuf,
    zone_text: String,
    keys: Vec<PathBuf>,
}

fn txt_line(name: &str, value: &str) -> String {
    let strings: Vec<String> = txt_record_strings(value)
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect();
    format!("{name}. 300 IN TXT {}\n", strings.join(" "))
}

/// Keys for hop1.example and hop2.example, an SPF and a DMARC record for origin.example.
fn setup(keys: Vec<SigningKey>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut zone_text = String::new();
    zone_text.push_str(&txt_line("origin.example", "v=spf1 ip4:192.0.2.1 -all"));
    zone_text.push_str(&txt_line("_dmarc.origin.example", "v=DMARC1; p=reject"));
    let mut paths = Vec::new();
    for (n, key) in keys.iter().enumerate() {
        let domain = format!("hop{}.example", n + 1);
        zone_text.push_str(&txt_line(
            &format!("arc._domainkey.{domain}"),
            &key.txt_value().unwrap(),
        ));
        let path = dir.path().join(format!("hop{}.pem", n + 1));
        std::fs::write(&path, key.to_pkcs8_pem().unwrap()).unwrap();
        paths.push(path);
    }
    let zone = dir.path().join("keys.zone");
    std::fs::write(&zone, &zone_text).unwrap();
    Setup {
        dir,
        zone,
        zone_text,
        keys: paths,
    }
}

fn seal_args<'a>(dns: &'a [&'a str], hop: usize, key: &'a Path, domain: &'a str) -> Vec<&'a str> {
    let mut args: Vec<&str> = dns.to_vec();
    args.extend([
        "arc",
        "seal",
        "-",
        "--domain",
        domain,
        "--selector",
        "arc",
        "--key",
        key.to_str().unwrap(),
        "--authserv-id",
        if hop == 1 {
            "mx.hop1.example"
        } else {
            "mx.hop2.example"
        },
    ]);
    args
}

async fn validate(zone_text: &str, message: &[u8]) -> inkan_auth::arc::ArcOutput {
    let resolver = MemoryResolver::from_zone_text(zone_text, None, "keys.zone").unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    validate_at(&resolver, &Message::parse(message.to_vec()).unwrap(), now).await
}

#[tokio::test]
async fn two_hops_with_zone_files_record_what_each_hop_saw() {
    let s = setup(vec![
        generate_ed25519().unwrap(),
        generate_ed25519().unwrap(),
    ]);
    let zone = s.zone.to_str().unwrap();
    let dns = ["--zone", zone];
    let mut args = seal_args(&dns, 1, &s.keys[0], "hop1.example");
    args.extend([
        "--ip",
        "192.0.2.1",
        "--helo",
        "mail.origin.example",
        "--mail-from",
        "alice@origin.example",
    ]);
    let one = inkan_with_stdin(&args, MESSAGE.as_bytes());
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert!(
        one.stdout.starts_with("ARC-Seal: i=1; cv=none;"),
        "{}",
        one.stdout
    );
    assert!(
        one.stdout
            .contains("ARC-Authentication-Results: i=1; mx.hop1.example;")
    );
    assert!(
        one.stdout
            .contains("spf=pass smtp.mailfrom=alice@origin.example")
    );
    assert!(one.stdout.contains("dmarc=pass"), "{}", one.stdout);
    assert!(one.stdout.contains("arc=none"));
    assert!(one.stdout.ends_with(MESSAGE));

    let two = inkan_with_stdin(
        &seal_args(&dns, 2, &s.keys[1], "hop2.example"),
        one.stdout.as_bytes(),
    );
    assert_eq!(two.code, 0, "{}", two.stderr);
    assert!(
        two.stdout.starts_with("ARC-Seal: i=2; cv=pass;"),
        "{}",
        two.stdout
    );
    assert!(
        two.stdout.contains("arc=pass (i=1) header.oldest-pass=1"),
        "{}",
        two.stdout
    );

    let out = validate(&s.zone_text, two.stdout.as_bytes()).await;
    assert_eq!(out.result, ArcResult::Pass, "{}", out.reason);
    assert_eq!(out.instances, 2);
}

#[test]
fn keys_from_the_testkit_dns_server_and_dkimpy_agrees() {
    let s = setup(vec![generate_rsa(2048).unwrap()]);
    let records = MemoryResolver::from_zone_text(&s.zone_text, None, "keys.zone").unwrap();
    let server = DnsServer::start(records).unwrap();
    let addr = server.addr().to_string();
    let dns = ["--nameserver", addr.as_str()];
    let run = inkan_with_stdin(
        &seal_args(&dns, 1, &s.keys[0], "hop1.example"),
        MESSAGE.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(server.query_count() > 0);

    // dkimpy verifies what the CLI sealed.
    let ok = std::process::Command::new("python3")
        .args(["-c", "import dkim, authres, nacl"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "the dkimpy ARC peer is missing: run .ci/setup");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../inkan-auth/tests/peers/dkimpy_arc.py");
    let key_value = SigningKey::from_pem(&std::fs::read_to_string(&s.keys[0]).unwrap())
        .unwrap()
        .txt_value()
        .unwrap();
    let keys_json = s.dir.path().join("keys.json");
    std::fs::write(
        &keys_json,
        serde_json::json!({ "arc._domainkey.hop1.example": key_value }).to_string(),
    )
    .unwrap();
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .args(["verify", "--keys", keys_json.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(run.stdout.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdict["cv"], "pass", "{verdict}");
}

#[test]
fn errors_exit_2_and_say_what_is_wrong() {
    let s = setup(vec![generate_ed25519().unwrap()]);
    let zone = s.zone.to_str().unwrap();
    let dns = ["--zone", zone];

    let missing = s.dir.path().join("nope.pem");
    let run = inkan_with_stdin(
        &seal_args(&dns, 1, &missing, "hop1.example"),
        MESSAGE.as_bytes(),
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nope.pem"), "{}", run.stderr);
    assert!(run.stdout.is_empty());

    let run = inkan_with_stdin(
        &seal_args(&dns, 1, &s.keys[0], "bad domain"),
        MESSAGE.as_bytes(),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("invalid domain 'bad domain'"),
        "{}",
        run.stderr
    );

    let failed =
        format!("ARC-Seal: i=1; cv=fail; a=ed25519-sha256; d=x.example; s=s; b=YQ==\r\n{MESSAGE}");
    let run = inkan_with_stdin(
        &seal_args(&dns, 1, &s.keys[0], "hop1.example"),
        failed.as_bytes(),
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cv=fail: a failed chain must not be extended"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn verify_reports_the_chain() {
    let s = setup(vec![
        generate_ed25519().unwrap(),
        generate_ed25519().unwrap(),
    ]);
    let zone = s.zone.to_str().unwrap();
    let dns = ["--zone", zone];
    let one = inkan_with_stdin(
        &seal_args(&dns, 1, &s.keys[0], "hop1.example"),
        MESSAGE.as_bytes(),
    );
    let two = inkan_with_stdin(
        &seal_args(&dns, 2, &s.keys[1], "hop2.example"),
        one.stdout.as_bytes(),
    );
    assert_eq!(two.code, 0, "{}", two.stderr);

    let run = inkan_with_stdin(
        &["verify", "--zone", zone, "--format", "json"],
        two.stdout.as_bytes(),
    );
    let json = run.json();
    let arc = &json["arc"];
    assert_eq!(arc["result"], "pass", "{arc}");
    assert_eq!(arc["instances"], 2);
    assert_eq!(arc["oldest_pass"], 1);
    assert_eq!(arc["failed_instance"], serde_json::Value::Null);
    assert_eq!(arc["sets"][1]["seal_domain"], "hop2.example");
    let header = json["authentication_results"].as_str().unwrap();
    assert!(
        header.ends_with("arc=pass (i=2) header.oldest-pass=1"),
        "{header}"
    );

    let tampered = format!("{}Appended after sealing.\r\n", two.stdout);
    let run = inkan_with_stdin(
        &["verify", "--zone", zone, "--format", "json"],
        tampered.as_bytes(),
    );
    let arc = &run.json()["arc"];
    assert_eq!(arc["result"], "fail");
    assert_eq!(arc["failed_instance"], 2);
    assert_eq!(arc["reason_code"], "ams_invalid");
    assert!(
        arc["reason"]
            .as_str()
            .unwrap()
            .contains("body hash mismatch"),
        "{arc}"
    );

    let run = inkan_with_stdin(
        &["verify", "--zone", zone, "--format", "json"],
        MESSAGE.as_bytes(),
    );
    let arc = &run.json()["arc"];
    assert_eq!(arc["result"], "none");
    assert_eq!(arc["instances"], 0);
}
