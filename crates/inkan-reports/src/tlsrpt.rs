//! SMTP TLS reports (RFC 8460 section 4): JSON with the reporter, the period, and per policy
//! (MTA-STS, DANE TLSA, or none found) the successful and failed session counts and the
//! failure details. Unknown members are kept; dates are RFC 3339 (section 4.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::warnings::Warnings;

/// `date-range`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct DateRange {
    /// `start-datetime`, RFC 3339.
    pub start_datetime: String,
    /// `end-datetime`, RFC 3339.
    pub end_datetime: String,
}

/// `policy` of one policy entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct Policy {
    /// `policy-type`: sts, tlsa, no-policy-found.
    pub policy_type: String,
    /// `policy-string`: the policy's lines.
    pub policy_string: Vec<String>,
    /// `policy-domain`.
    pub policy_domain: String,
    /// `mx-host`: an MX pattern (sts) or host.
    #[serde(deserialize_with = "one_or_many")]
    pub mx_host: Vec<String>,
}

/// `summary` of one policy entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct Summary {
    /// `total-successful-session-count`.
    pub total_successful_session_count: i64,
    /// `total-failure-session-count`.
    pub total_failure_session_count: i64,
}

/// One `failure-details` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct FailureDetail {
    /// `result-type`, e.g. certificate-expired, starttls-not-supported, sts-policy-fetch-error.
    pub result_type: String,
    /// `sending-mta-ip`.
    pub sending_mta_ip: Option<String>,
    /// `receiving-mx-hostname`.
    pub receiving_mx_hostname: Option<String>,
    /// `receiving-mx-helo`.
    pub receiving_mx_helo: Option<String>,
    /// `receiving-ip`.
    pub receiving_ip: Option<String>,
    /// `failed-session-count`.
    pub failed_session_count: i64,
    /// `additional-information`: a URI.
    pub additional_information: Option<String>,
    /// `failure-reason-code`.
    pub failure_reason_code: Option<String>,
}

/// One entry of `policies`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct PolicyResult {
    /// `policy`.
    pub policy: Policy,
    /// `summary`.
    pub summary: Summary,
    /// `failure-details`.
    pub failure_details: Vec<FailureDetail>,
}

/// A TLS report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct TlsReport {
    /// `organization-name`.
    pub organization_name: String,
    /// `date-range`.
    pub date_range: DateRange,
    /// `contact-info`.
    pub contact_info: Option<String>,
    /// `report-id`.
    pub report_id: String,
    /// `policies`.
    pub policies: Vec<PolicyResult>,
    /// Members this parser does not know.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
    /// Recoverable problems met.
    #[serde(skip)]
    pub warnings: Warnings,
}

impl TlsReport {
    /// `start-datetime` in seconds since the epoch.
    pub fn start_timestamp(&self) -> Option<i64> {
        mail_parser::DateTime::parse_rfc3339(&self.date_range.start_datetime)
            .map(|d| d.to_timestamp())
    }

    /// `end-datetime` in seconds since the epoch.
    pub fn end_timestamp(&self) -> Option<i64> {
        mail_parser::DateTime::parse_rfc3339(&self.date_range.end_datetime)
            .map(|d| d.to_timestamp())
    }
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(de)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// Parses a TLS report from its JSON bytes.
pub fn parse_tls_report(bytes: &[u8]) -> Result<TlsReport, ParseError> {
    let mut warnings = Warnings::default();
    let text = String::from_utf8_lossy(bytes);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        warnings.add("invalid utf-8 replaced");
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut report: TlsReport =
        serde_json::from_str(trimmed).map_err(|e| ParseError::Json(e.to_string()))?;
    if report.organization_name.is_empty() {
        return Err(ParseError::Json("missing \"organization-name\"".to_owned()));
    }
    if report.report_id.is_empty() {
        return Err(ParseError::Json("missing \"report-id\"".to_owned()));
    }
    if report.start_timestamp().is_none() {
        warnings.add(format!(
            "start-datetime '{}' is not RFC 3339",
            report.date_range.start_datetime
        ));
    }
    for policy in &mut report.policies {
        if policy
            .policy
            .policy_type
            .bytes()
            .any(|b| b.is_ascii_uppercase())
        {
            warnings.add(format!(
                "upper-case policy-type ('{}') lower-cased",
                policy.policy.policy_type
            ));
            policy.policy.policy_type = policy.policy.policy_type.to_ascii_lowercase();
        }
        policy.policy.policy_domain = policy
            .policy
            .policy_domain
            .trim_end_matches('.')
            .to_ascii_lowercase();
    }
    report.warnings = warnings;
    Ok(report)
}
