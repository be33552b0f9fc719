//! Summaries over the store (portable SQL for both engines; aggregate records are added up
//! here in one pass over them, the rest grouped by the database): per
//! domain the message volume, DMARC, SPF-aligned and DKIM-aligned pass rates, top and failing
//! sources, dispositions and override reasons (RFC 9990 section 3.1.3); TLS-RPT sessions by
//! policy and failure type (RFC 8460 section 4.3); complaints per DKIM domain and per
//! Feedback-ID per day (RFC 5965); failure reports per domain (RFC 9991).

use std::collections;

use serde::Serialize;

use crate::error::StoreError;
use crate::store::{Store, Value};

/// Maps keyed by what reports carry (domains, addresses): foldhash, randomly seeded, hashes
/// them several times faster than the default SipHash.
type HashMap<K, V> = collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = collections::HashSet<K, foldhash::fast::RandomState>;

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

/// One domain's aggregate records, added up as they are read.
#[derive(Default)]
struct DomainTally {
    reports: HashSet<i64>,
    messages: i64,
    pass: i64,
    spf_aligned: i64,
    dkim_aligned: i64,
    /// Messages and DMARC passes per source address.
    sources: HashMap<Box<str>, (i64, i64)>,
    dispositions: HashMap<String, i64>,
    overrides: HashMap<(String, Option<String>), i64>,
}

/// Aggregate records added up per domain in one pass over the store. A `GROUP BY` per figure
/// scanned and sorted every record five times, which took seconds per million records.
/// Sums saturate instead of failing on counts no real report carries.
#[derive(Default)]
struct Tally {
    index: HashMap<String, usize>,
    domains: Vec<(String, DomainTally)>,
    /// The report of the last row and its domain's place: a report's records come together.
    last: Option<(i64, usize)>,
}

impl Tally {
    /// Adds one row: report id, domain, source, count, then 1 or 0 for DMARC pass, SPF-aligned
    /// pass and DKIM-aligned pass, then disposition, override type and comment.
    fn add(&mut self, row: &[Value]) {
        let report = row[0].int();
        let at = match self.last {
            Some((id, at)) if id == report => at,
            _ => {
                let domain = row[1].text().unwrap_or_default();
                let at = match self.index.get(domain) {
                    Some(&at) => at,
                    None => {
                        self.index.insert(domain.to_owned(), self.domains.len());
                        self.domains
                            .push((domain.to_owned(), DomainTally::default()));
                        self.domains.len() - 1
                    }
                };
                self.domains[at].1.reports.insert(report);
                self.last = Some((report, at));
                at
            }
        };
        let tally = &mut self.domains[at].1;
        let count = row[3].int();
        let when = |flag: &Value| if flag.int() != 0 { count } else { 0 };
        let pass = when(&row[4]);
        tally.messages = tally.messages.saturating_add(count);
        tally.pass = tally.pass.saturating_add(pass);
        tally.spf_aligned = tally.spf_aligned.saturating_add(when(&row[5]));
        tally.dkim_aligned = tally.dkim_aligned.saturating_add(when(&row[6]));
        let ip = row[2].text().unwrap_or_default();
        match tally.sources.get_mut(ip) {
            Some((messages, passed)) => {
                *messages = messages.saturating_add(count);
                *passed = passed.saturating_add(pass);
            }
            None => {
                tally.sources.insert(ip.into(), (count, pass));
            }
        }
        let disposition = row[7].text().unwrap_or("none");
        match tally.dispositions.get_mut(disposition) {
            Some(n) => *n = n.saturating_add(count),
            None => {
                tally.dispositions.insert(disposition.to_owned(), count);
            }
        }
        if let Some(kind) = row[8].text() {
            let key = (kind.to_owned(), row[9].text().map(str::to_owned));
            let n = tally.overrides.entry(key).or_default();
            *n = n.saturating_add(count);
        }
    }

