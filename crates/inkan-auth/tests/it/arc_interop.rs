//! ARC interop with dkimpy (`dkim.arc_sign` / `dkim.arc_verify`, driven through
//! `tests/peers/dkimpy_arc.py`): chains sealed by dkimpy validate in inkan and chains sealed by
//! inkan validate in dkimpy, over 1 to 3 hops, with RSA keys (dkimpy's ARC is RSA-only; Ed25519
//! chains are checked inkan-to-inkan and dkimpy's refusal is pinned) served to inkan by the
//! testkit DNS server on 127.0.0.1 and to dkimpy through its `dnsfunc`. A change between hops
//! breaks the chain at the instance both sides name. RFC 8617 §5.1, §5.2:
//! <https://www.rfc-editor.org/rfc/rfc8617#section-5>.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use inkan_auth::Message;
use inkan_auth::arc::{ArcOutput, ArcResult, SealParams, seal, validate_at};
use inkan_auth::dkim::{SigningKey, generate_rsa};
use inkan_dns::{MemoryResolver, NetworkOptions, NetworkResolver, RData, Record, Txt};
use inkan_testkit::DnsServer;

const NOW: u64 = 1_760_000_000;
const MESSAGE: &str = "From: Alice <alice@origin.example>\r\nTo: list@lists.example\r\n\
Subject: interop\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <arc-interop@origin.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nA message that travels.\r\n";

fn peer_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/dkimpy_arc.py")
}

