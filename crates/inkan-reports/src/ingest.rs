//! Ingesting inputs into the store: each input file is archived (gzip-compressed, in chunks)
//! and walked inside one transaction, or, for a batch of small files, inside a transaction
//! they share, each file stored whole or not at all (a savepoint per file on PostgreSQL, a
//! list of the rows it added on SQLite, [`Added`]); a report that breaks halfway leaves
//! nothing behind but its error (an aggregate report's rows are deleted, other kinds run in a
//! savepoint) while the rest of the input is kept.
//! The small files of a batch are read, hashed, archived and parsed ahead on helper threads
//! (`prepare`); the records of a large aggregate report are parsed on the calling thread while
//! a second thread stores them, on the same connection and in the same transaction, and a
//! third hashes and archives a large input in the same time ([`ArchiveFeed`]).
//! Reports are de-duplicated on (kind, reporting organisation, report id, and for aggregate
//! reports the policy domain and period, since reporters reuse ids); feedback reports,
//! which have no id, on a digest of their content.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::aggregate::{AggregateHeader, AggregateReader, AggregateTrailer, Record};
use crate::archive::hex;
use crate::container::{Visitor, file_reader, walk};
use crate::error::{ParseError, StoreError};
use crate::feedback::FeedbackReport;
use crate::limits::Limits;
use crate::prepare::{Ahead, Input, Parsed, Prepared, read_ahead};
use crate::store::schema::Dialect;
use crate::store::{Backend, DbUrl, Store, Value};
use crate::tlsrpt::TlsReport;
use crate::warnings::Warnings;

/// Records per bulk insert.
const RECORD_BATCH: usize = 1000;
/// Record batches parsed ahead of the storing thread in a large aggregate report.
const PIPELINE_DEPTH: usize = 4;
/// Files up to this size are read into memory once, for the digest, the archive and the
/// parse; larger ones are read twice, in parallel: to hash and archive them, and to parse.
const IN_MEMORY: u64 = 8 << 20;
/// Archive chunks (1 MB each) waiting for the store at most.
const ARCHIVE_DEPTH: usize = 4;

/// Reports stored, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Kinds {
    /// DMARC aggregate reports.
    pub aggregate: u64,
    /// DMARC failure reports.
    pub failure: u64,
    /// SMTP TLS reports.
    pub tls: u64,
    /// ARF complaint reports.
    pub arf: u64,
}

/// An input (or a part of one) that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IngestError {
    /// The file.
    pub path: String,
    /// Where inside it; empty for the file itself.
    pub location: String,
    /// What was wrong.
    pub error: String,
}

/// What ingesting some inputs did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestTotals {
    /// Input files read.
    pub files: u64,
    /// Reports newly stored.
    pub reports: u64,
    /// Aggregate records newly stored.
    pub records: u64,
    /// Reports already in the store.
    pub duplicates: u64,
    /// Inputs or parts that failed.
    pub errors: Vec<IngestError>,
    /// Inputs of a batch that could not be read at all (gone since they were listed, say: a
    /// mail server moved a Maildir message from `new/` to `cur/`). The rest of the batch went
    /// on; nothing of these is in the store, so a rerun reads them if they are there again.
    pub unreadable: Vec<IngestError>,
    /// Newly stored reports per kind.
    pub kinds: Kinds,
    /// Reports stored with recoverable problems.
    pub warned: u64,
}

impl IngestTotals {
    /// Adds `other` into these totals.
    pub fn merge(&mut self, other: IngestTotals) {
        self.files += other.files;
        self.reports += other.reports;
        self.records += other.records;
        self.duplicates += other.duplicates;
        self.errors.extend(other.errors);
        self.unreadable.extend(other.unreadable);
        self.kinds.aggregate += other.kinds.aggregate;
        self.kinds.failure += other.kinds.failure;
        self.kinds.tls += other.kinds.tls;
        self.kinds.arf += other.kinds.arf;
        self.warned += other.warned;
    }
}

fn io_error(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |e| StoreError::Io {
        context,
        cause: std::sync::Arc::new(e),
    }
}

fn json_pairs(pairs: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str())))
            .collect(),
    )
}

fn warnings_json(warnings: &Warnings) -> Option<String> {
    (!warnings.is_empty()).then(|| serde_json::to_string(warnings).unwrap_or_default())
}

/// The `detail` column of an aggregate report: what its header holds beyond the columns.
pub(crate) fn aggregate_detail(header: &AggregateHeader) -> String {
    let meta = &header.metadata;
    let policy = &header.policy;
    serde_json::json!({
        "version": header.version,
        "extra_contact_info": meta.extra_contact_info,
        "errors": meta.errors,
        "generator": meta.generator,
        "fo": policy.fo,
        "discovery_method": policy.discovery_method,
        "extra": json_pairs(&[&header.extra[..], &meta.extra[..], &policy.extra[..]].concat()),
    })
    .to_string()
}

/// The columns an aggregate report's row gets from how reading it ended.
struct Ending {
    records: i64,
    messages: i64,
    /// The warnings as JSON, `None` when there are none.
    warnings: Option<String>,
    /// The detail that replaces the header's, when elements followed the records.
    detail: Option<String>,
}

fn ending(trailer: &AggregateTrailer, errors: &[String]) -> Ending {
    let mut warnings = trailer.warnings.clone();
    if trailer.records == 0 {
        warnings.add("report has no records");
    }
    Ending {
        records: i64::try_from(trailer.records).unwrap_or(i64::MAX),
        messages: trailer.messages,
        warnings: warnings_json(&warnings),
        detail: (!trailer.extra.is_empty()).then(|| {
            serde_json::json!({"trailing": json_pairs(&trailer.extra), "errors": errors})
                .to_string()
        }),
    }
}

/// The receiving end of an input's archive, written on another thread
/// ([`crate::archive::Archiver::archive_to`]): its chunks are stored as they come, between
/// reports and record batches.
pub(crate) struct ArchiveFeed {
    rx: mpsc::Receiver<Vec<u8>>,
    input: i64,
    seq: i64,
}

