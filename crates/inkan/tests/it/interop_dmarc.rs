//! DMARC interop with Node `mailauth` 4.x: the same messages, envelopes and DNS (the testkit
//! server on 127.0.0.1) through `inkan verify` and mailauth's `authenticate()`, compared.
//!
//! Every disagreement must be listed in [`EXPECTED`] with the RFC 9989 section that decides it,
//! and every listed one must still disagree (so the list never goes stale). mailauth 4 uses the
//! RFC 7489 public-suffix method, so inkan is run both ways: `--org-domain psl` must agree
//! wherever RFC 7489 and RFC 9989 do not part, and the tree walk may differ only where listed.
//! The peer is installed by `.ci/setup` (`.ci/setup.d/50-dmarc.sh`); without it this fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use inkan_auth::Message;
use inkan_auth::dkim::{Signer, SigningKey, generate_rsa};
use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, Fault, FaultPlan};
use serde_json::Value;

use crate::harness::inkan;

const PEER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/peers/mailauth");

const ZONE: &str = r#"$ORIGIN test.
$TTL 300
example              IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mail.example         IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mx.example           IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mx.example           IN A 192.0.2.7
news.example         IN A 192.0.2.10
_dmarc.example       IN TXT "v=DMARC1; p=reject; sp=quarantine"
s1._domainkey.example IN TXT "{KEY}"
other                IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
s1._domainkey.other  IN TXT "{KEY}"
strict               IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
bounce.strict        IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.strict        IN TXT "v=DMARC1; p=quarantine; adkim=s; aspf=s"
s1._domainkey.strict IN TXT "{KEY}"
s1._domainkey.sub.strict IN TXT "{KEY}"
none                 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
testing              IN TXT "v=spf1 -all"
_dmarc.testing       IN TXT "v=DMARC1; p=reject; t=y"
nop                  IN TXT "v=spf1 -all"
_dmarc.nop           IN TXT "v=DMARC1; rua=mailto:d@nop.test"
np                   IN TXT "v=spf1 -all"
_dmarc.np            IN TXT "v=DMARC1; p=none; np=reject"
lower                IN TXT "v=spf1 -all"
_dmarc.lower         IN TXT "v=dmarc1; p=reject"
corp                 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
_dmarc.corp          IN TXT "v=DMARC1; p=reject"
dept.corp            IN A 192.0.2.20
_dmarc.dept.corp     IN TXT "v=DMARC1; p=reject; psd=n"
multi                IN TXT "v=spf1 -all"
_dmarc.multi         IN TXT "v=DMARC1; p=reject"
_dmarc.multi         IN TXT "v=DMARC1; p=none"
slow                 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
s1._domainkey.slow   IN TXT "{KEY}"
"#;

/// One message and its envelope.
struct Case {
    name: &'static str,
    from: &'static str,
    /// `d=` of a DKIM signature, if signed.
    signer: Option<&'static str>,
    ip: &'static str,
    mail_from: &'static str,
    /// Change the body after signing, so the signature fails.
    tamper: bool,
}

const fn case(name: &'static str, from: &'static str, signer: Option<&'static str>, mail_from: &'static str) -> Case {
    Case { name, from, signer, ip: "192.0.2.7", mail_from, tamper: false }
}

