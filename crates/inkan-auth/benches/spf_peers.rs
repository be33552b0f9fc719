//! The SPF comparison of `bench/spf/README.md`: 2,000 checks over 200 generated domains served
//! by the testkit DNS server on 127.0.0.1, through inkan cold (every lookup to the server) and
//! warm (caching resolver and parsed-record cache filled by one untimed pass), then through
//! pyspf (`bench/spf/pyspf_bench.py`) against the same server when python3 has it. Prints
//! checks per second and DNS queries per check, one core (a current-thread runtime).
//!
//! `cargo bench -p inkan-auth --bench spf_peers`

use std::io::Write;
use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use inkan_auth::spf::{SpfParams, SpfResult, SpfVerifier};
use inkan_dns::{
    CachingResolver, MemoryResolver, NetworkOptions, NetworkResolver, RData, Record, Resolver, Txt,
};
use inkan_testkit::DnsServer;

const DOMAINS: usize = 200;
const CHECKS_PER_DOMAIN: usize = 10;

fn zone() -> (MemoryResolver, Vec<(IpAddr, String)>) {
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
    let mut records = vec![Record {
        name: "bench".into(),
        ttl: 3600,
        data: RData::Soa(soa),
    }];
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
    (MemoryResolver::from_records(records), checks)
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

/// One result line; `queries` is `None` where the timed pass cannot be told apart.
fn report(name: &str, checks: usize, elapsed: Duration, queries: Option<usize>) {
    let per_sec = checks as f64 / elapsed.as_secs_f64();
    let per_check = queries.map_or("     -".to_owned(), |q| {
        format!("{:>6.2}", q as f64 / checks as f64)
    });
    println!("{name:<22} {per_sec:>12.0} checks/s   {per_check} DNS queries/check");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("spf_peers: benchmark");
        return;
    }
    let (zone, checks) = zone();
    let server = DnsServer::start(zone).expect("start the DNS server");
    let addr = server.addr();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let network = NetworkResolver::with_servers(
        &[addr],
        NetworkOptions::default().with_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    println!(
        "{} checks over {DOMAINS} domains, DNS from {addr}",
        checks.len()
    );

    server.reset_counts();
    let cold = SpfVerifier::new(&network as &dyn Resolver);
    let start = Instant::now();
    let passed = runtime.block_on(run(&cold, &checks));
    report(
        "inkan cold",
        checks.len(),
        start.elapsed(),
        Some(server.query_count()),
    );

    let cached = CachingResolver::new(
        NetworkResolver::with_servers(&[addr], NetworkOptions::default()).unwrap(),
    );
    let warm = SpfVerifier::new(&cached as &dyn Resolver).with_record_cache();
    runtime.block_on(run(&warm, &checks));
    server.reset_counts();
    let rounds = 50;
    let start = Instant::now();
    for _ in 0..rounds {
        assert_eq!(runtime.block_on(run(&warm, &checks)), passed);
    }
    report(
        "inkan warm",
        checks.len() * rounds,
        start.elapsed(),
        Some(server.query_count()),
    );

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../bench/spf/pyspf_bench.py"
    );
    let list = std::env::temp_dir().join(format!("inkan-spf-bench-{}.jsonl", std::process::id()));
    let mut f = std::fs::File::create(&list).unwrap();
    for (ip, sender) in &checks {
        writeln!(
            f,
            "{{\"ip\": \"{ip}\", \"sender\": \"{sender}\", \"helo\": \"mail.example.org\"}}"
        )
        .unwrap();
    }
    drop(f);
    for mode in ["cold", "warm"] {
        server.reset_counts();
        let out = Command::new("python3")
            .args([script, &addr.to_string(), list.to_str().unwrap(), mode])
            .output();
        match out {
            Ok(o) if o.status.success() => {
                let text = String::from_utf8_lossy(&o.stdout);
                let seconds: f64 = text
                    .split("\"seconds\": ")
                    .nth(1)
                    .and_then(|s| s.split([',', '}']).next())
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(f64::NAN);
                // The warm run's untimed fill pass asks the server too; only cold counts are clean.
                let queries = (mode == "cold").then(|| server.query_count());
                report(
                    &format!("pyspf 2.0.14 {mode}"),
                    checks.len(),
                    Duration::from_secs_f64(seconds),
                    queries,
                );
            }
            Ok(o) => println!(
                "pyspf {mode}: failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => println!("pyspf {mode}: python3 not runnable ({e}); run .ci/setup"),
        }
    }
    let _ = std::fs::remove_file(&list);
}
