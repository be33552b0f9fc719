//! The SQLite backend (rusqlite, bundled SQLite): WAL journal with `synchronous=NORMAL`, cached
//! prepared statements, records appended one row per step of one prepared INSERT under a key
//! made of their report and place in it (schema version 3), and the WAL checkpointed on a
//! helper thread after each shared transaction's commit.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::schema::{Dialect, RECORD_KEY_SPAN};
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
    /// The report whose records were stored last, and the place of its next record: a large
    /// report's records come in several batches.
    next_place: (i64, i64),
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
        // Checkpoints once the WAL holds 40 MB (10,000 pages of 4 KiB) rather than SQLite's
        // 1,000 pages: a checkpoint copies the WAL into the database and waits for two
        // fsyncs (15 ms here), and an ingest of thousands of small files met one at every
        // commit of its shared transaction. Closing the connection still checkpoints (and
        // removes) the WAL.
        // `synchronous` comes first: switching a new database to WAL writes its header in a
        // rollback-journal transaction, which syncs one time fewer at NORMAL than at FULL.
        // A new database gets pages of 16 KiB instead of 4 KiB (an existing one keeps its
        // own): appending records and archive chunks then splits pages, writes WAL frames
        // and copies them in checkpoints a quarter as often (5% less CPU for the small set,
        // measured; `bench/reports/README.md`).
        conn.execute_batch(
            "PRAGMA page_size = 16384; PRAGMA synchronous = NORMAL; PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )?;
        let page: i64 = conn.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        conn.execute_batch(&format!(
            "PRAGMA wal_autocheckpoint = {};",
            (40 << 20) / page.max(512)
        ))?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteBackend {
            conn,
            record_sql: record_sql(),
            path: path.to_owned(),
            checkpointer: None,
            next_place: (0, 0),
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

/// The INSERT of one record, parameters in [`RECORD_COLUMNS`] order, then its key.
fn record_sql() -> String {
    let marks = vec!["?"; RECORD_WIDTH + 1].join(",");
    format!("INSERT INTO aggregate_records ({RECORD_COLUMNS}, id) VALUES ({marks})")
}

/// The values of one record's text columns, as last bound.
type Bound<'r> = ([Option<&'r str>; 14], Option<String>);

