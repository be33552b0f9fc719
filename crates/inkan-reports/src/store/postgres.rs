//! The PostgreSQL backend (the synchronous `postgres` client; callers inside an async runtime
//! run it on a blocking thread). Statements are prepared once per connection; records are
//! appended with `COPY ... FROM STDIN`. TLS and libpq's `ssl*` URL parameters: [`super::tls`].

use std::collections::HashMap;
use std::io::Write;

use bytes::BytesMut;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};

use super::schema::Dialect;
use super::{Backend, RECORD_COLUMNS, Value, record_extra, record_texts};
use crate::aggregate::Record;
use crate::error::StoreError;

pub(crate) struct PostgresBackend {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT2 => i16::try_from(*v)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*v)?.to_sql(ty, out),
                _ => v.to_sql(ty, out),
            },
            Value::Text(v) => v.as_str().to_sql(ty, out),
            Value::Blob(v) => v.as_slice().to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn is_valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 60
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

impl PostgresBackend {
    pub(crate) fn connect(url: &str, schema: Option<&str>) -> Result<PostgresBackend, StoreError> {
        let mut client = super::tls::connect(url)?;
        client.batch_execute("SET client_min_messages = WARNING")?;
        if let Some(schema) = schema {
            if !is_valid_schema(schema) {
                let shown = super::DbUrl::Postgres(url.to_owned());
                return Err(StoreError::Url(format!("{shown} (schema '{schema}')")));
            }
            client.batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
            ))?;
        }
        Ok(PostgresBackend {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Appends `text` to a COPY text-format line, escaped.
fn copy_field(line: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else {
        line.extend_from_slice(b"\\N");
        return;
    };
    for byte in text.bytes() {
        match byte {
            b'\\' => line.extend_from_slice(b"\\\\"),
            b'\t' => line.extend_from_slice(b"\\t"),
            b'\n' => line.extend_from_slice(b"\\n"),
            b'\r' => line.extend_from_slice(b"\\r"),
            0 => {}
            other => line.push(other),
        }
    }
}

impl Backend for PostgresBackend {
    fn batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.client.batch_execute(sql)?)
    }

    fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        Ok(self.client.execute(&stmt, &params(values))?)
    }

    fn query_each(
        &mut self,
        sql: &str,
        values: &[Value],
        each: &mut dyn FnMut(&[Value]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let stmt = self.statement(sql)?;
        let mut rows = self.client.query_raw(&stmt, params(values))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.clear();
            for (i, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                out.push(if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(i)?
                        .map_or(Value::Null, Value::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(i)?
                        .map_or(Value::Null, |v| Value::Int(v.into()))
                } else if *ty == Type::INT2 {
                    row.try_get::<_, Option<i16>>(i)?
                        .map_or(Value::Null, |v| Value::Int(v.into()))
                } else if *ty == Type::BYTEA {
                    row.try_get::<_, Option<Vec<u8>>>(i)?
                        .map_or(Value::Null, Value::Blob)
                } else if *ty == Type::FLOAT8 {
                    row.try_get::<_, Option<f64>>(i)?
                        .map_or(Value::Null, |v| Value::Int(v as i64))
                } else {
                    row.try_get::<_, Option<String>>(i)?
                        .map_or(Value::Null, Value::Text)
                });
            }
            each(&out)?;
        }
        Ok(())
    }

    fn insert_records(&mut self, report: i64, records: &[Record]) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut data = Vec::with_capacity(records.len() * 160);
        let report = report.to_string();
        for record in records {
            data.extend_from_slice(report.as_bytes());
            data.push(b'\t');
            copy_field(&mut data, Some(&record.source_ip));
            data.push(b'\t');
            data.extend_from_slice(record.count.to_string().as_bytes());
            for text in record_texts(record) {
                data.push(b'\t');
                copy_field(&mut data, text);
            }
            data.push(b'\t');
            copy_field(&mut data, record_extra(record).as_deref());
            data.push(b'\n');
        }
        let mut writer = self.client.copy_in(&format!(
            "COPY aggregate_records ({RECORD_COLUMNS}) FROM STDIN"
        ))?;
        writer.write_all(&data).map_err(|e| StoreError::Io {
            context: "sending records to PostgreSQL".to_owned(),
            cause: std::sync::Arc::new(e),
        })?;
        writer.finish()?;
        Ok(())
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}
