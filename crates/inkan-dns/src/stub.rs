//! A lean stub resolver for bulk work: it asks the name servers it is given directly, over a few
//! long-lived UDP sockets with many questions in flight on each, and over TCP when an answer
//! comes back truncated.
//!
//! Why not hickory-resolver here: for every query it opens, registers, and closes a UDP socket and
//! runs the question through several layers of streams and retries, which cost more than the
//! audit that asked it; with many questions in flight it was no faster than with one. This
//! resolver keeps per-query work to one send, one wake-up and one message decode, and uses
//! hickory-proto only to read answers.
//!
//! What it implements:
//! - queries with RD set, one question, and an EDNS0 OPT record offering 1232 bytes (RFC 1035
//!   §4.1, RFC 6891 §6.2.5; the DNS Flag Day 2020 size, which avoids IP fragmentation);
//! - answers matched to queries by socket (each socket is connected to one server, so the kernel
//!   drops datagrams from any other address), random 16-bit ID and the echoed question, compared
//!   case-insensitively (RFC 1035 §7.3, RFC 5452 §4.3, §9.1); anything else is ignored;
//! - a truncated answer (TC=1) asked again over TCP with two-byte length framing (RFC 1035
//!   §4.2.2, RFC 7766 §5, §6.2.1 for `TCP_NODELAY`);
//! - tries: `attempts` sends, each with an equal share of the timeout, rotating over the servers;
//!   SERVFAIL or REFUSED moves on to the next server when there is one;
//! - NXDOMAIN and NODATA told apart by RCODE, with the negative TTL the lesser of the SOA's TTL
//!   and MINIMUM (RFC 2308 §3, §5); a CNAME chain followed within the answer, its RCODE read as
//!   that of the last name (RFC 6604 §2.1), and asked on when the server stopped at a name it does
//!   not serve (RFC 1034 §5.3.3).
//!
//! Sockets use ephemeral ports chosen by the kernel once, not a new port per query: the ID and
//! the question are then the only defence against forged answers (RFC 5452 §9.2). That is the
//! trade made for speed, and it fits the servers this resolver is for: the ones the user names,
//! usually a resolver on the local network. Sockets and their receiving tasks are made on the
//! first lookup, on that lookup's tokio runtime, and end when the resolver is dropped.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RData as WireData;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::memory::check_name;
use crate::network::{NetworkError, NetworkOptions, from_wire_record, plain_name, wire_name};
use crate::types::{Answer, DnsError, FailureKind, RData, Record, RecordSet, RecordType};
use crate::{LookupFuture, Resolver, normalize_name};

/// The UDP payload size offered in EDNS0 (RFC 6891 §6.2.5).
const EDNS_PAYLOAD: u16 = 1232;
/// Sockets opened to each server; questions are spread over them.
const SOCKETS_PER_SERVER: usize = 4;
/// The receive buffer asked for on each socket, so a burst of answers is not dropped while the
/// receiving task waits for a core (the kernel caps it at `net.core.rmem_max`).
const RECEIVE_BUFFER: usize = 1 << 20;
/// How many CNAMEs the resolver follows across queries before giving up.
const MAX_CNAME_HOPS: usize = 8;
/// The class IN (RFC 1035 §3.2.4).
const CLASS_IN: u16 = 1;
/// The OPT pseudo-record type (RFC 6891 §6.1.1).
const TYPE_OPT: u16 = 41;

/// A [`Resolver`] that asks name servers over long-lived UDP sockets, many questions at once.
pub struct StubResolver {
    servers: Vec<SocketAddr>,
    options: NetworkOptions,
    per_try: Duration,
    transport: OnceLock<Transport>,
}

