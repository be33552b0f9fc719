//! Asking real name servers: the system's (`/etc/resolv.conf`) or the ones given, through
//! hickory-resolver.
//!
//! Queries go over UDP with EDNS0 (RFC 6891) and are retried over TCP when the answer comes back
//! truncated (RFC 1035 §4.2.1, RFC 7766 §5). Negative answers keep NXDOMAIN apart from NODATA by
//! the response code and take their TTL from the SOA in the authority section (RFC 2308 §3, §5).
//! Failures — no answer in time, SERVFAIL, REFUSED, an unusable network, an answer that cannot
//! be read — become [`DnsError`]s of the matching [`FailureKind`], never an empty answer.
//!
//! hickory's own cache is switched off: caching is inkan's decorator's job, with its own TTL
//! bounds and in-flight coalescing.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::TokioTime;
use hickory_proto::error::ProtoErrorKind;
use hickory_proto::iocompat::AsyncIoTokioAsStd;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData as WireData, Record as WireRecord, RecordType as WireType};
use hickory_resolver::AsyncResolver;
use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};
use hickory_resolver::error::{ResolveError, ResolveErrorKind};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::name_server::{
    GenericConnector, RuntimeProvider, TokioHandle, TokioRuntimeProvider,
};

use crate::memory::check_name;
use crate::types::{Answer, DnsError, FailureKind, RData, Record, RecordSet, RecordType, Soa, Txt};
use crate::{LookupFuture, Resolver, normalize_name};

/// How long and how often a [`NetworkResolver`] tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkOptions {
    /// The most one lookup may take, all tries and the TCP retry included. When it has passed
    /// the lookup fails with [`FailureKind::Timeout`].
    pub timeout: Duration,
    /// How many times a query is sent before giving up; each try gets an equal share of
    /// `timeout`.
    pub attempts: usize,
    /// The most UDP queries a [`crate::StubResolver`] has outstanding at once; further lookups
    /// wait their turn (within their timeout), so a burst does not overflow the receive buffers
    /// of either end. [`NetworkResolver`] does not use it.
    pub in_flight: usize,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            timeout: Duration::from_secs(5),
            attempts: 2,
            in_flight: 1024,
        }
    }
}

impl NetworkOptions {
    /// These options with the whole-lookup `timeout` changed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// These options with the number of tries changed (at least one).
    pub fn with_attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// These options with the limit on outstanding queries changed (at least one).
    pub fn with_in_flight(mut self, in_flight: usize) -> Self {
        self.in_flight = in_flight.max(1);
        self
    }
}

/// Why a [`NetworkResolver`] could not be set up.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The system resolver configuration could not be read.
    #[error("cannot read the system DNS configuration (/etc/resolv.conf): {0}")]
    SystemConfig(String),
    /// No name server was given or configured.
    #[error("no name server to ask")]
    NoServers,
    /// The timeout is zero or too small to split between the tries.
    #[error("timeout {0:?} is too short: it must be at least one millisecond per attempt")]
    Timeout(Duration),
}

/// hickory's tokio runtime with `TCP_NODELAY` on its TCP connections.
///
/// hickory writes the two-byte length and the message of a TCP query separately (RFC 1035
/// §4.2.2); with Nagle's algorithm on, the message waits for the server to acknowledge the length,
/// which a server delaying its ACKs does 40 ms later. Every TCP retry of a truncated answer paid
/// that; with the option set it costs a round trip.
#[derive(Clone, Default)]
struct NoDelayRuntime(TokioRuntimeProvider);

impl RuntimeProvider for NoDelayRuntime {
    type Handle = TokioHandle;
    type Timer = TokioTime;
    type Udp = tokio::net::UdpSocket;
    type Tcp = AsyncIoTokioAsStd<tokio::net::TcpStream>;

    fn create_handle(&self) -> Self::Handle {
        self.0.create_handle()
    }

    fn connect_tcp(
        &self,
        server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = io::Result<Self::Tcp>>>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(server_addr).await?;
            stream.set_nodelay(true)?;
            Ok(AsyncIoTokioAsStd(stream))
        })
    }

    fn bind_udp(
        &self,
        local_addr: SocketAddr,
        server_addr: SocketAddr,
    ) -> Pin<Box<dyn Send + Future<Output = io::Result<Self::Udp>>>> {
        self.0.bind_udp(local_addr, server_addr)
    }
}

