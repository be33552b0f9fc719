//! The openspf test suites (RFC 7208 and RFC 4408 editions) run through `check_host()` with an
//! in-memory resolver, following the driver rules in `shared/conformance/README.md`.
//!
//! <https://www.rfc-editor.org/rfc/rfc7208>

use std::collections::BTreeMap;
use std::net::IpAddr;

use inkan_auth::spf::{ExplanationSource, SpfParams, check_host};
use inkan_dns::{MemoryResolver, RData, Record, RecordType, Txt};
use inkan_testkit::{Fault, FaultPlan, FaultResolver};
use serde::Deserialize;
use serde_yaml::Value;

const RFC7208: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/spf/rfc7208-tests.yml"
);
const RFC4408: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/spf/rfc4408-tests.yml"
);

/// Cases whose explanation is compared without regard to ASCII case, with the reason.
const CASE_INSENSITIVE_EXPLANATIONS: &[(&str, &str)] = &[(
    "v-macro-ip6",
    "the suite writes the %{ir} nibbles in upper case; RFC 7208 §7.3/§7.4 (its example \
     '1.0.b.c.0.0...ip6') writes them in lower case, as inkan does",
)];

/// One test case of a scenario.
struct Case {
    id: String,
    helo: String,
    host: IpAddr,
    mailfrom: String,
    results: Vec<String>,
    explanation: Option<String>,
}

/// One YAML document: a zone and the cases run against it.
struct Scenario {
    description: String,
    resolver: FaultResolver<MemoryResolver>,
    cases: Vec<Case>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("expected a scalar, got {other:?}"),
    }
}

fn host_name(v: &Value) -> String {
    let s = text(v);
    s.strip_suffix('.').unwrap_or(&s).to_ascii_lowercase()
}

fn strings(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::Sequence(items) => items.iter().map(|s| text(s).into_bytes()).collect(),
        other => vec![text(other).into_bytes()],
    }
}

fn rtype(name: &str) -> RecordType {
    name.parse().unwrap_or_else(|e| panic!("{e}"))
}

/// Builds the zone of one scenario per the driver rules: SPF records copied to TXT where a
/// name has no TXT entry, `TXT: NONE`, `TIMEOUT` sparing the types listed before it.
pub fn zone(zonedata: &Value) -> (Vec<Record>, FaultPlan) {
    let mut records = Vec::new();
    let mut plan = FaultPlan::new();
    let Some(map) = zonedata.as_mapping() else {
        return (records, plan);
    };
    for (name, entries) in map {
        let name = host_name(name);
        let entries = entries.as_sequence().cloned().unwrap_or_default();
        let has_txt = entries
            .iter()
            .any(|e| e.as_mapping().is_some_and(|m| m.contains_key("TXT")));
        let mut seen_types = Vec::new();
        for entry in &entries {
            if entry.as_str() == Some("TIMEOUT") {
                plan.add(&name, Fault::Timeout, seen_types.clone());
                continue;
            }
            let m = entry
                .as_mapping()
                .unwrap_or_else(|| panic!("bad entry {entry:?} at {name}"));
            for (kind, value) in m {
                let kind = text(kind);
                // `TXT: NONE` is no record, so it spares nothing from a later TIMEOUT.
                if value.as_str() != Some("NONE") {
                    seen_types.push(rtype(&kind));
                }
                let record = |data| Record {
                    name: name.clone(),
                    ttl: 300,
                    data,
                };
                match kind.as_str() {
                    "A" => records.push(record(RData::A(text(value).parse().expect("A")))),
                    "AAAA" => records.push(record(RData::Aaaa(text(value).parse().expect("AAAA")))),
                    "PTR" => records.push(record(RData::Ptr(host_name(value)))),
                    "CNAME" => records.push(record(RData::Cname(host_name(value)))),
                    "MX" => {
                        let pair = value.as_sequence().expect("MX [pref, host]");
                        let preference = text(&pair[0]).parse().expect("MX preference");
                        records.push(record(RData::Mx {
                            preference,
                            exchange: host_name(&pair[1]),
                        }));
                    }
                    "TXT" if value.as_str() == Some("NONE") => {}
                    "TXT" => records.push(record(RData::Txt(Txt::new(strings(value))))),
                    "SPF" => {
                        records.push(record(RData::Spf(Txt::new(strings(value)))));
                        if !has_txt {
                            records.push(record(RData::Txt(Txt::new(strings(value)))));
                        }
                    }
                    other => panic!("unknown record type {other} at {name}"),
                }
            }
        }
    }
    (records, plan)
}

