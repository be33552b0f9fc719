//! DMARC aggregate reports: RFC 9990 (namespace `urn:ietf:params:xml:ns:dmarc-2.0`), the
//! RFC 7489 appendix C schema and the older draft schema, read by one lenient streaming
//! reader. The header (`<version>`, `<report_metadata>`, `<policy_published>`) is read first;
//! records are then pulled one at a time, so a report of a million records is never in
//! memory whole.

mod encoding;
mod metadata;
mod policy;
mod record;
mod value;
pub(crate) mod xml;

use std::io::BufRead;

use serde::Serialize;

pub use metadata::ReportMetadata;
pub use policy::PolicyPublished;
pub use record::{DkimAuth, Reason, Record, SpfAuth};
pub(crate) use record::{record_list, recycle_here};

use crate::error::ParseError;
use crate::limits::Limits;
use crate::warnings::Warnings;
use record::RecordBuilder;
use xml::{Item, XmlPull};

/// RFC 9990's XML namespace.
pub const RFC9990_NAMESPACE: &str = "urn:ietf:params:xml:ns:dmarc-2.0";

/// Which schema a report follows, judged from its namespace and elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Schema {
    /// RFC 9990 (its namespace, or elements only it has).
    Rfc9990,
    /// RFC 7489 appendix C.
    Rfc7489,
    /// The pre-RFC draft schema (`<version>0.1</version>`, no SPF scope).
    Draft,
}

impl Schema {
    /// The name used in the store and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Schema::Rfc9990 => "rfc9990",
            Schema::Rfc7489 => "rfc7489",
            Schema::Draft => "draft",
        }
    }
}

/// Everything in a report before its first record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AggregateHeader {
    /// The schema the report follows.
    pub schema: Schema,
    /// `<version>`, when present.
    pub version: Option<String>,
    /// `<report_metadata>`.
    pub metadata: ReportMetadata,
    /// `<policy_published>`.
    pub policy: PolicyPublished,
    /// Unknown top-level elements before the first record, as `path = value`.
    pub extra: Vec<(String, String)>,
}

/// Records a report may hold before its metadata and policy (out of the schema's order) are
/// kept in memory up to this many; beyond, it is refused as missing them.
const RECORDS_BEFORE_HEADER: usize = 100_000;

/// A streaming reader of one aggregate report: [`AggregateReader::header`] first, then
/// [`AggregateReader::next_record`] until `None`, then [`AggregateReader::finish`].
#[derive(Debug)]
pub struct AggregateReader<R: BufRead> {
    pull: XmlPull<encoding::Decoded<R>>,
    header: AggregateHeader,
    /// Records read before the header was whole: the first one, or all those a report that
    /// puts its metadata after its records (out of schema order) has before it.
    ahead: std::collections::VecDeque<Record>,
    done: bool,
    trailing_extra: Vec<(String, String)>,
    warnings: Warnings,
    records: u64,
    messages: i64,
    builder: RecordBuilder,
}

/// What is known once the whole report was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AggregateTrailer {
    /// Records read.
    pub records: u64,
    /// Sum of their counts.
    pub messages: i64,
    /// Unknown top-level elements after the records (RFC 9990 `<extension>`s among them).
    pub extra: Vec<(String, String)>,
    /// Recoverable problems met.
    pub warnings: Warnings,
}

impl<R: BufRead> AggregateReader<R> {
    /// Reads up to the first record and checks that the report has the metadata and policy
    /// every record needs.
    pub fn new(input: R, limits: Limits) -> Result<Self, ParseError> {
        let (input, sniffed) = encoding::decoded(input)?;
        let mut warnings = Warnings::default();
        if let Some(label) = &sniffed.ignored {
            warnings.add(format!(
                "XML declaration names encoding '{label}', which cannot apply; read as UTF-8"
            ));
        }
        let mut pull = XmlPull::new(input, limits);
        let mut builder = RecordBuilder::default();
        let namespace = loop {
            match pull.next_item(&mut warnings, &mut builder)? {
                Item::Root { name, namespace } => {
                    if name != "feedback" {
                        return Err(ParseError::NotAggregate(name));
                    }
                    break namespace;
                }
                Item::Eof => return Err(ParseError::Missing("feedback")),
                Item::Child(_) | Item::Record | Item::RootEnd => {}
            }
        };
        let mut header = AggregateHeader {
            schema: Schema::Rfc7489,
            version: None,
            metadata: ReportMetadata::default(),
            policy: PolicyPublished::default(),
            extra: Vec::new(),
        };
        let (mut seen_meta, mut seen_policy) = (false, false);
        let mut ahead = std::collections::VecDeque::new();
        let mut done = false;
        loop {
            match pull.next_item(&mut warnings, &mut builder)? {
                Item::Record => {
                    ahead.push_back(builder.take());
                    if seen_meta && seen_policy {
                        break;
                    }
                    // Records before the metadata or the policy: kept until they come.
                    if ahead.len() > RECORDS_BEFORE_HEADER {
                        return Err(ParseError::Missing(if seen_meta {
                            "policy_published"
                        } else {
                            "report_metadata"
                        }));
                    }
                }
                Item::Child(node) => match node.name.as_str() {
                    "version" => header.version = Some(node.text.clone()),
                    "report_metadata" => {
                        header.metadata = ReportMetadata::from_node(&node, &mut warnings);
                        seen_meta = true;
                    }
                    "policy_published" => {
                        header.policy = PolicyPublished::from_node(&node, &mut warnings);
                        seen_policy = true;
                    }
                    _ => node.flatten_into("", &mut header.extra),
                },
                Item::RootEnd | Item::Eof => {
                    done = true;
                    break;
                }
                Item::Root { .. } => {}
            }
        }
        if !seen_meta {
            return Err(ParseError::Missing("report_metadata"));
        }
        if header.metadata.org_name.is_empty() {
            return Err(ParseError::Missing("org_name"));
        }
        if header.metadata.report_id.is_empty() {
            return Err(ParseError::Missing("report_id"));
        }
        if !seen_policy || header.policy.domain.is_empty() {
            return Err(ParseError::Missing("policy_published/domain"));
        }
        if ahead.len() > 1 || (done && !ahead.is_empty()) {
            warnings.add(
                "<report_metadata> or <policy_published> after records (out of schema order); \
                 read all the same",
            );
        }
        header.schema = detect_schema(namespace.as_deref(), &header);
        let mut reader = AggregateReader {
            pull,
            header,
            ahead: std::collections::VecDeque::new(),
            done,
            trailing_extra: Vec::new(),
            warnings,
            records: 0,
            messages: 0,
            builder,
        };
        for record in &ahead {
            reader.tally(record);
        }
        reader.ahead = ahead;
        Ok(reader)
    }

