//! `check_host()` (RFC 7208 §4–§6) and the identities it is asked about (§2.3 HELO, §2.4 MAIL
//! FROM).
//!
//! Evaluation counts DNS-querying terms (§4.6.4: at most 10), void lookups (at most 2), MX and
//! PTR names (at most 10 each), follows `include` and `redirect` (§5.2, §6.1), fetches `exp=`
//! on `fail` (§6.2), and keeps a trace of each record, lookup and term when asked to. DNS comes
//! in through the [`Resolver`] and the time (only the `t` macro needs it) through
//! [`SpfParams::now`].
//!
//! The evaluation is plain synchronous code over the answers at hand (those the resolver has
//! ready, [`Resolver::lookup_ready`], and those this check already fetched); the async
//! [`SpfVerifier::check_host`] awaits only the question it lacks and evaluates again. A warm
//! check therefore creates no future and takes no lock beyond the DNS cache's.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use inkan_dns::{Answer, DnsError, FailureKind, RData, RecordSet, RecordType, Resolver};
use serde::{Serialize, Serializer};

use super::macros::{ExpandError, MacroContext, MacroString};
use super::parse::{is_spf_record, parse_record};
use super::{
    MAX_DNS_LOOKUPS, MAX_NAME_LOOKUPS, MAX_VOID_LOOKUPS, Mechanism, ParseError, SpfRecord,
    SpfResult,
};

/// The explanation given on `fail` when the record has no usable `exp=` (RFC 7208 §6.2).
pub const DEFAULT_EXPLANATION: &str = "%{i} is not one of %{d}'s designated mail senders";

/// What to check: the client and the identities it presented.
#[derive(Clone, Copy, Debug)]
pub struct SpfParams<'a> {
    /// The SMTP client's address. IPv4-mapped IPv6 addresses are checked as IPv4.
    pub ip: IpAddr,
    /// The HELO/EHLO domain (`%{h}`).
    pub helo: &'a str,
    /// The MAIL FROM address; empty means `postmaster@<helo>` (RFC 7208 §2.4).
    pub sender: &'a str,
    /// The receiving host's name (`%{r}` in explanations); empty means `unknown`.
    pub receiver: &'a str,
    /// Seconds since the Unix epoch, for `%{t}` in explanations.
    pub now: u64,
    /// Record the trace of each step.
    pub trace: bool,
}

impl<'a> SpfParams<'a> {
    /// Parameters with a trace, no receiver name and time 0.
    pub fn new(ip: IpAddr, helo: &'a str, sender: &'a str) -> Self {
        SpfParams {
            ip,
            helo,
            sender,
            receiver: "",
            now: 0,
            trace: true,
        }
    }
}

/// Which identity a result is about (RFC 7208 §2.3, §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    /// The HELO/EHLO domain.
    Helo,
    /// The MAIL FROM (reverse-path) domain.
    MailFrom,
}

impl Identity {
    /// `helo` or `mailfrom`, as RFC 8601 names the properties `smtp.helo` / `smtp.mailfrom`.
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::Helo => "helo",
            Identity::MailFrom => "mailfrom",
        }
    }
}

/// Where an explanation came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplanationSource {
    /// The record's `exp=` TXT record.
    Exp,
    /// inkan's [`DEFAULT_EXPLANATION`].
    Default,
}

/// Why `check_host()` reached its result.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpfReason {
    /// A mechanism matched (see [`SpfOutput::mechanism`]).
    Matched,
    /// No mechanism matched and there was no `redirect=` (RFC 7208 §4.7).
    NoMatch,
    /// The domain is not a fully qualified domain name (§4.3).
    InvalidDomain(String),
    /// The domain publishes no SPF record (§4.5).
    NoRecord(String),
    /// The domain publishes more than one SPF record (§4.5).
    MultipleRecords(String, usize),
    /// A record has a syntax error (§4.6).
    Syntax(String, ParseError),
    /// More than 10 DNS-querying terms (§4.6.4).
    LookupLimit,
    /// More than 2 void lookups (§4.6.4).
    VoidLimit,
    /// An `mx` mechanism found more than 10 MX names (§4.6.4).
    TooManyMx(String),
    /// An `include` target has no SPF record (§5.2).
    IncludeWithoutRecord(String),
    /// A `redirect` target has no SPF record (§6.1).
    RedirectWithoutRecord(String),
    /// DNS gave no answer (§2.6.6).
    Dns(DnsError),
    /// A macro expanded beyond the size inkan allows.
    Expansion(ExpandError),
}

impl fmt::Display for SpfReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpfReason::Matched => f.write_str("a mechanism matched"),
            SpfReason::NoMatch => f.write_str("no mechanism matched and there is no redirect"),
            SpfReason::InvalidDomain(d) => write!(f, "'{d}' is not a fully qualified domain name"),
            SpfReason::NoRecord(d) => write!(f, "no SPF record at '{d}'"),
            SpfReason::MultipleRecords(d, n) => write!(f, "{n} SPF records at '{d}'"),
            SpfReason::Syntax(d, e) => write!(f, "syntax error in the SPF record at '{d}': {e}"),
            SpfReason::LookupLimit => write!(f, "more than {MAX_DNS_LOOKUPS} DNS-querying terms"),
            SpfReason::VoidLimit => write!(f, "more than {MAX_VOID_LOOKUPS} void lookups"),
            SpfReason::TooManyMx(d) => write!(f, "more than {MAX_NAME_LOOKUPS} MX names at '{d}'"),
            SpfReason::IncludeWithoutRecord(d) => {
                write!(f, "included domain '{d}' has no SPF record")
            }
            SpfReason::RedirectWithoutRecord(d) => {
                write!(f, "redirect target '{d}' has no SPF record")
            }
            SpfReason::Dns(e) => write!(f, "DNS failure: {e}"),
            SpfReason::Expansion(e) => write!(f, "{e}"),
        }
    }
}

