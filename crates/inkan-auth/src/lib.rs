//! Mail authentication as a receiver evaluates it and a sender produces it: one module per
//! protocol, each split by verb. DNS comes in through [`inkan_dns::Resolver`] and time is passed
//! in; nothing here prints or reads the clock on its own.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod arc;
pub mod authres;
pub mod dkim;
pub mod dmarc;
pub mod message;
pub mod rules;
mod severity;
pub mod spf;
#[cfg(test)]
mod test_support;

pub use message::{HeaderField, Limits as MessageLimits, Message, MessageError};
pub use severity::Severity;
