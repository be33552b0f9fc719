//! The report store: SQLite (default) or PostgreSQL behind one small [`Backend`] trait, with
//! migrations, the archive of every input's original bytes, and the de-duplicating inserts
//! the ingester uses. SQL is written once with `$n` placeholders, which both engines accept.

mod postgres;
pub(crate) mod schema;
mod sqlite;
mod tls;

use std::path::{Path, PathBuf};

use crate::aggregate::Record;
use crate::archive::Archiver;
use crate::error::StoreError;
use schema::Dialect;

/// One SQL value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// NULL.
    Null,
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// The integer, or 0 for NULL and non-integers.
    pub fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            _ => 0,
        }
    }

    /// The text, or `None`.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// What a database engine must offer the store.
pub(crate) trait Backend: Send {
    /// Runs statements without parameters (DDL, BEGIN, COMMIT, SAVEPOINT...).
    fn batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Runs one statement without parameters that is run again and again (BEGIN, COMMIT,
    /// SAVEPOINT...); backends may keep it prepared.
    fn control(&mut self, sql: &str) -> Result<(), StoreError> {
        self.batch(sql)
    }
    /// Runs one statement; returns the rows changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs one query and hands each row to `each` as it is read, so that a query over
    /// millions of rows never holds them all; an error from `each` stops it.
    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&[Value]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// Runs one query; returns its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut rows = Vec::new();
        self.query_each(sql, params, &mut |row| {
            rows.push(row.to_vec());
            Ok(())
        })?;
        Ok(rows)
    }
    /// Runs `sql`, an `INSERT ... ON CONFLICT ... DO NOTHING` into a table keyed by `id`,
    /// and returns the new row's `id`, or `None` when nothing was inserted. By default the
    /// statement gets `RETURNING id`.
    fn insert_id(&mut self, sql: &str, params: &[Value]) -> Result<Option<i64>, StoreError> {
        let rows = self.query(&format!("{sql} RETURNING id"), params)?;
        Ok(rows.first().and_then(|r| r.first()).map(Value::int))
    }
    /// Appends aggregate records of report `report` in bulk.
    fn insert_records(&mut self, report: i64, records: &[Record]) -> Result<(), StoreError>;
    /// Which SQL dialect this is.
    fn dialect(&self) -> Dialect;
    /// Whether a transaction is open (the engine may have ended one on an error).
    fn in_transaction(&self) -> bool {
        true
    }
    /// A transaction shared by several inputs was just committed, and more may follow.
    fn committed(&mut self) {}
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection string.
    Postgres(String),
}

impl DbUrl {
    /// Parses `sqlite:PATH`, `sqlite://PATH`, `postgres://...` or `postgresql://...`; a bare
    /// path is an SQLite file.
    pub fn parse(url: &str) -> Result<DbUrl, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DbUrl::Postgres(url.to_owned()));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Url(url.to_owned()));
            }
            return Ok(DbUrl::Sqlite(PathBuf::from(path)));
        }
        if url.contains("://") || url.is_empty() {
            return Err(StoreError::Url(url.to_owned()));
        }
        Ok(DbUrl::Sqlite(PathBuf::from(url)))
    }

    /// The default: `reports.sqlite3` under the user's data directory (`$XDG_DATA_HOME/inkan`
    /// on Linux).
    pub fn default_location() -> Result<DbUrl, StoreError> {
        let base = dirs::data_dir().ok_or_else(|| StoreError::Io {
            context: "finding the user's data directory (set XDG_DATA_HOME or use --db)".to_owned(),
            cause: std::sync::Arc::new(std::io::Error::from(std::io::ErrorKind::NotFound)),
        })?;
        Ok(DbUrl::Sqlite(base.join("inkan").join("reports.sqlite3")))
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbUrl::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            DbUrl::Postgres(url) => {
                // Never print the password, in the user part or as a parameter.
                let url = tls::without_password_parameter(url);
                // The user part ends at the last `@` before the query (which may hold an `@`
                // of its own), or at the last `@` when a password holds a `?`.
                let before_query = url.find('?').map_or(url.as_str(), |q| &url[..q]);
                let at = before_query.rfind('@').or_else(|| url.rfind('@'));
                match (url.find("://"), at) {
                    (Some(scheme), Some(at)) if at > scheme => {
                        let userinfo = &url[scheme + 3..at];
                        let user = userinfo.split(':').next().unwrap_or("");
                        write!(f, "{}{}@{}", &url[..scheme + 3], user, &url[at + 1..])
                    }
                    _ => f.write_str(&url),
                }
            }
        }
    }
}

