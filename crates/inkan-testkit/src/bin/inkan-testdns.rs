//! `inkan-testdns`: the testkit's DNS server as a program, for benchmarks and end-to-end tests
//! of other programs. It answers authoritatively from RFC 1035 master files on 127.0.0.1, prints
//! the address it listens on as its first line of output, and serves until it is killed.
//!
//! ```text
//! inkan-testdns --zone FILE [--zone FILE...] [--listen 127.0.0.1:PORT]
//!               [--timeout-name NAME...] [--servfail-name NAME...] [--max-udp-payload BYTES]
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use inkan_dns::MemoryResolver;
use inkan_testkit::{DnsServer, Fault, FaultPlan};

const USAGE: &str = "usage: inkan-testdns --zone FILE [--zone FILE...] [--listen 127.0.0.1:PORT] \
[--timeout-name NAME...] [--servfail-name NAME...] [--max-udp-payload BYTES]";

#[derive(Debug)]
struct Options {
    zones: Vec<PathBuf>,
    listen: SocketAddr,
    faults: FaultPlan,
    max_udp_payload: Option<u16>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        zones: Vec::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        faults: FaultPlan::new(),
        max_udp_payload: None,
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--zone" => options.zones.push(PathBuf::from(value()?)),
            "--listen" => {
                let text = value()?;
                options.listen = text
                    .parse()
                    .map_err(|_| format!("--listen '{text}' is not IP:PORT"))?;
            }
            "--timeout-name" => options.faults.add(&value()?, Fault::Timeout, []),
            "--servfail-name" => options.faults.add(&value()?, Fault::ServFail, []),
            "--max-udp-payload" => {
                let text = value()?;
                let bytes = text
                    .parse()
                    .map_err(|_| format!("--max-udp-payload '{text}' is not a number of bytes"))?;
                options.max_udp_payload = Some(bytes);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if options.zones.is_empty() {
        return Err("at least one --zone FILE is needed".into());
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("inkan-testdns: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let zone = match MemoryResolver::from_zone_files(&options.zones) {
        Ok(zone) => zone,
        Err(err) => {
            eprintln!("inkan-testdns: {err}");
            return ExitCode::from(2);
        }
    };
    let mut builder = DnsServer::builder(zone)
        .faults(options.faults)
        .listen(options.listen);
    if let Some(bytes) = options.max_udp_payload {
        builder = builder.max_udp_payload(bytes);
    }
    let server = match builder.start() {
        Ok(server) => server,
        Err(err) => {
            eprintln!("inkan-testdns: cannot listen on {}: {err}", options.listen);
            return ExitCode::from(2);
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "{}", server.addr())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    loop {
        std::thread::park();
    }
}