impl Serialize for SpfReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One step of an evaluation, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum TraceStep {
    /// `check_host()` started on a domain.
    CheckHost {
        /// The domain.
        domain: String,
        /// `top`, `include` or `redirect`.
        via: &'static str,
    },
    /// The SPF record found for a domain.
    Record {
        /// The domain.
        domain: String,
        /// The record text.
        record: String,
    },
    /// A DNS question and what came back.
    Lookup {
        /// The name asked.
        name: String,
        /// The type asked.
        rtype: &'static str,
        /// `N records`, `nxdomain`, `nodata`, or the failure.
        answer: String,
    },
    /// A term was evaluated.
    Term {
        /// The domain whose record holds the term.
        domain: String,
        /// The term as published.
        term: String,
        /// Whether it matched.
        matched: bool,
    },
    /// `check_host()` finished on a domain.
    Result {
        /// The domain.
        domain: String,
        /// Its result.
        result: SpfResult,
        /// Why.
        reason: String,
    },
}

/// What `check_host()` concluded, with how it got there.
///
/// The domain, the sender and the matched term's domain borrow from the [`SpfParams`] when
/// they can, so a check allocates nothing for them; [`SpfOutput::into_owned`] detaches the
/// output from the parameters.
#[derive(Clone, Debug, Serialize)]
pub struct SpfOutput<'a> {
    /// The result.
    pub result: SpfResult,
    /// The domain checked (`<domain>` of RFC 7208 §4.1).
    pub domain: Cow<'a, str>,
    /// The sender used (`postmaster@<helo>` when MAIL FROM was empty).
    pub sender: Cow<'a, str>,
    /// On `fail`: the explanation (RFC 7208 §6.2).
    pub explanation: Option<String>,
    /// Where the explanation came from.
    pub explanation_source: Option<ExplanationSource>,
    /// The term that decided the result, as published.
    pub mechanism: Option<String>,
    /// The domain whose record holds that term.
    pub mechanism_domain: Option<Cow<'a, str>>,
    /// DNS-querying terms evaluated (RFC 7208 §4.6.4).
    pub dns_lookups: u32,
    /// Void lookups seen (RFC 7208 §4.6.4).
    pub void_lookups: u32,
    /// Why.
    pub reason: SpfReason,
    /// Each step, when [`SpfParams::trace`] was set.
    pub trace: Vec<TraceStep>,
}

impl SpfOutput<'_> {
    /// The same output owning all its text.
    pub fn into_owned(self) -> SpfOutput<'static> {
        SpfOutput {
            result: self.result,
            domain: Cow::Owned(self.domain.into_owned()),
            sender: Cow::Owned(self.sender.into_owned()),
            explanation: self.explanation,
            explanation_source: self.explanation_source,
            mechanism: self.mechanism,
            mechanism_domain: self.mechanism_domain.map(|d| Cow::Owned(d.into_owned())),
            dns_lookups: self.dns_lookups,
            void_lookups: self.void_lookups,
            reason: self.reason,
            trace: self.trace,
        }
    }
}

/// The SPF verdict on a message: which identity was checked and what came out.
#[derive(Clone, Debug, Serialize)]
pub struct SpfVerdict<'a> {
    /// The identity checked: MAIL FROM, or HELO when MAIL FROM is empty.
    pub identity: Identity,
    /// The domain of that identity.
    pub domain: String,
    /// The `check_host()` output for it.
    pub output: SpfOutput<'a>,
}

/// The record selected at a name: none, one (parsed), or a reason for permerror.
#[derive(Clone, Debug)]
enum Selection {
    None,
    One(Rc<SpfRecord>),
    Multiple(usize),
    Invalid(ParseError),
}

type ParsedRecords = HashMap<usize, (Arc<RecordSet>, Selection), BuildHasherDefault<AddressHasher>>;

thread_local! {
    /// Parsed records keyed by the address of the answer they came from: with a caching
    /// resolver that hands out the same `Arc` while an answer is cached, each record is parsed
    /// once. An entry holds its answer, so the address cannot be reused by another answer while
    /// the entry lives, and the table can be shared by every verifier on the thread. One table
    /// per thread: a hit takes no lock (a shared lock's atomic operations cost more than the
    /// rest of the lookup on the machines this runs on), and the records are shared by `Rc`,
    /// whose count is a plain increment.
    static PARSED_RECORDS: RefCell<ParsedRecords> = RefCell::default();
}

/// Hashes an address with one multiplication: the keys are heap addresses chosen by the
/// allocator, not by whoever publishes DNS, so nobody can aim collisions at the map.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        // Allocations are 16-byte aligned: drop the constant low bits, spread the rest.
        self.0 = ((n as u64) >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Entries a thread's table of parsed records holds before it starts over.
const RECORD_CACHE_CAPACITY: usize = 4096;

/// The record selected from `set`, parsed once per answer when `cached`.
fn selection(set: &Arc<RecordSet>, cached: bool) -> Selection {
    if !cached {
        return select(set);
    }
    let key = Arc::as_ptr(set) as usize;
    PARSED_RECORDS
        .try_with(|table| {
            let mut table = table.borrow_mut();
            if let Some((_, s)) = table.get(&key) {
                return s.clone();
            }
            let s = select(set);
            if table.len() >= RECORD_CACHE_CAPACITY {
                table.clear();
            }
            table.insert(key, (Arc::clone(set), s.clone()));
            s
        })
        .unwrap_or_else(|_| select(set))
}

/// Runs `check_host()` with one resolver, optionally remembering parsed records.
pub struct SpfVerifier<'r> {
    resolver: &'r dyn Resolver,
    record_cache: bool,
}

impl fmt::Debug for SpfVerifier<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpfVerifier")
            .field("record_cache", &self.record_cache)
            .finish()
    }
}

impl<'r> SpfVerifier<'r> {
    /// A verifier asking `resolver`.
    pub fn new(resolver: &'r dyn Resolver) -> Self {
        SpfVerifier {
            resolver,
            record_cache: false,
        }
    }

