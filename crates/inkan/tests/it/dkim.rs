//! `inkan keygen`, `inkan sign` and `inkan dkim verify` end to end: keys made by keygen,
//! published through a zone file (`--zone`) or the testkit DNS server on 127.0.0.1
//! (`--nameserver`), messages signed and verified by the binary.

use std::path::{Path, PathBuf};

use inkan_auth::dkim::DkimKey;
use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, Fault, FaultPlan};
use serde_json::Value;

use crate::harness::{Run, inkan, inkan_with_stdin};

const MESSAGE: &str = "From: News <news@example.test>\r\nTo: reader@example.net\r\nSubject: This week\r\n\
Date: Sat, 28 Nov 2026 07:00:00 +0000\r\nMessage-ID: <w48@example.test>\r\n\
List-Unsubscribe: <https://example.test/u/abc>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\
\r\nHello,\r\n\r\nthe news.\r\n";

struct Keys {
    dir: tempfile::TempDir,
    zone: PathBuf,
    zone_text: String,
}

impl Keys {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// Makes an RSA key (selector `rsa`) and an Ed25519 key (selector `ed`) with keygen and writes
/// their records to a zone file.
fn keys() -> Keys {
    keys_with(&[
        ("rsa", &["--algorithm", "rsa"]),
        ("ed", &["--algorithm", "ed25519"]),
    ])
    .0
}

/// Makes one key per `(selector, keygen options)` with keygen (`SELECTOR.pem` in the keys'
/// directory) and writes their records to a zone file; keygen's JSON for each, in order.
/// `inkan keygen` of an Ed25519 key for selector `ed` of example.test into `out`, with `extra`
/// arguments.
fn keygen_ed25519(out: &str, extra: &[&str]) -> crate::harness::Run {
    let mut args = vec![
        "keygen",
        "--domain",
        "example.test",
        "--selector",
        "ed",
        "--algorithm",
        "ed25519",
        "--out",
        out,
    ];
    args.extend_from_slice(extra);
    inkan(&args)
}

fn keys_with(specs: &[(&str, &[&str])]) -> (Keys, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let mut zone_text = String::from("$TTL 300\n");
    let mut made = Vec::with_capacity(specs.len());
    for (selector, options) in specs {
        let out = dir.path().join(format!("{selector}.pem"));
        let mut args = vec![
            "keygen",
            "--domain",
            "example.test",
            "--selector",
            selector,
            "--out",
            out.to_str().unwrap(),
            "--format",
            "json",
        ];
        args.extend_from_slice(options);
        let run = inkan(&args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        zone_text.push_str(json["zone_line"].as_str().unwrap());
        zone_text.push('\n');
        made.push(json);
    }
    let zone = dir.path().join("keys.zone");
    std::fs::write(&zone, &zone_text).unwrap();
    (
        Keys {
            dir,
            zone,
            zone_text,
        },
        made,
    )
}

fn sign(keys: &Keys, selector: &str, message: &[u8], extra: &[&str]) -> String {
    let run = sign_run(keys, selector, message, extra);
    assert_eq!(run.code, 0, "sign failed: {}", run.stderr);
    run.stdout
}

/// `inkan sign` of `message` from standard input with the key of `selector`, as it ran.
fn sign_run(keys: &Keys, selector: &str, message: &[u8], extra: &[&str]) -> Run {
    let key = keys.path(&format!("{selector}.pem"));
    let mut args = vec![
        "sign",
        "-",
        "--domain",
        "example.test",
        "--selector",
        selector,
        "--key",
        &key,
    ];
    args.extend_from_slice(extra);
    inkan_with_stdin(&args, message)
}

fn verify_json(keys: &Keys, message: &[u8]) -> (i32, Value) {
    let zone = keys.zone.to_str().unwrap();
    let run = inkan_with_stdin(
        &["dkim", "verify", "--zone", zone, "--format", "json"],
        message,
    );
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    (run.code, run.json())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads_and_the_record_to_publish() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.pem");
    let run = inkan(&[
        "keygen",
        "--domain",
        "Example.TEST.",
        "--selector",
        "s2026",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["private_key_path"], out.display().to_string());
    assert_eq!(json["txt_name"], "s2026._domainkey.example.test");
    let value = json["txt_value"].as_str().unwrap();
    assert!(value.starts_with("v=DKIM1; k=rsa; p=MII"), "{value}");
    let key = DkimKey::parse(value).unwrap();
    assert_eq!(key.bits, Some(2048));
    let strings: Vec<&str> = json["txt_strings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        strings.len() >= 2 && strings.iter().all(|s| s.len() <= 255),
        "{strings:?}"
    );
    assert_eq!(strings.concat(), value);
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );

    let again = inkan(&[
        "keygen",
        "--domain",
        "example.test",
        "--selector",
        "s",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("refusing to overwrite"),
        "{}",
        again.stderr
    );

    let text_out = dir.path().join("ed.pem");
    let text = keygen_ed25519(text_out.to_str().unwrap(), &[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("ed._domainkey.example.test. 3600 IN TXT ( \"v=DKIM1; k=ed25519; p="),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("TXT value: v=DKIM1; k=ed25519; p="),
        "{}",
        text.stdout
    );
}

#[test]
fn signed_twice_then_verified_from_a_zone_file_in_header_order() {
    let keys = keys();
    let once = sign(&keys, "rsa", MESSAGE.as_bytes(), &[]);
    assert!(
        once.starts_with(
            "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.test; s=rsa;"
        ),
        "{once}"
    );
    assert!(once.ends_with(MESSAGE));
    let twice = sign(
        &keys,
        "ed",
        once.as_bytes(),
        &["--algorithm", "ed25519-sha256"],
    );
    let (code, json) = verify_json(&keys, twice.as_bytes());
    assert_eq!(code, 0, "{json:#}");
    let dkim = json["dkim"].as_array().unwrap();
    assert_eq!(dkim.len(), 2);
    assert_eq!(dkim[0]["selector"], "ed");
    assert_eq!(dkim[0]["algorithm"], "ed25519-sha256");
    assert_eq!(dkim[1]["selector"], "rsa");
    for sig in dkim {
        assert_eq!(sig["result"], "pass", "{sig:#}");
        assert_eq!(sig["domain"], "example.test");
        assert_eq!(sig["from_oversigned"], true);
        assert_eq!(sig["list_unsubscribe_signed"], true);
        assert_eq!(sig["list_unsubscribe_post_signed"], true);
        let headers: Vec<&str> = sig["signed_headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect();
        assert_eq!(
            headers.iter().filter(|h| **h == "from").count(),
            2,
            "{headers:?}"
        );
    }
    assert_eq!(dkim[0]["key_bits"], 256);
    assert_eq!(dkim[1]["key_bits"], 2048);

    let text = inkan_with_stdin(
        &["dkim", "verify", "--zone", keys.zone.to_str().unwrap()],
        twice.as_bytes(),
    );
    assert_eq!(text.code, 0);
    assert!(
        text.stdout
            .starts_with("dkim=pass d=example.test s=ed a=ed25519-sha256 (256-bit ed25519 key)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("From over-signed: yes; List-Unsubscribe signed: yes"),
        "{}",
        text.stdout
    );
}

#[test]
fn tampering_fails_with_the_reason_and_exit_1() {
    let keys = keys();
    let signed = sign(&keys, "rsa", MESSAGE.as_bytes(), &[]);
    let (code, json) = verify_json(
        &keys,
        signed.replace("the news.", "the fake news.").as_bytes(),
    );
    assert_eq!(code, 1);
    assert_eq!(json["dkim"][0]["result"], "fail");
    assert_eq!(json["dkim"][0]["reason_code"], "body_hash_mismatch");
    let (code, json) = verify_json(
        &keys,
        signed
            .replace("Subject: This week", "Subject: Win")
            .as_bytes(),
    );
    assert_eq!(code, 1);
    assert_eq!(json["dkim"][0]["reason_code"], "signature_mismatch");
    let text = inkan_with_stdin(
        &["dkim", "verify", "--zone", keys.zone.to_str().unwrap()],
        signed.replace("the news.", "other news.").as_bytes(),
    );
    assert_eq!(text.code, 1);
    assert!(
        text.stdout.contains("dkim=fail") && text.stdout.contains("body hash mismatch"),
        "{}",
        text.stdout
    );

    let none = inkan_with_stdin(
        &["dkim", "verify", "--zone", keys.zone.to_str().unwrap()],
        MESSAGE.as_bytes(),
    );
    assert_eq!(none.code, 1);
    assert!(none.stdout.contains("dkim=none"), "{}", none.stdout);
}

#[test]
fn options_lf_input_and_bad_keys() {
    let keys = keys();
    let lf = MESSAGE.replace("\r\n", "\n");
    let signed = sign(
        &keys,
        "ed",
        lf.as_bytes(),
        &[
            "--headers",
            "from:subject",
            "--canonicalization",
            "simple/simple",
            "--expire",
            "3600",
            "--body-length",
        ],
    );
    assert!(
        !signed.contains('\r'),
        "LF input comes back with LF line endings"
    );
    let (code, json) = verify_json(&keys, signed.as_bytes());
    assert_eq!(code, 0, "{json:#}");
    let sig = &json["dkim"][0];
    assert_eq!(sig["canonicalization"], "simple/simple");
    assert_eq!(
        sig["signed_headers"],
        serde_json::json!(["from", "from", "subject", "subject"])
    );
    assert_eq!(sig["body_length_risk"], true);
    assert!(sig["expiration"].as_u64().unwrap() == sig["timestamp"].as_u64().unwrap() + 3600);
    assert_eq!(json["line_endings_converted"], true);

    let key = keys.path("ed.pem");
    let wrong = inkan_with_stdin(
        &[
            "sign",
            "--domain",
            "example.test",
            "--selector",
            "ed",
            "--key",
            &key,
            "--algorithm",
            "rsa-sha256",
        ],
        MESSAGE.as_bytes(),
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong
            .stderr
            .contains("cannot sign with rsa-sha256 using a ed25519 key"),
        "{}",
        wrong.stderr
    );
    let not_key = keys.path("keys.zone");
    let bad = inkan_with_stdin(
        &[
            "sign",
            "--domain",
            "example.test",
            "--selector",
            "x",
            "--key",
            &not_key,
        ],
        b"",
    );
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("no PEM block"), "{}", bad.stderr);
    let no_from = "the message has no From field";
    let refusals: [(&[u8], &[&str], &str); 3] = [
        (
            MESSAGE.as_bytes(),
            &["--identity", "news@other.test"],
            "i=news@other.test is not in d=example.test",
        ),
        (b"", &[], no_from),
        (b"Subject: hello\r\n\r\nbody\r\n", &[], no_from),
    ];
    for (message, extra, expected) in refusals {
        let refused = sign_run(&keys, "ed", message, extra);
        assert_eq!(refused.code, 2, "{}", refused.stderr);
        assert!(refused.stderr.contains(expected), "{}", refused.stderr);
    }
}

/// A message saved by a mail client (an mbox "From " line first) or an editor (a byte order
/// mark first) is signed and verified as the message it holds; `sign` gives the file back with
/// what came before the message still in front, and each command says what it set aside.
#[test]
fn mbox_line_and_byte_order_mark_are_set_aside_with_a_note() {
    let keys = keys();
    let saved = format!("\u{feff}From news@example.test Sat Nov 28 07:00:00 2026\n{MESSAGE}");
    let signed = sign_run(&keys, "ed", saved.as_bytes(), &[]);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    assert!(
        signed
            .stderr
            .contains("a byte order mark and an mbox 'From ' line before the message"),
        "{}",
        signed.stderr
    );
    let (prefix, rest) = signed.stdout.split_once('\n').unwrap();
    assert_eq!(
        prefix,
        "\u{feff}From news@example.test Sat Nov 28 07:00:00 2026"
    );
    assert!(rest.starts_with("DKIM-Signature:"), "{rest}");
    assert!(rest.ends_with(MESSAGE));

    let zone = keys.zone.to_str().unwrap();
    let verified = inkan_with_stdin(
        &["dkim", "verify", "--zone", zone, "--format", "json"],
        signed.stdout.as_bytes(),
    );
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert_eq!(verified.json()["dkim"][0]["result"], "pass");
    assert!(verified.stderr.contains("set aside"), "{}", verified.stderr);
    let quiet = inkan_with_stdin(
        &["--quiet", "dkim", "verify", "--zone", zone],
        signed.stdout.as_bytes(),
    );
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert_eq!(quiet.stderr, "");

    // An mbox of two messages is not read as one.
    let two = format!(
        "{}\n{}",
        signed.stdout,
        signed.stdout.trim_start_matches('\u{feff}')
    );
    let refused = inkan_with_stdin(&["dkim", "verify", "--zone", zone], two.as_bytes());
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("an mbox with more than one message")
            && refused.stderr.contains("verify --batch"),
        "{}",
        refused.stderr
    );

    // "From" with whitespace before its colon is a header field, not an mbox line.
    let obsolete = MESSAGE.replacen("From:", "From :", 1);
    let (code, json) = verify_json(
        &keys,
        sign(&keys, "rsa", obsolete.as_bytes(), &[]).as_bytes(),
    );
    assert_eq!(code, 0, "{json:#}");
}

#[test]
fn keys_from_a_real_dns_server_and_dns_failure_is_temperror() {
    let keys = keys();
    let zone = MemoryResolver::from_zone_text(&keys.zone_text, None, "keys.zone").unwrap();
    let mut plan = FaultPlan::new();
    plan.add("ed._domainkey.example.test", Fault::ServFail, []);
    let server = DnsServer::builder(zone).faults(plan).start().unwrap();
    let addr = server.addr().to_string();
    let signed = sign(&keys, "rsa", MESSAGE.as_bytes(), &[]);
    let both = sign(&keys, "ed", signed.as_bytes(), &[]);
    let run = inkan_with_stdin(
        &[
            "dkim",
            "verify",
            "--nameserver",
            &addr,
            "--timeout",
            "2",
            "--format",
            "json",
        ],
        both.as_bytes(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["dkim"][0]["result"], "temperror", "{json:#}");
    assert_eq!(json["dkim"][0]["reason_code"], "dns_failure");
    assert_eq!(json["dkim"][1]["result"], "pass");
}

/// Issue #4: `keygen --bits 1024` makes the smallest key receivers accept, `sign` signs with it
/// (aws-lc refuses keys under 2048 bits, so inkan signs them another way), and the signature
/// verifies; a size keygen cannot make is refused with the sizes it can.
#[test]
fn rsa_1024_bit_keys_are_made_signed_with_and_verified() {
    let (keys, made) = keys_with(&[("rsa1024", &["--bits", "1024"])]);
    assert_eq!(made[0]["bits"], 1024);
    let value = made[0]["txt_value"].as_str().unwrap();
    assert_eq!(DkimKey::parse(value).unwrap().bits, Some(1024));
    let signed = sign(&keys, "rsa1024", MESSAGE.as_bytes(), &[]);
    let (code, json) = verify_json(&keys, signed.as_bytes());
    assert_eq!(code, 0, "{json:#}");
    let dkim = &json["dkim"][0];
    assert_eq!(dkim["result"], "pass");
    assert_eq!(dkim["algorithm"], "rsa-sha256");
    assert_eq!(dkim["key_bits"], 1024);

    let odd = inkan(&[
        "keygen",
        "--domain",
        "example.test",
        "--selector",
        "odd",
        "--bits",
        "1536",
        "--out",
        &keys.path("odd.pem"),
    ]);
    assert_eq!(odd.code, 2);
    assert!(
        odd.stderr.contains("choose 1024, 2048, 3072 or 4096"),
        "{}",
        odd.stderr
    );
    // A size for an Ed25519 key, even RSA's default, is a mistake worth saying.
    for bits in ["2048", "4096"] {
        let ed = keygen_ed25519(&keys.path("ed.pem"), &["--bits", bits]);
        assert_eq!(ed.code, 2, "--bits {bits}");
        assert!(
            ed.stderr.contains("--bits applies to RSA keys only"),
            "{}",
            ed.stderr
        );
    }
}
