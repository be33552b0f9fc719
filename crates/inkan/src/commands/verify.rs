//! `inkan verify [FILE|-] [--ip IP --helo HOST --mail-from ADDR] [--authserv-id ID]
//! [--batch DIR|MBOX]`: a receiver's full verdict on a message — SPF when the envelope is given,
//! every DKIM signature, DMARC, ARC — as an RFC 8601 Authentication-Results header or JSON,
//! with the bulk-sender message rules. Exit 0 when DMARC passes, 1 otherwise, 2 on errors.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use futures::StreamExt;
use inkan_auth::Message;
use inkan_auth::arc::ArcOutput;
use inkan_auth::authres::{AuthResults, MethodResult};
use inkan_auth::dkim::{self, DkimOutput, DkimResult, TagList};
use inkan_auth::dmarc::{
    self, DkimIdentifier, DmarcInput, DmarcResult, DmarcVerdict, OrgDomainMethod, SpfIdentifier,
    SpfScope,
};
use inkan_auth::rules::{self, RuleInput, SignatureCoverage};
use inkan_auth::spf::{Identity, SpfResult, SpfVerifier};
use inkan_dns::{CachingResolver, Resolver};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{Format, write_json};

/// Messages verified at once in batch mode.
const BATCH_CONCURRENCY: usize = 64;

/// Arguments of `inkan verify`.
#[derive(Debug, Args)]
pub struct VerifyCommand {
    /// The message (RFC 5322, as received), or `-` for standard input.
    #[arg(value_name = "FILE|-", default_value = "-", conflicts_with = "batch")]
    pub file: String,
    /// The SMTP client's IP address; with it SPF is checked.
    #[arg(long, value_name = "IP")]
    pub ip: Option<IpAddr>,
    /// The HELO/EHLO name the client gave.
    #[arg(long, value_name = "HOST", requires = "ip")]
    pub helo: Option<String>,
    /// The MAIL FROM address (empty, or `<>`, for a bounce: SPF then checks the HELO name).
    #[arg(long = "mail-from", value_name = "ADDR", requires = "ip")]
    pub mail_from: Option<String>,
    /// The authserv-id written in the Authentication-Results header.
    #[arg(long = "authserv-id", value_name = "ID", default_value = "inkan")]
    pub authserv_id: String,
    /// Verify every message in a directory (recursively) or an mbox file; one JSON line each.
    #[arg(long, value_name = "DIR|MBOX")]
    pub batch: Option<PathBuf>,
    /// How to find Organizational Domains: RFC 9989's DNS tree walk or RFC 7489's public suffix
    /// list (for comparison with older receivers).
    #[arg(long = "org-domain", value_enum, default_value_t = OrgMethodArg::TreeWalk)]
    pub org_domain: OrgMethodArg,
    /// Judge the message as bulk mail (default: guessed from List-Unsubscribe, List-Id,
    /// Feedback-ID and Precedence).
    #[arg(long)]
    pub bulk: bool,
}

/// `--org-domain` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrgMethodArg {
    /// RFC 9989 §4.10 DNS tree walk.
    TreeWalk,
    /// RFC 7489 §3.2 public suffix list.
    Psl,
}

/// The SMTP envelope the message came with.
#[derive(Clone, Debug)]
pub(crate) struct Envelope {
    ip: IpAddr,
    helo: String,
    mail_from: String,
}

impl Envelope {
    /// The envelope from the command line: `<>` or nothing as MAIL FROM is a bounce, and SPF
    /// needs at least one of HELO and MAIL FROM.
    pub(crate) fn new(
        ip: IpAddr,
        helo: Option<&str>,
        mail_from: Option<&str>,
    ) -> anyhow::Result<Envelope> {
        let mail_from = mail_from.unwrap_or_default().trim();
        let mail_from = if mail_from == "<>" { "" } else { mail_from };
        let helo = helo.unwrap_or_default();
        if helo.is_empty() && mail_from.is_empty() {
            anyhow::bail!("--ip needs --helo or --mail-from: SPF checks one of them");
        }
        Ok(Envelope {
            ip,
            helo: helo.to_owned(),
            mail_from: mail_from.to_owned(),
        })
    }
}

