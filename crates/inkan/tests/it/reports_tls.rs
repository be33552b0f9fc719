//! `inkan reports --db 'postgres://...?sslmode=verify-full&sslrootcert=...'`: what a user of a
//! managed PostgreSQL types, against the local server `.ci/setup` puts behind TLS with a test CA
//! (`.ci/setup.d/25-postgresql-tls.sh`, certificates under `INKAN_PG_TLS_DIR`, default
//! `/var/lib/inkan-test/pg-tls`). A missing setup fails with a message saying to run `.ci/setup`.

use std::path::PathBuf;

use crate::harness::inkan;
use crate::reports::{fixture, ingest_json};

fn ca() -> String {
    let dir = PathBuf::from(
        std::env::var("INKAN_PG_TLS_DIR").unwrap_or_else(|_| "/var/lib/inkan-test/pg-tls".into()),
    );
    let ca = dir.join("ca.crt");
    assert!(
        ca.is_file(),
        "{} is missing: run .ci/setup (25-postgresql-tls.sh makes the test certificates)",
        ca.display()
    );
    ca.display().to_string()
}

/// Ingest and summary over verify-full; the database shown without its password; a host
/// the certificate does not name gives exit 2 and says so.
#[test]
fn reports_over_verified_tls() {
    let ca = ca();
    let schema = format!("cli_tls_{}", std::process::id());
    let url = format!(
        "postgres://inkan:inkan@localhost:5432/inkan_test?sslmode=verify-full&sslrootcert={ca}\
         &options=-csearch_path%3D{schema}"
    );
    let plain = "postgres://inkan:inkan@127.0.0.1:5432/inkan_test?sslmode=disable";
    let mut admin = postgres::Client::connect(plain, postgres::NoTls)
        .unwrap_or_else(|e| panic!("PostgreSQL at {plain} is unreachable ({e}): run .ci/setup"));
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("rfc9990.xml");
    std::fs::write(&report, fixture("rfc9990.xml")).unwrap();
    let ingest = ingest_json(&url, &[&report]);
    let summary = inkan(&["--format", "json", "reports", "summary", "--db", &url]);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    assert_eq!(ingest.code, 0, "{}\n{}", ingest.stdout, ingest.stderr);
    assert_eq!(ingest.json()["reports"], 1);
    let shown = ingest.json()["database"].as_str().unwrap().to_owned();
    assert!(
        shown.starts_with("postgres://inkan@localhost:5432/"),
        "{shown}"
    );
    assert_eq!(summary.code, 0, "{}", summary.stderr);
    assert_eq!(summary.json()["domains"][0]["domain"], "sender.example");
    assert_eq!(summary.json()["domains"][0]["messages"], 155);

    let wrong = format!(
        "postgres://inkan:inkan@db.invalid:5432/inkan_test?hostaddr=127.0.0.1\
         &sslmode=verify-full&sslrootcert={ca}"
    );
    let run = inkan(&["reports", "summary", "--db", &wrong]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "sslmode=verify-full: the certificate of server 'db.invalid' does not name that host"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("inkan:inkan"), "{}", run.stderr);

    let run = inkan(&[
        "reports",
        "summary",
        "--db",
        "postgres://inkan:inkan@localhost/inkan_test?sslmode=verify-ful",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("sslmode 'verify-ful' is not one of disable, allow, prefer, require"),
        "{}",
        run.stderr
    );
}