/// A [`Resolver`] that asks name servers over the network.
pub struct NetworkResolver {
    inner: AsyncResolver<GenericConnector<NoDelayRuntime>>,
    options: NetworkOptions,
    servers: Vec<SocketAddr>,
}

impl fmt::Debug for NetworkResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkResolver")
            .field("servers", &self.servers)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl NetworkResolver {
    /// Asks the name servers of the system configuration (`/etc/resolv.conf` on Unix).
    ///
    /// The search list and `ndots` of that file are not used: inkan always asks the name it was
    /// given, as a fully qualified name.
    pub fn system(options: NetworkOptions) -> Result<Self, NetworkError> {
        let (config, _) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| NetworkError::SystemConfig(e.to_string()))?;
        let config = ResolverConfig::from_parts(None, vec![], config.name_servers().to_vec());
        Self::from_config(config, options)
    }

    /// Asks `servers`, in order, each over UDP with a TCP retry on truncation.
    pub fn with_servers(
        servers: &[SocketAddr],
        options: NetworkOptions,
    ) -> Result<Self, NetworkError> {
        let mut config = ResolverConfig::new();
        for &addr in servers {
            for protocol in [Protocol::Udp, Protocol::Tcp] {
                let mut server = NameServerConfig::new(addr, protocol);
                // These servers are the source of truth the user chose: their NXDOMAIN is final.
                server.trust_negative_responses = true;
                config.add_name_server(server);
            }
        }
        Self::from_config(config, options)
    }

    fn from_config(config: ResolverConfig, options: NetworkOptions) -> Result<Self, NetworkError> {
        let mut servers: Vec<SocketAddr> = Vec::new();
        for server in config.name_servers() {
            if !servers.contains(&server.socket_addr) {
                servers.push(server.socket_addr);
            }
        }
        if servers.is_empty() {
            return Err(NetworkError::NoServers);
        }
        let attempts = options.attempts.max(1);
        let per_try = options.timeout / u32::try_from(attempts).unwrap_or(u32::MAX);
        if per_try < Duration::from_millis(1) {
            return Err(NetworkError::Timeout(options.timeout));
        }
        let mut opts = ResolverOpts::default();
        opts.timeout = per_try;
        opts.attempts = attempts;
        opts.edns0 = true;
        opts.cache_size = 0;
        opts.use_hosts_file = false;
        opts.preserve_intermediates = true;
        opts.ndots = 0;
        let inner = AsyncResolver::new(
            config,
            opts,
            GenericConnector::new(NoDelayRuntime::default()),
        );
        Ok(NetworkResolver {
            inner,
            options: NetworkOptions {
                attempts,
                ..options
            },
            servers,
        })
    }

    /// The servers asked, in order.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    async fn ask(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        check_name(name, rtype)?;
        let qname = wire_name(name)
            .map_err(|detail| DnsError::new(FailureKind::InvalidName, name, rtype, detail))?;
        let asked = wire_type(rtype);
        match tokio::time::timeout(self.options.timeout, self.inner.lookup(qname, asked)).await {
            Err(_) => Err(DnsError::new(
                FailureKind::Timeout,
                name,
                rtype,
                format!(
                    "no answer within {:?} from {}",
                    self.options.timeout,
                    self.server_list()
                ),
            )),
            Ok(Ok(lookup)) => from_lookup(&lookup, name, rtype),
            Ok(Err(err)) => from_error(&err, name, rtype, &self.server_list()),
        }
    }

    fn server_list(&self) -> String {
        let list: Vec<String> = self.servers.iter().map(SocketAddr::to_string).collect();
        list.join(", ")
    }
}

impl Resolver for NetworkResolver {
    fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
        Box::pin(self.ask(name, rtype))
    }
}