    /// Keeps parsed records keyed by the DNS answer they came from (in a table per thread,
    /// at most 4,096 records each). Worth it in front of a caching resolver, which returns the
    /// same answer object while it is cached.
    pub fn with_record_cache(mut self) -> Self {
        self.record_cache = true;
        self
    }

    /// `check_host()` for the MAIL FROM identity (or `postmaster@<helo>` when it is empty).
    ///
    /// The evaluation itself is synchronous: it reads answers the resolver has ready
    /// ([`Resolver::lookup_ready`], a cache hit) or that this check already fetched. When it
    /// meets a question with no answer at hand it stops, this function awaits that one lookup
    /// and evaluates again from the start with the answer kept. With warm caches a check is
    /// therefore one pass that creates no future; with cold DNS each question is still asked
    /// once, in the order the RFC's evaluation asks it.
    pub async fn check_host<'p>(&self, params: &SpfParams<'p>) -> SpfOutput<'p> {
        let mut fetched: Vec<Fetched> = Vec::new();
        loop {
            match self.pass(params, &fetched) {
                Ok(output) => return output,
                Err((name, rtype)) => {
                    let answer = self.resolver.lookup(&name, rtype).await;
                    fetched.push((name, rtype, answer));
                }
            }
        }
    }

    /// One synchronous evaluation over the answers at hand: the output, or the first question
    /// it lacked. Parsed records are shared through `Rc` in here and never outlive the pass, so
    /// the future of [`SpfVerifier::check_host`] stays `Send`.
    fn pass<'p>(
        &self,
        params: &SpfParams<'p>,
        fetched: &[Fetched],
    ) -> Result<SpfOutput<'p>, (String, RecordType)> {
        let postmaster = params
            .sender
            .is_empty()
            .then(|| format!("postmaster@{}", params.helo));
        // The domain is what follows the sender's last `@`; for `postmaster@<helo>` that is a
        // suffix of the HELO name, so it borrows from the parameters either way.
        let (local, domain): (&str, &'p str) = match &postmaster {
            None => match params.sender.rsplit_once('@') {
                Some(("", d)) => ("postmaster", d),
                Some((l, d)) => (l, d),
                None => ("postmaster", params.sender),
            },
            Some(p) => (
                p.rsplit_once('@').map_or("postmaster", |(l, _)| l),
                params.helo.rsplit_once('@').map_or(params.helo, |(_, d)| d),
            ),
        };
        let ip = match params.ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(params.ip, IpAddr::V4),
            v4 => v4,
        };
        let mut eval = Eval {
            resolver: self.resolver,
            record_cache: self.record_cache,
            fetched,
            ip,
            sender: postmaster.as_deref().unwrap_or(params.sender),
            local,
            sender_domain: domain,
            helo: params.helo,
            receiver: params.receiver,
            now: params.now,
            lookups: 0,
            voids: 0,
            trace: params.trace.then(Vec::new),
            validated_name: None,
            missing: None,
            matched: None,
            explanation: None,
        };
        let outcome = if is_fqdn(domain) {
            eval.check(domain, Via::Top)
        } else {
            Outcome::stop(SpfResult::None, SpfReason::InvalidDomain(domain.to_owned()))
        };
        let Eval {
            lookups,
            voids,
            trace,
            missing,
            matched,
            explanation,
            ..
        } = eval;
        if let Some(question) = missing {
            return Err(question);
        }
        let decided_by_term = outcome.reason == SpfReason::Matched;
        let (mechanism, mechanism_domain) = match matched.filter(|_| decided_by_term) {
            Some(m) => (
                Some(String::from(&*m.record.directives[m.index].text)),
                Some(m.domain.map_or(Cow::Borrowed(domain), Cow::Owned)),
            ),
            None => (None, None),
        };
        let (explanation, explanation_source) = explanation
            .filter(|_| decided_by_term)
            .map_or((None, None), |(text, source)| (Some(text), Some(source)));
        Ok(SpfOutput {
            result: outcome.result,
            domain: Cow::Borrowed(domain),
            sender: postmaster.map_or(Cow::Borrowed(params.sender), Cow::Owned),
            explanation,
            explanation_source,
            mechanism,
            mechanism_domain,
            dns_lookups: lookups,
            void_lookups: voids,
            reason: outcome.reason,
            trace: trace.unwrap_or_default(),
        })
    }

    /// The SPF result a receiver uses for a message: MAIL FROM when it is not empty, else the
    /// HELO identity (RFC 7208 §2.3, §2.4; what DMARC aligns on).
    pub async fn verify<'a>(
        &self,
        ip: IpAddr,
        helo: &'a str,
        mail_from: &'a str,
        now: u64,
    ) -> SpfVerdict<'a> {
        let params = SpfParams {
            ip,
            helo,
            sender: mail_from,
            receiver: "",
            now,
            trace: false,
        };
        let output = self.check_host(&params).await;
        let identity = if mail_from.is_empty() {
            Identity::Helo
        } else {
            Identity::MailFrom
        };
        SpfVerdict {
            identity,
            domain: output.domain.clone().into_owned(),
            output,
        }
    }
}

/// `check_host()` with no record cache: see [`SpfVerifier`].
pub async fn check_host<'p>(resolver: &dyn Resolver, params: &SpfParams<'p>) -> SpfOutput<'p> {
    SpfVerifier::new(resolver).check_host(params).await
}

/// A fully qualified domain name as RFC 7208 §4.3 requires: at least two labels of 1–63
/// bytes, at most 253 bytes, no domain literal.
pub(crate) fn is_fqdn(domain: &str) -> bool {
    let d = domain.strip_suffix('.').unwrap_or(domain);
    if d.len() > 253 {
        return false;
    }
    // One pass over the bytes (this runs on every check).
    let (mut dots, mut label) = (0, 0);
    for &b in d.as_bytes() {
        if b == b'.' {
            if label == 0 {
                return false;
            }
            dots += 1;
            label = 0;
        } else if b.is_ascii_graphic() && b != b'[' && b != b']' && label < 63 {
            label += 1;
        } else {
            return false;
        }
    }
    dots > 0 && label > 0
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Top,
    Include,
    Redirect,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Top => "top",
            Via::Include => "include",
            Via::Redirect => "redirect",
        }
    }
}

