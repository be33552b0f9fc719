//! DNS as the audit asks it: one retry with backoff for temporary failures, so that a single
//! lost packet does not turn into `unknown`, and a lasting timeout or SERVFAIL never turns into
//! "absent".

use std::time::Duration;

use inkan_dns::{Answer, DnsError, LookupFuture, RecordType, Resolver};

/// Asks a resolver, retrying a temporary failure once after `backoff`.
#[derive(Clone, Copy)]
pub struct Lookup<'a> {
    resolver: &'a dyn Resolver,
    backoff: Duration,
}

impl std::fmt::Debug for Lookup<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookup")
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl<'a> Lookup<'a> {
    /// Asks `resolver`, waiting `backoff` before the one retry.
    pub fn new(resolver: &'a dyn Resolver, backoff: Duration) -> Self {
        Lookup { resolver, backoff }
    }

    /// The resolver asked.
    pub fn resolver(&self) -> &'a dyn Resolver {
        self.resolver
    }

    /// Looks up `name`/`rtype`; a temporary failure is asked again once.
    pub async fn get(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        match self.resolver.lookup(name, rtype).await {
            Err(err) if err.is_temporary() => {
                if !self.backoff.is_zero() {
                    tokio::time::sleep(self.backoff).await;
                }
                self.resolver.lookup(name, rtype).await
            }
            other => other,
        }
    }

    /// The TXT records at `name` as text, `Ok(vec![])` for NXDOMAIN and NODATA.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let answer = self.get(name, RecordType::Txt).await?;
        Ok(answer.txt().map(|t| t.concat_lossy()).collect())
    }
}

/// The protocol analyzers (SPF, DMARC discovery) ask through this too, so they get the same
/// one retry.
impl Resolver for Lookup<'_> {
    fn lookup<'b>(&'b self, name: &'b str, rtype: RecordType) -> LookupFuture<'b> {
        Box::pin(self.get(name, rtype))
    }
}

/// Evidence for a failed lookup: the failure kind and the question.
pub fn error_evidence(err: &DnsError) -> serde_json::Value {
    serde_json::json!({
        "dns_error": err.kind.as_str(),
        "name": err.name,
        "type": err.rtype.as_str(),
        "detail": err.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::{LookupFuture, MemoryResolver};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Fails the first question with a timeout, then answers from memory.
    struct FlakyOnce {
        calls: AtomicUsize,
        inner: MemoryResolver,
    }

    impl Resolver for FlakyOnce {
        fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                let err = DnsError::new(inkan_dns::FailureKind::Timeout, name, rtype, "lost");
                return Box::pin(std::future::ready(Err(err)));
            }
            self.inner.lookup(name, rtype)
        }
    }

    #[tokio::test]
    async fn one_timeout_is_retried_and_answered() {
        let flaky = FlakyOnce {
            calls: AtomicUsize::new(0),
            inner: MemoryResolver::new(),
        };
        let lookup = Lookup::new(&flaky, Duration::from_millis(1));
        let answer = lookup.get("x.test", RecordType::Txt).await.unwrap();
        assert!(matches!(answer, Answer::NxDomain { .. }));
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn lasting_servfail_stays_an_error() {
        let mut plan = inkan_testkit::FaultPlan::new();
        plan.add("x.test", inkan_testkit::Fault::ServFail, []);
        let r = inkan_testkit::FaultResolver::new(MemoryResolver::new(), plan);
        let err = Lookup::new(&r, Duration::ZERO)
            .get("x.test", RecordType::Txt)
            .await
            .unwrap_err();
        assert_eq!(err.kind, inkan_dns::FailureKind::ServFail);
    }
}
