//! End-to-end tests of the `inkan` binary: run it, check stdout and the exit code.

mod arc;
mod dns;
mod harness;