/// A question this check has already asked, with its answer.
type Fetched = (String, RecordType, Result<Answer, DnsError>);

/// The directive that decided a result; its text is copied out only for the final output.
struct MatchedTerm {
    record: Rc<SpfRecord>,
    index: usize,
    /// The domain whose record holds it, when that is not the domain checked (a `redirect=`
    /// target).
    domain: Option<String>,
}

/// What one `check_host()` level concluded. The matched term and the explanation, which only
/// the top level and `redirect=` targets report, are kept in [`Eval`] instead, so the value
/// passed back up through the includes stays small.
struct Outcome {
    result: SpfResult,
    reason: SpfReason,
}

impl Outcome {
    fn stop(result: SpfResult, reason: SpfReason) -> Self {
        Outcome { result, reason }
    }

    /// Ends a pass that met a question with no answer at hand ([`Eval::missing`] says which);
    /// the driver discards it.
    fn pending() -> Self {
        Outcome::stop(SpfResult::TempError, SpfReason::NoMatch)
    }
}

struct Eval<'a> {
    resolver: &'a dyn Resolver,
    record_cache: bool,
    fetched: &'a [Fetched],
    ip: IpAddr,
    sender: &'a str,
    local: &'a str,
    sender_domain: &'a str,
    helo: &'a str,
    receiver: &'a str,
    now: u64,
    lookups: u32,
    voids: u32,
    trace: Option<Vec<TraceStep>>,
    /// `%{p}`, resolved on first use.
    validated_name: Option<Option<String>>,
    /// The first question this pass needed and could not answer at once.
    missing: Option<(String, RecordType)>,
    /// The term that decided the result, set by the top level or a `redirect=` target.
    matched: Option<MatchedTerm>,
    /// The explanation of a `fail` decided there.
    explanation: Option<(String, ExplanationSource)>,
}

/// Ends a term's evaluation early with an outcome.
type Step<T> = Result<T, Outcome>;

// The error arm carries the final outcome of the whole check and is built at most once per
// check, so its size costs nothing on the hot path.
#[allow(clippy::result_large_err)]
impl<'a> Eval<'a> {
    fn ctx<'c>(&'c self, domain: &'c str) -> MacroContext<'c> {
        MacroContext {
            sender: self.sender,
            local_part: self.local,
            sender_domain: self.sender_domain,
            domain,
            ip: self.ip,
            helo: self.helo,
            receiver: self.receiver,
            now: self.now,
            validated_name: self.validated_name.as_ref().and_then(|v| v.as_deref()),
        }
    }

    fn check(&mut self, domain: &str, via: Via) -> Outcome {
        if let Some(t) = &mut self.trace {
            t.push(TraceStep::CheckHost {
                domain: domain.to_owned(),
                via: via.as_str(),
            });
        }
        let outcome = match self.evaluate(domain, via) {
            Ok(o) | Err(o) => o,
        };
        if let Some(t) = &mut self.trace {
            t.push(TraceStep::Result {
                domain: domain.to_owned(),
                result: outcome.result,
                reason: outcome.reason.to_string(),
            });
        }
        outcome
    }

    fn evaluate(&mut self, domain: &str, via: Via) -> Step<Outcome> {
        let record = match self.fetch_record(domain)? {
            Some(r) => r,
            None => {
                return Ok(Outcome::stop(
                    SpfResult::None,
                    SpfReason::NoRecord(domain.to_owned()),
                ));
            }
        };
        if let Some(t) = &mut self.trace {
            t.push(TraceStep::Record {
                domain: domain.to_owned(),
                record: record.text.to_string(),
            });
        }
        let mut target = String::new();
        for (index, directive) in record.directives.iter().enumerate() {
            let matched = match &directive.mechanism {
                Mechanism::All => true,
                Mechanism::Ip4 { addr, prefix } => match self.ip {
                    IpAddr::V4(ip) => ipv4_match(ip, *addr, *prefix),
                    IpAddr::V6(_) => false,
                },
                Mechanism::Ip6 { addr, prefix } => match self.ip {
                    IpAddr::V6(ip) => ipv6_match(ip, *addr, *prefix),
                    IpAddr::V4(_) => false,
                },
                Mechanism::A {
                    domain: spec,
                    v4,
                    v6,
                } => {
                    self.count_lookup()?;
                    let name = self.target(spec.as_ref(), domain, &mut target)?;
                    self.match_addresses(name, *v4, *v6, true)?
                }
                Mechanism::Mx {
                    domain: spec,
                    v4,
                    v6,
                } => {
                    self.count_lookup()?;
                    let name = self.target(spec.as_ref(), domain, &mut target)?;
                    self.match_mx(name, *v4, *v6)?
                }
                Mechanism::Ptr(spec) => {
                    self.count_lookup()?;
                    let name = self.target(spec.as_ref(), domain, &mut target)?;
                    self.match_ptr(name)?
                }
                Mechanism::Exists(spec) => {
                    self.count_lookup()?;
                    let name = self.target(Some(spec), domain, &mut target)?;
                    self.match_exists(name)?
                }
                Mechanism::Include(spec) => {
                    self.count_lookup()?;
                    let name = self.target(Some(spec), domain, &mut target)?;
                    let sub = self.check(name, Via::Include);
                    if self.missing.is_some() {
                        return Err(sub);
                    }
                    match sub.result {
                        SpfResult::Pass => true,
                        SpfResult::Fail | SpfResult::SoftFail | SpfResult::Neutral => false,
                        SpfResult::TempError => return Err(sub),
                        SpfResult::PermError => return Err(sub),
                        SpfResult::None => {
                            return Err(Outcome::stop(
                                SpfResult::PermError,
                                SpfReason::IncludeWithoutRecord(name.to_owned()),
                            ));
                        }
                    }
                }
            };
            if let Some(t) = &mut self.trace {
                t.push(TraceStep::Term {
                    domain: domain.to_owned(),
                    term: directive.text.to_string(),
                    matched,
                });
            }
            if matched {
                let result = directive.qualifier.result();
                // Under an include the caller reports its own term instead.
                if via != Via::Include {
                    if result == SpfResult::Fail {
                        self.explanation = Some(self.explain(&record, domain)?);
                    }
                    self.matched = Some(MatchedTerm {
                        record: Rc::clone(&record),
                        index,
                        domain: (via == Via::Redirect).then(|| domain.to_owned()),
                    });
                }
                return Ok(Outcome::stop(result, SpfReason::Matched));
            }
        }
        if let Some(spec) = &record.redirect {
            self.count_lookup()?;
            let name = self.target(Some(spec), domain, &mut target)?;
            let next = if via == Via::Include {
                Via::Include
            } else {
                Via::Redirect
            };
            let sub = self.check(name, next);
            if self.missing.is_some() {
                return Err(sub);
            }
            if sub.result == SpfResult::None {
                return Ok(Outcome::stop(
                    SpfResult::PermError,
                    SpfReason::RedirectWithoutRecord(name.to_owned()),
                ));
            }
            return Ok(sub);
        }
        Ok(Outcome::stop(SpfResult::Neutral, SpfReason::NoMatch))
    }

