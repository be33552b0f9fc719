//! The PostgreSQL store over TLS, against the real server `.ci/setup` configures
//! (`.ci/setup.d/25-postgresql-tls.sh`): a test CA and a server certificate for localhost,
//! 127.0.0.1 and ::1 under `INKAN_PG_TLS_DIR` (default `/var/lib/inkan-test/pg-tls`), and role
//! `inkan_cert`, which logs in with its client certificate. A missing setup fails the test with
//! a message saying to run `.ci/setup`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use inkan_reports::{Filter, Limits, Store, StoreError};

use crate::support::{fixture, write};

/// Where the setup script put the certificates; panics (never skips) when they are missing.
fn tls_dir() -> PathBuf {
    let dir = PathBuf::from(
        std::env::var("INKAN_PG_TLS_DIR").unwrap_or_else(|_| "/var/lib/inkan-test/pg-tls".into()),
    );
    for file in ["ca.crt", "wrong-ca.crt", "client.crt", "client.key"] {
        assert!(
            dir.join(file).is_file(),
            "{} is missing: run .ci/setup (25-postgresql-tls.sh makes the test certificates)",
            dir.join(file).display()
        );
    }
    dir
}

fn ca() -> String {
    tls_dir().join("ca.crt").display().to_string()
}

/// The test database on `host` with these query parameters.
fn url(host: &str, query: &str) -> String {
    format!("postgres://inkan:inkan@{host}:5432/inkan_test?{query}")
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A store in a fresh schema, dropped with it.
struct TlsStore {
    store: Store,
    schema: String,
}

impl Drop for TlsStore {
    fn drop(&mut self) {
        let _ = self.store.query(
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
            &[],
        );
    }
}

fn schema() -> String {
    format!(
        "tls_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn open(url: &str) -> Result<TlsStore, StoreError> {
    let schema = schema();
    Store::open_postgres_schema(url, &schema).map(|store| TlsStore { store, schema })
}

/// Opens, or fails saying how to get the setup.
fn must_open(url: &str) -> TlsStore {
    tls_dir();
    open(url).unwrap_or_else(|e| {
        panic!(
            "connecting with {}: {e}: run .ci/setup (PostgreSQL with TLS on)",
            inkan_reports::DbUrl::Postgres(url.to_owned())
        )
    })
}

/// Whether this connection is encrypted, and with which TLS version, from the server's view.
fn ssl_state(store: &mut Store) -> (String, String) {
    let rows = store
        .query(
            "SELECT ssl::text, COALESCE(version, '') FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    (
        rows[0][0].text().unwrap().to_owned(),
        rows[0][1].text().unwrap().to_owned(),
    )
}

fn open_err(url: &str) -> String {
    tls_dir();
    match open(url) {
        Ok(_) => panic!(
            "{}: connected, but should have failed",
            inkan_reports::DbUrl::Postgres(url.to_owned())
        ),
        Err(e) => e.to_string(),
    }
}

/// sslmode=require: the server sees an encrypted connection.
#[test]
fn require_encrypts_the_connection() {
    let mut t = must_open(&url("127.0.0.1", "sslmode=require"));
    let (ssl, version) = ssl_state(&mut t.store);
    assert_eq!(ssl, "true");
    assert!(version.starts_with("TLSv1."), "{version}");
}

/// The default (prefer) uses TLS when the server offers it.
#[test]
fn prefer_is_the_default_and_uses_tls() {
    let mut t = must_open("postgres://inkan:inkan@127.0.0.1:5432/inkan_test");
    assert_eq!(ssl_state(&mut t.store).0, "true");
}

/// sslmode=disable: no TLS at all.
#[test]
fn disable_is_plain() {
    let mut t = must_open(&url("127.0.0.1", "sslmode=disable"));
    assert_eq!(ssl_state(&mut t.store), ("false".to_owned(), String::new()));
}

/// SCRAM-SHA-256-PLUS: with channel_binding=require the login only succeeds when the
/// server accepts our tls-server-end-point hash of its certificate; without TLS there is
/// nothing to bind to, and the client refuses.
#[test]
fn scram_channel_binding_works_over_tls() {
    let mut t = must_open(&url("localhost", "sslmode=require&channel_binding=require"));
    assert_eq!(ssl_state(&mut t.store).0, "true");
    let err = open_err(&url("127.0.0.1", "sslmode=disable&channel_binding=require"));
    assert!(err.contains("channel binding"), "{err}");
}

/// verify-full with the test CA, by name and by address, then a real ingest and summary.
#[test]
fn verify_full_with_the_test_ca_ingests_and_summarises() {
    let mut by_ip = must_open(&url(
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    ));
    assert_eq!(ssl_state(&mut by_ip.store).0, "true");

    let mut t = must_open(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", ca()),
    ));
    assert_eq!(ssl_state(&mut t.store).0, "true");
    let dir = tempfile::tempdir().unwrap();
    let report = write(dir.path(), "rfc9990.xml", &fixture("rfc9990.xml"));
    let totals = t
        .store
        .ingest_file(&report, &Limits::default(), 1_795_800_000)
        .unwrap();
    assert_eq!((totals.reports, totals.records), (1, 3));
    let summary = t.store.summary(&Filter::default()).unwrap();
    assert_eq!(summary.domains.len(), 1);
    assert_eq!(summary.domains[0].domain, "sender.example");
    assert_eq!(summary.domains[0].messages, 155);
}

/// verify-ca checks the chain only: the right CA passes even under a name the certificate
/// does not carry; a CA that did not sign the server's certificate fails, naming the file.
#[test]
fn verify_ca_checks_the_chain() {
    let mut t = must_open(&format!(
        "postgres://inkan:inkan@db.invalid:5432/inkan_test?hostaddr=127.0.0.1&sslmode=verify-ca&sslrootcert={}",
        ca()
    ));
    assert_eq!(ssl_state(&mut t.store).0, "true");
    let wrong = tls_dir().join("wrong-ca.crt").display().to_string();
    let err = open_err(&url(
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={wrong}"),
    ));
    assert!(
        err.contains(&format!(
            "sslmode=verify-ca: the certificate of server 'localhost' is not signed by a \
             certificate authority in sslrootcert '{wrong}'"
        )),
        "{err}"
    );
    assert!(!err.contains("inkan:inkan"), "{err}");
}

/// As in libpq, require with sslrootcert checks the chain like verify-ca.
#[test]
fn require_with_a_root_certificate_checks_the_chain() {
    let wrong = tls_dir().join("wrong-ca.crt").display().to_string();
    let err = open_err(&url(
        "127.0.0.1",
        &format!("sslmode=require&sslrootcert={wrong}"),
    ));
    assert!(
        err.contains("sslmode=require: the certificate of server '127.0.0.1' is not signed"),
        "{err}"
    );
}

/// verify-full refuses a certificate that does not name the host, and says which names it
/// carries.
#[test]
fn verify_full_refuses_a_certificate_for_another_name() {
    let err = open_err(&format!(
        "postgres://inkan:inkan@db.invalid:5432/inkan_test?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert={}",
        ca()
    ));
    assert!(
        err.contains(
            "sslmode=verify-full: the certificate of server 'db.invalid' does not name that host"
        ),
        "{err}"
    );
    assert!(
        err.contains("localhost") && err.contains("127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("inkan:inkan"), "{err}");
}

/// A missing or unusable sslrootcert is named with its path, before anything is sent.
#[test]
fn a_bad_root_certificate_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/ca.crt");
    let err = open_err(&url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", missing.display()),
    ));
    assert!(
        err.contains(&format!(
            "sslrootcert '{}' cannot be read",
            missing.display()
        )),
        "{err}"
    );
    let not_pem = write(dir.path(), "ca.txt", b"not a certificate\n");
    let err = open_err(&url(
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={}", not_pem.display()),
    ));
    assert!(
        err.contains(&format!(
            "sslrootcert '{}' holds no PEM certificate",
            not_pem.display()
        )),
        "{err}"
    );
    let err = open_err(&url("localhost", "sslmode=verify-fullish"));
    assert!(
        err.contains("sslmode 'verify-fullish' is not one of"),
        "{err}"
    );
}

/// The test client key copied where only its owner can read it (mode 0600, as libpq and the
/// store require), in a directory that goes away with the returned guard.
fn private_client_key(dir: &Path) -> (tempfile::TempDir, PathBuf) {
    let private = tempfile::tempdir().unwrap();
    let key = private.path().join("client.key");
    std::fs::copy(dir.join("client.key"), &key).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (private, key)
}

/// A client certificate logs role inkan_cert in (pg_hba `cert`); without one the server
/// refuses; a key others can read is refused before connecting, as libpq does.
#[test]
fn a_client_certificate_logs_in() {
    let dir = tls_dir();
    let (_private, key) = private_client_key(&dir);
    let cert = dir.join("client.crt").display().to_string();
    let base = "postgres://inkan_cert@localhost:5432/inkan_test";
    let mut t = must_open(&format!(
        "{base}?sslmode=verify-full&sslrootcert={}&sslcert={cert}&sslkey={}",
        ca(),
        key.display()
    ));
    let who = t
        .store
        .query(
            "SELECT current_user::text, client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert_eq!(who[0][0].text(), Some("inkan_cert"));
    assert_eq!(who[0][1].text(), Some("/CN=inkan_cert"));

    let err = open_err(&format!("{base}?sslmode=verify-full&sslrootcert={}", ca()));
    assert!(err.contains("requires a valid client certificate"), "{err}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = open_err(&format!(
            "{base}?sslmode=require&sslcert={cert}&sslkey={}",
            key.display()
        ));
        assert!(
            err.contains(&format!(
                "sslkey '{}' has group or world access",
                key.display()
            )),
            "{err}"
        );
    }
}

