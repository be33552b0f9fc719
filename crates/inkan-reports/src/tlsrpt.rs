//! SMTP TLS reports (RFC 8460 section 4): JSON with the reporter, the period, and per policy
//! (MTA-STS, DANE TLSA, or none found) the successful and failed session counts and the
//! failure details. Unknown members are kept; dates are RFC 3339 (section 4.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::limits::MAX_COUNT;
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
    #[serde(deserialize_with = "one_or_many")]
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

/// Session counts as senders write them when they stray from integers: a number in a
/// string ("7") or a fraction is read with a warning; a negative, unreadable or implausible
/// (above [`MAX_COUNT`]) count becomes 0 with a warning, so that one odd field neither loses
/// the report nor throws totals off.
fn lenient_counts(report: &mut serde_json::Value, warnings: &mut Warnings) {
    use serde_json::Value;
    let Some(policies) = report.get_mut("policies").and_then(Value::as_array_mut) else {
        return;
    };
    let mut fix = |count: &mut Value, name: &str| {
        if count.as_i64().is_some_and(|n| (0..=MAX_COUNT).contains(&n)) {
            return;
        }
        let written = count.to_string();
        let (number, what) = match &*count {
            Value::String(text) => (text.trim().parse::<f64>().ok(), "a string"),
            Value::Number(n) => (n.as_f64(), "not a whole number"),
            _ => (None, ""),
        };
        let fixed = match number {
            Some(n) if (0.0..=MAX_COUNT as f64).contains(&n) => {
                warnings.add(format!("{name} {written} is {what}; read as {}", n as i64));
                n as i64
            }
            _ => {
                warnings.add(format!("{name} {written} is not a count; read as 0"));
                0
            }
        };
        *count = Value::from(fixed);
    };
    for policy in policies {
        if let Some(summary) = policy.get_mut("summary").and_then(Value::as_object_mut) {
            for name in [
                "total-successful-session-count",
                "total-failure-session-count",
            ] {
                if let Some(count) = summary.get_mut(name) {
                    fix(count, name);
                }
            }
        }
        if let Some(details) = policy
            .get_mut("failure-details")
            .and_then(Value::as_array_mut)
        {
            for count in details
                .iter_mut()
                .filter_map(|d| d.get_mut("failed-session-count"))
            {
                fix(count, "failed-session-count");
            }
        }
    }
}

/// Parses a TLS report from its JSON bytes.
pub fn parse_tls_report(bytes: &[u8]) -> Result<TlsReport, ParseError> {
    let mut warnings = Warnings::default();
    let text = String::from_utf8_lossy(bytes);
    if matches!(text, std::borrow::Cow::Owned(_)) {
        warnings.add("invalid utf-8 replaced");
    }
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut value: serde_json::Value =
        serde_json::from_str(trimmed).map_err(|e| ParseError::Json(e.to_string()))?;
    lenient_counts(&mut value, &mut warnings);
    let mut report: TlsReport =
        serde_json::from_value(value).map_err(|e| ParseError::Json(e.to_string()))?;
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
