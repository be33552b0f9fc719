//! The SQLite backend (rusqlite, bundled SQLite): WAL journal with `synchronous=NORMAL`, cached
//! prepared statements, records appended one row per step of one prepared INSERT, and the
//! WAL checkpointed on a helper thread after each shared transaction's commit.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::schema::Dialect;
use super::{Backend, RECORD_COLUMNS, RECORD_WIDTH, Value, record_extra, record_texts};
use crate::aggregate::Record;
use crate::error::StoreError;

pub(crate) struct SqliteBackend {
    conn: Connection,
    /// The record INSERT, built once.
    record_sql: String,
    path: PathBuf,
    /// Started at the first shared commit.
    checkpointer: Option<Checkpointer>,
}

/// A thread with a connection of its own that copies the WAL into the database (`PRAGMA
/// wal_checkpoint(PASSIVE)`: it never blocks the writer) each time it is told a transaction
/// was committed. Without it, the whole WAL of a run was copied, and the two files synced,
/// when the connection closed: 30-50 ms with nothing else left to do at the end of an
/// ingest of thousands of small files. With it, closing copies and syncs only what the last
/// transactions wrote. Durability is the same: a commit does what it did before, the close
/// still checkpoints (and removes) the WAL, and a checkpoint that fails here (the database
/// busy, say) only leaves more for the next one or for the close.
struct Checkpointer {
    wake: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl Checkpointer {
    fn start(path: &Path) -> Option<Checkpointer> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        let (wake, woken) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("inkan-checkpoint".to_owned())
            .spawn(move || {
                while woken.recv().is_ok() {
                    // Commits made while the last checkpoint ran are all in this one.
                    while woken.try_recv().is_ok() {}
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok()?;
        Some(Checkpointer { wake, thread })
    }
}

impl Drop for SqliteBackend {
    /// Stops the checkpointing thread (and closes its connection) first, so that the main
    /// connection closes last and checkpoints what is left.
    fn drop(&mut self) {
        if let Some(Checkpointer { wake, thread }) = self.checkpointer.take() {
            drop(wake);
            let _ = thread.join();
        }
    }
}

impl SqliteBackend {
    pub(crate) fn open(path: &Path) -> Result<SqliteBackend, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                context: format!("creating the database directory '{}'", dir.display()),
                cause: std::sync::Arc::new(e),
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // Checkpoints once the WAL holds 10,000 pages (40 MB) rather than SQLite's 1,000: a
        // checkpoint copies the WAL into the database and waits for two fsyncs (15 ms here),
        // and an ingest of thousands of small files met one at every commit of its shared
        // transaction. Closing the connection still checkpoints (and removes) the WAL.
        // `synchronous` comes first: switching a new database to WAL writes its header in a
        // rollback-journal transaction, which syncs one time fewer at NORMAL than at FULL.
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = 10000;",
        )?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteBackend {
            conn,
            record_sql: record_sql(),
            path: path.to_owned(),
            checkpointer: None,
        })
    }
}

fn bind(stmt: &mut rusqlite::CachedStatement<'_>, params: &[Value]) -> Result<(), StoreError> {
    for (i, value) in params.iter().enumerate() {
        match value {
            Value::Null => stmt.raw_bind_parameter(i + 1, rusqlite::types::Null)?,
            Value::Int(v) => stmt.raw_bind_parameter(i + 1, v)?,
            Value::Text(v) => stmt.raw_bind_parameter(i + 1, v.as_str())?,
            Value::Blob(v) => stmt.raw_bind_parameter(i + 1, v.as_slice())?,
        }
    }
    Ok(())
}

/// The INSERT of one record, parameters in [`RECORD_COLUMNS`] order.
fn record_sql() -> String {
    let marks = vec!["?"; RECORD_WIDTH].join(",");
    format!("INSERT INTO aggregate_records ({RECORD_COLUMNS}) VALUES ({marks})")
}

/// The values of one record's text columns, as last bound.
type Bound<'r> = ([Option<&'r str>; 14], Option<String>);

/// Binds one record and runs the INSERT. Parameter 1 (the report) is bound by the caller;
/// a text column holding the same value as in `last` (the record inserted before with this
/// statement) is not bound again: SQLite keeps bindings across runs of a statement, and
/// binding a string copies it into a fresh allocation and frees the one before. Within a
/// report most of them repeat (domains, selector, scope, results).
fn insert_record<'r>(
    stmt: &mut rusqlite::CachedStatement<'_>,
    record: &'r Record,
    last: Option<&Bound<'r>>,
) -> Result<Bound<'r>, StoreError> {
    stmt.raw_bind_parameter(2, record.source_ip.as_str())?;
    stmt.raw_bind_parameter(3, record.count)?;
    let texts = record_texts(record);
    for (offset, text) in texts.iter().enumerate() {
        if last.is_none_or(|(before, _)| before[offset] != *text) {
            stmt.raw_bind_parameter(4 + offset, text)?;
        }
    }
    let extra = record_extra(record);
    if last.is_none_or(|(_, before)| *before != extra) {
        stmt.raw_bind_parameter(RECORD_WIDTH, &extra)?;
    }
    stmt.raw_execute()?;
    Ok((texts, extra))
}