/// `name` as an absolute wire name, so no search list is ever applied. ASCII names go out
/// label by label as written (SPF macro expansions can put `:`, `/`, `%` or spaces in a
/// label, which the DNS carries but hickory's presentation parser refuses); other names are
/// converted with IDNA.
pub(crate) fn wire_name(name: &str) -> Result<Name, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let parsed = if trimmed.is_ascii() {
        Name::from_labels(trimmed.split('.').map(str::as_bytes)).map(|mut n| {
            n.set_fqdn(true);
            n
        })
    } else {
        Name::from_utf8(format!("{trimmed}."))
    };
    parsed.map_err(|e| format!("'{name}' is not a domain name: {e}"))
}

/// A wire name as inkan keeps names: each label's bytes as sent, without the presentation
/// escapes of `to_ascii` (a label holding a space or `%`, as SPF macros can produce, must
/// compare equal to the name that was asked), lower-cased, no trailing dot.
pub(crate) fn plain_name(name: &Name) -> String {
    let labels: Vec<String> = name
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    normalize_name(&labels.join("."))
}

fn wire_type(rtype: RecordType) -> WireType {
    WireType::from(rtype.code())
}

/// Splits a hickory lookup into the records of the asked type and the CNAME chain that led to
/// them.
fn from_lookup(lookup: &Lookup, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
    let mut aliases: HashMap<String, String> = HashMap::new();
    let mut records = Vec::new();
    for record in lookup.records() {
        let Some(data) = from_wire_record(record, name, rtype)? else {
            continue;
        };
        let owner = plain_name(record.name());
        match data {
            RData::Cname(target) if rtype != RecordType::Cname => {
                aliases.insert(owner, target);
            }
            data if data.record_type() == rtype => {
                records.push(Record {
                    name: owner,
                    ttl: record.ttl(),
                    data,
                });
            }
            _ => {}
        }
    }
    let mut cname_chain = Vec::new();
    let mut current = normalize_name(name);
    while let Some(target) = aliases.remove(&current) {
        cname_chain.push(target.clone());
        current = target;
    }
    if records.is_empty() {
        // The server answered with aliases only and hickory found nothing at their end.
        return Ok(Answer::NoData { ttl: 0 });
    }
    Ok(Answer::Records(Arc::new(RecordSet {
        records,
        cname_chain,
    })))
}

/// Converts one wire record; types inkan does not ask for give `None`.
pub(crate) fn from_wire_record(
    record: &WireRecord,
    name: &str,
    rtype: RecordType,
) -> Result<Option<RData>, DnsError> {
    let host = plain_name;
    let Some(data) = record.data() else {
        return Ok(None);
    };
    Ok(Some(match data {
        WireData::A(a) => RData::A(a.0),
        WireData::AAAA(aaaa) => RData::Aaaa(aaaa.0),
        WireData::CNAME(cname) => RData::Cname(host(&cname.0)),
        WireData::MX(mx) => RData::Mx {
            preference: mx.preference(),
            exchange: host(mx.exchange()),
        },
        WireData::NS(ns) => RData::Ns(host(&ns.0)),
        WireData::PTR(ptr) => RData::Ptr(host(&ptr.0)),
        // The interval fields are unsigned 32-bit on the wire (RFC 1035 §3.3.13); hickory
        // stores them as i32, so the bit pattern is taken back as is.
        WireData::SOA(soa) => RData::Soa(Soa {
            mname: host(soa.mname()),
            rname: host(soa.rname()),
            serial: soa.serial(),
            refresh: soa.refresh() as u32,
            retry: soa.retry() as u32,
            expire: soa.expire() as u32,
            minimum: soa.minimum(),
        }),
        WireData::TXT(txt) => RData::Txt(Txt::new(
            txt.txt_data().iter().map(|s| s.to_vec()).collect(),
        )),
        WireData::Unknown { code, rdata } if *code == wire_type(RecordType::Spf) => {
            let strings = character_strings(rdata.anything()).ok_or_else(|| {
                DnsError::new(
                    FailureKind::Malformed,
                    name,
                    rtype,
                    format!(
                        "SPF record at {} has malformed character-strings",
                        record.name()
                    ),
                )
            })?;
            RData::Spf(Txt::new(strings))
        }
        _ => return Ok(None),
    }))
}