    /// The domains, most messages first, each with its `top` sources by volume and by failures.
    fn finish(self, top: usize) -> Vec<DomainSummary> {
        let mut domains: Vec<DomainSummary> = self
            .domains
            .into_iter()
            .map(|(domain, tally)| {
                let mut dispositions: Vec<Count> = tally
                    .dispositions
                    .into_iter()
                    .map(|(name, count)| Count { name, count })
                    .collect();
                dispositions
                    .sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
                let mut overrides: Vec<Override> = tally
                    .overrides
                    .into_iter()
                    .map(|((kind, comment), messages)| Override {
                        kind,
                        comment,
                        messages,
                    })
                    .collect();
                overrides.sort_by(|a, b| {
                    (b.messages, &a.kind, &a.comment).cmp(&(a.messages, &b.kind, &b.comment))
                });
                DomainSummary {
                    domain,
                    reports: tally.reports.len() as i64,
                    messages: tally.messages,
                    dmarc_pass: tally.pass,
                    dmarc_pass_rate: rate(tally.pass, tally.messages),
                    spf_aligned_pass: tally.spf_aligned,
                    spf_aligned_rate: rate(tally.spf_aligned, tally.messages),
                    dkim_aligned_pass: tally.dkim_aligned,
                    dkim_aligned_rate: rate(tally.dkim_aligned, tally.messages),
                    top_sources: ranked(&tally.sources, top, i64::MIN, |(messages, _)| messages),
                    failing_sources: ranked(&tally.sources, top, 0, |(messages, pass)| {
                        messages.saturating_sub(pass)
                    }),
                    dispositions,
                    overrides,
                }
            })
            .collect();
        domains.sort_by(|a, b| {
            b.messages
                .cmp(&a.messages)
                .then_with(|| a.domain.cmp(&b.domain))
        });
        domains
    }
}

/// A source in the running for a domain's list: ordered worst first, so that a heap of the
/// best `top` keeps its worst on top, ready to be pushed out.
#[derive(PartialEq, Eq)]
struct Candidate<'s> {
    by: i64,
    ip: &'s str,
    counts: (i64, i64),
}

impl Ord for Candidate<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.by.cmp(&self.by).then_with(|| self.ip.cmp(other.ip))
    }
}

impl PartialOrd for Candidate<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The `top` sources (messages and DMARC passes per address) with the most `by` (messages or
/// failures), above `floor`, most first, ties by address; without copying the others.
fn ranked(
    sources: &HashMap<Box<str>, (i64, i64)>,
    top: usize,
    floor: i64,
    by: impl Fn((i64, i64)) -> i64,
) -> Vec<Source> {
    let mut best = std::collections::BinaryHeap::with_capacity(top + 1);
    for (ip, &counts) in sources {
        let candidate = Candidate {
            by: by(counts),
            ip,
            counts,
        };
        if candidate.by <= floor {
            continue;
        }
        if best.len() < top {
            best.push(candidate);
        } else if best.peek().is_some_and(|worst| candidate < *worst) {
            best.pop();
            best.push(candidate);
        }
    }
    best.into_sorted_vec()
        .into_iter()
        .map(|c| {
            let (messages, pass) = c.counts;
            Source {
                ip: c.ip.to_owned(),
                messages,
                pass,
                fail: messages.saturating_sub(pass),
                ptr: None,
            }
        })
        .collect()
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

        let top = usize::try_from(filter.top)
            .ok()
            .filter(|&t| t > 0)
            .unwrap_or(10);
        let mut tally = Tally::default();
        self.query_each(
            &format!(
                "SELECT r.id, r.domain, a.source_ip, a.count, \
                 CASE WHEN {PASS} THEN 1 ELSE 0 END, \
                 CASE WHEN a.spf_aligned = 'pass' THEN 1 ELSE 0 END, \
                 CASE WHEN a.dkim_aligned = 'pass' THEN 1 ELSE 0 END, \
                 a.disposition, a.reason_type, a.reason_comment \
                 FROM reports r JOIN aggregate_records a ON {of_report} \
                 WHERE r.kind = 'aggregate' AND {REPORT_FILTER}"
            ),
            &params,
            &mut |row| {
                tally.add(row);
                Ok(())
            },
        )?;
        let domains = tally.finish(top);

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
        let place: HashMap<(String, String), usize> = tls
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.policy_domain.clone(), t.policy_type.clone()), i))
            .collect();
        for row in rows {
            if let Some(entry) = place
                .get(&(text(&row[0]), text(&row[1])))
                .map(|&i| &mut tls[i])
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
