//! DMARC aggregate (RFC 9990, RFC 7489) and failure (RFC 9991, RFC 6591) reports, SMTP TLS
//! reports (RFC 8460) and ARF complaint reports (RFC 5965): lenient, bounded, streaming parsers
//! for the reports and the containers they come in (gzip, zip, mail, mbox, Maildir), and a
//! store (SQLite or PostgreSQL) that ingests them idempotently and summarises them.

#![warn(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod aggregate;
mod archive;
mod container;
mod error;
mod feedback;
mod ingest;
mod limits;
mod prepare;
mod store;
mod summary;
mod tlsrpt;
mod warnings;

pub use aggregate::{
    AggregateHeader, AggregateReader, AggregateTrailer, DkimAuth, PolicyPublished, Reason, Record,
    ReportMetadata, Schema, SpfAuth, parse_aggregate,
};
pub use container::{Content, Visitor, detect, walk, walk_mail};
pub use error::{ParseError, StoreError};
pub use feedback::{FeedbackReport, parse_feedback};
pub use ingest::{IngestError, IngestTotals, Kinds};
pub use limits::Limits;
pub use store::{DbUrl, Store, StoredError, Value};
pub use summary::{
    Count, DailyCount, DomainSummary, FailureSummary, Filter, Override, Source, Summary,
    TlsSummary, format_day, parse_date,
};
pub use tlsrpt::{TlsReport, parse_tls_report};
pub use warnings::Warnings;
