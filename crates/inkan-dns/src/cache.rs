//! A caching decorator for any [`Resolver`], with the clock passed in.
//!
//! What it keeps, and for how long:
//! - records for their TTL (the smallest in the set, RFC 2181 §5.2), bounded by
//!   [`CacheConfig::min_ttl`] and [`CacheConfig::max_ttl`];
//! - NXDOMAIN and NODATA for their negative TTL (RFC 2308 §5, which the resolver takes from the
//!   SOA), bounded by [`CacheConfig::min_negative_ttl`] and [`CacheConfig::max_negative_ttl`];
//! - failures (timeout, SERVFAIL...) not at all by default, or for [`CacheConfig::failure_ttl`]
//!   (RFC 2308 §7 allows up to five minutes), so a transient outage is asked again next time.
//!
//! Identical questions in flight at the same time are asked once: the first caller asks the
//! inner resolver and the others wait for its answer. If that first caller is dropped before the
//! answer arrives, the waiting callers wake and one of them asks again.
//!
//! The cache holds at most [`CacheConfig::max_entries`] answers (one per name and type), so an
//! audit of millions of domains runs in bounded memory: when a shard is full, expired answers go
//! first, then the least recently used eighth of the shard.
//!
//! The hit path is built for SPF and DMARC at millions of checks per second: the name is looked
//! up as given when it is already lower-case without a trailing dot (no allocation), one keyed
//! hash of name and type (foldhash, seeded at random per cache) picks one of up to 16 shards and
//! finds the entry in its table, one short lock is taken, and the answer is an `Arc` clone.
//! Names come from whoever publishes DNS, so the hash is keyed; it is not a cryptographic
//! defence against an attacker who can time lookups, but a shard holds a bounded number of
//! entries, so collisions cost at most a longer probe within that bound.
//! [`CachingResolver::get_cached`] (and [`Resolver::lookup_ready`], which calls it) is that path
//! alone; [`Resolver::visit_ready`] is that path without the `Arc` clone (the caller's closure
//! reads the answer under the lock); [`Resolver::lookup`] adds the boxed future the trait
//! returns.
//!
//! TTLs inside a cached answer are the ones received; they are not counted down.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::future::{FutureExt, Shared};
use hashbrown::HashTable;

use crate::types::{Answer, DnsError, RecordType};
use crate::{LookupFuture, Resolver};

/// Where the cache reads the time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> Instant;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Instant {
        (**self).now()
    }
}

/// The operating system's monotonic clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock read from memory, which a background thread refreshes every `resolution`.
///
/// Reading it costs one atomic load instead of a call to the operating system's clock, which
/// matters on the cache's hit path: on some virtual machines `Instant::now` costs more than the
/// rest of a hit. The price is that time advances in steps, so an answer may be kept up to one
/// `resolution` past its TTL. The thread stops when the last clone of the clock is dropped; if
/// it cannot be started, the clock reads the system clock instead.
#[derive(Clone, Debug)]
pub struct CoarseClock {
    shared: Arc<CoarseShared>,
}

#[derive(Debug)]
struct CoarseShared {
    start: Instant,
    elapsed_micros: AtomicU64,
    ticking: bool,
}

impl CoarseClock {
    /// A clock refreshed every 10 ms.
    pub fn new() -> Self {
        Self::with_resolution(Duration::from_millis(10))
    }

    /// A clock refreshed every `resolution`.
    pub fn with_resolution(resolution: Duration) -> Self {
        let start = Instant::now();
        let shared = Arc::new(CoarseShared {
            start,
            elapsed_micros: AtomicU64::new(0),
            ticking: true,
        });
        let weak = Arc::downgrade(&shared);
        let spawned = std::thread::Builder::new()
            .name("inkan-coarse-clock".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(resolution);
                    let Some(shared) = weak.upgrade() else { return };
                    let micros =
                        u64::try_from(shared.start.elapsed().as_micros()).unwrap_or(u64::MAX);
                    shared.elapsed_micros.store(micros, Ordering::Relaxed);
                }
            });
        match spawned {
            Ok(_) => CoarseClock { shared },
            Err(_) => CoarseClock {
                shared: Arc::new(CoarseShared {
                    start,
                    elapsed_micros: AtomicU64::new(0),
                    ticking: false,
                }),
            },
        }
    }
}

