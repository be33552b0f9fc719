//! `inkan reports`: ingest every container into SQLite and PostgreSQL, idempotence, exit codes,
//! the JSON contract, summaries, stored errors, and crash safety (an ingest killed with
//! SIGKILL midway leaves a consistent database that a rerun completes).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::harness::inkan;

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../inkan-reports/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A directory of reports: raw XML, gzip under a misleading name, JSON, ARF and failure mails,
/// an mbox and a Maildir.
fn corpus(dir: &Path) -> PathBuf {
    let root = dir.join("in");
    write(&root, "a/rfc9990.xml", &fixture("rfc9990.xml"));
    write(&root, "a/report.dat", &gzip(&fixture("rfc7489.xml")));
    write(&root, "b/tls.json", &fixture("tlsrpt.json"));
    write(&root, "b/arf.eml", &fixture("arf.eml"));
    let mut mbox = b"From MAILER-DAEMON Fri Nov 28 01:02:03 2026\n".to_vec();
    mbox.extend_from_slice(
        String::from_utf8(fixture("failure.eml"))
            .unwrap()
            .replace("\r\n", "\n")
            .as_bytes(),
    );
    write(&root, "c/failures.mbox", &mbox);
    write(&root, "Maildir/new/1.host", &fixture("arf.eml"));
    write(&root, "Maildir/cur/2.host:2,S", &fixture("draft.xml"));
    write(&root, "Maildir/tmp/3.host", b"half-delivered");
    std::fs::create_dir_all(root.join("Maildir/cur")).unwrap();
    root
}

/// `inkan --format json reports ingest --db DB PATHS...`.
pub(crate) fn ingest_json(db: &str, paths: &[&Path]) -> crate::harness::Run {
    let mut args = vec!["--format", "json", "reports", "ingest", "--db", db];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    inkan(&args)
}

/// Makes a named pipe at `path`.
fn mkfifo(path: &Path) -> PathBuf {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
    path.to_owned()
}

fn db_arg(dir: &Path) -> String {
    format!("sqlite:{}", dir.join("reports.sqlite3").display())
}

#[test]
fn ingest_every_container_then_again() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path());
    let db = db_arg(dir.path());
    let run = ingest_json(&db, &[&input]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["files"], 7);
    assert_eq!(json["reports"], 6);
    assert_eq!(json["records"], 6);
    assert_eq!(json["duplicates"], 1);
    assert_eq!(json["errors"], serde_json::json!([]));
    assert_eq!(
        json["kinds"],
        serde_json::json!({"aggregate": 3, "failure": 1, "tls": 1, "arf": 1})
    );

    let again = ingest_json(&db, &[&input]);
    assert_eq!(again.code, 0);
    let json = again.json();
    assert_eq!(
        (json["reports"].as_u64(), json["duplicates"].as_u64()),
        (Some(0), Some(7))
    );

    let text = inkan(&["reports", "summary", "--db", &db]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .contains("sender.example: 200 messages in 2 reports"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("DMARC pass 82.5% (165)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("Sender requirement failed: 550-5.7.30 Authentication required")
    );
    assert!(text.stdout.contains("certificate-expired"));
    assert!(
        text.stdout.contains("2026-11-27  news.sender.example"),
        "{}",
        text.stdout
    );

    let json = inkan(&[
        "--format",
        "json",
        "reports",
        "summary",
        "--db",
        &db,
        "--domain",
        "sender.example",
    ])
    .json();
    assert_eq!(json["domains"].as_array().unwrap().len(), 1);
    assert_eq!(json["domains"][0]["messages"], 200);
    assert_eq!(
        json["domains"][0]["failing_sources"][0]["ip"],
        "198.51.100.7"
    );
    assert_eq!(json["domains"][0]["overrides"][0]["type"], "local_policy");
    assert_eq!(
        json["tls"].as_array().unwrap().len(),
        1,
        "--domain filters TLS policies too"
    );
    assert_eq!(json["tls"][0]["failed"], 303);
    assert_eq!(
        json["complaints_by_feedback_id"][0]["key"],
        "campaign42:newsletter:mailer:sender"
    );
    let none = inkan(&[
        "--format",
        "json",
        "reports",
        "summary",
        "--db",
        &db,
        "--since",
        "2026-11-28",
    ])
    .json();
    assert_eq!(none["domains"], serde_json::json!([]));
    let day = inkan(&[
        "--format",
        "json",
        "reports",
        "summary",
        "--db",
        &db,
        "--since",
        "2026-11-27",
        "--until",
        "2026-11-27",
    ])
    .json();
    assert_eq!(day["domains"][0]["messages"], 155);
}

#[test]
fn failures_exit_1_are_listed_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_arg(dir.path());
    let good = write(dir.path(), "good.xml", &fixture("rfc7489.xml"));
    let bad = write(
        dir.path(),
        "bad.xml.gz",
        &gzip(&fixture("rfc9990.xml"))[..200],
    );
    let junk = write(dir.path(), "junk.txt", b"hello");
    let run = ingest_json(&db, &[&good, &bad, &junk]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["reports"], 1);
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["path"], bad.to_str().unwrap());
    assert!(
        errors[0]["error"].as_str().unwrap().starts_with("gzip:"),
        "{}",
        errors[0]
    );
    assert_eq!(
        errors[1]["error"],
        "unrecognised content (starts with 'hello')"
    );

    let listed = inkan(&["--format", "json", "reports", "errors", "--db", &db]);
    assert_eq!(listed.code, 1);
    assert_eq!(listed.json()["errors"].as_array().unwrap().len(), 2);
    let text = inkan(&["reports", "errors", "--db", &db]);
    assert!(
        text.stdout.contains("junk.txt: unrecognised content"),
        "{}",
        text.stdout
    );
}