impl Backend for SqliteBackend {
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn control(&mut self, sql: &str) -> Result<(), StoreError> {
        self.conn.prepare_cached(sql)?.raw_execute()?;
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        bind(&mut stmt, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn query_each(
        &mut self,
        sql: &str,
        params: &[Value],
        each: &mut dyn FnMut(&[Value]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        bind(&mut stmt, params)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut values = Vec::with_capacity(width);
        while let Some(row) = rows.next()? {
            values.clear();
            for i in 0..width {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                });
            }
            each(&values)?;
        }
        Ok(())
    }

    /// Without `RETURNING`: SQLite runs a statement with one through an ephemeral table (a
    /// B-tree and page cache of its own, created and destroyed each time), which cost more
    /// than the insert; the count of changed rows and the connection's last rowid say the
    /// same.
    fn insert_id(&mut self, sql: &str, params: &[Value]) -> Result<Option<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        bind(&mut stmt, params)?;
        if stmt.raw_execute()? == 0 {
            return Ok(None);
        }
        Ok(Some(self.conn.last_insert_rowid()))
    }

    fn insert_records(&mut self, report: i64, records: &[Record]) -> Result<(), StoreError> {
        // One row per step of one prepared statement, not multi-row INSERTs: SQLite frees a
        // bound value's copy when the parameter is bound again or cleared, so the 900 values
        // of a 50-row statement went through malloc each time, while the 18 of one row come
        // from the connection's lookaside slots.
        if records.is_empty() {
            return Ok(());
        }
        // A statement taken from the cache has its bindings cleared: the first record binds
        // every parameter.
        let mut stmt = self.conn.prepare_cached(&self.record_sql)?;
        stmt.raw_bind_parameter(1, report)?;
        let mut last = None;
        for record in records {
            last = Some(insert_record(&mut stmt, record, last.as_ref())?);
        }
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn committed(&mut self) {
        if self.checkpointer.is_none() {
            self.checkpointer = Checkpointer::start(&self.path);
        }
        if let Some(checkpointer) = &self.checkpointer {
            let _ = checkpointer.wake.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::DkimAuth;

    fn record(ip: &str, disposition: Option<&str>, dkim: Option<&str>, extra: bool) -> Record {
        Record {
            source_ip: ip.to_owned(),
            count: 1,
            disposition: disposition.map(str::to_owned),
            dkim: dkim
                .map(|domain| DkimAuth {
                    domain: domain.to_owned(),
                    result: "pass".to_owned(),
                    ..DkimAuth::default()
                })
                .into_iter()
                .collect(),
            extra: if extra {
                vec![("note".to_owned(), ip.to_owned())]
            } else {
                Vec::new()
            },
            ..Record::default()
        }
    }

    /// Values that repeat are bound once, values that change (to another value, to NULL and
    /// back) are bound again, and a second call (the statement back from the cache, its
    /// bindings cleared) binds everything anew.
    #[test]
    fn records_store_every_value_when_binding_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = SqliteBackend::open(&dir.path().join("r.db")).unwrap();
        db.batch(&super::super::schema::migration(1, Dialect::Sqlite).unwrap())
            .unwrap();
        let first = [
            record("192.0.2.1", Some("none"), Some("a.example"), false),
            record("192.0.2.2", Some("none"), Some("a.example"), true),
            record("192.0.2.3", None, Some("b.example"), true),
            record("192.0.2.4", Some("reject"), None, false),
            record("192.0.2.5", Some("reject"), None, false),
        ];
        db.insert_records(7, &first).unwrap();
        db.insert_records(8, &first[4..]).unwrap();
        let rows = db
            .query(
                "SELECT report_id, source_ip, disposition, dkim_domain, dkim_result, extra \
                 FROM aggregate_records ORDER BY rowid",
                &[],
            )
            .unwrap();
        let text = |v: &Value| v.text().map(str::to_owned);
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r[0].int(),
                    text(&r[1]),
                    text(&r[2]),
                    text(&r[3]),
                    text(&r[4]),
                    text(&r[5]),
                )
            })
            .collect();
        let s = |v: &str| Some(v.to_owned());
        assert_eq!(
            got,
            [
                (
                    7,
                    s("192.0.2.1"),
                    s("none"),
                    s("a.example"),
                    s("pass"),
                    None
                ),
                (
                    7,
                    s("192.0.2.2"),
                    s("none"),
                    s("a.example"),
                    s("pass"),
                    s(r#"{"elements":{"note":"192.0.2.2"}}"#)
                ),
                (
                    7,
                    s("192.0.2.3"),
                    None,
                    s("b.example"),
                    s("pass"),
                    s(r#"{"elements":{"note":"192.0.2.3"}}"#)
                ),
                (7, s("192.0.2.4"), s("reject"), None, None, None),
                (7, s("192.0.2.5"), s("reject"), None, None, None),
                (8, s("192.0.2.5"), s("reject"), None, None, None),
            ]
        );
    }
}