impl ArchiveFeed {
    /// Stores the chunks ready now; with `wait`, all the rest too, until the archive ends.
    fn store(&mut self, backend: &mut dyn Backend, wait: bool) -> Result<(), StoreError> {
        loop {
            let next = if wait {
                self.rx.recv().ok()
            } else {
                self.rx.try_recv().ok()
            };
            let Some(chunk) = next else {
                return Ok(());
            };
            insert_chunk(backend, self.input, self.seq, chunk)?;
            self.seq += 1;
        }
    }
}

/// Stores chunk `seq` of input `input`'s archive.
fn insert_chunk(
    backend: &mut dyn Backend,
    input: i64,
    seq: i64,
    chunk: Vec<u8>,
) -> Result<(), StoreError> {
    backend.execute(
        "INSERT INTO input_chunks (input_id, seq, data) VALUES ($1, $2, $3)",
        &[Value::Int(input), Value::Int(seq), Value::Blob(chunk)],
    )?;
    Ok(())
}

/// Where the records of an aggregate report come from: a streaming reader, or a report
/// parsed ahead on the reading thread.
trait RecordSource {
    /// The next record, or `None` after the last.
    fn next_record(&mut self) -> Result<Option<Record>, ParseError>;
    /// Takes back a stored record for reuse.
    fn recycle(&mut self, record: Record);
    /// The totals, once every record was taken.
    fn finish(&mut self) -> Result<AggregateTrailer, ParseError>;
    /// The totals before any record is taken, when the whole report was read already and
    /// ended well.
    fn known_end(&self) -> Option<&AggregateTrailer> {
        None
    }
    /// Every record at once, when the whole report was read already, ended well and no
    /// record was taken yet.
    fn take_all(&mut self) -> Option<Vec<Record>> {
        None
    }
    /// Takes back the records [`RecordSource::take_all`] gave, once stored.
    fn give_back(&mut self, _records: Vec<Record>) {}
    /// The report's `detail` column, when it was written already.
    fn take_detail(&mut self) -> Option<String> {
        None
    }
}

impl<R: BufRead> RecordSource for AggregateReader<R> {
    fn next_record(&mut self) -> Result<Option<Record>, ParseError> {
        AggregateReader::next_record(self)
    }

    fn recycle(&mut self, record: Record) {
        AggregateReader::recycle(self, record);
    }

    fn finish(&mut self) -> Result<AggregateTrailer, ParseError> {
        self.finish_in_place()
    }
}

/// The records of a report parsed ahead, then how reading it ended.
struct ParsedRecords {
    records: Vec<Record>,
    /// How many of `records` were taken one by one.
    taken: usize,
    end: Option<Result<AggregateTrailer, ParseError>>,
    detail: Option<String>,
    /// The records once stored, to hand back to the thread that read them.
    spent: Option<Vec<Record>>,
}

impl RecordSource for ParsedRecords {
    fn next_record(&mut self) -> Result<Option<Record>, ParseError> {
        if let Some(record) = self.records.get_mut(self.taken) {
            self.taken += 1;
            return Ok(Some(std::mem::take(record)));
        }
        match self.end.take() {
            Some(Err(err)) => Err(err),
            end => {
                self.end = end;
                Ok(None)
            }
        }
    }

    fn recycle(&mut self, _record: Record) {}

    fn finish(&mut self) -> Result<AggregateTrailer, ParseError> {
        while self.next_record()?.is_some() {}
        Ok(self.end.take().and_then(Result::ok).unwrap_or_default())
    }

    fn known_end(&self) -> Option<&AggregateTrailer> {
        self.end.as_ref().and_then(|end| end.as_ref().ok())
    }

    fn take_all(&mut self) -> Option<Vec<Record>> {
        (self.taken == 0 && matches!(self.end, Some(Ok(_))))
            .then(|| std::mem::take(&mut self.records))
    }

    fn give_back(&mut self, records: Vec<Record>) {
        self.spent = Some(records);
    }

    fn take_detail(&mut self) -> Option<String> {
        self.detail.take()
    }
}

/// What tells apart aggregate reports that share a reporting organisation and a report id
/// (reporters reuse ids across days and domains): `domain|begin|end`, as schema version 2
/// fills it in for the rows stored before it.
fn period(domain: &str, begin: Option<i64>, end: Option<i64>) -> String {
    let at = |t: Option<i64>| t.map(|t| t.to_string()).unwrap_or_default();
    format!("{domain}|{}|{}", at(begin), at(end))
}

struct StoreVisitor<'a> {
    store: &'a mut Store,
    input: i64,
    path: String,
    now: i64,
    totals: IngestTotals,
    /// The archive of this input, written on another thread, when it is new and streamed.
    feed: Option<ArchiveFeed>,
}