impl Default for CoarseClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for CoarseClock {
    fn now(&self) -> Instant {
        if !self.shared.ticking {
            return Instant::now();
        }
        self.shared.start
            + Duration::from_micros(self.shared.elapsed_micros.load(Ordering::Relaxed))
    }
}

/// A clock that moves only when told to, for tests: share it in an `Arc` with the cache and
/// call [`ManualClock::advance`].
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    elapsed_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock standing at the moment it is made.
    pub fn new() -> Self {
        ManualClock {
            start: Instant::now(),
            elapsed_nanos: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.elapsed_nanos.fetch_add(nanos, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + Duration::from_nanos(self.elapsed_nanos.load(Ordering::SeqCst))
    }
}

/// How long answers are kept and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// The most answers held (one per name and type). Default 100 000.
    pub max_entries: usize,
    /// Records are kept at least this long, whatever their TTL. Default 0: the TTL rules.
    pub min_ttl: Duration,
    /// Records are kept at most this long. Default one day, as unbound and hickory do.
    pub max_ttl: Duration,
    /// NXDOMAIN and NODATA are kept at least this long. Default 0.
    pub min_negative_ttl: Duration,
    /// NXDOMAIN and NODATA are kept at most this long. Default one hour (RFC 2308 §5 advises
    /// one to three hours at most).
    pub max_negative_ttl: Duration,
    /// Failures are kept this long. Default 0: never cached, the next lookup asks again.
    pub failure_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: 100_000,
            min_ttl: Duration::ZERO,
            max_ttl: Duration::from_secs(86_400),
            min_negative_ttl: Duration::ZERO,
            max_negative_ttl: Duration::from_secs(3600),
            failure_ttl: Duration::ZERO,
        }
    }
}

impl CacheConfig {
    /// Sets [`CacheConfig::max_entries`].
    pub fn with_max_entries(mut self, max_entries: usize) -> Self {
        self.max_entries = max_entries;
        self
    }

    /// Sets the floor and ceiling of the TTL of records.
    pub fn with_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_ttl = min;
        self.max_ttl = max;
        self
    }

    /// Sets the floor and ceiling of the TTL of NXDOMAIN and NODATA.
    pub fn with_negative_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_negative_ttl = min;
        self.max_negative_ttl = max;
        self
    }

    /// Sets [`CacheConfig::failure_ttl`].
    pub fn with_failure_ttl(mut self, ttl: Duration) -> Self {
        self.failure_ttl = ttl;
        self
    }

    /// How long `result` may be kept.
    fn lifetime(&self, result: &Result<Answer, DnsError>) -> Duration {
        let secs = |ttl: u32| Duration::from_secs(u64::from(ttl));
        match result {
            Ok(answer @ Answer::Records(_)) => {
                secs(answer.ttl()).max(self.min_ttl).min(self.max_ttl)
            }
            Ok(Answer::NxDomain { ttl } | Answer::NoData { ttl }) => secs(*ttl)
                .max(self.min_negative_ttl)
                .min(self.max_negative_ttl),
            Err(_) => self.failure_ttl,
        }
    }
}

/// What the cache has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups passed to the inner resolver.
    pub misses: u64,
    /// Lookups that waited for an identical lookup already in flight.
    pub coalesced: u64,
    /// Answers dropped to stay within the size bound (expired ones included).
    pub evictions: u64,
    /// Answers held now.
    pub entries: u64,
}

type Outcome = Result<Answer, DnsError>;
type Flight = Shared<oneshot::Receiver<Outcome>>;

/// A question as the cache keys it: the name lower-case without its trailing dot (borrowed when
/// it already is), the type, and the cache's keyed hash of both, computed once per lookup and
/// used both to pick the shard and to probe its table.
#[derive(Debug)]
struct Key<'n> {
    name: Cow<'n, str>,
    rtype: RecordType,
    hash: u64,
}

