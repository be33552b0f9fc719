//! Bench-only: DKIM verification and signing throughput of inkan and mail-auth on the same
//! messages, one core, keys already cached (parsed once, as a verifier with a warm DNS cache has
//! them). Driven by `bench/dkim/run.sh`, which also times dkimpy and Node mailauth on the same
//! files. Rates are per second of the thread's CPU time, so that other processes on a shared
//! machine do not count against the code measured.
//!
//! ```text
//! inkan-bench-dkim gen DIR N          # N ~10 KB messages, signed rsa-sha256 and ed25519-sha256
//! inkan-bench-dkim verify-inkan DIR rsa|ed
//! inkan-bench-dkim verify-mail-auth DIR rsa|ed
//! inkan-bench-dkim sign-inkan DIR rsa|ed
//! inkan-bench-dkim sign-mail-auth DIR rsa|ed
//! inkan-bench-dkim raw DIR rsa-verify|ed-verify|rsa-sign|sha256   # the aws-lc ceiling
//! inkan-bench-dkim ratio DIR          # inkan (and mail-auth) as % of the ceiling, interleaved
//! inkan-bench-dkim stages DIR rsa|ed  # µs per message of each step of inkan's verify and sign
//! inkan-bench-dkim sign-costs DIR      # µs each piece of signing adds to an RSA-2048 signature
//! inkan-bench-dkim loop DIR STEP [rsa|ed]   # one step of `stages` for ~10 s, for `perf record`
//! inkan-bench-dkim count DIR rsa|ed|sign     # 200 messages once, for callgrind's counts
//! ```
//!
//! `ratio` exists because the machines are shared: run one after the other, `verify-inkan` and
//! `raw` see different loads, and the quotient of their rates moves by ±15 %. It alternates
//! short runs (50 messages; 3 for signing) of inkan and of the raw operations, 301 rounds, and
//! prints the median of the per-round quotients, so that both sides of each quotient saw about
//! the same load.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use inkan_auth::Message;
use inkan_auth::dkim::{self, DkimKey, DkimResult, Signer, SigningKey};
use mail_auth::dkim::DomainKey;
use mail_auth::dns::TxtRecordParser;
use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::{
    AuthenticatedMessage, DnsCache, MessageAuthenticator, NoCache, Parameters, ResolverCache,
    TxtRecord,
};