/// A directory walk skips hidden files (not hidden directories: Maildir++ folders are), does
/// not go round a symbolic link back up the tree, follows a link to another directory once,
/// and leaves out a link that leads nowhere and a pipe or socket, saying so for each. A pipe
/// named on the command line, and `-`, are read.
#[cfg(unix)]
#[test]
fn directory_walk_skips_hidden_files_link_loops_and_pipes_and_reads_stdin() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let db = db_arg(dir.path());
    let root = dir.path().join("in");
    write(&root, "a/report.xml", &fixture("rfc7489.xml"));
    write(&root, "a/.DS_Store", b"\0\0\0\x01Bud1");
    // A Maildir++ folder is a hidden directory: read.
    write(&root, ".DMARC/cur/1.host:2,S", &fixture("rfc9990.xml"));
    write(dir.path(), "elsewhere/tls.json", &fixture("tlsrpt.json"));
    symlink("..", root.join("a/up")).unwrap();
    symlink(dir.path().join("elsewhere"), root.join("b")).unwrap();
    symlink(root.join("missing.xml"), root.join("dangling.xml")).unwrap();
    // Read, this pipe would hang the ingest until something wrote to it; the socket and the
    // link to the pipe likewise. Should the walk ever take them, a writer comes after 30 s
    // and serves every reader after that, so that the test fails on its counts instead of
    // hanging.
    let fifo = mkfifo(&root.join("a/pipe.xml"));
    std::thread::spawn({
        let fifo = fifo.clone();
        move || {
            std::thread::sleep(std::time::Duration::from_secs(30));
            while std::fs::write(&fifo, b"late").is_ok() {}
        }
    });
    let _socket = std::os::unix::net::UnixListener::bind(root.join("a/socket")).unwrap();
    symlink(&fifo, root.join("to-pipe.xml")).unwrap();
    let run = ingest_json(&db, &[&root]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["reports"], 3, "{json:#}");
    assert_eq!(json["files"], 3, "{json:#}");
    for note in [
        "a/up' leads to a directory already read",
        "dangling.xml' is a link that leads nowhere",
        "a/pipe.xml' is not a regular file",
        "a/socket' is not a regular file",
        "to-pipe.xml' is not a regular file",
    ] {
        assert!(run.stderr.contains(note), "{}", run.stderr);
    }
    // Named on the command line, a pipe is read: `inkan reports ingest <(xz -dc r.xml.xz)`.
    let named = mkfifo(&dir.path().join("named-pipe"));
    let report = fixture("draft.xml");
    let writer = std::thread::spawn({
        let named = named.clone();
        move || std::fs::write(named, report)
    });
    let run = ingest_json(&db, &[&named]);
    writer.join().unwrap().unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["reports"], 1, "{}", run.stdout);
    // And `-` is standard input.
    let args = ["--format", "json", "reports", "ingest", "--db", &db, "-"];
    let run = crate::harness::inkan_with_stdin(&args, &fixture("failure.eml"));
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["reports"], 1, "{}", run.stdout);
}

