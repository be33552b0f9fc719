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
                    meta.begin = value::integer(child.child_text("begin"), "begin", warnings);
                    meta.end = value::integer(child.child_text("end"), "end", warnings);
                }
                "error" => meta.errors.push(child.text.clone()),
                "generator" => meta.generator = Some(child.text.clone()),
                _ => child.flatten_into("report_metadata", &mut meta.extra),
            }
        }
        meta
    }
}