const NOW: u64 = 1_795_000_000;
const ROUNDS: usize = 5;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: inkan-bench-dkim gen DIR N | (verify|sign)-(inkan|mail-auth) DIR rsa|ed \
        | ratio DIR | ratio-warm DIR | sign-costs DIR | stages DIR rsa|ed | loop DIR STEP rsa|ed";
    let (mode, dir) = match (args.get(1), args.get(2)) {
        (Some(m), Some(d)) => (m.as_str(), PathBuf::from(d)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let arg3 = args.get(3).map(String::as_str).unwrap_or("rsa");
    match mode {
        "gen" => generate(&dir, arg3.parse().expect("N")),
        "verify-inkan" => verify_inkan(&dir, arg3),
        "verify-mail-auth" => verify_mail_auth(&dir, arg3),
        "sign-inkan" => sign_inkan(&dir, arg3),
        "sign-mail-auth" => sign_mail_auth(&dir, arg3),
        "raw" => raw(&dir, arg3),
        "ratio" => ratio(&dir, false),
        "ratio-warm" => ratio(&dir, true),
        "stages" => stages(&dir, arg3, None),
        "sign-costs" => sign_costs(&dir),
        "loop" => stages(&dir, args.get(4).map_or("rsa", String::as_str), Some(arg3)),
        "count" => count(&dir, arg3),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

/// A message of about 10 KB whose text varies with `i`.
fn message(i: usize) -> Vec<u8> {
    let mut m = format!(
        "Received: from mail.example.com (mail.example.com [192.0.2.25])\r\n\tby mx.example.net; Sat, 28 Nov 2026 07:00:00 +0000\r\n\
From: Example News <news@example.com>\r\nTo: reader{i}@example.net\r\nSubject: Digest number {i}\r\n\
Date: Sat, 28 Nov 2026 07:00:00 +0000\r\nMessage-ID: <digest-{i}@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
List-Unsubscribe: <https://example.com/unsubscribe/{i:08}>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n"
    );
    // Ordinary prose: single spaces, a trailing space now and then, as most bodies are.
    let mut n = 0;
    while m.len() < 10_240 {
        n += 1;
        m.push_str(&format!(
            "Story {n} for reader {i}: lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do \r\n"
        ));
        if n % 4 == 0 {
            m.push_str("\r\n");
        }
    }
    m.into_bytes()
}

fn generate(dir: &Path, n: usize) {
    let rsa = dkim::generate_rsa(2048).unwrap();
    let ed = dkim::generate_ed25519().unwrap();
    std::fs::create_dir_all(dir).unwrap();
    let mut keys = serde_json::Map::new();
    for (name, key) in [("rsa", &rsa), ("ed", &ed)] {
        std::fs::write(dir.join(format!("{name}.pem")), key.to_pkcs8_pem().unwrap()).unwrap();
        keys.insert(
            format!("{name}._domainkey.example.com"),
            key.txt_value().unwrap().into(),
        );
        let sub = dir.join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let signer = Signer::new("example.com", name, key.clone());
        for i in 0..n {
            let m = Message::parse(message(i)).unwrap();
            std::fs::write(
                sub.join(format!("{i:05}.eml")),
                signer.sign_message_at(&m, NOW).unwrap(),
            )
            .unwrap();
        }
    }
    let plain = dir.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    for i in 0..n {
        std::fs::write(plain.join(format!("{i:05}.eml")), message(i)).unwrap();
    }
    std::fs::write(
        dir.join("keys.json"),
        serde_json::Value::Object(keys).to_string(),
    )
    .unwrap();
}

fn load(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|f| std::fs::read(f).unwrap()).collect()
}

fn keys(dir: &Path) -> Vec<(String, String)> {
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("keys.json")).unwrap()).unwrap();
    json.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn thread_cpu_time() -> Duration {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// Runs `f` over every message `ROUNDS` times after one warm-up pass; prints messages per
/// second of CPU time (and of wall time, which counts other processes on a busy machine).
fn timed(label: &str, messages: &[Vec<u8>], mut f: impl FnMut(&[u8])) {
    for m in messages {
        f(m);
    }
    let wall = Instant::now();
    let cpu = thread_cpu_time();
    for _ in 0..ROUNDS {
        for m in messages {
            f(m);
        }
    }
    let cpu = thread_cpu_time() - cpu;
    let wall = wall.elapsed();
    let n = (ROUNDS * messages.len()) as f64;
    println!(
        "{label}\t{:.0} msg/s\t(wall {:.0} msg/s)",
        n / cpu.as_secs_f64(),
        n / wall.as_secs_f64()
    );
}

fn verify_inkan(dir: &Path, alg: &str) {
    let messages = load(&dir.join(alg));
    let parsed = parsed_keys(dir);
    let lookup = |name: &str| parsed.get(name).cloned();
    timed(&format!("inkan verify {alg}"), &messages, |message| {
        verify_one(message, &lookup)
    });
}

/// The published keys of `dir`, parsed once (the cached keys of the comparison).
fn parsed_keys(dir: &Path) -> HashMap<String, Arc<DkimKey>> {
    keys(dir)
        .into_iter()
        .map(|(k, v)| (k, Arc::new(DkimKey::parse(v).unwrap())))
        .collect()
}

/// inkan verifies one message; its first signature must pass.
fn verify_one(message: &[u8], lookup: &dyn Fn(&str) -> Option<Arc<DkimKey>>) {
    let m = Message::parse(message).unwrap();
    let out = dkim::verify_with_keys(&m, lookup, NOW);
    assert_eq!(out[0].result, DkimResult::Pass, "{}", out[0].reason);
}

/// inkan signs one message.
fn sign_one(message: &[u8], signer: &Signer) {
    let m = Message::parse(message).unwrap();
    std::hint::black_box(signer.sign_at(&m, NOW).unwrap());
}

/// The signing key `dir/ALG.pem`.
fn pem(dir: &Path, alg: &str) -> SigningKey {
    SigningKey::from_pem(&std::fs::read_to_string(dir.join(format!("{alg}.pem"))).unwrap()).unwrap()
}

struct TxtCache(HashMap<Box<str>, TxtRecord>);

impl ResolverCache<Box<str>, TxtRecord> for TxtCache {
    fn get<Q>(&self, name: &Q) -> Option<TxtRecord>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.get(name).cloned()
    }

    fn remove<Q>(&self, _: &Q) -> Option<TxtRecord>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        None
    }

    fn insert(&self, _: Box<str>, _: TxtRecord, _: Instant) {}
}

