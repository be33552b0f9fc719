//! Test support shared by every inkan crate: DNS with injected faults, so tests exercise
//! timeouts and SERVFAIL without touching the network beyond 127.0.0.1, and a real DNS server
//! on 127.0.0.1 ([`DnsServer`]) for end-to-end tests, and a real HTTPS server with a test
//! certificate authority ([`HttpsServer`]).
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod faults;
mod https;
mod server;
mod spf_suite;

pub use faults::{Fault, FaultPlan, FaultResolver};
pub use https::{HttpsServer, HttpsServerBuilder, Reply};
pub use server::{DnsServer, DnsServerBuilder};
pub use spf_suite::{SpfCase, SpfScenario, load_spf_suite};