impl StoreVisitor<'_> {
    /// Inserts a report row; `None` when it is already stored.
    #[allow(clippy::too_many_arguments)]
    fn insert_report(
        &mut self,
        kind: &str,
        org: &str,
        id: &str,
        location: &str,
        domain: Option<&str>,
        begin: Option<i64>,
        end: Option<i64>,
        detail: serde_json::Value,
        warnings: &Warnings,
    ) -> Result<Option<i64>, StoreError> {
        let id = self.store.backend.insert_id(
            "INSERT INTO reports (kind, org_name, report_id, input_id, location, domain, date_begin, date_end, \
             detail, warnings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (kind, org_name, report_id, period) DO NOTHING",
            &[
                kind.into(),
                org.into(),
                id.into(),
                Value::Int(self.input),
                location.into(),
                domain.into(),
                begin.into(),
                end.into(),
                Value::Text(detail.to_string()),
                warnings_json(warnings).into(),
            ],
        )?;
        if let (Some(id), Some(added)) = (id, self.store.added()) {
            added.reports.push(id);
        }
        Ok(id)
    }

    /// Stores the archive chunks written so far.
    fn store_archive(&mut self) -> Result<(), StoreError> {
        match &mut self.feed {
            Some(feed) => feed.store(&mut *self.store.backend, false),
            None => Ok(()),
        }
    }

    fn stored(&mut self, warnings: &Warnings) {
        self.totals.reports += 1;
        if !warnings.is_empty() {
            self.totals.warned += 1;
        }
    }

    /// Stores one aggregate report; `stored` is set to the new report's row as soon as it
    /// exists, so that a parse error further on can remove it again.
    fn aggregate_inner(
        &mut self,
        location: &str,
        header: &AggregateHeader,
        reader: &mut impl RecordSource,
        stored: &mut Option<i64>,
    ) -> Result<Result<(), ParseError>, StoreError> {
        let meta = &header.metadata;
        let policy = &header.policy;
        // A report parsed ahead is stored with its totals in one INSERT; a streamed one gets
        // them by an UPDATE once its last record is read.
        let known = reader
            .known_end()
            .map(|trailer| ending(trailer, &meta.errors));
        let mut detail = || {
            reader
                .take_detail()
                .unwrap_or_else(|| aggregate_detail(header))
        };
        let (records, messages, warned, detail) = match &known {
            Some(end) => (
                end.records,
                end.messages,
                end.warnings.clone(),
                end.detail.clone().unwrap_or_else(detail),
            ),
            None => (0, 0, None, detail()),
        };
        let report = self.store.backend.insert_id(
            "INSERT INTO reports (kind, org_name, report_id, input_id, location, domain, date_begin, date_end, \
             detail, schema_name, email, policy_p, policy_sp, policy_np, policy_adkim, policy_aspf, policy_pct, \
             policy_testing, records, messages, warnings, period) VALUES ('aggregate', $1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT (kind, org_name, report_id, period) DO NOTHING",
            &[
                meta.org_name.as_str().into(),
                meta.report_id.as_str().into(),
                Value::Int(self.input),
                location.into(),
                policy.domain.as_str().into(),
                meta.begin.into(),
                meta.end.into(),
                Value::Text(detail),
                header.schema.as_str().into(),
                meta.email.clone().into(),
                policy.p.clone().into(),
                policy.sp.clone().into(),
                policy.np.clone().into(),
                policy.adkim.clone().into(),
                policy.aspf.clone().into(),
                policy.pct.into(),
                policy.testing.clone().into(),
                Value::Int(records),
                Value::Int(messages),
                warned.into(),
                Value::Text(period(&policy.domain, meta.begin, meta.end)),
            ],
        )?;
        let Some(report) = report else {
            if let Some(all) = reader.take_all() {
                reader.give_back(all);
            }
            self.totals.duplicates += 1;
            return Ok(Ok(()));
        };
        *stored = Some(report);
        if let Some(added) = self.store.added() {
            added.reports.push(report);
        }
        let took_all = match reader.take_all() {
            Some(all) => {
                self.store.backend.insert_records(report, &all)?;
                reader.give_back(all);
                true
            }
            None => false,
        };
        // The first batch is stored here; only a report with more records than that starts
        // the storing thread, so the many small reports pay nothing for it.
        // Sized to the report when its length is known: a full batch is 300 KB, which a
        // report of a few records would allocate (and the allocator zero) for nothing.
        let expected = match &known {
            _ if took_all => 0,
            Some(end) => usize::try_from(end.records).unwrap_or(RECORD_BATCH),
            None => RECORD_BATCH,
        };
        let mut batch: Vec<Record> = Vec::with_capacity(expected.min(RECORD_BATCH));
        while batch.len() < RECORD_BATCH {
            match reader.next_record() {
                Ok(Some(record)) => batch.push(record),
                Ok(None) => break,
                Err(err) => return Ok(Err(err)),
            }
        }
        if batch.len() < RECORD_BATCH {
            self.store.backend.insert_records(report, &batch)?;
        } else if let Err(err) = store_pipelined(
            &mut *self.store.backend,
            report,
            reader,
            batch,
            self.feed.as_mut(),
        )? {
            return Ok(Err(err));
        }
        let trailer = match reader.finish() {
            Ok(trailer) => trailer,
            Err(err) => return Ok(Err(err)),
        };
        let end = match known {
            Some(end) => end,
            None => {
                let end = ending(&trailer, &meta.errors);
                self.store.backend.execute(
                    "UPDATE reports SET records = $1, messages = $2, warnings = $3 WHERE id = $4",
                    &[
                        Value::Int(end.records),
                        Value::Int(end.messages),
                        end.warnings.clone().into(),
                        Value::Int(report),
                    ],
                )?;
                if let Some(detail) = &end.detail {
                    self.store.backend.execute(
                        "UPDATE reports SET detail = $1 WHERE id = $2",
                        &[Value::Text(detail.clone()), Value::Int(report)],
                    )?;
                }
                end
            }
        };
        self.totals.reports += 1;
        if end.warnings.is_some() {
            self.totals.warned += 1;
        }
        self.totals.records += trailer.records;
        self.totals.kinds.aggregate += 1;
        Ok(Ok(()))
    }

    /// Stores one aggregate report (header read, records to pull from `reader`); a report
    /// that breaks halfway is deleted again and its error recorded.
    fn aggregate_from(
        &mut self,
        location: &str,
        header: &AggregateHeader,
        reader: &mut impl RecordSource,
    ) -> Result<(), StoreError> {
        self.store_archive()?;
        let before = self.totals.clone();
        let mut stored = None;
        let parse = match self.aggregate_inner(location, header, reader, &mut stored)? {
            Ok(()) => return Ok(()),
            Err(parse) => parse,
        };
        if let Some(report) = stored {
            self.store.delete_report(report)?;
        }
        self.totals = before;
        self.record_error(location, &parse)
    }

    fn record_error(&mut self, location: &str, error: &ParseError) -> Result<(), StoreError> {
        let inserted = self.store.backend.execute(
            "INSERT INTO ingest_errors (input_id, path, location, error, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (input_id, location) DO NOTHING",
            &[
                Value::Int(self.input),
                self.path.as_str().into(),
                location.into(),
                Value::Text(error.to_string()),
                Value::Int(self.now),
            ],
        )?;
        if inserted > 0
            && let Some(added) = self.store.added()
        {
            added.errors.push((self.input, location.to_owned()));
        }
        self.totals.errors.push(IngestError {
            path: self.path.clone(),
            location: location.to_owned(),
            error: error.to_string(),
        });
        Ok(())
    }

    /// Runs `body` inside a savepoint: rolled back when it reports a parse error, which is then
    /// recorded.
    fn in_savepoint<F>(&mut self, location: &str, body: F) -> Result<(), StoreError>
    where
        F: FnOnce(&mut Self) -> Result<Result<(), ParseError>, StoreError>,
    {
        self.store.backend.batch("SAVEPOINT report")?;
        let before = self.totals.clone();
        match body(self) {
            Ok(Ok(())) => self.store.backend.batch("RELEASE SAVEPOINT report"),
            Ok(Err(parse)) => {
                self.store
                    .backend
                    .batch("ROLLBACK TO SAVEPOINT report; RELEASE SAVEPOINT report")?;
                self.totals = before;
                self.record_error(location, &parse)
            }
            Err(store) => {
                // Leave no savepoint open behind the error; the caller undoes the file.
                let _ = self
                    .store
                    .backend
                    .batch("ROLLBACK TO SAVEPOINT report; RELEASE SAVEPOINT report");
                Err(store)
            }
        }
    }
}

