//! The text a person reads: one block per domain, the verdict first, then one line per check
//! with a mark, and the fix under anything that is not a pass.

use inkan_audit::{DomainReport, Status, Verdict};

/// How text is drawn.
#[derive(Clone, Copy, Debug)]
pub struct TextStyle {
    /// ANSI colours.
    pub color: bool,
    /// Only checks that are not pass or skip.
    pub quiet: bool,
    /// Evidence under each check.
    pub verbose: bool,
}

fn paint(style: TextStyle, code: &str, text: &str) -> String {
    if style.color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn mark(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Pass => ("✓", "32"),
        Status::Fail => ("✗", "31"),
        Status::Warn => ("!", "33"),
        Status::Unknown => ("?", "35"),
        Status::Skip => ("-", "2"),
    }
}

fn verdict_word(style: TextStyle, verdict: Verdict) -> String {
    let (word, code) = match verdict {
        Verdict::Pass => ("PASS", "1;32"),
        Verdict::Fail => ("FAIL", "1;31"),
        Verdict::Unknown => ("UNKNOWN", "1;35"),
    };
    paint(style, code, word)
}

/// Writes one domain's block.
pub fn write_report(
    out: &mut dyn std::io::Write,
    report: &DomainReport,
    profile: &str,
    style: TextStyle,
) -> std::io::Result<()> {
    let main = report.verdict(profile).unwrap_or(Verdict::Unknown);
    let others: Vec<String> = report
        .verdicts
        .iter()
        .filter(|(p, _)| p != profile)
        .map(|(p, v)| format!("{p} {}", v.as_str()))
        .collect();
    writeln!(
        out,
        "{}  {profile}: {}",
        paint(style, "1", &report.domain),
        verdict_word(style, main)
    )?;
    if !style.quiet {
        writeln!(out, "  {}", paint(style, "2", &others.join(" · ")))?;
    }
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for check in &report.checks {
        if style.quiet && matches!(check.status, Status::Pass | Status::Skip) {
            continue;
        }
        let (symbol, code) = mark(check.status);
        writeln!(
            out,
            "  {} {:<7} {:<width$}  {}",
            paint(style, code, symbol),
            check.status.as_str(),
            check.id,
            check.message
        )?;
        if let Some(fix) = &check.fix
            && check.status != Status::Pass
        {
            writeln!(out, "      {} {fix}", paint(style, "36", "fix:"))?;
        }
        if style.verbose && !check.evidence.is_null() {
            writeln!(
                out,
                "      {}",
                paint(style, "2", &check.evidence.to_string())
            )?;
        }
    }
    writeln!(out)
}
