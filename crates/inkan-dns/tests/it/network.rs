//! The network resolver against the testkit's DNS server on 127.0.0.1: what comes back over the
//! wire must be exactly what the zone holds, and failures must stay failures.

use std::time::{Duration, Instant};

use inkan_dns::{
    Answer, FailureKind, MemoryResolver, NetworkOptions, NetworkResolver, RData, Record,
    RecordType, Resolver, Soa, Txt,
};
use inkan_testkit::{DnsServer, Fault, FaultPlan};

fn record(name: &str, ttl: u32, data: RData) -> Record {
    Record {
        name: name.into(),
        ttl,
        data,
    }
}

fn txt(strings: &[&[u8]]) -> Txt {
    Txt::new(strings.iter().map(|s| s.to_vec()).collect())
}

/// A zone with every record type inkan reads, a CNAME chain and a TXT record too large for UDP.
pub(crate) fn zone() -> MemoryResolver {
    let soa = Soa {
        mname: "ns1.example.test".into(),
        rname: "hostmaster.example.test".into(),
        serial: 2026112801,
        refresh: 7200,
        retry: 900,
        expire: 1_209_600,
        minimum: 300,
    };
    MemoryResolver::from_records([
        record("example.test", 3600, RData::Soa(soa)),
        record("example.test", 3600, RData::Ns("ns1.example.test".into())),
        record(
            "example.test",
            3600,
            RData::Mx {
                preference: 10,
                exchange: "mx1.example.test".into(),
            },
        ),
        record(
            "example.test",
            3600,
            RData::Mx {
                preference: 20,
                exchange: "mx2.example.test".into(),
            },
        ),
        record(
            "example.test",
            300,
            RData::Txt(txt(&[
                b"v=spf1 ip4:192.0.2.0/24 ",
                b"include:_spf.example.test -all",
            ])),
        ),
        record("example.test", 300, RData::Spf(txt(&[b"v=spf1 -all"]))),
        record("ns1.example.test", 3600, RData::A([192, 0, 2, 53].into())),
        record("mx1.example.test", 600, RData::A([192, 0, 2, 25].into())),
        record(
            "mx1.example.test",
            600,
            RData::Aaaa("2001:db8::25".parse().unwrap()),
        ),
        record(
            "www.example.test",
            120,
            RData::Cname("web.example.test".into()),
        ),
        record(
            "web.example.test",
            90,
            RData::Cname("host.example.test".into()),
        ),
        record("host.example.test", 60, RData::A([192, 0, 2, 80].into())),
        record(
            "dangling.example.test",
            60,
            RData::Cname("gone.example.test".into()),
        ),
        record(
            "25.2.0.192.in-addr.arpa",
            86_400,
            RData::Ptr("mx1.example.test".into()),
        ),
        record(
            "null.example.test",
            300,
            RData::Mx {
                preference: 0,
                exchange: String::new(),
            },
        ),
        record(
            "big.example.test",
            300,
            RData::Txt(Txt::new(vec![
                vec![b'k'; 255],
                vec![b'e'; 255],
                vec![b'y'; 100],
            ])),
        ),
        record(
            "quoted.example.test",
            300,
            RData::Txt(txt(&[b"say \"hi\"\\", b"", &[0xff, 0x00, b'x']])),
        ),
    ])
}

/// Asks `net` each question and checks the answer is the one `zone` gives in memory: the same
/// records (in any order), CNAME chain, NXDOMAIN or NODATA and negative TTL.
pub(crate) async fn assert_answers_match_zone(
    net: &dyn Resolver,
    zone: &MemoryResolver,
    questions: &[(&str, RecordType)],
) {
    for &(name, rtype) in questions {
        let expected = zone.answer(name, rtype).unwrap();
        let got = net
            .lookup(name, rtype)
            .await
            .unwrap_or_else(|e| panic!("{name} {rtype}: {e}"));
        match (&expected, &got) {
            (Answer::Records(want), Answer::Records(have)) => {
                let mut want_records = want.records.clone();
                let mut have_records = have.records.clone();
                want_records.sort_by_key(|r| r.data.to_string());
                have_records.sort_by_key(|r| r.data.to_string());
                assert_eq!(have_records, want_records, "{name} {rtype}");
                assert_eq!(have.cname_chain, want.cname_chain, "{name} {rtype}");
            }
            _ => assert_eq!(got, expected, "{name} {rtype}"),
        }
    }
}

fn resolver(server: &DnsServer, timeout: Duration) -> NetworkResolver {
    NetworkResolver::with_servers(
        &[server.addr()],
        NetworkOptions::default().with_timeout(timeout),
    )
    .expect("a resolver for the test server")
}

