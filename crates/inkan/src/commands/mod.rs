//! One module per subcommand.

pub mod dns;
pub mod reports;