/// An open, migrated report store.
pub struct Store {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) archiver: Archiver,
    /// The shared transaction of small inputs, while one is open.
    pub(crate) group: Option<crate::ingest::Group>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.backend.dialect())
            .finish()
    }
}

impl Store {
    /// Opens (creating when needed) and migrates the store at `url`.
    pub fn open(url: &DbUrl) -> Result<Store, StoreError> {
        let backend: Box<dyn Backend> = match url {
            DbUrl::Sqlite(path) => Box::new(sqlite::SqliteBackend::open(path)?),
            DbUrl::Postgres(conn) => Box::new(postgres::PostgresBackend::connect(conn, None)?),
        };
        let mut store = Store {
            backend,
            archiver: Archiver::default(),
            group: None,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Opens a PostgreSQL store whose tables live in `schema` (created when missing), so that
    /// several stores can share one database.
    pub fn open_postgres_schema(url: &str, schema: &str) -> Result<Store, StoreError> {
        let mut store = Store {
            backend: Box::new(postgres::PostgresBackend::connect(url, Some(schema))?),
            archiver: Archiver::default(),
            group: None,
        };
        store.migrate()?;
        Ok(store)
    }

    /// Opens an SQLite store at `path`.
    pub fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Store::open(&DbUrl::Sqlite(path.to_owned()))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        self.migrate_to(schema::CURRENT)
    }

    /// Migrates up to version `target` (the newest, but for tests of an upgrade).
    fn migrate_to(&mut self, target: i64) -> Result<(), StoreError> {
        let dialect = self.backend.dialect();
        self.backend
            .batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")?;
        loop {
            self.backend.batch("BEGIN")?;
            let found = self
                .backend
                .query("SELECT MAX(version) FROM schema_version", &[])?
                .first()
                .and_then(|row| row.first())
                .map_or(0, Value::int);
            if found > schema::CURRENT {
                self.backend.batch("ROLLBACK")?;
                return Err(StoreError::SchemaTooNew {
                    found,
                    supported: schema::CURRENT,
                });
            }
            let Some(ddl) = schema::migration(found + 1, dialect).filter(|_| found < target) else {
                self.backend.batch("COMMIT")?;
                return Ok(());
            };
            let step = self.backend.batch(&ddl).and_then(|()| {
                self.backend.execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[Value::Int(found + 1)],
                )
            });
            match step {
                Ok(_) => self.backend.batch("COMMIT")?,
                Err(err) => {
                    self.backend.batch("ROLLBACK")?;
                    return Err(err);
                }
            }
        }
    }