#[derive(Debug)]
struct Entry {
    /// The [`Key::hash`] it was stored under, so the table grows without hashing again.
    hash: u64,
    name: Box<str>,
    rtype: RecordType,
    outcome: Outcome,
    expires: Instant,
    last_used: u64,
}

impl Entry {
    fn is(&self, key: &Key<'_>) -> bool {
        self.rtype == key.rtype && *self.name == *key.name
    }
}

#[derive(Debug, Default)]
struct Shard {
    /// One entry per name and type, found by [`Key::hash`].
    entries: HashTable<Entry>,
    in_flight: HashMap<(Box<str>, RecordType), Flight>,
    tick: u64,
    hits: u64,
    misses: u64,
    coalesced: u64,
    evictions: u64,
}

impl Shard {
    /// The fresh answer to `key`, counted as a hit.
    fn get(&mut self, key: &Key<'_>, now: Instant) -> Option<&Outcome> {
        self.tick += 1;
        let tick = self.tick;
        let entry = self.entries.find_mut(key.hash, |e| e.is(key))?;
        if entry.expires <= now {
            return None;
        }
        entry.last_used = tick;
        self.hits += 1;
        Some(&entry.outcome)
    }

    fn insert(
        &mut self,
        key: &Key<'_>,
        outcome: Outcome,
        expires: Instant,
        now: Instant,
        cap: usize,
    ) {
        self.tick += 1;
        let last_used = self.tick;
        if let Some(existing) = self.entries.find_mut(key.hash, |e| e.is(key)) {
            existing.outcome = outcome;
            existing.expires = expires;
            existing.last_used = last_used;
            return;
        }
        if self.entries.len() >= cap {
            self.evict(now, cap);
        }
        let entry = Entry {
            hash: key.hash,
            name: key.name.as_ref().into(),
            rtype: key.rtype,
            outcome,
            expires,
            last_used,
        };
        self.entries.insert_unique(key.hash, entry, |e| e.hash);
    }

    /// Drops expired answers, then the least recently used until at most 7/8 of `cap` remain,
    /// so a full shard scans once per `cap / 8` inserts rather than on each.
    fn evict(&mut self, now: Instant, cap: usize) {
        let target = cap - (cap / 8).max(1);
        let before = self.entries.len();
        self.entries.retain(|e| e.expires > now);
        if self.entries.len() > target {
            let mut ages: Vec<u64> = self.entries.iter().map(|e| e.last_used).collect();
            let (_, &mut newest_dropped, _) =
                ages.select_nth_unstable(self.entries.len() - target - 1);
            self.entries.retain(|e| e.last_used > newest_dropped);
        }
        self.evictions += (before - self.entries.len()) as u64;
    }
}

/// A [`Resolver`] that remembers the answers of another (see the module documentation).
pub struct CachingResolver<R, C = SystemClock> {
    inner: R,
    clock: C,
    config: CacheConfig,
    shards: Box<[Mutex<Shard>]>,
    shard_capacity: usize,
    /// Keyed with a secret seed per cache: names come from whoever publishes DNS (an SPF
    /// include, a sender's domain), so their hashes must not be predictable.
    hasher: foldhash::fast::RandomState,
}

impl<R, C> fmt::Debug for CachingResolver<R, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingResolver")
            .field("config", &self.config)
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl<R: Resolver> CachingResolver<R, SystemClock> {
    /// Caches the answers of `inner` with the default [`CacheConfig`] and the system clock.
    pub fn new(inner: R) -> Self {
        Self::with_clock(inner, CacheConfig::default(), SystemClock)
    }

    /// Caches the answers of `inner` as `config` says, with the system clock.
    pub fn with_config(inner: R, config: CacheConfig) -> Self {
        Self::with_clock(inner, config, SystemClock)
    }
}