    fn count_lookup(&mut self) -> Step<()> {
        self.lookups += 1;
        if self.lookups > MAX_DNS_LOOKUPS {
            return Err(Outcome::stop(SpfResult::PermError, SpfReason::LookupLimit));
        }
        Ok(())
    }

    fn count_void(&mut self) -> Step<()> {
        self.voids += 1;
        if self.voids > MAX_VOID_LOOKUPS {
            return Err(Outcome::stop(SpfResult::PermError, SpfReason::VoidLimit));
        }
        Ok(())
    }

    /// The name a term queries: its expanded domain-spec, or the current domain.
    fn target<'t>(
        &mut self,
        spec: Option<&'t MacroString>,
        domain: &'t str,
        buf: &'t mut String,
    ) -> Step<&'t str> {
        let Some(spec) = spec else { return Ok(domain) };
        if let Some(lit) = spec.as_literal() {
            return Ok(lit.strip_suffix('.').unwrap_or(lit));
        }
        if spec.uses_validated_name() && self.validated_name.is_none() {
            let name = self.validated_name_of_ip(domain)?;
            self.validated_name = Some(name);
        }
        spec.expand_domain(&self.ctx(domain), buf)
            .map_err(|e| Outcome::stop(SpfResult::PermError, SpfReason::Expansion(e)))?;
        Ok(buf.as_str())
    }

    /// The answer to a question: one this check already fetched, or one the resolver has
    /// ready. Neither: remember the question and end the pass (the `Err` arm).
    fn lookup(&mut self, name: &str, rtype: RecordType) -> Step<Result<Answer, DnsError>> {
        self.lookup_with(name, rtype, Clone::clone)
    }

    /// [`Eval::lookup`] handing the answer to `read` instead of returning a copy: from a cache,
    /// `read` runs on the cached answer itself ([`Resolver::visit_ready`]), so it must not ask
    /// DNS.
    fn lookup_with<T>(
        &mut self,
        name: &str,
        rtype: RecordType,
        read: impl FnOnce(&Result<Answer, DnsError>) -> T,
    ) -> Step<T> {
        let describe = self.trace.is_some();
        let mut read = Some(read);
        let mut out = None;
        let mut summary = None;
        let mut visit = |answer: &Result<Answer, DnsError>| {
            if describe {
                summary = Some(describe_answer(answer));
            }
            if let Some(read) = read.take() {
                out = Some(read(answer));
            }
        };
        let fetched = self
            .fetched
            .iter()
            .find(|(n, t, _)| *t == rtype && n == name);
        let ready = match fetched {
            Some((_, _, answer)) => {
                visit(answer);
                true
            }
            None => self.resolver.visit_ready(name, rtype, &mut visit),
        };
        let Some(out) = out.filter(|_| ready) else {
            if self.missing.is_none() {
                self.missing = Some((name.to_owned(), rtype));
            }
            return Err(Outcome::pending());
        };
        if let (Some(t), Some(answer)) = (&mut self.trace, summary) {
            t.push(TraceStep::Lookup {
                name: name.to_owned(),
                rtype: rtype.as_str(),
                answer,
            });
        }
        Ok(out)
    }

    /// The answer for a term's query: a DNS failure ends evaluation with temperror; a name
    /// that cannot be asked counts as nonexistent (RFC 7208 §4.3, §5 "no match").
    fn term_lookup(&mut self, name: &str, rtype: RecordType) -> Step<Option<Answer>> {
        match self.lookup(name, rtype)? {
            Ok(answer) if answer.is_empty() => {
                self.count_void()?;
                Ok(None)
            }
            Ok(answer) => Ok(Some(answer)),
            Err(e) if e.kind == FailureKind::InvalidName => Ok(None),
            Err(e) => Err(Outcome::stop(SpfResult::TempError, SpfReason::Dns(e))),
        }
    }

    fn fetch_record(&mut self, domain: &str) -> Step<Option<Rc<SpfRecord>>> {
        let record_cache = self.record_cache;
        let selected = self.lookup_with(domain, RecordType::Txt, |answer| match answer {
            Ok(Answer::Records(set)) => Ok(Some(selection(set, record_cache))),
            Ok(Answer::NxDomain { .. } | Answer::NoData { .. }) => Ok(None),
            Err(e) => Err(e.clone()),
        })?;
        let selection = match selected {
            Ok(Some(s)) => s,
            Ok(None) => return Ok(None),
            Err(e) if e.kind == FailureKind::InvalidName => return Ok(None),
            Err(e) => return Err(Outcome::stop(SpfResult::TempError, SpfReason::Dns(e))),
        };
        match selection {
            Selection::None => Ok(None),
            Selection::One(r) => Ok(Some(r)),
            Selection::Multiple(n) => Err(Outcome::stop(
                SpfResult::PermError,
                SpfReason::MultipleRecords(domain.to_owned(), n),
            )),
            Selection::Invalid(e) => Err(Outcome::stop(
                SpfResult::PermError,
                SpfReason::Syntax(domain.to_owned(), e),
            )),
        }
    }

    fn match_addresses(&mut self, name: &str, v4: u8, v6: u8, count_void: bool) -> Step<bool> {
        let rtype = if self.ip.is_ipv4() {
            RecordType::A
        } else {
            RecordType::Aaaa
        };
        let ip = self.ip;
        // Some(matched), or None for an empty answer; read in place from a cache.
        let found = self.lookup_with(name, rtype, |answer| match answer {
            Ok(a) if a.is_empty() => Ok(None),
            Ok(a) => Ok(Some(any_address_matches(ip, a, v4, v6))),
            Err(e) => Err(e.clone()),
        })?;
        match found {
            Ok(Some(matched)) => Ok(matched),
            Ok(None) => {
                // A void lookup counts for the term's own query, not for an MX host's.
                if count_void {
                    self.count_void()?;
                }
                Ok(false)
            }
            Err(e) if e.kind == FailureKind::InvalidName => Ok(false),
            Err(e) => Err(Outcome::stop(SpfResult::TempError, SpfReason::Dns(e))),
        }
    }

    fn match_mx(&mut self, name: &str, v4: u8, v6: u8) -> Step<bool> {
        let Some(answer) = self.term_lookup(name, RecordType::Mx)? else {
            return Ok(false);
        };
        let exchanges = || answer.names().filter(|n| !n.is_empty() && *n != ".");
        if exchanges().count() > MAX_NAME_LOOKUPS {
            return Err(Outcome::stop(
                SpfResult::PermError,
                SpfReason::TooManyMx(name.to_owned()),
            ));
        }
        for host in exchanges() {
            if self.match_addresses(host, v4, v6, false)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn match_exists(&mut self, name: &str) -> Step<bool> {
        Ok(self.term_lookup(name, RecordType::A)?.is_some())
    }

    /// The client's PTR names that resolve back to it, at most 10 tried (RFC 7208 §5.5).
    fn validated_names(&mut self, wanted: Option<&str>) -> Step<Vec<String>> {
        let reverse = reverse_name(self.ip);
        let answer = match self.lookup(&reverse, RecordType::Ptr)? {
            Ok(a) if a.is_empty() => {
                if wanted.is_some() {
                    self.count_void()?;
                }
                return Ok(Vec::new());
            }
            Ok(a) => a,
            Err(_) => return Ok(Vec::new()),
        };
        let rtype = if self.ip.is_ipv4() {
            RecordType::A
        } else {
            RecordType::Aaaa
        };
        let mut valid = Vec::new();
        for name in answer.names().take(MAX_NAME_LOOKUPS) {
            let name = name.strip_suffix('.').unwrap_or(name);
            if let Some(target) = wanted
                && !is_subdomain(name, target)
            {
                continue;
            }
            if let Ok(addrs) = self.lookup(name, rtype)?
                && any_address_matches(self.ip, &addrs, 32, 128)
            {
                valid.push(name.to_owned());
            }
        }
        Ok(valid)
    }

    fn match_ptr(&mut self, target: &str) -> Step<bool> {
        Ok(!self.validated_names(Some(target))?.is_empty())
    }

    /// `%{p}`: the validated name of the client, preferring `domain` or a subdomain of it
    /// (RFC 7208 §7.3).
    fn validated_name_of_ip(&mut self, domain: &str) -> Step<Option<String>> {
        let names = self.validated_names(None)?;
        Ok(names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(domain))
            .or_else(|| names.iter().find(|n| is_subdomain(n, domain)))
            .or_else(|| names.first())
            .cloned())
    }

    /// The explanation for a `fail` from `record` at `domain` (RFC 7208 §6.2): the `exp=`
    /// text expanded, or the default when it is missing or unusable.
    fn explain(&mut self, record: &SpfRecord, domain: &str) -> Step<(String, ExplanationSource)> {
        if let Some(text) = self.exp_text(record, domain)? {
            return Ok((text, ExplanationSource::Exp));
        }
        let mut out = String::new();
        if let Some(ms) = default_explanation() {
            let _ = ms.expand_into(&self.ctx(domain), &mut out);
        }
        Ok((out, ExplanationSource::Default))
    }

    /// The `exp=` text, expanded; `None` when there is none or it cannot be used (its
    /// failures are ignored, RFC 7208 §6.2).
    fn exp_text(&mut self, record: &SpfRecord, domain: &str) -> Step<Option<String>> {
        let Some(spec) = record.exp.as_ref() else {
            return Ok(None);
        };
        let mut buf = String::new();
        let name = match self.target(Some(spec), domain, &mut buf) {
            Ok(name) => name.to_owned(),
            Err(pending) if self.missing.is_some() => return Err(pending),
            Err(_) => return Ok(None),
        };
        let Ok(answer) = self.lookup(&name, RecordType::Txt)? else {
            return Ok(None);
        };
        let mut txt = answer.txt();
        let (Some(only), None) = (txt.next(), txt.next()) else {
            return Ok(None);
        };
        let Ok(text) = String::from_utf8(only.concat()) else {
            return Ok(None);
        };
        let Ok(ms) = MacroString::parse(&text, true) else {
            return Ok(None);
        };
        if ms.uses_validated_name() && self.validated_name.is_none() {
            let v = self.validated_name_of_ip(domain)?;
            self.validated_name = Some(v);
        }
        let mut out = String::new();
        Ok(ms
            .expand_into(&self.ctx(domain), &mut out)
            .ok()
            .map(|()| out))
    }
}

