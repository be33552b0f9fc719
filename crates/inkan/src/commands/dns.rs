//! `inkan dns NAME [TYPE]`: what inkan sees in DNS.

use clap::Args;
use inkan_dns::RecordType;

use crate::cli::GlobalArgs;
use crate::exit::Exit;

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
    /// Looks the name up and prints what came back.
    pub async fn run(
        self,
        globals: &GlobalArgs,
        out: &mut dyn std::io::Write,
    ) -> anyhow::Result<Exit> {
        let resolver = crate::resolver::build(globals)?;
        let answer = resolver.lookup(&self.name, self.rtype).await?;
        for record in answer.records() {
            writeln!(
                out,
                "{}.\t{}\t{}\t{}",
                record.name,
                record.ttl,
                record.data.record_type(),
                record.data
            )?;
        }
        Ok(if answer.is_empty() {
            Exit::Findings
        } else {
            Exit::Pass
        })
    }
}
