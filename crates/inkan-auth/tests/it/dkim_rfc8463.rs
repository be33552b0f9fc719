//! RFC 8463 Appendix A: the ed25519-sha256 and rsa-sha256 signatures of the example message
//! verify, and re-signing with the published keys, tags and timestamp reproduces them.
//! <https://www.rfc-editor.org/rfc/rfc8463#appendix-A>

use base64::Engine;
use inkan_auth::Message;
use inkan_auth::dkim::{self, DkimResult, SigningKey};
use inkan_dns::{MemoryResolver, RData, Record, Txt};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/dkim-rfc8463"
);

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("reading {DIR}/{name}: {e}"))
}

fn resolver() -> MemoryResolver {
    let dns: serde_json::Value =
        serde_json::from_slice(&read("dns.json")).expect("dns.json is JSON");
    let records = dns["dns_txt"]
        .as_object()
        .expect("dns_txt object")
        .iter()
        .map(|(name, value)| Record {
            name: name.clone(),
            ttl: 300,
            data: RData::Txt(Txt::new(vec![
                value.as_str().expect("TXT text").as_bytes().to_vec(),
            ])),
        });
    MemoryResolver::from_records(records)
}

fn message() -> Message<'static> {
    Message::parse(read("rfc8463-A.3-signed.eml")).expect("example parses")
}

/// RFC 8463 §A.3: both signatures verify.
#[tokio::test]
async fn rfc8463_a3_both_signatures_verify() {
    let out = dkim::verify_at(&resolver(), &message(), 1_528_637_909 + 60).await;
    let summary: Vec<_> = out
        .iter()
        .map(|o| (o.selector.as_str(), o.algorithm.as_ref(), o.result))
        .collect();
    assert_eq!(
        summary,
        [
            ("brisbane", "ed25519-sha256", DkimResult::Pass),
            ("test", "rsa-sha256", DkimResult::Pass)
        ],
        "{out:#?}"
    );
    assert_eq!(out[0].key_bits, Some(256));
    assert_eq!(out[1].key_bits, Some(1024));
    assert!(out[0].from_oversigned);
}

/// The existing field's value with `bh=` and `b=` emptied: the same tags, text and order.
fn template(field: &[u8]) -> String {
    let text = std::str::from_utf8(field).unwrap();
    let value = text.split_once(':').unwrap().1.trim_end_matches("\r\n");
    let bh_start = value.find("bh=").unwrap() + 3;
    let bh_end = bh_start + value[bh_start..].find(';').unwrap();
    let b_start = value.rfind("b=").unwrap() + 2;
    let mut out = String::new();
    out.push_str(&value[..bh_start]);
    out.push_str(&value[bh_end..b_start]);
    out.trim_start().to_owned()
}

fn tag(field: &str, name: &str) -> Vec<u8> {
    let tags = dkim::TagList::parse(field.split_once(':').unwrap().1.as_bytes()).unwrap();
    dkim::decode_base64(tags.get(name).unwrap()).unwrap()
}

/// RFC 8463 §A.2–A.3: re-signing with the example Ed25519 key, tags and timestamp reproduces
/// `bh=` and `b=` (Ed25519 is deterministic).
#[test]
fn rfc8463_ed25519_resigning_reproduces_body_hash_and_signature() {
    let m = message();
    let field = m
        .header_fields("DKIM-Signature")
        .next()
        .unwrap()
        .raw()
        .to_vec();
    let seed_text = String::from_utf8(read("ed25519-brisbane.seed.b64")).unwrap();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(seed_text.trim())
        .unwrap();
    let ed = SigningKey::from_ed25519_seed(&seed).unwrap();
    let original = String::from_utf8(field.clone()).unwrap();
    let resigned = dkim::sign_template(&ed, &m, &template(&field)).unwrap();
    assert_eq!(
        tag(&resigned, "bh"),
        tag(&original, "bh"),
        "body hash of {original}"
    );
    assert_eq!(
        tag(&resigned, "b"),
        tag(&original, "b"),
        "signature of {original}"
    );
}

/// RFC 8463 §A.2–A.3: re-signing with the example 1024-bit RSA key (which aws-lc refuses, so
/// inkan signs it through the `rsa` crate), tags and timestamp reproduces `bh=` and `b=`
/// (RSASSA-PKCS1-v1_5 is deterministic).
#[test]
fn rfc8463_rsa_resigning_with_the_1024_bit_key_reproduces_the_signature() {
    let m = message();
    let field = m
        .header_fields("DKIM-Signature")
        .nth(1)
        .unwrap()
        .raw()
        .to_vec();
    let pem = String::from_utf8(read("rsa-test.private.pem")).unwrap();
    let rsa = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(rsa.bits(), 1024);
    let original = String::from_utf8(field.clone()).unwrap();
    let resigned = dkim::sign_template(&rsa, &m, &template(&field)).unwrap();
    assert_eq!(
        tag(&resigned, "bh"),
        tag(&original, "bh"),
        "body hash of {original}"
    );
    assert_eq!(
        tag(&resigned, "b"),
        tag(&original, "b"),
        "signature of {original}"
    );
}
