//! ARC chain validation (RFC 8617 §5.2): collect the sets (at most 50, exactly one field of
//! each kind per instance, numbered 1..N without gaps), stop at a chain its newest sealer
//! already marked failed, check the `cv=` rules, validate the newest ARC-Message-Signature,
//! every ARC-Seal over the sets it covers (§5.1.1 order: AAR, AMS, AS per instance, oldest
//! first, relaxed canonicalization, the seal itself last without its `b=` value), and the
//! oldest-pass instance. Key lookups go through [`inkan_dns::Resolver`] with DKIM's key rules;
//! the clock is passed in.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::digest;
use inkan_dns::Resolver;
use serde::Serialize;

use super::parse::claimed_instance;
use super::{
    ArcAuthenticationResults, ArcHeader, ArcMessageSignature, ArcResult, ArcSeal, MAX_INSTANCES,
    ParseError,
};
use crate::authres::MethodResult;
use crate::dkim::{
    Algorithm, BodyHasher, Canon, DkimKey, Reason, canonical_signature_field,
    canonicalize_header_relaxed, check_key, fetch_key, header_hash,
};
use crate::message::Message;

/// Why a chain got its result.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArcReason {
    /// Every check passed.
    Validated,
    /// The message carries no ARC header fields.
    NoSets,
    /// More ARC header fields than 50 complete sets could have.
    TooManyFields {
        /// How many there are.
        count: usize,
    },
    /// An ARC header field does not parse.
    Malformed {
        /// The instance it claims, when that much could be read.
        instance: Option<u32>,
        /// What is wrong with it.
        error: ParseError,
    },
    /// Two fields of one kind share an instance.
    Duplicate {
        /// The instance.
        instance: u32,
        /// The field kind.
        header: ArcHeader,
    },
    /// A whole set is missing below the newest instance: the numbering has a gap.
    MissingSet {
        /// The missing instance.
        instance: u32,
    },
    /// A set lacks one of its three fields.
    MissingHeader {
        /// The instance.
        instance: u32,
        /// The missing field.
        header: ArcHeader,
    },
    /// The newest sealer recorded `cv=fail`: the chain was already broken when it arrived.
    MarkedFailed {
        /// The newest instance.
        instance: u32,
    },
    /// Instance 1 has a `cv=` other than `none`.
    FirstNotNone {
        /// What it says.
        cv: ArcResult,
    },
    /// A later instance has a `cv=` other than `pass`.
    NotPass {
        /// The instance.
        instance: u32,
        /// What it says.
        cv: ArcResult,
    },
    /// The newest ARC-Message-Signature does not validate.
    MessageSignature {
        /// Its instance.
        instance: u32,
        /// Why, in DKIM's terms (body changed, headers changed, key problems...).
        reason: Reason,
    },
    /// An ARC-Seal does not validate.
    Seal {
        /// The oldest failing instance.
        instance: u32,
        /// Why, in DKIM's terms.
        reason: Reason,
        /// Every failing instance, oldest first.
        failing: Vec<u32>,
    },
}

