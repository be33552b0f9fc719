//! `inkan reports ingest|summary|errors`: DMARC aggregate and failure, TLS-RPT and ARF reports
//! into SQLite or PostgreSQL (`--db`), and what they say. The parsing and the store live in
//! `inkan-reports`; this module finds the files, runs the store on a blocking thread, looks up
//! PTR names under `--resolve`, and prints.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use inkan_dns::RecordType;
use inkan_reports::{DbUrl, Filter, Limits, Store, Summary};

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::{Format, write_json};

/// Arguments of `inkan reports`.
#[derive(Debug, Args)]
pub struct ReportsCommand {
    #[command(subcommand)]
    pub action: ReportsAction,
}

/// What to do with reports.
#[derive(Debug, Subcommand)]
pub enum ReportsAction {
    /// Store reports from files, directories (recursively), mbox files and Maildirs: DMARC
    /// aggregate (XML, gzip, zip), failure and ARF reports (mail), TLS-RPT (JSON). Already
    /// stored reports are counted as duplicates; inputs that fail to parse are kept with
    /// their error. Exit 0 when everything was stored or was a duplicate, 1 when something
    /// failed to parse, 2 on an operational error.
    Ingest(IngestArgs),
    /// Per domain: volume, DMARC and aligned pass rates, sources, dispositions, override
    /// reasons; TLS-RPT sessions; ARF complaints per day.
    Summary(SummaryArgs),
    /// Inputs that failed to parse, with their error.
    Errors(ErrorsArgs),
}

/// Where the store is.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// The store: `sqlite:PATH` or `postgres://USER:PASS@HOST/DB` [default: an SQLite file
    /// under the user's data directory].
    #[arg(long, value_name = "URL", env = "INKAN_DB")]
    pub db: Option<String>,
}

impl DbArgs {
    fn url(&self) -> anyhow::Result<DbUrl> {
        Ok(match &self.db {
            Some(url) => DbUrl::parse(url)?,
            None => DbUrl::default_location()?,
        })
    }
}

/// Arguments of `inkan reports ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or directories to read; `-` is standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Most bytes one gzip stream or zip entry may inflate to (compression bombs stop here).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_decompressed)]
    pub max_decompressed: u64,
}

/// Arguments of `inkan reports summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Only this domain.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// Reports beginning on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    pub since: Option<i64>,
    /// Reports beginning on or before this date (YYYY-MM-DD, the whole day; or RFC 3339).
    #[arg(long, value_name = "DATE", value_parser = parse_until)]
    pub until: Option<i64>,
    /// Look up PTR names of failing sources.
    #[arg(long)]
    pub resolve: bool,
    /// Sources listed per domain.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub top: i64,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Arguments of `inkan reports errors`.
#[derive(Debug, Args)]
pub struct ErrorsArgs {
    #[command(flatten)]
    pub db: DbArgs,
}

fn parse_since(s: &str) -> Result<i64, String> {
    inkan_reports::parse_date(s)
        .ok_or_else(|| format!("'{s}' is not a date (YYYY-MM-DD or RFC 3339)"))
}

fn parse_until(s: &str) -> Result<i64, String> {
    let start = parse_since(s)?;
    // A bare date means the whole of that day.
    Ok(if s.trim().len() == 10 {
        start + 86_400
    } else {
        start
    })
}

/// Runs blocking store work off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("store task")?
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

impl ReportsCommand {
    /// Runs the chosen action.
    pub async fn run(self, globals: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
        match self.action {
            ReportsAction::Ingest(args) => ingest(args, globals, out).await,
            ReportsAction::Summary(args) => summary(args, globals, out).await,
            ReportsAction::Errors(args) => errors(args, globals, out).await,
        }
    }
}

fn open(url: &DbUrl) -> anyhow::Result<Store> {
    Store::open(url).with_context(|| format!("opening the report store {url}"))
}