impl fmt::Debug for StubResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StubResolver")
            .field("servers", &self.servers)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl StubResolver {
    /// Asks the name servers of the system configuration (`/etc/resolv.conf` on Unix). As with
    /// [`crate::NetworkResolver::system`], the search list and `ndots` are not used.
    pub fn system(options: NetworkOptions) -> Result<Self, NetworkError> {
        let (config, _) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| NetworkError::SystemConfig(e.to_string()))?;
        let mut servers: Vec<SocketAddr> = Vec::new();
        for server in config.name_servers() {
            if !servers.contains(&server.socket_addr) {
                servers.push(server.socket_addr);
            }
        }
        Self::with_servers(&servers, options)
    }

    /// Asks `servers`, the first try going to the first server and each further try to the
    /// next. Nothing is opened until the first lookup.
    pub fn with_servers(
        servers: &[SocketAddr],
        options: NetworkOptions,
    ) -> Result<Self, NetworkError> {
        let mut unique: Vec<SocketAddr> = Vec::new();
        for &addr in servers {
            if !unique.contains(&addr) {
                unique.push(addr);
            }
        }
        if unique.is_empty() {
            return Err(NetworkError::NoServers);
        }
        let attempts = options.attempts.max(1);
        let per_try = options.timeout / u32::try_from(attempts).unwrap_or(u32::MAX);
        if per_try < Duration::from_millis(1) {
            return Err(NetworkError::Timeout(options.timeout));
        }
        Ok(StubResolver {
            servers: unique,
            options: NetworkOptions {
                attempts,
                in_flight: options.in_flight.max(1),
                ..options
            },
            per_try,
            transport: OnceLock::new(),
        })
    }

    /// The servers asked, in order.
    pub fn servers(&self) -> &[SocketAddr] {
        &self.servers
    }

    /// The sockets, opened on first use. A failure to open them is returned and tried again on
    /// the next lookup.
    fn transport(&self) -> io::Result<&Transport> {
        if let Some(transport) = self.transport.get() {
            return Ok(transport);
        }
        let opened = Transport::open(&self.servers, self.options.in_flight)?;
        // Another lookup may have won the race; its transport is kept and this one dropped.
        let _ = self.transport.set(opened);
        Ok(self.transport.get().expect("the transport was just set"))
    }

    async fn ask(&self, name: &str, rtype: RecordType) -> Result<Answer, DnsError> {
        check_name(name, rtype)?;
        let deadline = Instant::now() + self.options.timeout;
        let mut chain: Vec<String> = Vec::new();
        let mut current = name.to_owned();
        for _ in 0..=MAX_CNAME_HOPS {
            let message = self.exchange(&current, rtype, deadline).await?;
            let read = read_answer(&message, &current, rtype)
                .map_err(|e| DnsError::new(e.kind, name, rtype, e.detail))?;
            chain.extend(read.chain);
            match read.outcome {
                Outcome::Records(records) => {
                    return Ok(Answer::Records(Arc::new(RecordSet {
                        records,
                        cname_chain: chain,
                    })));
                }
                Outcome::NxDomain(ttl) => return Ok(Answer::NxDomain { ttl }),
                Outcome::NoData(ttl) => return Ok(Answer::NoData { ttl }),
                Outcome::Follow(target) => current = target,
            }
        }
        Err(DnsError::new(
            FailureKind::Malformed,
            name,
            rtype,
            format!("more than {MAX_CNAME_HOPS} CNAME hops from {name}"),
        ))
    }

    /// Sends the question until a usable answer comes or the tries and the time run out.
    async fn exchange(
        &self,
        name: &str,
        rtype: RecordType,
        deadline: Instant,
    ) -> Result<Message, DnsError> {
        let fail = |kind: FailureKind, detail: String| DnsError::new(kind, name, rtype, detail);
        let question = encode_question(name, rtype)
            .map_err(|detail| fail(FailureKind::InvalidName, detail))?;
        let transport = self.transport().map_err(|e| {
            fail(
                FailureKind::Network,
                format!("cannot open a UDP socket: {e}"),
            )
        })?;
        let attempts = self.options.attempts;
        let mut last = None;
        for attempt in 0..attempts {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let server = attempt % self.servers.len();
            let addr = self.servers[server];
            let try_deadline = if attempt + 1 == attempts {
                deadline
            } else {
                (now + self.per_try).min(deadline)
            };
            let bytes = match transport.udp(server, &question, try_deadline).await {
                Ok(bytes) => bytes,
                Err(Failure::Timeout) => {
                    last = Some(fail(
                        FailureKind::Timeout,
                        format!("no answer from {addr} within {:?}", self.options.timeout),
                    ));
                    continue;
                }
                Err(Failure::Io(e)) => {
                    last = Some(fail(FailureKind::Network, format!("{e} (asking {addr})")));
                    continue;
                }
            };
            let mut message = match Message::from_vec(&bytes) {
                Ok(m) => m,
                Err(e) => {
                    last = Some(fail(
                        FailureKind::Malformed,
                        format!("unreadable answer from {addr}: {e}"),
                    ));
                    continue;
                }
            };
            if message.truncated() {
                let query = encode_query(0, &question);
                // Boxed: the TCP exchange is rare, and inline it would make every lookup's
                // future carry its connection and buffers.
                match Box::pin(tcp_exchange(addr, query, &question, deadline)).await {
                    Ok(m) => message = m,
                    Err(Failure::Timeout) => {
                        last = Some(fail(
                            FailureKind::Timeout,
                            format!("no answer over TCP from {addr} in time"),
                        ));
                        continue;
                    }
                    Err(Failure::Io(e)) => {
                        last = Some(fail(
                            FailureKind::Network,
                            format!("{e} (asking {addr} over TCP after a truncated answer)"),
                        ));
                        continue;
                    }
                }
            }
            let error = match message.response_code() {
                ResponseCode::NoError | ResponseCode::NXDomain => return Ok(message),
                ResponseCode::ServFail => {
                    fail(FailureKind::ServFail, format!("SERVFAIL from {addr}"))
                }
                ResponseCode::Refused => fail(FailureKind::Refused, format!("REFUSED from {addr}")),
                ResponseCode::FormErr => fail(
                    FailureKind::Malformed,
                    format!("FORMERR from {addr}: the server could not read the query"),
                ),
                other => fail(FailureKind::ServFail, format!("{other} from {addr}")),
            };
            // Another server may do better; the same one is not asked again (the audit's own
            // retry, after a backoff, is the place for that).
            if self.servers.len() > 1 && attempt + 1 < attempts {
                last = Some(error);
                continue;
            }
            return Err(error);
        }
        Err(last.unwrap_or_else(|| {
            fail(
                FailureKind::Timeout,
                format!(
                    "no answer within {:?} from {}",
                    self.options.timeout,
                    self.server_list()
                ),
            )
        }))
    }

    fn server_list(&self) -> String {
        let list: Vec<String> = self.servers.iter().map(SocketAddr::to_string).collect();
        list.join(", ")
    }
}