/// Some address record of `answer` covers `ip` with the mechanism's prefix lengths.
fn any_address_matches(ip: IpAddr, answer: &Answer, v4: u8, v6: u8) -> bool {
    answer.records().iter().any(|r| match (&r.data, ip) {
        (RData::A(a), IpAddr::V4(ip)) => ipv4_match(ip, *a, v4),
        (RData::Aaaa(a), IpAddr::V6(ip)) => ipv6_match(ip, *a, v6),
        _ => false,
    })
}

/// How a trace shows an answer: `N records`, `nxdomain`, `nodata`, or the failure.
fn describe_answer(answer: &Result<Answer, DnsError>) -> String {
    match answer {
        Ok(Answer::Records(set)) => format!("{} records", set.records.len()),
        Ok(Answer::NxDomain { .. }) => "nxdomain".to_owned(),
        Ok(Answer::NoData { .. }) => "nodata".to_owned(),
        Err(e) => format!("{}: {}", e.kind, e.detail),
    }
}

/// `ip` is inside `net/prefix`.
fn ipv4_match(ip: Ipv4Addr, net: Ipv4Addr, prefix: u8) -> bool {
    let mask = u32::MAX
        .checked_shl(32 - u32::from(prefix.min(32)))
        .unwrap_or(0);
    (u32::from(ip) ^ u32::from(net)) & mask == 0
}

