//! A real DNS server on 127.0.0.1 for end-to-end tests and benchmarks: it answers
//! authoritatively from a [`MemoryResolver`] over UDP and TCP, fails the questions a
//! [`FaultPlan`] names, and counts every query it receives.
//!
//! It implements the parts of the protocol a client under test depends on: UDP and TCP transport
//! with two-byte length framing (RFC 1035 §4.2.1, §4.2.2), truncation with TC=1 when an answer
//! exceeds 512 bytes or the client's EDNS0 payload size (RFC 6891 §6.2.5, RFC 7766 §5), CNAME
//! chains in the answer with the RCODE of the last name (RFC 6604 §2.1), and the zone's SOA in the
//! authority section of NXDOMAIN and NODATA answers (RFC 2308 §2, §3).
//!
//! The server runs on its own thread with its own tokio runtime, so a test may block on a child
//! process, or run any runtime flavour, while the server keeps answering. Dropping the
//! [`DnsServer`] stops it.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener as StdTcpListener, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, NULL, PTR, SOA, TXT};
use hickory_proto::rr::{
    DNSClass, Name, RData as WireData, Record as WireRecord, RecordType as WireType,
};
use inkan_dns::{Answer, MemoryResolver, RData, Record, RecordType, normalize_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::oneshot;

use crate::faults::{Fault, FaultPlan};

/// The largest UDP answer a client without EDNS0 accepts (RFC 1035 §4.2.1).
const CLASSIC_UDP_LIMIT: usize = 512;
/// The payload size the server advertises in its own OPT record (the DNS Flag Day 2020 value).
const SERVER_EDNS_PAYLOAD: u16 = 1232;
/// How many CNAMEs the server puts in one answer.
const MAX_CHAIN: usize = 16;

/// How a query reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    /// A datagram.
    Udp,
    /// A TCP connection.
    Tcp,
}

/// Sets up a [`DnsServer`]: its data, faults, address and UDP size limit.
#[derive(Debug)]
pub struct DnsServerBuilder {
    zone: MemoryResolver,
    faults: FaultPlan,
    listen: SocketAddr,
    max_udp_payload: Option<u16>,
}

impl DnsServerBuilder {
    /// Fails the questions `faults` names: [`Fault::Timeout`] is never answered,
    /// [`Fault::ServFail`] is answered with RCODE 2.
    pub fn faults(mut self, faults: FaultPlan) -> Self {
        self.faults = faults;
        self
    }

    /// Listens on `addr` (UDP and TCP on the same port) instead of 127.0.0.1 on a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Never sends a UDP answer over `bytes`, whatever EDNS0 size the client offers: larger
    /// answers go out truncated (TC=1), which forces the client over to TCP. `512` makes every
    /// answer over the classic limit take the TCP path.
    pub fn max_udp_payload(mut self, bytes: u16) -> Self {
        self.max_udp_payload = Some(bytes);
        self
    }