struct Caches {
    txt: TxtCache,
}

impl DnsCache for Caches {
    type Txt = TxtCache;
    type Mx = NoCache;
    type Ipv4 = NoCache;
    type Ipv6 = NoCache;
    type Ptr = NoCache;

    fn txt(&self) -> Option<&TxtCache> {
        Some(&self.txt)
    }
    fn mx(&self) -> Option<&NoCache> {
        None
    }
    fn ipv4(&self) -> Option<&NoCache> {
        None
    }
    fn ipv6(&self) -> Option<&NoCache> {
        None
    }
    fn ptr(&self) -> Option<&NoCache> {
        None
    }
}

/// mail-auth's verifier with every key of `dir` in its cache, and the runtime to drive it.
fn mail_auth_verifier(dir: &Path) -> impl Fn(&[u8]) {
    let txt = keys(dir)
        .into_iter()
        .map(|(k, v)| {
            let key = DomainKey::parse(v.as_bytes()).unwrap();
            (
                format!("{k}.").into_boxed_str(),
                TxtRecord::DomainKey(Arc::new(key)),
            )
        })
        .collect();
    let caches = Caches { txt: TxtCache(txt) };
    // Only loopback: every key is in the cache, so no query is ever sent.
    let config = ResolverConfig::from_parts(
        None,
        vec![],
        vec![NameServerConfig::udp_and_tcp(IpAddr::V4(
            Ipv4Addr::LOCALHOST,
        ))],
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let auth =
        rt.block_on(async { MessageAuthenticator::new(config, ResolverOpts::default()).unwrap() });
    move |raw: &[u8]| {
        rt.block_on(async {
            let m = AuthenticatedMessage::parse(raw).unwrap();
            let out = auth
                .verify_dkim(Parameters::new(&m).with_cache(&caches))
                .await;
            assert_eq!(out[0].result(), &mail_auth::DkimResult::Pass);
        })
    }
}

fn verify_mail_auth(dir: &Path, alg: &str) {
    let messages = load(&dir.join(alg));
    let verify = mail_auth_verifier(dir);
    timed(&format!("mail-auth verify {alg}"), &messages, verify);
}

fn sign_inkan(dir: &Path, alg: &str) {
    let messages = load(&dir.join("plain"));
    let signer = Signer::new("example.com", alg, pem(dir, alg));
    timed(&format!("inkan sign {alg}"), &messages, |message| {
        sign_one(message, &signer)
    });
}

fn sign_mail_auth(dir: &Path, alg: &str) {
    use mail_auth::crypto::{Ed25519Key, RsaKey, Sha256};
    use mail_auth::dkim::DkimSigner;
    let messages = load(&dir.join("plain"));
    let pem = std::fs::read_to_string(dir.join(format!("{alg}.pem"))).unwrap();
    let headers = [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
    ];
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = dkim::decode_base64(&der).unwrap();
    if alg == "rsa" {
        use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
        let key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            der.as_slice(),
        )))
        .unwrap();
        let signer = DkimSigner::from_key(key)
            .domain("example.com")
            .selector("rsa")
            .headers(headers);
        timed("mail-auth sign rsa", &messages, |raw| {
            std::hint::black_box(signer.sign(raw).unwrap());
        });
    } else {
        let key = Ed25519Key::from_pkcs8_der(&der).unwrap();
        let signer = DkimSigner::from_key(key)
            .domain("example.com")
            .selector("ed")
            .headers(headers);
        timed("mail-auth sign ed", &messages, |raw| {
            std::hint::black_box(signer.sign(raw).unwrap());
        });
    }
}