impl<R: Resolver, C: Clock> CachingResolver<R, C> {
    /// Caches the answers of `inner` as `config` says, reading the time from `clock`.
    pub fn with_clock(inner: R, config: CacheConfig, clock: C) -> Self {
        let max_entries = config.max_entries.max(1);
        // One shard per thousand entries up to 16: small caches keep an exact bound and LRU
        // order, large ones spread the lock.
        let shards = (max_entries / 1024)
            .clamp(1, 16)
            .next_power_of_two()
            .min(16);
        let shard_capacity = max_entries / shards;
        CachingResolver {
            inner,
            clock,
            config,
            shards: (0..shards).map(|_| Mutex::new(Shard::default())).collect(),
            shard_capacity,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// The resolver asked on a miss.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// The cached answer to this question, if one is held and fresh. Never asks the inner
    /// resolver, never allocates when `name` is lower-case without a trailing dot.
    pub fn get_cached(&self, name: &str, rtype: RecordType) -> Option<Result<Answer, DnsError>> {
        let key = self.key(name, rtype);
        let now = self.clock.now();
        self.shard(&key).get(&key, now).cloned()
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        let mut stats = CacheStats::default();
        for shard in &self.shards {
            let shard = lock(shard);
            stats.hits += shard.hits;
            stats.misses += shard.misses;
            stats.coalesced += shard.coalesced;
            stats.evictions += shard.evictions;
            stats.entries += shard.entries.len() as u64;
        }
        stats
    }

    /// Forgets every cached answer (lookups in flight are not disturbed).
    pub fn clear(&self) {
        for shard in &self.shards {
            let mut shard = lock(shard);
            shard.entries.clear();
        }
    }

    /// The question as the cache keys it (see [`Key`]).
    // Inlined on the hit path: returned through memory, the key's fields are read back before
    // the stores have landed, which stalls.
    #[inline(always)]
    fn key<'n>(&self, name: &'n str, rtype: RecordType) -> Key<'n> {
        let name = cache_key(name);
        let mut hasher = self.hasher.build_hasher();
        hasher.write(name.as_bytes());
        // The type is ours, not the publisher's: mixing it in after the keyed hash is enough.
        let hash = hasher.finish() ^ (rtype as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        Key { name, rtype, hash }
    }

    /// The slow path: ask the inner resolver once for everybody waiting on the same question.
    async fn resolve(&self, key: &Key<'_>) -> Outcome {
        let (name, rtype) = (key.name.as_ref(), key.rtype);
        loop {
            let now = self.clock.now();
            let (flight, sender) = {
                let mut shard = self.shard(key);
                if let Some(hit) = shard.get(key, now) {
                    return hit.clone();
                }
                match shard.in_flight.get(&(Box::from(name), rtype)).cloned() {
                    Some(flight) => {
                        shard.coalesced += 1;
                        (Some(flight), None)
                    }
                    None => {
                        let (sender, receiver) = oneshot::channel();
                        shard
                            .in_flight
                            .insert((name.into(), rtype), receiver.shared());
                        shard.misses += 1;
                        (None, Some(sender))
                    }
                }
            };
            if let Some(flight) = flight {
                match flight.await {
                    Ok(outcome) => return outcome,
                    // The caller that asked was dropped before the answer came: ask again.
                    Err(oneshot::Canceled) => continue,
                }
            }
            let mut leader = Leader {
                cache: self,
                key,
                sender,
            };
            let outcome = self.inner.lookup(name, rtype).await;
            leader.complete(&outcome);
            return outcome;
        }
    }
}

impl<R, C> CachingResolver<R, C> {
    fn shard(&self, key: &Key<'_>) -> MutexGuard<'_, Shard> {
        lock(&self.shards[shard_index(key.hash, self.shards.len())])
    }
}

/// The caller asking the inner resolver on behalf of everybody waiting. Dropped before
/// [`Leader::complete`], it withdraws the question so that a waiting caller asks again.
struct Leader<'c, R, C> {
    cache: &'c CachingResolver<R, C>,
    key: &'c Key<'c>,
    sender: Option<oneshot::Sender<Outcome>>,
}

impl<R: Resolver, C: Clock> Leader<'_, R, C> {
    fn complete(&mut self, outcome: &Outcome) {
        let cache = self.cache;
        let now = cache.clock.now();
        let lifetime = cache.config.lifetime(outcome);
        {
            let mut shard = cache.shard(self.key);
            shard
                .in_flight
                .remove(&(Box::from(self.key.name.as_ref()), self.key.rtype));
            if !lifetime.is_zero() {
                shard.insert(
                    self.key,
                    outcome.clone(),
                    now + lifetime,
                    now,
                    cache.shard_capacity,
                );
            }
        }
        if let Some(sender) = self.sender.take() {
            // Nobody waiting is not an error.
            let _ = sender.send(outcome.clone());
        }
    }
}

