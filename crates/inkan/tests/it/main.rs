//! End-to-end tests of the `inkan` binary: run it, check stdout and the exit code.

mod dkim;
mod audit;
mod dns;
mod harness;
mod spf;
mod interop_dmarc;
mod verify;
mod reports;