/// `ip` is inside `net/prefix`.
fn ipv6_match(ip: Ipv6Addr, net: Ipv6Addr, prefix: u8) -> bool {
    let mask = u128::MAX
        .checked_shl(128 - u32::from(prefix.min(128)))
        .unwrap_or(0);
    (u128::from(ip) ^ u128::from(net)) & mask == 0
}

/// [`DEFAULT_EXPLANATION`], parsed once.
fn default_explanation() -> Option<&'static MacroString> {
    static PARSED: OnceLock<Option<MacroString>> = OnceLock::new();
    PARSED
        .get_or_init(|| MacroString::parse(DEFAULT_EXPLANATION, true).ok())
        .as_ref()
}

fn select(set: &RecordSet) -> Selection {
    let mut found = None;
    let mut count = 0;
    for r in &set.records {
        let txt = match &r.data {
            RData::Txt(t) => t,
            _ => continue,
        };
        if is_spf_record(txt.strings().iter().flatten().copied()) {
            count += 1;
            if found.is_none() {
                found = Some(txt);
            }
        }
    }
    match (count, found) {
        (0, _) | (_, None) => Selection::None,
        (1, Some(txt)) => match parse_record(&txt.concat()) {
            Ok(r) => Selection::One(Rc::new(r)),
            Err(e) => Selection::Invalid(e),
        },
        (n, Some(_)) => Selection::Multiple(n),
    }
}

/// True when the first `prefix` bits of `a` and `b` agree.
pub(crate) fn prefix_match(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[full] & mask == b[full] & mask
}

/// `name` equals `domain` or ends with `.domain`, ignoring case and trailing dots.
pub(crate) fn is_subdomain(name: &str, domain: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name).as_bytes();
    let domain = domain.strip_suffix('.').unwrap_or(domain).as_bytes();
    if name.len() < domain.len() {
        return false;
    }
    let tail = &name[name.len() - domain.len()..];
    tail.eq_ignore_ascii_case(domain)
        && (name.len() == domain.len() || name[name.len() - domain.len() - 1] == b'.')
}

