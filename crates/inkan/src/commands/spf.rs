//! `inkan spf check` (the RFC 7208 verdict for one client, HELO and MAIL FROM) and `inkan spf
//! analyze` (a domain's whole include tree with costs, findings and per-IP answers).

use std::fmt::Write as _;
use std::io::Write;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use inkan_auth::spf::{
    AnalyzedNode, Identity, Severity, SpfAnalysis, SpfOutput, SpfParams, SpfResult, TraceStep,
    analyze, check_host,
};
use serde::Serialize;

use crate::cli::GlobalArgs;
use crate::exit::Exit;
use crate::output::Format;

/// Arguments of `inkan spf`.
#[derive(Debug, Args)]
pub struct SpfCommand {
    #[command(subcommand)]
    pub action: SpfAction,
}

/// The SPF subcommands.
#[derive(Debug, Subcommand)]
pub enum SpfAction {
    /// Evaluate SPF as a receiver does (RFC 7208 check_host): exit 0 on pass, 1 otherwise.
    Check(CheckArgs),
    /// Diagnose a domain's SPF record and everything it includes: lookup costs per include,
    /// void lookups, findings, a flatten preview and whether given IPs are authorized. Exit 0
    /// when no finding is above info, 1 otherwise.
    Analyze(AnalyzeArgs),
}

/// Arguments of `inkan spf check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The SMTP client's IP address.
    #[arg(long)]
    pub ip: IpAddr,
    /// The HELO/EHLO name the client gave (defaults to the sender's domain).
    #[arg(long)]
    pub helo: Option<String>,
    /// The MAIL FROM address; empty or missing means postmaster@HELO.
    #[arg(long)]
    pub sender: Option<String>,
    /// The receiving host's name, for %{r} in explanations.
    #[arg(long, value_name = "HOST")]
    pub receiver: Option<String>,
}

/// Arguments of `inkan spf analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The domain whose SPF record to analyze.
    pub domain: String,
    /// An outbound IP to check (repeatable): is it authorized, and through which path?
    #[arg(long = "ip", value_name = "IP")]
    pub ips: Vec<IpAddr>,
}

impl SpfCommand {
    /// Runs the chosen subcommand.
    pub async fn run(self, globals: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
        match self.action {
            SpfAction::Check(args) => args.run(globals, out).await,
            SpfAction::Analyze(args) => args.run(globals, out).await,
        }
    }
}

/// `inkan spf check --format json`: the library output plus the identity and inputs.
#[derive(Serialize)]
struct CheckReport<'a> {
    identity: Identity,
    ip: IpAddr,
    helo: &'a str,
    #[serde(flatten)]
    output: &'a SpfOutput<'a>,
}

impl CheckArgs {
    async fn run(self, globals: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
        let sender = self.sender.unwrap_or_default();
        let helo = match self.helo {
            Some(h) => h,
            None => match sender.rsplit_once('@') {
                Some((_, domain)) if !domain.is_empty() => domain.to_owned(),
                _ => anyhow::bail!("give --helo, or a --sender with a domain"),
            },
        };
        let resolver = crate::resolver::build(globals)?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let params = SpfParams {
            ip: self.ip,
            helo: &helo,
            sender: &sender,
            receiver: self.receiver.as_deref().unwrap_or(""),
            now,
            trace: true,
        };
        let output = check_host(&*resolver, &params).await;
        let identity = if sender.is_empty() {
            Identity::Helo
        } else {
            Identity::MailFrom
        };
        match globals.format {
            Format::Json | Format::Jsonl => {
                let report = CheckReport {
                    identity,
                    ip: self.ip,
                    helo: &helo,
                    output: &output,
                };
                write_json(out, &report, globals.format == Format::Jsonl)?;
            }
            Format::Text | Format::Csv | Format::Html => {
                write_check_text(out, &output, identity, self.ip, globals)?;
            }
        }
        Ok(if output.result == SpfResult::Pass {
            Exit::Pass
        } else {
            Exit::Findings
        })
    }
}

/// Writes JSON (one line with `compact`) through an in-memory buffer, so a closed pipe shows up
/// as the `io::Error` the binary treats as a normal end.
fn write_json(out: &mut dyn Write, value: &impl Serialize, compact: bool) -> anyhow::Result<()> {
    let mut bytes = if compact {
        serde_json::to_vec(value)?
    } else {
        serde_json::to_vec_pretty(value)?
    };
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    Ok(())
}