const CASES: &[Case] = &[
    case("aligned-dkim-and-spf", "a@example.test", Some("example.test"), "b@example.test"),
    case("relaxed-spf-subdomain", "a@example.test", None, "b@mail.example.test"),
    case("relaxed-dkim-parent", "a@news.example.test", Some("example.test"), "b@other.test"),
    case("unaligned-both", "a@example.test", Some("other.test"), "b@other.test"),
    case("subdomain-unauthenticated", "a@news.example.test", None, "x@other.test"),
    case("strict-subdomains", "a@strict.test", Some("sub.strict.test"), "b@bounce.strict.test"),
    case("strict-exact-dkim", "a@strict.test", Some("strict.test"), "b@bounce.strict.test"),
    case("strict-exact-spf", "a@strict.test", None, "b@strict.test"),
    case("no-record", "a@none.test", None, "b@none.test"),
    case("testing-flag", "a@testing.test", None, "b@testing.test"),
    case("missing-p", "a@nop.test", None, "b@nop.test"),
    case("np-nonexistent-subdomain", "a@ghost.np.test", None, "b@np.test"),
    case("lowercase-version", "a@lower.test", None, "b@lower.test"),
    case("psd-n-subtree", "a@x.dept.corp.test", None, "b@corp.test"),
    case("multiple-records", "a@multi.test", None, "b@multi.test"),
    case("dns-servfail", "a@slow.test", Some("slow.test"), "b@slow.test"),
    Case { ip: "198.51.100.1", ..case("spf-fail-no-dkim", "a@example.test", None, "b@example.test") },
    Case { tamper: true, ..case("dkim-body-tampered", "a@example.test", Some("example.test"), "b@other.test") },
    case("uppercase-from-domain", "a@EXAMPLE.Test", Some("example.test"), "b@other.test"),
    case("null-sender-helo", "a@example.test", None, ""),
];

/// Disagreements that are mailauth 4's, with the section of RFC 9989 that decides them:
/// (case, inkan's result with the tree walk, mailauth's result, why).
const EXPECTED: &[(&str, &str, &str, &str)] = &[
    (
        "strict-subdomains",
        "fail",
        "pass",
        "RFC 9989 §4.4 (adkim=s/aspf=s need identical domains); mailauth 4 treats strict as relaxed, fixed in 5.0.0",
    ),
    (
        "lowercase-version",
        "none",
        "fail",
        "RFC 9989 §4.7: v must be exactly DMARC1 (case-sensitive) or the record is ignored; mailauth matches case-insensitively",
    ),
    (
        "psd-n-subtree",
        "fail",
        "pass",
        "RFC 9989 §4.10.2: psd=n makes dept.corp.test its own Organizational Domain, so corp.test does not align; mailauth uses the RFC 7489 public suffix list",
    ),
];

/// Where `--org-domain psl` differs from the tree walk on these cases (RFC 9989 §4.10 vs RFC
/// 7489 §3.2): only the psd=n case, whose record mailauth never reads either.
const PSL_AGREES_WITH_MAILAUTH: &[&str] = &["psd-n-subtree"];

fn peer_ready() -> PathBuf {
    let module = Path::new(PEER).join("node_modules/mailauth/package.json");
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()) && module.exists(),
        "Node mailauth 4.x is not installed in {PEER}: run .ci/setup (it runs .ci/setup.d/50-dmarc.sh)"
    );
    Path::new(PEER).join("verify.js")
}

fn sign(key: &SigningKey, d: &str, message: &[u8]) -> Vec<u8> {
    let parsed = Message::parse(message.to_vec()).unwrap();
    Signer::new(d, "s1", key.clone()).sign_message_at(&parsed, 1_750_000_000).unwrap()
}