impl ArcReason {
    /// A short stable code for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            ArcReason::Validated => "validated",
            ArcReason::NoSets => "no_arc_sets",
            ArcReason::TooManyFields { .. } => "too_many_sets",
            ArcReason::Malformed { .. } => "malformed_header",
            ArcReason::Duplicate { .. } => "duplicate_header",
            ArcReason::MissingSet { .. } => "missing_set",
            ArcReason::MissingHeader { .. } => "missing_header",
            ArcReason::MarkedFailed { .. } => "marked_failed",
            ArcReason::FirstNotNone { .. } => "cv_not_none",
            ArcReason::NotPass { .. } => "cv_not_pass",
            ArcReason::MessageSignature { .. } => "ams_invalid",
            ArcReason::Seal { .. } => "seal_invalid",
        }
    }

    /// The result this reason gives.
    pub fn result(&self) -> ArcResult {
        match self {
            ArcReason::Validated => ArcResult::Pass,
            ArcReason::NoSets => ArcResult::None,
            ArcReason::TooManyFields { .. }
            | ArcReason::Malformed { .. }
            | ArcReason::Duplicate { .. }
            | ArcReason::MissingSet { .. }
            | ArcReason::MissingHeader { .. }
            | ArcReason::MarkedFailed { .. }
            | ArcReason::FirstNotNone { .. }
            | ArcReason::NotPass { .. }
            | ArcReason::MessageSignature { .. }
            | ArcReason::Seal { .. } => ArcResult::Fail,
        }
    }

    /// The instance at fault, when there is one.
    pub fn instance(&self) -> Option<u32> {
        match self {
            ArcReason::Validated | ArcReason::NoSets | ArcReason::TooManyFields { .. } => None,
            ArcReason::Malformed { instance, .. } => *instance,
            ArcReason::FirstNotNone { .. } => Some(1),
            ArcReason::Duplicate { instance, .. }
            | ArcReason::MissingSet { instance }
            | ArcReason::MissingHeader { instance, .. }
            | ArcReason::MarkedFailed { instance }
            | ArcReason::NotPass { instance, .. }
            | ArcReason::MessageSignature { instance, .. }
            | ArcReason::Seal { instance, .. } => Some(*instance),
        }
    }

    /// True when trying again later may give another result (a key lookup failed).
    pub fn is_temporary(&self) -> bool {
        match self {
            ArcReason::MessageSignature { reason, .. } | ArcReason::Seal { reason, .. } => {
                matches!(reason, Reason::DnsFailure(_))
            }
            ArcReason::Validated
            | ArcReason::NoSets
            | ArcReason::TooManyFields { .. }
            | ArcReason::Malformed { .. }
            | ArcReason::Duplicate { .. }
            | ArcReason::MissingSet { .. }
            | ArcReason::MissingHeader { .. }
            | ArcReason::MarkedFailed { .. }
            | ArcReason::FirstNotNone { .. }
            | ArcReason::NotPass { .. } => false,
        }
    }
}

impl std::fmt::Display for ArcReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArcReason::Validated => {
                f.write_str("every ARC-Seal and the newest ARC-Message-Signature verified")
            }
            ArcReason::NoSets => f.write_str("the message carries no ARC sets"),
            ArcReason::TooManyFields { count } => write!(
                f,
                "{count} ARC header fields: more than {MAX_INSTANCES} sets of three can hold, so the chain is not evaluated"
            ),
            ArcReason::Malformed {
                instance: Some(i),
                error,
            } => {
                write!(f, "ARC set i={i} is malformed: {error}")
            }
            ArcReason::Malformed {
                instance: None,
                error,
            } => {
                write!(f, "an ARC header field is malformed: {error}")
            }
            ArcReason::Duplicate { instance, header } => write!(
                f,
                "ARC set i={instance} has more than one {header}: each instance must have exactly one of each field"
            ),
            ArcReason::MissingSet { instance } => write!(
                f,
                "ARC set i={instance} is missing: instances must run from 1 to the newest without gaps"
            ),
            ArcReason::MissingHeader { instance, header } => {
                write!(f, "ARC set i={instance} has no {header}")
            }
            ArcReason::MarkedFailed { instance } => write!(
                f,
                "the sealer of i={instance} recorded cv=fail: the chain was already broken when it reached that hop"
            ),
            ArcReason::FirstNotNone { cv } => {
                write!(
                    f,
                    "ARC-Seal i=1 has cv={cv}; the first seal must say cv=none"
                )
            }
            ArcReason::NotPass { instance, cv } => write!(
                f,
                "ARC-Seal i={instance} has cv={cv}; every seal after the first must say cv=pass"
            ),
            ArcReason::MessageSignature { instance, reason } => write!(
                f,
                "ARC-Message-Signature i={instance} (the newest) does not verify: {reason}"
            ),
            ArcReason::Seal {
                instance,
                reason,
                failing,
            } => {
                write!(f, "ARC-Seal i={instance} does not verify: {reason}")?;
                if failing.len() > 1 {
                    let list: Vec<String> = failing.iter().map(u32::to_string).collect();
                    write!(f, " (failing seals: i={})", list.join(", i="))?;
                }
                Ok(())
            }
        }
    }
}

/// What one ARC set says, for people reading the result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArcSetSummary {
    /// `i=`.
    pub instance: u32,
    /// The seal's `cv=`.
    pub cv: Option<ArcResult>,
    /// The seal's `d=`.
    pub seal_domain: Option<String>,
    /// The seal's `s=`.
    pub seal_selector: Option<String>,
    /// The message signature's `d=`.
    pub ams_domain: Option<String>,
    /// The message signature's `s=`.
    pub ams_selector: Option<String>,
    /// The sealer's authserv-id from its ARC-Authentication-Results.
    pub authserv_id: Option<String>,
    /// Whether the seal verified, when it was checked.
    pub seal_valid: Option<bool>,
    /// Whether the message signature verified, when it was checked.
    pub ams_valid: Option<bool>,
}

