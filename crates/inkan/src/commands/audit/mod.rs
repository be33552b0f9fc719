//! `inkan audit DOMAIN... | --domains FILE|-`: audits domains against the providers' sender
//! rules and prints a report per domain (text, JSON, JSON Lines, CSV) or one HTML report for the
//! fleet. Glue only: the checks, verdicts and aggregates live in `inkan-audit`.

mod html;
mod mta_sts;
mod text;

use std::io::{BufRead, IsTerminal};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use inkan_audit::{
    AuditOptions, Auditor, Catalogue, DomainInput, DomainReport, Status, Summary, Verdict,
};
use inkan_dns::{CacheConfig, Resolver};
use tokio::sync::mpsc;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::Format;

/// Answers kept by the shared cache: enough for the shared records of a fleet and the domains
/// in flight, small enough that memory stays flat.
const CACHE_ENTRIES: usize = 50_000;

/// Arguments of `inkan audit`.
#[derive(Debug, Args)]
pub struct AuditCommand {
    /// Domains to audit (or use --domains).
    #[arg(value_name = "DOMAIN")]
    pub domains: Vec<String>,
    /// Read domains from this file ('-' for standard input): one per line, '#' comments, or CSV
    /// 'domain,selectors' with selectors separated by ';' or spaces.
    #[arg(long = "domains", value_name = "FILE|-")]
    pub domain_file: Option<PathBuf>,
    /// An address the domains' mail is sent from: checked for SPF authorization and reverse DNS
    /// (repeatable).
    #[arg(long = "sending-ip", value_name = "IP")]
    pub sending_ips: Vec<IpAddr>,
    /// A DKIM selector to check on every domain (repeatable); without one, common selectors are
    /// tried.
    #[arg(long = "selector", value_name = "SELECTOR", value_parser = parse_selector)]
    pub selectors: Vec<String>,
    /// The rules to judge against: gmail, gmail-bulk, yahoo, yahoo-bulk, outlook-bulk,
    /// apple-bulk or all-bulk.
    #[arg(long, default_value = "all-bulk", value_parser = parse_profile)]
    pub profile: String,
    /// How many domains are audited at once.
    #[arg(long, default_value_t = 256, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub concurrency: u32,
    /// Milliseconds to wait before the one retry of a lookup that timed out or got SERVFAIL.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    pub retry_backoff: u64,
    /// Print the rule catalogue and the profiles instead of auditing.
    #[arg(long)]
    pub list_rules: bool,
    #[command(flatten)]
    pub mta_sts: mta_sts::MtaStsArgs,
}

fn parse_selector(s: &str) -> Result<String, String> {
    inkan_audit::parse_selector(s).map_err(|e| e.to_string())
}

fn parse_profile(s: &str) -> Result<String, String> {
    let catalogue = Catalogue::builtin();
    if catalogue.profile(s).is_some() {
        Ok(s.to_owned())
    } else {
        let known: Vec<&str> = catalogue.profiles.iter().map(|p| p.id.as_str()).collect();
        Err(format!(
            "unknown profile '{s}' (expected one of {})",
            known.join(", ")
        ))
    }
}

/// Where domains come from.
enum Source {
    Args(Vec<String>),
    File(PathBuf),
    Stdin,
}

/// Whether domains came as arguments or as a list.
enum SourceKind {
    Args,
    List,
}

/// Counts of input lines, shared with the reading thread.
#[derive(Default)]
struct InputCounts {
    bad: AtomicU64,
}

impl AuditCommand {
    /// Audits the domains and prints the reports.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        let catalogue = Catalogue::builtin();
        if self.list_rules {
            return list_rules(catalogue, globals.format, out);
        }
        let source = match (&self.domain_file, self.domains.is_empty()) {
            (Some(_), false) => {
                anyhow::bail!("give domains as arguments or with --domains, not both")
            }
            (Some(p), true) if p.as_os_str() == "-" => Source::Stdin,
            (Some(p), true) => Source::File(p.clone()),
            (None, false) => Source::Args(self.domains.clone()),
            (None, true) => {
                anyhow::bail!("no domain to audit: give DOMAIN arguments or --domains FILE|-")
            }
        };
        let total = match &source {
            Source::File(p) => Some(count_lines(p)?),
            Source::Args(d) => Some(d.len() as u64),
            Source::Stdin => None,
        };

