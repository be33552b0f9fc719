//! `inkan-testdns`, the server as a program: it prints its address, serves the zone files and
//! the planned faults, and refuses bad arguments.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use inkan_dns::{Answer, FailureKind, NetworkOptions, NetworkResolver, RecordType, Resolver};

/// The child process, killed when the test ends however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serves_zone_files_with_faults_and_prints_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("prog.zone");
    std::fs::write(
        &zone,
        "$ORIGIN prog.test.\n$TTL 60\n@ IN SOA ns h 1 2 3 4 20\n@ IN TXT \"v=spf1 -all\"\n",
    )
    .unwrap();
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_inkan-testdns"))
            .args([
                "--zone",
                zone.to_str().unwrap(),
                "--timeout-name",
                "slow.prog.test",
            ])
            .args(["--servfail-name", "bad.prog.test"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not an address: {line:?}"));
    let options = NetworkOptions::default().with_timeout(Duration::from_millis(500));
    let net = NetworkResolver::with_servers(&[addr], options).unwrap();
    let txt = net.lookup("prog.test", RecordType::Txt).await.unwrap();
    assert_eq!(txt.txt().next().unwrap().concat(), b"v=spf1 -all");
    assert_eq!(
        net.lookup("nope.prog.test", RecordType::Txt).await.unwrap(),
        Answer::NxDomain { ttl: 20 }
    );
    assert_eq!(
        net.lookup("slow.prog.test", RecordType::A)
            .await
            .unwrap_err()
            .kind,
        FailureKind::Timeout
    );
    assert_eq!(
        net.lookup("bad.prog.test", RecordType::A)
            .await
            .unwrap_err()
            .kind,
        FailureKind::ServFail
    );
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    for args in [
        &[][..],
        &["--zone", "/nonexistent/x.zone"],
        &["--zone"],
        &["--listen", "nowhere"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_inkan-testdns"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("inkan-testdns: "),
            "{args:?}"
        );
    }
}
