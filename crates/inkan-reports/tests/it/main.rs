//! Integration tests of inkan-reports: parsers on fixtures written from the RFC schemas and
//! examples, every container, hostile input, and the store on SQLite and PostgreSQL.

mod containers;
mod hostile;
mod parse;
mod store;
mod support;
mod tls;