        // One cache for the whole fleet: provider SPF includes, report destinations and the
        // sending IPs' reverse names are asked once, not once per domain.
        let cache = CacheConfig::default().with_max_entries(CACHE_ENTRIES);
        let resolver: Arc<dyn Resolver> = crate::resolver::build_with_cache(globals, cache)?;
        let options = AuditOptions {
            sending_ips: self.sending_ips.clone(),
            selectors: self.selectors.clone(),
            retry_backoff: Duration::from_millis(self.retry_backoff),
            mta_sts: self.mta_sts.fetcher()?,
            ..AuditOptions::default()
        };
        let auditor = Arc::new(Auditor::new(resolver, options));

        let source_kind = if matches!(source, Source::Args(_)) {
            SourceKind::Args
        } else {
            SourceKind::List
        };
        let counts = Arc::new(InputCounts::default());
        let (input_tx, input_rx) = mpsc::channel::<DomainInput>(4096);
        let reader = spawn_reader(source, input_tx, Arc::clone(&counts));
        let (report_tx, mut report_rx) = mpsc::channel::<(u64, DomainReport)>(1024);
        let concurrency = self.concurrency as usize;
        let runner = tokio::spawn(inkan_audit::run(
            Arc::clone(&auditor),
            input_rx,
            concurrency,
            report_tx,
        ));

        let started = Instant::now();
        let progress = Progress::new(total, globals.quiet);
        let single = matches!(&source_kind, SourceKind::Args) && total == Some(1);
        let mut printer = Printer::new(globals, &self.profile, single, out);
        let mut summary = Summary::new(catalogue);
        let mut write_error = None;
        // Prints until the first write error, which is kept; false once there is one.
        let mut print = |report: DomainReport| {
            if write_error.is_none()
                && let Err(e) = printer.report(&report)
            {
                write_error = Some(e);
            }
            write_error.is_none()
        };
        // Reports come in completion order; all but JSON Lines (written as each domain finishes)
        // are printed in input order, those that finish early held until the ones before them.
        let mut order = InputOrder::new(globals.format != Format::Jsonl);
        while let Some((at, report)) = report_rx.recv().await {
            summary.add(&report, catalogue);
            progress.tick(report.verdict(&self.profile) == Some(Verdict::Fail));
            if !order.ready(at, report).into_iter().all(&mut print) {
                report_rx.close();
            }
        }
        // A report that never came (its audit stopped) holds back none of the others.
        order.rest().for_each(|report| {
            print(report);
        });
        progress.finish();
        runner.await.context("the audit runner stopped")?;
        let reader_result = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the domain reader stopped"))?;
        if let Some(e) = write_error {
            return Err(e);
        }
        reader_result?;
        printer.finish(&summary, catalogue)?;

        let elapsed = started.elapsed();
        eprintln!(
            "{}",
            summary_line(
                &summary,
                &self.profile,
                counts.bad.load(Ordering::Relaxed),
                elapsed
            )
        );
        if summary.domains == 0 {
            anyhow::bail!("no domain was audited");
        }
        let [pass, _, _] = summary.profile_counts(&self.profile);
        Ok(if pass == summary.domains {
            Exit::Pass
        } else {
            Exit::Findings
        })
    }
}

/// Puts reports that arrive in completion order back in input order (or passes them on as they
/// come when `keep` is off).
struct InputOrder {
    keep: bool,
    next: u64,
    waiting: std::collections::BTreeMap<u64, DomainReport>,
}

impl InputOrder {
    fn new(keep: bool) -> InputOrder {
        InputOrder {
            keep,
            next: 0,
            waiting: std::collections::BTreeMap::new(),
        }
    }

    /// The report of input `at`, and those after it that were waiting for it, once every input
    /// before them has been passed on.
    fn ready(&mut self, at: u64, report: DomainReport) -> Vec<DomainReport> {
        if !self.keep {
            return vec![report];
        }
        self.waiting.insert(at, report);
        let mut out = Vec::new();
        while let Some(report) = self.waiting.remove(&self.next) {
            out.push(report);
            self.next += 1;
        }
        out
    }