/// Fails (never skips) when the peer cannot run.
fn require_peer() {
    let ok = Command::new("python3")
        .args(["-c", "import dkim, authres, nacl"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the dkimpy ARC peer is missing (python3 with dkimpy, authres, pynacl): run .ci/setup"
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Alg {
    Rsa,
    Ed25519,
}

/// One forwarding hop: its domain, its key, and the key as dkimpy wants it.
struct Hop {
    domain: String,
    key: SigningKey,
    peer_key: PathBuf,
    algorithm: &'static str,
}

impl Hop {
    /// Hop `n`, its key for dkimpy written into `dir`.
    fn new(n: usize, alg: Alg, dir: &Path) -> Hop {
        let domain = format!("hop{n}.example");
        let peer_key = dir.join(format!("hop{n}.key"));
        let (key, algorithm) = match alg {
            Alg::Rsa => {
                let key = generate_rsa(2048).unwrap();
                std::fs::write(&peer_key, key.to_pkcs8_pem().unwrap()).unwrap();
                (key, "rsa-sha256")
            }
            Alg::Ed25519 => {
                let seed = [n as u8 + 7; 32];
                let b64 = base64::engine::general_purpose::STANDARD.encode(seed);
                std::fs::write(&peer_key, b64).unwrap();
                (
                    SigningKey::from_ed25519_seed(&seed).unwrap(),
                    "ed25519-sha256",
                )
            }
        };
        Hop {
            domain,
            key,
            peer_key,
            algorithm,
        }
    }

    fn key_name(&self) -> String {
        format!("arc._domainkey.{}", self.domain)
    }
}

/// Keys published two ways: a DNS server on 127.0.0.1 for inkan, a JSON map for dkimpy. The
/// key files live in a directory removed when the world is dropped.
struct World {
    hops: Vec<Hop>,
    keys_json: PathBuf,
    _dir: tempfile::TempDir,
    _server: DnsServer,
    resolver: NetworkResolver,
}

impl World {
    fn new(alg: Alg, hops: usize) -> World {
        require_peer();
        let dir = tempfile::Builder::new()
            .prefix("inkan-arc-interop-")
            .tempdir()
            .unwrap();
        let hops: Vec<Hop> = (1..=hops).map(|n| Hop::new(n, alg, dir.path())).collect();
        let records: Vec<Record> = hops
            .iter()
            .map(|h| Record {
                name: h.key_name(),
                ttl: 300,
                data: RData::Txt(Txt::new(
                    inkan_auth::dkim::txt_record_strings(&h.key.txt_value().unwrap())
                        .into_iter()
                        .map(String::into_bytes)
                        .collect(),
                )),
            })
            .collect();
        let server = DnsServer::start(MemoryResolver::from_records(records)).unwrap();
        let resolver = NetworkResolver::with_servers(
            &[server.addr()],
            NetworkOptions::default().with_timeout(Duration::from_secs(5)),
        )
        .unwrap();
        let map: serde_json::Map<String, serde_json::Value> = hops
            .iter()
            .map(|h| (h.key_name(), h.key.txt_value().unwrap().into()))
            .collect();
        let keys_json = dir.path().join("keys.json");
        std::fs::write(&keys_json, serde_json::to_vec(&map).unwrap()).unwrap();
        World {
            hops,
            keys_json,
            _dir: dir,
            _server: server,
            resolver,
        }
    }

    fn run_peer(&self, args: &[&str], message: &[u8]) -> (bool, Vec<u8>, String) {
        let mut child = Command::new("python3")
            .arg(peer_script())
            .args(args)
            .arg("--keys")
            .arg(&self.keys_json)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs: run .ci/setup");
        child.stdin.take().unwrap().write_all(message).unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// dkimpy seals as hop `n` (0-based).
    fn peer_seal(&self, n: usize, message: &[u8]) -> Vec<u8> {
        let hop = &self.hops[n];
        let ts = (NOW + n as u64).to_string();
        let (ok, out, err) = self.run_peer(
            &[
                "seal",
                "--domain",
                &hop.domain,
                "--selector",
                "arc",
                "--key",
                hop.peer_key.to_str().unwrap(),
                "--algorithm",
                hop.algorithm,
                "--srv-id",
                &format!("mx.{}", hop.domain),
                "--timestamp",
                &ts,
            ],
            message,
        );
        assert!(ok, "dkimpy seal failed: {err}");
        out
    }

    /// dkimpy's verdict: (cv, reason).
    fn peer_verify(&self, message: &[u8]) -> (String, String) {
        let (ok, out, err) = self.run_peer(&["verify"], message);
        assert!(ok, "dkimpy verify failed: {err}");
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        (
            v["cv"].as_str().unwrap().to_owned(),
            v["reason"].as_str().unwrap_or_default().to_owned(),
        )
    }

    async fn validate(&self, message: &[u8]) -> ArcOutput {
        let m = Message::parse(message.to_vec()).unwrap();
        validate_at(&self.resolver, &m, NOW + 100).await
    }

    /// inkan seals as hop `n`, validating the incoming chain first as a receiver would.
    async fn inkan_seal(&self, n: usize, message: &[u8]) -> Vec<u8> {
        let hop = &self.hops[n];
        let chain = self.validate(message).await;
        let m = Message::parse(message.to_vec()).unwrap();
        let mut params = SealParams::new(
            hop.domain.clone(),
            "arc",
            hop.key.clone(),
            format!("mx.{}", hop.domain),
            format!(
                "spf=pass smtp.mailfrom=origin.example;\r\n\t{}",
                render(&chain)
            ),
        );
        params.chain = chain.result;
        params.now = NOW + n as u64;
        seal(&m, &params).unwrap()
    }
}

fn render(chain: &ArcOutput) -> String {
    let mut ar = inkan_auth::authres::AuthResults::new("x");
    ar.results.push(chain.auth_result());
    ar.render("").split_once("; ").unwrap().1.to_owned()
}

#[derive(Clone, Copy, Debug)]
enum Sealer {
    Dkimpy,
    Inkan,
}

async fn chain(world: &World, sealers: &[Sealer]) -> Vec<u8> {
    let mut message = MESSAGE.as_bytes().to_vec();
    for (n, sealer) in sealers.iter().enumerate() {
        message = match sealer {
            Sealer::Dkimpy => world.peer_seal(n, &message),
            Sealer::Inkan => world.inkan_seal(n, &message).await,
        };
    }
    message
}

async fn both_pass(alg: Alg, sealers: &[Sealer]) {
    let world = World::new(alg, sealers.len());
    let message = chain(&world, sealers).await;
    let out = world.validate(&message).await;
    assert_eq!(
        out.result,
        ArcResult::Pass,
        "{alg:?} {sealers:?}: inkan says {}",
        out.reason
    );
    assert_eq!(out.instances as usize, sealers.len());
    assert_eq!(out.oldest_pass, Some(1));
    let (cv, reason) = world.peer_verify(&message);
    assert_eq!(cv, "pass", "{alg:?} {sealers:?}: dkimpy says {reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn dkimpy_chains_validate_in_inkan_rsa() {
    for hops in 1..=3 {
        both_pass(Alg::Rsa, &vec![Sealer::Dkimpy; hops]).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn inkan_chains_validate_in_dkimpy_rsa() {
    for hops in 1..=3 {
        both_pass(Alg::Rsa, &vec![Sealer::Inkan; hops]).await;
    }
}

/// dkimpy 1.1.8 implements ARC with rsa-sha256 only (its `ARC_HASH_ALGORITHMS`): it cannot
/// seal with Ed25519 and reports an ed25519-sha256 set as an unknown algorithm. inkan seals and
/// validates Ed25519 chains (the RFC 8463 algorithm, as DKIM); this pins both facts, so a dkimpy
/// that learns Ed25519 ARC shows up here.
#[tokio::test(flavor = "multi_thread")]
async fn ed25519_chains_validate_in_inkan_and_dkimpy_is_rsa_only() {
    for hops in 1..=3 {
        let world = World::new(Alg::Ed25519, hops);
        let message = chain(&world, &vec![Sealer::Inkan; hops]).await;
        let out = world.validate(&message).await;
        assert_eq!(out.result, ArcResult::Pass, "{}", out.reason);
        assert_eq!(out.instances as usize, hops);
        let (cv, reason) = world.peer_verify(&message);
        assert_eq!(cv, "fail");
        assert!(
            reason.contains("unknown signature algorithm"),
            "dkimpy: {reason}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mixed_chains_validate_both_ways() {
    use Sealer::{Dkimpy, Inkan};
    both_pass(Alg::Rsa, &[Dkimpy, Inkan, Dkimpy]).await;
    both_pass(Alg::Rsa, &[Inkan, Dkimpy, Inkan]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn body_change_after_the_last_hop_fails_at_the_newest_instance() {
    for sealer in [Sealer::Dkimpy, Sealer::Inkan] {
        let world = World::new(Alg::Rsa, 3);
        let mut message = chain(&world, &[sealer; 3]).await;
        message.extend_from_slice(b"Tampered after the last seal.\r\n");
        let out = world.validate(&message).await;
        assert_eq!(out.result, ArcResult::Fail, "{sealer:?}");
        assert_eq!(out.failed_instance, Some(3), "{sealer:?}");
        assert_eq!(out.reason_code, "ams_invalid");
        assert!(out.reason.contains("body hash mismatch"), "{}", out.reason);
        let (cv, reason) = world.peer_verify(&message);
        assert_eq!(cv, "fail", "{reason}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn body_change_between_hops_is_recorded_by_the_next_sealer() {
    for sealer in [Sealer::Dkimpy, Sealer::Inkan] {
        let world = World::new(Alg::Rsa, 2);
        let mut message = chain(&world, &[sealer]).await;
        message.extend_from_slice(b"-- a footer the list added\r\n");
        message = match sealer {
            Sealer::Dkimpy => world.peer_seal(1, &message),
            Sealer::Inkan => world.inkan_seal(1, &message).await,
        };
        let text = String::from_utf8(message.clone()).unwrap();
        assert!(
            text.contains("cv=fail"),
            "{sealer:?} should seal with cv=fail"
        );
        let out = world.validate(&message).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert_eq!(out.reason_code, "marked_failed");
        assert_eq!(out.failed_instance, Some(2));
        let (cv, _) = world.peer_verify(&message);
        assert_eq!(cv, "fail");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_first_aar_breaks_the_first_seal() {
    for sealer in [Sealer::Dkimpy, Sealer::Inkan] {
        let world = World::new(Alg::Rsa, 2);
        let message = chain(&world, &[sealer; 2]).await;
        let text = String::from_utf8(message).unwrap();
        // The verdict recorded by the first hop, rewritten after the second hop sealed.
        let at = text.find("ARC-Authentication-Results: i=1").unwrap();
        let fixed = format!(
            "{}{}",
            &text[..at],
            text[at..].replacen("spf=pass", "spf=fail", 1)
        );
        assert_ne!(fixed, text);
        let out = world.validate(fixed.as_bytes()).await;
        assert_eq!(out.result, ArcResult::Fail, "{sealer:?}");
        assert_eq!(out.reason_code, "seal_invalid");
        assert_eq!(out.failed_instance, Some(1), "{}", out.reason);
        let (cv, _) = world.peer_verify(fixed.as_bytes());
        assert_eq!(cv, "fail");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn out_of_order_and_malformed_sets_fail_on_both_sides() {
    let world = World::new(Alg::Rsa, 2);
    let message = chain(&world, &[Sealer::Dkimpy, Sealer::Inkan]).await;
    let text = String::from_utf8(message).unwrap();

    // Instance 2 renumbered as 3: a gap.
    let gap = text.replace("i=2;", "i=3;");
    let out = world.validate(gap.as_bytes()).await;
    assert_eq!(out.reason_code, "missing_set");
    assert_eq!(out.failed_instance, Some(2));
    assert_eq!(world.peer_verify(gap.as_bytes()).0, "fail");

    // h= in a seal is forbidden.
    let with_h = text.replacen("cv=pass;", "cv=pass; h=from;", 1);
    let out = world.validate(with_h.as_bytes()).await;
    assert_eq!(out.reason_code, "malformed_header");
    assert_eq!(out.failed_instance, Some(2));
    assert!(out.reason.contains("'h='"), "{}", out.reason);
    assert_eq!(world.peer_verify(with_h.as_bytes()).0, "fail");

    // The first seal claiming cv=pass.
    let first = text.replacen("cv=none", "cv=pass", 1);
    let out = world.validate(first.as_bytes()).await;
    assert_eq!(out.reason_code, "cv_not_none");
    assert_eq!(out.failed_instance, Some(1));
    assert_eq!(world.peer_verify(first.as_bytes()).0, "fail");
}
