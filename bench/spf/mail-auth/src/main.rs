//! Bench-only: the mail-auth 0.15 side of the SPF comparison (`bench/spf/README.md`).
//!
//! ```text
//! inkan-bench-spf-mail-auth 127.0.0.1:PORT CHECKS.jsonl cold|warm|warm-coarse [PASSES]
//! ```
//!
//! Runs every check of CHECKS.jsonl (`{"ip", "sender", "helo"}` per line) through
//! `MessageAuthenticator::check_host` (the MAIL FROM identity) on a current-thread runtime, with
//! hickory pointed at the given server and nothing else. `cold`: hickory's own cache is off and no
//! mail-auth cache is given, so every lookup goes to the server. `warm`: mail-auth's caches (the
//! `HashMap` behind a `Mutex` of its documentation, expiry checked on each read against
//! `Instant::now()`) plus hickory's cache, filled by one untimed pass. `warm-coarse`: the same,
//! but expiry is checked against a clock a background thread refreshes every 10 ms (what inkan's
//! `CoarseClock` does), so the two libraries are compared with the same way of reading the time.
//!
//! Protocol with the driver (`crates/inkan-auth/benches/spf_peers.rs`): after the untimed pass
//! (warm) or at once (cold) it prints `ready` and waits for a line on stdin, so the driver can
//! reset the server's query counter; then, for each line it reads until stdin closes, it times
//! PASSES passes (default 1) and prints `{"checks": N, "seconds": S, "cpu_seconds": C, "pass": P}`
//! for the fastest (S: wall-clock, C: this thread's CPU time, each the smallest seen; the
//! current-thread runtime does all of hickory's work on this thread). Several lines let the
//! driver alternate rounds of this side and of inkan.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use mail_auth::hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    DnsCache, MessageAuthenticator, Mx, Negative, Parameters, RecordSet, ResolverCache, SpfResult,
    TxtRecord,
};

/// Milliseconds since `EPOCH`, refreshed every 10 ms by a background thread; 0 while off.
static COARSE_MILLIS: AtomicU64 = AtomicU64::new(0);
static COARSE_ON: AtomicBool = AtomicBool::new(false);
static EPOCH: OnceLock<Instant> = OnceLock::new();

fn start_coarse_clock() {
    let epoch = *EPOCH.get_or_init(Instant::now);
    COARSE_ON.store(true, Ordering::Relaxed);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(10));
            let ms = u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
            COARSE_MILLIS.store(ms, Ordering::Relaxed);
        }
    });
}

/// The time expiry is checked against: the coarse clock when it runs, else the system clock.
fn now() -> Instant {
    match EPOCH.get() {
        Some(epoch) if COARSE_ON.load(Ordering::Relaxed) => {
            *epoch + Duration::from_millis(COARSE_MILLIS.load(Ordering::Relaxed))
        }
        _ => Instant::now(),
    }
}

struct MapCache<K, V>(Mutex<HashMap<K, (V, Instant)>>);

impl<K, V> Default for MapCache<K, V> {
    fn default() -> Self {
        MapCache(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for MapCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.0.lock().unwrap();
        let (value, expires) = map.get(name)?;
        (*expires > now()).then(|| value.clone())
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name).map(|(value, _)| value)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        self.0.lock().unwrap().insert(key, (value, valid_until));
    }
}

type Answer<T> = Result<RecordSet<T>, Negative>;

#[derive(Default)]
struct Caches {
    txt: MapCache<Box<str>, TxtRecord>,
    mx: MapCache<Box<str>, Answer<Mx>>,
    ipv4: MapCache<Box<str>, Answer<Ipv4Addr>>,
    ipv6: MapCache<Box<str>, Answer<Ipv6Addr>>,
    ptr: MapCache<IpAddr, Answer<Box<str>>>,
}