/// Everything that does not change from one message to the next.
struct Settings {
    envelope: Option<Envelope>,
    authserv_id: String,
    method: OrgDomainMethod,
    bulk: Option<bool>,
}

/// The verdict on one message, as printed in JSON.
#[derive(Debug, Serialize)]
struct Report {
    spf: Option<Value>,
    dkim: Vec<DkimOutput>,
    dmarc: DmarcVerdict,
    arc: ArcOutput,
    authentication_results: String,
    findings: Vec<rules::Finding>,
    bulk: bool,
}

impl VerifyCommand {
    /// Verifies one message or a batch and prints the verdicts.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        let envelope = self
            .ip
            .map(|ip| Envelope::new(ip, self.helo.as_deref(), self.mail_from.as_deref()))
            .transpose()?;
        let settings = Settings {
            envelope,
            authserv_id: self.authserv_id.clone(),
            method: match self.org_domain {
                OrgMethodArg::TreeWalk => OrgDomainMethod::TreeWalk,
                OrgMethodArg::Psl => OrgDomainMethod::PublicSuffix,
            },
            bulk: self.bulk.then_some(true),
        };
        let resolver: Arc<dyn Resolver> =
            Arc::new(CachingResolver::new(crate::resolver::build(globals)?));
        match &self.batch {
            Some(path) => run_batch(path, &resolver, &settings, globals.quiet, out).await,
            None => {
                let saved = super::input::read_saved_message(
                    Some(std::path::Path::new(&self.file)),
                    globals.quiet,
                )?;
                let message = Message::parse(saved.message)
                    .with_context(|| format!("reading the message in {}", self.file))?;
                let report = verify_message(&resolver, &message, &settings).await;
                let exit = if report.dmarc.result == DmarcResult::Pass {
                    Exit::Pass
                } else {
                    Exit::Findings
                };
                match globals.format {
                    Format::Json | Format::Jsonl => write_json(out, &report)?,
                    Format::Text | Format::Csv | Format::Html => {
                        print_text(out, &report, globals.quiet)?
                    }
                }
                Ok(exit)
            }
        }
    }
}

/// Seconds since the Unix epoch, for `%{t}` in SPF explanations.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn print_text(out: &mut dyn std::io::Write, report: &Report, quiet: bool) -> anyhow::Result<()> {
    writeln!(
        out,
        "Authentication-Results: {}",
        report.authentication_results.replace("\r\n", "\n")
    )?;
    if quiet {
        return Ok(());
    }
    if !report.findings.is_empty() {
        writeln!(out)?;
    }
    for f in &report.findings {
        writeln!(out, "{:<7} {}: {}", f.severity.as_str(), f.id, f.message)?;
        writeln!(out, "        fix: {}", f.fix)?;
    }
    Ok(())
}

/// What a receiver concludes about one message before the message rules: SPF (with an
/// envelope), every DKIM signature, DMARC and ARC, and the Authentication-Results method results
/// in header order. `inkan arc seal` writes `methods` into its ARC-Authentication-Results.
pub(crate) struct Evaluation {
    spf: Option<SpfOutcome>,
    dkim: Vec<DkimOutput>,
    has_author: bool,
    dmarc: DmarcVerdict,
    pub(crate) arc: ArcOutput,
    pub(crate) methods: Vec<MethodResult>,
}

