//! The stub resolver against the testkit's DNS server on 127.0.0.1 (and, for forged answers, a
//! hand-driven UDP socket): the same answers as the zone, the same failures as hickory's
//! resolver gives, and many questions in flight at once.

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use inkan_dns::{
    Answer, FailureKind, MemoryResolver, NetworkOptions, RecordType, Resolver, StubResolver,
};
use inkan_testkit::{DnsServer, Fault, FaultPlan};

use crate::network::{assert_answers_match_zone, zone};

fn stub(server: &DnsServer, timeout: Duration) -> StubResolver {
    StubResolver::with_servers(
        &[server.addr()],
        NetworkOptions::default().with_timeout(timeout),
    )
    .expect("a resolver for the test server")
}

/// Every question gets exactly the answer the zone gives in memory: records, TTLs, CNAME
/// chains, NXDOMAIN and NODATA with their negative TTL.
#[tokio::test]
async fn answers_are_exactly_the_zone() {
    let zone = zone();
    let server = DnsServer::start(zone.clone()).unwrap();
    let net = stub(&server, Duration::from_secs(5));
    let questions = [
        ("example.test", RecordType::Soa),
        ("example.test", RecordType::Ns),
        ("example.test", RecordType::Mx),
        ("example.test", RecordType::Txt),
        ("example.test", RecordType::Spf),
        ("Example.TEST.", RecordType::Txt),
        ("example.test", RecordType::Ptr),
        ("mx1.example.test", RecordType::A),
        ("mx1.example.test", RecordType::Aaaa),
        ("www.example.test", RecordType::A),
        ("www.example.test", RecordType::Cname),
        ("25.2.0.192.in-addr.arpa", RecordType::Ptr),
        ("null.example.test", RecordType::Mx),
        ("quoted.example.test", RecordType::Txt),
        ("big.example.test", RecordType::Txt),
        ("nope.example.test", RecordType::Txt),
        ("host.example.test", RecordType::Txt),
        ("host.example.test", RecordType::Mx),
        ("dangling.example.test", RecordType::A),
    ];
    assert_answers_match_zone(&net, &zone, &questions).await;
    assert_eq!(
        net.lookup("nope.example.test", RecordType::Txt)
            .await
            .unwrap(),
        Answer::NxDomain { ttl: 300 }
    );
    assert_eq!(
        net.lookup("host.example.test", RecordType::Mx)
            .await
            .unwrap(),
        Answer::NoData { ttl: 300 }
    );
    assert_eq!(server.tcp_query_count(), 0, "EDNS0 keeps 610 bytes on UDP");
}

/// RFC 7766 §5: an answer over the server's UDP limit comes back with TC=1 and is asked again
/// over TCP, once.
#[tokio::test]
async fn truncated_answer_is_asked_again_over_tcp() {
    let server = DnsServer::builder(zone())
        .max_udp_payload(512)
        .start()
        .unwrap();
    let net = stub(&server, Duration::from_secs(5));
    let answer = net
        .lookup("big.example.test", RecordType::Txt)
        .await
        .unwrap();
    let record = answer.txt().next().expect("the big TXT record");
    assert_eq!(record.strings().len(), 3);
    assert_eq!(record.concat().len(), 610);
    assert_eq!((server.udp_query_count(), server.tcp_query_count()), (1, 1));
    // A small answer stays on UDP.
    net.lookup("example.test", RecordType::Mx).await.unwrap();
    assert_eq!((server.udp_query_count(), server.tcp_query_count()), (2, 1));
}

/// A server that never answers: a Timeout failure within the configured time, after both tries.
#[tokio::test]
async fn silence_is_a_timeout_after_every_try() {
    let mut plan = FaultPlan::new();
    plan.add("example.test", Fault::Timeout, []);
    let server = DnsServer::builder(zone()).faults(plan).start().unwrap();
    let timeout = Duration::from_millis(600);
    let net = stub(&server, timeout);
    let started = Instant::now();
    let err = net
        .lookup("example.test", RecordType::Txt)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind, FailureKind::Timeout, "{err}");
    assert!(err.is_temporary());
    assert!(elapsed >= timeout, "gave up early, after {elapsed:?}");
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "gave up after {elapsed:?}"
    );
    assert_eq!(server.query_count_for("example.test", RecordType::Txt), 2);
    // The other names on the same sockets still answer.
    assert!(net.lookup("mx1.example.test", RecordType::A).await.is_ok());
}

/// SERVFAIL and REFUSED are failures of their kind naming the server, never an absence; with one
/// server they are not asked again (the caller's retry with backoff is the place for that).
#[tokio::test]
async fn servfail_and_refused_are_failures() {
    let mut plan = FaultPlan::new();
    plan.add("example.test", Fault::ServFail, [RecordType::Soa]);
    plan.add("mx1.example.test", Fault::Refused, []);
    let server = DnsServer::builder(zone()).faults(plan).start().unwrap();
    let net = stub(&server, Duration::from_secs(5));
    let err = net
        .lookup("example.test", RecordType::Txt)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::ServFail, "{err}");
    assert!(err.detail.contains(&server.addr().to_string()), "{err}");
    assert_eq!(server.query_count_for("example.test", RecordType::Txt), 1);
    let err = net
        .lookup("mx1.example.test", RecordType::A)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::Refused, "{err}");
    assert!(matches!(
        net.lookup("example.test", RecordType::Soa).await,
        Ok(Answer::Records(_))
    ));
}