    /// Binds the sockets and starts answering on a thread of its own.
    pub fn start(self) -> io::Result<DnsServer> {
        let (udp, tcp) = bind_pair(self.listen)?;
        let addr = udp.local_addr()?;
        udp.set_nonblocking(true)?;
        tcp.set_nonblocking(true)?;
        let authority = Arc::new(Authority::new(self.zone, self.faults, self.max_udp_payload));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let serving = Arc::clone(&authority);
        let thread = std::thread::Builder::new()
            .name(format!("inkan-testdns {addr}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let sockets =
                        UdpSocket::from_std(udp).and_then(|u| Ok((u, TcpListener::from_std(tcp)?)));
                    let (udp, tcp) = match sockets {
                        Ok(pair) => {
                            let _ = ready_tx.send(Ok(()));
                            pair
                        }
                        Err(err) => {
                            let _ = ready_tx.send(Err(err));
                            return;
                        }
                    };
                    tokio::spawn(serve_udp(udp, Arc::clone(&serving)));
                    tokio::spawn(serve_tcp(tcp, serving));
                    // Either a stop signal or the handle being dropped ends the server.
                    let _ = stop_rx.await;
                });
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Err(err),
            Err(_) => {
                return Err(io::Error::other(
                    "the DNS server thread ended before it was ready",
                ));
            }
        }
        Ok(DnsServer {
            addr,
            authority,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

/// A DNS server on 127.0.0.1 answering from memory. See the module documentation.
#[derive(Debug)]
pub struct DnsServer {
    addr: SocketAddr,
    authority: Arc<Authority>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    /// A server for the records of `zone`, with no faults, on 127.0.0.1 and a free port.
    pub fn start(zone: MemoryResolver) -> io::Result<DnsServer> {
        DnsServer::builder(zone).start()
    }

    /// A server for the records of one RFC 1035 master file, with no faults, on 127.0.0.1 and a
    /// free port. `origin` is the initial `$ORIGIN`; `source` names the text in errors.
    pub fn from_zone_text(text: &str, origin: Option<&str>, source: &str) -> io::Result<DnsServer> {
        let zone = MemoryResolver::from_zone_text(text, origin, source)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        DnsServer::start(zone)
    }

    /// Starts setting up a server for the records of `zone`.
    pub fn builder(zone: MemoryResolver) -> DnsServerBuilder {
        DnsServerBuilder {
            zone,
            faults: FaultPlan::new(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_udp_payload: None,
        }
    }

    /// The address the server answers on, over both UDP and TCP.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every query received so far, over either transport, answered or not.
    pub fn query_count(&self) -> usize {
        self.udp_query_count() + self.tcp_query_count()
    }

    /// Queries received over UDP.
    pub fn udp_query_count(&self) -> usize {
        self.authority.counts.udp.load(Ordering::SeqCst)
    }

    /// Queries received over TCP.
    pub fn tcp_query_count(&self) -> usize {
        self.authority.counts.tcp.load(Ordering::SeqCst)
    }

    /// Queries received for one question, over either transport. `name` is compared
    /// case-insensitively, with or without the trailing dot.
    pub fn query_count_for(&self, name: &str, rtype: RecordType) -> usize {
        let by_question = self
            .authority
            .counts
            .by_question
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        by_question
            .get(&(normalize_name(name), rtype.code()))
            .copied()
            .unwrap_or(0)
    }

    /// Sets every counter back to zero.
    pub fn reset_counts(&self) {
        let counts = &self.authority.counts;
        counts.udp.store(0, Ordering::SeqCst);
        counts.tcp.store(0, Ordering::SeqCst);
        counts
            .by_question
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Binds UDP and TCP on the same port: the port of `listen`, or when it is 0 a free one.
fn bind_pair(listen: SocketAddr) -> io::Result<(StdUdpSocket, StdTcpListener)> {
    let mut last_err = None;
    // A free UDP port may be taken for TCP; try a few.
    for _ in 0..16 {
        let udp = StdUdpSocket::bind(listen)?;
        match StdTcpListener::bind(udp.local_addr()?) {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(err) if listen.port() == 0 && err.kind() == io::ErrorKind::AddrInUse => {
                last_err = Some(err)
            }
            Err(err) => return Err(err),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no port free for both UDP and TCP")))
}

#[derive(Debug, Default)]
struct QueryCounts {
    udp: AtomicUsize,
    tcp: AtomicUsize,
    by_question: Mutex<HashMap<(String, u16), usize>>,
}

/// What the server knows and how it misbehaves.
#[derive(Debug)]
struct Authority {
    zone: MemoryResolver,
    /// Zone apex → its SOA record, for the authority section of negative answers.
    soas: HashMap<String, Record>,
    faults: FaultPlan,
    max_udp_payload: Option<u16>,
    counts: QueryCounts,
}

impl Authority {
    fn new(zone: MemoryResolver, faults: FaultPlan, max_udp_payload: Option<u16>) -> Self {
        let soas = zone
            .records()
            .filter(|r| matches!(r.data, RData::Soa(_)))
            .map(|r| (r.name.clone(), r.clone()))
            .collect();
        Authority {
            zone,
            soas,
            faults,
            max_udp_payload,
            counts: QueryCounts::default(),
        }
    }

    /// The wire answer to one wire query, or `None` when the server stays silent.
    fn respond(&self, request: &[u8], transport: Transport) -> Option<Vec<u8>> {
        let query = match Message::from_vec(request) {
            Ok(query) => query,
            // Answer FORMERR when at least the header can be read (RFC 1035 §4.1.1).
            Err(_) if request.len() >= 12 => {
                let mut reply = Message::new();
                reply.set_id(u16::from_be_bytes([request[0], request[1]]));
                reply
                    .set_message_type(MessageType::Response)
                    .set_response_code(ResponseCode::FormErr);
                return reply.to_vec().ok();
            }
            Err(_) => return None,
        };
        if query.message_type() != MessageType::Query {
            return None;
        }
        match transport {
            Transport::Udp => self.counts.udp.fetch_add(1, Ordering::SeqCst),
            Transport::Tcp => self.counts.tcp.fetch_add(1, Ordering::SeqCst),
        };
        let mut reply = Message::new();
        reply
            .set_id(query.id())
            .set_message_type(MessageType::Response)
            .set_op_code(query.op_code())
            .set_recursion_desired(query.recursion_desired());
        for question in query.queries() {
            reply.add_query(question.clone());
        }
        if query.extensions().is_some() {
            let mut edns = Edns::new();
            edns.set_max_payload(SERVER_EDNS_PAYLOAD).set_version(0);
            reply.set_edns(edns);
        }
        let question = match query.queries() {
            [question] if query.op_code() == OpCode::Query => question,
            [_] => return encode(reply.set_response_code(ResponseCode::NotImp)),
            _ => return encode(reply.set_response_code(ResponseCode::FormErr)),
        };
        // Labels as raw bytes, not presentation escapes: names holding a space or '%' (SPF
        // macro expansions) must find their records.
        let labels: Vec<String> = question
            .name()
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let name = normalize_name(&labels.join("."));
        let code = u16::from(question.query_type());
        *self
            .counts
            .by_question
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry((name.clone(), code))
            .or_default() += 1;
        let rtype = RecordType::ALL.into_iter().find(|t| t.code() == code);
        match rtype.and_then(|t| self.faults.fault_for(&name, t)) {
            Some(Fault::Timeout) => return None,
            Some(Fault::ServFail) => {
                return encode(reply.set_response_code(ResponseCode::ServFail));
            }
            None => {}
        }
        if question.query_class() != DNSClass::IN {
            return encode(reply.set_response_code(ResponseCode::Refused));
        }
        reply.set_authoritative(true);
        match self.answer(question, &name, rtype) {
            Ok((rcode, answers, authority)) => {
                reply.set_response_code(rcode);
                for record in answers {
                    reply.add_answer(record);
                }
                for record in authority {
                    reply.add_name_server(record);
                }
            }
            Err(()) => {
                reply
                    .set_authoritative(false)
                    .set_response_code(ResponseCode::ServFail);
            }
        }
        let bytes = reply.to_vec().ok()?;
        if transport == Transport::Udp && bytes.len() > self.udp_limit(&query) {
            reply.take_answers();
            reply.take_name_servers();
            reply.set_truncated(true);
            return encode(&reply);
        }
        Some(bytes)
    }

    /// The largest UDP answer this client may get.
    fn udp_limit(&self, query: &Message) -> usize {
        let offered = query
            .extensions()
            .as_ref()
            .map_or(CLASSIC_UDP_LIMIT, |edns| {
                usize::from(edns.max_payload()).max(CLASSIC_UDP_LIMIT)
            });
        self.max_udp_payload
            .map_or(offered, |cap| offered.min(usize::from(cap)))
    }

    /// RCODE, answer section and authority section for one question.
    #[allow(clippy::type_complexity)]
    fn answer(
        &self,
        question: &Query,
        name: &str,
        rtype: Option<RecordType>,
    ) -> Result<(ResponseCode, Vec<WireRecord>, Vec<WireRecord>), ()> {
        let asked = question.name();
        let Some(rtype) = rtype else {
            // A type this server holds no data for: the name exists or it does not.
            let rcode = if self.zone.name_exists(name) {
                ResponseCode::NoError
            } else {
                ResponseCode::NXDomain
            };
            return Ok((rcode, vec![], self.negative_authority(name)?));
        };
        let answer = self.zone.answer(name, rtype).map_err(|_| ())?;
        let mut answers = Vec::new();
        let mut current = name.to_owned();
        if rtype != RecordType::Cname {
            let steps = match &answer {
                Answer::Records(set) => set.cname_chain.len(),
                Answer::NxDomain { .. } | Answer::NoData { .. } => MAX_CHAIN,
            };
            for _ in 0..steps {
                let Ok(Answer::Records(alias)) = self.zone.answer(&current, RecordType::Cname)
                else {
                    break;
                };
                let Some(record) = alias.records.first() else {
                    break;
                };
                let RData::Cname(target) = &record.data else {
                    break;
                };
                answers.push(wire_record(asked, name, record)?);
                current = target.clone();
            }
        }
        match answer {
            Answer::Records(set) => {
                for record in &set.records {
                    answers.push(wire_record(asked, name, record)?);
                }
                Ok((ResponseCode::NoError, answers, vec![]))
            }
            Answer::NxDomain { .. } => Ok((
                ResponseCode::NXDomain,
                answers,
                self.negative_authority(&current)?,
            )),
            Answer::NoData { .. } => Ok((
                ResponseCode::NoError,
                answers,
                self.negative_authority(&current)?,
            )),
        }
    }

    /// The SOA of the closest enclosing zone, with the TTL a negative answer may be cached for
    /// (RFC 2308 §3: the lesser of the SOA's TTL and its MINIMUM).
    fn negative_authority(&self, name: &str) -> Result<Vec<WireRecord>, ()> {
        let mut candidate = Some(name);
        while let Some(apex) = candidate {
            if let Some(soa) = self.soas.get(apex) {
                let mut record = wire_record(&Name::root(), "", soa)?;
                if let RData::Soa(fields) = &soa.data {
                    record.set_ttl(soa.ttl.min(fields.minimum));
                }
                return Ok(vec![record]);
            }
            candidate = apex.split_once('.').map(|(_, parent)| parent);
        }
        Ok(vec![])
    }
}

fn encode(reply: &Message) -> Option<Vec<u8>> {
    reply.to_vec().ok()
}

/// `record` on the wire; a record owned by the asked name keeps the letter case of the question.
fn wire_record(asked: &Name, asked_normal: &str, record: &Record) -> Result<WireRecord, ()> {
    let owner = if record.name == asked_normal {
        asked.clone()
    } else {
        wire_name(&record.name)?
    };
    let data = match &record.data {
        RData::A(ip) => WireData::A(A(*ip)),
        RData::Aaaa(ip) => WireData::AAAA(AAAA(*ip)),
        RData::Cname(target) => WireData::CNAME(CNAME(wire_name(target)?)),
        RData::Mx {
            preference,
            exchange,
        } => WireData::MX(MX::new(*preference, wire_name(exchange)?)),
        RData::Ns(host) => WireData::NS(NS(wire_name(host)?)),
        RData::Ptr(host) => WireData::PTR(PTR(wire_name(host)?)),
        // hickory keeps the unsigned interval fields as i32; the bits go out unchanged.
        RData::Soa(soa) => WireData::SOA(SOA::new(
            wire_name(&soa.mname)?,
            wire_name(&soa.rname)?,
            soa.serial,
            soa.refresh as i32,
            soa.retry as i32,
            soa.expire as i32,
            soa.minimum,
        )),
        RData::Txt(txt) => WireData::TXT(TXT::from_bytes(
            txt.strings().iter().map(Vec::as_slice).collect(),
        )),
        RData::Spf(txt) => {
            // hickory has no SPF type: send its RDATA, TXT's format (RFC 4408 §3.1.1), as is.
            let mut rdata = Vec::new();
            for string in txt.strings() {
                rdata.push(u8::try_from(string.len()).map_err(|_| ())?);
                rdata.extend_from_slice(string);
            }
            if rdata.is_empty() {
                rdata.push(0);
            }
            WireData::Unknown {
                code: WireType::Unknown(RecordType::Spf.code()),
                rdata: NULL::with(rdata),
            }
        }
        _ => return Err(()),
    };
    Ok(WireRecord::from_rdata(owner, record.ttl, data))
}

fn wire_name(name: &str) -> Result<Name, ()> {
    if name.is_empty() {
        return Ok(Name::root());
    }
    // Label by label as held, so names with `:`, `/`, `%` or spaces (SPF test data) serve.
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut wire = Name::from_labels(trimmed.split('.').map(str::as_bytes)).map_err(|_| ())?;
    wire.set_fqdn(true);
    Ok(wire)
}

async fn serve_udp(socket: UdpSocket, authority: Arc<Authority>) {
    let mut buf = vec![0u8; 65_535];
    loop {
        // Errors here are ICMP echoes of earlier sends (the client went away): keep serving.
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(reply) = authority.respond(&buf[..len], Transport::Udp) {
            let _ = socket.send_to(&reply, peer).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, authority: Arc<Authority>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(serve_connection(stream, Arc::clone(&authority)));
    }
}

/// Answers length-prefixed queries on one connection until the client closes it
/// (RFC 1035 §4.2.2, RFC 7766 §6.2.1: several queries per connection).
async fn serve_connection(mut stream: TcpStream, authority: Arc<Authority>) {
    let mut buf = Vec::new();
    loop {
        let Ok(len) = stream.read_u16().await else {
            return;
        };
        buf.resize(usize::from(len), 0);
        if stream.read_exact(&mut buf).await.is_err() {
            return;
        }
        let Some(reply) = authority.respond(&buf, Transport::Tcp) else {
            continue;
        };
        let Ok(reply_len) = u16::try_from(reply.len()) else {
            continue;
        };
        let mut framed = Vec::with_capacity(reply.len() + 2);
        framed.extend_from_slice(&reply_len.to_be_bytes());
        framed.extend_from_slice(&reply);
        if stream.write_all(&framed).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_dns::{Soa, Txt};

    fn zone() -> MemoryResolver {
        let soa = Soa {
            mname: "ns.example.test".into(),
            rname: "hostmaster.example.test".into(),
            serial: 1,
            refresh: 3600,
            retry: 600,
            expire: 86_400,
            minimum: 120,
        };
        MemoryResolver::from_records([
            Record {
                name: "example.test".into(),
                ttl: 3600,
                data: RData::Soa(soa),
            },
            Record {
                name: "www.example.test".into(),
                ttl: 60,
                data: RData::Cname("host.example.test".into()),
            },
            Record {
                name: "host.example.test".into(),
                ttl: 30,
                data: RData::A([192, 0, 2, 1].into()),
            },
            Record {
                name: "example.test".into(),
                ttl: 300,
                data: RData::Txt(Txt::new(vec![b"v=spf1 ".to_vec(), b"-all".to_vec()])),
            },
        ])
    }

    fn ask(authority: &Authority, name: &str, qtype: u16, transport: Transport) -> Message {
        let mut query = Message::new();
        query.set_id(7).add_query(Query::query(
            Name::from_ascii(name).unwrap(),
            WireType::from(qtype),
        ));
        let reply = authority
            .respond(&query.to_vec().unwrap(), transport)
            .expect("an answer");
        Message::from_vec(&reply).unwrap()
    }

    #[test]
    fn cname_chain_then_address_in_one_answer() {
        let authority = Authority::new(zone(), FaultPlan::new(), None);
        let reply = ask(&authority, "WWW.example.test.", 1, Transport::Udp);
        assert_eq!(reply.response_code(), ResponseCode::NoError);
        assert!(reply.authoritative());
        let types: Vec<WireType> = reply
            .answers()
            .iter()
            .map(WireRecord::record_type)
            .collect();
        assert_eq!(types, vec![WireType::CNAME, WireType::A]);
        assert_eq!(reply.answers()[0].name().to_ascii(), "WWW.example.test.");
    }

    #[test]
    fn negative_answers_carry_the_soa_with_the_negative_ttl() {
        let authority = Authority::new(zone(), FaultPlan::new(), None);
        let nx = ask(&authority, "nope.example.test.", 16, Transport::Udp);
        assert_eq!(nx.response_code(), ResponseCode::NXDomain);
        assert_eq!(nx.name_servers().len(), 1);
        assert_eq!(nx.name_servers()[0].ttl(), 120);
        let nodata = ask(&authority, "host.example.test.", 16, Transport::Udp);
        assert_eq!(nodata.response_code(), ResponseCode::NoError);
        assert!(nodata.answers().is_empty());
        assert_eq!(nodata.name_servers()[0].record_type(), WireType::SOA);
    }

    #[test]
    fn faults_and_counts() {
        let mut plan = FaultPlan::new();
        plan.add("example.test", Fault::ServFail, [RecordType::Soa]);
        plan.add("host.example.test", Fault::Timeout, []);
        let authority = Authority::new(zone(), plan, None);
        assert_eq!(
            ask(&authority, "example.test.", 16, Transport::Tcp).response_code(),
            ResponseCode::ServFail
        );
        assert_eq!(
            ask(&authority, "example.test.", 6, Transport::Udp).response_code(),
            ResponseCode::NoError
        );
        let mut query = Message::new();
        query.add_query(Query::query(
            Name::from_ascii("host.example.test.").unwrap(),
            WireType::A,
        ));
        assert!(
            authority
                .respond(&query.to_vec().unwrap(), Transport::Udp)
                .is_none()
        );
        assert_eq!(authority.counts.udp.load(Ordering::SeqCst), 2);
        assert_eq!(authority.counts.tcp.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn large_udp_answers_are_truncated_unless_edns_allows_them() {
        let big = Txt::new(vec![vec![b'x'; 250]; 3]);
        let zone = MemoryResolver::from_records([Record {
            name: "big.test".into(),
            ttl: 5,
            data: RData::Txt(big),
        }]);
        let authority = Authority::new(zone, FaultPlan::new(), None);
        let udp = ask(&authority, "big.test.", 16, Transport::Udp);
        assert!(udp.truncated());
        assert!(udp.answers().is_empty());
        let tcp = ask(&authority, "big.test.", 16, Transport::Tcp);
        assert!(!tcp.truncated());
        assert_eq!(tcp.answers().len(), 1);
    }

    #[test]
    fn garbage_gets_formerr_or_silence() {
        let authority = Authority::new(zone(), FaultPlan::new(), None);
        assert!(authority.respond(b"short", Transport::Udp).is_none());
        let reply = authority
            .respond(
                &[0xab, 0xcd, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 1],
                Transport::Udp,
            )
            .unwrap();
        let reply = Message::from_vec(&reply).unwrap();
        assert_eq!(reply.id(), 0xabcd);
        assert_eq!(reply.response_code(), ResponseCode::FormErr);
    }
}