/// The operations that bound DKIM throughput, each alone: an RSA-2048 or Ed25519 verification
/// of a digest, an RSA-2048 signature of a digest, SHA-256 of a message.
struct RawCrypto {
    rsa: Arc<aws_lc_rs::signature::RsaKeyPair>,
    digest: aws_lc_rs::digest::Digest,
    rsa_sig: Vec<u8>,
    rsa_pub: aws_lc_rs::signature::ParsedPublicKey,
    ed_sig: aws_lc_rs::signature::Signature,
    ed_pub: aws_lc_rs::signature::ParsedPublicKey,
}

impl RawCrypto {
    /// The keys of `dir` (`rsa.pem`, `ed.pem`) and one signature of each over a fixed digest.
    fn new(dir: &Path) -> RawCrypto {
        use aws_lc_rs::digest;
        use aws_lc_rs::signature::{self as sig, KeyPair};
        let (SigningKey::Rsa(rsa), SigningKey::Ed25519(ed)) = (pem(dir, "rsa"), pem(dir, "ed"))
        else {
            panic!("key types")
        };
        let digest = digest::digest(&digest::SHA256, b"header hash input");
        let mut rsa_sig = vec![0; rsa.public_modulus_len()];
        rsa.sign_digest(&sig::RSA_PKCS1_SHA256, &digest, &mut rsa_sig)
            .unwrap();
        let rsa_pub =
            sig::ParsedPublicKey::new(&sig::RSA_PKCS1_2048_8192_SHA256, rsa.public_key().as_ref())
                .unwrap();
        let ed_sig = ed.sign(digest.as_ref());
        let ed_pub = sig::ParsedPublicKey::new(&sig::ED25519, ed.public_key().as_ref()).unwrap();
        RawCrypto {
            rsa,
            digest,
            rsa_sig,
            rsa_pub,
            ed_sig,
            ed_pub,
        }
    }

    fn rsa_verify(&self) {
        self.rsa_pub
            .verify_digest_sig(&self.digest, &self.rsa_sig)
            .unwrap();
    }

    fn ed_verify(&self) {
        self.ed_pub
            .verify_sig(self.digest.as_ref(), self.ed_sig.as_ref())
            .unwrap();
    }

    fn rsa_sign(&self) {
        let mut out = vec![0; self.rsa.public_modulus_len()];
        self.rsa
            .sign_digest(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &self.digest,
                &mut out,
            )
            .unwrap();
    }

    fn sha256(message: &[u8]) {
        use aws_lc_rs::digest;
        std::hint::black_box(digest::digest(&digest::SHA256, message));
    }
}

/// Times one of [`RawCrypto`]'s operations once per message.
fn raw(dir: &Path, op: &str) {
    let messages = load(&dir.join("plain"));
    let raw = RawCrypto::new(dir);
    match op {
        "rsa-verify" => timed("raw rsa-2048 verify", &messages, |_| raw.rsa_verify()),
        "ed-verify" => timed("raw ed25519 verify", &messages, |_| raw.ed_verify()),
        "rsa-sign" => timed("raw rsa-2048 sign", &messages, |_| raw.rsa_sign()),
        _ => timed("raw sha256 of the message", &messages, RawCrypto::sha256),
    }
}

/// CPU time per call of `f` over `messages`, in microseconds, after one untimed call on the
/// first message: the first call after other code ran is slow (caches, branch predictors), and
/// a busy verifier or signer runs the same code message after message.
fn micros(messages: &[Vec<u8>], mut f: impl FnMut(&[u8])) -> f64 {
    f(&messages[0]);
    let cpu = thread_cpu_time();
    for m in messages {
        f(m);
    }
    (thread_cpu_time() - cpu).as_secs_f64() * 1e6 / messages.len() as f64
}

