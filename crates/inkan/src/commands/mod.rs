//! One module per subcommand.

pub mod dns;