    /// The report's metadata and published policy.
    pub fn header(&self) -> &AggregateHeader {
        &self.header
    }

    fn tally(&mut self, record: &Record) {
        self.records += 1;
        self.messages = self.messages.saturating_add(record.count);
    }

    /// The next record, or `None` after the last.
    pub fn next_record(&mut self) -> Result<Option<Record>, ParseError> {
        if let Some(first) = self.ahead.pop_front() {
            return Ok(Some(first));
        }
        while !self.done {
            match self.pull.next_item(&mut self.warnings, &mut self.builder)? {
                Item::Record => {
                    let record = self.builder.take();
                    self.tally(&record);
                    return Ok(Some(record));
                }
                Item::Child(node) => {
                    node.flatten_into("", &mut self.trailing_extra);
                    self.pull.recycle(node);
                }
                Item::RootEnd | Item::Eof => self.done = true,
                Item::Root { .. } => {}
            }
        }
        Ok(None)
    }

    /// Takes back a record the caller is done with, so that the records read next reuse its
    /// allocations. Optional: records may also simply be dropped.
    pub fn recycle(&mut self, record: Record) {
        self.builder.recycle(record);
    }

    /// Reads whatever follows the last record and returns the totals and warnings.
    pub fn finish(mut self) -> Result<AggregateTrailer, ParseError> {
        self.finish_in_place()
    }

    /// [`AggregateReader::finish`] for a reader the caller keeps; it is empty afterwards.
    pub(crate) fn finish_in_place(&mut self) -> Result<AggregateTrailer, ParseError> {
        while self.next_record()?.is_some() {}
        if let Some((name, replaced)) = self.pull.input_mut().take_replaced()
            && replaced > 0
        {
            self.warnings.add_count(
                format!("bytes not valid in the declared encoding {name} replaced"),
                replaced,
            );
        }
        Ok(AggregateTrailer {
            records: self.records,
            messages: self.messages,
            extra: std::mem::take(&mut self.trailing_extra),
            warnings: std::mem::take(&mut self.warnings),
        })
    }
}

impl<R: BufRead> Iterator for AggregateReader<R> {
    type Item = Result<Record, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

fn detect_schema(namespace: Option<&str>, header: &AggregateHeader) -> Schema {
    let policy = &header.policy;
    if namespace == Some(RFC9990_NAMESPACE)
        || policy.np.is_some()
        || policy.testing.is_some()
        || policy.discovery_method.is_some()
        || header.metadata.generator.is_some()
    {
        return Schema::Rfc9990;
    }
    // The drafts before RFC 7489 numbered their format; RFC 7489 reports carry no version
    // or "1.0".
    if header
        .version
        .as_deref()
        .is_some_and(|v| v.starts_with("0."))
    {
        return Schema::Draft;
    }
    Schema::Rfc7489
}

/// Reads a whole report into memory: for tests and small reports. Large inputs should use
/// [`AggregateReader`] directly.
pub fn parse_aggregate(
    input: &[u8],
) -> Result<(AggregateHeader, Vec<Record>, AggregateTrailer), ParseError> {
    let mut reader = AggregateReader::new(input, Limits::default())?;
    let header = reader.header().clone();
    let mut records = Vec::new();
    while let Some(record) = reader.next_record()? {
        records.push(record);
    }
    let trailer = reader.finish()?;
    Ok((header, records, trailer))
}
