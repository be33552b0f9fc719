//! Auditing one domain, and many: domains come in on a channel, at most `concurrency` are
//! audited at once on the runtime's threads, and each report goes out on a channel as soon as
//! it is ready, so memory depends on the concurrency, not on the number of domains.

use std::sync::Arc;

use inkan_dns::Resolver;
use tokio::sync::{Semaphore, mpsc};

use crate::catalogue::Catalogue;
use crate::checks::{AuditOptions, run_all};
use crate::input::DomainInput;
use crate::lookup::Lookup;
use crate::report::DomainReport;

/// Audits domains against the built-in catalogue with one resolver and one set of options.
pub struct Auditor {
    resolver: Arc<dyn Resolver>,
    options: AuditOptions,
    catalogue: &'static Catalogue,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Auditor {
    /// An auditor asking `resolver` (share one caching resolver across a fleet).
    pub fn new(resolver: Arc<dyn Resolver>, options: AuditOptions) -> Auditor {
        Auditor {
            resolver,
            options,
            catalogue: Catalogue::builtin(),
        }
    }

    /// The catalogue verdicts are computed against.
    pub fn catalogue(&self) -> &'static Catalogue {
        self.catalogue
    }

    /// Audits one domain.
    pub async fn audit(&self, input: &DomainInput) -> DomainReport {
        let lookup = Lookup::new(&*self.resolver, self.options.retry_backoff);
        let selectors = if input.selectors.is_empty() {
            &self.options.selectors
        } else {
            &input.selectors
        };
        let checks = run_all(&lookup, &input.domain, selectors, &self.options).await;
        DomainReport::new(input.domain.clone(), checks, self.catalogue)
    }
}

/// Audits every domain received on `inputs`, at most `concurrency` at a time, sending each report
/// on `reports` as it finishes (in completion order) with the position of its input (from 0),
/// so that a caller can print them in input order. Returns when `inputs` is closed and every
/// audit has been sent, or early when `reports` is closed.
pub async fn run(
    auditor: Arc<Auditor>,
    mut inputs: mpsc::Receiver<DomainInput>,
    concurrency: usize,
    reports: mpsc::Sender<(u64, DomainReport)>,
) {
    let concurrency = concurrency.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut position = 0;
    while let Some(input) = inputs.recv().await {
        let at = position;
        position += 1;
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            break;
        };
        if reports.is_closed() {
            break;
        }
        let auditor = Arc::clone(&auditor);
        let reports = reports.clone();
        tokio::spawn(async move {
            let report = auditor.audit(&input).await;
            let _ = reports.send((at, report)).await;
            drop(permit);
        });
    }
    let all = u32::try_from(concurrency).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
}