    /// What is still waiting, in input order.
    fn rest(self) -> impl Iterator<Item = DomainReport> {
        self.waiting.into_values()
    }
}

/// Counts the lines of a file, for the progress bar's total.
fn count_lines(path: &PathBuf) -> anyhow::Result<u64> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("opening domain list {}", path.display()))?;
    let mut reader = std::io::BufReader::new(file);
    let mut n = 0u64;
    let mut buf = Vec::new();
    while reader
        .read_until(b'\n', &mut buf)
        .with_context(|| format!("reading domain list {}", path.display()))?
        > 0
    {
        let line = buf.trim_ascii();
        if !line.is_empty() && !line.starts_with(b"#") {
            n += 1;
        }
        buf.clear();
    }
    Ok(n)
}

/// Reads and parses domains on a thread of its own (files and stdin block), reporting bad lines
/// on stderr by number, and feeds the good ones to the runner through a bounded channel.
fn spawn_reader(
    source: Source,
    tx: mpsc::Sender<DomainInput>,
    counts: Arc<InputCounts>,
) -> std::thread::JoinHandle<anyhow::Result<()>> {
    std::thread::spawn(move || {
        let feed = |line_no: usize, line: &str, what: &str| -> bool {
            match inkan_audit::parse_line(line) {
                Ok(Some(input)) => tx.blocking_send(input).is_ok(),
                Ok(None) => true,
                Err(e) => {
                    counts.bad.fetch_add(1, Ordering::Relaxed);
                    eprintln!("inkan: {what} line {line_no}: {e}; skipped");
                    true
                }
            }
        };
        let lines: Box<dyn BufRead> = match source {
            Source::Args(domains) => {
                for (i, d) in domains.iter().enumerate() {
                    if !feed(i + 1, d, "argument") {
                        break;
                    }
                }
                return Ok(());
            }
            Source::Stdin => Box::new(std::io::BufReader::new(std::io::stdin())),
            Source::File(path) => Box::new(std::io::BufReader::new(
                std::fs::File::open(&path)
                    .with_context(|| format!("opening domain list {}", path.display()))?,
            )),
        };
        let mut buf = Vec::new();
        let mut reader = lines;
        let mut line_no = 0;
        loop {
            buf.clear();
            if reader
                .read_until(b'\n', &mut buf)
                .context("reading the domain list")?
                == 0
            {
                break;
            }
            line_no += 1;
            let line = String::from_utf8_lossy(&buf);
            if !feed(line_no, &line, "input") {
                break;
            }
        }
        Ok(())
    })
}

/// A progress bar on stderr, only when stderr is a terminal.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    failures: AtomicU64,
}

impl Progress {
    fn new(total: Option<u64>, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress {
                bar: None,
                failures: AtomicU64::new(0),
            };
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n).with_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} domains  {per_sec}  ETA {eta}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            ),
            None => indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} domains  {per_sec}  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            ),
        };
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        Progress {
            bar: Some(bar),
            failures: AtomicU64::new(0),
        }
    }

    fn tick(&self, failed: bool) {
        if let Some(bar) = &self.bar {
            if failed {
                let n = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
                bar.set_message(format!("{n} failing"));
            }
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One line for stderr: domains, verdict counts per profile, bad lines, time.
fn summary_line(summary: &Summary, profile: &str, bad_lines: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        summary.domains as f64 / secs
    } else {
        0.0
    };
    let mut line = format!(
        "inkan audit: {} domains in {secs:.1}s ({rate:.0}/s)",
        summary.domains
    );
    let mut profiles: Vec<&(String, [u64; 3])> = summary.verdicts.iter().collect();
    profiles.sort_by_key(|(p, _)| p != profile);
    for (p, [pass, fail, unknown]) in profiles {
        line.push_str(&format!(
            "; {p}: {pass} pass, {fail} fail, {unknown} unknown"
        ));
    }
    if bad_lines > 0 {
        line.push_str(&format!("; {bad_lines} bad input line(s) skipped"));
    }
    line
}

/// Writes reports in the chosen format as they arrive.
struct Printer<'a> {
    format: Format,
    out: &'a mut dyn std::io::Write,
    text: text::TextStyle,
    profile: String,
    written: u64,
    /// One domain was asked for: JSON is that domain's object, not an array.
    single: bool,
    /// A JSON Lines record is serialized here first and written whole: serde_json's many small
    /// writes would otherwise each go through stdout's newline search.
    line: Vec<u8>,
}