/// The verdict on a message's ARC chain.
#[derive(Clone, Debug, Serialize)]
pub struct ArcOutput {
    /// `pass`, `fail` or `none` (no ARC sets).
    pub result: ArcResult,
    /// The newest instance found (0 without ARC sets).
    pub instances: u32,
    /// On pass: the oldest instance from which every ARC-Message-Signature up to the newest
    /// still verifies (1 when all do); older hops changed the message after that one signed.
    pub oldest_pass: Option<u32>,
    /// On fail: the instance at fault, when there is one.
    pub failed_instance: Option<u32>,
    /// Why, in words a person can act on.
    pub reason: String,
    /// A stable code for the reason.
    pub reason_code: &'static str,
    /// What each set says, oldest first.
    pub sets: Vec<ArcSetSummary>,
    #[serde(skip)]
    reason_kind: ArcReason,
}

impl ArcOutput {
    fn new(reason: ArcReason, instances: u32, sets: Vec<ArcSetSummary>) -> Self {
        ArcOutput {
            result: reason.result(),
            instances,
            oldest_pass: None,
            failed_instance: reason
                .instance()
                .filter(|_| reason.result() == ArcResult::Fail),
            reason: reason.to_string(),
            reason_code: reason.code(),
            sets,
            reason_kind: reason,
        }
    }

    /// The reason as a value.
    pub fn reason_kind(&self) -> &ArcReason {
        &self.reason_kind
    }

    /// This verdict as an RFC 8601 `arc=` result: the newest instance in a comment,
    /// `header.oldest-pass` on pass, the reason on fail.
    pub fn auth_result(&self) -> MethodResult {
        let mut method = MethodResult::new("arc", self.result.as_str());
        if self.instances > 0 {
            method = method.with_comment(format!("i={}", self.instances));
        }
        if self.result == ArcResult::Fail {
            method = method.with_reason(self.reason.clone());
        }
        if let Some(oldest) = self.oldest_pass {
            method = method.with_property("header", "oldest-pass", oldest.to_string());
        }
        method
    }
}

/// One complete set: the header indexes of its fields and what they say.
#[derive(Clone, Debug)]
pub(crate) struct ChainSet {
    pub(crate) aar: (usize, ArcAuthenticationResults),
    pub(crate) ams: (usize, ArcMessageSignature),
    pub(crate) seal: (usize, ArcSeal),
}

impl ChainSet {
    /// The header indexes of the AAR, AMS and AS.
    pub(crate) fn indexes(&self) -> [usize; 3] {
        [self.aar.0, self.ams.0, self.seal.0]
    }
}

/// A set while collecting: any field may still be missing.
#[derive(Clone, Debug, Default)]
struct Slot {
    aar: Option<(usize, ArcAuthenticationResults)>,
    ams: Option<(usize, ArcMessageSignature)>,
    seal: Option<(usize, ArcSeal)>,
}

impl Slot {
    fn summary(&self, instance: u32) -> ArcSetSummary {
        ArcSetSummary {
            instance,
            cv: self.seal.as_ref().map(|(_, s)| s.cv),
            seal_domain: self.seal.as_ref().map(|(_, s)| s.domain.clone()),
            seal_selector: self.seal.as_ref().map(|(_, s)| s.selector.clone()),
            ams_domain: self.ams.as_ref().map(|(_, s)| s.signature.domain.clone()),
            ams_selector: self.ams.as_ref().map(|(_, s)| s.signature.selector.clone()),
            authserv_id: self.aar.as_ref().map(|(_, a)| a.authserv_id.clone()),
            seal_valid: None,
            ams_valid: None,
        }
    }
}