/// Evaluates one message as a receiver does, at time `now` (Unix seconds).
pub(crate) async fn evaluate(
    resolver: &dyn Resolver,
    message: &Message<'_>,
    envelope: Option<&Envelope>,
    method: OrgDomainMethod,
    now: u64,
) -> Evaluation {
    let dkim_outputs = dkim::verify_at(resolver, message, now).await;
    let spf = match envelope {
        Some(env) => Some(check_spf(resolver, env, now).await),
        None => None,
    };
    let from_domain = dmarc::author_domain(message);
    let dmarc_verdict = match &from_domain {
        Ok(domain) => {
            let input = DmarcInput {
                from_domain: domain.clone(),
                spf: spf.as_ref().map(|s| s.identifier.clone()),
                dkim: dkim_outputs
                    .iter()
                    .filter(|d| !d.domain.is_empty())
                    .map(|d| DkimIdentifier {
                        domain: d.domain.clone(),
                        selector: Some(d.selector.clone()),
                        result: d.result.as_str().to_owned(),
                    })
                    .collect(),
            };
            dmarc::evaluate(resolver, &input, method).await
        }
        Err(err) => DmarcVerdict::without_author(err.to_string(), method),
    };
    let arc = inkan_auth::arc::validate_at(resolver, message, now).await;

    let mut methods = Vec::new();
    if let Some(spf) = &spf {
        methods.push(spf.method.clone());
    }
    methods.extend(dkim_outputs.iter().map(|d| dkim_method(message, d)));
    if dkim_outputs.is_empty() {
        methods.push(MethodResult::new("dkim", "none"));
    }
    methods.push(dmarc_verdict.auth_result());
    methods.push(arc.auth_result());
    Evaluation {
        spf,
        dkim: dkim_outputs,
        has_author: from_domain.is_ok(),
        dmarc: dmarc_verdict,
        arc,
        methods,
    }
}

/// SPF, DKIM, DMARC, ARC and the message rules for one message.
async fn verify_message(
    resolver: &Arc<dyn Resolver>,
    message: &Message<'_>,
    settings: &Settings,
) -> Report {
    let evaluation = evaluate(
        resolver.as_ref(),
        message,
        settings.envelope.as_ref(),
        settings.method,
        unix_now(),
    )
    .await;
    let mut header = AuthResults::new(&settings.authserv_id);
    header.results = evaluation.methods;

    let signatures: Vec<SignatureCoverage> = evaluation
        .dkim
        .iter()
        .map(|d| SignatureCoverage {
            domain: d.domain.clone(),
            passed: d.result == DkimResult::Pass,
            signed_headers: d.signed_headers.iter().map(|h| h.to_string()).collect(),
        })
        .collect();
    let rules_report = rules::check_message(&RuleInput {
        raw: message.as_bytes(),
        signatures: &signatures,
        dmarc: evaluation.has_author.then_some(evaluation.dmarc.result),
        bulk: settings.bulk,
    });

    Report {
        spf: evaluation.spf.map(|s| s.json),
        dkim: evaluation.dkim,
        dmarc: evaluation.dmarc,
        arc: evaluation.arc,
        authentication_results: header.render("\r\n\t"),
        findings: rules_report.findings,
        bulk: rules_report.bulk,
    }
}

/// SPF's outcome in the three forms verify needs.
struct SpfOutcome {
    identifier: SpfIdentifier,
    method: MethodResult,
    json: Value,
}

async fn check_spf(resolver: &dyn Resolver, env: &Envelope, now: u64) -> SpfOutcome {
    let verdict = SpfVerifier::new(resolver)
        .verify(env.ip, &env.helo, &env.mail_from, now)
        .await;
    let scope = match verdict.identity {
        Identity::MailFrom => SpfScope::MailFrom,
        Identity::Helo => SpfScope::Helo,
    };
    let result = verdict.output.result.as_str();
    let mut method = MethodResult::new("spf", result);
    if verdict.output.result != SpfResult::Pass {
        method = method.with_reason(verdict.output.reason.to_string());
    }
    method = match scope {
        SpfScope::MailFrom => method.with_property("smtp", "mailfrom", env.mail_from.clone()),
        SpfScope::Helo => method.with_property("smtp", "helo", env.helo.clone()),
    };
    let mut json = serde_json::to_value(&verdict.output).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut json {
        fields.insert("identity".into(), json!(scope));
        fields.insert("ip".into(), json!(env.ip));
    }
    SpfOutcome {
        identifier: SpfIdentifier {
            domain: verdict.domain.clone(),
            scope,
            result: result.to_owned(),
        },
        method,
        json,
    }
}