async fn ingest(
    args: IngestArgs,
    globals: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let url = args.db.url()?;
    let mut files = Vec::new();
    for path in &args.paths {
        if path.as_os_str() == "-" {
            // Read like any other file, through the name the system gives standard input.
            files.push(PathBuf::from("/dev/stdin"));
        } else {
            super::input::collect_files(path, globals.quiet, &mut files)?;
        }
    }
    let limits = Limits {
        max_decompressed: args.max_decompressed,
        ..Limits::default()
    };
    let progress = std::io::stderr().is_terminal() && !globals.quiet;
    let shown_url = url.to_string();
    let totals = blocking(move || {
        let count = files.len();
        // The store opens while the reading threads start on the first files.
        let totals = Store::open_and_ingest_files(&url, &files, &limits, &now, &mut |i| {
            if progress {
                eprint!("\r\x1b[2K[{}/{count}] {}", i + 1, files[i].display());
            }
        })
        .map_err(|(i, err)| {
            let context = match i {
                Some(i) => format!("ingesting '{}' into {url}", files[i].display()),
                None => format!("opening the report store {url}"),
            };
            anyhow::Error::new(err).context(context)
        })?;
        if progress {
            eprint!("\r\x1b[2K");
        }
        Ok(totals)
    })
    .await?;
    match globals.format {
        Format::Json | Format::Jsonl => write_json(
            out,
            &serde_json::json!({
                "database": shown_url,
                "files": totals.files,
                "reports": totals.reports,
                "records": totals.records,
                "duplicates": totals.duplicates,
                "warned": totals.warned,
                "errors": totals.errors,
                "unreadable": totals.unreadable,
                "kinds": totals.kinds,
            }),
        )?,
        _ => {
            if !globals.quiet {
                writeln!(
                    out,
                    "{} files: {} new reports ({} records), {} duplicates, {} errors",
                    totals.files,
                    totals.reports,
                    totals.records,
                    totals.duplicates,
                    totals.errors.len()
                )?;
                let k = totals.kinds;
                writeln!(
                    out,
                    "new: {} aggregate, {} failure, {} tls, {} arf",
                    k.aggregate, k.failure, k.tls, k.arf
                )?;
                if totals.warned > 0 {
                    writeln!(out, "{} reports stored with warnings", totals.warned)?;
                }
            }
            for gone in &totals.unreadable {
                writeln!(out, "unreadable: {}", gone.error)?;
            }
            for error in &totals.errors {
                if error.location.is_empty() {
                    writeln!(out, "error: {}: {}", error.path, error.error)?;
                } else {
                    writeln!(
                        out,
                        "error: {} [{}]: {}",
                        error.path, error.location, error.error
                    )?;
                }
            }
        }
    }
    // Inputs that could not be read are an operational error, though the rest was stored.
    Ok(if !totals.unreadable.is_empty() {
        Exit::Error
    } else if totals.errors.is_empty() {
        Exit::Pass
    } else {
        Exit::Findings
    })
}

async fn errors(
    args: ErrorsArgs,
    globals: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let url = args.db.url()?;
    let errors = blocking(move || Ok(open(&url)?.errors()?)).await?;
    match globals.format {
        Format::Json | Format::Jsonl => write_json(out, &serde_json::json!({ "errors": errors }))?,
        _ => {
            for e in &errors {
                let location = if e.location.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", e.location)
                };
                writeln!(out, "{}{}: {}", e.path, location, e.error)?;
            }
            if errors.is_empty() && !globals.quiet {
                writeln!(out, "no errors")?;
            }
        }
    }
    Ok(if errors.is_empty() {
        Exit::Pass
    } else {
        Exit::Findings
    })
}

/// The reverse-DNS name of an IP address (RFC 1035 section 3.5, RFC 3596 section 2.5).
fn reverse_name(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]))
        }
        std::net::IpAddr::V6(v6) => {
            let mut name = String::new();
            for byte in v6.octets().iter().rev() {
                name.push_str(&format!("{:x}.{:x}.", byte & 0xf, byte >> 4));
            }
            name.push_str("ip6.arpa");
            Some(name)
        }
    }
}