/// Collects and parses every ARC field into slots by instance. Work is bounded: more than
/// 3 × [`MAX_INSTANCES`] fields are refused before any is parsed.
fn collect(message: &Message<'_>) -> Result<Vec<Slot>, ArcReason> {
    let fields: Vec<_> = message
        .headers()
        .filter_map(|f| ArcHeader::from_name(f.name()).map(|h| (h, f)))
        .collect();
    if fields.len() > 3 * MAX_INSTANCES as usize {
        return Err(ArcReason::TooManyFields {
            count: fields.len(),
        });
    }
    let mut slots: Vec<Slot> = Vec::new();
    for (header, field) in fields {
        let malformed = |error: ParseError| ArcReason::Malformed {
            instance: claimed_instance(header, field.value()),
            error,
        };
        let index = field.index();
        let (instance, duplicate) = match header {
            ArcHeader::AuthenticationResults => {
                let aar = ArcAuthenticationResults::parse(field.value()).map_err(malformed)?;
                let i = aar.instance;
                (i, fill(&mut slots, i, |s| &mut s.aar, (index, aar)))
            }
            ArcHeader::MessageSignature => {
                let ams = ArcMessageSignature::parse(field.value()).map_err(malformed)?;
                let i = ams.instance;
                (i, fill(&mut slots, i, |s| &mut s.ams, (index, ams)))
            }
            ArcHeader::Seal => {
                let seal = ArcSeal::parse(field.value()).map_err(malformed)?;
                let i = seal.instance;
                (i, fill(&mut slots, i, |s| &mut s.seal, (index, seal)))
            }
        };
        if duplicate {
            return Err(ArcReason::Duplicate { instance, header });
        }
    }
    Ok(slots)
}

/// Puts a parsed field into the part of its instance's slot that `part` picks; `true` when that
/// part was already filled, i.e. the field is a duplicate.
fn fill<T>(
    slots: &mut Vec<Slot>,
    instance: u32,
    part: fn(&mut Slot) -> &mut Option<(usize, T)>,
    field: (usize, T),
) -> bool {
    part(slot_at(slots, instance)).replace(field).is_some()
}

fn slot_at(slots: &mut Vec<Slot>, instance: u32) -> &mut Slot {
    // Instances are 1..=MAX_INSTANCES after parsing, so this grows to at most 50 slots.
    let i = instance as usize - 1;
    if slots.len() <= i {
        slots.resize_with(i + 1, Slot::default);
    }
    &mut slots[i]
}

/// Checks that instances 1..N are all complete (RFC 8617 §5.2 step 3, numbering part).
fn complete(slots: Vec<Slot>) -> Result<Vec<ChainSet>, ArcReason> {
    let mut sets = Vec::with_capacity(slots.len());
    for (n, slot) in slots.into_iter().enumerate() {
        let instance = n as u32 + 1;
        match slot {
            Slot {
                aar: Some(aar),
                ams: Some(ams),
                seal: Some(seal),
            } => sets.push(ChainSet { aar, ams, seal }),
            Slot {
                aar: None,
                ams: None,
                seal: None,
            } => return Err(ArcReason::MissingSet { instance }),
            Slot { aar, ams, .. } => {
                let header = if aar.is_none() {
                    ArcHeader::AuthenticationResults
                } else if ams.is_none() {
                    ArcHeader::MessageSignature
                } else {
                    ArcHeader::Seal
                };
                return Err(ArcReason::MissingHeader { instance, header });
            }
        }
    }
    Ok(sets)
}

/// The sets on `message` when they form a complete, well-formed chain 1..N (no keys checked).
pub(crate) fn chain_sets(message: &Message<'_>) -> Result<Vec<ChainSet>, ArcReason> {
    complete(collect(message)?)
}

/// The hash an ARC-Seal signs (RFC 8617 §5.1.1): for each set from instance 1 up to the
/// seal's own, its AAR, AMS and AS with relaxed canonicalization, the last AS without its
/// `b=` value and final CRLF.
/// `sets` holds the header indexes of each set's AAR, AMS and AS, oldest set first.
pub(crate) fn seal_hash(
    message: &Message<'_>,
    sets: &[[usize; 3]],
    algorithm: Algorithm,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(sets.len() * 1500);
    for (n, set) in sets.iter().enumerate() {
        for (k, &index) in set.iter().enumerate() {
            let Some(field) = message.header_at(index) else {
                continue;
            };
            if n + 1 == sets.len() && k == 2 {
                canonical_signature_field(Canon::Relaxed, field.name(), field.raw(), &mut buf);
            } else {
                canonicalize_header_relaxed(field.name(), field.value(), &mut buf);
            }
        }
    }
    digest::digest(algorithm.digest(), &buf).as_ref().to_vec()
}

/// Verifies signatures of one message, fetching each key once.
struct Checker<'a> {
    resolver: &'a dyn Resolver,
    message: &'a Message<'a>,
    body: BodyHasher<'a>,
    keys: HashMap<String, Result<Arc<DkimKey>, Reason>>,
    now: u64,
}

