//! The SQLite backend (rusqlite, bundled SQLite): WAL journal with `synchronous=NORMAL`, cached
//! prepared statements, and records appended one row per step of one prepared INSERT.

use std::path::Path;

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
}

impl SqliteBackend {
    pub(crate) fn open(path: &Path) -> Result<SqliteBackend, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Io {
                context: format!("creating the database directory '{}'", dir.display()),
                source: std::sync::Arc::new(e),
            })?;
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;",
        )?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(SqliteBackend {
            conn,
            record_sql: record_sql(),
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

/// Binds one record (all [`RECORD_WIDTH`] parameters) and runs the INSERT.
fn insert_record(
    stmt: &mut rusqlite::CachedStatement<'_>,
    report: i64,
    record: &Record,
) -> Result<(), StoreError> {
    stmt.raw_bind_parameter(1, report)?;
    stmt.raw_bind_parameter(2, record.source_ip.as_str())?;
    stmt.raw_bind_parameter(3, record.count)?;
    for (offset, text) in record_texts(record).into_iter().enumerate() {
        stmt.raw_bind_parameter(4 + offset, text)?;
    }
    stmt.raw_bind_parameter(RECORD_WIDTH, record_extra(record))?;
    stmt.raw_execute()?;
    Ok(())
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

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Vec<Value>>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        bind(&mut stmt, params)?;
        let width = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(match row.get_ref(i)? {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(v) => Value::Int(v),
                    ValueRef::Real(v) => Value::Int(v as i64),
                    ValueRef::Text(v) => Value::Text(String::from_utf8_lossy(v).into_owned()),
                    ValueRef::Blob(v) => Value::Blob(v.to_vec()),
                });
            }
            out.push(values);
        }
        Ok(out)
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
        let mut stmt = self.conn.prepare_cached(&self.record_sql)?;
        for record in records {
            insert_record(&mut stmt, report, record)?;
        }
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }
}
