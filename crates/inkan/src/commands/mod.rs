//! One module per subcommand.

pub mod dkim;
pub mod dns;
mod input;
pub mod keygen;
pub mod sign;