/// The reverse-mapping name of an address (`in-addr.arpa` / `ip6.arpa`).
pub(crate) fn reverse_name(ip: IpAddr) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(74);
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            out = format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]);
        }
        IpAddr::V6(v6) => {
            for b in v6.octets().iter().rev() {
                out.push(HEX[usize::from(b & 0xf)] as char);
                out.push('.');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push('.');
            }
            out.push_str("ip6.arpa");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::{MemoryResolver, Record, Txt};

    fn txt(name: &str, text: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![text.as_bytes().to_vec()])),
        }
    }

    fn a(name: &str, ip: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::A(ip.parse().unwrap()),
        }
    }

    async fn run<'s>(records: Vec<Record>, ip: &str, sender: &'s str) -> SpfOutput<'s> {
        let r = MemoryResolver::from_records(records);
        check_host(
            &r,
            &SpfParams::new(ip.parse().unwrap(), "mail.example.org", sender),
        )
        .await
    }

    #[test]
    fn fqdn_rules() {
        let long_label = "a".repeat(63);
        let too_long_label = "a".repeat(64);
        let long_name = format!("{}example", "a.".repeat(123));
        assert_eq!(long_name.len(), 253);
        for (d, want) in [
            ("example.com", true),
            ("example.com.", true),
            ("a.b", true),
            ("com", false),
            ("com.", false),
            ("", false),
            (".", false),
            (".example.com", false),
            ("example..com", false),
            ("example.com..", false),
            ("exa mple.com", false),
            ("[192.0.2.1]", false),
            ("192.0.2.1", true),
            ("exé.com", false),
            (&format!("{long_label}.com"), true),
            (&format!("{too_long_label}.com"), false),
            (&long_name, true),
            (&format!("ab{long_name}"), false),
        ] {
            assert_eq!(is_fqdn(d), want, "{d:?}");
        }
    }

    #[test]
    fn check_host_future_is_send() {
        fn spawnable<F: std::future::Future + Send>(future: F) -> F {
            future
        }
        let zone = MemoryResolver::from_records(vec![txt("example.com", "v=spf1 -all")]);
        let verifier = SpfVerifier::new(&zone).with_record_cache();
        let params = SpfParams::new([192, 0, 2, 1].into(), "mail.example.org", "a@example.com");
        let out = futures::executor::block_on(spawnable(verifier.check_host(&params)));
        assert_eq!(out.result, SpfResult::Fail);
    }

    #[tokio::test]
    async fn include_pass_and_trace() {
        let out = run(
            vec![
                txt("example.com", "v=spf1 include:_spf.hoster.example -all"),
                txt("_spf.hoster.example", "v=spf1 ip4:203.0.113.0/24 ~all"),
            ],
            "203.0.113.9",
            "alice@example.com",
        )
        .await;
        assert_eq!(out.result, SpfResult::Pass);
        assert_eq!(
            out.mechanism.as_deref(),
            Some("include:_spf.hoster.example")
        );
        assert_eq!(out.dns_lookups, 1);
        assert!(out.trace.iter().any(|s| matches!(s, TraceStep::Term { term, matched: true, .. } if term == "ip4:203.0.113.0/24")));
    }

    #[tokio::test]
    async fn fail_gets_default_explanation_and_mapped_ipv6_is_ipv4() {
        let out = run(
            vec![txt("example.com", "v=spf1 ip4:192.0.2.1 -all")],
            "::ffff:192.0.2.1",
            "a@example.com",
        )
        .await;
        assert_eq!(out.result, SpfResult::Pass);
        let out = run(
            vec![txt("example.com", "v=spf1 ip4:192.0.2.1 -all")],
            "192.0.2.2",
            "a@example.com",
        )
        .await;
        assert_eq!(out.result, SpfResult::Fail);
        assert_eq!(
            out.explanation.as_deref(),
            Some("192.0.2.2 is not one of example.com's designated mail senders")
        );
        assert_eq!(out.explanation_source, Some(ExplanationSource::Default));
    }

    #[tokio::test]
    async fn lookup_limit_is_permerror_on_the_eleventh_term() {
        let record = format!("v=spf1 {} -all", ["a"; 10].join(" "));
        let out = run(
            vec![txt("example.com", &record), a("example.com", "192.0.2.9")],
            "192.0.2.1",
            "a@example.com",
        )
        .await;
        assert_eq!((out.result, out.dns_lookups), (SpfResult::Fail, 10));
        let record = format!("v=spf1 {} -all", ["a"; 11].join(" "));
        let out = run(
            vec![txt("example.com", &record), a("example.com", "192.0.2.9")],
            "192.0.2.1",
            "a@example.com",
        )
        .await;
        assert_eq!(
            (out.result, out.reason),
            (SpfResult::PermError, SpfReason::LookupLimit)
        );
    }

    #[tokio::test]
    async fn hostile_records_end_in_permerror_without_unbounded_work() {
        // An include that includes itself stops at the lookup limit.
        let out = run(
            vec![txt("example.com", "v=spf1 include:example.com -all")],
            "192.0.2.1",
            "a@example.com",
        )
        .await;
        assert_eq!((out.result, out.dns_lookups), (SpfResult::PermError, 11));
        // A 255-byte label in a target is a no-match (RFC 7208 §4.3 by analogy), not a panic.
        let rec = format!("v=spf1 a:{}.example.com -all", "x".repeat(255));
        let out = run(vec![txt("example.com", &rec)], "192.0.2.1", "a@example.com").await;
        assert_eq!(out.result, SpfResult::Fail);
        // A macro explosion is bounded: the expansion is cut to 253 bytes.
        let rec = format!("v=spf1 exists:{}.example.com -all", "%{s}".repeat(500));
        let out = run(vec![txt("example.com", &rec)], "192.0.2.1", "a@example.com").await;
        assert_eq!(out.result, SpfResult::Fail);
        // Binary bytes are a syntax error.
        let r = MemoryResolver::from_records([Record {
            name: "example.com".into(),
            ttl: 1,
            data: RData::Txt(Txt::new(vec![b"v=spf1 \xff\x00\x01 -all".to_vec()])),
        }]);
        let out = check_host(
            &r,
            &SpfParams::new("192.0.2.1".parse().unwrap(), "h.example", "a@example.com"),
        )
        .await;
        assert_eq!(out.result, SpfResult::PermError);
    }

    /// Thousands of generated records mixing valid terms, macros and garbage: every one ends
    /// in a result with at most 11 counted lookups, never a panic.
    #[tokio::test]
    async fn generated_records_never_panic_and_stay_bounded() {
        const PIECES: &[&str] = &[
            "a",
            "mx",
            "ptr",
            "-all",
            "~all",
            "?all",
            "include:inc.example.com",
            "include:example.com",
            "exists:%{ir}.%{v}.x.example.com",
            "a:%{d2}",
            "mx:%{l}.%{o}",
            "ip4:192.0.2.0/24",
            "ip6:2001:db8::/32",
            "redirect=example.com",
            "exp=%{d}",
            "a/24//64",
            "%{",
            "%%",
            "\u{ff}\x01",
            "a:",
            "=",
            "ip4:1.2.3.4/33",
            "include:%{s}%{s}%{s}%{s}.example.com",
            "a:xn--zckzah.example.com",
            "ptr:%{p}.example.com",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || crate::test_support::xorshift(&mut seed);
        for _ in 0..2000 {
            let n = (next() % 14) as usize;
            let terms: Vec<&str> = (0..n)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let record = format!("v=spf1 {}", terms.join(" "));
            let out = run(
                vec![
                    txt("example.com", &record),
                    txt("inc.example.com", "v=spf1 a include:example.com ~all"),
                    a("example.com", "192.0.2.1"),
                ],
                "2001:db8::7",
                "Üser@example.com",
            )
            .await;
            assert!(
                out.dns_lookups <= MAX_DNS_LOOKUPS + 1,
                "{record}: {} lookups",
                out.dns_lookups
            );
        }
    }

    #[test]
    fn helpers() {
        assert!(prefix_match(&[192, 0, 2, 200], &[192, 0, 2, 0], 24));
        assert!(!prefix_match(&[192, 0, 3, 1], &[192, 0, 2, 0], 24));
        assert!(prefix_match(&[10, 0, 0, 1], &[192, 0, 0, 0], 0));
        assert!(prefix_match(&[192, 0, 2, 129], &[192, 0, 2, 128], 25));
        assert!(is_subdomain("mail.Example.com.", "example.com"));
        assert!(!is_subdomain("badexample.com", "example.com"));
        assert_eq!(
            reverse_name("192.0.2.1".parse().unwrap()),
            "1.2.0.192.in-addr.arpa"
        );
        assert!(reverse_name("2001:db8::1".parse().unwrap()).starts_with("1.0.0.0."));
        assert!(
            !is_fqdn("A2345678") && !is_fqdn("[1.2.3.5]") && !is_fqdn("a..b") && is_fqdn("a.b.")
        );
    }
}