/// Binds one record and runs the INSERT. Parameter 1 (the report) and the key are bound by
/// the caller;
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
        // The key: the report, then the record's place in it, counted on from the batch
        // before when it was of the same report.
        let first = match self.next_place {
            (last, next) if last == report => next,
            _ => 0,
        };
        let count = i64::try_from(records.len()).unwrap_or(i64::MAX);
        let next = first.saturating_add(count);
        if next > RECORD_KEY_SPAN {
            return Err(StoreError::TooManyRecords {
                limit: RECORD_KEY_SPAN,
            });
        }
        // A statement taken from the cache has its bindings cleared: the first record binds
        // every parameter.
        let mut stmt = self.conn.prepare_cached(&self.record_sql)?;
        stmt.raw_bind_parameter(1, report)?;
        let base = report.saturating_mul(RECORD_KEY_SPAN);
        // The first record gets its key; the next ones a NULL key, which SQLite turns into
        // the table's greatest key plus one without searching the table for it (an explicit
        // key is looked up first, to refuse a duplicate: a fifth of the work per record).
        // That is the right key as long as no record of a report with a greater id is stored
        // (reports get increasing ids), which is checked after each record: one that got
        // another key is moved to its own, and the rest get theirs bound.
        let mut following = false;
        let mut last = None;
        for (place, record) in (first..).zip(records) {
            let key = base + place;
            if !following {
                stmt.raw_bind_parameter(RECORD_WIDTH + 1, key)?;
            }
            last = Some(insert_record(&mut stmt, record, last.as_ref())?);
            let got = self.conn.last_insert_rowid();
            if got != key {
                self.conn.execute(
                    "UPDATE aggregate_records SET id = ?1 WHERE id = ?2",
                    (key, got),
                )?;
                following = false;
            } else if !following && place == first {
                stmt.raw_bind_parameter(RECORD_WIDTH + 1, rusqlite::types::Null)?;
                following = true;
            }
        }
        self.next_place = (report, next);
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

    /// A database migrated up to `version`.
    fn migrated(path: &Path, version: i64) -> SqliteBackend {
        let mut db = SqliteBackend::open(path).unwrap();
        for step in 1..=version {
            db.batch(&super::super::schema::migration(step, Dialect::Sqlite).unwrap())
                .unwrap();
        }
        db
    }

    /// Values that repeat are bound once, values that change (to another value, to NULL and
    /// back) are bound again, and a second call (the statement back from the cache, its
    /// bindings cleared) binds everything anew.
    #[test]
    fn records_store_every_value_when_binding_only_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = migrated(&dir.path().join("r.db"), super::super::schema::CURRENT);
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

    /// The ids of report `report`'s records, in key order, as (report, place).
    fn keys(db: &mut SqliteBackend) -> Vec<(i64, i64, String)> {
        db.query(
            "SELECT id, report_id, source_ip FROM aggregate_records ORDER BY id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].int() / RECORD_KEY_SPAN,
                r[0].int() % RECORD_KEY_SPAN,
                r[2].text().unwrap().to_owned(),
            )
        })
        .collect()
    }

    /// Records are keyed by report and place: the batches of one report count on, another
    /// report starts at 0, and the records of one report are exactly its key range (what
    /// deleting a report and the summaries select).
    #[test]
    fn records_are_keyed_by_report_and_place() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = migrated(&dir.path().join("k.db"), super::super::schema::CURRENT);
        let batch = |ips: &[&str]| -> Vec<Record> {
            ips.iter().map(|ip| record(ip, None, None, false)).collect()
        };
        db.insert_records(7, &batch(&["192.0.2.1", "192.0.2.2"]))
            .unwrap();
        db.insert_records(7, &batch(&["192.0.2.3"])).unwrap();
        db.insert_records(8, &batch(&["192.0.2.4"])).unwrap();
        // Report 6 comes after 7 and 8: its records cannot take the key after the table's last.
        db.insert_records(6, &batch(&["192.0.2.5", "192.0.2.6", "192.0.2.7"]))
            .unwrap();
        let s = |v: &str| v.to_owned();
        assert_eq!(
            keys(&mut db),
            [
                (6, 0, s("192.0.2.5")),
                (6, 1, s("192.0.2.6")),
                (6, 2, s("192.0.2.7")),
                (7, 0, s("192.0.2.1")),
                (7, 1, s("192.0.2.2")),
                (7, 2, s("192.0.2.3")),
                (8, 0, s("192.0.2.4")),
            ]
        );
        let of_seven = format!(
            "SELECT source_ip FROM aggregate_records WHERE {} ORDER BY id",
            super::super::schema::records_of(Dialect::Sqlite, "aggregate_records", "$1")
        );
        let seven: Vec<_> = db
            .query(&of_seven, &[Value::Int(7)])
            .unwrap()
            .iter()
            .map(|r| r[0].text().unwrap().to_owned())
            .collect();
        assert_eq!(seven, ["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
        let ids = db
            .query("SELECT report_id FROM aggregate_records ORDER BY id", &[])
            .unwrap();
        let ids: Vec<i64> = ids.iter().map(|r| r[0].int()).collect();
        assert_eq!(ids, [6, 6, 6, 7, 7, 7, 8]);
    }

    /// Version 3 keys the records of a version 2 database by report and place in the order
    /// they were stored, whatever order the reports' records were stored in, and drops the
    /// index on `report_id`.
    #[test]
    fn version_3_keys_stored_records_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut db = migrated(&dir.path().join("v2.db"), 2);
        for (report, ip) in [
            (5, "192.0.2.1"),
            (3, "192.0.2.2"),
            (5, "192.0.2.3"),
            (3, "192.0.2.4"),
            (5, "192.0.2.5"),
        ] {
            db.execute(
                "INSERT INTO aggregate_records (report_id, source_ip, count, extra) \
                 VALUES ($1, $2, 1, $2)",
                &[Value::Int(report), ip.into()],
            )
            .unwrap();
        }
        db.batch(&super::super::schema::migration(3, Dialect::Sqlite).unwrap())
            .unwrap();
        let s = |v: &str| v.to_owned();
        assert_eq!(
            keys(&mut db),
            [
                (3, 0, s("192.0.2.2")),
                (3, 1, s("192.0.2.4")),
                (5, 0, s("192.0.2.1")),
                (5, 1, s("192.0.2.3")),
                (5, 2, s("192.0.2.5")),
            ]
        );
        let extra = db
            .query(
                "SELECT extra, count FROM aggregate_records ORDER BY id",
                &[],
            )
            .unwrap();
        assert_eq!(extra[0], [Value::from("192.0.2.2"), Value::Int(1)]);
        let indexes = db
            .query(
                "SELECT name FROM sqlite_master WHERE type = 'index' \
                 AND tbl_name = 'aggregate_records'",
                &[],
            )
            .unwrap();
        assert!(indexes.is_empty(), "{indexes:?}");
        // Records stored after the upgrade get keys after those of earlier reports.
        db.insert_records(6, &[record("192.0.2.6", None, None, false)])
            .unwrap();
        assert_eq!(keys(&mut db).last(), Some(&(6, 0, s("192.0.2.6"))));
    }
}
