//! One module per subcommand.

pub mod arc;
pub mod audit;
pub mod completions;
pub mod dkim;
pub mod dns;
mod input;
pub mod keygen;
pub mod man;
pub mod reports;
pub mod sign;
pub mod spf;
pub mod verify;
