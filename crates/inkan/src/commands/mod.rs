//! One module per subcommand.

pub mod audit;
pub mod completions;
pub mod dkim;
pub mod dns;
mod input;
pub mod keygen;
pub mod man;
pub mod spf;
pub mod sign;
pub mod verify;
pub mod reports;