/// allow: plain first, and TLS when the server refuses the plain login (role inkan_cert may
/// only log in over TLS with its certificate).
#[test]
fn allow_tries_plain_then_tls() {
    let mut t = must_open(&url("127.0.0.1", "sslmode=allow"));
    assert_eq!(ssl_state(&mut t.store).0, "false");
    let dir = tls_dir();
    let (_private, key) = private_client_key(&dir);
    let mut t = must_open(&format!(
        "postgres://inkan_cert@localhost:5432/inkan_test?sslmode=allow&sslcert={}&sslkey={}",
        dir.join("client.crt").display(),
        key.display()
    ));
    assert_eq!(ssl_state(&mut t.store).0, "true");
}

/// prefer, as in libpq, goes on without TLS when the handshake fails (here: the certificate
/// does not chain to the sslrootcert given), so it never protects against an attacker.
#[test]
fn prefer_falls_back_to_plain_when_the_handshake_fails() {
    let wrong = tls_dir().join("wrong-ca.crt").display().to_string();
    let mut t = must_open(&url(
        "127.0.0.1",
        &format!("sslmode=prefer&sslrootcert={wrong}"),
    ));
    assert_eq!(ssl_state(&mut t.store).0, "false");
}

/// ssl_min_protocol_version / ssl_max_protocol_version choose the TLS version the server sees.
#[test]
fn protocol_versions_are_bounded() {
    let mut t = must_open(&url(
        "127.0.0.1",
        "sslmode=require&ssl_max_protocol_version=TLSv1.2",
    ));
    assert_eq!(
        ssl_state(&mut t.store),
        ("true".to_owned(), "TLSv1.2".to_owned())
    );
    let mut t = must_open(&url(
        "127.0.0.1",
        "sslmode=require&ssl_min_protocol_version=TLSv1.3",
    ));
    assert_eq!(
        ssl_state(&mut t.store),
        ("true".to_owned(), "TLSv1.3".to_owned())
    );
}

/// sslrootcert=system reads the system trust store, which does not hold the test CA: the
/// server is refused (or, on a machine without a trust store, that is said).
#[test]
fn system_roots_do_not_trust_the_test_ca() {
    let err = open_err(&url("localhost", "sslrootcert=system"));
    assert!(
        err.contains(
            "sslmode=verify-full: the certificate of server 'localhost' is not signed by a \
             certificate authority in the system trust store"
        ) || err.contains("no certificate found in the system trust store"),
        "{err}"
    );
}