#[test]
fn an_unreadable_input_is_listed_and_the_rest_of_the_batch_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_arg(dir.path());
    let root = dir.path().join("in");
    write(&root, "a.xml", &fixture("rfc7489.xml"));
    write(&root, "c.xml", &fixture("rfc9990.xml"));
    // Every read of /proc/self/mem from its start fails (EIO): a file that is listed and then
    // cannot be read, as a message a mail server moved away meanwhile is.
    std::os::unix::fs::symlink("/proc/self/mem", root.join("b.xml")).unwrap();
    let run = ingest_json(&db, &[&root]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_eq!(json["reports"], 2, "{json:#}");
    assert_eq!(json["errors"], serde_json::json!([]), "{json:#}");
    let unreadable = json["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{json:#}");
    assert!(unreadable[0]["path"].as_str().unwrap().ends_with("b.xml"));
    let error = unreadable[0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("reading '") && error.contains("b.xml'"),
        "{error}"
    );
    // The text form says the same; a rerun stores nothing twice and still says it.
    let run = inkan(&["reports", "ingest", "--db", &db, root.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("2 duplicates"), "{}", run.stdout);
    assert!(
        run.stdout.contains("unreadable: reading '"),
        "{}",
        run.stdout
    );
}

#[test]
fn operational_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.xml", &fixture("rfc7489.xml"));
    let run = inkan(&[
        "reports",
        "ingest",
        "--db",
        "mysql://x",
        good.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unsupported database url 'mysql://x'"),
        "{}",
        run.stderr
    );
    let run = inkan(&[
        "reports",
        "ingest",
        "--db",
        &db_arg(dir.path()),
        "/nonexistent/report.xml",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("reading '/nonexistent/report.xml'"),
        "{}",
        run.stderr
    );
    let run = inkan(&[
        "reports",
        "summary",
        "--db",
        "postgres://nobody:x@127.0.0.1:1/none",
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("postgres://nobody@127.0.0.1:1/none"),
        "password must not be shown: {}",
        run.stderr
    );
    assert!(!run.stderr.contains("nobody:x"));
}

fn postgres_url() -> String {
    std::env::var("INKAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://inkan:inkan@127.0.0.1:5432/inkan_test".to_owned())
}

/// The same ingest into PostgreSQL, in a schema of its own.
#[test]
fn ingest_into_postgres() {
    let schema = format!(
        "cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut admin =
        postgres::Client::connect(&postgres_url(), postgres::NoTls).unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {} is unreachable ({e}): run .ci/setup",
                inkan_reports::DbUrl::Postgres(postgres_url())
            )
        });
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let sep = if postgres_url().contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!("{}{sep}options=-csearch_path%3D{schema}", postgres_url());
    let dir = tempfile::tempdir().unwrap();
    let input = corpus(dir.path());
    let run = ingest_json(&url, &[&input]);
    let again = ingest_json(&url, &[&input]);
    let summary = inkan(&["--format", "json", "reports", "summary", "--db", &url]);
    let stored: i64 = admin
        .query_one(&format!("SELECT COUNT(*) FROM {schema}.reports"), &[])
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["reports"], 6);
    assert_eq!(again.json()["duplicates"], 7);
    assert_eq!(stored, 6);
    assert_eq!(summary.json()["domains"][0]["dmarc_pass"], 165);
}