impl Visitor for StoreVisitor<'_> {
    type Error = StoreError;

    /// No savepoint here, unlike the other kinds: SQLite journals the pages every statement
    /// touches into one in-memory sub-journal for as long as a savepoint is open and walks
    /// that whole journal at the end of each statement, which made a report of 10^6 records
    /// quadratic. A report that breaks halfway is deleted instead, inside the same input
    /// transaction.
    fn aggregate(
        &mut self,
        location: &str,
        mut reader: AggregateReader<Box<dyn BufRead + '_>>,
    ) -> Result<(), StoreError> {
        let header = reader.header().clone();
        self.aggregate_from(location, &header, &mut reader)
    }

    fn tls(&mut self, location: &str, report: TlsReport) -> Result<(), StoreError> {
        self.store_archive()?;
        self.in_savepoint(location, |this| {
            let domain = report.policies.first().map(|p| p.policy.policy_domain.clone());
            let detail = serde_json::to_value(&report).unwrap_or_default();
            let Some(id) = this.insert_report(
                "tls",
                &report.organization_name,
                &report.report_id,
                location,
                domain.as_deref(),
                report.start_timestamp(),
                report.end_timestamp(),
                detail,
                &report.warnings,
            )?
            else {
                this.totals.duplicates += 1;
                return Ok(Ok(()));
            };
            for (index, result) in report.policies.iter().enumerate() {
                let index = i64::try_from(index).unwrap_or(i64::MAX);
                let policy = &result.policy;
                this.store.backend.execute(
                    "INSERT INTO tls_policies (report_id, policy_index, policy_type, policy_domain, mx_host, \
                     policy_string, successful, failed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    &[
                        Value::Int(id),
                        Value::Int(index),
                        policy.policy_type.as_str().into(),
                        policy.policy_domain.as_str().into(),
                        Value::from((!policy.mx_host.is_empty()).then(|| policy.mx_host.join(" "))),
                        Value::from((!policy.policy_string.is_empty()).then(|| policy.policy_string.join("\n"))),
                        Value::Int(result.summary.total_successful_session_count),
                        Value::Int(result.summary.total_failure_session_count),
                    ],
                )?;
                for failure in &result.failure_details {
                    this.store.backend.execute(
                        "INSERT INTO tls_failures (report_id, policy_index, result_type, sending_mta_ip, \
                         receiving_mx_hostname, receiving_ip, failed_count, failure_reason_code, \
                         additional_information) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        &[
                            Value::Int(id),
                            Value::Int(index),
                            failure.result_type.to_ascii_lowercase().into(),
                            failure.sending_mta_ip.clone().into(),
                            failure.receiving_mx_hostname.clone().into(),
                            failure.receiving_ip.clone().into(),
                            Value::Int(failure.failed_session_count),
                            failure.failure_reason_code.clone().into(),
                            failure.additional_information.clone().into(),
                        ],
                    )?;
                }
            }
            this.stored(&report.warnings);
            this.totals.kinds.tls += 1;
            Ok(Ok(()))
        })
    }

    fn feedback(&mut self, location: &str, report: FeedbackReport) -> Result<(), StoreError> {
        self.store_archive()?;
        self.in_savepoint(location, |this| {
            let kind = if report.is_auth_failure() { "failure" } else { "arf" };
            let org = report
                .reporting_mta
                .clone()
                .or_else(|| report.user_agent.clone())
                .unwrap_or_else(|| "unknown".to_owned());
            let domain = report
                .reported_domain
                .first()
                .cloned()
                .or_else(|| report.original_from_domain.clone())
                .or_else(|| report.dkim_domain.clone());
            let detail = serde_json::json!({"reported_uri": report.reported_uri, "extra": json_pairs(&report.extra)});
            let Some(id) = this.insert_report(
                kind,
                &org,
                &report.digest,
                location,
                domain.as_deref(),
                report.arrival_timestamp,
                report.arrival_timestamp,
                detail,
                &report.warnings,
            )?
            else {
                this.totals.duplicates += 1;
                return Ok(Ok(()));
            };
            this.store.backend.execute(
                "INSERT INTO feedback (report_id, feedback_type, user_agent, version, source_ip, original_mail_from, \
                 original_rcpt_to, arrival_date, arrival_ts, reporting_mta, reported_domain, authentication_results, \
                 auth_failure, delivery_result, dkim_domain, feedback_id, original_from_domain) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
                &[
                    Value::Int(id),
                    report.feedback_type.as_str().into(),
                    report.user_agent.clone().into(),
                    report.version.clone().into(),
                    report.source_ip.clone().into(),
                    report.original_mail_from.clone().into(),
                    Value::from((!report.original_rcpt_to.is_empty()).then(|| report.original_rcpt_to.join(", "))),
                    report.arrival_date.clone().into(),
                    report.arrival_timestamp.into(),
                    report.reporting_mta.clone().into(),
                    Value::from((!report.reported_domain.is_empty()).then(|| report.reported_domain.join(", "))),
                    Value::from(
                        (!report.authentication_results.is_empty()).then(|| report.authentication_results.join("\n")),
                    ),
                    report.auth_failure.clone().into(),
                    report.delivery_result.clone().into(),
                    report.dkim_domain.clone().into(),
                    report.feedback_id.clone().into(),
                    report.original_from_domain.clone().into(),
                ],
            )?;
            this.stored(&report.warnings);
            if report.is_auth_failure() {
                this.totals.kinds.failure += 1;
            } else {
                this.totals.kinds.arf += 1;
            }
            Ok(Ok(()))
        })
    }

    fn failed(&mut self, location: &str, error: ParseError) -> Result<(), StoreError> {
        self.store_archive()?;
        self.record_error(location, &error)
    }
}