async fn resolve_ptrs(summary: &mut Summary, globals: &GlobalArgs) -> anyhow::Result<()> {
    let resolver = crate::resolver::build(globals)?;
    for domain in &mut summary.domains {
        let lookups = domain.failing_sources.iter().map(|source| {
            let resolver = resolver.clone();
            let name = reverse_name(&source.ip);
            async move {
                let name = name?;
                let answer = resolver.lookup(&name, RecordType::Ptr).await.ok()?;
                answer
                    .names()
                    .next()
                    .map(|n| n.trim_end_matches('.').to_owned())
            }
        });
        let names = futures::future::join_all(lookups).await;
        for (source, name) in domain.failing_sources.iter_mut().zip(names) {
            source.ptr = name;
        }
    }
    Ok(())
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

async fn summary(
    args: SummaryArgs,
    globals: &GlobalArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let url = args.db.url()?;
    let filter = Filter {
        domain: args.domain.clone(),
        since: args.since,
        until: args.until,
        top: args.top,
    };
    let mut summary = blocking(move || Ok(open(&url)?.summary(&filter)?)).await?;
    if args.resolve {
        resolve_ptrs(&mut summary, globals).await?;
    }
    match globals.format {
        Format::Json | Format::Jsonl => write_json(out, &summary)?,
        _ => print_summary(&summary, out)?,
    }
    Ok(Exit::Pass)
}

fn print_summary(summary: &Summary, out: &mut dyn Write) -> anyhow::Result<()> {
    if summary.domains.is_empty()
        && summary.tls.is_empty()
        && summary.complaints_by_dkim_domain.is_empty()
        && summary.failure_reports.is_empty()
    {
        writeln!(out, "no reports")?;
        return Ok(());
    }
    for d in &summary.domains {
        writeln!(
            out,
            "{}: {} messages in {} reports",
            d.domain, d.messages, d.reports
        )?;
        writeln!(
            out,
            "  DMARC pass {} ({})   SPF aligned {} ({})   DKIM aligned {} ({})",
            percent(d.dmarc_pass_rate),
            d.dmarc_pass,
            percent(d.spf_aligned_rate),
            d.spf_aligned_pass,
            percent(d.dkim_aligned_rate),
            d.dkim_aligned_pass
        )?;
        writeln!(
            out,
            "  {:<40} {:>10} {:>10} {:>10}",
            "top sources", "messages", "pass", "fail"
        )?;
        for s in &d.top_sources {
            writeln!(
                out,
                "  {:<40} {:>10} {:>10} {:>10}",
                s.ip, s.messages, s.pass, s.fail
            )?;
        }
        if !d.failing_sources.is_empty() {
            writeln!(out, "  {:<40} {:>10} ptr", "failing sources", "fail")?;
            for s in &d.failing_sources {
                writeln!(
                    out,
                    "  {:<40} {:>10} {}",
                    s.ip,
                    s.fail,
                    s.ptr.as_deref().unwrap_or("-")
                )?;
            }
        }
        let dispositions: Vec<String> = d
            .dispositions
            .iter()
            .map(|c| format!("{} {}", c.name, c.count))
            .collect();
        writeln!(out, "  dispositions: {}", dispositions.join(", "))?;
        for o in &d.overrides {
            match &o.comment {
                Some(comment) => writeln!(
                    out,
                    "  override {} ({} messages): {}",
                    o.kind, o.messages, comment
                )?,
                None => writeln!(out, "  override {} ({} messages)", o.kind, o.messages)?,
            }
        }
    }
    if !summary.tls.is_empty() {
        writeln!(out, "TLS-RPT")?;
        writeln!(
            out,
            "  {:<32} {:<16} {:>10} {:>10}",
            "policy domain", "policy", "success", "failure"
        )?;
        for t in &summary.tls {
            writeln!(
                out,
                "  {:<32} {:<16} {:>10} {:>10}",
                t.policy_domain, t.policy_type, t.successful, t.failed
            )?;
            for f in &t.failures {
                writeln!(out, "    {:<44} {:>21}", f.name, f.count)?;
            }
        }
    }
    if !summary.complaints_by_dkim_domain.is_empty() {
        writeln!(out, "ARF complaints per DKIM domain")?;
        for c in &summary.complaints_by_dkim_domain {
            writeln!(out, "  {}  {:<40} {:>8}", c.day, c.key, c.complaints)?;
        }
        writeln!(out, "ARF complaints per Feedback-ID")?;
        for c in &summary.complaints_by_feedback_id {
            writeln!(
                out,
                "  {}  {:<40} {:>8}",
                c.day,
                if c.key.is_empty() { "-" } else { &c.key },
                c.complaints
            )?;
        }
    }
    if !summary.failure_reports.is_empty() {
        writeln!(out, "DMARC failure reports")?;
        for f in &summary.failure_reports {
            writeln!(
                out,
                "  {:<40} {:<16} {:>8}",
                f.domain, f.auth_failure, f.reports
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.10").as_deref(),
            Some("10.2.0.192.in-addr.arpa")
        );
        assert_eq!(
            reverse_name("2001:db8::25").as_deref(),
            Some("5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa")
        );
        assert_eq!(reverse_name("nope"), None);
    }
}