    /// The schema version reached.
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .backend
            .query("SELECT MAX(version) FROM schema_version", &[])?
            .first()
            .and_then(|r| r.first())
            .map_or(0, Value::int))
    }

    /// Runs a read-only query (for summaries and tests).
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        self.backend.query(sql, params)
    }

    /// Runs one query, handing each row to `each` as it is read (see [`Backend::query_each`]).
    pub fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&[Value]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.backend.query_each(sql, params, each)
    }

    /// One integer from a query (`COUNT(*)` and the like).
    pub fn count(&mut self, sql: &str) -> Result<i64, StoreError> {
        Ok(self
            .backend
            .query(sql, &[])?
            .first()
            .and_then(|r| r.first())
            .map_or(0, Value::int))
    }

    /// Inputs that failed to parse, oldest first.
    pub fn errors(&mut self) -> Result<Vec<StoredError>, StoreError> {
        let rows = self.backend.query(
            "SELECT e.path, e.location, e.error, e.created_at, i.sha256 FROM ingest_errors e \
             JOIN inputs i ON i.id = e.input_id ORDER BY e.id",
            &[],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| StoredError {
                path: r[0].text().unwrap_or_default().to_owned(),
                location: r[1].text().unwrap_or_default().to_owned(),
                error: r[2].text().unwrap_or_default().to_owned(),
                created_at: r[3].int(),
                sha256: r[4].text().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// The original bytes of the archived input with this SHA-256, if stored.
    pub fn archived(&mut self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let rows = self.backend.query(
            "SELECT c.data FROM input_chunks c JOIN inputs i ON i.id = c.input_id \
             WHERE i.sha256 = $1 ORDER BY c.seq",
            &[Value::from(sha256)],
        )?;
        if rows.is_empty() {
            let exists = self.backend.query(
                "SELECT id FROM inputs WHERE sha256 = $1",
                &[Value::from(sha256)],
            )?;
            return Ok(if exists.is_empty() {
                None
            } else {
                Some(Vec::new())
            });
        }
        let mut compressed = Vec::new();
        for row in rows {
            if let Some(Value::Blob(data)) = row.into_iter().next() {
                compressed.extend_from_slice(&data);
            }
        }
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut out)
            .map_err(|e| StoreError::Io {
                context: "decompressing the archived input".to_owned(),
                cause: std::sync::Arc::new(e),
            })?;
        Ok(Some(out))
    }
}

/// An input that failed to parse, as kept in the store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredError {
    /// The file as given to `ingest`.
    pub path: String,
    /// Where inside it (`message 3/report.xml.gz`), empty for the file itself.
    pub location: String,
    /// What was wrong.
    pub error: String,
    /// When it was ingested, seconds since the epoch.
    pub created_at: i64,
    /// SHA-256 of the archived input.
    pub sha256: String,
}

/// The columns of `aggregate_records` after `report_id`, in order.
pub(crate) const RECORD_COLUMNS: &str = "report_id, source_ip, count, disposition, dkim_aligned, spf_aligned, \
    header_from, envelope_from, envelope_to, dkim_domain, dkim_selector, dkim_result, spf_domain, spf_scope, \
    spf_result, reason_type, reason_comment, extra";

/// Number of columns in [`RECORD_COLUMNS`].
pub(crate) const RECORD_WIDTH: usize = 18;

/// What does not fit the flat columns of a record: second and later DKIM/SPF results and
/// reasons, and unknown elements, as JSON; `None` when there is nothing.
pub(crate) fn record_extra(record: &Record) -> Option<String> {
    if record.dkim.len() <= 1
        && record.spf.len() <= 1
        && record.reasons.len() <= 1
        && record.extra.is_empty()
    {
        return None;
    }
    let mut map = serde_json::Map::new();
    if record.dkim.len() > 1 {
        map.insert(
            "dkim".into(),
            serde_json::to_value(&record.dkim[1..]).unwrap_or_default(),
        );
    }
    if record.spf.len() > 1 {
        map.insert(
            "spf".into(),
            serde_json::to_value(&record.spf[1..]).unwrap_or_default(),
        );
    }
    if record.reasons.len() > 1 {
        map.insert(
            "reasons".into(),
            serde_json::to_value(&record.reasons[1..]).unwrap_or_default(),
        );
    }
    if !record.extra.is_empty() {
        let extra: serde_json::Map<String, serde_json::Value> = record
            .extra
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect();
        map.insert("elements".into(), serde_json::Value::Object(extra));
    }
    Some(serde_json::Value::Object(map).to_string())
}