impl Resolver for StubResolver {
    fn lookup<'a>(&'a self, name: &'a str, rtype: RecordType) -> LookupFuture<'a> {
        Box::pin(self.ask(name, rtype))
    }
}

/// Why one exchange gave no answer.
#[derive(Debug)]
enum Failure {
    /// The deadline passed.
    Timeout,
    /// The socket failed (ICMP port unreachable shows up as `ConnectionRefused`).
    Io(io::Error),
}

/// What an answer says about the question, once the CNAME chain in it is followed.
enum Outcome {
    Records(Vec<Record>),
    NxDomain(u32),
    NoData(u32),
    /// The chain ends at a name the server said nothing about: ask that name.
    Follow(String),
}

struct Read {
    chain: Vec<String>,
    outcome: Outcome,
}

/// Reads a NOERROR or NXDOMAIN answer to `name`/`rtype`.
fn read_answer(message: &Message, name: &str, rtype: RecordType) -> Result<Read, DnsError> {
    let mut aliases: HashMap<String, String> = HashMap::new();
    let mut found: Vec<Record> = Vec::new();
    for record in message.answers() {
        let Some(data) = from_wire_record(record, name, rtype)? else {
            continue;
        };
        let owner = plain_name(record.name());
        match data {
            RData::Cname(target) if rtype != RecordType::Cname => {
                aliases.insert(owner, target);
            }
            data if data.record_type() == rtype => found.push(Record {
                name: owner,
                ttl: record.ttl(),
                data,
            }),
            _ => {}
        }
    }
    let mut chain = Vec::new();
    let mut current = normalize_name(name);
    while let Some(target) = aliases.remove(&current) {
        if chain.len() > MAX_CNAME_HOPS * 2 {
            break;
        }
        chain.push(target.clone());
        current = target;
    }
    // Only the records at the end of the chain answer the question (RFC 5452 §6: nothing else
    // in the answer is taken).
    found.retain(|r| r.name == current);
    let soa = message.name_servers().iter().find_map(|r| match r.data() {
        Some(WireData::SOA(soa)) => Some(r.ttl().min(soa.minimum())),
        _ => None,
    });
    let outcome = if !found.is_empty() {
        Outcome::Records(found)
    } else if message.response_code() == ResponseCode::NXDomain {
        Outcome::NxDomain(soa.unwrap_or(0))
    } else if !chain.is_empty() && soa.is_none() {
        Outcome::Follow(current)
    } else {
        // Without an SOA, RFC 2308 §5 says a negative answer is not to be cached.
        Outcome::NoData(soa.unwrap_or(0))
    };
    Ok(Read { chain, outcome })
}