/// SIGKILL during a large ingest: the transaction never committed, so the database holds
/// nothing of that input and passes an integrity check; a rerun stores it all.
#[test]
fn killed_ingest_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_arg(dir.path());
    let small = write(dir.path(), "small.xml", &fixture("rfc7489.xml"));
    assert_eq!(
        inkan(&["reports", "ingest", "--db", &db, small.to_str().unwrap()]).code,
        0
    );
    let big = dir.path().join("big.xml");
    let n = 200_000u64;
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        write!(out, "<feedback><report_metadata><org_name>o</org_name><report_id>big</report_id></report_metadata>\
            <policy_published><domain>big.example</domain><p>none</p></policy_published>").unwrap();
        for i in 0..n {
            writeln!(out, "<record><row><source_ip>10.0.{}.{}</source_ip><count>1</count><policy_evaluated>\
                <disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>\
                <identifiers><header_from>big.example</header_from></identifiers></record>", (i >> 8) & 255, i & 255).unwrap();
        }
        write!(out, "</feedback>").unwrap();
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_inkan"))
        .args(["reports", "ingest", "--db", &db, big.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once records are being written: the input is read twice at once (one reading
    // hashes and archives it, the other parses it) and the transaction commits only after
    // both end, so past one and a half readings the parse is at least half way through, its
    // records are being stored, and nothing is committed yet.
    let size = std::fs::metadata(&big).unwrap().len();
    let io = format!("/proc/{}/io", child.id());
    let read = || -> u64 {
        std::fs::read_to_string(&io)
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("rchar: ").map(str::to_owned))
            })
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(60) && read() < size * 3 / 2 {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the ingest finished before it was killed; make the input larger"
    );

    let mut store = inkan_reports::Store::open_sqlite(&dir.path().join("reports.sqlite3")).unwrap();
    let check = store.query("PRAGMA integrity_check", &[]).unwrap();
    assert_eq!(check[0][0].text(), Some("ok"));
    assert_eq!(
        store.count("SELECT COUNT(*) FROM reports").unwrap(),
        1,
        "only the small report"
    );
    assert_eq!(
        store
            .count("SELECT COUNT(*) FROM aggregate_records")
            .unwrap(),
        2
    );
    assert_eq!(store.count("SELECT COUNT(*) FROM inputs").unwrap(), 1);

    let rerun = ingest_json(&db, &[&big]);
    assert_eq!(rerun.code, 0, "{}", rerun.stderr);
    assert_eq!(rerun.json()["records"], n);
    assert_eq!(
        store
            .count("SELECT COUNT(*) FROM aggregate_records")
            .unwrap(),
        n as i64 + 2
    );
}

const PTR_ZONE: &str = "$ORIGIN 100.51.198.in-addr.arpa.
$TTL 300
@  IN SOA ns1.bulk.example. hostmaster.bulk.example. 2026112801 7200 900 1209600 120
@  IN NS ns1.bulk.example.
7  IN PTR mx.bulk.example.
";

/// `--resolve` names failing sources from PTR records, asked of a real DNS server on
/// 127.0.0.1 (and the same zone from a file); a source without PTR stays unnamed.
#[test]
fn summary_resolves_failing_sources() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_arg(dir.path());
    let a = write(dir.path(), "a.xml", &fixture("rfc9990.xml"));
    let b = write(dir.path(), "b.xml", &fixture("rfc7489.xml"));
    assert_eq!(
        inkan(&[
            "reports",
            "ingest",
            "--db",
            &db,
            a.to_str().unwrap(),
            b.to_str().unwrap()
        ])
        .code,
        0
    );
    let zone = inkan_dns::MemoryResolver::from_zone_text(PTR_ZONE, None, "ptr.zone").unwrap();
    let server = inkan_testkit::DnsServer::builder(zone).start().unwrap();
    let addr = server.addr().to_string();
    let zone_file = write(dir.path(), "ptr.zone", PTR_ZONE.as_bytes());
    for how in [
        ["--nameserver", addr.as_str()],
        ["--zone", zone_file.to_str().unwrap()],
    ] {
        let run = inkan(&[
            "--format",
            "json",
            "reports",
            "summary",
            "--db",
            &db,
            "--resolve",
            how[0],
            how[1],
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let failing = &run.json()["domains"][0]["failing_sources"];
        assert_eq!(failing[0]["ip"], "198.51.100.7");
        assert_eq!(failing[0]["ptr"], "mx.bulk.example", "{how:?}");
        assert_eq!(failing[1]["ip"], "203.0.113.99");
        assert!(failing[1].get("ptr").is_none(), "{how:?}");
    }
    let text = inkan(&[
        "reports",
        "summary",
        "--db",
        &db,
        "--resolve",
        "--zone",
        zone_file.to_str().unwrap(),
    ]);
    assert!(text.stdout.contains("mx.bulk.example"), "{}", text.stdout);
}