impl Checker<'_> {
    async fn key(&mut self, name: String, algorithm: Algorithm) -> Result<Arc<DkimKey>, Reason> {
        if algorithm == Algorithm::RsaSha1 {
            return Err(Reason::Sha1);
        }
        let key = match self.keys.get(&name) {
            Some(cached) => cached.clone(),
            None => {
                let fetched = fetch_key(self.resolver, &name).await.map(Arc::new);
                self.keys.insert(name, fetched.clone());
                fetched
            }
        }?;
        check_key(&key, algorithm)?;
        Ok(key)
    }

    async fn message_signature(&mut self, set: &ChainSet) -> Result<(), Reason> {
        let (index, ams) = &set.ams;
        let signature = &ams.signature;
        if let Some(x) = signature.expiration
            && x < self.now
        {
            return Err(Reason::Expired {
                expiration: x,
                now: self.now,
            });
        }
        let key = self.key(ams.key_name(), signature.algorithm).await?;
        let body_ok = match self.body.hash_matches(
            signature.canonicalization.body,
            signature.body_length,
            signature.algorithm,
            &signature.body_hash,
        ) {
            Ok(same) => same,
            Err(actual) => {
                return Err(Reason::BodyTooShort {
                    length: signature.body_length.unwrap_or_default(),
                    actual,
                });
            }
        };
        let Some(field) = self.message.header_at(*index) else {
            return Err(Reason::SignatureMismatch);
        };
        let hash = header_hash(self.message, signature, &field);
        let headers_ok = key.verify_signature(signature.algorithm, &hash, &signature.signature);
        match (body_ok, headers_ok) {
            (true, true) => Ok(()),
            (false, headers_intact) => Err(Reason::BodyHashMismatch { headers_intact }),
            (true, false) => Err(Reason::SignatureMismatch),
        }
    }

    async fn seal(&mut self, sets: &[ChainSet]) -> Result<(), Reason> {
        let Some(last) = sets.last() else {
            return Err(Reason::SignatureMismatch);
        };
        let seal = &last.seal.1;
        let key = self.key(seal.key_name(), seal.algorithm).await?;
        let indexes: Vec<[usize; 3]> = sets.iter().map(ChainSet::indexes).collect();
        let hash = seal_hash(self.message, &indexes, seal.algorithm);
        if key.verify_signature(seal.algorithm, &hash, &seal.signature) {
            Ok(())
        } else {
            Err(Reason::SignatureMismatch)
        }
    }
}

/// Validates the ARC chain of `message` at the current time.
pub async fn validate(resolver: &dyn Resolver, message: &Message<'_>) -> ArcOutput {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    validate_at(resolver, message, now).await
}