/// Parses the rest of a large aggregate report on this thread while a second thread stores
/// the records, `first` (a full batch) included. The two meet through a bounded channel of
/// record batches, so at most [`PIPELINE_DEPTH`] batches wait between them; stored batches
/// come back emptied and their records are recycled into the parser. Both use the same
/// connection and transaction, one after the other: the backend is lent to the storing
/// thread until it has stored everything sent, so a parse error found here still sees every
/// earlier record stored (and the caller deletes them), and a store error stops the parse.
/// The storing thread also stores the chunks of `feed` (the input's archive) as they come.
fn store_pipelined(
    backend: &mut dyn Backend,
    report: i64,
    reader: &mut impl RecordSource,
    first: Vec<Record>,
    mut feed: Option<&mut ArchiveFeed>,
) -> Result<Result<(), ParseError>, StoreError> {
    let (full_tx, full_rx) = mpsc::sync_channel::<Vec<Record>>(PIPELINE_DEPTH);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<Record>>();
    std::thread::scope(|scope| {
        let storer = scope.spawn(move || -> Result<(), StoreError> {
            for batch in full_rx {
                backend.insert_records(report, &batch)?;
                if let Some(feed) = feed.as_deref_mut() {
                    feed.store(backend, false)?;
                }
                // The parser may be done already; the batch is then simply dropped.
                let _ = empty_tx.send(batch);
            }
            Ok(())
        });
        let mut parsed = Ok(());
        let mut batch = first;
        loop {
            if batch.len() == RECORD_BATCH {
                if full_tx.send(batch).is_err() {
                    // The storing thread stopped on an error, which `join` returns below.
                    batch = Vec::new();
                    break;
                }
                batch = match empty_rx.try_recv() {
                    Ok(mut spare) => {
                        for record in spare.drain(..) {
                            reader.recycle(record);
                        }
                        spare
                    }
                    Err(_) => Vec::with_capacity(RECORD_BATCH),
                };
            }
            match reader.next_record() {
                Ok(Some(record)) => batch.push(record),
                Ok(None) => break,
                Err(err) => {
                    parsed = Err(err);
                    break;
                }
            }
        }
        if parsed.is_ok() && !batch.is_empty() {
            // An error here means the storing thread failed; `join` returns it.
            let _ = full_tx.send(batch);
        }
        drop(full_tx);
        let stored = storer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        stored.map(|()| parsed)
    })
}

/// Most inputs in one shared transaction. Kept smallish so that SQLite's WAL is copied into
/// the database (on a helper thread, after each commit) while the ingest goes on, rather
/// than all of it when the store closes.
const GROUP_INPUTS: usize = 250;
/// A shared transaction is committed once its inputs hold this many records...
const GROUP_RECORDS: u64 = 25_000;
/// ... or once it has been open this long, so that a killed ingest loses little work.
const GROUP_AGE: std::time::Duration = std::time::Duration::from_secs(2);

/// The transaction that several small inputs share, each in a savepoint of its own
/// (PostgreSQL) or with a list of the rows it added (SQLite).
#[derive(Debug)]
pub(crate) struct Group {
    inputs: usize,
    records: u64,
    opened: std::time::Instant,
    /// The rows the file being stored added so far, when they are listed.
    added: Option<Added>,
}

/// The rows one file added to a shared SQLite transaction, so that a store failure can take
/// them out again and leave the files before it as they were. SQLite gets this list instead
/// of a savepoint per file: while a savepoint is open, SQLite copies every page a statement
/// changes for the first time into its statement journal (a tenth of the storing thread's
/// time with thousands of small files). PostgreSQL needs its savepoint: a failed statement
/// there spoils the whole transaction until rolled back to one.
#[derive(Debug, Default)]
pub(crate) struct Added {
    /// The file's `inputs` row, when the file was new.
    input: Option<i64>,
    /// Rows added to `reports` (with their records, policies or feedback).
    reports: Vec<i64>,
    /// Rows added to `ingest_errors`, by input and location.
    errors: Vec<(i64, String)>,
    /// Rows of `ingest_errors` that reading a known input again deleted ([`Store::forget_errors`]),
    /// whole, to be put back with the rest of the file's work undone.
    forgotten: Vec<Vec<Value>>,
}

/// The columns of `ingest_errors`, in the order [`Added::forgotten`] keeps them.
const ERROR_COLUMNS: &str = "id, input_id, path, location, error, created_at";

impl Store {
    /// What the file being stored added so far, when it is listed.
    fn added(&mut self) -> Option<&mut Added> {
        self.group.as_mut().and_then(|group| group.added.as_mut())
    }

    /// Deletes report `report` with the rows that hang off it, of whatever kind.
    fn delete_report(&mut self, report: i64) -> Result<(), StoreError> {
        let id = [Value::Int(report)];
        let records = format!(
            "DELETE FROM aggregate_records WHERE {}",
            crate::store::schema::records_of(self.backend.dialect(), "aggregate_records", "$1")
        );
        for sql in [
            records.as_str(),
            "DELETE FROM tls_failures WHERE report_id = $1",
            "DELETE FROM tls_policies WHERE report_id = $1",
            "DELETE FROM feedback WHERE report_id = $1",
            "DELETE FROM reports WHERE id = $1",
        ] {
            self.backend.execute(sql, &id)?;
        }
        Ok(())
    }