/// inkan's verify and sign rates as a share of the ceiling, each round timing inkan and the raw
/// operations back to back (in alternating order): verify against one verification of a digest
/// plus SHA-256 of the message verified, sign against one RSA-2048 signature (as the issue
/// defines the goals). The last line, the sign floor, is what a signer that only hashed the
/// message once (SHA-256 of all its bytes) before the same signature would reach: no signer of
/// these messages can come closer to the raw signing rate. Until 29 Nov 2026 the SHA-256 ran over the unsigned message, 667 bytes
/// (rsa) and 402 bytes (ed) shorter than the one verified, which understated the ceiling.
/// With `warm`, every job reads its messages once, untimed, before it is timed: the messages
/// are then in the cache, as a message an MTA has just received is. Without it they come from
/// wherever the earlier rounds left them, mostly a cache level beyond L2 (1,000 messages are
/// ~10 MB).
fn ratio(dir: &Path, warm: bool) {
    const ROUNDS_INTERLEAVED: usize = 301;
    let plain = load(&dir.join("plain"));
    let signed = [load(&dir.join("rsa")), load(&dir.join("ed"))];
    // The ceiling hashes the messages verified, signature field and all, from copies of their
    // own: hashing the very bytes just before inkan reads them would warm the cache for it.
    let hashed = signed.clone();
    let hashed_plain = plain.clone();
    let parsed = parsed_keys(dir);
    let lookup = |name: &str| parsed.get(name).cloned();
    let signer = Signer::new("example.com", "rsa", pem(dir, "rsa"));
    let raw = RawCrypto::new(dir);
    let verify = |message: &[u8]| verify_one(message, &lookup);
    // Short segments track the load as it changes; signing is ~100 times slower than
    // verifying, so it gets fewer messages per segment.
    let mail_auth = mail_auth_verifier(dir);
    let mut shares: [Vec<f64>; 6] = Default::default();
    for round in 0..ROUNDS_INTERLEAVED {
        let seg = |all: &'_ [Vec<u8>], n: usize| -> std::ops::Range<usize> {
            let start = (round * n) % (all.len() - n + 1);
            start..start + n
        };
        let v = seg(&plain, 50);
        let s = seg(&plain, 3);
        // The first segment after a switch of code runs slow (caches, predictors): run the
        // segments in this order in even rounds and in the reverse order in odd ones, so that
        // each side of a quotient goes first in half of the rounds.
        let micros = |messages: &[Vec<u8>], f: &dyn Fn(&[u8])| {
            if warm {
                let sum = messages.iter().flatten().fold(0u8, |sum, &b| sum ^ b);
                std::hint::black_box(sum);
            }
            micros(messages, f)
        };
        let job = |j: usize| match j {
            0 => micros(&hashed[0][v.clone()], &RawCrypto::sha256),
            1 => micros(&plain[v.clone()], &|_| raw.rsa_verify()),
            2 => micros(&signed[0][v.clone()], &verify),
            3 => micros(&plain[v.clone()], &|_| raw.ed_verify()),
            4 => micros(&signed[1][v.clone()], &verify),
            5 => micros(&signed[0][v.clone()], &mail_auth),
            6 => micros(&signed[1][v.clone()], &mail_auth),
            7 => micros(&plain[s.clone()], &|_| raw.rsa_sign()),
            8 => micros(&plain[s.clone()], &|message| sign_one(message, &signer)),
            9 => micros(&hashed[1][v.clone()], &RawCrypto::sha256),
            _ => micros(&hashed_plain[s.clone()], &|message| {
                raw.rsa_sign();
                RawCrypto::sha256(message);
            }),
        };
        let mut t = [0.0; 11];
        for k in 0..t.len() {
            let j = if round % 2 == 0 { k } else { t.len() - 1 - k };
            t[j] = job(j);
        }
        let [
            sha_rsa,
            raw_rsa,
            inkan_rsa,
            raw_ed,
            inkan_ed,
            mail_auth_rsa,
            mail_auth_ed,
            raw_sign,
            inkan_sign,
            sha_ed,
            sign_floor,
        ] = t;
        shares[0].push((raw_rsa + sha_rsa) / inkan_rsa);
        shares[1].push((raw_ed + sha_ed) / inkan_ed);
        shares[2].push(raw_sign / inkan_sign);
        shares[3].push((raw_rsa + sha_rsa) / mail_auth_rsa);
        shares[4].push((raw_ed + sha_ed) / mail_auth_ed);
        shares[5].push(raw_sign / sign_floor);
    }
    let labels = [
        "inkan verify rsa",
        "inkan verify ed",
        "inkan sign rsa",
        "mail-auth verify rsa",
        "mail-auth verify ed",
        "sign floor: sha256 + rsa",
    ];
    for (label, mut v) in labels.into_iter().zip(shares) {
        let middle = median(&mut v);
        println!(
            "{label}\t{:.1} % of the ceiling (median of {ROUNDS_INTERLEAVED} interleaved rounds, messages {}; lowest {:.1}, highest {:.1})",
            100.0 * middle,
            if warm { "warm" } else { "cold" },
            100.0 * v[0],
            100.0 * v[v.len() - 1]
        );
    }
}

