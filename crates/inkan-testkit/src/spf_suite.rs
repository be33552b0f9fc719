//! Loads the openspf SPF test suites (`shared/conformance/spf/*.yml`) into records, a fault
//! plan and cases, following the driver rules of `shared/conformance/README.md`: SPF (type 99)
//! records also served as TXT where a name has no TXT entry, `TXT: NONE`, the `TIMEOUT` marker
//! sparing the types listed before it, names compared without regard to case.

use std::collections::BTreeMap;
use std::net::IpAddr;

use inkan_dns::{RData, Record, RecordType, Txt};
use serde::Deserialize;
use serde_yaml::Value;

use crate::faults::{Fault, FaultPlan};

/// One case of a scenario.
#[derive(Clone, Debug)]
pub struct SpfCase {
    /// The case id, e.g. `include-loop`.
    pub id: String,
    /// The HELO name.
    pub helo: String,
    /// The client IP.
    pub host: IpAddr,
    /// The MAIL FROM address (may be empty).
    pub mailfrom: String,
    /// The acceptable results, the preferred first.
    pub results: Vec<String>,
    /// The expected explanation; `DEFAULT` means the checker's own.
    pub explanation: Option<String>,
}

/// One YAML document: a zone and the cases run against it.
#[derive(Clone, Debug)]
pub struct SpfScenario {
    /// The scenario's description.
    pub description: String,
    /// The zone's records.
    pub records: Vec<Record>,
    /// Names that time out.
    pub faults: FaultPlan,
    /// The cases.
    pub cases: Vec<SpfCase>,
}

/// Reads a suite file; panics with the path and the problem when it cannot (test support).
pub fn load_spf_suite(path: &str) -> Vec<SpfScenario> {
    let all = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut scenarios = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(&all) {
        let doc = Value::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}"));
        let (records, faults) = zone(&doc["zonedata"]);
        let tests: BTreeMap<String, Value> = serde_yaml::from_value(doc["tests"].clone())
            .unwrap_or_else(|e| panic!("{path}: tests: {e}"));
        let cases = tests
            .into_iter()
            .map(|(id, t)| SpfCase {
                host: text(&t["host"])
                    .parse()
                    .unwrap_or_else(|e| panic!("{id}: host: {e}")),
                helo: text(&t["helo"]),
                mailfrom: t.get("mailfrom").map(text).unwrap_or_default(),
                explanation: t.get("explanation").map(text),
                results: match &t["result"] {
                    Value::Sequence(items) => items.iter().map(text).collect(),
                    v => vec![text(v)],
                },
                id,
            })
            .collect();
        scenarios.push(SpfScenario {
            description: text(&doc["description"]),
            records,
            faults,
            cases,
        });
    }
    scenarios
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

fn zone(zonedata: &Value) -> (Vec<Record>, FaultPlan) {
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
        let mut listed = Vec::new();
        for entry in &entries {
            if entry.as_str() == Some("TIMEOUT") {
                plan.add(&name, Fault::Timeout, listed.clone());
                continue;
            }
            let m = entry
                .as_mapping()
                .unwrap_or_else(|| panic!("bad entry {entry:?} at {name}"));
            for (kind, value) in m {
                let kind = text(kind);
                // `TXT: NONE` is no record, so it spares nothing from a later TIMEOUT.
                if value.as_str() != Some("NONE") {
                    listed.push(kind.parse::<RecordType>().unwrap_or_else(|e| panic!("{e}")));
                }
                let record = |data| Record {
                    name: name.clone(),
                    ttl: 300,
                    data,
                };
                match kind.as_str() {
                    "A" => records.push(record(RData::A(text(value).parse().expect("A address")))),
                    "AAAA" => records.push(record(RData::Aaaa(
                        text(value).parse().expect("AAAA address"),
                    ))),
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