impl<'a> Printer<'a> {
    fn new(
        globals: &GlobalArgs,
        profile: &str,
        single: bool,
        out: &'a mut dyn std::io::Write,
    ) -> Printer<'a> {
        let color = globals.color.enabled(std::io::stdout().is_terminal());
        Printer {
            format: globals.format,
            out,
            text: text::TextStyle {
                color,
                quiet: globals.quiet,
                verbose: globals.verbose > 0,
            },
            profile: profile.to_owned(),
            written: 0,
            single,
            line: Vec::new(),
        }
    }

    fn report(&mut self, report: &DomainReport) -> anyhow::Result<()> {
        match self.format {
            Format::Text => text::write_report(self.out, report, &self.profile, self.text)?,
            Format::Jsonl => {
                self.line.clear();
                serde_json::to_writer(&mut self.line, report)?;
                self.line.push(b'\n');
                self.out.write_all(&self.line)?;
            }
            Format::Json if self.single => crate::output::write_json(self.out, report)?,
            Format::Json => {
                // Several domains: one array, written element by element as they come.
                self.out
                    .write_all(if self.written == 0 { b"[\n" } else { b",\n" })?;
                serde_json::to_writer_pretty(&mut *self.out, report)?;
            }
            Format::Csv => {
                if self.written == 0 {
                    let catalogue = Catalogue::builtin();
                    let profiles: Vec<&str> =
                        catalogue.profiles.iter().map(|p| p.id.as_str()).collect();
                    writeln!(
                        self.out,
                        "domain,{},fail,warn,unknown,failed_checks",
                        profiles.join(",")
                    )?;
                }
                let verdicts: Vec<&str> = report.verdicts.iter().map(|(_, v)| v.as_str()).collect();
                let failed: Vec<&str> = report
                    .checks
                    .iter()
                    .filter(|c| c.status == Status::Fail)
                    .map(|c| c.id)
                    .collect();
                writeln!(
                    self.out,
                    "{},{},{},{},{},{}",
                    report.domain,
                    verdicts.join(","),
                    report.count(Status::Fail),
                    report.count(Status::Warn),
                    report.count(Status::Unknown),
                    failed.join(" ")
                )?;
            }
            Format::Html => {}
        }
        self.written += 1;
        Ok(())
    }

    fn finish(&mut self, summary: &Summary, catalogue: &Catalogue) -> anyhow::Result<()> {
        match self.format {
            Format::Json if self.single => {}
            Format::Json if self.written > 0 => writeln!(self.out, "\n]")?,
            Format::Json => writeln!(self.out, "[]")?,
            Format::Html => html::write(self.out, summary, catalogue, &self.profile)?,
            _ => {}
        }
        Ok(())
    }
}

/// `--list-rules`: the catalogue as text or JSON.
fn list_rules(
    catalogue: &Catalogue,
    format: Format,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<Exit> {
    match format {
        Format::Json | Format::Jsonl => crate::output::write_json(out, catalogue)?,
        _ => {
            for provider in &catalogue.providers {
                writeln!(
                    out,
                    "{} — {}\n  bulk: {}",
                    provider.name, provider.source, provider.bulk_threshold
                )?;
                for rule in &provider.rules {
                    let state = match &rule.removed {
                        Some(date) => format!("removed {date}"),
                        None => format!("since {}", rule.added),
                    };
                    writeln!(
                        out,
                        "  {:<34} {:<4} {:<10} {state}",
                        rule.id,
                        format!("{:?}", rule.scope).to_lowercase(),
                        format!("{:?}", rule.evidence).to_lowercase()
                    )?;
                    writeln!(out, "      {}", rule.summary)?;
                    for change in &rule.history {
                        writeln!(out, "      {}: {}", change.date, change.change)?;
                    }
                }
                writeln!(out)?;
            }
            writeln!(out, "Profiles:")?;
            for p in &catalogue.profiles {
                writeln!(out, "  {:<13} {}", p.id, p.summary)?;
            }
        }
    }
    Ok(Exit::Pass)
}
