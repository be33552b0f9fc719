//! The DMARC and Authentication-Results work per message, without DNS latency: record parsing,
//! header parsing and rendering, and a whole evaluation against an in-memory zone (discovery by
//! the tree walk, relaxed alignment of a subdomain identifier).
//!
//! `cargo bench -p inkan-auth --bench dmarc`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use futures::executor::block_on;
use inkan_auth::authres::AuthResults;
use inkan_auth::dmarc::{
    DkimIdentifier, DmarcInput, DmarcRecord, OrgDomainMethod, SpfIdentifier, SpfScope, evaluate,
};
use inkan_dns::MemoryResolver;

const RECORD: &str = "v=DMARC1; p=reject; sp=quarantine; np=reject; adkim=r; aspf=s; \
    rua=mailto:dmarc@example.test,mailto:agg@reports.example.net; ruf=mailto:f@example.test; fo=1";

const HEADER: &str = "mx.example.net;\r\n\tspf=pass smtp.mailfrom=bounce@mail.example.test;\r\n\t\
    dkim=pass header.d=example.test header.s=s1 header.b=Ab3dE9xQ;\r\n\t\
    dmarc=pass (p=reject sp=quarantine dis=none) header.from=example.test policy.dmarc=reject;\r\n\tarc=none";

fn dmarc(c: &mut Criterion) {
    c.bench_function("DmarcRecord::parse", |b| {
        b.iter(|| DmarcRecord::parse(black_box(RECORD)))
    });
    c.bench_function("AuthResults::parse", |b| {
        b.iter(|| AuthResults::parse(black_box(HEADER)))
    });
    let parsed = AuthResults::parse(HEADER).unwrap();
    c.bench_function("AuthResults::render", |b| {
        b.iter(|| black_box(&parsed).render("\r\n\t"))
    });

    let zone = MemoryResolver::from_zone_text(
        &format!("$ORIGIN test.\n_dmarc.example TXT \"{RECORD}\"\nnews.example A 192.0.2.1\n"),
        None,
        "bench.zone",
    )
    .unwrap();
    let input = DmarcInput {
        from_domain: "news.example.test".into(),
        spf: Some(SpfIdentifier {
            domain: "bounce.esp.test".into(),
            scope: SpfScope::MailFrom,
            result: "pass".into(),
        }),
        dkim: vec![DkimIdentifier {
            domain: "mail.example.test".into(),
            selector: Some("s1".into()),
            result: "pass".into(),
        }],
    };
    c.bench_function(
        "evaluate (tree walk, relaxed DKIM alignment, memory zone)",
        |b| {
            b.iter(|| {
                block_on(evaluate(
                    &zone,
                    black_box(&input),
                    OrgDomainMethod::TreeWalk,
                ))
            })
        },
    );
}

criterion_group!(benches, dmarc);
criterion_main!(benches);