impl DnsCache for Caches {
    type Txt = MapCache<Box<str>, TxtRecord>;
    type Mx = MapCache<Box<str>, Answer<Mx>>;
    type Ipv4 = MapCache<Box<str>, Answer<Ipv4Addr>>;
    type Ipv6 = MapCache<Box<str>, Answer<Ipv6Addr>>;
    type Ptr = MapCache<IpAddr, Answer<Box<str>>>;

    fn txt(&self) -> Option<&Self::Txt> {
        Some(&self.txt)
    }
    fn mx(&self) -> Option<&Self::Mx> {
        Some(&self.mx)
    }
    fn ipv4(&self) -> Option<&Self::Ipv4> {
        Some(&self.ipv4)
    }
    fn ipv6(&self) -> Option<&Self::Ipv6> {
        Some(&self.ipv6)
    }
    fn ptr(&self) -> Option<&Self::Ptr> {
        Some(&self.ptr)
    }
}

struct Check {
    ip: IpAddr,
    sender: String,
    helo: String,
}

fn load(path: &str) -> Vec<Check> {
    let text = std::fs::read_to_string(path).expect("read the checks file");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let field = |k: &str| v[k].as_str().expect("a string field").to_owned();
            Check {
                ip: field("ip").parse().expect("an IP address"),
                sender: field("sender"),
                helo: field("helo"),
            }
        })
        .collect()
}

/// CPU time the current thread has used, in seconds.
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(server), Some(list), Some(mode)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: inkan-bench-spf-mail-auth 127.0.0.1:PORT CHECKS.jsonl cold|warm");
        std::process::exit(2);
    };
    let server: SocketAddr = server.parse().expect("a server address");
    let warm = match mode.as_str() {
        "cold" => false,
        "warm" => true,
        "warm-coarse" => {
            start_coarse_clock();
            true
        }
        _ => {
            eprintln!("mode must be cold, warm or warm-coarse, not '{mode}'");
            std::process::exit(2);
        }
    };
    let checks = load(list);

    let mut ns = NameServerConfig::udp_and_tcp(server.ip());
    for c in &mut ns.connections {
        c.port = server.port();
    }
    let config = ResolverConfig::from_parts(None, vec![], vec![ns]);
    let mut options = ResolverOpts::default();
    if !warm {
        options.cache_size = 0;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let auth = rt.block_on(async { MessageAuthenticator::new(config, options).unwrap() });
    let caches = Caches::default();

    let run = || {
        rt.block_on(async {
            let mut passed = 0usize;
            for c in &checks {
                let params = SpfParameters::mail_from(c.ip, &c.helo, "mx.bench.example", &c.sender);
                let out = if warm {
                    auth.check_host(Parameters::new(params).with_cache(&caches))
                        .await
                } else {
                    auth.check_host(params).await
                };
                passed += usize::from(out.result() == SpfResult::Pass);
            }
            passed
        })
    };
    if warm {
        run();
    }
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready").unwrap();
    stdout.flush().unwrap();
    let passes: usize = args.get(4).and_then(|p| p.parse().ok()).unwrap_or(1).max(1);
    // One timed round (best of `passes`) per line the driver sends, until it closes stdin:
    // `spf_peers` alternates rounds of this side and of inkan.
    for _ in std::io::stdin().lock().lines() {
        let (mut seconds, mut cpu_seconds, mut passed) = (f64::MAX, f64::MAX, 0);
        for _ in 0..passes {
            let (start, cpu) = (Instant::now(), thread_cpu_seconds());
            passed = run();
            seconds = seconds.min(start.elapsed().as_secs_f64());
            cpu_seconds = cpu_seconds.min(thread_cpu_seconds() - cpu);
        }
        writeln!(
            stdout,
            "{{\"checks\": {}, \"seconds\": {seconds}, \"cpu_seconds\": {cpu_seconds}, \"pass\": {passed}}}",
            checks.len()
        )
        .unwrap();
        stdout.flush().unwrap();
    }
}
