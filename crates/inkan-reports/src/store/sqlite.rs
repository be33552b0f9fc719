//! The SQLite backend (rusqlite, bundled SQLite): WAL journal with `synchronous=NORMAL`, cached
//! prepared statements, and records appended with multi-row INSERTs.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::schema::Dialect;
use super::{Backend, RECORD_COLUMNS, RECORD_WIDTH, Value, record_extra, record_texts};
use crate::aggregate::Record;
use crate::error::StoreError;

/// Records per multi-row INSERT.
const BATCH: usize = 50;

pub(crate) struct SqliteBackend {
    conn: Connection,
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
        Ok(SqliteBackend { conn })
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

fn record_sql(rows: usize) -> String {
    let one = format!("({})", vec!["?"; RECORD_WIDTH].join(","));
    format!(
        "INSERT INTO aggregate_records ({RECORD_COLUMNS}) VALUES {}",
        vec![one; rows].join(",")
    )
}

fn bind_records(
    stmt: &mut rusqlite::CachedStatement<'_>,
    report: i64,
    records: &[Record],
) -> Result<(), StoreError> {
    let mut index = 1;
    for record in records {
        stmt.raw_bind_parameter(index, report)?;
        stmt.raw_bind_parameter(index + 1, record.source_ip.as_str())?;
        stmt.raw_bind_parameter(index + 2, record.count)?;
        for (offset, text) in record_texts(record).into_iter().enumerate() {
            stmt.raw_bind_parameter(index + 3 + offset, text)?;
        }
        stmt.raw_bind_parameter(index + 17, record_extra(record))?;
        index += RECORD_WIDTH;
    }
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

    fn insert_records(&mut self, report: i64, records: &[Record]) -> Result<(), StoreError> {
        // One statement for all the full chunks: rebinding reuses the buffers of the values
        // bound before, while handing the statement back to the cache frees them all.
        let full = records.len() - records.len() % BATCH;
        if full > 0 {
            let mut stmt = self.conn.prepare_cached(&record_sql(BATCH))?;
            for chunk in records[..full].chunks(BATCH) {
                bind_records(&mut stmt, report, chunk)?;
                stmt.raw_execute()?;
            }
        }
        if full < records.len() {
            let rest = &records[full..];
            let mut stmt = self.conn.prepare_cached(&record_sql(rest.len()))?;
            bind_records(&mut stmt, report, rest)?;
            stmt.raw_execute()?;
        }
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}
