//! The command line: global options and the subcommands.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::exit::Exit;
use crate::output::{ColorChoice, Format};

/// inkan: prove your mail is yours. SPF, DKIM, DMARC and ARC as receivers evaluate them, domain
/// audits against the Gmail, Yahoo, Outlook and Apple sender rules, and DMARC reports.
#[derive(Debug, Parser)]
#[command(
    name = "inkan",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub globals: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Ask this DNS server instead of the system resolver (IP or IP:PORT; repeatable).
    #[arg(long = "nameserver", value_name = "IP[:PORT]", value_parser = parse_nameserver, global = true)]
    pub nameservers: Vec<SocketAddr>,
    /// Answer DNS from this RFC 1035 master file only, with no network (repeatable). Names
    /// absent from every file are NXDOMAIN.
    #[arg(long = "zone", value_name = "FILE", global = true)]
    pub zones: Vec<PathBuf>,
    /// Seconds one DNS lookup may take, retries included; past it the answer is "timeout".
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0, global = true)]
    pub timeout: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub format: Format,
    /// Print less: only problems.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (repeat for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// When to use colour in text output (NO_COLOR is honoured under auto).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
}

/// Parses `IP` or `IP:PORT` (IPv6 with a port as `[IP]:PORT`); the port defaults to 53.
fn parse_nameserver(s: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("'{s}' is not an IP address or IP:PORT"))
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show exactly what inkan sees in DNS for a name: records and TTLs, or NXDOMAIN, NODATA,
    /// timeout or SERVFAIL.
    Dns(commands::dns::DnsCommand),
    /// Audit domains against the Gmail, Yahoo, Outlook.com and Apple sender rules: SPF, DKIM,
    /// DMARC, MX, reverse DNS, MTA-STS, TLS-RPT and BIMI, from one domain to a million.
    Audit(commands::audit::AuditCommand),
    /// SPF: check a client as a receiver would, or analyze a domain's include tree.
    Spf(commands::spf::SpfCommand),
    /// Make a DKIM key pair: the private key file and the TXT record to publish.
    Keygen(commands::keygen::KeygenCommand),
    /// Add a DKIM-Signature to a message (printed with the new field first).
    Sign(commands::sign::SignCommand),
    /// DKIM: verify every signature on a message.
    Dkim(commands::dkim::DkimCommand),
    /// Verify a message as a receiver does: SPF (with --ip), every DKIM signature, DMARC and
    /// ARC, printed as an Authentication-Results header (or JSON), with the bulk-sender message
    /// rules. Exit 0 when DMARC passes, 1 otherwise, 2 on errors.
    Verify(commands::verify::VerifyCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(commands::completions::CompletionsCommand),
    /// Print the manual page (roff) to standard output.
    Man(commands::man::ManCommand),
    /// DMARC aggregate and failure, TLS-RPT and ARF reports: ingest into SQLite or
    /// PostgreSQL, summarise, list inputs that failed.
    Reports(commands::reports::ReportsCommand),
}

impl Cli {
    /// Runs the chosen command, writing its output to `out`.
    pub async fn run(self, out: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
        let globals = &self.globals;
        match self.command {
            Command::Dns(cmd) => cmd.run(globals, out).await,
            Command::Audit(cmd) => cmd.run(globals, out).await,
            Command::Spf(cmd) => cmd.run(globals, out).await,
            Command::Keygen(cmd) => cmd.run(globals, out).await,
            Command::Sign(cmd) => cmd.run(globals, out).await,
            Command::Dkim(cmd) => cmd.run(globals, out).await,
            Command::Verify(cmd) => cmd.run(globals, out).await,
            Command::Completions(cmd) => cmd.run(globals, out),
            Command::Man(cmd) => cmd.run(globals, out),
            Command::Reports(cmd) => cmd.run(globals, out).await,
        }
    }
}
