//! The cost of asking a real server on 127.0.0.1 through `NetworkResolver` (hickory) and
//! `StubResolver` (inkan's own): one question over UDP, one that needs the TCP retry, and a batch
//! with many questions in flight, as a bulk audit asks them.
//!
//! `cargo bench -p inkan-dns --bench network`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use inkan_dns::{
    MemoryResolver, NetworkOptions, NetworkResolver, RecordType, Resolver, StubResolver,
};
use inkan_testkit::DnsServer;

const BATCH: usize = 1000;

fn zone() -> MemoryResolver {
    let mut text = String::from(
        "$ORIGIN example.test.\n$TTL 3600\n@ SOA ns h 1 2 3 4 300\n@ TXT \"v=spf1 include:_spf.example.test -all\"\n",
    );
    text.push_str("big TXT");
    for _ in 0..4 {
        text.push_str(&format!(" \"{}\"", "x".repeat(200)));
    }
    text.push('\n');
    for i in 0..BATCH {
        text.push_str(&format!("host{i} A 192.0.2.{}\n", i % 250));
    }
    MemoryResolver::from_zone_text(&text, None, "bench.zone").expect("bench zone parses")
}

fn network(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = DnsServer::builder(zone())
        .max_udp_payload(512)
        .start()
        .unwrap();
    let options = NetworkOptions::default().with_timeout(Duration::from_secs(5));
    let hickory = runtime
        .block_on(async { NetworkResolver::with_servers(&[server.addr()], options).unwrap() });
    let stub = StubResolver::with_servers(&[server.addr()], options).unwrap();
    let resolvers: [(&str, &dyn Resolver); 2] = [("hickory", &hickory), ("stub", &stub)];

    for (label, resolver) in resolvers {
        c.bench_function(&format!("{label} lookup, UDP, 127.0.0.1"), |b| {
            b.iter(|| {
                black_box(
                    runtime
                        .block_on(resolver.lookup(black_box("example.test"), RecordType::Txt))
                        .unwrap(),
                )
            })
        });
        c.bench_function(
            &format!("{label} lookup, truncated UDP then TCP, 127.0.0.1"),
            |b| {
                b.iter(|| {
                    black_box(
                        runtime
                            .block_on(resolver.lookup("big.example.test", RecordType::Txt))
                            .unwrap(),
                    )
                })
            },
        );
    }

    let names: Vec<String> = (0..BATCH)
        .map(|i| format!("host{i}.example.test"))
        .collect();
    let mut group = c.benchmark_group("network batch");
    group
        .sample_size(10)
        .throughput(Throughput::Elements(BATCH as u64));
    for ((label, resolver), in_flight) in resolvers.into_iter().flat_map(|r| [(r, 1), (r, 100)]) {
        group.bench_function(
            format!("{label}: 1000 distinct A lookups, {in_flight} in flight"),
            |b| {
                b.iter(|| {
                    runtime.block_on(async {
                        futures::stream::iter(&names)
                            .map(|name| resolver.lookup(name, RecordType::A))
                            .buffer_unordered(in_flight)
                            .for_each(|answer| {
                                black_box(answer.unwrap());
                                std::future::ready(())
                            })
                            .await
                    })
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, network);
criterion_main!(benches);
