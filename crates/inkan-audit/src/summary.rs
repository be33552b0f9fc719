//! Fixed-size aggregates over any number of domain reports: verdict counts per profile, outcome
//! counts per rule, status counts per check, and the worst few domains. Nothing here grows with
//! the number of domains.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use crate::catalogue::{Catalogue, Evidence};
use crate::report::{DomainReport, RuleOutcome, Status, Verdict, rule_outcome};

/// How many worst domains are kept.
pub const WORST_KEPT: usize = 25;

/// One of the worst domains: the most failed checks, then the most unknown.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorstDomain {
    /// Failed checks.
    pub fails: usize,
    /// Unknown checks.
    pub unknowns: usize,
    /// The domain.
    pub domain: String,
    /// The ids of the failed checks.
    pub failed: Vec<String>,
}

/// Aggregates of a fleet audit.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Domains audited.
    pub domains: u64,
    /// Per profile, in catalogue order: pass, fail, unknown.
    pub verdicts: Vec<(String, [u64; 3])>,
    /// Per DNS-judged rule: pass, fail, unknown, not checked.
    pub rules: BTreeMap<String, [u64; 4]>,
    /// Per check id: counts in [`Status::ALL`] order.
    pub checks: BTreeMap<&'static str, [u64; 5]>,
    worst: BinaryHeap<Reverse<WorstDomain>>,
}

impl Summary {
    /// An empty summary for the profiles of `catalogue`.
    pub fn new(catalogue: &Catalogue) -> Summary {
        Summary {
            verdicts: catalogue
                .profiles
                .iter()
                .map(|p| (p.id.clone(), [0; 3]))
                .collect(),
            ..Summary::default()
        }
    }

    /// Counts one report.
    pub fn add(&mut self, report: &DomainReport, catalogue: &Catalogue) {
        self.domains += 1;
        for (profile, verdict) in &report.verdicts {
            if let Some((_, counts)) = self.verdicts.iter_mut().find(|(p, _)| p == profile) {
                counts[verdict.index()] += 1;
            }
        }
        for rule in catalogue
            .rules()
            .filter(|r| r.is_active() && r.evidence == Evidence::Dns)
        {
            let slot = match rule_outcome(rule, &report.checks) {
                RuleOutcome::Judged(v) => v.index(),
                RuleOutcome::NotChecked => 3,
            };
            self.rules.entry(rule.id.clone()).or_default()[slot] += 1;
        }
        for check in &report.checks {
            self.checks.entry(check.id).or_default()[check.status.index()] += 1;
        }
        let fails = report.count(Status::Fail);
        let unknowns = report.count(Status::Unknown);
        if fails + unknowns > 0 {
            let entry = WorstDomain {
                fails,
                unknowns,
                domain: report.domain.clone(),
                failed: report
                    .checks
                    .iter()
                    .filter(|c| c.status == Status::Fail)
                    .map(|c| c.id.to_owned())
                    .collect(),
            };
            if self.worst.len() < WORST_KEPT {
                self.worst.push(Reverse(entry));
            } else if self.worst.peek().is_some_and(|Reverse(min)| {
                (min.fails, min.unknowns) < (entry.fails, entry.unknowns)
            }) {
                self.worst.pop();
                self.worst.push(Reverse(entry));
            }
        }
    }

    /// The worst domains kept, worst first.
    pub fn worst(&self) -> Vec<WorstDomain> {
        let mut v: Vec<WorstDomain> = self.worst.iter().map(|Reverse(w)| w.clone()).collect();
        v.sort_by(|a, b| b.cmp(a));
        v
    }

    /// Pass, fail and unknown counts for `profile`.
    pub fn profile_counts(&self, profile: &str) -> [u64; 3] {
        self.verdicts
            .iter()
            .find(|(p, _)| p == profile)
            .map_or([0; 3], |(_, c)| *c)
    }

    /// Domains whose verdict for `profile` was `verdict`.
    pub fn count(&self, profile: &str, verdict: Verdict) -> u64 {
        self.profile_counts(profile)[verdict.index()]
    }
}
