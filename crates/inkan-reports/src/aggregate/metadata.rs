//! `<report_metadata>`: who sent the report, its id and the period it covers (RFC 9990
//! section 3.1 and appendix A; RFC 7489 appendix C).

use serde::Serialize;

use super::value;
use super::xml::Node;
use crate::warnings::Warnings;

/// The reporter and the period.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReportMetadata {
    /// `<org_name>`: the reporting organisation.
    pub org_name: String,
    /// `<email>`: where to write to it.
    pub email: Option<String>,
    /// `<extra_contact_info>`.
    pub extra_contact_info: Option<String>,
    /// `<report_id>`: unique per reporter.
    pub report_id: String,
    /// `<date_range><begin>`, seconds since the epoch.
    pub begin: Option<i64>,
    /// `<date_range><end>`, seconds since the epoch.
    pub end: Option<i64>,
    /// `<error>` elements: problems the reporter had.
    pub errors: Vec<String>,
    /// `<generator>` (RFC 9990): the software that wrote the report.
    pub generator: Option<String>,
    /// Elements this schema does not know, as `path = value`.
    pub extra: Vec<(String, String)>,
}

impl ReportMetadata {
    pub(crate) fn from_node(node: &Node, warnings: &mut Warnings) -> ReportMetadata {
        let mut meta = ReportMetadata::default();
        for child in &node.children {
            match child.name.as_str() {
                "org_name" => meta.org_name = child.text.clone(),
                "email" => meta.email = Some(child.text.clone()),
                "extra_contact_info" => meta.extra_contact_info = Some(child.text.clone()),
                "report_id" => meta.report_id = child.text.clone(),
                "date_range" => {
                    meta.begin = epoch_seconds(child.child_text("begin"), "begin", warnings);
                    meta.end = epoch_seconds(child.child_text("end"), "end", warnings);
                }
                "error" => meta.errors.push(child.text.clone()),
                "generator" => meta.generator = Some(child.text.clone()),
                _ => child.flatten_into("report_metadata", &mut meta.extra),
            }
        }
        meta
    }
}

/// Values from here on are taken for milliseconds: as seconds they would be past the year 5000.
const MILLISECONDS_FROM: i64 = 100_000_000_000;

/// `<begin>` or `<end>`: seconds since the epoch (RFC 7489 appendix C), also as reporters write
/// them when they stray from it, each with a warning: in milliseconds, which are divided by
/// 1,000, or as an RFC 3339 date (`2026-11-27T00:00:00Z`, or a bare `2026-11-27`, midnight UTC).
fn epoch_seconds(text: Option<&str>, element: &str, warnings: &mut Warnings) -> Option<i64> {
    let written = text?.trim();
    if written.contains(['-', ':']) && !written.starts_with('-') {
        let full = if written.len() == 10 {
            format!("{written}T00:00:00Z")
        } else {
            written.to_owned()
        };
        if let Some(date) = mail_parser::DateTime::parse_rfc3339(&full) {
            warnings.add(format!(
                "<{element}> '{written}' is a date, not seconds since the epoch; read as that date"
            ));
            return Some(date.to_timestamp());
        }
    }
    let seconds = value::integer(Some(written), element, warnings)?;
    if seconds >= MILLISECONDS_FROM {
        warnings.add(format!(
            "<{element}> {seconds} is in milliseconds, not seconds; divided by 1000"
        ));
        return Some(seconds / 1000);
    }
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn begin_and_end_in_the_forms_reporters_write() {
        let mut warnings = Warnings::default();
        let at = 1_795_737_600; // 2026-11-27 00:00:00 UTC
        for (written, read) in [
            ("1795737600", Some(at)),
            (" 1795737600 ", Some(at)),
            ("1795737600123", Some(at)),
            ("2026-11-27T00:00:00Z", Some(at)),
            ("2026-11-27T01:00:00+01:00", Some(at)),
            ("2026-11-27", Some(at)),
            ("yesterday", None),
        ] {
            assert_eq!(
                epoch_seconds(Some(written), "begin", &mut warnings),
                read,
                "{written}"
            );
        }
        for said in [
            "<begin> 1795737600123 is in milliseconds, not seconds; divided by 1000",
            "<begin> '2026-11-27' is a date, not seconds since the epoch; read as that date",
        ] {
            assert!(warnings.contains(said), "{said}: {warnings:?}");
        }
    }
}