impl<R, C> Drop for Leader<'_, R, C> {
    fn drop(&mut self) {
        if self.sender.is_some() {
            self.cache
                .shard(self.key)
                .in_flight
                .remove(&(Box::from(self.key.name.as_ref()), self.key.rtype));
        }
    }
}

impl<R: Resolver, C: Clock> Resolver for CachingResolver<R, C> {
    fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
        let key = self.key(name, rtype);
        let now = self.clock.now();
        if let Some(hit) = self.shard(&key).get(&key, now).cloned() {
            return Box::pin(std::future::ready(hit));
        }
        Box::pin(async move { self.resolve(&key).await })
    }

    fn lookup_ready(&self, name: &str, rtype: RecordType) -> Option<Result<Answer, DnsError>> {
        self.get_cached(name, rtype)
    }

    /// The hit path without the `Arc` clone: `visit` sees the cached answer under the shard's
    /// lock.
    fn visit_ready(
        &self,
        name: &str,
        rtype: RecordType,
        visit: &mut dyn FnMut(&Result<Answer, DnsError>),
    ) -> bool {
        let key = self.key(name, rtype);
        let now = self.clock.now();
        match self.shard(&key).get(&key, now) {
            Some(hit) => {
                visit(hit);
                true
            }
            None => false,
        }
    }
}

/// The name as the cache keys it: lower-case without the trailing dot, borrowed when it already
/// is.
#[inline(always)]
fn cache_key(name: &str) -> Cow<'_, str> {
    if has_ascii_uppercase(name.as_bytes()) || name.ends_with('.') {
        Cow::Owned(crate::normalize_name(name))
    } else {
        Cow::Borrowed(name)
    }
}

/// True when some byte is `A`–`Z`, tested eight bytes at a time: a name is short, and a loop
/// byte by byte costs more than the rest of a cache hit's hashing.
#[inline(always)]
fn has_ascii_uppercase(bytes: &[u8]) -> bool {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte with its top bit cleared (at most 0x7f, so no carry crosses a byte), the top
    // bit of `x + (0x80 - c)` says `x >= c`; a byte whose own top bit is set is not ASCII.
    let upper = |w: u64| {
        let x = w & LOW7;
        let at_least_a = x + 0x3f3f_3f3f_3f3f_3f3f;
        let past_z = x + 0x2525_2525_2525_2525;
        at_least_a & !past_z & !w & HIGH != 0
    };
    let word = |chunk: &[u8]| {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        u64::from_le_bytes(word)
    };
    let Some(last) = bytes.len().checked_sub(8) else {
        return bytes.iter().any(u8::is_ascii_uppercase);
    };
    // Whole words, then the last eight bytes (overlapping the words before them): loads of a
    // fixed size, no copy of a partial tail.
    let found = bytes
        .chunks_exact(8)
        .fold(false, |found, chunk| found | upper(word(chunk)));
    found | upper(word(&bytes[last..]))
}

