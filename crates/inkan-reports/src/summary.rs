//! Summaries over the store, computed by the database (portable SQL for both engines): per
//! domain the message volume, DMARC, SPF-aligned and DKIM-aligned pass rates, top and failing
//! sources, dispositions and override reasons (RFC 9990 section 3.1.3); TLS-RPT sessions by
//! policy and failure type (RFC 8460 section 4.3); complaints per DKIM domain and per
//! Feedback-ID per day (RFC 5965); failure reports per domain (RFC 9991).

use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Store, Value};

/// What to summarise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this domain.
    pub domain: Option<String>,
    /// Reports that begin at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Reports that begin before this time (seconds since the epoch).
    pub until: Option<i64>,
    /// Sources listed per domain.
    pub top: i64,
}

/// One source IP of a domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    /// The IP address.
    pub ip: String,
    /// Messages from it.
    pub messages: i64,
    /// Of which passed DMARC.
    pub pass: i64,
    /// Of which failed DMARC.
    pub fail: i64,
    /// Its PTR name, when asked for and found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ptr: Option<String>,
}

/// A count under a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The label.
    pub name: String,
    /// Messages (or sessions, or reports).
    pub count: i64,
}

/// An override reason with its comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Override {
    /// The `<type>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The `<comment>` (Google's "Sender requirement failed: ...").
    pub comment: Option<String>,
    /// Messages.
    pub messages: i64,
}

/// The aggregate-report picture of one domain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainSummary {
    /// The domain (`<policy_published><domain>`).
    pub domain: String,
    /// Aggregate reports.
    pub reports: i64,
    /// Messages.
    pub messages: i64,
    /// Messages passing DMARC (either aligned result passes).
    pub dmarc_pass: i64,
    /// `dmarc_pass / messages`.
    pub dmarc_pass_rate: f64,
    /// Messages with an SPF-aligned pass.
    pub spf_aligned_pass: i64,
    /// `spf_aligned_pass / messages`.
    pub spf_aligned_rate: f64,
    /// Messages with a DKIM-aligned pass.
    pub dkim_aligned_pass: i64,
    /// `dkim_aligned_pass / messages`.
    pub dkim_aligned_rate: f64,
    /// Sources by volume.
    pub top_sources: Vec<Source>,
    /// Sources with DMARC failures, most failures first.
    pub failing_sources: Vec<Source>,
    /// Messages per disposition.
    pub dispositions: Vec<Count>,
    /// Override reasons.
    pub overrides: Vec<Override>,
}

/// TLS-RPT sessions of one policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsSummary {
    /// `policy-domain`.
    pub policy_domain: String,
    /// `policy-type`.
    pub policy_type: String,
    /// Successful sessions.
    pub successful: i64,
    /// Failed sessions.
    pub failed: i64,
    /// Failed sessions per result type.
    pub failures: Vec<Count>,
}

/// Complaints on one day under one key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyCount {
    /// The day (UTC, `YYYY-MM-DD`), or `unknown` without an Arrival-Date.
    pub day: String,
    /// The DKIM domain or Feedback-ID.
    pub key: String,
    /// Complaints.
    pub complaints: i64,
}

/// Failure reports of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureSummary {
    /// The domain.
    pub domain: String,
    /// The `Auth-Failure` value.
    pub auth_failure: String,
    /// Reports.
    pub reports: i64,
}

/// Everything `inkan reports summary` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Per domain, most messages first.
    pub domains: Vec<DomainSummary>,
    /// TLS-RPT per policy.
    pub tls: Vec<TlsSummary>,
    /// ARF complaints per DKIM domain per day.
    pub complaints_by_dkim_domain: Vec<DailyCount>,
    /// ARF complaints per Feedback-ID per day.
    pub complaints_by_feedback_id: Vec<DailyCount>,
    /// Failure reports per domain and failure.
    pub failure_reports: Vec<FailureSummary>,
}

const PASS: &str = "(a.dkim_aligned = 'pass' OR a.spf_aligned = 'pass')";

/// Conditions on reports alias `r` with the filter in `$1` (domain), `$2` (since), `$3` (until).
const REPORT_FILTER: &str = "(CAST($1 AS TEXT) IS NULL OR r.domain = CAST($1 AS TEXT)) \
    AND (CAST($2 AS BIGINT) IS NULL OR r.date_begin >= CAST($2 AS BIGINT)) \
    AND (CAST($3 AS BIGINT) IS NULL OR r.date_begin < CAST($3 AS BIGINT))";

