//! ARC chain validation and sealing cost (RFC 8617 §5.1, §5.2): a three-hop chain validated
//! from keys in memory (no DNS latency: this measures parsing, canonicalization and crypto),
//! with Ed25519 and RSA-2048 sealers, and sealing one more hop.
//!
//! `cargo bench -p inkan-auth --bench arc`

use criterion::{Criterion, criterion_group, criterion_main};
use inkan_auth::Message;
use inkan_auth::arc::{ArcResult, SealParams, seal, validate_at};
use inkan_auth::dkim::{SigningKey, generate_ed25519, generate_rsa};
use inkan_dns::{MemoryResolver, RData, Record, Txt};

const NOW: u64 = 1_760_000_000;

fn message() -> Vec<u8> {
    let mut m = b"From: Alice <alice@origin.example>\r\nTo: list@lists.example\r\n\
Subject: a list post\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <b@origin.example>\r\n\
MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
        .to_vec();
    for i in 0..200 {
        m.extend_from_slice(format!("Line {i} of a typical  list   message body.\r\n").as_bytes());
    }
    m
}

fn chain(keys: &[SigningKey]) -> (MemoryResolver, Vec<u8>) {
    let records: Vec<Record> = keys
        .iter()
        .enumerate()
        .map(|(n, k)| Record {
            name: format!("arc._domainkey.hop{n}.example"),
            ttl: 300,
            data: RData::Txt(Txt::new(
                inkan_auth::dkim::txt_record_strings(&k.txt_value().unwrap())
                    .into_iter()
                    .map(String::into_bytes)
                    .collect(),
            )),
        })
        .collect();
    let resolver = MemoryResolver::from_records(records);
    let mut raw = message();
    for (n, key) in keys.iter().enumerate() {
        let m = Message::parse(raw).unwrap();
        let mut p = SealParams::new(
            format!("hop{n}.example"),
            "arc",
            key.clone(),
            format!("mx.hop{n}.example"),
            "spf=pass smtp.mailfrom=origin.example",
        );
        p.chain = if n == 0 {
            ArcResult::None
        } else {
            ArcResult::Pass
        };
        p.now = NOW;
        raw = seal(&m, &p).unwrap();
    }
    (resolver, raw)
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (name, keys) in [
        (
            "ed25519",
            (0..3)
                .map(|_| generate_ed25519().unwrap())
                .collect::<Vec<_>>(),
        ),
        (
            "rsa2048",
            (0..3)
                .map(|_| generate_rsa(2048).unwrap())
                .collect::<Vec<_>>(),
        ),
    ] {
        let (resolver, raw) = chain(&keys);
        let parsed = Message::parse(raw.clone()).unwrap();
        assert_eq!(
            runtime
                .block_on(validate_at(&resolver, &parsed, NOW))
                .result,
            ArcResult::Pass
        );
        c.bench_function(&format!("arc_validate_3_hops_{name}"), |b| {
            b.iter(|| {
                let m = Message::parse(raw.clone()).unwrap();
                runtime.block_on(validate_at(&resolver, &m, NOW))
            })
        });
        let mut p = SealParams::new(
            "hop9.example",
            "arc",
            keys[0].clone(),
            "mx.hop9.example",
            "",
        );
        p.chain = ArcResult::Pass;
        p.now = NOW;
        c.bench_function(&format!("arc_seal_4th_hop_{name}"), |b| {
            b.iter(|| seal(&parsed, &p).unwrap())
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
