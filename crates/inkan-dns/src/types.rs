//! The vocabulary of answers: record types, record data, answers and failures.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;

/// The record types inkan asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RecordType {
    /// IPv4 address (RFC 1035).
    A,
    /// IPv6 address (RFC 3596).
    Aaaa,
    /// Canonical name (RFC 1035).
    Cname,
    /// Mail exchanger (RFC 1035).
    Mx,
    /// Name server (RFC 1035).
    Ns,
    /// Domain name pointer, for reverse DNS (RFC 1035).
    Ptr,
    /// Start of authority (RFC 1035).
    Soa,
    /// Text (RFC 1035).
    Txt,
    /// The obsolete SPF record type 99 (RFC 4408, withdrawn by RFC 7208 §3.1).
    Spf,
}

impl RecordType {
    /// Every type, in the order used for listings.
    pub const ALL: [RecordType; 9] = [
        RecordType::A,
        RecordType::Aaaa,
        RecordType::Cname,
        RecordType::Mx,
        RecordType::Ns,
        RecordType::Ptr,
        RecordType::Soa,
        RecordType::Txt,
        RecordType::Spf,
    ];

    /// The mnemonic, as written in zone files.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Cname => "CNAME",
            RecordType::Mx => "MX",
            RecordType::Ns => "NS",
            RecordType::Ptr => "PTR",
            RecordType::Soa => "SOA",
            RecordType::Txt => "TXT",
            RecordType::Spf => "SPF",
        }
    }

    /// The numeric type code on the wire.
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Spf => 99,
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RecordType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown record type '{s}' (expected one of A, AAAA, CNAME, MX, NS, PTR, SOA, TXT, SPF)"))
    }
}

/// The character-strings of one TXT (or SPF) record, kept apart as published.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Txt {
    strings: Vec<Vec<u8>>,
}

impl Txt {
    /// A record made of these character-strings.
    pub fn new(strings: Vec<Vec<u8>>) -> Self {
        Txt { strings }
    }

    /// The character-strings as published, each at most 255 bytes on the wire.
    pub fn strings(&self) -> &[Vec<u8>] {
        &self.strings
    }

    /// The character-strings joined without separator, as SPF (RFC 7208 §3.3), DKIM and DMARC
    /// read them.
    pub fn concat(&self) -> Vec<u8> {
        self.strings.concat()
    }

    /// [`Txt::concat`] as text, with invalid UTF-8 replaced.
    pub fn concat_lossy(&self) -> String {
        String::from_utf8_lossy(&self.concat()).into_owned()
    }
}

/// The fields of an SOA record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Soa {
    /// Primary name server.
    pub mname: String,
    /// Responsible mailbox, in domain-name form.
    pub rname: String,
    /// Zone serial number.
    pub serial: u32,
    /// Refresh interval in seconds.
    pub refresh: u32,
    /// Retry interval in seconds.
    pub retry: u32,
    /// Expire time in seconds.
    pub expire: u32,
    /// Minimum field: the negative-caching TTL (RFC 2308 §4).
    pub minimum: u32,
}

/// The data of one resource record. Names are lower-case without the trailing dot.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An alias for another name.
    Cname(String),
    /// A mail exchanger with its preference.
    Mx {
        /// Lower is preferred.
        preference: u16,
        /// The host; `""` (the root) is a null MX (RFC 7505).
        exchange: String,
    },
    /// A name server.
    Ns(String),
    /// A pointer, usually from a reverse name to a host name.
    Ptr(String),
    /// A start of authority.
    Soa(Soa),
    /// A text record.
    Txt(Txt),
    /// A record of the obsolete SPF type 99.
    Spf(Txt),
}

impl RData {
    /// The type of this data.
    pub fn record_type(&self) -> RecordType {
        match self {
            RData::A(_) => RecordType::A,
            RData::Aaaa(_) => RecordType::Aaaa,
            RData::Cname(_) => RecordType::Cname,
            RData::Mx { .. } => RecordType::Mx,
            RData::Ns(_) => RecordType::Ns,
            RData::Ptr(_) => RecordType::Ptr,
            RData::Soa(_) => RecordType::Soa,
            RData::Txt(_) => RecordType::Txt,
            RData::Spf(_) => RecordType::Spf,
        }
    }
}

impl fmt::Display for RData {
    /// Presentation format, as in a zone file.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn absolute(name: &str) -> String {
            format!("{name}.")
        }
        match self {
            RData::A(ip) => write!(f, "{ip}"),
            RData::Aaaa(ip) => write!(f, "{ip}"),
            RData::Cname(n) | RData::Ns(n) | RData::Ptr(n) => f.write_str(&absolute(n)),
            RData::Mx {
                preference,
                exchange,
            } => write!(f, "{preference} {}", absolute(exchange)),
            RData::Soa(s) => write!(
                f,
                "{} {} {} {} {} {} {}",
                absolute(&s.mname),
                absolute(&s.rname),
                s.serial,
                s.refresh,
                s.retry,
                s.expire,
                s.minimum
            ),
            RData::Txt(t) | RData::Spf(t) => {
                for (i, s) in t.strings().iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str("\"")?;
                    for &b in s {
                        match b {
                            b'"' | b'\\' => write!(f, "\\{}", b as char)?,
                            0x20..=0x7e => write!(f, "{}", b as char)?,
                            _ => write!(f, "\\{b:03}")?,
                        }
                    }
                    f.write_str("\"")?;
                }
                Ok(())
            }
        }
    }
}

