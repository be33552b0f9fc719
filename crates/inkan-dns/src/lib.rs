//! DNS as inkan's protocol code sees it.
//!
//! Every protocol in inkan asks DNS through the [`Resolver`] trait and gets back either an
//! [`Answer`] — records, NXDOMAIN or NODATA, each with a TTL — or a [`DnsError`] that says why no
//! answer could be had (timeout, SERVFAIL, REFUSED, network). Keeping "absent" apart from
//! "unknown" is the point: SPF turns a failure into `temperror`, an audit into `unknown`, and
//! neither may mistake it for a missing record.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod cache;
mod memory;
mod network;
mod stub;
mod types;
mod zone;

pub use cache::{
    CacheConfig, CacheStats, CachingResolver, Clock, CoarseClock, ManualClock, SystemClock,
};
pub use memory::MemoryResolver;
pub use network::{NetworkError, NetworkOptions, NetworkResolver};
pub use stub::StubResolver;
pub use types::{Answer, DnsError, FailureKind, RData, Record, RecordSet, RecordType, Soa, Txt};
pub use zone::{DEFAULT_TTL, ZoneError, ZoneErrorKind, parse_zone};

use std::future::Future;
use std::pin::Pin;

/// A boxed future returned by [`Resolver::lookup`].
pub type LookupFuture<'a> = Pin<Box<dyn Future<Output = Result<Answer, DnsError>> + Send + 'a>>;

/// Asks DNS one question: the records of one type at one name.
///
/// Implementations follow CNAME chains for types other than CNAME and report the chain in
/// [`RecordSet::cname_chain`]. `name` is a domain name with or without the trailing dot, in any
/// letter case; implementations compare names case-insensitively.
pub trait Resolver: Send + Sync {
    /// Looks up the records of type `rtype` at `name`.
    fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a>;

    /// The answer to the same question when it can be had at once, without waiting and
    /// without creating a future: a cache hit, an in-memory zone. `None` means "call
    /// [`Resolver::lookup`]", never "no records". Callers on a hot path (SPF at millions of
    /// checks per second) try this first; the default has nothing ready.
    fn lookup_ready(&self, name: &str, rtype: RecordType) -> Option<Result<Answer, DnsError>> {
        let _ = (name, rtype);
        None
    }

    /// Shows the answer [`Resolver::lookup_ready`] would give to `visit`, without handing out
    /// a copy of it (for a cache: no reference count taken and dropped per hit). Returns
    /// `false`, without calling `visit`, when no answer is ready.
    ///
    /// A cache may hold a lock while `visit` runs: `visit` must not ask this resolver anything.
    fn visit_ready(
        &self,
        name: &str,
        rtype: RecordType,
        visit: &mut dyn FnMut(&Result<Answer, DnsError>),
    ) -> bool {
        match self.lookup_ready(name, rtype) {
            Some(answer) => {
                visit(&answer);
                true
            }
            None => false,
        }
    }
}

/// A reference, `Arc` or `Box` around a resolver is that resolver: every method forwards.
macro_rules! forward_resolver {
    ($($wrapper:ty),+) => {$(
        impl<R: Resolver + ?Sized> Resolver for $wrapper {
            fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
                (**self).lookup(name, rtype)
            }

            fn lookup_ready(
                &self,
                name: &str,
                rtype: RecordType,
            ) -> Option<Result<Answer, DnsError>> {
                (**self).lookup_ready(name, rtype)
            }

            fn visit_ready(
                &self,
                name: &str,
                rtype: RecordType,
                visit: &mut dyn FnMut(&Result<Answer, DnsError>),
            ) -> bool {
                (**self).visit_ready(name, rtype, visit)
            }
        }
    )+};
}

forward_resolver!(&R, std::sync::Arc<R>, Box<R>);

/// Lower-cases `name` and strips one trailing dot: the form inkan uses as a key for names.
pub fn normalize_name(name: &str) -> String {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    trimmed.to_ascii_lowercase()
}