fn write_check_text(
    out: &mut dyn Write,
    o: &SpfOutput<'_>,
    identity: Identity,
    ip: IpAddr,
    globals: &GlobalArgs,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "spf={} for {ip} as {} {} (sender {})",
        o.result,
        identity.as_str(),
        o.domain,
        o.sender
    )?;
    if globals.quiet {
        return Ok(());
    }
    match (&o.mechanism, &o.mechanism_domain) {
        (Some(m), Some(d)) => writeln!(out, "  matched: {m} in {d}")?,
        _ => writeln!(out, "  reason: {}", o.reason)?,
    }
    if let Some(e) = &o.explanation {
        writeln!(out, "  explanation: {e}")?;
    }
    writeln!(
        out,
        "  DNS lookups: {} of 10, void lookups: {} of 2",
        o.dns_lookups, o.void_lookups
    )?;
    if globals.verbose > 0 {
        writeln!(out, "  trace:")?;
        let mut depth = 0usize;
        for step in &o.trace {
            let pad = "  ".repeat(depth + 2);
            match step {
                TraceStep::CheckHost { domain, via } => {
                    writeln!(out, "{pad}check_host {domain} ({via})")?;
                    depth += 1;
                }
                TraceStep::Record { record, .. } => writeln!(out, "{pad}record: {record}")?,
                TraceStep::Lookup {
                    name,
                    rtype,
                    answer,
                } => writeln!(out, "{pad}lookup {name} {rtype}: {answer}")?,
                TraceStep::Term { term, matched, .. } => writeln!(
                    out,
                    "{pad}{term}: {}",
                    if *matched { "match" } else { "no match" }
                )?,
                TraceStep::Result {
                    domain,
                    result,
                    reason,
                } => {
                    depth = depth.saturating_sub(1);
                    let pad = "  ".repeat(depth + 2);
                    writeln!(out, "{pad}=> {result} for {domain} ({reason})")?;
                }
            }
        }
    }
    Ok(())
}

impl AnalyzeArgs {
    async fn run(self, globals: &GlobalArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
        let resolver = crate::resolver::build(globals)?;
        let analysis = analyze(&*resolver, &self.domain, &self.ips).await;
        match globals.format {
            Format::Json | Format::Jsonl => {
                write_json(out, &analysis, globals.format == Format::Jsonl)?
            }
            Format::Text | Format::Csv | Format::Html => {
                write_analysis_text(out, &analysis, globals)?
            }
        }
        Ok(match analysis.worst() {
            Some(Severity::Warning | Severity::Error) => Exit::Findings,
            Some(Severity::Info) | None => Exit::Pass,
        })
    }
}

fn write_analysis_text(
    out: &mut dyn Write,
    a: &SpfAnalysis,
    globals: &GlobalArgs,
) -> anyhow::Result<()> {
    let over = |n: u32, limit: u32| if n > limit { " (over the limit)" } else { "" };
    writeln!(
        out,
        "{}: {} DNS lookups of 10{}, {} void lookups of 2{}",
        a.domain,
        a.lookups_total,
        over(a.lookups_total, 10),
        a.void_lookups_total,
        over(a.void_lookups_total, 2)
    )?;
    if !globals.quiet {
        writeln!(out)?;
        let mut text = String::new();
        tree_text(&a.tree, 0, &mut text);
        out.write_all(text.as_bytes())?;
    }
    if !a.findings.is_empty() {
        writeln!(out, "\nfindings:")?;
        for f in &a.findings {
            if globals.quiet && f.severity == Severity::Info {
                continue;
            }
            writeln!(
                out,
                "  {:<7} {:<26} {}",
                f.severity.as_str(),
                f.id,
                f.message
            )?;
        }
    }
    for ip in &a.ips {
        let how = if ip.path.is_empty() {
            "not listed anywhere in the tree".to_owned()
        } else {
            ip.path.join(" → ")
        };
        writeln!(
            out,
            "\n{}: {} ({}), {}",
            ip.ip,
            ip.result,
            if ip.authorized {
                "authorized"
            } else {
                "not authorized"
            },
            how
        )?;
        if ip.result != ip.result_without_limits {
            writeln!(
                out,
                "  without the limits it would be {}; {}",
                ip.result_without_limits, ip.reason
            )?;
        }
    }
    if !globals.quiet {
        let f = &a.flatten;
        writeln!(
            out,
            "\nflatten preview (information, not advice): {} networks, {} lookups still needed, {} bytes",
            f.networks.len(),
            f.lookups_needed,
            f.record_bytes
        )?;
        if globals.verbose > 0 {
            for n in &f.networks {
                writeln!(out, "  {}", n.term())?;
            }
            for t in &f.unflattenable {
                writeln!(out, "  {t} (cannot be flattened)")?;
            }
        }
    }
    Ok(())
}

/// The tree as indented text: each record with its own and subtree costs, each term with its
/// cost, includes nested under the term that pulls them in.
fn tree_text(node: &AnalyzedNode, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    let _ = write!(
        out,
        "{pad}{} [{}] lookups: own {}, subtree {}; void: {}",
        node.domain, node.via, node.own_lookups, node.subtree_lookups, node.subtree_void_lookups
    );
    if let Some(e) = &node.error {
        let _ = write!(out, " — {e}");
    }
    out.push('\n');
    for t in &node.terms {
        let mut cost = match (t.lookups, t.subtree_lookups) {
            (0, 0) => String::new(),
            (own, sub) if own == sub => format!("  ({own} lookup)"),
            (own, sub) => format!("  ({own} + {} = {sub} lookups)", sub - own),
        };
        if t.void {
            cost.push_str("  [void]");
        }
        let nets = match (t.child.is_none(), t.networks.as_slice()) {
            (true, [_, ..]) if !t.term.contains("ip4:") && !t.term.contains("ip6:") => {
                let shown: Vec<String> =
                    t.networks.iter().take(4).map(ToString::to_string).collect();
                let more = t.networks.len().saturating_sub(4);
                let more = if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                };
                format!("  → {}{more}", shown.join(", "))
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "{pad}  {}{cost}{nets}", t.term);
        if let Some(child) = &t.child {
            tree_text(child, depth + 2, out);
        }
    }
}
