//! The sender rules of Gmail, Yahoo, Outlook.com and Apple as data: which rule applies to whom
//! (every sender or bulk senders), what evidence it needs (DNS, a message, or statistics), where
//! the provider published it and when it was added or changed; and the profiles (`gmail-bulk`,
//! `all-bulk`, ...) that select sets of rules.
//!
//! The catalogue lives in `rules.json` beside this file, is embedded at build time and parsed
//! once; the test `builtin_catalogue_is_valid` keeps it well-formed.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The embedded catalogue text.
const BUILTIN: &str = include_str!("rules.json");

/// Who a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every sender.
    All,
    /// Bulk senders only (the provider's volume threshold).
    Bulk,
}

/// What a rule needs to be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Published DNS records: `inkan audit` judges these.
    Dns,
    /// A message as sent (headers, transport): judged by `inkan verify`, not by an audit.
    Message,
    /// Sending statistics such as complaint rates: judged from reports.
    Statistics,
}

/// How the checks behind a rule combine into the rule's outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Combine {
    /// Every check must pass.
    #[default]
    All,
    /// The checks of one category (SPF, or DKIM) passing is enough: "SPF or DKIM".
    Any,
}

/// One dated change to a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// What changed, in a few words.
    pub change: String,
}

/// One published requirement of one provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Stable id, `<provider>.<name>` or `<provider>.bulk.<name>`.
    pub id: String,
    /// Who it applies to.
    pub scope: Scope,
    /// What it needs to be judged.
    pub evidence: Evidence,
    /// How its checks combine.
    #[serde(default)]
    pub combine: Combine,
    /// The requirement in one sentence (our words).
    pub summary: String,
    /// Where the provider published it.
    pub source: String,
    /// When it took effect, `YYYY-MM-DD`.
    pub added: String,
    /// When the provider withdrew it, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<String>,
    /// Dated changes, oldest first.
    #[serde(default)]
    pub history: Vec<Change>,
}

impl Rule {
    /// True while the provider still publishes the rule.
    pub fn is_active(&self) -> bool {
        self.removed.is_none()
    }
}

/// A mailbox provider and its rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    /// `gmail`, `yahoo`, `outlook`, `apple`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The provider's guidelines page.
    pub source: String,
    /// Who the provider counts as a bulk sender.
    pub bulk_threshold: String,
    /// The rules, in the provider's order.
    pub rules: Vec<Rule>,
}

/// A named selection of rules: providers × scopes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `gmail`, `gmail-bulk`, ..., `all-bulk`.
    pub id: String,
    /// What it selects, in a few words.
    pub summary: String,
    /// The providers whose rules it takes.
    pub providers: Vec<String>,
    /// The scopes it takes.
    pub scopes: Vec<Scope>,
}

/// The whole catalogue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// The date the catalogue was last reviewed against the providers' pages.
    pub version: String,
    /// Providers and their rules.
    pub providers: Vec<Provider>,
    /// The profiles.
    pub profiles: Vec<Profile>,
}

/// Why a catalogue text was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// The text is not the catalogue's JSON shape.
    #[error("rule catalogue is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// A rule or profile id appears twice.
    #[error("rule catalogue: id '{0}' appears more than once")]
    DuplicateId(String),
    /// A rule id does not start with its provider's id.
    #[error("rule catalogue: rule '{rule}' is listed under provider '{provider}'")]
    WrongProvider {
        /// The rule id.
        rule: String,
        /// The provider it is listed under.
        provider: String,
    },
    /// A date is not `YYYY-MM-DD`.
    #[error("rule catalogue: '{date}' in '{id}' is not a YYYY-MM-DD date")]
    BadDate {
        /// The rule id.
        id: String,
        /// The text found.
        date: String,
    },
    /// A source is not an https URL.
    #[error("rule catalogue: source '{source_url}' of '{id}' is not an https URL")]
    BadSource {
        /// The rule or provider id.
        id: String,
        /// The text found.
        source_url: String,
    },
    /// A profile names a provider the catalogue does not have.
    #[error("rule catalogue: profile '{profile}' names unknown provider '{provider}'")]
    UnknownProvider {
        /// The profile id.
        profile: String,
        /// The provider named.
        provider: String,
    },
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && (1..=12).contains(&s[5..7].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&s[8..10].parse::<u8>().unwrap_or(0))
}

