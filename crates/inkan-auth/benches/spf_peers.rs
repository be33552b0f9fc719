//! The SPF comparison of `bench/spf/README.md`: 2,000 checks over 200 generated domains served
//! by NSD (Debian's authoritative server) on 127.0.0.1 — or by the testkit's DNS server when
//! `nsd` is not installed — through inkan, mail-auth 0.15 (`bench/spf/mail-auth`, when built)
//! and pyspf (`bench/spf/pyspf_bench.py`, when python3 has it), each cold (every lookup to the
//! server) and warm (caches filled by one untimed pass). Prints checks per second and DNS
//! queries per check, one core (current-thread runtimes, one process at a time).
//!
//! `cargo bench -p inkan-auth --bench spf_peers` (or `bench/spf/run.sh`, which builds the
//! mail-auth side first)

mod support;

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::thread_cpu_time;

use inkan_auth::spf::{SpfParams, SpfResult, SpfVerifier};
use inkan_dns::{
    CacheConfig, CachingResolver, CoarseClock, MemoryResolver, NetworkOptions, NetworkResolver,
    RData, Record, RecordType, Resolver, StubResolver, Txt,
};
use inkan_testkit::DnsServer;

const DOMAINS: usize = 200;
const CHECKS_PER_DOMAIN: usize = 10;
/// Timed passes over the 2,000 checks, cold and warm, for inkan and mail-auth; the fastest pass
/// is reported (the machine is shared: the best pass is the one least disturbed). A warm pass
/// takes one to three milliseconds: 1,000 of them span a few seconds, longer than a burst of
/// another build.
const COLD_PASSES: usize = 3;
const WARM_PASSES: usize = 1000;
/// The same for pyspf, which takes seconds per pass.
const PYSPF_PASSES: usize = 3;

