//! An authoritative view of DNS held in memory: the base of the zone-file resolver and of the
//! test servers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::types::{Answer, DnsError, FailureKind, RData, Record, RecordSet, RecordType};
use crate::{LookupFuture, Resolver, normalize_name};

/// How many CNAMEs a lookup follows before it gives up.
const MAX_CNAME_CHAIN: usize = 16;
/// Negative-caching TTL used when no SOA covers the name.
const DEFAULT_NEGATIVE_TTL: u32 = 300;

/// Answers questions from a fixed set of records, as an authoritative server for all of them
/// would: names with records of another type (or below them) are NODATA, names absent from the
/// set are NXDOMAIN, CNAMEs are followed.
#[derive(Clone, Debug, Default)]
pub struct MemoryResolver {
    records: HashMap<String, Vec<Record>>,
    /// Names that own no record but have descendants that do (RFC 8020 empty non-terminals).
    empty_non_terminals: HashSet<String>,
}

impl MemoryResolver {
    /// An empty resolver: every name is NXDOMAIN.
    pub fn new() -> Self {
        Self::default()
    }

    /// A resolver holding `records`.
    pub fn from_records(records: impl IntoIterator<Item = Record>) -> Self {
        let mut resolver = Self::new();
        for record in records {
            resolver.insert(record);
        }
        resolver
    }

    /// Adds one record; its name is normalized first.
    pub fn insert(&mut self, mut record: Record) {
        record.name = normalize_name(&record.name);
        let mut parent = record.name.as_str();
        while let Some((_, rest)) = parent.split_once('.') {
            if !self.records.contains_key(rest) {
                self.empty_non_terminals.insert(rest.to_owned());
            }
            parent = rest;
        }
        self.empty_non_terminals.remove(&record.name);
        self.records
            .entry(record.name.clone())
            .or_default()
            .push(record);
    }

    /// Every record held, in no particular order.
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values().flatten()
    }

    /// True when `name` owns records or has descendants that do.
    pub fn name_exists(&self, name: &str) -> bool {
        let name = normalize_name(name);
        self.records.contains_key(&name) || self.empty_non_terminals.contains(&name)
    }

    /// Answers a question without any I/O.
    pub fn answer(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        check_name(name, rtype)?;
        let mut current = normalize_name(name);
        let mut cname_chain = Vec::new();
        loop {
            let Some(owned) = self.records.get(&current) else {
                let ttl = self.negative_ttl(&current);
                // At the end of a CNAME chain the RCODE describes the last name (RFC 6604).
                return Ok(if self.empty_non_terminals.contains(&current) {
                    Answer::NoData { ttl }
                } else {
                    Answer::NxDomain { ttl }
                });
            };
            let matching: Vec<Record> = owned
                .iter()
                .filter(|r| r.data.record_type() == rtype)
                .cloned()
                .collect();
            if !matching.is_empty() {
                return Ok(Answer::Records(Arc::new(RecordSet {
                    records: matching,
                    cname_chain,
                })));
            }
            let alias = owned.iter().find_map(|r| match &r.data {
                RData::Cname(target) if rtype != RecordType::Cname => Some(target.clone()),
                _ => None,
            });
            match alias {
                Some(target) => {
                    if cname_chain.len() >= MAX_CNAME_CHAIN || cname_chain.contains(&target) {
                        return Err(DnsError::new(
                            FailureKind::ServFail,
                            name,
                            rtype,
                            format!(
                                "CNAME chain loops or is longer than {MAX_CNAME_CHAIN} at {target}"
                            ),
                        ));
                    }
                    cname_chain.push(target.clone());
                    current = target;
                }
                None => {
                    return Ok(Answer::NoData {
                        ttl: self.negative_ttl(&current),
                    });
                }
            }
        }
    }

    /// The negative TTL for `name`: the SOA MINIMUM of the closest enclosing zone held here,
    /// bounded by that SOA's own TTL (RFC 2308 §5).
    fn negative_ttl(&self, name: &str) -> u32 {
        let mut candidate = Some(name);
        while let Some(n) = candidate {
            if let Some(soa) = self.records.get(n).and_then(|rs| {
                rs.iter().find_map(|r| match &r.data {
                    RData::Soa(soa) => Some(soa.minimum.min(r.ttl)),
                    _ => None,
                })
            }) {
                return soa;
            }
            candidate = n.split_once('.').map(|(_, rest)| rest);
        }
        DEFAULT_NEGATIVE_TTL
    }
}

