//! DKIM verify and sign of ~10 KB messages with keys already parsed (the cost a busy verifier
//! pays once DNS answers are cached), next to the raw aws-lc operations that bound them:
//! `cargo bench -p inkan-auth --bench dkim`.
//!
//! Times are the benchmark thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall time: the
//! machines these run on are shared, and CPU time leaves out the time other processes hold the
//! core, so numbers taken under load stay comparable. `raw/rsa-2048-sign` is the RSA signing
//! rate the `sign/rsa-sha256` goal is measured against.

mod support;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;
use support::thread_cpu_time;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self as sig, KeyPair};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use inkan_auth::Message;
use inkan_auth::dkim::{self, DkimKey, DkimResult, Signer, SigningKey};

const NOW: u64 = 1_795_000_000;

/// Runs `f` `iters` times and returns the CPU time it took.
fn cpu<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let start = thread_cpu_time();
    for _ in 0..iters {
        black_box(f());
    }
    thread_cpu_time() - start
}

/// A newsletter-like message of about 10 KB.
fn message() -> Vec<u8> {
    let mut m = String::from(
        "Received: from mail.example.com (mail.example.com [192.0.2.25])\r\n\tby mx.example.net with ESMTPS id abc123\r\n\tfor <reader@example.net>; Sat, 28 Nov 2026 07:00:00 +0000\r\n\
From: Example News <news@example.com>\r\nTo: reader@example.net\r\nSubject: Your weekly digest: 12 new stories\r\n\
Date: Sat, 28 Nov 2026 07:00:00 +0000\r\nMessage-ID: <digest-2026-48@example.com>\r\nMIME-Version: 1.0\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\
List-Unsubscribe: <https://example.com/unsubscribe/abcdef0123456789>, <mailto:unsub@example.com>\r\n\
List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nList-Id: Weekly digest <digest.example.com>\r\n\
Feedback-ID: 48:digest:example\r\n\r\n",
    );
    // Ordinary prose: single spaces, a trailing space now and then, as most bodies are.
    let lines = [
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt\r\n",
        "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation \r\n",
        "\r\n",
    ];
    let mut n = 0;
    while m.len() < 10_240 {
        m.push_str(lines[n % lines.len()]);
        n += 1;
    }
    m.into_bytes()
}

fn bench(c: &mut Criterion) {
    let raw = message();
    let rsa = dkim::generate_rsa(2048).unwrap();
    let ed = dkim::generate_ed25519().unwrap();
    let parsed = Message::parse(raw.clone()).unwrap();
    let mut group = c.benchmark_group("dkim");
    group.throughput(Throughput::Elements(1));

    for (name, key, selector) in [("rsa-sha256", &rsa, "rsa"), ("ed25519-sha256", &ed, "ed")] {
        let signer = Signer::new("example.com", selector, key.clone());
        let signed = signer.sign_message_at(&parsed, NOW).unwrap();
        let cached = Arc::new(DkimKey::parse(key.txt_value().unwrap()).unwrap());
        let keys = move |_: &str| Some(cached.clone());
        let check = dkim::verify_with_keys(&Message::parse(signed.clone()).unwrap(), &keys, NOW);
        assert_eq!(check[0].result, DkimResult::Pass);
        group.bench_function(format!("verify/{name}"), |b| {
            b.iter_custom(|n| {
                cpu(n, || {
                    let m = Message::parse(black_box(signed.as_slice())).unwrap();
                    dkim::verify_with_keys(&m, &keys, NOW)
                })
            })
        });
        group.bench_function(format!("sign/{name}"), |b| {
            b.iter_custom(|n| {
                cpu(n, || {
                    let m = Message::parse(black_box(raw.as_slice())).unwrap();
                    signer.sign_at(&m, NOW).unwrap()
                })
            })
        });
    }

    // The ceiling: the crypto alone on a digest, and SHA-256 of 10 KB.
    let d = digest::digest(&digest::SHA256, b"header hash input");
    let (SigningKey::Rsa(rsa_pair), SigningKey::Ed25519(ed_pair)) = (&rsa, &ed) else {
        unreachable!()
    };
    let mut rsa_sig = vec![0; rsa_pair.public_modulus_len()];
    rsa_pair
        .sign_digest(&sig::RSA_PKCS1_SHA256, &d, &mut rsa_sig)
        .unwrap();
    let rsa_pub = sig::ParsedPublicKey::new(
        &sig::RSA_PKCS1_2048_8192_SHA256,
        rsa_pair.public_key().as_ref(),
    )
    .unwrap();
    let ed_sig = ed_pair.sign(d.as_ref());
    let ed_pub = sig::ParsedPublicKey::new(&sig::ED25519, ed_pair.public_key().as_ref()).unwrap();
    group.bench_function("raw/rsa-2048-verify", |b| {
        b.iter_custom(|n| cpu(n, || rsa_pub.verify_digest_sig(black_box(&d), &rsa_sig)))
    });
    group.bench_function("raw/ed25519-verify", |b| {
        b.iter_custom(|n| {
            cpu(n, || {
                ed_pub.verify_sig(black_box(d.as_ref()), ed_sig.as_ref())
            })
        })
    });
    group.bench_function("raw/rsa-2048-sign", |b| {
        let mut out = vec![0; rsa_pair.public_modulus_len()];
        b.iter_custom(|n| {
            cpu(n, || {
                rsa_pair
                    .sign_digest(&sig::RSA_PKCS1_SHA256, black_box(&d), &mut out)
                    .is_ok()
            })
        })
    });
    group.bench_function("raw/sha256-10k", |b| {
        b.iter_custom(|n| cpu(n, || digest::digest(&digest::SHA256, black_box(&raw))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