/// The rsa-sha256 body hash of `message` in `canon`, as a verifier or signer computes it.
fn body_hash(message: &Message<'_>, canon: inkan_auth::dkim::Canon) {
    use inkan_auth::dkim::{Algorithm, BodyHasher};
    let hash = BodyHasher::for_message(message).hash(canon, None, Algorithm::RsaSha256);
    std::hint::black_box(hash.unwrap());
}

/// What signing adds to one RSA-2048 signature, piece by piece: each job signs a digest with
/// the raw key and does one more piece of a signer's work on the message (or is inkan's whole
/// signer), 601 rounds of 3 messages each, in alternating order like `ratio`. Each job's cost is
/// the median over the rounds of its time minus the raw signature's time in the same round, so
/// the load on the machine cancels out; the share is the raw signature's time over the job's.
fn sign_costs(dir: &Path) {
    use inkan_auth::dkim::{Canon, Canonicalization};
    const ROUNDS_SIGN: usize = 601;
    let plain = load(&dir.join("plain"));
    let copy = plain.clone();
    let raw = RawCrypto::new(dir);
    let relaxed = Signer::new("example.com", "rsa", pem(dir, "rsa"));
    let mut simple = relaxed.clone();
    simple.canonicalization = Canonicalization {
        header: Canon::Simple,
        body: Canon::Simple,
    };
    let labels = [
        "raw rsa-2048 sign",
        "+ sha256 of the message (the floor)",
        "+ Message::parse",
        "+ Message::parse, simple body hash",
        "+ Message::parse, relaxed body hash",
        "inkan sign simple/simple",
        "inkan sign relaxed/relaxed (default)",
    ];
    let mut costs: Vec<Vec<f64>> = vec![Vec::new(); labels.len()];
    let mut shares: Vec<Vec<f64>> = vec![Vec::new(); labels.len()];
    for round in 0..ROUNDS_SIGN {
        let start = (round * 3) % (plain.len() - 2);
        let s = start..start + 3;
        let job = |j: usize| match j {
            0 => micros(&plain[s.clone()], |_: &[u8]| raw.rsa_sign()),
            1 => micros(&copy[s.clone()], |m: &[u8]| {
                raw.rsa_sign();
                RawCrypto::sha256(m);
            }),
            2 => micros(&plain[s.clone()], |m: &[u8]| {
                raw.rsa_sign();
                std::hint::black_box(Message::parse(m).unwrap());
            }),
            3 | 4 => {
                let canon = if j == 3 {
                    Canon::Simple
                } else {
                    Canon::Relaxed
                };
                micros(&plain[s.clone()], |m: &[u8]| {
                    raw.rsa_sign();
                    body_hash(&Message::parse(m).unwrap(), canon);
                })
            }
            5 => micros(&plain[s.clone()], |m: &[u8]| sign_one(m, &simple)),
            _ => micros(&plain[s.clone()], |m: &[u8]| sign_one(m, &relaxed)),
        };
        let mut t = vec![0.0; labels.len()];
        for k in 0..t.len() {
            let j = if round % 2 == 0 { k } else { t.len() - 1 - k };
            t[j] = job(j);
        }
        for (j, time) in t.iter().enumerate() {
            costs[j].push(time - t[0]);
            shares[j].push(t[0] / time);
        }
    }
    for ((label, mut cost), mut share) in labels.into_iter().zip(costs).zip(shares) {
        println!(
            "{label:<40}{:>7.2} µs{:>7.1} %",
            median(&mut cost),
            100.0 * median(&mut share)
        );
    }
}