fn rate(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

fn text(value: &Value) -> String {
    value.text().unwrap_or_default().to_owned()
}

/// Days since the epoch for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of a day number since the epoch.
pub fn format_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Seconds since the epoch of `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time.
pub fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.len() == 10 {
        let mut parts = text.split('-');
        let year = parts.next()?.parse::<i64>().ok()?;
        let month = parts.next()?.parse::<i64>().ok()?;
        let day = parts.next()?.parse::<i64>().ok()?;
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        return Some(days_from_civil(year, month, day) * 86_400);
    }
    mail_parser::DateTime::parse_rfc3339(text).map(|d| d.to_timestamp())
}

impl Store {
    /// Summarises what the store holds under `filter`.
    pub fn summary(&mut self, filter: &Filter) -> Result<Summary, StoreError> {
        // Domains are stored lower-cased without a trailing dot; the filter is read the same way.
        let domain = filter
            .domain
            .as_deref()
            .map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase());
        let params = [
            Value::from(domain),
            Value::from(filter.since),
            Value::from(filter.until),
        ];
        // Which records belong to report `r`: a key range on SQLite (no index on report_id).
        let of_report = crate::store::schema::records_of(self.backend.dialect(), "a", "r.id");
        let mut with_top = params.to_vec();
        with_top.push(Value::Int(if filter.top > 0 { filter.top } else { 10 }));

        let totals = self.query(
            &format!(
                "SELECT r.domain, COUNT(DISTINCT r.id), CAST(SUM(a.count) AS BIGINT), \
                 CAST(SUM(CASE WHEN {PASS} THEN a.count ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN a.spf_aligned = 'pass' THEN a.count ELSE 0 END) AS BIGINT), \
                 CAST(SUM(CASE WHEN a.dkim_aligned = 'pass' THEN a.count ELSE 0 END) AS BIGINT) \
                 FROM reports r JOIN aggregate_records a ON {of_report} \
                 WHERE r.kind = 'aggregate' AND {REPORT_FILTER} GROUP BY r.domain ORDER BY 3 DESC, 1"
            ),
            &params,
        )?;
        let mut domains: Vec<DomainSummary> = totals
            .iter()
            .map(|row| {
                let messages = row[2].int();
                DomainSummary {
                    domain: text(&row[0]),
                    reports: row[1].int(),
                    messages,
                    dmarc_pass: row[3].int(),
                    dmarc_pass_rate: rate(row[3].int(), messages),
                    spf_aligned_pass: row[4].int(),
                    spf_aligned_rate: rate(row[4].int(), messages),
                    dkim_aligned_pass: row[5].int(),
                    dkim_aligned_rate: rate(row[5].int(), messages),
                    top_sources: Vec::new(),
                    failing_sources: Vec::new(),
                    dispositions: Vec::new(),
                    overrides: Vec::new(),
                }
            })
            .collect();
        let index_of =
            |domains: &[DomainSummary], name: &str| domains.iter().position(|d| d.domain == name);

        for (failing, order) in [
            (false, "SUM(a.count)"),
            (
                true,
                format!("SUM(CASE WHEN {PASS} THEN 0 ELSE a.count END)").as_str(),
            ),
        ] {
            let having = if failing {
                format!("HAVING SUM(CASE WHEN {PASS} THEN 0 ELSE a.count END) > 0")
            } else {
                String::new()
            };
            let rows = self.query(
                &format!(
                    "SELECT domain, source_ip, messages, pass FROM (\
                     SELECT r.domain AS domain, a.source_ip AS source_ip, CAST(SUM(a.count) AS BIGINT) AS messages, \
                     CAST(SUM(CASE WHEN {PASS} THEN a.count ELSE 0 END) AS BIGINT) AS pass, \
                     ROW_NUMBER() OVER (PARTITION BY r.domain ORDER BY {order} DESC, a.source_ip) AS position \
                     FROM reports r JOIN aggregate_records a ON {of_report} \
                     WHERE r.kind = 'aggregate' AND {REPORT_FILTER} GROUP BY r.domain, a.source_ip {having}) ranked \
                     WHERE position <= $4 ORDER BY domain, position"
                ),
                &with_top,
            )?;
            for row in rows {
                let Some(i) = index_of(&domains, &text(&row[0])) else {
                    continue;
                };
                let source = Source {
                    ip: text(&row[1]),
                    messages: row[2].int(),
                    pass: row[3].int(),
                    fail: row[2].int() - row[3].int(),
                    ptr: None,
                };
                if failing {
                    domains[i].failing_sources.push(source);
                } else {
                    domains[i].top_sources.push(source);
                }
            }
        }

        let rows = self.query(
            &format!(
                "SELECT r.domain, COALESCE(a.disposition, 'none'), CAST(SUM(a.count) AS BIGINT) \
                 FROM reports r JOIN aggregate_records a ON {of_report} \
                 WHERE r.kind = 'aggregate' AND {REPORT_FILTER} \
                 GROUP BY r.domain, COALESCE(a.disposition, 'none') ORDER BY 1, 3 DESC, 2"
            ),
            &params,
        )?;
        for row in rows {
            if let Some(i) = index_of(&domains, &text(&row[0])) {
                domains[i].dispositions.push(Count {
                    name: text(&row[1]),
                    count: row[2].int(),
                });
            }
        }

        let rows = self.query(
            &format!(
                "SELECT r.domain, a.reason_type, a.reason_comment, CAST(SUM(a.count) AS BIGINT) \
                 FROM reports r JOIN aggregate_records a ON {of_report} \
                 WHERE r.kind = 'aggregate' AND a.reason_type IS NOT NULL AND {REPORT_FILTER} \
                 GROUP BY r.domain, a.reason_type, a.reason_comment ORDER BY 1, 4 DESC, 2, 3"
            ),
            &params,
        )?;
        for row in rows {
            if let Some(i) = index_of(&domains, &text(&row[0])) {
                domains[i].overrides.push(Override {
                    kind: text(&row[1]),
                    comment: row[2].text().map(str::to_owned),
                    messages: row[3].int(),
                });
            }
        }

        let tls_filter = REPORT_FILTER.replace("r.domain", "p.policy_domain");
        let rows = self.query(
            &format!(
                "SELECT p.policy_domain, p.policy_type, CAST(SUM(p.successful) AS BIGINT), CAST(SUM(p.failed) AS BIGINT) \
                 FROM tls_policies p JOIN reports r ON r.id = p.report_id WHERE {tls_filter} \
                 GROUP BY p.policy_domain, p.policy_type ORDER BY 1, 2"
            ),
            &params,
        )?;
        let mut tls: Vec<TlsSummary> = rows
            .iter()
            .map(|row| TlsSummary {
                policy_domain: text(&row[0]),
                policy_type: text(&row[1]),
                successful: row[2].int(),
                failed: row[3].int(),
                failures: Vec::new(),
            })
            .collect();
        let rows = self.query(
            &format!(
                "SELECT p.policy_domain, p.policy_type, f.result_type, CAST(SUM(f.failed_count) AS BIGINT) \
                 FROM tls_failures f JOIN tls_policies p ON p.report_id = f.report_id AND p.policy_index = f.policy_index \
                 JOIN reports r ON r.id = f.report_id WHERE {tls_filter} \
                 GROUP BY p.policy_domain, p.policy_type, f.result_type ORDER BY 1, 2, 4 DESC, 3"
            ),
            &params,
        )?;
        for row in rows {
            let (domain, kind) = (text(&row[0]), text(&row[1]));
            if let Some(entry) = tls
                .iter_mut()
                .find(|t| t.policy_domain == domain && t.policy_type == kind)
            {
                entry.failures.push(Count {
                    name: text(&row[2]),
                    count: row[3].int(),
                });
            }
        }

        let arf_filter = "(CAST($1 AS TEXT) IS NULL OR r.domain = CAST($1 AS TEXT) OR f.dkim_domain = CAST($1 AS TEXT)) \
            AND (CAST($2 AS BIGINT) IS NULL OR f.arrival_ts >= CAST($2 AS BIGINT)) \
            AND (CAST($3 AS BIGINT) IS NULL OR f.arrival_ts < CAST($3 AS BIGINT))";
        let mut complaints = Vec::new();
        for column in ["f.dkim_domain", "f.feedback_id"] {
            let rows = self.query(
                &format!(
                    "SELECT CAST(f.arrival_ts / 86400 AS BIGINT) AS day, COALESCE({column}, '') AS k, COUNT(*) \
                     FROM feedback f JOIN reports r ON r.id = f.report_id \
                     WHERE r.kind = 'arf' AND {arf_filter} GROUP BY day, k ORDER BY 1, 2"
                ),
                &params,
            )?;
            complaints.push(
                rows.iter()
                    .map(|row| DailyCount {
                        day: match row[0] {
                            Value::Int(day) => format_day(day),
                            _ => "unknown".to_owned(),
                        },
                        key: text(&row[1]),
                        complaints: row[2].int(),
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let by_feedback_id = complaints.pop().unwrap_or_default();
        let by_dkim_domain = complaints.pop().unwrap_or_default();

        let rows = self.query(
            &format!(
                "SELECT COALESCE(r.domain, ''), COALESCE(f.auth_failure, ''), COUNT(*) \
                 FROM feedback f JOIN reports r ON r.id = f.report_id \
                 WHERE r.kind = 'failure' AND {arf_filter} GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2"
            ),
            &params,
        )?;
        let failure_reports = rows
            .iter()
            .map(|row| FailureSummary {
                domain: text(&row[0]),
                auth_failure: text(&row[1]),
                reports: row[2].int(),
            })
            .collect();

        Ok(Summary {
            domains,
            tls,
            complaints_by_dkim_domain: by_dkim_domain,
            complaints_by_feedback_id: by_feedback_id,
            failure_reports,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(
            parse_date("2026-11-28"),
            Some(days_from_civil(2026, 11, 28) * 86_400)
        );
        assert_eq!(format_day(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(format_day(20_000), "2024-10-04");
        assert_eq!(parse_date("2016-04-01T00:00:00Z"), Some(1_459_468_800));
        assert_eq!(parse_date("yesterday"), None);
    }
}
