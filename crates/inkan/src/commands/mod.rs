//! One module per subcommand.

pub mod completions;
pub mod dkim;
pub mod dns;
mod input;
pub mod keygen;
pub mod man;
pub mod sign;