/// Where inkan's time per message goes, step by step, next to the raw operations: each round
/// times every step over the same 50 messages (3 for signing) back to back, and the medians
/// over the rounds are printed in microseconds of CPU time. The steps are the public pieces
/// `verify_with_keys` and `sign_at` are made of; verifying uses the `alg` messages and key, signing
/// always RSA. With `only`, runs the one step whose label
/// contains it for about 10 s instead (for `perf record`), over the first `LOOP_N` messages
/// when that variable is set (few messages stay in the cache; all 1,000 do not).
fn stages(dir: &Path, alg: &str, only: Option<&str>) {
    use inkan_auth::dkim::{Algorithm, Canon, Signature, header_hash};
    fn field<'m>(m: &'m Message<'_>) -> inkan_auth::HeaderField<'m> {
        m.header_fields("DKIM-Signature").next().unwrap()
    }
    const ROUNDS_STAGES: usize = 101;
    let plain = load(&dir.join("plain"));
    let signed = load(&dir.join(alg));
    let parsed = parsed_keys(dir);
    let key = parsed[&format!("{alg}._domainkey.example.com")].clone();
    let lookup = |name: &str| parsed.get(name).cloned();
    let signer = Signer::new("example.com", "rsa", pem(dir, "rsa"));
    let raw = RawCrypto::new(dir);
    fn parse_all(all: &[Vec<u8>]) -> Vec<Message<'_>> {
        all.iter()
            .map(|m| Message::parse(m.as_slice()).unwrap())
            .collect()
    }
    let (messages, plain_messages) = (parse_all(&signed), parse_all(&plain));
    let sigs: Vec<Signature> = messages
        .iter()
        .map(|m| Signature::parse(field(m).value()).unwrap())
        .collect();
    let hashes: Vec<Vec<u8>> = messages
        .iter()
        .zip(&sigs)
        .map(|(m, s)| header_hash(m, s, &field(m)))
        .collect();
    let labels = [
        "verify: raw sha256 of the message",
        "verify: raw verify (rsa-2048 or ed25519)",
        "verify: whole (verify_one)",
        "verify: Message::parse from &[u8]",
        "verify: Signature::parse",
        "verify: body hash (relaxed)",
        "verify: header hash",
        "verify: DkimKey::verify_signature",
        "sign: raw rsa-2048 sign",
        "sign: whole (sign_one)",
        "sign: Message::parse from &[u8]",
        "sign: Signer::sign_at",
        "sign: body hash (relaxed)",
        "sign: SigningKey::sign_digest",
        "sign: body hash then sign_digest",
        "sign: sign_digest of each message's digest",
    ];
    let stage = |step: usize, i: usize| match step {
        0 => RawCrypto::sha256(&signed[i]),
        1 if alg == "ed" => raw.ed_verify(),
        1 => raw.rsa_verify(),
        2 => verify_one(&signed[i], &lookup),
        3 | 10 => {
            let all = if step == 3 { &signed } else { &plain };
            std::hint::black_box(Message::parse(all[i].as_slice()).unwrap());
        }
        4 => {
            std::hint::black_box(Signature::parse(field(&messages[i]).value()).unwrap());
        }
        5 => body_hash(&messages[i], Canon::Relaxed),
        6 => {
            std::hint::black_box(header_hash(&messages[i], &sigs[i], &field(&messages[i])));
        }
        7 => assert!(key.verify_signature(sigs[i].algorithm, &hashes[i], &sigs[i].signature)),
        8 => raw.rsa_sign(),
        9 => sign_one(&plain[i], &signer),
        11 => {
            std::hint::black_box(signer.sign_at(&plain_messages[i], NOW).unwrap());
        }
        12 => body_hash(&plain_messages[i], Canon::Relaxed),
        _ => {
            if step == 14 {
                body_hash(&plain_messages[i], Canon::Relaxed);
            }
            let digest = if step == 15 {
                &hashes[i]
            } else {
                raw.digest.as_ref()
            };
            std::hint::black_box(
                signer
                    .key
                    .sign_digest(Algorithm::RsaSha256, digest)
                    .unwrap(),
            );
        }
    };
    if let Some(step) = only {
        let at = labels
            .iter()
            .position(|l| l.contains(step))
            .unwrap_or_else(|| panic!("no step matches {step:?}: {labels:?}"));
        let (start, cpu) = (Instant::now(), thread_cpu_time());
        let mut calls = 0;
        let n: usize = std::env::var("LOOP_N").map_or(plain.len(), |v| v.parse().unwrap());
        while start.elapsed() < Duration::from_secs(10) {
            for i in 0..n {
                stage(at, i);
            }
            calls += n;
        }
        let per_call = (thread_cpu_time() - cpu).as_secs_f64() * 1e6 / calls as f64;
        println!(
            "{}\t{per_call:.2} µs per call of CPU time ({calls} calls)",
            labels[at]
        );
        return;
    }
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); labels.len()];
    for round in 0..ROUNDS_STAGES {
        for (step, all) in times.iter_mut().enumerate() {
            // Signing is ~100 times slower than verifying: fewer messages per segment.
            let n = if step < 8 { 50 } else { 3 };
            let start = (round * n) % (plain.len() - n + 1);
            let cpu = thread_cpu_time();
            for i in start..start + n {
                stage(step, i);
            }
            all.push((thread_cpu_time() - cpu).as_secs_f64() * 1e6 / n as f64);
        }
    }
    for (label, mut v) in labels.into_iter().zip(times) {
        println!("{label:<40}{:>9.2} µs", median(&mut v));
    }
}