impl Catalogue {
    /// Parses and validates a catalogue text.
    pub fn parse(text: &str) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue = serde_json::from_str(text)?;
        catalogue.validate()?;
        Ok(catalogue)
    }

    /// The catalogue built into this version of inkan.
    pub fn builtin() -> &'static Catalogue {
        static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
        CATALOGUE.get_or_init(|| {
            #[allow(clippy::expect_used)]
            Catalogue::parse(BUILTIN)
                .expect("the embedded rules.json is checked by builtin_catalogue_is_valid")
        })
    }

    fn validate(&self) -> Result<(), CatalogueError> {
        let mut ids = HashSet::new();
        let https = |id: &str, url: &str| {
            if url.starts_with("https://") && url.len() > "https://".len() {
                Ok(())
            } else {
                Err(CatalogueError::BadSource {
                    id: id.to_owned(),
                    source_url: url.to_owned(),
                })
            }
        };
        for provider in &self.providers {
            https(&provider.id, &provider.source)?;
            if !ids.insert(provider.id.clone()) {
                return Err(CatalogueError::DuplicateId(provider.id.clone()));
            }
            for rule in &provider.rules {
                if !ids.insert(rule.id.clone()) {
                    return Err(CatalogueError::DuplicateId(rule.id.clone()));
                }
                if !rule.id.starts_with(&format!("{}.", provider.id)) {
                    return Err(CatalogueError::WrongProvider {
                        rule: rule.id.clone(),
                        provider: provider.id.clone(),
                    });
                }
                https(&rule.id, &rule.source)?;
                let dates = std::iter::once(&rule.added)
                    .chain(rule.removed.as_ref())
                    .chain(rule.history.iter().map(|c| &c.date));
                for date in dates {
                    if !is_date(date) {
                        return Err(CatalogueError::BadDate {
                            id: rule.id.clone(),
                            date: date.clone(),
                        });
                    }
                }
            }
        }
        let mut profile_ids = HashSet::new();
        for profile in &self.profiles {
            if !profile_ids.insert(profile.id.clone()) {
                return Err(CatalogueError::DuplicateId(profile.id.clone()));
            }
            for p in &profile.providers {
                if self.provider(p).is_none() {
                    return Err(CatalogueError::UnknownProvider {
                        profile: profile.id.clone(),
                        provider: p.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// The provider with this id.
    pub fn provider(&self, id: &str) -> Option<&Provider> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// Every rule, across providers.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.providers.iter().flat_map(|p| p.rules.iter())
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules().find(|r| r.id == id)
    }

    /// The profile with this id.
    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// The rules a profile selects that are still in force, in catalogue order.
    pub fn profile_rules<'a>(
        &'a self,
        profile: &'a Profile,
    ) -> impl Iterator<Item = &'a Rule> + 'a {
        self.providers
            .iter()
            .filter(|p| profile.providers.contains(&p.id))
            .flat_map(|p| p.rules.iter())
            .filter(|r| r.is_active() && profile.scopes.contains(&r.scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_valid() {
        let c = Catalogue::parse(BUILTIN).unwrap();
        let profiles: Vec<&str> = c.profiles.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            profiles,
            [
                "gmail",
                "gmail-bulk",
                "yahoo",
                "yahoo-bulk",
                "outlook-bulk",
                "apple-bulk",
                "all-bulk"
            ]
        );
        let providers: Vec<&str> = c.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(providers, ["gmail", "yahoo", "outlook", "apple"]);
        for rule in c.rules() {
            assert!(!rule.summary.is_empty(), "{} has no summary", rule.id);
        }
    }

    #[test]
    fn gmail_arc_text_removed_in_march_2026_and_not_in_profiles() {
        let c = Catalogue::builtin();
        let arc = c.rule("gmail.arc-forwarding").unwrap();
        assert_eq!(arc.removed.as_deref(), Some("2026-03-01"));
        let gmail = c.profile("gmail").unwrap();
        assert!(
            c.profile_rules(gmail)
                .all(|r| r.id != "gmail.arc-forwarding")
        );
    }

    #[test]
    fn dated_changes_are_recorded() {
        let c = Catalogue::builtin();
        let spf = c.rule("outlook.bulk.spf").unwrap();
        assert!(
            spf.history
                .iter()
                .any(|h| h.date == "2025-05-05" && h.change.contains("550 5.7.515"))
        );
        let g = c.rule("gmail.bulk.dmarc").unwrap();
        assert_eq!(g.added, "2024-02-01");
        assert!(g.history.iter().any(|h| h.date.starts_with("2025-11")));
        assert_eq!(c.rule("yahoo.bulk.dmarc").unwrap().added, "2024-02-01");
    }

    #[test]
    fn profiles_select_by_provider_and_scope() {
        let c = Catalogue::builtin();
        let ids = |p: &str| -> Vec<String> {
            c.profile_rules(c.profile(p).unwrap())
                .map(|r| r.id.clone())
                .collect()
        };
        assert!(
            ids("gmail")
                .iter()
                .all(|r| r.starts_with("gmail.") && !r.contains(".bulk."))
        );
        assert!(ids("gmail-bulk").contains(&"gmail.bulk.dmarc".to_owned()));
        assert!(ids("gmail-bulk").contains(&"gmail.ptr".to_owned()));
        assert!(
            ids("outlook-bulk")
                .iter()
                .all(|r| r.starts_with("outlook.bulk."))
        );
        let all = ids("all-bulk");
        for p in ["gmail-bulk", "yahoo-bulk", "outlook-bulk", "apple-bulk"] {
            assert!(
                ids(p).iter().all(|r| all.contains(r)),
                "{p} not within all-bulk"
            );
        }
    }

    #[test]
    fn bad_catalogues_are_refused_with_the_offending_text() {
        let bad_date = BUILTIN.replacen("\"added\": \"2024-02-01\"", "\"added\": \"Feb 2024\"", 1);
        let err = Catalogue::parse(&bad_date).unwrap_err();
        assert!(err.to_string().contains("'Feb 2024'"), "{err}");
        let bad_url = BUILTIN.replacen("https://support.apple.com/en-us/102322", "http://x", 1);
        assert!(matches!(
            Catalogue::parse(&bad_url),
            Err(CatalogueError::BadSource { .. })
        ));
        let dup = BUILTIN.replacen("\"id\": \"gmail.tls\"", "\"id\": \"gmail.ptr\"", 1);
        assert!(
            matches!(Catalogue::parse(&dup), Err(CatalogueError::DuplicateId(id)) if id == "gmail.ptr")
        );
        assert!(matches!(
            Catalogue::parse("{"),
            Err(CatalogueError::Json(_))
        ));
    }
}
