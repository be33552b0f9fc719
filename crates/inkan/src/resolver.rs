//! Builds the resolver the global options ask for: zone files, given name servers, or the
//! system configuration.

use std::sync::Arc;

use inkan_dns::Resolver;

use crate::cli::GlobalArgs;

/// The resolver for this run.
pub fn build(globals: &GlobalArgs) -> anyhow::Result<Arc<dyn Resolver>> {
    let _ = globals;
    anyhow::bail!("resolver construction lands with the foundation work")
}
