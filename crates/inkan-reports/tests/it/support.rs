//! Fixtures, container builders, a collecting visitor, and the two store backends.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use inkan_reports::{
    AggregateHeader, AggregateReader, AggregateTrailer, FeedbackReport, Limits, ParseError, Record,
    Store, TlsReport, Visitor,
};

pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (n, chunk) in bytes.chunks(3).enumerate() {
        if n > 0 && n % 19 == 0 {
            out.push_str("\r\n");
        }
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A report mail as reporters send them: a text part and the report as an attachment.
pub fn eml_with_attachment(
    message_id: &str,
    name: &str,
    content_type: &str,
    data: &[u8],
) -> Vec<u8> {
    format!(
        "From: noreply-dmarc-support@receiver.example\r\nTo: rua@sender.example\r\n\
         Subject: Report domain: sender.example Submitter: receiver.example\r\n\
         Date: Fri, 28 Nov 2026 01:02:03 +0000\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n\
         This is an aggregate report.\r\n--b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        base64(data)
    )
    .into_bytes()
}

/// An mbox file holding `messages`.
pub fn mbox(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        out.extend_from_slice(b"From MAILER-DAEMON Fri Nov 28 01:02:03 2026\n");
        let text = String::from_utf8_lossy(message).replace("\r\n", "\n");
        for line in text.lines() {
            if line.starts_with("From ") {
                out.push(b'>');
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

/// Writes a Maildir (`cur`, `new`, `tmp`) holding `messages` under `dir`.
pub fn maildir(dir: &Path, messages: &[Vec<u8>]) {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    for (i, message) in messages.iter().enumerate() {
        let sub = if i % 2 == 0 { "new" } else { "cur" };
        let name = format!(
            "1764288000.M{i}P1.host{}",
            if sub == "cur" { ":2,S" } else { "" }
        );
        std::fs::write(dir.join(sub).join(name), message).unwrap();
    }
}

/// An aggregate report with `n` records written straight to `path` (never whole in memory).
/// Record `i` comes from 10.x.y.z with count `1 + i % 3`; every 4th record fails DMARC.
pub fn write_big_report(path: &Path, org: &str, id: &str, n: u64) {
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::new(file);
    write!(
        out,
        "<?xml version=\"1.0\"?>\n<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\"><version>1.0</version>\
         <report_metadata><org_name>{org}</org_name><email>r@{org}</email><report_id>{id}</report_id>\
         <date_range><begin>1795737600</begin><end>1795823999</end></date_range></report_metadata>\
         <policy_published><domain>big.example</domain><p>reject</p><adkim>r</adkim><aspf>r</aspf></policy_published>\n"
    )
    .unwrap();
    for i in 0..n {
        let ok = if i % 4 == 3 { "fail" } else { "pass" };
        writeln!(
            out,
            "<record><row><source_ip>10.{}.{}.{}</source_ip><count>{}</count><policy_evaluated>\
             <disposition>none</disposition><dkim>{ok}</dkim><spf>{ok}</spf></policy_evaluated></row>\
             <identifiers><envelope_from>big.example</envelope_from><header_from>big.example</header_from></identifiers>\
             <auth_results><dkim><domain>big.example</domain><selector>s1</selector><result>{ok}</result></dkim>\
             <spf><domain>big.example</domain><scope>mfrom</scope><result>{ok}</result></spf></auth_results></record>",
            (i >> 16) & 255,
            (i >> 8) & 255,
            i & 255,
            1 + i % 3
        )
        .unwrap();
    }
    writeln!(out, "</feedback>").unwrap();
    out.flush().unwrap();
}

/// Everything a walk found, kept in memory.
#[derive(Debug, Default)]
pub struct Collected {
    pub aggregates: Vec<(String, AggregateHeader, Vec<Record>, AggregateTrailer)>,
    pub tls: Vec<(String, TlsReport)>,
    pub feedback: Vec<(String, FeedbackReport)>,
    pub failures: Vec<(String, ParseError)>,
}

impl Visitor for Collected {
    type Error = std::convert::Infallible;

    fn aggregate(
        &mut self,
        location: &str,
        mut report: AggregateReader<Box<dyn BufRead + '_>>,
    ) -> Result<(), Self::Error> {
        let header = report.header().clone();
        let mut records = Vec::new();
        loop {
            match report.next_record() {
                Ok(Some(r)) => records.push(r),
                Ok(None) => break,
                Err(e) => {
                    self.failures.push((location.to_owned(), e));
                    return Ok(());
                }
            }
        }
        match report.finish() {
            Ok(trailer) => self
                .aggregates
                .push((location.to_owned(), header, records, trailer)),
            Err(e) => self.failures.push((location.to_owned(), e)),
        }
        Ok(())
    }

    fn tls(&mut self, location: &str, report: TlsReport) -> Result<(), Self::Error> {
        self.tls.push((location.to_owned(), report));
        Ok(())
    }

    fn feedback(&mut self, location: &str, report: FeedbackReport) -> Result<(), Self::Error> {
        self.feedback.push((location.to_owned(), report));
        Ok(())
    }

    fn failed(&mut self, location: &str, error: ParseError) -> Result<(), Self::Error> {
        self.failures.push((location.to_owned(), error));
        Ok(())
    }
}

/// Walks `bytes` with the default limits.
pub fn collect(bytes: &[u8]) -> Collected {
    collect_with(bytes, &Limits::default())
}

pub fn collect_with(bytes: &[u8], limits: &Limits) -> Collected {
    let mut collected = Collected::default();
    let Ok(()) = inkan_reports::walk(Box::new(bytes), "", 0, limits, &mut collected);
    collected
}

/// The PostgreSQL the tests use.
pub fn postgres_url() -> String {
    std::env::var("INKAN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://inkan:inkan@127.0.0.1:5432/inkan_test".to_owned())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A store on one backend, cleaned up when dropped.
pub struct TestStore {
    pub name: &'static str,
    pub store: Store,
    pub url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(schema) = &self.schema
            && let Ok(mut client) = postgres::Client::connect(&postgres_url(), postgres::NoTls)
        {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

pub fn sqlite_store() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("reports.sqlite3");
    let store = Store::open_sqlite(&path).unwrap();
    TestStore {
        name: "sqlite",
        store,
        url: format!("sqlite:{}", path.display()),
        schema: None,
        _dir: Some(dir),
    }
}

/// A store in a fresh PostgreSQL schema; fails (never skips) when PostgreSQL is not there.
pub fn postgres_store() -> TestStore {
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let url = postgres_url();
    let store = Store::open_postgres_schema(&url, &schema).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} is unreachable ({e}): run .ci/setup (or set INKAN_TEST_POSTGRES)",
            inkan_reports::DbUrl::Postgres(url.clone())
        )
    });
    TestStore {
        name: "postgres",
        store,
        url,
        schema: Some(schema),
        _dir: None,
    }
}

/// Both backends.
pub fn backends() -> Vec<TestStore> {
    vec![sqlite_store(), postgres_store()]
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, bytes).unwrap();
    path
}
