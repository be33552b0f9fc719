//! `inkan dns NAME [TYPE]`: what inkan sees in DNS — the records with their TTLs, or NXDOMAIN,
//! NODATA, timeout, SERVFAIL — as text or as the stable JSON object documented in the README.

use std::io::IsTerminal;

use clap::Args;
use inkan_dns::{Answer, DnsError, FailureKind, RData, Record, RecordType, Txt};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{Format, write_json};

/// Arguments of `inkan dns`.
#[derive(Debug, Args)]
pub struct DnsCommand {
    /// The name to look up.
    pub name: String,
    /// The record type (A, AAAA, CNAME, MX, NS, PTR, SOA, TXT, SPF).
    #[arg(default_value = "TXT")]
    pub rtype: RecordType,
}

impl DnsCommand {
    /// Looks the name up and prints what came back. Exit 0 for records, 1 for NXDOMAIN or
    /// NODATA, 2 when DNS gave no answer.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        let resolver = crate::resolver::build(globals)?;
        let started = std::time::Instant::now();
        let result = resolver.lookup(&self.name, self.rtype).await;
        if globals.verbose > 0 {
            eprintln!(
                "; asked {} in {} ms",
                crate::resolver::describe(globals),
                started.elapsed().as_millis()
            );
        }
        let exit = match &result {
            Ok(Answer::Records(_)) => Exit::Pass,
            Ok(Answer::NxDomain { .. } | Answer::NoData { .. }) => Exit::Findings,
            Err(_) => Exit::Error,
        };
        match globals.format {
            Format::Json | Format::Jsonl => {
                let report = Report::new(&self.name, self.rtype, &result);
                if globals.format == Format::Json {
                    write_json(out, &report)?;
                } else {
                    serde_json::to_writer(&mut *out, &report)?;
                    writeln!(out)?;
                }
            }
            Format::Text | Format::Csv | Format::Html => {
                let color = globals.color.enabled(std::io::stdout().is_terminal());
                if !(globals.quiet && exit == Exit::Pass) {
                    write_text(out, &self.name, self.rtype, &result, color)?;
                }
            }
        }
        if let Err(err) = &result {
            eprintln!("inkan: {err}");
        }
        Ok(exit)
    }
}

/// The status word of a lookup in JSON: `found`, `nxdomain`, `nodata`, or the failure kind.
fn status(result: &Result<Answer, DnsError>) -> &'static str {
    match result {
        Ok(Answer::Records(_)) => "found",
        Ok(Answer::NxDomain { .. }) => "nxdomain",
        Ok(Answer::NoData { .. }) => "nodata",
        Err(err) => err.kind.as_str(),
    }
}

/// The status word of a lookup in text, in the words DNS people use.
fn status_word(result: &Result<Answer, DnsError>) -> &'static str {
    match result {
        Ok(Answer::Records(_)) => "found",
        Ok(Answer::NxDomain { .. }) => "NXDOMAIN",
        Ok(Answer::NoData { .. }) => "NODATA",
        Err(err) => match err.kind {
            FailureKind::Timeout => "timeout",
            FailureKind::ServFail => "SERVFAIL",
            FailureKind::Refused => "REFUSED",
            FailureKind::Network => "network error",
            FailureKind::Malformed => "malformed answer",
            FailureKind::InvalidName => "invalid name",
            _ => err.kind.as_str(),
        },
    }
}

/// Text output: a status line, then one zone-file line per record; a TXT record is followed by
/// its character-strings joined, as SPF, DKIM and DMARC read them.
fn write_text(
    out: &mut dyn std::io::Write,
    name: &str,
    rtype: RecordType,
    result: &Result<Answer, DnsError>,
    color: bool,
) -> std::io::Result<()> {
    let shown = name.strip_suffix('.').unwrap_or(name);
    let word = status_word(result);
    let painted = if color {
        let code = match result {
            Ok(Answer::Records(_)) => "32",
            Ok(_) => "33",
            Err(_) => "31",
        };
        format!("\x1b[1;{code}m{word}\x1b[0m")
    } else {
        word.to_owned()
    };
    match result {
        Ok(Answer::Records(set)) => {
            let count = set.records.len();
            let plural = if count == 1 { "" } else { "s" };
            writeln!(out, "{shown} {rtype}: {painted} ({count} record{plural})")?;
            if !set.cname_chain.is_empty() {
                writeln!(
                    out,
                    "; via CNAME {shown} -> {}",
                    set.cname_chain.join(" -> ")
                )?;
            }
            for record in &set.records {
                writeln!(
                    out,
                    "{}.\t{}\t{}\t{}",
                    record.name,
                    record.ttl,
                    record.data.record_type(),
                    record.data
                )?;
                if let RData::Txt(txt) | RData::Spf(txt) = &record.data
                    && txt.strings().len() != 1
                {
                    writeln!(
                        out,
                        ";   joined: {}",
                        RData::Txt(Txt::new(vec![txt.concat()]))
                    )?;
                }
            }
        }
        Ok(Answer::NxDomain { ttl } | Answer::NoData { ttl }) => {
            writeln!(out, "{shown} {rtype}: {painted} (negative TTL {ttl})")?;
        }
        Err(_) => writeln!(out, "{shown} {rtype}: {painted}")?,
    }
    Ok(())
}