impl Resolver for MemoryResolver {
    fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
        let answer = self.answer(name, rtype);
        Box::pin(std::future::ready(answer))
    }

    fn lookup_ready(&self, name: &str, rtype: RecordType) -> Option<Result<Answer, DnsError>> {
        Some(self.answer(name, rtype))
    }
}

/// Rejects names that cannot be asked on the wire: empty labels, labels over 63 bytes, names
/// over 253 bytes (RFC 1035 §2.3.4).
pub(crate) fn check_name(name: &str, rtype: RecordType) -> Result<(), DnsError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let invalid = |why: String| Err(DnsError::new(FailureKind::InvalidName, name, rtype, why));
    if trimmed.is_empty() {
        return invalid("empty name".into());
    }
    if trimmed.len() > 253 {
        return invalid(format!(
            "name is {} bytes long, more than 253",
            trimmed.len()
        ));
    }
    for label in trimmed.split('.') {
        if label.is_empty() {
            return invalid("empty label".into());
        }
        if label.len() > 63 {
            return invalid(format!(
                "label '{label}' is {} bytes long, more than 63",
                label.len()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txt(name: &str, text: &str) -> Record {
        Record {
            name: name.into(),
            ttl: 60,
            data: RData::Txt(crate::Txt::new(vec![text.into()])),
        }
    }

    #[test]
    fn nxdomain_nodata_and_empty_non_terminal_are_told_apart() {
        let r = MemoryResolver::from_records([txt("s1._domainkey.Example.test.", "v=DKIM1; p=")]);
        assert!(matches!(
            r.answer("example.test", RecordType::Txt),
            Ok(Answer::NoData { .. })
        ));
        assert!(matches!(
            r.answer("_domainkey.example.test", RecordType::Txt),
            Ok(Answer::NoData { .. })
        ));
        assert!(matches!(
            r.answer("s1._domainkey.example.test", RecordType::A),
            Ok(Answer::NoData { .. })
        ));
        assert!(matches!(
            r.answer("nope.example.test", RecordType::Txt),
            Ok(Answer::NxDomain { .. })
        ));
        let found = r
            .answer("S1._DOMAINKEY.example.test.", RecordType::Txt)
            .unwrap();
        assert_eq!(found.txt().next().unwrap().concat(), b"v=DKIM1; p=");
    }

    #[test]
    fn cname_is_followed_and_reported() {
        let mut r = MemoryResolver::new();
        r.insert(Record {
            name: "a.test".into(),
            ttl: 5,
            data: RData::Cname("b.test".into()),
        });
        r.insert(txt("b.test", "hello"));
        let Answer::Records(set) = r.answer("a.test", RecordType::Txt).unwrap() else {
            panic!()
        };
        assert_eq!(set.cname_chain, vec!["b.test".to_owned()]);
        assert_eq!(set.records[0].name, "b.test");
        let Answer::Records(own) = r.answer("a.test", RecordType::Cname).unwrap() else {
            panic!()
        };
        assert!(own.cname_chain.is_empty());
    }

    #[test]
    fn cname_loop_is_a_failure_not_a_hang() {
        let mut r = MemoryResolver::new();
        r.insert(Record {
            name: "a.test".into(),
            ttl: 5,
            data: RData::Cname("b.test".into()),
        });
        r.insert(Record {
            name: "b.test".into(),
            ttl: 5,
            data: RData::Cname("a.test".into()),
        });
        let err = r.answer("a.test", RecordType::Txt).unwrap_err();
        assert_eq!(err.kind, FailureKind::ServFail);
    }

    #[test]
    fn invalid_names_are_refused_before_lookup() {
        let r = MemoryResolver::new();
        let long = format!("{}.test", "a".repeat(64));
        assert_eq!(
            r.answer(&long, RecordType::Txt).unwrap_err().kind,
            FailureKind::InvalidName
        );
        assert_eq!(
            r.answer("a..test", RecordType::Txt).unwrap_err().kind,
            FailureKind::InvalidName
        );
    }
}
