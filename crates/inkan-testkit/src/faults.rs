//! Chosen names that time out or answer SERVFAIL, applied around any resolver.

use std::collections::{HashMap, HashSet};

use inkan_dns::{DnsError, FailureKind, LookupFuture, RecordType, Resolver, normalize_name};

/// What goes wrong for a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The server never answers.
    Timeout,
    /// The server answers SERVFAIL.
    ServFail,
}

/// Which questions fail, and how. A fault on a name applies to every type except those listed as
/// exempt (the SPF suite's `TIMEOUT` marker spares the types listed before it).
#[derive(Clone, Debug, Default)]
pub struct FaultPlan {
    faults: HashMap<String, (Fault, HashSet<RecordType>)>,
}

impl FaultPlan {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every question about `name` fail with `fault`, except for the `exempt` types.
    pub fn add(&mut self, name: &str, fault: Fault, exempt: impl IntoIterator<Item = RecordType>) {
        self.faults
            .insert(normalize_name(name), (fault, exempt.into_iter().collect()));
    }

    /// The fault that applies to this question, if any.
    pub fn fault_for(&self, name: &str, rtype: RecordType) -> Option<Fault> {
        let (fault, exempt) = self.faults.get(&normalize_name(name))?;
        (!exempt.contains(&rtype)).then_some(*fault)
    }

    /// True when no fault is planned.
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty()
    }
}

/// Wraps a resolver and fails the questions a [`FaultPlan`] names, without any I/O: a timeout
/// becomes a [`FailureKind::Timeout`] error at once.
#[derive(Debug)]
pub struct FaultResolver<R> {
    inner: R,
    plan: FaultPlan,
}

impl<R> FaultResolver<R> {
    /// Applies `plan` around `inner`.
    pub fn new(inner: R, plan: FaultPlan) -> Self {
        FaultResolver { inner, plan }
    }
}

impl<R: Resolver> Resolver for FaultResolver<R> {
    fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
        match self.plan.fault_for(name, rtype) {
            Some(Fault::Timeout) => Box::pin(std::future::ready(Err(DnsError::new(
                FailureKind::Timeout,
                name,
                rtype,
                "no answer (planned fault)",
            )))),
            Some(Fault::ServFail) => Box::pin(std::future::ready(Err(DnsError::new(
                FailureKind::ServFail,
                name,
                rtype,
                "SERVFAIL (planned fault)",
            )))),
            None => self.inner.lookup(name, rtype),
        }
    }
}