/// The text columns of one record after `count`, in [`RECORD_COLUMNS`] order.
pub(crate) fn record_texts(record: &Record) -> [Option<&str>; 14] {
    let dkim = record.dkim.first();
    let spf = record.spf.first();
    let reason = record.reasons.first();
    [
        record.disposition.as_deref(),
        record.dkim_aligned.as_deref(),
        record.spf_aligned.as_deref(),
        record.header_from.as_deref(),
        record.envelope_from.as_deref(),
        record.envelope_to.as_deref(),
        dkim.map(|d| d.domain.as_str()),
        dkim.and_then(|d| d.selector.as_deref()),
        dkim.map(|d| d.result.as_str()),
        spf.map(|s| s.domain.as_str()),
        spf.and_then(|s| s.scope.as_deref()),
        spf.map(|s| s.result.as_str()),
        reason.map(|r| r.kind.as_str()),
        reason.and_then(|r| r.comment.as_deref()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at schema version 1 (reports unique on kind, organisation and id) upgrades
    /// to version 2 with its reports kept and their periods filled in, so that re-ingesting a
    /// report stored before the upgrade is still a duplicate, while a report that reuses its
    /// id for another day is stored. On both backends.
    #[test]
    fn version_1_databases_upgrade_and_keep_telling_reports_apart() {
        let dir = tempfile::tempdir().unwrap();
        let url = std::env::var("INKAN_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://inkan:inkan@127.0.0.1:5432/inkan_test".to_owned());
        let schema = format!("t_upgrade_{}", std::process::id());
        let pg = postgres::PostgresBackend::connect(&url, Some(&schema))
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} is unreachable ({e}): run .ci/setup"));
        let sqlite = sqlite::SqliteBackend::open(&dir.path().join("v1.sqlite3")).unwrap();
        let fixture = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/rfc7489.xml"
        ))
        .unwrap();
        let same = dir.path().join("same.xml");
        std::fs::write(&same, &fixture).unwrap();
        let next_day = dir.path().join("next-day.xml");
        let moved = fixture
            .replace("<begin>1795651200<", "<begin>1795737600<")
            .replace("<end>1795737599<", "<end>1795823999<");
        std::fs::write(&next_day, moved).unwrap();
        let backends: [Box<dyn Backend>; 2] = [Box::new(sqlite), Box::new(pg)];
        for backend in backends {
            let dialect = backend.dialect();
            let mut store = Store {
                backend,
                archiver: Archiver::default(),
                group: None,
            };
            store.migrate_to(1).unwrap();
            store
                .backend
                .batch(
                    "INSERT INTO inputs (sha256, path, size, ingested_at) VALUES ('old', 'old.xml', 1, 0); \
                     INSERT INTO reports (kind, org_name, report_id, input_id, location, domain, date_begin, date_end) \
                     SELECT 'aggregate', 'mailbox.example', '7489.424242', id, '', 'sender.example', 1795651200, 1795737599 FROM inputs; \
                     INSERT INTO reports (kind, org_name, report_id, input_id, location) \
                     SELECT 'tls', 'Receiver Org', 'tls-1', id, '' FROM inputs",
                )
                .unwrap();
            store.migrate().unwrap();
            assert_eq!(
                store.schema_version().unwrap(),
                schema::CURRENT,
                "{dialect:?}"
            );
            let periods = store
                .query("SELECT kind, period FROM reports ORDER BY kind", &[])
                .unwrap();
            let periods: Vec<(String, String)> = periods
                .iter()
                .map(|r| {
                    (
                        r[0].text().unwrap().to_owned(),
                        r[1].text().unwrap().to_owned(),
                    )
                })
                .collect();
            assert_eq!(
                periods,
                [
                    (
                        "aggregate".to_owned(),
                        "sender.example|1795651200|1795737599".to_owned()
                    ),
                    ("tls".to_owned(), String::new()),
                ],
                "{dialect:?}"
            );
            let limits = crate::limits::Limits::default();
            let again = store.ingest_file(&same, &limits, 1).unwrap();
            assert_eq!((again.reports, again.duplicates), (0, 1), "{dialect:?}");
            let other_day = store.ingest_file(&next_day, &limits, 1).unwrap();
            assert_eq!(
                (other_day.reports, other_day.duplicates),
                (1, 0),
                "{dialect:?}"
            );
        }
        if let Ok(mut client) = ::postgres::Client::connect(&url, ::postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}