    /// Deletes the rows of `added` and puts back the error rows it forgot.
    fn take_out(&mut self, added: &Added) -> Result<(), StoreError> {
        for &report in &added.reports {
            self.delete_report(report)?;
        }
        for (input, location) in &added.errors {
            self.backend.execute(
                "DELETE FROM ingest_errors WHERE input_id = $1 AND location = $2",
                &[Value::Int(*input), location.as_str().into()],
            )?;
        }
        let restore =
            format!("INSERT INTO ingest_errors ({ERROR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        for row in &added.forgotten {
            self.backend.execute(&restore, row)?;
        }
        if let Some(input) = added.input {
            let id = [Value::Int(input)];
            for sql in [
                "DELETE FROM input_chunks WHERE input_id = $1",
                "DELETE FROM ingest_errors WHERE input_id = $1",
                "DELETE FROM inputs WHERE id = $1",
            ] {
                self.backend.execute(sql, &id)?;
            }
        }
        Ok(())
    }
}

/// Reads a file into memory and hashes it when it is small enough; a larger one is only
/// measured here (it is hashed as it is archived).
pub(crate) fn read_input(path: &Path) -> Result<Input, StoreError> {
    let reading = |e| io_error(format!("reading '{}'", path.display()))(e);
    let mut file = std::fs::File::open(path).map_err(reading)?;
    let size = file.metadata().map_err(reading)?.len();
    if size <= IN_MEMORY {
        // One open and one stat for the size and the read; a file that grew since is read
        // to its end all the same.
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
        file.read_to_end(&mut bytes).map_err(reading)?;
        return Ok(Input {
            sha: Some(hex(&Sha256::digest(&bytes))),
            size: bytes.len() as u64,
            whole: Some(bytes),
        });
    }
    // Hashed while it is archived, in parallel with the parse.
    Ok(Input {
        whole: None,
        sha: None,
        size,
    })
}

impl Store {
    /// Ingests one file (any container or report kind) in one transaction of its own,
    /// committed before this returns. `now` is the ingest time in seconds since the epoch. A
    /// report that fails to parse is recorded and skipped; only a store failure (or an
    /// unreadable file) is an `Err`, and then nothing of this file is kept.
    pub fn ingest_file(
        &mut self,
        path: &Path,
        limits: &Limits,
        now: i64,
    ) -> Result<IngestTotals, StoreError> {
        self.commit_group()?;
        let input = read_input(path)?;
        self.ingest_alone(path, input, limits, now)
    }

    /// Ingests `files` in order, as [`Store::ingest_file`] would one by one, but faster: a
    /// second thread reads, hashes, archives and parses the small files (up to 1 MB) ahead
    /// of the storing, and small files share transactions. Each file is still stored whole
    /// or not at all (on a store failure what it added is taken out again); a shared
    /// transaction is committed after 250 files, 25,000 records or two seconds, before a
    /// large file (which gets a transaction of its own, as with `ingest_file`) and at the
    /// end. An ingest killed midway thus loses the files of the open transaction, which a
    /// rerun stores. `now` gives the ingest time, `progress` is told the index of each file
    /// as its storing starts. A file that cannot be opened or read (gone since it was
    /// listed, say) is listed in [`IngestTotals::unreadable`] and the rest goes on. On a store
    /// failure (or a large file whose reading fails midway) the files before it are kept and
    /// the failing file's index is returned with the error.
    pub fn ingest_files(
        &mut self,
        files: &[PathBuf],
        limits: &Limits,
        now: &dyn Fn() -> i64,
        progress: &mut dyn FnMut(usize),
    ) -> Result<IngestTotals, (usize, StoreError)> {
        self.commit_group().map_err(|err| (0, err))?;
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        read_ahead(files, limits, cores, |ahead, give_back| {
            self.store_ahead(files, limits, ahead, give_back, now, progress)
        })
    }