/// Verifies (`rsa`, `ed`) or signs (`sign`) the first 200 messages once each, inside
/// [`count_work`], so that `valgrind --tool=callgrind --collect-atstart=no
/// --toggle-collect=inkan_bench_dkim::count_work` counts the instructions of that work alone
/// (no key generation, no random number setup): a measure of inkan's own cost that other
/// processes on the machine cannot disturb.
fn count(dir: &Path, what: &str) {
    let sign = what == "sign";
    let messages: Vec<Vec<u8>> = load(&dir.join(if sign { "plain" } else { what }))
        .into_iter()
        .take(200)
        .collect();
    let parsed = parsed_keys(dir);
    let lookup = |name: &str| parsed.get(name).cloned();
    let signer = sign.then(|| Signer::new("example.com", "rsa", pem(dir, "rsa")));
    if let Some(signer) = &signer {
        // The first signature seeds aws-lc's random generator (blinding), once per process.
        sign_one(&messages[0], signer);
    }
    count_work(&messages, &|message| match &signer {
        Some(signer) => sign_one(message, signer),
        None => verify_one(message, &lookup),
    });
    println!("{} messages", messages.len());
}

#[inline(never)]
fn count_work(messages: &[Vec<u8>], f: &dyn Fn(&[u8])) {
    for m in messages {
        f(m);
    }
}

/// Sorts `v` (lowest first) and returns its middle value.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