/// Picks a shard from bits of the key's hash that the shard's table does not use: hashbrown
/// places by the low bits and tags by the top seven.
fn shard_index(hash: u64, shards: usize) -> usize {
    (hash >> 32) as usize & (shards - 1)
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding the lock cannot leave a shard half-updated in a way that matters
    // to a cache, so a poisoned lock is used as is.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FailureKind, MemoryResolver, RData, Record};
    use std::sync::atomic::AtomicUsize;

    /// Counts the questions that reach the resolver it wraps.
    struct Counting<R> {
        inner: R,
        calls: AtomicUsize,
    }

    impl<R: Resolver> Resolver for Counting<R> {
        fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.inner.lookup(name, rtype)
        }
    }

    fn zone() -> MemoryResolver {
        MemoryResolver::from_zone_text(
            "$ORIGIN example.test.\n\
             @ 3600 SOA ns hostmaster 1 7200 900 86400 300\n\
             @ 60 TXT \"v=spf1 -all\"\n\
             short 5 TXT \"short\"\n\
             long 1000000 TXT \"long\"\n\
             loop 60 CNAME loop2\n\
             loop2 60 CNAME loop\n",
            None,
            "cache-test.zone",
        )
        .unwrap()
    }

    type Cache = CachingResolver<Counting<MemoryResolver>, Arc<ManualClock>>;

    fn new_cache(config: CacheConfig) -> (Cache, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new());
        let inner = Counting {
            inner: zone(),
            calls: AtomicUsize::new(0),
        };
        (
            CachingResolver::with_clock(inner, config, clock.clone()),
            clock,
        )
    }

    fn calls(cache: &Cache) -> usize {
        cache.inner().calls.load(Ordering::SeqCst)
    }

    fn ask(cache: &Cache, name: &str, rtype: RecordType) -> Outcome {
        futures::executor::block_on(cache.lookup(name, rtype))
    }

    #[test]
    fn records_are_kept_for_their_ttl() {
        let (cache, clock) = new_cache(CacheConfig::default());
        let first = ask(&cache, "example.test", RecordType::Txt).unwrap();
        assert_eq!(first.txt().next().unwrap().concat(), b"v=spf1 -all");
        assert_eq!(
            ask(&cache, "Example.TEST.", RecordType::Txt).unwrap(),
            first
        );
        assert_eq!(calls(&cache), 1);
        clock.advance(Duration::from_secs(59));
        assert_eq!(ask(&cache, "example.test", RecordType::Txt).unwrap(), first);
        assert_eq!(calls(&cache), 1);
        clock.advance(Duration::from_secs(1));
        assert!(
            cache.get_cached("example.test", RecordType::Txt).is_none(),
            "expired at the TTL"
        );
        ask(&cache, "example.test", RecordType::Txt).unwrap();
        assert_eq!(calls(&cache), 2);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (2, 2, 1));
    }

    #[test]
    fn uppercase_is_found_in_any_position_and_only_there() {
        for len in 0..40 {
            for at in 0..len {
                for (byte, upper) in [(b'A', true), (b'Z', true), (b'@', false), (b'[', false)] {
                    let mut name = vec![b'a'; len];
                    name[at] = byte;
                    assert_eq!(has_ascii_uppercase(&name), upper, "{len} {at} {byte}");
                }
            }
            assert!(!has_ascii_uppercase(&vec![b'z'; len]));
        }
        for byte in 0..=255u8 {
            assert_eq!(
                has_ascii_uppercase(&[b'x', byte, b'y']),
                byte.is_ascii_uppercase(),
                "{byte:#x}"
            );
            assert_eq!(
                has_ascii_uppercase(&[byte; 9]),
                byte.is_ascii_uppercase(),
                "{byte:#x}"
            );
        }
    }

    #[test]
    fn visit_ready_shows_the_cached_answer_until_it_expires() {
        let (cache, clock) = new_cache(CacheConfig::default());
        let mut seen = Vec::new();
        let mut visit = |a: &Outcome| seen.push(a.clone());
        assert!(!cache.visit_ready("example.test", RecordType::Txt, &mut visit));
        let first = ask(&cache, "example.test", RecordType::Txt);
        assert!(cache.visit_ready("EXAMPLE.test.", RecordType::Txt, &mut visit));
        assert!(!cache.visit_ready("example.test", RecordType::A, &mut visit));
        clock.advance(Duration::from_secs(60));
        assert!(!cache.visit_ready("example.test", RecordType::Txt, &mut visit));
        assert_eq!(seen, [first]);
        assert_eq!(calls(&cache), 1);
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn types_are_cached_apart() {
        let (cache, _) = new_cache(CacheConfig::default());
        ask(&cache, "example.test", RecordType::Txt).unwrap();
        assert!(matches!(
            ask(&cache, "example.test", RecordType::A),
            Ok(Answer::NoData { .. })
        ));
        assert_eq!(calls(&cache), 2);
        assert!(cache.get_cached("example.test", RecordType::A).is_some());
        assert!(cache.get_cached("example.test", RecordType::Mx).is_none());
    }

    #[test]
    fn ttl_floor_and_ceiling() {
        let config = CacheConfig::default()
            .with_ttl_bounds(Duration::from_secs(30), Duration::from_secs(100));
        let (cache, clock) = new_cache(config);
        ask(&cache, "short.example.test", RecordType::Txt).unwrap();
        ask(&cache, "long.example.test", RecordType::Txt).unwrap();
        clock.advance(Duration::from_secs(29));
        assert!(
            cache
                .get_cached("short.example.test", RecordType::Txt)
                .is_some(),
            "floor lifts TTL 5 to 30"
        );
        clock.advance(Duration::from_secs(1));
        assert!(
            cache
                .get_cached("short.example.test", RecordType::Txt)
                .is_none()
        );
        clock.advance(Duration::from_secs(69));
        assert!(
            cache
                .get_cached("long.example.test", RecordType::Txt)
                .is_some()
        );
        clock.advance(Duration::from_secs(1));
        assert!(
            cache
                .get_cached("long.example.test", RecordType::Txt)
                .is_none(),
            "ceiling cuts TTL 1000000 to 100"
        );
    }

    /// RFC 2308 §5: NXDOMAIN and NODATA are cached for the SOA's negative TTL (300 here),
    /// bounded by the negative ceiling.
    #[test]
    fn nxdomain_and_nodata_are_cached_by_their_negative_ttl() {
        let (cache, clock) = new_cache(CacheConfig::default());
        assert!(matches!(
            ask(&cache, "nope.example.test", RecordType::Txt),
            Ok(Answer::NxDomain { ttl: 300 })
        ));
        assert!(matches!(
            ask(&cache, "short.example.test", RecordType::A),
            Ok(Answer::NoData { ttl: 300 })
        ));
        clock.advance(Duration::from_secs(299));
        assert!(matches!(
            ask(&cache, "nope.example.test", RecordType::Txt),
            Ok(Answer::NxDomain { .. })
        ));
        assert!(matches!(
            ask(&cache, "short.example.test", RecordType::A),
            Ok(Answer::NoData { .. })
        ));
        assert_eq!(calls(&cache), 2);
        clock.advance(Duration::from_secs(1));
        assert!(
            cache
                .get_cached("nope.example.test", RecordType::Txt)
                .is_none()
        );
        assert!(
            cache
                .get_cached("short.example.test", RecordType::A)
                .is_none()
        );

        let config = CacheConfig::default()
            .with_negative_ttl_bounds(Duration::ZERO, Duration::from_secs(10));
        let (cache, clock) = new_cache(config);
        ask(&cache, "nope.example.test", RecordType::Txt).unwrap();
        clock.advance(Duration::from_secs(10));
        assert!(
            cache
                .get_cached("nope.example.test", RecordType::Txt)
                .is_none(),
            "negative ceiling"
        );
    }

    #[test]
    fn failures_are_not_cached_unless_asked() {
        let (cache, _) = new_cache(CacheConfig::default());
        for round in 1..=3 {
            let err = ask(&cache, "loop.example.test", RecordType::Txt).unwrap_err();
            assert_eq!(err.kind, FailureKind::ServFail);
            assert_eq!(calls(&cache), round);
        }
        assert_eq!(cache.stats().entries, 0);

        let (cache, _) = new_cache(CacheConfig::default().with_failure_ttl(Duration::from_secs(5)));
        ask(&cache, "loop.example.test", RecordType::Txt).unwrap_err();
        ask(&cache, "loop.example.test", RecordType::Txt).unwrap_err();
        assert_eq!(calls(&cache), 1);
    }

    #[test]
    fn zero_ttl_is_not_cached() {
        let clock = Arc::new(ManualClock::new());
        let inner = Counting {
            inner: MemoryResolver::from_records([Record {
                name: "zero.test".into(),
                ttl: 0,
                data: RData::A([192, 0, 2, 1].into()),
            }]),
            calls: AtomicUsize::new(0),
        };
        let cache = CachingResolver::with_clock(inner, CacheConfig::default(), clock);
        futures::executor::block_on(cache.lookup("zero.test", RecordType::A)).unwrap();
        futures::executor::block_on(cache.lookup("zero.test", RecordType::A)).unwrap();
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn size_is_bounded_and_the_least_recently_used_go_first() {
        let names: Vec<String> = (0..10).map(|i| format!("n{i}.example.test")).collect();
        let (cache, _) = new_cache(CacheConfig::default().with_max_entries(4));
        for name in &names[..4] {
            ask(&cache, name, RecordType::Txt).unwrap();
        }
        ask(&cache, &names[0], RecordType::Txt).unwrap();
        ask(&cache, &names[4], RecordType::Txt).unwrap();
        assert_eq!(cache.stats().entries, 4);
        assert!(
            cache.get_cached(&names[0], RecordType::Txt).is_some(),
            "recently used kept"
        );
        assert!(
            cache.get_cached(&names[1], RecordType::Txt).is_none(),
            "least recently used evicted"
        );
        for name in &names {
            ask(&cache, name, RecordType::Txt).unwrap();
        }
        let stats = cache.stats();
        assert!(stats.entries <= 4, "{stats:?}");
        assert!(stats.evictions >= 6, "{stats:?}");

        let (big, _) = new_cache(CacheConfig::default().with_max_entries(5000));
        for i in 0..20_000 {
            ask(&big, &format!("x{i}.example.test"), RecordType::Txt).unwrap();
        }
        assert!(big.stats().entries <= 5000, "{:?}", big.stats());
    }

    /// A resolver whose lookups all wait until the gate opens.
    struct Gated {
        calls: AtomicUsize,
        gate: tokio::sync::Semaphore,
        inner: MemoryResolver,
    }

    impl Resolver for Gated {
        fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                let _permit = self.gate.acquire().await.expect("gate stays open");
                self.inner.answer(name, rtype)
            })
        }
    }

    fn gated() -> Arc<CachingResolver<Gated, Arc<ManualClock>>> {
        let inner = Gated {
            calls: AtomicUsize::new(0),
            gate: tokio::sync::Semaphore::new(0),
            inner: zone(),
        };
        Arc::new(CachingResolver::with_clock(
            inner,
            CacheConfig::default(),
            Arc::new(ManualClock::new()),
        ))
    }

    async fn until(what: impl Fn() -> bool) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while !what() {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("condition reached within 10 s");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn identical_concurrent_lookups_are_asked_once() {
        let cache = gated();
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.lookup("example.test", RecordType::Txt).await })
            })
            .collect();
        until(|| cache.stats().coalesced == 49).await;
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 1);
        cache.inner().gate.add_permits(100);
        for task in tasks {
            let answer = task.await.unwrap().unwrap();
            assert_eq!(answer.txt().next().unwrap().concat(), b"v=spf1 -all");
        }
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 1);
        let stats = cache.stats();
        assert_eq!((stats.misses, stats.coalesced), (1, 49));
    }

    #[tokio::test]
    async fn waiters_ask_again_when_the_first_caller_is_dropped() {
        let cache = gated();
        let first = {
            let cache = cache.clone();
            tokio::spawn(async move { cache.lookup("example.test", RecordType::Txt).await })
        };
        until(|| cache.inner().calls.load(Ordering::SeqCst) == 1).await;
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.lookup("example.test", RecordType::Txt).await })
            })
            .collect();
        until(|| cache.stats().coalesced == 5).await;
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        until(|| cache.inner().calls.load(Ordering::SeqCst) == 2).await;
        cache.inner().gate.add_permits(100);
        for waiter in waiters {
            assert!(waiter.await.unwrap().unwrap().txt().next().is_some());
        }
        assert_eq!(cache.inner().calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn coarse_clock_moves_forward_in_steps() {
        let clock = CoarseClock::with_resolution(Duration::from_millis(1));
        let first = clock.now();
        let deadline = Instant::now() + Duration::from_secs(10);
        while clock.now() == first {
            assert!(Instant::now() < deadline, "coarse clock never moved");
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(clock.now() > first);
    }
}
