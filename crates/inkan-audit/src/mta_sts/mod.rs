//! MTA-STS (RFC 8461) beyond the TXT record: the policy file's types and errors here, its parser
//! and MX pattern matching in `parse` (§3.2, §4.1), and its retrieval over HTTPS in `fetch`
//! (§3.3).

mod fetch;
mod parse;

use std::sync::Arc;

pub use fetch::{FetchError, Fetched, PolicyFetcher, TrustError};
pub use parse::{mx_matches, parse_policy};

/// The largest `max_age` RFC 8461 §3.2 allows: about one year, in seconds.
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// What a policy asks of sending servers (RFC 8461 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Deliver only over validated TLS to a matching MX.
    Enforce,
    /// Report failures (TLS-RPT) but deliver anyway.
    Testing,
    /// No policy: the domain is leaving MTA-STS.
    None,
}

impl Mode {
    /// The word used in the policy file and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// A parsed policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `mode`.
    pub mode: Mode,
    /// `max_age`, seconds.
    pub max_age: u64,
    /// `mx` patterns, lower case, in file order (`*.` wildcards kept).
    pub mx: Vec<String>,
}

/// Why a policy body is not a valid RFC 8461 §3.2 policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A line is malformed or carries a value the RFC does not allow.
    #[error("line {line} '{text}': {why}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// The line as served.
        text: String,
        /// What is wrong with it.
        why: String,
    },
    /// A field that must appear once appears again.
    #[error("field '{key}' appears twice (again on line {line})")]
    Duplicate {
        /// The field name.
        key: String,
        /// The line of the second occurrence.
        line: usize,
    },
    /// A required field is absent.
    #[error("the required field '{0}' is missing")]
    Missing(&'static str),
}

/// Wraps an I/O error so that [`FetchError`] stays `Clone`.
pub(crate) type SharedIo = Arc<std::io::Error>;