/// With two servers, the second try goes to the second server: a SERVFAIL from the first is
/// answered by the other, and so is a first server that is down.
#[tokio::test]
async fn the_next_try_goes_to_the_next_server() {
    let mut plan = FaultPlan::new();
    plan.add("example.test", Fault::ServFail, []);
    let failing = DnsServer::builder(zone()).faults(plan).start().unwrap();
    let good = DnsServer::start(zone()).unwrap();
    let net = StubResolver::with_servers(
        &[failing.addr(), good.addr()],
        NetworkOptions::default().with_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let answer = net.lookup("example.test", RecordType::Mx).await.unwrap();
    assert_eq!(answer.records().len(), 2);
    assert_eq!(
        (
            failing.query_count_for("example.test", RecordType::Mx),
            good.query_count_for("example.test", RecordType::Mx)
        ),
        (1, 1)
    );
}

/// Nothing listening: a failure (the ICMP refusal, or silence), not an empty answer, and
/// quickly.
#[tokio::test]
async fn no_server_is_a_failure() {
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let options = NetworkOptions::default().with_timeout(Duration::from_millis(400));
    let net = StubResolver::with_servers(&[port], options).unwrap();
    let err = net
        .lookup("example.test", RecordType::Txt)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, FailureKind::Timeout | FailureKind::Network),
        "{err}"
    );
    assert!(err.is_temporary());
}

/// Thousands of distinct questions in flight at once, through a small in-flight limit, all
/// answered correctly and each asked once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_lookups_are_all_answered() {
    const N: usize = 3000;
    let mut text = String::from("$ORIGIN many.test.\n$TTL 60\n@ SOA ns h 1 2 3 4 30\n");
    for i in 0..N {
        text.push_str(&format!(
            "h{i} A 10.{}.{}.{}\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
    }
    let zone = MemoryResolver::from_zone_text(&text, None, "many.zone").unwrap();
    let server = DnsServer::start(zone).unwrap();
    let net = Arc::new(
        StubResolver::with_servers(
            &[server.addr()],
            NetworkOptions::default()
                .with_timeout(Duration::from_secs(20))
                .with_in_flight(256),
        )
        .unwrap(),
    );
    let results: Vec<(usize, Result<Answer, inkan_dns::DnsError>)> = futures::stream::iter(0..N)
        .map(|i| {
            let net = Arc::clone(&net);
            async move {
                let name = format!("h{i}.many.test");
                let answer = tokio::spawn(async move { net.lookup(&name, RecordType::A).await })
                    .await
                    .unwrap();
                (i, answer)
            }
        })
        .buffer_unordered(1000)
        .collect()
        .await;
    assert_eq!(results.len(), N);
    for (i, answer) in results {
        let answer = answer.unwrap_or_else(|e| panic!("h{i}: {e}"));
        let ip = answer.ipv4().next().unwrap();
        assert_eq!(
            ip.octets(),
            [10, (i >> 16) as u8, ((i >> 8) & 255) as u8, (i & 255) as u8],
            "h{i}"
        );
        assert_eq!(answer.records()[0].name, format!("h{i}.many.test"));
    }
    assert_eq!(server.query_count(), N, "each question asked once");
}

/// RFC 5452 §9.1: a datagram with the wrong ID or the wrong question is not taken as the
/// answer; the lookup keeps waiting for the right one.
#[tokio::test]
async fn forged_answers_are_ignored() {
    let server = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let responder = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        let (n, from) = server.recv_from(&mut buf).unwrap();
        let query = buf[..n].to_vec();
        // The question section ends at the OPT record (11 bytes) at the end of the query.
        let question = &query[12..n - 11];
        let answer = |id: [u8; 2], question: &[u8], ip: [u8; 4]| {
            let mut a = Vec::new();
            a.extend_from_slice(&id);
            a.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
            a.extend_from_slice(question);
            a.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            a.extend_from_slice(&ip);
            a
        };
        let id = [query[0], query[1]];
        let wrong_id = [query[0] ^ 0x55, query[1]];
        let mut other = question.to_vec();
        other[1] = b'z';
        for forged in [
            answer(wrong_id, question, [6, 6, 6, 6]),
            answer(id, &other, [7, 7, 7, 7]),
        ] {
            server.send_to(&forged, from).unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
        server
            .send_to(&answer(id, question, [192, 0, 2, 1]), from)
            .unwrap();
    });
    let net = StubResolver::with_servers(
        &[addr],
        NetworkOptions::default().with_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let answer = net.lookup("a.test", RecordType::A).await.unwrap();
    responder.join().unwrap();
    assert_eq!(
        answer.ipv4().collect::<Vec<_>>(),
        vec![std::net::Ipv4Addr::new(192, 0, 2, 1)]
    );
}

/// Names that cannot be asked are refused before anything is sent; building the resolver needs
/// no runtime.
#[tokio::test]
async fn invalid_names_are_not_sent() {
    let server = DnsServer::start(zone()).unwrap();
    let net = stub(&server, Duration::from_secs(5));
    let err = net
        .lookup("a..example.test", RecordType::Txt)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::InvalidName);
    assert_eq!(server.query_count(), 0);
    let built = std::thread::spawn(|| {
        StubResolver::with_servers(
            &[
                "127.0.0.1:53".parse().unwrap(),
                "127.0.0.1:53".parse().unwrap(),
            ],
            NetworkOptions::default(),
        )
        .map(|r| r.servers().to_vec())
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(built, vec!["127.0.0.1:53".parse().unwrap()]);
}

/// Identical questions in flight through the cache reach the server once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_identical_questions_reach_the_server_once() {
    let server = DnsServer::start(zone()).unwrap();
    let cached = Arc::new(inkan_dns::CachingResolver::new(stub(
        &server,
        Duration::from_secs(5),
    )));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let cached = Arc::clone(&cached);
            tokio::spawn(async move { cached.lookup("example.test", RecordType::Txt).await })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().is_ok());
    }
    assert_eq!(server.query_count(), 1);
}