/// Splits RDATA made of length-prefixed character-strings (RFC 1035 §3.3), as TXT and SPF
/// records carry; `None` when a length runs past the end.
fn character_strings(mut rdata: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut strings = Vec::new();
    while let Some((&len, rest)) = rdata.split_first() {
        let len = usize::from(len);
        if rest.len() < len {
            return None;
        }
        strings.push(rest[..len].to_vec());
        rdata = &rest[len..];
    }
    Some(strings)
}

/// Classifies a hickory error: negative answers become [`Answer`]s, everything else a
/// [`DnsError`] of the matching kind.
fn from_error(
    err: &ResolveError,
    name: &str,
    rtype: RecordType,
    servers: &str,
) -> Result<Answer, DnsError> {
    let fail = |kind: FailureKind, detail: String| Err(DnsError::new(kind, name, rtype, detail));
    match err.kind() {
        ResolveErrorKind::NoRecordsFound {
            response_code,
            negative_ttl,
            ..
        } => {
            // Without an SOA, RFC 2308 §5 says a negative answer is not to be cached.
            let ttl = negative_ttl.unwrap_or(0);
            match *response_code {
                ResponseCode::NXDomain => Ok(Answer::NxDomain { ttl }),
                ResponseCode::NoError => Ok(Answer::NoData { ttl }),
                ResponseCode::ServFail => {
                    fail(FailureKind::ServFail, format!("SERVFAIL from {servers}"))
                }
                ResponseCode::Refused => {
                    fail(FailureKind::Refused, format!("REFUSED from {servers}"))
                }
                ResponseCode::FormErr => fail(
                    FailureKind::Malformed,
                    format!("FORMERR from {servers}: the server could not read the query"),
                ),
                other => fail(FailureKind::ServFail, format!("{other} from {servers}")),
            }
        }
        ResolveErrorKind::Timeout => {
            fail(FailureKind::Timeout, format!("no answer from {servers}"))
        }
        ResolveErrorKind::Io(io) => fail(FailureKind::Network, format!("{io} (asking {servers})")),
        ResolveErrorKind::NoConnections => fail(
            FailureKind::Network,
            format!("no connection to {servers} could be used"),
        ),
        ResolveErrorKind::Proto(proto) => {
            let kind = match proto.kind() {
                ProtoErrorKind::Timeout => FailureKind::Timeout,
                ProtoErrorKind::Io(_)
                | ProtoErrorKind::Busy
                | ProtoErrorKind::Canceled(_)
                | ProtoErrorKind::Timer
                | ProtoErrorKind::Message(_)
                | ProtoErrorKind::Msg(_) => FailureKind::Network,
                _ => FailureKind::Malformed,
            };
            fail(kind, format!("{proto} (asking {servers})"))
        }
        other => fail(FailureKind::Network, format!("{other} (asking {servers})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn character_strings_are_split_and_checked() {
        assert_eq!(
            character_strings(b"\x02ab\x00\x01c"),
            Some(vec![b"ab".to_vec(), vec![], b"c".to_vec()])
        );
        assert_eq!(character_strings(b""), Some(vec![]));
        assert_eq!(character_strings(b"\x05ab"), None);
    }

    #[test]
    fn names_are_asked_absolute() {
        assert!(wire_name("example.test").unwrap().is_fqdn());
        assert_eq!(
            wire_name("Example.TEST.").unwrap().to_ascii(),
            "Example.TEST."
        );
    }

    #[test]
    fn types_map_to_their_wire_codes() {
        for rtype in RecordType::ALL {
            assert_eq!(u16::from(wire_type(rtype)), rtype.code());
        }
    }

    #[test]
    fn options_reject_a_zero_timeout() {
        let err = NetworkResolver::with_servers(
            &["127.0.0.1:53".parse().unwrap()],
            NetworkOptions::default().with_timeout(Duration::ZERO),
        )
        .unwrap_err();
        assert!(matches!(err, NetworkError::Timeout(_)));
        let none = NetworkResolver::with_servers(&[], NetworkOptions::default()).unwrap_err();
        assert!(matches!(none, NetworkError::NoServers));
    }
}