/// The question section for `name`/`rtype` in class IN: the name as labels (as written for
/// ASCII names, so SPF macro output travels unchanged; IDNA A-labels otherwise), type and class.
fn encode_question(name: &str, rtype: RecordType) -> Result<Vec<u8>, String> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut out = Vec::with_capacity(trimmed.len() + 6);
    if trimmed.is_ascii() {
        for label in trimmed.split('.') {
            push_label(&mut out, label.as_bytes(), name)?;
        }
    } else {
        let wire = wire_name(name)?;
        for label in wire.iter() {
            push_label(&mut out, label, name)?;
        }
    }
    out.push(0);
    if out.len() > 255 {
        return Err(format!("'{name}' is longer than 255 bytes on the wire"));
    }
    out.extend_from_slice(&rtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

fn push_label(out: &mut Vec<u8>, label: &[u8], name: &str) -> Result<(), String> {
    let len = u8::try_from(label.len())
        .ok()
        .filter(|&l| (1..=63).contains(&l))
        .ok_or_else(|| format!("'{name}' has a label that is empty or over 63 bytes"))?;
    out.push(len);
    out.extend_from_slice(label);
    Ok(())
}

/// A whole query: header (RD set, one question, one additional record), the question, and an
/// OPT record offering [`EDNS_PAYLOAD`] bytes.
fn encode_query(id: u16, question: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + question.len() + 11);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    out.extend_from_slice(question);
    out.push(0);
    out.extend_from_slice(&TYPE_OPT.to_be_bytes());
    out.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    out
}

/// True when `answer` is a response with exactly one question, equal to `question` ignoring
/// letter case (RFC 1035 §7.3, RFC 5452 §9.1).
fn answers_question(answer: &[u8], question: &[u8]) -> bool {
    answer.len() >= 12 + question.len()
        && answer[2] & 0x80 != 0
        && answer[4..6] == [0, 1]
        && answer[12..12 + question.len()].eq_ignore_ascii_case(question)
}

/// The sockets and their receiving tasks, shared by every lookup of one resolver.
struct Transport {
    /// `SOCKETS_PER_SERVER` channels per server, server by server.
    channels: Vec<Arc<Channel>>,
    receivers: Vec<JoinHandle<()>>,
    next: AtomicUsize,
    in_flight: Semaphore,
}