/// Every question asked over UDP gets the answer the zone gives in memory: same records, same
/// TTLs, same CNAME chain, same negative TTL.
#[tokio::test]
async fn udp_answers_are_exactly_the_zone() {
    let zone = zone();
    let server = DnsServer::start(zone.clone()).unwrap();
    let net = resolver(&server, Duration::from_secs(5));
    let questions = [
        ("example.test", RecordType::Soa),
        ("example.test", RecordType::Ns),
        ("example.test", RecordType::Mx),
        ("example.test", RecordType::Txt),
        ("example.test", RecordType::Spf),
        ("Example.TEST.", RecordType::Txt),
        ("mx1.example.test", RecordType::A),
        ("mx1.example.test", RecordType::Aaaa),
        ("www.example.test", RecordType::A),
        ("www.example.test", RecordType::Cname),
        ("25.2.0.192.in-addr.arpa", RecordType::Ptr),
        ("null.example.test", RecordType::Mx),
        ("quoted.example.test", RecordType::Txt),
        ("nope.example.test", RecordType::Txt),
        ("host.example.test", RecordType::Txt),
        ("dangling.example.test", RecordType::A),
    ];
    assert_answers_match_zone(&net, &zone, &questions).await;
    let Answer::Records(www) = net.lookup("www.example.test", RecordType::A).await.unwrap() else {
        panic!()
    };
    assert_eq!(
        www.cname_chain,
        vec![
            "web.example.test".to_owned(),
            "host.example.test".to_owned()
        ]
    );
}

/// RFC 2308: NXDOMAIN and NODATA are told apart by the RCODE, and their TTL is the lesser of
/// the SOA's TTL and its MINIMUM.
#[tokio::test]
async fn nxdomain_and_nodata_keep_apart_with_the_soa_negative_ttl() {
    let server = DnsServer::start(zone()).unwrap();
    let net = resolver(&server, Duration::from_secs(5));
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
    assert_eq!(
        net.lookup("example.test", RecordType::Ptr).await.unwrap(),
        Answer::NoData { ttl: 300 }
    );
}

/// RFC 1035 §4.2.1 / RFC 7766 §5: an answer over 512 bytes comes back truncated over UDP and
/// is asked again over TCP.
#[tokio::test]
async fn truncated_udp_answer_is_retried_over_tcp() {
    let server = DnsServer::builder(zone())
        .max_udp_payload(512)
        .start()
        .unwrap();
    let net = resolver(&server, Duration::from_secs(5));
    let answer = net
        .lookup("big.example.test", RecordType::Txt)
        .await
        .unwrap();
    let record = answer.txt().next().expect("the big TXT record");
    assert_eq!(record.strings().len(), 3);
    assert_eq!(record.concat().len(), 610);
    assert_eq!(
        server.udp_query_count(),
        1,
        "one UDP query, answered with TC=1"
    );
    assert_eq!(
        server.tcp_query_count(),
        1,
        "then the same question over TCP"
    );
    assert_eq!(
        server.query_count_for("big.example.test", RecordType::Txt),
        2
    );
}

/// EDNS0 (RFC 6891) is on: an answer over 512 bytes but within the offered payload size comes
/// over UDP alone.
#[tokio::test]
async fn edns0_lets_a_large_answer_come_over_udp() {
    let server = DnsServer::start(zone()).unwrap();
    let net = resolver(&server, Duration::from_secs(5));
    let answer = net
        .lookup("big.example.test", RecordType::Txt)
        .await
        .unwrap();
    assert_eq!(answer.txt().next().unwrap().concat().len(), 610);
    assert_eq!((server.udp_query_count(), server.tcp_query_count()), (1, 0));
}

/// A server that never answers gives a Timeout failure, not an empty answer, and within the
/// configured time (with slack for a loaded machine).
#[tokio::test]
async fn silence_is_a_timeout_within_the_configured_time() {
    let mut plan = FaultPlan::new();
    plan.add("example.test", Fault::Timeout, []);
    let server = DnsServer::builder(zone()).faults(plan).start().unwrap();
    let timeout = Duration::from_millis(600);
    let net = resolver(&server, timeout);
    let started = Instant::now();
    let err = net
        .lookup("example.test", RecordType::Txt)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.kind, FailureKind::Timeout, "{err}");
    assert!(err.is_temporary());
    assert!(
        elapsed < timeout + Duration::from_secs(2),
        "gave up after {elapsed:?}"
    );
    assert!(server.query_count_for("example.test", RecordType::Txt) >= 1);
}

/// SERVFAIL is a failure of kind ServFail, never NXDOMAIN or NODATA.
#[tokio::test]
async fn servfail_is_a_failure_not_an_absence() {
    let mut plan = FaultPlan::new();
    plan.add("example.test", Fault::ServFail, [RecordType::Soa]);
    let server = DnsServer::builder(zone()).faults(plan).start().unwrap();
    let net = resolver(&server, Duration::from_secs(5));
    let err = net
        .lookup("example.test", RecordType::Txt)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::ServFail, "{err}");
    assert!(err.detail.contains(&server.addr().to_string()), "{err}");
    // The exempt type still answers.
    assert!(matches!(
        net.lookup("example.test", RecordType::Soa).await,
        Ok(Answer::Records(_))
    ));
}

