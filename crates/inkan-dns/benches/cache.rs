//! The cost of a cache hit, the path every warm SPF, DKIM and DMARC check takes several times.
//!
//! `cargo bench -p inkan-dns --bench cache`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::executor::block_on;
use std::sync::Arc;

use inkan_dns::{CacheConfig, CachingResolver, ManualClock, MemoryResolver, RecordType, Resolver};

fn zone() -> MemoryResolver {
    let mut text = String::from(
        "$ORIGIN example.test.\n$TTL 3600\n@ TXT \"v=spf1 include:_spf.example.test -all\"\n",
    );
    for i in 0..1000 {
        text.push_str(&format!("host{i} A 192.0.2.{}\n", i % 250));
    }
    MemoryResolver::from_zone_text(&text, None, "bench.zone").expect("bench zone parses")
}

fn cache_hit(c: &mut Criterion) {
    let cache = CachingResolver::new(zone());
    for i in 0..1000 {
        block_on(cache.lookup(&format!("host{i}.example.test"), RecordType::A)).unwrap();
    }
    block_on(cache.lookup("example.test", RecordType::Txt)).unwrap();

    c.bench_function("cache hit, get_cached", |b| {
        b.iter(|| black_box(cache.get_cached(black_box("example.test"), RecordType::Txt)))
    });
    c.bench_function("cache hit, Resolver::lookup", |b| {
        b.iter(|| {
            black_box(block_on(
                cache.lookup(black_box("example.test"), RecordType::Txt),
            ))
        })
    });
    c.bench_function("cache hit, upper-case name (normalized)", |b| {
        b.iter(|| black_box(cache.get_cached(black_box("Example.Test."), RecordType::Txt)))
    });

    // The same hit without reading the operating system's clock: what the clock costs.
    let manual =
        CachingResolver::with_clock(zone(), CacheConfig::default(), Arc::new(ManualClock::new()));
    block_on(manual.lookup("example.test", RecordType::Txt)).unwrap();
    c.bench_function("cache hit, get_cached, manual clock", |b| {
        b.iter(|| black_box(manual.get_cached(black_box("example.test"), RecordType::Txt)))
    });
}

criterion_group!(benches, cache_hit);
criterion_main!(benches);
