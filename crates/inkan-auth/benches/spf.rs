//! `check_host()` on a realistic record with warm DNS: an include chain three deep, ip4/ip6
//! lists, `a` and `mx`. Variants: straight from an in-memory zone, and through inkan's
//! `CachingResolver` (with the coarse clock) and the verifier's parsed-record cache (the steady
//! state of a receiver).
//!
//! Times are this thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`), not wall-clock time: the
//! machines this runs on are shared, and waiting for a core is not the code's cost.
//!
//! `cargo bench -p inkan-auth --bench spf`

mod support;

use std::hint::black_box;
use std::net::IpAddr;
use support::thread_cpu_time;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use inkan_auth::spf::{SpfParams, SpfResult, SpfVerifier};
use inkan_dns::{
    CacheConfig, CachingResolver, CoarseClock, MemoryResolver, RData, Record, Resolver, Txt,
};

fn zone() -> MemoryResolver {
    let txt = |n: &str, t: &str| Record {
        name: n.into(),
        ttl: 3600,
        data: RData::Txt(Txt::new(vec![t.as_bytes().to_vec()])),
    };
    let a = |n: &str, ip: &str| Record {
        name: n.into(),
        ttl: 3600,
        data: RData::A(ip.parse().unwrap()),
    };
    let mx = |n: &str, h: &str| Record {
        name: n.into(),
        ttl: 3600,
        data: RData::Mx {
            preference: 10,
            exchange: h.into(),
        },
    };
    MemoryResolver::from_records([
        txt(
            "bench.example",
            "v=spf1 ip4:192.0.2.0/27 ip4:192.0.2.64/27 ip6:2001:db8:1::/48 a mx include:_spf1.hoster.example -all",
        ),
        txt(
            "bench.example",
            "google-site-verification=abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        a("bench.example", "192.0.2.200"),
        mx("bench.example", "mx1.bench.example"),
        mx("bench.example", "mx2.bench.example"),
        a("mx1.bench.example", "198.51.100.10"),
        a("mx2.bench.example", "198.51.100.11"),
        txt(
            "_spf1.hoster.example",
            "v=spf1 ip4:203.0.113.0/28 ip4:203.0.113.32/28 ip6:2001:db8:2::/48 include:_spf2.hoster.example ~all",
        ),
        txt(
            "_spf2.hoster.example",
            "v=spf1 ip4:203.0.113.64/28 ip4:203.0.113.96/28 ip6:2001:db8:3::/48 include:_spf3.hoster.example ~all",
        ),
        txt(
            "_spf3.hoster.example",
            "v=spf1 ip4:203.0.113.128/28 ip4:203.0.113.160/28 ip4:203.0.113.192/28 ip6:2001:db8:4::/48 ~all",
        ),
    ])
}

fn bench(c: &mut Criterion) {
    // Authorized by the deepest include: every term of every record is tried.
    let deep: IpAddr = "203.0.113.200".parse().unwrap();
    let memory = zone();
    // A receiver reads the time from the coarse clock: on this kind of virtual machine the
    // system clock costs more than the rest of a cache hit.
    let cached = CachingResolver::with_clock(zone(), CacheConfig::default(), CoarseClock::new());
    let mut group = c.benchmark_group("spf_check_host");
    group.throughput(Throughput::Elements(1));
    for (name, resolver, record_cache) in [
        ("memory_zone", &memory as &dyn Resolver, false),
        (
            "caching_resolver_and_record_cache",
            &cached as &dyn Resolver,
            true,
        ),
    ] {
        let verifier = if record_cache {
            SpfVerifier::new(resolver).with_record_cache()
        } else {
            SpfVerifier::new(resolver)
        };
        let params = SpfParams {
            trace: false,
            ..SpfParams::new(deep, "mail.bench.example", "user@bench.example")
        };
        let warm = futures::executor::block_on(verifier.check_host(&params));
        assert_eq!(warm.result, SpfResult::Pass);
        assert_eq!(warm.dns_lookups, 5);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu_time();
                for _ in 0..iters {
                    black_box(
                        futures::executor::block_on(verifier.check_host(black_box(&params))).result,
                    );
                }
                thread_cpu_time() - start
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