/// One resource record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Record {
    /// The owner name, lower-case without the trailing dot.
    pub name: String,
    /// Time to live in seconds.
    pub ttl: u32,
    /// The record data.
    pub data: RData,
}

/// The records found for a question, with the CNAME chain followed to reach them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSet {
    /// Records of the asked type (for a CNAME question, the CNAME itself).
    pub records: Vec<Record>,
    /// The aliases followed from the asked name, in order, each the target of the previous.
    pub cname_chain: Vec<String>,
}

impl RecordSet {
    /// The smallest TTL among the records: how long the set may be kept.
    pub fn min_ttl(&self) -> u32 {
        self.records.iter().map(|r| r.ttl).min().unwrap_or(0)
    }
}

/// What DNS said: records, or that there are none, and for how long that holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The name has records of the asked type.
    Records(Arc<RecordSet>),
    /// The name does not exist (RCODE 3). `ttl` is the negative-caching TTL (RFC 2308 §5).
    NxDomain {
        /// Seconds this answer may be cached.
        ttl: u32,
    },
    /// The name exists but has no record of the asked type.
    NoData {
        /// Seconds this answer may be cached.
        ttl: u32,
    },
}

impl Answer {
    /// The records, or an empty slice for NXDOMAIN and NODATA.
    pub fn records(&self) -> &[Record] {
        match self {
            Answer::Records(set) => &set.records,
            Answer::NxDomain { .. } | Answer::NoData { .. } => &[],
        }
    }

    /// True for NXDOMAIN and NODATA: DNS said there is nothing.
    pub fn is_empty(&self) -> bool {
        self.records().is_empty()
    }

    /// How long this answer may be cached, in seconds.
    pub fn ttl(&self) -> u32 {
        match self {
            Answer::Records(set) => set.min_ttl(),
            Answer::NxDomain { ttl } | Answer::NoData { ttl } => *ttl,
        }
    }

    /// The TXT records, each as its concatenated bytes.
    pub fn txt(&self) -> impl Iterator<Item = &Txt> {
        self.records().iter().filter_map(|r| match &r.data {
            RData::Txt(t) | RData::Spf(t) => Some(t),
            _ => None,
        })
    }

    /// The IPv4 addresses among the records.
    pub fn ipv4(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.records().iter().filter_map(|r| match r.data {
            RData::A(ip) => Some(ip),
            _ => None,
        })
    }

    /// The IPv6 addresses among the records.
    pub fn ipv6(&self) -> impl Iterator<Item = Ipv6Addr> + '_ {
        self.records().iter().filter_map(|r| match r.data {
            RData::Aaaa(ip) => Some(ip),
            _ => None,
        })
    }

    /// The names carried by MX (exchange), NS, PTR and CNAME records, in answer order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records().iter().filter_map(|r| match &r.data {
            RData::Mx { exchange, .. } => Some(exchange.as_str()),
            RData::Ns(n) | RData::Ptr(n) | RData::Cname(n) => Some(n.as_str()),
            _ => None,
        })
    }
}

/// Why a lookup failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// No answer within the time allowed.
    Timeout,
    /// The server answered SERVFAIL (RCODE 2).
    ServFail,
    /// The server answered REFUSED (RCODE 5).
    Refused,
    /// The network could not be used (socket errors, connection refused).
    Network,
    /// The answer could not be understood.
    Malformed,
    /// The question itself is not a valid DNS question (name too long, empty label).
    InvalidName,
}

impl FailureKind {
    /// A short lower-case word for the kind, used in output and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Timeout => "timeout",
            FailureKind::ServFail => "servfail",
            FailureKind::Refused => "refused",
            FailureKind::Network => "network",
            FailureKind::Malformed => "malformed",
            FailureKind::InvalidName => "invalid-name",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A lookup that produced no answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind} looking up {name} {rtype}: {detail}")]
pub struct DnsError {
    /// What went wrong.
    pub kind: FailureKind,
    /// The name asked for.
    pub name: String,
    /// The type asked for.
    pub rtype: RecordType,
    /// A human explanation (server address, underlying error).
    pub detail: String,
}

impl DnsError {
    /// A failure of `kind` for the question `name` / `rtype`.
    pub fn new(
        kind: FailureKind,
        name: &str,
        rtype: RecordType,
        detail: impl Into<String>,
    ) -> Self {
        DnsError {
            kind,
            name: name.to_owned(),
            rtype,
            detail: detail.into(),
        }
    }

    /// True when asking again later may succeed: SPF's temperror, an audit's "unknown".
    pub fn is_temporary(&self) -> bool {
        match self.kind {
            FailureKind::Timeout
            | FailureKind::ServFail
            | FailureKind::Refused
            | FailureKind::Network
            | FailureKind::Malformed => true,
            FailureKind::InvalidName => false,
        }
    }
}