fn write_messages(dir: &Path, key: &SigningKey) -> Vec<PathBuf> {
    CASES
        .iter()
        .map(|c| {
            let unsigned = format!(
                "From: Sender <{}>\r\nTo: user@example.net\r\nSubject: {}\r\nDate: Tue, 01 Jul 2025 10:00:00 +0000\r\n\
                 Message-ID: <{}@example.test>\r\n\r\nHello.\r\n",
                c.from, c.name, c.name
            );
            let mut bytes = match c.signer {
                Some(d) => sign(key, d, unsigned.as_bytes()),
                None => unsigned.into_bytes(),
            };
            if c.tamper {
                bytes.extend_from_slice(b"Appended after signing.\r\n");
            }
            let path = dir.join(format!("{}.eml", c.name));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

fn inkan_result(server: &str, file: &Path, c: &Case, org: &str) -> Value {
    let file = file.to_str().unwrap();
    let mut args = vec!["verify", file, "--nameserver", server, "--timeout", "2", "--format", "json", "--ip", c.ip];
    args.extend_from_slice(&["--helo", "mx.example.test", "--mail-from", c.mail_from, "--org-domain", org]);
    let run = inkan(&args);
    assert!(run.code == 0 || run.code == 1, "{}: {run:?}", c.name);
    run.json()
}

#[test]
fn dmarc_results_match_mailauth() {
    let script = peer_ready();
    let key = generate_rsa(2048).unwrap();
    let zone_text = ZONE.replace("{KEY}", &key.txt_value().unwrap().replace('"', ""));
    // Long TXT values are split into 255-byte strings by the zone writer's rules.
    let zone_text = split_long_txt(&zone_text);
    let zone = MemoryResolver::from_zone_text(&zone_text, None, "interop.zone").unwrap();
    let mut plan = FaultPlan::new();
    plan.add("_dmarc.slow.test", Fault::ServFail, []);
    let server = DnsServer::builder(zone).faults(plan).start().unwrap();
    let addr = server.addr().to_string();
    let dir = tempfile::tempdir().unwrap();
    let files = write_messages(dir.path(), &key);

    let mut manifest = String::new();
    for (c, file) in CASES.iter().zip(&files) {
        let line = serde_json::json!({"file": file, "ip": c.ip, "helo": "mx.example.test", "mail_from": c.mail_from});
        manifest.push_str(&format!("{line}\n"));
    }
    let mut child = Command::new("node")
        .arg(&script)
        .args(["--dns", &addr])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    child.stdin.take().unwrap().write_all(manifest.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "mailauth peer failed: {}", String::from_utf8_lossy(&output.stderr));
    let peer: Vec<Value> = String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(peer.len(), CASES.len());

    let mut report = Vec::new();
    for ((c, file), theirs) in CASES.iter().zip(&files).zip(&peer) {
        let walk = inkan_result(&addr, file, c, "tree-walk");
        let psl = inkan_result(&addr, file, c, "psl");
        let ours = walk["dmarc"]["result"].as_str().unwrap().to_owned();
        let ours_psl = psl["dmarc"]["result"].as_str().unwrap().to_owned();
        let their = theirs["dmarc"]["result"].as_str().unwrap().to_owned();
        // SPF and DKIM must agree everywhere: DMARC differences are then DMARC's own.
        assert_eq!(walk["spf"]["result"].as_str(), theirs["spf"].as_str(), "{}: SPF differs", c.name);
        let our_dkim: Vec<&str> = walk["dkim"].as_array().unwrap().iter().map(|d| d["result"].as_str().unwrap()).collect();
        let their_dkim: Vec<&str> = theirs["dkim"].as_array().unwrap().iter().map(|d| d["result"].as_str().unwrap()).collect();
        assert_eq!(our_dkim, their_dkim, "{}: DKIM differs", c.name);

        let expected = EXPECTED.iter().find(|(name, ..)| *name == c.name);
        match expected {
            Some((_, want_ours, want_theirs, why)) => {
                assert_eq!((ours.as_str(), their.as_str()), (*want_ours, *want_theirs), "{}: expected difference changed ({why})", c.name);
            }
            None => assert_eq!(ours, their, "{}: inkan and mailauth disagree and the difference is not explained", c.name),
        }
        if PSL_AGREES_WITH_MAILAUTH.contains(&c.name) {
            assert_eq!(ours_psl, their, "{}: --org-domain psl should agree with mailauth", c.name);
        }
        report.push(format!("{:<28} inkan={ours:<9} inkan-psl={ours_psl:<9} mailauth={their}", c.name));
    }
    println!("{}", report.join("\n"));
}

/// Splits TXT strings longer than 255 bytes in `zone` into several quoted strings.
fn split_long_txt(zone: &str) -> String {
    zone.lines()
        .map(|line| {
            let Some(start) = line.find('"') else { return line.to_owned() };
            let value = line[start + 1..line.len() - 1].to_owned();
            if value.len() <= 255 {
                return line.to_owned();
            }
            let parts: Vec<String> =
                value.as_bytes().chunks(255).map(|c| format!("\"{}\"", std::str::from_utf8(c).unwrap())).collect();
            format!("{}{}", &line[..start], parts.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
