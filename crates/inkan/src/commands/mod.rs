//! One module per subcommand.

pub mod arc;
pub mod audit;
pub mod completions;
pub mod dns;
pub mod man;
