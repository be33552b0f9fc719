//! Domain audits: is a domain's published mail configuration what Gmail, Yahoo, Outlook.com and
//! Apple ask of senders? The rules are data ([`Catalogue`]); the checks ask DNS through
//! [`inkan_dns::Resolver`] and say pass, fail, warn, unknown or skip with evidence and a fix; a
//! [`DomainReport`] carries a verdict per profile; [`run`] audits a stream of domains with
//! bounded concurrency and [`Summary`] keeps fixed-size aggregates of any number of them.
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod catalogue;
pub mod checks;
mod input;
mod lookup;
pub mod mta_sts;
mod report;
mod runner;
mod summary;

pub use catalogue::{
    Catalogue, CatalogueError, Change, Combine, Evidence, Profile, Provider, Rule, Scope,
};
pub use checks::{AuditOptions, DISCOVERY_SELECTORS};
pub use input::{DomainInput, InputError, parse_line, parse_selector, to_a_label};
pub use lookup::Lookup;
pub use report::{
    Category, Check, DomainReport, RuleOutcome, Status, Verdict, profile_verdict, rule_outcome,
};
pub use runner::{Auditor, run};
pub use summary::{Summary, WorstDomain};