    /// [`Store::ingest_files`] into the store at `url`, which is opened (created and
    /// migrated when new) while the reading threads already start on the first files:
    /// creating an SQLite file waits on the disk for a while. The error comes with the
    /// index of the failing file, or `None` when the store could not be opened.
    pub fn open_and_ingest_files(
        url: &DbUrl,
        files: &[PathBuf],
        limits: &Limits,
        now: &dyn Fn() -> i64,
        progress: &mut dyn FnMut(usize),
    ) -> Result<IngestTotals, (Option<usize>, StoreError)> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        read_ahead(files, limits, cores, |ahead, give_back| {
            let mut store = Store::open(url).map_err(|err| (None, err))?;
            store
                .store_ahead(files, limits, ahead, give_back, now, progress)
                .map_err(|(index, err)| (Some(index), err))
        })
    }

    /// Stores the files `ahead` hands over, then commits.
    fn store_ahead(
        &mut self,
        files: &[PathBuf],
        limits: &Limits,
        ahead: &mut dyn Iterator<Item = (usize, Ahead)>,
        give_back: &dyn Fn(usize, Vec<Record>),
        now: &dyn Fn() -> i64,
        progress: &mut dyn FnMut(usize),
    ) -> Result<IngestTotals, (usize, StoreError)> {
        let mut stored = || {
            let mut totals = IngestTotals::default();
            for (index, item) in &mut *ahead {
                progress(index);
                let path = &files[index];
                let one = match item {
                    Ahead::Ready(prepared) => {
                        let now = now();
                        self.in_group(|store| {
                            store.store_prepared(path, *prepared, now, &mut |records| {
                                give_back(index, records)
                            })
                        })
                    }
                    Ahead::Stream(input) => self
                        .commit_group()
                        .and_then(|()| self.ingest_alone(path, input, limits, now())),
                    Ahead::Failed(err) => {
                        totals.unreadable.push(IngestError {
                            path: path.display().to_string(),
                            location: String::new(),
                            error: err.to_string(),
                        });
                        continue;
                    }
                };
                match one {
                    Ok(one) => totals.merge(one),
                    Err(err) => return Err((index, err)),
                }
            }
            Ok(totals)
        };
        let stored = stored();
        let committed = self.commit_group();
        let totals = stored?;
        committed.map_err(|err| (files.len().saturating_sub(1), err))?;
        Ok(totals)
    }

    /// Ingests a file already read in a transaction of its own.
    fn ingest_alone(
        &mut self,
        path: &Path,
        input: Input,
        limits: &Limits,
        now: i64,
    ) -> Result<IngestTotals, StoreError> {
        self.backend.batch("BEGIN")?;
        let result = self.ingest_file_in_transaction(path, &input, limits, now);
        match result {
            Ok((totals, true)) => {
                self.backend.batch("COMMIT")?;
                Ok(totals)
            }
            Ok((totals, false)) => {
                self.backend.batch("ROLLBACK")?;
                Ok(totals)
            }
            Err(err) => {
                // The connection may be gone; the original error is what matters.
                let _ = self.backend.batch("ROLLBACK");
                Err(err)
            }
        }
    }

    /// Runs `body` (the storing of one file) in the shared transaction, opening it when none
    /// is open and committing it when it is full. A store error undoes this file alone: a
    /// rollback to its savepoint (PostgreSQL) or the deletion of the rows it added (SQLite);
    /// when that fails, or SQLite ended the transaction itself, the whole group is lost.
    fn in_group(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<IngestTotals, StoreError>,
    ) -> Result<IngestTotals, StoreError> {
        if self.group.is_none() {
            self.backend.control("BEGIN")?;
            self.group = Some(Group {
                inputs: 0,
                records: 0,
                opened: std::time::Instant::now(),
                added: None,
            });
        }
        let listed = self.backend.dialect() == Dialect::Sqlite;
        let result = if listed {
            if let Some(group) = self.group.as_mut() {
                group.added = Some(Added::default());
            }
            body(self)
        } else {
            self.backend
                .control("SAVEPOINT input")
                .and_then(|()| body(self))
        };
        let added = self.group.as_mut().and_then(|group| group.added.take());
        match result {
            Ok(totals) => {
                if !listed {
                    self.backend.control("RELEASE SAVEPOINT input")?;
                }
                let full = self.group.as_mut().is_some_and(|group| {
                    group.inputs += 1;
                    group.records += totals.records;
                    group.inputs >= GROUP_INPUTS
                        || group.records >= GROUP_RECORDS
                        || group.opened.elapsed() >= GROUP_AGE
                });
                if full {
                    self.commit_group()?;
                }
                Ok(totals)
            }
            Err(err) => {
                let undone = match &added {
                    None => self
                        .backend
                        .batch("ROLLBACK TO SAVEPOINT input; RELEASE SAVEPOINT input")
                        .is_ok(),
                    // SQLite ends the transaction itself on some errors (a full disk, an
                    // I/O error): the earlier files are then lost with it.
                    Some(added) => self.backend.in_transaction() && self.take_out(added).is_ok(),
                };
                if !undone {
                    // The connection may be gone: give up the whole group.
                    self.group = None;
                    let _ = self.backend.batch("ROLLBACK");
                }
                Err(err)
            }
        }
    }

    /// Commits the transaction shared by small files, if one is open.
    fn commit_group(&mut self) -> Result<(), StoreError> {
        if self.group.take().is_some() {
            if let Err(err) = self.backend.control("COMMIT") {
                let _ = self.backend.batch("ROLLBACK");
                return Err(err);
            }
            self.backend.committed();
        }
        Ok(())
    }

    /// The `inputs` row of a file, and whether it was just added.
    fn input_row(
        &mut self,
        shown: &str,
        sha: &str,
        size: u64,
        now: i64,
    ) -> Result<(i64, bool), StoreError> {
        // One statement for a new input (the usual case), a second to find a known one.
        let added = self.backend.insert_id(
            "INSERT INTO inputs (sha256, path, size, ingested_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (sha256) DO NOTHING",
            &[
                sha.into(),
                shown.into(),
                Value::Int(i64::try_from(size).unwrap_or(i64::MAX)),
                Value::Int(now),
            ],
        )?;
        if let Some(id) = added {
            if let Some(added) = self.added() {
                added.input = Some(id);
            }
            return Ok((id, true));
        }
        let id = self
            .backend
            .query("SELECT id FROM inputs WHERE sha256 = $1", &[sha.into()])?
            .first()
            .and_then(|r| r.first())
            .map_or(0, Value::int);
        Ok((id, false))
    }

    /// Stores a file prepared by the reading thread; `give_back` gets the records once they
    /// are stored.
    fn store_prepared(
        &mut self,
        path: &Path,
        prepared: Prepared,
        now: i64,
        give_back: &mut dyn FnMut(Vec<Record>),
    ) -> Result<IngestTotals, StoreError> {
        let shown = path.display().to_string();
        let (input, new) = self.input_row(&shown, &prepared.sha, prepared.size, now)?;
        if new {
            for (seq, chunk) in (0..).zip(prepared.archive) {
                insert_chunk(&mut *self.backend, input, seq, chunk)?;
            }
        } else {
            self.forget_errors(input)?;
        }
        self.visit_input(input, shown, now, None, |visitor| {
            for report in prepared.reports {
                match report {
                    Parsed::Aggregate {
                        location,
                        header,
                        detail,
                        records,
                        end,
                    } => {
                        let mut parsed = ParsedRecords {
                            records,
                            taken: 0,
                            end: Some(end),
                            detail: Some(detail),
                            spent: None,
                        };
                        visitor.aggregate_from(&location, &header, &mut parsed)?;
                        if let Some(spent) = parsed.spent.take() {
                            give_back(spent);
                        }
                    }
                    Parsed::Tls { location, report } => visitor.tls(&location, *report)?,
                    Parsed::Feedback { location, report } => {
                        visitor.feedback(&location, *report)?
                    }
                    Parsed::Failed { location, error } => visitor.failed(&location, error)?,
                }
            }
            Ok(())
        })
    }

    /// Removes the errors recorded for an input stored before, which is read again now: what
    /// still fails is recorded again, and what a newer inkan reads no longer shows in
    /// `inkan reports errors`.
    fn forget_errors(&mut self, input: i64) -> Result<(), StoreError> {
        if self.added().is_some() {
            let rows = self.backend.query(
                &format!("SELECT {ERROR_COLUMNS} FROM ingest_errors WHERE input_id = $1"),
                &[Value::Int(input)],
            )?;
            if let Some(added) = self.added() {
                added.forgotten.extend(rows);
            }
        }
        self.backend.execute(
            "DELETE FROM ingest_errors WHERE input_id = $1",
            &[Value::Int(input)],
        )?;
        Ok(())
    }

    /// Moves what the provisional input row `provisional` got in this transaction (its reports
    /// and errors) to `known`, the row of the same input stored before, whose old errors it
    /// replaces, and removes `provisional` with the archive written under it.
    fn adopt(&mut self, provisional: i64, known: i64) -> Result<(), StoreError> {
        self.forget_errors(known)?;
        let ids = [Value::Int(known), Value::Int(provisional)];
        for sql in [
            "UPDATE reports SET input_id = $1 WHERE input_id = $2",
            "UPDATE ingest_errors SET input_id = $1 WHERE input_id = $2",
        ] {
            self.backend.execute(sql, &ids)?;
        }
        for sql in [
            "DELETE FROM input_chunks WHERE input_id = $1",
            "DELETE FROM inputs WHERE id = $1",
        ] {
            self.backend.execute(sql, &[Value::Int(provisional)])?;
        }
        Ok(())
    }

    /// Runs `visit` (which stores the reports of one input) with a visitor for `input`, and
    /// returns what it stored, counting the one file.
    fn visit_input(
        &mut self,
        input: i64,
        shown: String,
        now: i64,
        feed: Option<ArchiveFeed>,
        visit: impl FnOnce(&mut StoreVisitor<'_>) -> Result<(), StoreError>,
    ) -> Result<IngestTotals, StoreError> {
        let mut visitor = StoreVisitor {
            store: self,
            input,
            path: shown,
            now,
            totals: IngestTotals::default(),
            feed,
        };
        visit(&mut visitor)?;
        if let Some(mut feed) = visitor.feed.take() {
            feed.store(&mut *visitor.store.backend, true)?;
        }
        let mut totals = visitor.totals;
        totals.files = 1;
        Ok(totals)
    }

    /// Stores one input read by [`read_input`]; returns what it stored and whether to
    /// commit. A new input is archived on a second thread while this one parses and stores
    /// its reports; an input too large to hold in memory is hashed in that same reading, so
    /// its row gets a provisional digest until the end. When it turns out to be an input
    /// stored before, nothing of it is kept (the caller rolls back) unless this reading stored
    /// reports or met errors, or the earlier one had met some: those then move to the earlier
    /// input's row ([`Store::adopt`]).
    fn ingest_file_in_transaction(
        &mut self,
        path: &Path,
        file: &Input,
        limits: &Limits,
        now: i64,
    ) -> Result<(IngestTotals, bool), StoreError> {
        let shown = path.display().to_string();
        let whole = file.whole.as_deref();
        let (input, new) = match &file.sha {
            Some(sha) => self.input_row(&shown, sha, file.size, now)?,
            None => (self.provisional_input_row(&shown, file.size, now)?, true),
        };
        let reader: Box<dyn BufRead + '_> = match whole {
            Some(bytes) => Box::new(bytes),
            None => file_reader(
                std::fs::File::open(path).map_err(io_error(format!("opening '{shown}'")))?,
            ),
        };
        if !new {
            self.forget_errors(input)?;
            let totals = self.visit_input(input, shown, now, None, |visitor| {
                walk(reader, "", 0, limits, visitor)
            })?;
            return Ok((totals, true));
        }
        let archive_source: Box<dyn Read + Send + '_> = match whole {
            Some(bytes) => Box::new(bytes),
            None => {
                Box::new(std::fs::File::open(path).map_err(io_error(format!("opening '{shown}'")))?)
            }
        };
        let mut archiver = std::mem::take(&mut self.archiver);
        let hash = file.sha.is_none();
        let (visited, archived) = std::thread::scope(|scope| {
            let (tx, rx) = mpsc::sync_channel(ARCHIVE_DEPTH);
            let archiving = scope.spawn(|| {
                let tx = tx;
                archiver.archive_to(archive_source, &shown, hash, &tx)
            });
            let feed = ArchiveFeed { rx, input, seq: 0 };
            let visited = self.visit_input(input, shown.clone(), now, Some(feed), |visitor| {
                walk(reader, "", 0, limits, visitor)
            });
            let archived = archiving
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (visited, archived)
        });
        self.archiver = archiver;
        let totals = visited?;
        let Some((sha, size)) = archived? else {
            return Ok((totals, true));
        };
        let known = self.backend.query(
            "SELECT id FROM inputs WHERE sha256 = $1",
            &[sha.as_str().into()],
        )?;
        if let Some(known) = known.first().and_then(|row| row.first()).map(Value::int) {
            // Stored whole before. When nothing new was stored and nothing failed, now or then,
            // there is nothing to keep (the caller rolls back, the archive written again too).
            let failed_before = !self
                .backend
                .query(
                    "SELECT 1 FROM ingest_errors WHERE input_id = $1 LIMIT 1",
                    &[Value::Int(known)],
                )?
                .is_empty();
            if totals.reports == 0 && totals.errors.is_empty() && !failed_before {
                return Ok((totals, false));
            }
            // Otherwise it was read differently this time (an upgrade, other limits): what it
            // holds now belongs to the input stored before.
            self.adopt(input, known)?;
            return Ok((totals, true));
        }
        self.backend.execute(
            "UPDATE inputs SET sha256 = $1, size = $2 WHERE id = $3",
            &[
                sha.into(),
                Value::Int(i64::try_from(size).unwrap_or(i64::MAX)),
                Value::Int(input),
            ],
        )?;
        Ok((totals, true))
    }

    /// The `inputs` row of an input not hashed yet, under a digest no real input has
    /// (`pending:` and what makes it unique), which the caller replaces before committing.
    fn provisional_input_row(
        &mut self,
        shown: &str,
        size: u64,
        now: i64,
    ) -> Result<i64, StoreError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let pending = format!("pending:{}:{nanos}:{shown}", std::process::id());
        Ok(self.input_row(shown, &pending, size, now)?.0)
    }
}