/// Validates the ARC chain of `message` as of `now` (seconds since the Unix epoch), following
/// RFC 8617 §5.2.
pub async fn validate_at(resolver: &dyn Resolver, message: &Message<'_>, now: u64) -> ArcOutput {
    let slots = match collect(message) {
        Ok(slots) => slots,
        Err(reason) => return ArcOutput::new(reason, 0, Vec::new()),
    };
    if slots.is_empty() {
        return ArcOutput::new(ArcReason::NoSets, 0, Vec::new());
    }
    let instances = slots.len() as u32;
    let mut summaries: Vec<ArcSetSummary> = slots
        .iter()
        .enumerate()
        .map(|(n, s)| s.summary(n as u32 + 1))
        .collect();
    // Step 2: a chain its newest sealer found broken stays broken.
    if let Some(Slot {
        seal: Some((_, seal)),
        ..
    }) = slots.last()
        && seal.cv == ArcResult::Fail
    {
        return ArcOutput::new(
            ArcReason::MarkedFailed {
                instance: instances,
            },
            instances,
            summaries,
        );
    }
    // Step 3: structure and cv= rules.
    let sets = match complete(slots) {
        Ok(sets) => sets,
        Err(reason) => return ArcOutput::new(reason, instances, summaries),
    };
    for set in &sets {
        let seal = &set.seal.1;
        let bad = match (seal.instance, seal.cv) {
            (1, ArcResult::None) => None,
            (1, cv) => Some(ArcReason::FirstNotNone { cv }),
            (_, ArcResult::Pass) => None,
            (instance, cv) => Some(ArcReason::NotPass { instance, cv }),
        };
        if let Some(reason) = bad {
            return ArcOutput::new(reason, instances, summaries);
        }
    }
    let mut checker = Checker {
        resolver,
        message,
        body: BodyHasher::for_message(message),
        keys: HashMap::new(),
        now,
    };
    // Step 4: the newest AMS.
    let newest = sets.len() - 1;
    let ams = checker.message_signature(&sets[newest]).await;
    summaries[newest].ams_valid = Some(ams.is_ok());
    if let Err(reason) = ams {
        return ArcOutput::new(
            ArcReason::MessageSignature {
                instance: instances,
                reason,
            },
            instances,
            summaries,
        );
    }
    // Step 5: every seal, newest first. All are checked so that the report can name the
    // oldest broken one, which is where the chain was tampered with.
    let mut failing: Vec<(u32, Reason)> = Vec::new();
    for end in (1..=sets.len()).rev() {
        let result = checker.seal(&sets[..end]).await;
        summaries[end - 1].seal_valid = Some(result.is_ok());
        if let Err(reason) = result {
            failing.push((end as u32, reason));
        }
    }
    if let Some((instance, reason)) = failing.last().cloned() {
        let mut list: Vec<u32> = failing.iter().map(|(i, _)| *i).collect();
        list.reverse();
        return ArcOutput::new(
            ArcReason::Seal {
                instance,
                reason,
                failing: list,
            },
            instances,
            summaries,
        );
    }
    // Step 6: oldest-pass, walking the older message signatures down from the newest.
    let mut oldest_pass = instances;
    for n in (0..newest).rev() {
        let ok = checker.message_signature(&sets[n]).await.is_ok();
        summaries[n].ams_valid = Some(ok);
        if !ok {
            break;
        }
        oldest_pass = n as u32 + 1;
    }
    let mut out = ArcOutput::new(ArcReason::Validated, instances, summaries);
    out.oldest_pass = Some(oldest_pass);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arc::{SealParams, seal};
    use crate::dkim::{SigningKey, generate_ed25519};
    use inkan_dns::{MemoryResolver, RData, Record, Txt};
    use inkan_testkit::{Fault, FaultPlan, FaultResolver};

    const NOW: u64 = 1_750_000_000;
    const MESSAGE: &[u8] = b"From: Alice <alice@origin.example>\r\nTo: list@lists.example\r\n\
Subject: hello\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@origin.example>\r\n\
\r\nHello there.\r\n";

    fn txt(name: &str, value: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![value.as_bytes().to_vec()])),
        }
    }

    struct Hop {
        domain: &'static str,
        key: SigningKey,
    }

    fn hops(n: usize) -> (Vec<Hop>, MemoryResolver) {
        let domains = ["one.example", "two.example", "three.example"];
        let hops: Vec<Hop> = domains[..n]
            .iter()
            .map(|d| Hop {
                domain: d,
                key: generate_ed25519().unwrap(),
            })
            .collect();
        let records = hops.iter().map(|h| {
            txt(
                &format!("arc._domainkey.{}", h.domain),
                &h.key.txt_value().unwrap(),
            )
        });
        let resolver = MemoryResolver::from_records(records.collect::<Vec<_>>());
        (hops, resolver)
    }

    async fn seal_as(resolver: &MemoryResolver, hop: &Hop, message: &[u8]) -> Vec<u8> {
        let m = Message::parse(message.to_vec()).unwrap();
        let chain = validate_at(resolver, &m, NOW).await;
        let mut params = SealParams::new(
            hop.domain,
            "arc",
            hop.key.clone(),
            format!("mx.{}", hop.domain),
            format!(
                "spf=pass smtp.mailfrom=origin.example; arc={}",
                chain.result
            ),
        );
        params.chain = chain.result;
        params.now = NOW;
        seal(&m, &params).unwrap()
    }

    async fn check(resolver: &dyn Resolver, message: &[u8]) -> ArcOutput {
        validate_at(resolver, &Message::parse(message.to_vec()).unwrap(), NOW).await
    }

    #[tokio::test]
    async fn no_sets_is_none() {
        let out = check(&MemoryResolver::new(), MESSAGE).await;
        assert_eq!(out.result, ArcResult::None);
        assert_eq!(out.instances, 0);
        assert_eq!(out.reason_code, "no_arc_sets");
        assert_eq!(out.auth_result().result, "none");
    }

    #[tokio::test]
    async fn one_to_three_hops_pass() {
        let (hops, resolver) = hops(3);
        let mut message = MESSAGE.to_vec();
        for (n, hop) in hops.iter().enumerate() {
            message = seal_as(&resolver, hop, &message).await;
            let out = check(&resolver, &message).await;
            assert_eq!(out.result, ArcResult::Pass, "{}", out.reason);
            assert_eq!(out.instances, n as u32 + 1);
            assert_eq!(out.oldest_pass, Some(1));
            assert_eq!(out.failed_instance, None);
            assert_eq!(out.sets[n].seal_domain.as_deref(), Some(hop.domain));
            assert_eq!(
                out.sets[n].cv,
                Some(if n == 0 {
                    ArcResult::None
                } else {
                    ArcResult::Pass
                })
            );
        }
        let ar = check(&resolver, &message).await.auth_result();
        assert_eq!(ar.property("header", "oldest-pass"), Some("1"));
    }

    #[tokio::test]
    async fn body_change_after_the_newest_seal_fails_its_ams() {
        let (hops, resolver) = hops(2);
        let mut message = seal_as(&resolver, &hops[0], MESSAGE).await;
        message = seal_as(&resolver, &hops[1], &message).await;
        message.extend_from_slice(b"-- footer added later\r\n");
        let out = check(&resolver, &message).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert_eq!(out.failed_instance, Some(2));
        assert_eq!(out.reason_code, "ams_invalid");
        assert!(out.reason.contains("body hash mismatch"), "{}", out.reason);
    }

    #[tokio::test]
    async fn body_change_between_hops_moves_oldest_pass() {
        let (hops, resolver) = hops(3);
        let mut message = seal_as(&resolver, &hops[0], MESSAGE).await;
        // A list adds a footer, then seals with cv=pass over its own view (a dishonest or
        // buggy hop); the seals still verify, but the first AMS no longer does.
        message.extend_from_slice(b"-- list footer\r\n");
        let m = Message::parse(message.clone()).unwrap();
        let mut params = SealParams::new(
            "two.example",
            "arc",
            hops[1].key.clone(),
            "mx.two.example",
            "",
        );
        params.chain = ArcResult::Pass;
        params.now = NOW;
        message = seal(&m, &params).unwrap();
        message = seal_as(&resolver, &hops[2], &message).await;
        let out = check(&resolver, &message).await;
        assert_eq!(out.result, ArcResult::Pass, "{}", out.reason);
        assert_eq!(out.oldest_pass, Some(2));
        assert_eq!(out.sets[0].ams_valid, Some(false));
    }

    #[tokio::test]
    async fn honest_hop_after_a_change_records_fail_and_the_chain_stays_failed() {
        let (hops, resolver) = hops(2);
        let mut message = seal_as(&resolver, &hops[0], MESSAGE).await;
        message.extend_from_slice(b"-- list footer\r\n");
        message = seal_as(&resolver, &hops[1], &message).await;
        let out = check(&resolver, &message).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert_eq!(out.reason_code, "marked_failed");
        assert_eq!(out.failed_instance, Some(2));
    }

    #[tokio::test]
    async fn tampered_older_aar_breaks_the_seal_of_its_instance() {
        let (hops, resolver) = hops(2);
        let mut message = seal_as(&resolver, &hops[0], MESSAGE).await;
        message = seal_as(&resolver, &hops[1], &message).await;
        let text = String::from_utf8(message).unwrap();
        let tampered = text.replacen(
            "i=1; mx.one.example;\r\n\tspf=pass",
            "i=1; mx.one.example;\r\n\tspf=fail",
            1,
        );
        assert_ne!(tampered, text);
        let out = check(&resolver, tampered.as_bytes()).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert_eq!(out.reason_code, "seal_invalid");
        assert_eq!(out.failed_instance, Some(1));
        assert_eq!(out.sets[0].seal_valid, Some(false));
        assert_eq!(out.sets[1].seal_valid, Some(false));
        assert!(
            out.reason.contains("failing seals: i=1, i=2"),
            "{}",
            out.reason
        );
    }

    #[tokio::test]
    async fn structure_errors_name_the_instance() {
        let (hops, resolver) = hops(2);
        let one = seal_as(&resolver, &hops[0], MESSAGE).await;
        let two = seal_as(&resolver, &hops[1], &one).await;
        let text = String::from_utf8(two.clone()).unwrap();

        // Renumber set 2 as set 3: a gap at 2.
        let gap = text.replace("i=2;", "i=3;");
        let out = check(&resolver, gap.as_bytes()).await;
        assert_eq!(out.reason_kind(), &ArcReason::MissingSet { instance: 2 });
        assert_eq!(out.failed_instance, Some(2));

        // Drop the newest AMS.
        let start = text.find("ARC-Message-Signature: i=2").unwrap();
        let end = start + text[start..].find("\r\nARC-").unwrap() + 2;
        let no_ams = format!("{}{}", &text[..start], &text[end..]);
        let out = check(&resolver, no_ams.as_bytes()).await;
        assert_eq!(
            out.reason_kind(),
            &ArcReason::MissingHeader {
                instance: 2,
                header: ArcHeader::MessageSignature
            }
        );

        // The same seal twice.
        let seal_end = text.find("\r\nARC-Message-Signature").unwrap() + 2;
        let dup = format!("{}{}", &text[..seal_end], text);
        let out = check(&resolver, dup.as_bytes()).await;
        assert_eq!(
            out.reason_kind(),
            &ArcReason::Duplicate {
                instance: 2,
                header: ArcHeader::Seal
            }
        );

        // A malformed field is reported with its instance.
        let bad = text.replacen("cv=pass", "cv=maybe", 1);
        let out = check(&resolver, bad.as_bytes()).await;
        assert_eq!(out.reason_code, "malformed_header");
        assert_eq!(out.failed_instance, Some(2));
        assert!(out.reason.contains("cv='maybe'"), "{}", out.reason);

        // cv= rules.
        let first_pass = String::from_utf8(one.clone())
            .unwrap()
            .replacen("cv=none", "cv=pass", 1);
        let out = check(&resolver, first_pass.as_bytes()).await;
        assert_eq!(
            out.reason_kind(),
            &ArcReason::FirstNotNone {
                cv: ArcResult::Pass
            }
        );
        let second_none = text.replacen("cv=pass", "cv=none", 1);
        let out = check(&resolver, second_none.as_bytes()).await;
        assert_eq!(
            out.reason_kind(),
            &ArcReason::NotPass {
                instance: 2,
                cv: ArcResult::None
            }
        );
    }

    #[tokio::test]
    async fn more_than_fifty_sets_is_refused_without_work() {
        let mut text = String::new();
        for i in 1..=51 {
            text.push_str(&format!(
                "ARC-Authentication-Results: i={i}; x.example; none\r\n"
            ));
            text.push_str(&format!("ARC-Seal: i={i}; cv=pass\r\n"));
            text.push_str(&format!("ARC-Message-Signature: i={i}\r\n"));
        }
        text.push_str(std::str::from_utf8(MESSAGE).unwrap());
        let out = check(&MemoryResolver::new(), text.as_bytes()).await;
        assert_eq!(out.reason_kind(), &ArcReason::TooManyFields { count: 153 });
        let over = "ARC-Seal: i=51; cv=pass; a=rsa-sha256; d=x.example; s=s; b=YQ==\r\n".to_owned()
            + std::str::from_utf8(MESSAGE).unwrap();
        let out = check(&MemoryResolver::new(), over.as_bytes()).await;
        assert_eq!(out.reason_code, "malformed_header");
        assert!(out.reason.contains("i='51'"), "{}", out.reason);
    }

    #[tokio::test]
    async fn key_problems_are_reported_in_dkim_terms() {
        let (hops, resolver) = hops(1);
        let message = seal_as(&resolver, &hops[0], MESSAGE).await;
        let out = check(&MemoryResolver::new(), &message).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert!(
            out.reason
                .contains("no key published at arc._domainkey.one.example"),
            "{}",
            out.reason
        );
        assert!(!out.reason_kind().is_temporary());

        let mut plan = FaultPlan::new();
        plan.add("arc._domainkey.one.example", Fault::Timeout, []);
        let failing = FaultResolver::new(resolver, plan);
        let out = check(&failing, &message).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert!(out.reason_kind().is_temporary());
        assert!(out.reason.contains("try again later"), "{}", out.reason);

        let revoked = MemoryResolver::from_records([txt(
            "arc._domainkey.one.example",
            "v=DKIM1; k=ed25519; p=",
        )]);
        let out = check(&revoked, &message).await;
        assert!(out.reason.contains("key revoked"), "{}", out.reason);
    }

    #[tokio::test]
    async fn rsa_sha1_never_passes() {
        let (hops, resolver) = hops(1);
        let message = seal_as(&resolver, &hops[0], MESSAGE).await;
        let text = String::from_utf8(message)
            .unwrap()
            .replace("a=ed25519-sha256", "a=rsa-sha1");
        let out = check(&resolver, text.as_bytes()).await;
        assert_eq!(out.result, ArcResult::Fail);
        assert!(out.reason.contains("rsa-sha1"), "{}", out.reason);
    }
}