impl Transport {
    fn open(servers: &[SocketAddr], in_flight: usize) -> io::Result<Transport> {
        let ids = RandomState::new();
        let mut channels = Vec::with_capacity(servers.len() * SOCKETS_PER_SERVER);
        for &server in servers {
            for _ in 0..SOCKETS_PER_SERVER {
                channels.push(Arc::new(Channel {
                    socket: open_socket(server)?,
                    pending: Mutex::new(HashMap::new()),
                    ids: ids.clone(),
                    sequence: AtomicU64::new(0),
                }));
            }
        }
        let receivers = channels
            .iter()
            .map(|c| tokio::spawn(receive(Arc::clone(c))))
            .collect();
        Ok(Transport {
            channels,
            receivers,
            next: AtomicUsize::new(0),
            in_flight: Semaphore::new(in_flight.min(Semaphore::MAX_PERMITS)),
        })
    }

    /// One query over UDP to server number `server`, waiting for its answer until `deadline`.
    async fn udp(
        &self,
        server: usize,
        question: &[u8],
        deadline: Instant,
    ) -> Result<Vec<u8>, Failure> {
        let Ok(permit) = tokio::time::timeout_at(deadline, self.in_flight.acquire()).await else {
            return Err(Failure::Timeout);
        };
        let _permit = permit.map_err(|_| Failure::Io(io::ErrorKind::BrokenPipe.into()))?;
        let k = self.next.fetch_add(1, Ordering::Relaxed) % SOCKETS_PER_SERVER;
        let channel = &self.channels[server * SOCKETS_PER_SERVER + k];
        let (tx, rx) = oneshot::channel();
        let registered = channel.register(question, tx);
        let query = encode_query(registered.id, question);
        channel.socket.send(&query).await.map_err(Failure::Io)?;
        match tokio::time::timeout_at(deadline, rx).await {
            Err(_) => Err(Failure::Timeout),
            Ok(Err(_)) => Err(Failure::Io(io::Error::other("the receiving task stopped"))),
            Ok(Ok(Ok(bytes))) => Ok(bytes),
            Ok(Ok(Err(kind))) => Err(Failure::Io(kind.into())),
        }
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        for receiver in &self.receivers {
            receiver.abort();
        }
    }
}

/// What a receiving task hands a waiting lookup: the answer's bytes, or the socket's error.
type Reply = Result<Vec<u8>, io::ErrorKind>;

struct Waiter {
    question: Box<[u8]>,
    sequence: u64,
    reply: oneshot::Sender<Reply>,
}

/// One UDP socket connected to one server, and the questions waiting for an answer on it.
struct Channel {
    socket: UdpSocket,
    pending: Mutex<HashMap<u16, Waiter>>,
    ids: RandomState,
    sequence: AtomicU64,
}

impl Channel {
    fn lock(&self) -> MutexGuard<'_, HashMap<u16, Waiter>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Files a waiter under a random ID not in use on this socket.
    fn register(&self, question: &[u8], reply: oneshot::Sender<Reply>) -> Registered<'_> {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed);
        let mut pending = self.lock();
        let mut draw = sequence;
        let id = loop {
            // SipHash keyed at random per resolver: unpredictable from outside.
            let id = (self.ids.hash_one(draw) >> 48) as u16;
            if !pending.contains_key(&id) {
                break id;
            }
            draw = draw.wrapping_add(1 << 48);
        };
        pending.insert(
            id,
            Waiter {
                question: question.into(),
                sequence,
                reply,
            },
        );
        Registered {
            channel: self,
            id,
            sequence,
        }
    }

    /// Hands a datagram to the lookup it answers; anything else is dropped.
    fn deliver(&self, datagram: &[u8]) {
        if datagram.len() < 12 {
            return;
        }
        let id = u16::from_be_bytes([datagram[0], datagram[1]]);
        let waiter = {
            let mut pending = self.lock();
            match pending.get(&id) {
                Some(w) if answers_question(datagram, &w.question) => pending.remove(&id),
                _ => None,
            }
        };
        if let Some(waiter) = waiter {
            let _ = waiter.reply.send(Ok(datagram.to_vec()));
        }
    }

    /// Fails every waiting lookup with the socket's error.
    fn fail_all(&self, kind: io::ErrorKind) {
        let waiters: Vec<Waiter> = self.lock().drain().map(|(_, w)| w).collect();
        for waiter in waiters {
            let _ = waiter.reply.send(Err(kind));
        }
    }
}

