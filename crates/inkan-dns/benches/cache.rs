//! The cost of a cache hit, the path every warm SPF, DKIM and DMARC check takes several times.
//!
//! `cargo bench -p inkan-dns --bench cache`
//!
//! Each case is measured twice: in wall time, and in the CPU time of the benchmarking thread
//! (`CLOCK_THREAD_CPUTIME_ID`), which stays meaningful when other jobs share the machine.

use std::hint::black_box;
use std::sync::Arc;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::executor::block_on;
use inkan_dns::{
    CacheConfig, CachingResolver, CoarseClock, ManualClock, MemoryResolver, RecordType, Resolver,
};

fn zone() -> MemoryResolver {
    let mut text = String::from(
        "$ORIGIN example.test.\n$TTL 3600\n@ TXT \"v=spf1 include:_spf.example.test -all\"\n",
    );
    for i in 0..1000 {
        text.push_str(&format!("host{i} A 192.0.2.{}\n", i % 250));
    }
    MemoryResolver::from_zone_text(&text, None, "bench.zone").expect("bench zone parses")
}

fn cache_hit<M: Measurement + 'static>(c: &mut Criterion<M>, clock_name: &str) {
    let cache = CachingResolver::new(zone());
    for i in 0..1000 {
        block_on(cache.lookup(&format!("host{i}.example.test"), RecordType::A)).unwrap();
    }
    block_on(cache.lookup("example.test", RecordType::Txt)).unwrap();
    let mut group = c.benchmark_group(format!("cache hit ({clock_name})"));
    group.bench_function("get_cached", |b| {
        b.iter(|| black_box(cache.get_cached(black_box("example.test"), RecordType::Txt)))
    });
    group.bench_function("Resolver::lookup", |b| {
        b.iter(|| {
            black_box(block_on(
                cache.lookup(black_box("example.test"), RecordType::Txt),
            ))
        })
    });
    group.bench_function("get_cached, upper-case name", |b| {
        b.iter(|| black_box(cache.get_cached(black_box("Example.Test."), RecordType::Txt)))
    });
    // The same hit without reading the operating system's clock: what the clock costs.
    let manual =
        CachingResolver::with_clock(zone(), CacheConfig::default(), Arc::new(ManualClock::new()));
    block_on(manual.lookup("example.test", RecordType::Txt)).unwrap();
    group.bench_function("get_cached, manual clock", |b| {
        b.iter(|| black_box(manual.get_cached(black_box("example.test"), RecordType::Txt)))
    });
    let coarse = CachingResolver::with_clock(zone(), CacheConfig::default(), CoarseClock::new());
    block_on(coarse.lookup("example.test", RecordType::Txt)).unwrap();
    group.bench_function("get_cached, coarse clock", |b| {
        b.iter(|| black_box(coarse.get_cached(black_box("example.test"), RecordType::Txt)))
    });
    group.bench_function("Resolver::lookup, coarse clock", |b| {
        b.iter(|| {
            black_box(block_on(
                coarse.lookup(black_box("example.test"), RecordType::Txt),
            ))
        })
    });
    group.finish();
}

fn wall_time(c: &mut Criterion) {
    cache_hit(c, "wall time");
}

fn cpu_time(c: &mut Criterion<ThreadCpuTime>) {
    cache_hit(c, "thread CPU time");
}

/// Nanoseconds the current thread has run on a CPU.
#[derive(Debug)]
struct ThreadCpuTime;

impl ThreadCpuTime {
    fn read() -> u64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
        u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
    }
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        Self::read()
    }
    fn end(&self, start: u64) -> u64 {
        Self::read().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "ns (cpu)"
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _throughput: &Throughput,
        _values: &mut [f64],
    ) -> &'static str {
        "ns (cpu)"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}

criterion_group!(wall, wall_time);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = cpu_time
}
criterion_main!(wall, cpu);