fn load(path: &str) -> Vec<Scenario> {
    let text_all = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut scenarios = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&text_all) {
        let doc = Value::deserialize(doc).expect("YAML document");
        let (records, plan) = zone(&doc["zonedata"]);
        let resolver = FaultResolver::new(MemoryResolver::from_records(records), plan);
        let mut cases = Vec::new();
        let tests: BTreeMap<String, Value> =
            serde_yaml::from_value(doc["tests"].clone()).expect("tests mapping");
        for (id, t) in tests {
            let results = match &t["result"] {
                Value::Sequence(items) => items.iter().map(text).collect(),
                v => vec![text(v)],
            };
            cases.push(Case {
                host: text(&t["host"])
                    .parse()
                    .unwrap_or_else(|e| panic!("{id}: host: {e}")),
                helo: text(&t["helo"]),
                mailfrom: t.get("mailfrom").map(text).unwrap_or_default(),
                explanation: t.get("explanation").map(text),
                results,
                id,
            });
        }
        scenarios.push(Scenario {
            description: text(&doc["description"]),
            resolver,
            cases,
        });
    }
    scenarios
}

/// Runs every case; returns (cases run, explanations compared, failures as "id: expected X,
/// got Y").
async fn run_suite(path: &str) -> (usize, usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut count = 0;
    let mut explanations = 0;
    for scenario in load(path) {
        for case in &scenario.cases {
            count += 1;
            let params = SpfParams::new(case.host, &case.helo, &case.mailfrom);
            let out = check_host(&scenario.resolver, &params).await;
            let got = out.result.as_str();
            if !case.results.iter().any(|r| r == got) {
                failures.push(format!(
                    "{} [{}]: expected {:?}, got {got} ({}; mechanism {:?})",
                    case.id, scenario.description, case.results, out.reason, out.mechanism
                ));
                continue;
            }
            let Some(want) = &case.explanation else {
                continue;
            };
            explanations += 1;
            let ok = if want == "DEFAULT" {
                out.explanation_source == Some(ExplanationSource::Default)
            } else if CASE_INSENSITIVE_EXPLANATIONS
                .iter()
                .any(|(id, _)| *id == case.id)
            {
                out.explanation
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(want))
            } else {
                out.explanation.as_deref() == Some(want.as_str())
            };
            if !ok {
                failures.push(format!(
                    "{} [{}]: expected explanation {want:?}, got {:?} ({:?})",
                    case.id, scenario.description, out.explanation, out.explanation_source
                ));
            }
        }
    }
    (count, explanations, failures)
}

/// RFC 7208 edition: all 203 cases, results and explanations.
#[tokio::test]
async fn rfc7208_openspf_suite_passes_every_case() {
    let (count, explanations, failures) = run_suite(RFC7208).await;
    assert_eq!(count, 203, "the suite should hold 203 cases");
    assert_eq!(
        explanations, 22,
        "the suite gives 22 explanations to compare"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// RFC 4408 edition, extra coverage: any listed result is accepted.
#[tokio::test]
async fn rfc4408_openspf_suite_passes_every_case() {
    let (count, _, failures) = run_suite(RFC4408).await;
    assert!(
        count > 150,
        "the suite should hold about 191 cases, found {count}"
    );
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
