//! Test support shared by every inkan crate: DNS with injected faults, so tests exercise
//! timeouts and SERVFAIL without touching the network beyond 127.0.0.1.

mod faults;

pub use faults::{Fault, FaultPlan, FaultResolver};
