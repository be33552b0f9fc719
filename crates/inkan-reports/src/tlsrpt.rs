//! SMTP TLS reports (RFC 8460 section 4): JSON with the reporter, the period, and per policy
//! (MTA-STS, DANE TLSA, or none found) the successful and failed session counts and the
//! failure details. Unknown members are kept; dates are RFC 3339 (section 4.4).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::ParseError;
use crate::limits::MAX_COUNT;
use crate::warnings::{Warnings, excerpt};

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

/// `value` as JSON for a warning: an [`excerpt`] of it.
fn shown(value: &serde_json::Value) -> String {
    excerpt(&value.to_string())
}

/// The JSON type of `value`, for messages.
fn kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Brings the members a report is read by to the types the schema gives them, as senders
/// write them when they stray from it, so that one odd member neither loses the report nor
/// stops it with an error that does not say where:
/// - a `null` member is absent;
/// - text written as a number or `true`/`false` is read as text, with a warning; text written
///   as a list or an object is left out, with a warning;
/// - a list of text (`policy-string`, `mx-host`) may be one text, and an entry that is an
///   object is read as its `hostname` (or, without one, as its JSON), with a warning;
/// - `policies` or `failure-details` written as one object is a list of one; an entry that is
///   not an object is left out, with a warning;
/// - session counts: a number in a string ("7") or a fraction is read with a warning; a
///   negative, unreadable or implausible (above [`MAX_COUNT`]) count becomes 0 with a
///   warning, so that totals are not thrown off.
///
/// A report that is not a JSON object at all is an error.
fn lenient_shapes(
    report: &mut serde_json::Value,
    warnings: &mut Warnings,
) -> Result<(), ParseError> {
    use serde_json::{Map, Value};
    fn text(object: &mut Map<String, Value>, name: &str, warnings: &mut Warnings) {
        let Some(value) = object.get_mut(name) else {
            return;
        };
        match value {
            Value::String(_) => {}
            Value::Null => {
                object.remove(name);
            }
            Value::Number(_) | Value::Bool(_) => {
                let written = value.to_string();
                warnings.add(format!("{name} {written} is not text; read as '{written}'"));
                *value = Value::String(written);
            }
            Value::Array(_) | Value::Object(_) => {
                warnings.add(format!("{name} is {}, not text; left out", kind(value)));
                object.remove(name);
            }
        }
    }
    fn texts(object: &mut Map<String, Value>, name: &str, warnings: &mut Warnings) {
        let Some(value) = object.get_mut(name) else {
            return;
        };
        let entries = match value.take() {
            Value::Null => {
                object.remove(name);
                return;
            }
            Value::Array(entries) => entries,
            one => vec![one],
        };
        let mut kept = Vec::with_capacity(entries.len());
        for entry in entries {
            match entry {
                Value::String(s) => kept.push(Value::String(s)),
                Value::Null => {}
                Value::Object(ref fields) => {
                    let read = match fields.get("hostname") {
                        Some(Value::String(host)) => host.clone(),
                        _ => entry.to_string(),
                    };
                    warnings.add(format!(
                        "{name} entry {} is an object; read as '{}'",
                        shown(&entry),
                        excerpt(&read)
                    ));
                    kept.push(Value::String(read));
                }
                other => {
                    let written = other.to_string();
                    let short = shown(&other);
                    warnings.add(format!(
                        "{name} entry {short} is not text; read as '{short}'"
                    ));
                    kept.push(Value::String(written));
                }
            }
        }
        *value = Value::Array(kept);
    }
    /// The entries of the list `name` that are objects (one object standing for a list of
    /// one); the others are left out with a warning.
    fn objects<'v>(
        object: &'v mut Map<String, Value>,
        name: &str,
        warnings: &mut Warnings,
    ) -> Vec<&'v mut Map<String, Value>> {
        let Some(value) = object.get_mut(name) else {
            return Vec::new();
        };
        match value {
            Value::Null => {
                object.remove(name);
                return Vec::new();
            }
            Value::Object(_) => {
                warnings.add(format!(
                    "{name} is one object, not a list; read as a list of one"
                ));
                *value = Value::Array(vec![value.take()]);
            }
            Value::Array(entries) => entries.retain(|entry| {
                let keep = entry.is_object();
                if !keep {
                    warnings.add(format!(
                        "{name} entry {} is not an object; left out",
                        shown(entry)
                    ));
                }
                keep
            }),
            _ => {
                warnings.add(format!("{name} is {}, not a list; left out", kind(value)));
                object.remove(name);
                return Vec::new();
            }
        }
        object
            .get_mut(name)
            .and_then(Value::as_array_mut)
            .map(|entries| {
                entries
                    .iter_mut()
                    .filter_map(Value::as_object_mut)
                    .collect()
            })
            .unwrap_or_default()
    }
    /// The member `name` when it is an object; a `null` or another type is left out (the
    /// latter with a warning).
    fn object<'v>(
        parent: &'v mut Map<String, Value>,
        name: &str,
        warnings: &mut Warnings,
    ) -> Option<&'v mut Map<String, Value>> {
        match parent.get(name) {
            Some(Value::Object(_)) => parent.get_mut(name).and_then(Value::as_object_mut),
            Some(Value::Null) => {
                parent.remove(name);
                None
            }
            Some(other) => {
                warnings.add(format!(
                    "{name} is {}, not an object; left out",
                    kind(other)
                ));
                parent.remove(name);
                None
            }
            None => None,
        }
    }
    fn count(object: &mut Map<String, Value>, name: &str, warnings: &mut Warnings) {
        let Some(count) = object.get_mut(name) else {
            return;
        };
        if count.is_null() {
            object.remove(name);
            return;
        }
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
    }

    let found = kind(report);
    let Some(top) = report.as_object_mut() else {
        return Err(ParseError::Json(format!(
            "the report is {found}, not a JSON object"
        )));
    };
    for name in ["organization-name", "contact-info", "report-id"] {
        text(top, name, warnings);
    }
    if let Some(range) = object(top, "date-range", warnings) {
        for name in ["start-datetime", "end-datetime"] {
            text(range, name, warnings);
        }
    }
    for entry in objects(top, "policies", warnings) {
        if let Some(policy) = object(entry, "policy", warnings) {
            for name in ["policy-type", "policy-domain"] {
                text(policy, name, warnings);
            }
            for name in ["policy-string", "mx-host"] {
                texts(policy, name, warnings);
            }
        }
        if let Some(summary) = object(entry, "summary", warnings) {
            for name in [
                "total-successful-session-count",
                "total-failure-session-count",
            ] {
                count(summary, name, warnings);
            }
        }
        for detail in objects(entry, "failure-details", warnings) {
            for name in [
                "result-type",
                "sending-mta-ip",
                "receiving-mx-hostname",
                "receiving-mx-helo",
                "receiving-ip",
                "additional-information",
                "failure-reason-code",
            ] {
                text(detail, name, warnings);
            }
            count(detail, "failed-session-count", warnings);
        }
    }
    Ok(())
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
    lenient_shapes(&mut value, &mut warnings)?;
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