/// The JSON object of `inkan dns --format json`. Field names are part of the CLI contract.
#[derive(Debug, Serialize)]
struct Report<'a> {
    name: &'a str,
    #[serde(rename = "type")]
    rtype: &'static str,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    negative_ttl: Option<u32>,
    records: Vec<JsonRecord>,
    cname_chain: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct JsonRecord {
    name: String,
    #[serde(rename = "type")]
    rtype: &'static str,
    ttl: u32,
    /// Presentation format, as in a zone file.
    data: String,
    /// TXT and SPF: the character-strings as published.
    #[serde(skip_serializing_if = "Option::is_none")]
    strings: Option<Vec<String>>,
    /// TXT and SPF: the character-strings joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

impl<'a> Report<'a> {
    fn new(name: &'a str, rtype: RecordType, result: &Result<Answer, DnsError>) -> Self {
        let name = name.strip_suffix('.').unwrap_or(name);
        let (records, cname_chain, negative_ttl, error) = match result {
            Ok(Answer::Records(set)) => (
                set.records.iter().map(JsonRecord::new).collect(),
                set.cname_chain.clone(),
                None,
                None,
            ),
            Ok(Answer::NxDomain { ttl } | Answer::NoData { ttl }) => {
                (vec![], vec![], Some(*ttl), None)
            }
            Err(err) => (vec![], vec![], None, Some(err.to_string())),
        };
        Report {
            name,
            rtype: rtype.as_str(),
            status: status(result),
            negative_ttl,
            records,
            cname_chain,
            error,
        }
    }
}

impl JsonRecord {
    fn new(record: &Record) -> Self {
        let (strings, text) = match &record.data {
            RData::Txt(txt) | RData::Spf(txt) => (
                Some(
                    txt.strings()
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect(),
                ),
                Some(txt.concat_lossy()),
            ),
            _ => (None, None),
        };
        JsonRecord {
            name: record.name.clone(),
            rtype: record.data.record_type().as_str(),
            ttl: record.ttl,
            data: record.data.to_string(),
            strings,
            text,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use inkan_dns::RecordSet;

    use super::*;

    fn found() -> Result<Answer, DnsError> {
        let txt = Txt::new(vec![b"v=spf1 ".to_vec(), b"-all".to_vec()]);
        Ok(Answer::Records(Arc::new(RecordSet {
            records: vec![Record {
                name: "b.test".into(),
                ttl: 60,
                data: RData::Txt(txt),
            }],
            cname_chain: vec!["b.test".into()],
        })))
    }

    fn text(result: &Result<Answer, DnsError>, color: bool) -> String {
        let mut out = Vec::new();
        write_text(&mut out, "a.test.", RecordType::Txt, result, color).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_shows_records_strings_and_the_joined_text() {
        assert_eq!(
            text(&found(), false),
            "a.test TXT: found (1 record)\n; via CNAME a.test -> b.test\nb.test.\t60\tTXT\t\"v=spf1 \" \"-all\"\n\
             ;   joined: \"v=spf1 -all\"\n"
        );
    }

    #[test]
    fn text_names_absence_and_failure_in_dns_words() {
        assert_eq!(
            text(&Ok(Answer::NxDomain { ttl: 30 }), false),
            "a.test TXT: NXDOMAIN (negative TTL 30)\n"
        );
        assert_eq!(
            text(&Ok(Answer::NoData { ttl: 5 }), false),
            "a.test TXT: NODATA (negative TTL 5)\n"
        );
        let timeout = Err(DnsError::new(
            FailureKind::Timeout,
            "a.test",
            RecordType::Txt,
            "no answer",
        ));
        assert_eq!(text(&timeout, false), "a.test TXT: timeout\n");
        let servfail = Err(DnsError::new(
            FailureKind::ServFail,
            "a.test",
            RecordType::Txt,
            "SERVFAIL",
        ));
        assert_eq!(
            text(&servfail, true),
            "a.test TXT: \x1b[1;31mSERVFAIL\x1b[0m\n"
        );
    }

    #[test]
    fn json_keeps_strings_and_status() {
        let report =
            serde_json::to_value(Report::new("a.test.", RecordType::Txt, &found())).unwrap();
        assert_eq!(report["name"], "a.test");
        assert_eq!(report["status"], "found");
        assert_eq!(
            report["records"][0]["strings"],
            serde_json::json!(["v=spf1 ", "-all"])
        );
        assert_eq!(report["records"][0]["text"], "v=spf1 -all");
        assert_eq!(report["cname_chain"], serde_json::json!(["b.test"]));
        assert!(report.get("error").is_none());
        let timeout = Err(DnsError::new(
            FailureKind::Timeout,
            "a.test",
            RecordType::Txt,
            "no answer",
        ));
        let report =
            serde_json::to_value(Report::new("a.test", RecordType::Txt, &timeout)).unwrap();
        assert_eq!(report["status"], "timeout");
        assert_eq!(report["records"], serde_json::json!([]));
        assert!(report["error"].as_str().unwrap().contains("no answer"));
    }
}