/// REFUSED is a failure of kind Refused.
#[tokio::test]
async fn refused_is_a_failure_of_its_own_kind() {
    let mut plan = FaultPlan::new();
    plan.add("example.test", Fault::Refused, []);
    let server = DnsServer::builder(zone()).faults(plan).start().unwrap();
    let err = resolver(&server, Duration::from_secs(5))
        .lookup("example.test", RecordType::Mx)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::Refused, "{err}");
}

/// Nothing listening: the lookup fails (timeout over UDP, as no answer ever comes), it is not
/// an empty answer.
#[tokio::test]
async fn no_server_is_a_failure() {
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let options = NetworkOptions::default().with_timeout(Duration::from_millis(400));
    let net = NetworkResolver::with_servers(&[port], options).unwrap();
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

/// Building a resolver needs no runtime; only lookups do.
#[test]
fn resolver_is_built_outside_a_runtime() {
    let net = NetworkResolver::with_servers(
        &["127.0.0.1:53".parse().unwrap()],
        NetworkOptions::default(),
    )
    .unwrap();
    assert_eq!(net.servers(), &["127.0.0.1:53".parse().unwrap()]);
}

/// Names that cannot be asked are refused before anything is sent.
#[tokio::test]
async fn invalid_names_are_not_sent() {
    let server = DnsServer::start(zone()).unwrap();
    let net = resolver(&server, Duration::from_secs(5));
    let err = net
        .lookup("a..example.test", RecordType::Txt)
        .await
        .unwrap_err();
    assert_eq!(err.kind, FailureKind::InvalidName);
    assert_eq!(server.query_count(), 0);
}

/// N identical questions in flight at once through the cache reach the server as one query,
/// and a repeat within the TTL does not reach it at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_questions_reach_the_server_once() {
    let server = DnsServer::start(zone()).unwrap();
    let cached = std::sync::Arc::new(inkan_dns::CachingResolver::new(resolver(
        &server,
        Duration::from_secs(5),
    )));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let cached = std::sync::Arc::clone(&cached);
            tokio::spawn(async move { cached.lookup("example.test", RecordType::Txt).await })
        })
        .collect();
    for task in tasks {
        let answer = task.await.unwrap().unwrap();
        assert_eq!(
            answer.txt().next().unwrap().concat_lossy(),
            "v=spf1 ip4:192.0.2.0/24 include:_spf.example.test -all"
        );
    }
    assert_eq!(server.query_count_for("example.test", RecordType::Txt), 1);
    cached
        .lookup("example.test", RecordType::Txt)
        .await
        .unwrap();
    assert_eq!(server.query_count(), 1);
    // Negative answers are cached too (RFC 2308).
    for _ in 0..3 {
        assert!(matches!(
            cached.lookup("nope.example.test", RecordType::Txt).await,
            Ok(Answer::NxDomain { .. })
        ));
    }
    assert_eq!(
        server.query_count_for("nope.example.test", RecordType::Txt),
        1
    );
}

/// A server started from master-file text serves what the file says.
#[tokio::test]
async fn server_from_zone_text() {
    let text = "$ORIGIN zone.test.\n$TTL 60\n@ IN SOA ns hostmaster 1 2 3 4 30\n@ IN TXT \"a\" \"b\"\nmail IN MX 5 @\n";
    let server = DnsServer::from_zone_text(text, None, "inline").unwrap();
    let net = resolver(&server, Duration::from_secs(5));
    let txt = net.lookup("zone.test", RecordType::Txt).await.unwrap();
    assert_eq!(txt.records()[0].ttl, 60);
    assert_eq!(
        txt.txt().next().unwrap().strings(),
        &[b"a".to_vec(), b"b".to_vec()]
    );
    let mx = net.lookup("mail.zone.test", RecordType::Mx).await.unwrap();
    assert_eq!(mx.names().collect::<Vec<_>>(), vec!["zone.test"]);
    assert_eq!(
        net.lookup("other.zone.test", RecordType::A).await.unwrap(),
        Answer::NxDomain { ttl: 30 }
    );
    let err =
        DnsServer::from_zone_text("@ IN BOGUS x\n", Some("zone.test"), "bad.zone").unwrap_err();
    assert!(err.to_string().contains("bad.zone"), "{err}");
}

/// Dropping the server stops it: its port no longer answers.
#[tokio::test]
async fn dropped_server_stops_answering() {
    let server = DnsServer::start(zone()).unwrap();
    let net = resolver(&server, Duration::from_millis(400));
    assert!(net.lookup("example.test", RecordType::Txt).await.is_ok());
    drop(server);
    let err = net
        .lookup("example.test", RecordType::Mx)
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind, FailureKind::Timeout | FailureKind::Network),
        "{err}"
    );
}
