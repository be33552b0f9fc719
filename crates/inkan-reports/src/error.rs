//! Errors of the report parsers and the store. A parse error names what was wrong and where;
//! a store error keeps the database driver's error whole.

use std::sync::Arc;

/// Why one report (or one container around reports) could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The XML is not well-formed.
    #[error("malformed xml at byte {position}: {detail}")]
    Xml {
        /// Byte offset in the (decompressed) document.
        position: u64,
        /// What the XML reader said.
        detail: String,
    },
    /// A `<!DOCTYPE>` declares entities: refused so that no expansion (billion laughs) or
    /// external entity (XXE) can happen.
    #[error("document type declaration with entities refused: '{0}'")]
    EntityDeclaration(String),
    /// Elements are nested deeper than the limit.
    #[error("xml nested deeper than {limit} elements at <{element}>")]
    TooDeep {
        /// The depth limit.
        limit: usize,
        /// The element that went past it.
        element: String,
    },
    /// One element holds more text or children than the limit.
    #[error("element <{element}> larger than {limit} bytes")]
    ElementTooLarge {
        /// The element.
        element: String,
        /// The size limit.
        limit: usize,
    },
    /// A required element is missing.
    #[error("missing required element <{0}>")]
    Missing(&'static str),
    /// The root element is not a DMARC aggregate report.
    #[error("root element <{0}> is not <feedback>")]
    NotAggregate(String),
    /// The document ended before the report did.
    #[error("document ended inside <{0}> (truncated report?)")]
    Truncated(String),
    /// Decompressed data grew past the limit (gzip or zip bomb?).
    #[error("decompressed size exceeds the limit of {limit} bytes in {what} (compression bomb?)")]
    TooLarge {
        /// Which container.
        what: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A zip archive lists more entries than the limit.
    #[error("zip archive has {count} entries, more than the limit of {limit}")]
    TooManyEntries {
        /// Entries in the archive.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// Containers nested deeper than the limit (a gzip in a zip in a mail in a zip...).
    #[error("containers nested deeper than {0} levels")]
    NestedTooDeep(usize),
    /// The gzip stream is damaged or truncated.
    #[error("gzip: {0}")]
    Gzip(String),
    /// The zip archive is damaged.
    #[error("zip: {0}")]
    Zip(String),
    /// TLS-RPT JSON that does not follow RFC 8460.
    #[error("tls-rpt json: {0}")]
    Json(String),
    /// A mail message that could not be parsed.
    #[error("mail: {0}")]
    Mail(String),
    /// A message/feedback-report part without the fields RFC 5965 requires.
    #[error("feedback report: {0}")]
    Feedback(String),
    /// Content that is none of the report kinds or containers.
    #[error("unrecognised content (starts with '{0}')")]
    Unrecognised(String),
    /// An input (or a part or entry of one) with no bytes at all.
    #[error("empty: no bytes to read")]
    Empty,
    /// A mail message that carries no report.
    #[error("mail message carries no report")]
    NoReport,
    /// Reading the input failed.
    #[error("read: {0}")]
    Io(Arc<std::io::Error>),
}

impl From<std::io::Error> for ParseError {
    fn from(err: std::io::Error) -> Self {
        // Readers below us report limit breaches and gzip damage as io errors carrying ours.
        match err
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<ParseError>())
        {
            Some(parse) => parse.clone(),
            None if err.kind() == std::io::ErrorKind::UnexpectedEof => {
                ParseError::Gzip(format!("truncated stream ({err})"))
            }
            None if err.kind() == std::io::ErrorKind::InvalidInput
                || err.kind() == std::io::ErrorKind::InvalidData =>
            {
                ParseError::Gzip(err.to_string())
            }
            None => ParseError::Io(Arc::new(err)),
        }
    }
}

impl From<quick_xml::Error> for ParseError {
    fn from(err: quick_xml::Error) -> Self {
        match err {
            quick_xml::Error::Io(io) => match Arc::try_unwrap(io) {
                Ok(io) => ParseError::from(io),
                Err(shared) => {
                    ParseError::from(std::io::Error::new(shared.kind(), shared.to_string()))
                }
            },
            other => ParseError::Xml {
                position: 0,
                detail: other.to_string(),
            },
        }
    }
}

/// A failure of the store: the database refused or could not be reached. Operational, not a
/// problem with a report.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("sqlite: {0}")]
    Sqlite(Arc<rusqlite::Error>),
    /// PostgreSQL said no.
    #[error("postgresql: {}", postgres_detail(.0))]
    Postgres(Arc<postgres::Error>),
    /// The `--db` URL is not `sqlite:PATH` or `postgres://...`.
    #[error("unsupported database url '{0}' (use sqlite:PATH or postgres://USER:PASS@HOST/DB)")]
    Url(String),
    /// The PostgreSQL TLS settings of the URL are wrong (a bad `sslmode`, an unreadable
    /// `sslrootcert`...), or the server's certificate does not pass them.
    #[error("postgresql tls: {0}")]
    Tls(String),
    /// The database was written by a newer inkan.
    #[error("database schema version {found} is newer than this inkan understands ({supported})")]
    SchemaTooNew {
        /// The version in the database.
        found: i64,
        /// The newest version known here.
        supported: i64,
    },
    /// An aggregate report holds more records than an SQLite store keys per report (its
    /// records are keyed by report and place, schema version 3).
    #[error("report has more than {limit} records, more than an sqlite store keeps per report")]
    TooManyRecords {
        /// The most records per report.
        limit: i64,
    },
    /// Reading the input file or writing the database file failed.
    #[error("{context}: {cause}")]
    Io {
        /// What was being done.
        context: String,
        /// The io error, in the message itself (not a `source()`, which would print it twice
        /// in an error chain).
        cause: Arc<std::io::Error>,
    },
}

/// What PostgreSQL said: the server's own message (`ERROR: ...`) when there is one, which
/// the client error's display leaves out.
fn postgres_detail(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{err}: {}: {}", db.severity(), db.message()),
        None => match std::error::Error::source(err) {
            Some(source) => format!("{err}: {source}"),
            None => err.to_string(),
        },
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError::Sqlite(Arc::new(err))
    }
}

impl From<postgres::Error> for StoreError {
    fn from(err: postgres::Error) -> Self {
        StoreError::Postgres(Arc::new(err))
    }
}

impl StoreError {
    /// Whether retrying later might succeed (the database was busy or unreachable).
    pub fn is_temporary(&self) -> bool {
        match self {
            StoreError::Sqlite(err) => matches!(
                err.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            StoreError::Postgres(err) => err.is_closed() || err.as_db_error().is_none(),
            StoreError::Url(_) => false,
            StoreError::Tls(_) => false,
            StoreError::SchemaTooNew { .. } | StoreError::TooManyRecords { .. } => false,
            StoreError::Io { .. } => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    /// An I/O failure names its cause once: in the message, not again as a `source()`, which an
    /// error chain (`inkan: {err:#}`) would print a second time.
    #[test]
    fn io_errors_name_their_cause_once() {
        let err = StoreError::Io {
            context: "reading 'gone.xml'".to_owned(),
            cause: std::sync::Arc::new(std::io::Error::from(std::io::ErrorKind::NotFound)),
        };
        assert!(std::error::Error::source(&err).is_none());
        let cause = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
        assert_eq!(err.to_string(), format!("reading 'gone.xml': {cause}"));
    }
}