fn records() -> (Vec<Record>, Vec<(IpAddr, String)>) {
    let txt = |n: &str, t: &str| Record {
        name: n.into(),
        ttl: 3600,
        data: RData::Txt(Txt::new(vec![t.as_bytes().to_vec()])),
    };
    let a = |n: &str, ip: String| Record {
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
    // An SOA, so NXDOMAIN and NODATA answers may be cached (RFC 2308 §5) and the warm pass asks
    // nothing.
    let soa = inkan_dns::Soa {
        mname: "ns.bench".into(),
        rname: "hostmaster.bench".into(),
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86_400,
        minimum: 3600,
    };
    let mut records = vec![
        Record {
            name: "bench".into(),
            ttl: 3600,
            data: RData::Soa(soa),
        },
        Record {
            name: "bench".into(),
            ttl: 3600,
            data: RData::Ns("ns.bench".into()),
        },
        a("ns.bench", "127.0.0.1".into()),
    ];
    for k in 0..5 {
        records.push(txt(
            &format!("_spf.hoster{k}.bench"),
            &format!(
                "v=spf1 ip4:203.0.{k}.0/26 ip6:2001:db8:{k}::/48 include:_spf2.hoster{k}.bench ~all"
            ),
        ));
        records.push(txt(
            &format!("_spf2.hoster{k}.bench"),
            &format!("v=spf1 ip4:203.0.{k}.64/26 ip4:203.0.{k}.128/26 ~all"),
        ));
    }
    let mut checks = Vec::new();
    for d in 0..DOMAINS {
        let (hi, lo) = (d / 250, d % 250);
        let domain = format!("d{d}.bench");
        records.push(txt(
            &domain,
            &format!(
                "v=spf1 ip4:10.{hi}.{lo}.0/28 a mx include:_spf.hoster{}.bench -all",
                d % 5
            ),
        ));
        records.push(a(&domain, format!("10.{hi}.{lo}.100")));
        records.push(mx(&domain, &format!("mx.{domain}")));
        records.push(a(&format!("mx.{domain}"), format!("10.{hi}.{lo}.200")));
        let k = d % 5;
        let ips = [
            format!("10.{hi}.{lo}.3"),
            format!("10.{hi}.{lo}.100"),
            format!("10.{hi}.{lo}.200"),
            format!("203.0.{k}.10"),
            format!("203.0.{k}.70"),
            format!("203.0.{k}.130"),
            format!("2001:db8:{k}::25"),
            "198.51.100.7".to_owned(),
            format!("203.0.{k}.250"),
            format!("10.{hi}.{lo}.99"),
        ];
        for ip in ips.iter().take(CHECKS_PER_DOMAIN) {
            checks.push((ip.parse().unwrap(), format!("user@{domain}")));
        }
    }
    (records, checks)
}

/// The authoritative server the checks ask, with its query counter.
enum Server {
    Nsd {
        child: Child,
        conf: PathBuf,
        addr: SocketAddr,
    },
    Testkit(DnsServer),
}

impl Server {
    /// NSD on a free port of 127.0.0.1 serving `records` as the zone `bench.`, or `None` when
    /// `nsd` cannot be run.
    fn nsd(records: &[Record], dir: &Path) -> Option<Server> {
        let port = UdpSocket::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let mut zone = String::from("$ORIGIN bench.\n");
        for r in records {
            writeln!(
                zone,
                "{}. {} IN {} {}",
                r.name,
                r.ttl,
                r.data.record_type(),
                r.data
            )
            .unwrap();
        }
        std::fs::create_dir_all(dir).ok()?;
        std::fs::write(dir.join("bench.zone"), zone).ok()?;
        let d = dir.display();
        let conf = dir.join("nsd.conf");
        std::fs::write(
            &conf,
            format!(
                "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  server-count: 1\n  \
                 username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  \
                 zonelistfile: \"{d}/zone.list\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
                 xfrdir: \"{d}\"\n  \
                 pidfile: \"{d}/nsd.pid\"\n  logfile: \"{d}/nsd.log\"\n  verbosity: 0\n\
                 remote-control:\n  control-enable: yes\n  control-interface: {d}/nsd.sock\n\
                 zone:\n  name: bench\n  zonefile: bench.zone\n"
            ),
        )
        .ok()?;
        let child = Command::new("nsd")
            .args(["-d", "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut server = Server::Nsd { child, conf, addr };
        // Wait until it answers and its control socket counts.
        let probe = NetworkResolver::with_servers(
            &[addr],
            NetworkOptions::default().with_timeout(Duration::from_millis(200)),
        )
        .ok()?;
        let rt = runtime();
        for _ in 0..100 {
            let answered = rt
                .block_on(probe.lookup("d0.bench", RecordType::Txt))
                .is_ok_and(|a| !a.is_empty());
            if answered && server.queries().is_some() {
                return Some(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        server.stop();
        None
    }

    fn addr(&self) -> SocketAddr {
        match self {
            Server::Nsd { addr, .. } => *addr,
            Server::Testkit(s) => s.addr(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Server::Nsd { .. } => "NSD",
            Server::Testkit(_) => "the testkit DNS server",
        }
    }

    /// Queries answered so far.
    fn queries(&self) -> Option<u64> {
        match self {
            Server::Nsd { conf, .. } => {
                let out = Command::new("nsd-control")
                    .arg("-c")
                    .arg(conf)
                    .arg("stats_noreset")
                    .output()
                    .ok()?;
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .find_map(|l| l.strip_prefix("num.queries="))
                    .and_then(|n| n.trim().parse().ok())
            }
            Server::Testkit(s) => Some(s.query_count() as u64),
        }
    }

    fn stop(&mut self) {
        if let Server::Nsd { child, .. } = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn run(verifier: &SpfVerifier<'_>, checks: &[(IpAddr, String)]) -> usize {
    let mut passed = 0;
    for (ip, sender) in checks {
        let params = SpfParams {
            trace: false,
            ..SpfParams::new(*ip, "mail.example.org", sender)
        };
        passed += usize::from(verifier.check_host(&params).await.result == SpfResult::Pass);
    }
    passed
}

/// Wall-clock and CPU time of a timed pass, each the smallest of the passes.
struct Timing {
    wall: Duration,
    cpu: Duration,
}

impl Timing {
    fn best_of<T>(passes: usize, mut f: impl FnMut() -> T) -> (T, Timing) {
        let mut best = Timing {
            wall: Duration::MAX,
            cpu: Duration::MAX,
        };
        let mut out = None;
        for _ in 0..passes.max(1) {
            let (wall, cpu) = (Instant::now(), thread_cpu_time());
            out = Some(f());
            best.wall = best.wall.min(wall.elapsed());
            best.cpu = best.cpu.min(thread_cpu_time() - cpu);
        }
        (out.expect("one pass"), best)
    }
}

/// One result line: checks per second of wall-clock time and of the checking thread's CPU time
/// (fastest pass), DNS queries per check (all passes).
fn report(
    name: &str,
    checks: usize,
    passes: usize,
    timing: &Timing,
    queries: Option<u64>,
    passed: usize,
) {
    let rate = |d: Duration| checks as f64 / d.as_secs_f64();
    let per_check = queries.map_or("     -".to_owned(), |q| {
        format!("{:>6.2}", q as f64 / (checks * passes) as f64)
    });
    println!(
        "{name:<26} {:>11.0} {:>11.0}   {per_check}   {passed} pass of {checks}",
        rate(timing.wall),
        rate(timing.cpu),
    );
}

/// A peer program that speaks the `ready` / result-line protocol of `pyspf_bench.py` and
/// `bench/spf/mail-auth`, started and past its `ready` line.
struct Peer {
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Peer {
    /// Starts `command` with `passes` timed passes per round and waits for `ready`; the error
    /// says why it did not get there.
    fn start(command: &mut Command, passes: usize) -> Result<Peer, String> {
        let mut child = command
            .arg(passes.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("not runnable ({e}); see bench/spf/README.md"))?;
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap_or(0);
        if line.trim() != "ready" {
            let out = child.wait_with_output().ok();
            let err = out.map(|o| String::from_utf8_lossy(&o.stderr).into_owned());
            return Err(format!("failed: {}", err.unwrap_or_default().trim()));
        }
        let stdin = child.stdin.take().unwrap();
        Ok(Peer {
            child,
            stdin,
            stdout,
        })
    }

    /// One timed round: its result line, or `None` when the peer stopped answering.
    fn round(&mut self) -> Option<String> {
        let mut line = String::new();
        writeln!(self.stdin, "go").ok()?;
        (self.stdout.read_line(&mut line).unwrap_or(0) > 0).then_some(line)
    }

    /// Closes the peer's stdin (which ends it) and waits for it.
    fn finish(self) {
        let Peer {
            mut child, stdin, ..
        } = self;
        drop(stdin);
        let _ = child.wait();
    }
}

/// Runs a peer for one round, counting only the queries of its timed passes.
fn peer(name: &str, server: &Server, checks: usize, passes: usize, command: &mut Command) {
    let mut peer = match Peer::start(command, passes) {
        Ok(peer) => peer,
        Err(why) => {
            println!("{name}: {why}");
            return;
        }
    };
    let before = server.queries();
    let line = peer.round().unwrap_or_default();
    let after = server.queries();
    peer.finish();
    let field = |key: &str| result_field(&line, key);
    match (field("seconds"), field("cpu_seconds"), field("pass")) {
        (Some(wall), Some(cpu), Some(passed)) => report(
            name,
            checks,
            passes,
            &Timing {
                wall: Duration::from_secs_f64(wall),
                cpu: Duration::from_secs_f64(cpu),
            },
            before.zip(after).map(|(b, a)| a - b),
            passed as usize,
        ),
        _ => println!("{name}: unexpected output '{}'", line.trim()),
    }
}

/// The number after `"key": ` in a peer's result line.
fn result_field(line: &str, key: &str) -> Option<f64> {
    line.split(&format!("\"{key}\": "))
        .nth(1)?
        .split([',', '}'])
        .next()?
        .trim()
        .parse()
        .ok()
}

/// Rounds of the interleaved warm comparison, and passes per round (best of) for each side.
const ROUNDS: usize = 31;
const ROUND_PASSES: usize = 100;

/// The warm comparison that load tilts least: a peer (kept running, caches filled) and inkan
/// take turns, one round of [`ROUND_PASSES`] each, [`ROUNDS`] times; each round gives the ratio
/// of the peer's CPU time per pass to inkan's, and the median ratio is printed (above 1: inkan
/// is faster). A burst of other work lands on a round or two, not on one side's whole run.
fn interleaved(name: &str, command: &mut Command, mut inkan: impl FnMut() -> Duration) {
    let mut peer = match Peer::start(command, ROUND_PASSES) {
        Ok(peer) => peer,
        Err(why) => {
            println!("{name}: {why}");
            return;
        }
    };
    let mut ratios = Vec::with_capacity(ROUNDS);
    while ratios.len() < ROUNDS {
        let Some(peer_cpu) = peer
            .round()
            .and_then(|line| result_field(&line, "cpu_seconds"))
        else {
            break;
        };
        ratios.push(peer_cpu / inkan().as_secs_f64());
    }
    peer.finish();
    if ratios.len() < ROUNDS {
        println!("{name}: the peer stopped after {} rounds", ratios.len());
        return;
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "{:<36} {:>5.2}x  (median of {ROUNDS} alternating rounds; lowest {:.2}x, highest {:.2}x)",
        format!("inkan warm / {name}"),
        ratios[ROUNDS / 2],
        ratios[0],
        ratios[ROUNDS - 1],
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("spf_peers: benchmark");
        return;
    }
    let (records, checks) = records();
    let dir = std::env::temp_dir().join(format!("inkan-spf-bench-{}", std::process::id()));
    let server = match Server::nsd(&records, &dir) {
        Some(s) => s,
        None => {
            println!("nsd not runnable (apt-get install nsd): using the testkit DNS server");
            Server::Testkit(
                DnsServer::start(MemoryResolver::from_records(records))
                    .expect("start the DNS server"),
            )
        }
    };
    let addr = server.addr();
    let rt = runtime();
    println!(
        "{} checks over {DOMAINS} domains, DNS from {} on {addr}",
        checks.len(),
        server.name()
    );
    println!(
        "{:<26} {:>11} {:>11}   {:>6}",
        "", "checks/s", "checks/s", "DNS"
    );
    println!("{:<26} {:>11} {:>11}   {:>6}", "", "wall", "CPU", "q/check");

    // The CLI's network resolver (inkan-dns's stub), one query per question.
    let network = StubResolver::with_servers(
        &[addr],
        NetworkOptions::default().with_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let cold = SpfVerifier::new(&network as &dyn Resolver);
    let before = server.queries();
    let (passed, timing) = Timing::best_of(COLD_PASSES, || rt.block_on(run(&cold, &checks)));
    let after = server.queries();
    report(
        "inkan cold",
        checks.len(),
        COLD_PASSES,
        &timing,
        before.zip(after).map(|(b, a)| a - b),
        passed,
    );

    // A receiver's setup: the caching resolver reading the coarse clock, and the verifier's
    // parsed-record cache.
    let cached = CachingResolver::with_clock(
        StubResolver::with_servers(&[addr], NetworkOptions::default()).unwrap(),
        CacheConfig::default(),
        CoarseClock::new(),
    );
    let warm = SpfVerifier::new(&cached as &dyn Resolver).with_record_cache();
    rt.block_on(run(&warm, &checks));
    let before = server.queries();
    let (warm_passed, timing) = Timing::best_of(WARM_PASSES, || rt.block_on(run(&warm, &checks)));
    let after = server.queries();
    assert_eq!(warm_passed, passed);
    report(
        "inkan warm",
        checks.len(),
        WARM_PASSES,
        &timing,
        before.zip(after).map(|(b, a)| a - b),
        passed,
    );

    let list = dir.join("checks.jsonl");
    let mut f = std::fs::File::create(&list).unwrap();
    for (ip, sender) in &checks {
        writeln!(
            f,
            "{{\"ip\": \"{ip}\", \"sender\": \"{sender}\", \"helo\": \"mail.example.org\"}}"
        )
        .unwrap();
    }
    drop(f);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench");
    let mail_auth = std::env::var_os("INKAN_BENCH_MAIL_AUTH").map_or_else(
        || Path::new(root).join("target/release/inkan-bench-spf-mail-auth"),
        PathBuf::from,
    );
    let pyspf = Path::new(root).join("spf/pyspf_bench.py");
    for (mode, passes) in [
        ("cold", COLD_PASSES),
        ("warm", WARM_PASSES),
        ("warm-coarse", WARM_PASSES),
    ] {
        peer(
            &format!("mail-auth 0.15 {mode}"),
            &server,
            checks.len(),
            passes,
            Command::new(&mail_auth)
                .arg(addr.to_string())
                .arg(&list)
                .arg(mode),
        );
    }
    for mode in ["warm", "warm-coarse"] {
        interleaved(
            &format!("mail-auth {mode}"),
            Command::new(&mail_auth)
                .arg(addr.to_string())
                .arg(&list)
                .arg(mode),
            || {
                Timing::best_of(ROUND_PASSES, || rt.block_on(run(&warm, &checks)))
                    .1
                    .cpu
            },
        );
    }
    for mode in ["cold", "warm"] {
        peer(
            &format!("pyspf 2.0.14 {mode}"),
            &server,
            checks.len(),
            PYSPF_PASSES,
            Command::new("python3")
                .arg(&pyspf)
                .arg(addr.to_string())
                .arg(&list)
                .arg(mode),
        );
    }
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
