//! Builds the resolver the global options ask for: zone files (`--zone`, no network), the name
//! servers given (`--nameserver`), or the system configuration. Network questions go through
//! inkan's own stub resolver (long-lived UDP sockets, many questions in flight, TCP on
//! truncation), which a fleet audit needs to go faster than one lookup at a time.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use inkan_dns::{
    CacheConfig, CachingResolver, CoarseClock, MemoryResolver, NetworkOptions, Resolver,
    StubResolver,
};

use crate::cli::GlobalArgs;

/// The resolver for this run. `--zone` wins over `--nameserver`: a what-if view never asks the
/// network. Network answers go through the cache, so a command that asks the same question twice
/// (an SPF include reached by two paths) asks the network once; zone answers are in memory already.
/// The cache reads the coarse clock: a cache hit then costs no system call (`verify --batch` and
/// `audit` hit it millions of times), at the price of answers kept up to 10 ms past their TTL.
pub fn build(globals: &GlobalArgs) -> anyhow::Result<Arc<dyn Resolver>> {
    build_with_cache(globals, CacheConfig::default())
}

/// [`build`] with the network answers cached as `cache` says (a fleet audit bounds the size).
/// One cache layer only: each layer costs a hash, a lock and an in-flight entry per lookup.
pub fn build_with_cache(
    globals: &GlobalArgs,
    cache: CacheConfig,
) -> anyhow::Result<Arc<dyn Resolver>> {
    let timeout = timeout(globals.timeout)?;
    if !globals.zones.is_empty() {
        let zone =
            MemoryResolver::from_zone_files(&globals.zones).context("reading --zone files")?;
        return Ok(Arc::new(zone));
    }
    let options = NetworkOptions::default().with_timeout(timeout);
    let network = if globals.nameservers.is_empty() {
        StubResolver::system(options)?
    } else {
        StubResolver::with_servers(&globals.nameservers, options)?
    };
    Ok(Arc::new(CachingResolver::with_clock(
        network,
        cache,
        CoarseClock::new(),
    )))
}

/// Which source of DNS the global options choose, in words, for `-v` output.
pub fn describe(globals: &GlobalArgs) -> String {
    let list = |items: Vec<String>| items.join(", ");
    if !globals.zones.is_empty() {
        format!(
            "zone files {}",
            list(
                globals
                    .zones
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect()
            )
        )
    } else if !globals.nameservers.is_empty() {
        format!(
            "name servers {}",
            list(
                globals
                    .nameservers
                    .iter()
                    .map(ToString::to_string)
                    .collect()
            )
        )
    } else {
        "the system resolver configuration".to_owned()
    }
}

/// `--timeout SECONDS` as a duration: a positive, finite number.
fn timeout(seconds: f64) -> anyhow::Result<Duration> {
    match Duration::try_from_secs_f64(seconds) {
        Ok(timeout) if !timeout.is_zero() => Ok(timeout),
        _ => anyhow::bail!("--timeout must be a positive number of seconds, not '{seconds}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_must_be_positive_and_finite() {
        assert_eq!(timeout(1.5).unwrap(), Duration::from_millis(1500));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(timeout(bad).is_err(), "{bad}");
        }
    }
}
