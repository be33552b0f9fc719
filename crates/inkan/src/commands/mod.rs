//! One module per subcommand.

pub mod audit;
pub mod completions;
pub mod dns;
pub mod man;
pub mod spf;
