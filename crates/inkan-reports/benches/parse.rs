//! Parsing DMARC aggregate reports alone, without a store: one small report read from memory
//! (the common case: files of up to 8 MB are read whole before parsing), and a long report read
//! from memory and streamed through a 256 KiB `BufReader` (how a large file is read). The
//! reports have the shape `bench/reports/generate.py` writes (indented, RFC 7489 elements, a
//! DKIM and an SPF result per record). Throughput is in records.
//!
//! `cargo bench -p inkan-reports --bench parse`

use std::hint::black_box;
use std::io::{BufReader, Cursor};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use inkan_reports::{AggregateReader, Limits};

fn header() -> String {
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<feedback>
  <report_metadata>
    <org_name>receiver1.example</org_name>
    <email>dmarc@receiver1.example</email>
    <report_id>bench-1</report_id>
    <date_range>
      <begin>1795737600</begin>
      <end>1795823999</end>
    </date_range>
  </report_metadata>
  <policy_published>
    <domain>sender1.example</domain>
    <adkim>r</adkim>
    <aspf>r</aspf>
    <p>reject</p>
    <sp>reject</sp>
    <pct>100</pct>
  </policy_published>
"
    .to_owned()
}

fn record(i: u32) -> String {
    let ok = !i.is_multiple_of(5);
    let (disposition, dkim) = if ok {
        ("none", "pass")
    } else {
        ("reject", "fail")
    };
    let spf = if ok || i.is_multiple_of(3) {
        "pass"
    } else {
        "fail"
    };
    format!(
        "  <record>
    <row>
      <source_ip>10.{}.{}.{}</source_ip>
      <count>{}</count>
      <policy_evaluated>
        <disposition>{disposition}</disposition>
        <dkim>{dkim}</dkim>
        <spf>{spf}</spf>
      </policy_evaluated>
    </row>
    <identifiers>
      <envelope_from>sender1.example</envelope_from>
      <header_from>sender1.example</header_from>
    </identifiers>
    <auth_results>
      <dkim>
        <domain>sender1.example</domain>
        <selector>s1</selector>
        <result>{dkim}</result>
      </dkim>
      <spf>
        <domain>sender1.example</domain>
        <scope>mfrom</scope>
        <result>{spf}</result>
      </spf>
    </auth_results>
  </record>
",
        (i >> 16) & 255,
        (i >> 8) & 255,
        i & 255,
        1 + i * 7 % 500
    )
}

fn report(records: u32) -> Vec<u8> {
    let mut xml = header();
    for i in 0..records {
        xml.push_str(&record(i));
    }
    xml.push_str("</feedback>\n");
    xml.into_bytes()
}

/// Reads every record of `reader`, handing each back for reuse as the store does.
fn drain<R: std::io::BufRead>(mut reader: AggregateReader<R>) -> u64 {
    while let Some(record) = reader.next_record().unwrap() {
        black_box(&record);
        reader.recycle(record);
    }
    reader.finish().unwrap().records
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate");
    let small = report(25);
    group.throughput(Throughput::Elements(25));
    group.bench_function("small report (25 records) from memory", |b| {
        b.iter(|| drain(AggregateReader::new(black_box(&small[..]), Limits::default()).unwrap()))
    });

    const LONG: u32 = 20_000;
    let long = report(LONG);
    group.throughput(Throughput::Elements(u64::from(LONG)));
    group.sample_size(20);
    group.bench_function("20,000 records from memory", |b| {
        b.iter(|| drain(AggregateReader::new(black_box(&long[..]), Limits::default()).unwrap()))
    });
    group.bench_function("20,000 records through a 256 KiB BufReader", |b| {
        b.iter(|| {
            let input = BufReader::with_capacity(256 * 1024, Cursor::new(black_box(&long[..])));
            drain(AggregateReader::new(input, Limits::default()).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