/// One DKIM signature as an RFC 8601 `dkim=` result, with the first 8 characters of `b=`.
fn dkim_method(message: &Message<'_>, output: &DkimOutput) -> MethodResult {
    let mut method = MethodResult::new("dkim", output.result.as_str());
    if output.result != DkimResult::Pass {
        method = method.with_reason(output.reason.clone());
    }
    if !output.domain.is_empty() {
        method = method.with_property("header", "d", output.domain.clone());
    }
    if !output.selector.is_empty() {
        method = method.with_property("header", "s", output.selector.clone());
    }
    let b = message.header_at(output.header_index).and_then(|field| {
        let value = field.unfolded_value();
        let tags = TagList::parse(&value).ok()?;
        let b: String = tags
            .get("b")?
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(8)
            .collect();
        (!b.is_empty()).then_some(b)
    });
    if let Some(b) = b {
        method = method.with_property("header", "b", b);
    }
    method
}

/// One message of a batch: where it came from and its bytes, or why it could not be read.
struct BatchItem {
    source: Value,
    bytes: anyhow::Result<Vec<u8>>,
}

async fn run_batch(
    path: &Path,
    resolver: &Arc<dyn Resolver>,
    settings: &Settings,
    quiet: bool,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    // Messages are read as the stream pulls them, at most BATCH_CONCURRENCY ahead, so a large
    // Maildir or mbox never sits whole in memory.
    let items: Box<dyn Iterator<Item = BatchItem>> = if path.is_dir() {
        let mut files = Vec::new();
        super::input::collect_files(path, quiet, &mut files)?;
        // A file saved with an mbox "From " line or a byte order mark in front holds the
        // message after it, as for a single message (without the note, once per file).
        Box::new(files.into_iter().map(|file| {
            BatchItem {
                source: json!({"file": file.display().to_string()}),
                bytes: std::fs::read(&file)
                    .map(|raw| super::input::SavedMessage::new(raw).message)
                    .with_context(|| format!("reading {}", file.display())),
            }
        }))
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        let reader = std::io::BufReader::new(file);
        let mbox = path.display().to_string();
        Box::new(
            mail_parser::mailbox::mbox::MessageIterator::new(reader)
                .enumerate()
                .map(move |(index, message)| BatchItem {
                    source: json!({"mbox": mbox, "index": index}),
                    bytes: message
                        .map(|m| m.unwrap_contents())
                        .with_context(|| format!("reading message {index}")),
                }),
        )
    };
    let mut worst = Exit::Pass;
    let mut results = futures::stream::iter(items)
        .map(|item| async move {
            let outcome = match item.bytes {
                Ok(bytes) => match Message::parse(bytes) {
                    Ok(message) => Ok(verify_message(resolver, &message, settings).await),
                    Err(err) => Err(format!("{err}")),
                },
                Err(err) => Err(format!("{err:#}")),
            };
            (item.source, outcome)
        })
        .buffered(BATCH_CONCURRENCY);
    while let Some((source, outcome)) = results.next().await {
        let mut line = source;
        match outcome {
            Ok(report) => {
                if report.dmarc.result != DmarcResult::Pass {
                    worst = worst.max(Exit::Findings);
                }
                if let (Value::Object(line), Value::Object(fields)) =
                    (&mut line, serde_json::to_value(&report)?)
                {
                    line.extend(fields);
                }
            }
            Err(err) => {
                worst = Exit::Error;
                line["error"] = Value::String(err);
            }
        }
        serde_json::to_writer(&mut *out, &line)?;
        writeln!(out)?;
    }
    Ok(worst)
}