/// A waiter's place in [`Channel::pending`], given up when the lookup ends however it ends
/// (answered, timed out, or dropped by its caller).
struct Registered<'a> {
    channel: &'a Channel,
    id: u16,
    sequence: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        let mut pending = self.channel.lock();
        if pending
            .get(&self.id)
            .is_some_and(|w| w.sequence == self.sequence)
        {
            pending.remove(&self.id);
        }
    }
}

/// Reads answers off one socket for as long as the resolver lives.
async fn receive(channel: Arc<Channel>) {
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    loop {
        match channel.socket.recv(&mut buf).await {
            Ok(n) => channel.deliver(&buf[..n]),
            Err(e) => {
                // A connected UDP socket reports an ICMP "port unreachable" on the next receive:
                // nothing listens at the server's address, for anyone waiting.
                channel.fail_all(e.kind());
                if e.kind() != io::ErrorKind::ConnectionRefused {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
}

/// A non-blocking UDP socket on an ephemeral port, connected to `server`, with a large receive
/// buffer, registered with the current tokio runtime.
fn open_socket(server: SocketAddr) -> io::Result<UdpSocket> {
    let domain = socket2::Domain::for_address(server);
    let socket = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    socket.set_nonblocking(true)?;
    // Best effort: a smaller buffer still works, it only drops sooner under a burst.
    let _ = socket.set_recv_buffer_size(RECEIVE_BUFFER);
    let any: IpAddr = match server {
        SocketAddr::V4(_) => Ipv4Addr::UNSPECIFIED.into(),
        SocketAddr::V6(_) => Ipv6Addr::UNSPECIFIED.into(),
    };
    socket.bind(&SocketAddr::new(any, 0).into())?;
    socket.connect(&server.into())?;
    UdpSocket::from_std(StdUdpSocket::from(socket))
}

/// Asks over TCP (after a truncated UDP answer): one connection, one query, one answer.
async fn tcp_exchange(
    server: SocketAddr,
    query: Vec<u8>,
    question: &[u8],
    deadline: Instant,
) -> Result<Message, Failure> {
    let exchange = async {
        let mut stream = TcpStream::connect(server).await?;
        stream.set_nodelay(true)?;
        let len = u16::try_from(query.len()).map_err(io::Error::other)?;
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(&query);
        stream.write_all(&framed).await?;
        loop {
            let len = usize::from(stream.read_u16().await?);
            let mut answer = vec![0u8; len];
            stream.read_exact(&mut answer).await?;
            if answer[..2.min(len)] == query[..2] && answers_question(&answer, question) {
                return Message::from_vec(&answer).map_err(io::Error::other);
            }
        }
    };
    match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => Err(Failure::Timeout),
        Ok(result) => result.map_err(Failure::Io),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_encoded_with_rd_and_edns0() {
        let question = encode_question("Ex.test.", RecordType::Txt).unwrap();
        assert_eq!(question, b"\x02Ex\x04test\x00\x00\x10\x00\x01");
        let query = encode_query(0xabcd, &question);
        let parsed = Message::from_vec(&query).unwrap();
        assert_eq!(parsed.id(), 0xabcd);
        assert!(parsed.recursion_desired());
        assert_eq!(parsed.queries().len(), 1);
        assert_eq!(parsed.queries()[0].name().to_ascii(), "Ex.test.");
        assert_eq!(parsed.extensions().as_ref().unwrap().max_payload(), 1232);
    }

    #[test]
    fn bad_names_are_refused_before_sending() {
        assert!(encode_question("a..b", RecordType::A).is_err());
        assert!(encode_question(&format!("{}.test", "x".repeat(64)), RecordType::A).is_err());
        let idn = encode_question("bücher.test", RecordType::Mx).unwrap();
        assert!(idn.starts_with(b"\x0dxn--bcher-kva\x04test\x00"));
    }

    fn answer_with(
        rcode: ResponseCode,
        answers: Vec<hickory_proto::rr::Record>,
        soa: bool,
    ) -> Message {
        use hickory_proto::rr::rdata::SOA;
        use hickory_proto::rr::{Name, Record as WireRecord};
        let mut message = Message::new();
        message.set_response_code(rcode);
        message.add_answers(answers);
        if soa {
            let zone = Name::from_ascii("example.test.").unwrap();
            let data = SOA::new(zone.clone(), zone.clone(), 1, 2, 3, 4, 120);
            message.add_name_server(WireRecord::from_rdata(zone, 600, WireData::SOA(data)));
        }
        message
    }

    fn cname(from: &str, to: &str) -> hickory_proto::rr::Record {
        use hickory_proto::rr::rdata::CNAME;
        use hickory_proto::rr::{Name, Record as WireRecord};
        WireRecord::from_rdata(
            Name::from_ascii(from).unwrap(),
            60,
            WireData::CNAME(CNAME(Name::from_ascii(to).unwrap())),
        )
    }

    /// RFC 1034 §5.3.3: a chain that stops at a name the server says nothing about is asked
    /// on; with the zone's SOA it is NODATA (RFC 2308 §3); RFC 6604: NXDOMAIN is the last
    /// name's.
    #[test]
    fn cname_chains_are_followed_or_ended() {
        let chained = vec![
            cname("a.example.test.", "b.example.test."),
            cname("b.example.test.", "c.other."),
        ];
        let read = read_answer(
            &answer_with(ResponseCode::NoError, chained.clone(), false),
            "A.example.test",
            RecordType::Txt,
        )
        .unwrap();
        assert_eq!(read.chain, vec!["b.example.test", "c.other"]);
        assert!(matches!(read.outcome, Outcome::Follow(ref t) if t == "c.other"));
        let read = read_answer(
            &answer_with(ResponseCode::NoError, chained.clone(), true),
            "a.example.test",
            RecordType::Txt,
        )
        .unwrap();
        assert!(matches!(read.outcome, Outcome::NoData(120)));
        let read = read_answer(
            &answer_with(ResponseCode::NXDomain, chained, true),
            "a.example.test",
            RecordType::Txt,
        )
        .unwrap();
        assert!(matches!(read.outcome, Outcome::NxDomain(120)));
        let read = read_answer(
            &answer_with(ResponseCode::NXDomain, vec![], false),
            "a.example.test",
            RecordType::Txt,
        )
        .unwrap();
        assert!(matches!(read.outcome, Outcome::NxDomain(0)));
    }

    #[test]
    fn answers_match_only_their_question() {
        let question = encode_question("a.test", RecordType::A).unwrap();
        let mut answer = encode_query(7, &encode_question("A.TEST", RecordType::A).unwrap());
        assert!(
            !answers_question(&answer, &question),
            "a query is not an answer"
        );
        answer[2] |= 0x80;
        assert!(answers_question(&answer, &question));
        let other = encode_question("b.test", RecordType::A).unwrap();
        assert!(!answers_question(&answer, &other));
        let other_type = encode_question("a.test", RecordType::Aaaa).unwrap();
        assert!(!answers_question(&answer, &other_type));
        assert!(!answers_question(&answer[..14], &question));
    }
}
