//! End-to-end tests of the `inkan` binary: run it, check stdout and the exit code.

mod arc;
mod audit;
mod audit_mta_sts;
mod dkim;
mod dns;
mod harness;
mod interop_dmarc;
mod reports;
mod reports_tls;
mod spf;
mod verify;
