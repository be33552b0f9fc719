//! `<record>`: one row of an aggregate report (RFC 9990 section 3.1.3; RFC 7489 appendix C):
//! source IP, message count, the DMARC evaluation with override reasons (Google's
//! "Sender requirement failed: 550-5.7.30 ..." comments among them), the identifiers and the
//! underlying DKIM and SPF results. [`RecordBuilder`] fills a record from the elements the XML
//! layer reads, matched by where they are, without building a tree first.

use std::cell::RefCell;

use serde::Serialize;

use super::value;
use super::xml::Sink;
use crate::warnings::Warnings;

/// One `<reason>` in `<policy_evaluated>`: why the disposition differs from the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// `<type>`: forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy, other.
    pub kind: String,
    /// `<comment>`: free text; Google names the failed sender requirement here.
    pub comment: Option<String>,
}

/// One `<dkim>` in `<auth_results>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DkimAuth {
    /// `d=` of the signature.
    pub domain: String,
    /// `s=` of the signature.
    pub selector: Option<String>,
    /// none, pass, fail, policy, neutral, temperror, permerror.
    pub result: String,
    /// `<human_result>`.
    pub human_result: Option<String>,
}

/// One `<spf>` in `<auth_results>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpfAuth {
    /// The domain checked.
    pub domain: String,
    /// `mfrom` or `helo`.
    pub scope: Option<String>,
    /// none, neutral, pass, fail, softfail, temperror, permerror.
    pub result: String,
    /// `<human_result>`.
    pub human_result: Option<String>,
}

/// One record: a source IP and what happened to its messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    /// `<row><source_ip>`.
    pub source_ip: String,
    /// `<row><count>`: messages.
    pub count: i64,
    /// `<policy_evaluated><disposition>`: none, quarantine, reject (RFC 9990 adds pass).
    pub disposition: Option<String>,
    /// `<policy_evaluated><dkim>`: DKIM-aligned result, pass or fail.
    pub dkim_aligned: Option<String>,
    /// `<policy_evaluated><spf>`: SPF-aligned result, pass or fail.
    pub spf_aligned: Option<String>,
    /// `<policy_evaluated><reason>`s.
    pub reasons: Vec<Reason>,
    /// `<identifiers><header_from>`.
    pub header_from: Option<String>,
    /// `<identifiers><envelope_from>`.
    pub envelope_from: Option<String>,
    /// `<identifiers><envelope_to>`.
    pub envelope_to: Option<String>,
    /// `<auth_results><dkim>`s.
    pub dkim: Vec<DkimAuth>,
    /// `<auth_results><spf>`s.
    pub spf: Vec<SpfAuth>,
    /// Elements this schema does not know, as `path = value`.
    pub extra: Vec<(String, String)>,
}

impl Record {
    /// DMARC passes when either aligned result passes.
    pub fn dmarc_pass(&self) -> bool {
        self.dkim_aligned.as_deref() == Some("pass") || self.spf_aligned.as_deref() == Some("pass")
    }

    /// Empties this record into `spare` for the next one.
    pub(crate) fn recycle(self, spare: &mut Spare) {
        let Record {
            source_ip,
            disposition,
            dkim_aligned,
            spf_aligned,
            header_from,
            envelope_from,
            envelope_to,
            mut dkim,
            mut spf,
            ..
        } = self;
        spare.keep(source_ip);
        for text in [
            disposition,
            dkim_aligned,
            spf_aligned,
            header_from,
            envelope_from,
            envelope_to,
        ]
        .into_iter()
        .flatten()
        {
            spare.keep(text);
        }
        for auth in dkim.drain(..) {
            spare.keep(auth.domain);
            spare.keep(auth.result);
            if let Some(selector) = auth.selector {
                spare.keep(selector);
            }
        }
        for auth in spf.drain(..) {
            spare.keep(auth.domain);
            spare.keep(auth.result);
            if let Some(scope) = auth.scope {
                spare.keep(scope);
            }
        }
        if spare.dkim.len() < SPARE_LISTS {
            spare.dkim.push(dkim);
        }
        if spare.spf.len() < SPARE_LISTS {
            spare.spf.push(spf);
        }
    }
}

/// Most strings kept in a [`Spare`]: enough for the records of one store batch.
const SPARE_STRINGS: usize = 16 * 1024;
/// Most lists of each kind kept in a [`Spare`].
const SPARE_LISTS: usize = 1024;
/// Strings longer than this are not kept.
const SPARE_CAPACITY: usize = 256;

/// Allocations of records read earlier, for the next records.
#[derive(Debug, Default)]
pub(crate) struct Spare {
    strings: value::Pool,
    dkim: Vec<Vec<DkimAuth>>,
    spf: Vec<Vec<SpfAuth>>,
}

thread_local! {
    /// The allocations of the records this thread read before and got back: a builder
    /// starts from them and leaves its own here when dropped, so that the many small reports
    /// one thread reads one after the other reuse the records the store is done with.
    static THREAD_SPARE: RefCell<Spare> = RefCell::new(Spare::default());
}

thread_local! {
    /// Emptied lists of records handed back on this thread, for the records of the next
    /// reports it reads.
    static RECORD_LISTS: RefCell<Vec<Vec<Record>>> = const { RefCell::new(Vec::new()) };
}

/// Most emptied lists of records kept on a thread.
const SPARE_RECORD_LISTS: usize = 64;
/// Lists with room for more records than this are not kept.
const SPARE_RECORD_ROOM: usize = 1024;

/// Takes back records read on this thread (and passed on to another) for their allocations,
/// and their list, which the next reports this thread reads reuse.
pub(crate) fn recycle_here(mut records: Vec<Record>) {
    let _ = THREAD_SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        for record in records.drain(..) {
            record.recycle(&mut spare);
        }
    });
    if records.capacity() <= SPARE_RECORD_ROOM {
        let _ = RECORD_LISTS.try_with(|lists| {
            let mut lists = lists.borrow_mut();
            if lists.len() < SPARE_RECORD_LISTS {
                lists.push(records);
            }
        });
    }
}

/// An empty list for the records of one report: one handed back on this thread before
/// ([`recycle_here`]), so that it need not grow again record by record.
pub(crate) fn record_list() -> Vec<Record> {
    RECORD_LISTS
        .try_with(|lists| lists.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_default()
}

impl Spare {
    /// This thread's spare allocations, leaving it none.
    fn from_thread() -> Spare {
        THREAD_SPARE
            .try_with(|spare| std::mem::take(&mut *spare.borrow_mut()))
            .unwrap_or_default()
    }

    /// Leaves these allocations to this thread, unless it holds more already (two builders
    /// were alive at once).
    fn leave_to_thread(self) {
        let _ = THREAD_SPARE.try_with(|spare| {
            let mut spare = spare.borrow_mut();
            if self.strings.len() >= spare.strings.len() {
                *spare = self;
            }
        });
    }

    fn keep(&mut self, mut text: String) {
        if self.strings.len() < SPARE_STRINGS && text.capacity() <= SPARE_CAPACITY {
            text.clear();
            self.strings.push(text);
        }
    }
}

/// Where an open element of a record is, and so what its text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Record,
    Row,
    SourceIp,
    Count,
    Evaluated,
    Disposition,
    DkimAligned,
    SpfAligned,
    Reason,
    ReasonType,
    ReasonComment,
    /// A `<comment>` straight in `<policy_evaluated>`.
    EvaluatedComment,
    Identifiers,
    HeaderFrom,
    EnvelopeFrom,
    EnvelopeTo,
    AuthResults,
    Dkim,
    Spf,
    AuthDomain,
    AuthSelector,
    AuthScope,
    AuthResult,
    AuthHuman,
    /// An element the schema does not know: its leaves are kept as `path = value`.
    Extra,
    /// Inside an element whose own text is all that is read.
    Ignored,
}

/// The text of one child of a `<dkim>`, `<spf>` or `<reason>`: the first such child counts.
#[derive(Debug, Default)]
struct First {
    text: String,
    seen: bool,
}

impl First {
    fn set(&mut self, text: &str) {
        if !self.seen {
            self.text.clear();
            self.text.push_str(text);
            self.seen = true;
        }
    }

    fn get(&self) -> Option<&str> {
        self.seen.then_some(self.text.as_str())
    }
}

/// Fills a [`Record`] from the elements of one `<record>` as they close, with the strings and
/// lists of the records handed back through [`RecordBuilder::recycle`] (or, on the thread
/// that read them, [`recycle_here`]).
#[derive(Debug)]
pub(crate) struct RecordBuilder {
    record: Record,
    spare: Spare,
    places: Vec<Place>,
    /// The path of the innermost unknown element, and where each enclosing one's ends.
    path: String,
    path_ends: Vec<usize>,
    /// How many extras the record had when a `<policy_evaluated><comment>` opened.
    extras_before_comment: usize,
    /// Children of the open `<dkim>` or `<spf>`.
    auth_domain: First,
    auth_selector: First,
    auth_scope: First,
    auth_result: First,
    auth_human: First,
    /// Children of the open `<reason>`.
    reason_type: First,
    reason_comment: First,
}

impl Default for RecordBuilder {
    /// A builder with the spare allocations this thread holds.
    fn default() -> Self {
        RecordBuilder {
            record: Record::default(),
            spare: Spare::from_thread(),
            places: Vec::new(),
            path: String::new(),
            path_ends: Vec::new(),
            extras_before_comment: 0,
            auth_domain: First::default(),
            auth_selector: First::default(),
            auth_scope: First::default(),
            auth_result: First::default(),
            auth_human: First::default(),
            reason_type: First::default(),
            reason_comment: First::default(),
        }
    }
}

impl Drop for RecordBuilder {
    fn drop(&mut self) {
        std::mem::take(&mut self.spare).leave_to_thread();
    }
}

impl RecordBuilder {
    /// The record read last, leaving an empty one.
    pub(crate) fn take(&mut self) -> Record {
        std::mem::take(&mut self.record)
    }

    /// Takes back a record the caller is done with, for its allocations.
    pub(crate) fn recycle(&mut self, record: Record) {
        record.recycle(&mut self.spare);
    }

    /// An unknown element called `name` opened in the element at `prefix`.
    fn extra(&mut self, prefix: &str, name: &[u8]) -> Place {
        self.path.clear();
        self.path.push_str(prefix);
        self.path_ends.clear();
        self.descend(name)
    }

    /// Extends the path of the unknown element being kept by its child `name`.
    fn descend(&mut self, name: &[u8]) -> Place {
        self.path_ends.push(self.path.len());
        self.path.push('.');
        self.path.push_str(&String::from_utf8_lossy(name));
        Place::Extra
    }

    fn begin_auth(&mut self, place: Place) -> Place {
        for first in [
            &mut self.auth_domain,
            &mut self.auth_selector,
            &mut self.auth_scope,
            &mut self.auth_result,
            &mut self.auth_human,
        ] {
            first.seen = false;
        }
        place
    }

    /// Closes an unknown element: a leaf is kept with its path.
    fn end_extra(&mut self, text: &str, leaf: bool) {
        if leaf {
            self.record.extra.push((self.path.clone(), text.to_owned()));
        }
        let end = self.path_ends.pop().unwrap_or(0);
        self.path.truncate(end);
    }
}

// Both called once or twice per element, from the readers' inner loops: inlined there, they
// spare a call with a dozen saved registers each time.
impl Sink for RecordBuilder {
    #[inline(always)]
    fn start(&mut self, name: &[u8]) {
        let place = match self.places.last() {
            None => {
                self.record.dkim = self.spare.dkim.pop().unwrap_or_default();
                self.record.spf = self.spare.spf.pop().unwrap_or_default();
                Place::Record
            }
            Some(Place::Record) => match name {
                b"row" => Place::Row,
                b"identifiers" => Place::Identifiers,
                b"auth_results" => Place::AuthResults,
                _ => self.extra("record", name),
            },
            Some(Place::Row) => match name {
                b"source_ip" => Place::SourceIp,
                b"count" => Place::Count,
                b"policy_evaluated" => Place::Evaluated,
                _ => self.extra("record.row", name),
            },
            Some(Place::Evaluated) => match name {
                b"disposition" => Place::Disposition,
                b"dkim" => Place::DkimAligned,
                b"spf" => Place::SpfAligned,
                b"reason" => {
                    self.reason_type.seen = false;
                    self.reason_comment.seen = false;
                    Place::Reason
                }
                b"comment" => {
                    self.extras_before_comment = self.record.extra.len();
                    self.extra("record.row.policy_evaluated", name);
                    Place::EvaluatedComment
                }
                _ => self.extra("record.row.policy_evaluated", name),
            },
            Some(Place::Reason) => match name {
                b"type" => Place::ReasonType,
                b"comment" => Place::ReasonComment,
                _ => Place::Ignored,
            },
            Some(Place::Identifiers) => match name {
                b"header_from" => Place::HeaderFrom,
                b"envelope_from" => Place::EnvelopeFrom,
                b"envelope_to" => Place::EnvelopeTo,
                _ => self.extra("record.identifiers", name),
            },
            Some(Place::AuthResults) => match name {
                b"dkim" => self.begin_auth(Place::Dkim),
                b"spf" => self.begin_auth(Place::Spf),
                _ => self.extra("record.auth_results", name),
            },
            Some(Place::Dkim) => match name {
                b"domain" => Place::AuthDomain,
                b"selector" => Place::AuthSelector,
                b"result" => Place::AuthResult,
                b"human_result" => Place::AuthHuman,
                _ => Place::Ignored,
            },
            Some(Place::Spf) => match name {
                b"domain" => Place::AuthDomain,
                b"scope" => Place::AuthScope,
                b"result" => Place::AuthResult,
                b"human_result" => Place::AuthHuman,
                _ => Place::Ignored,
            },
            Some(Place::Extra | Place::EvaluatedComment) => self.descend(name),
            Some(_) => Place::Ignored,
        };
        self.places.push(place);
    }

    #[inline(always)]
    fn end(&mut self, text: &str, leaf: bool, warnings: &mut Warnings) {
        let Some(place) = self.places.pop() else {
            return;
        };
        let pool = &mut self.spare.strings;
        let record = &mut self.record;
        let given = Some(text);
        match place {
            Place::Row => {
                if record.source_ip.is_empty() {
                    warnings.add("record without <source_ip>");
                }
            }
            Place::SourceIp => record.source_ip = value::ip_in(pool, text, warnings),
            Place::Count => record.count = value::count(given, "count", warnings).unwrap_or(0),
            Place::Disposition => {
                record.disposition = value::opt_token_in(pool, given, "disposition", warnings);
            }
            Place::DkimAligned => {
                record.dkim_aligned = value::opt_token_in(pool, given, "dkim", warnings);
            }
            Place::SpfAligned => {
                record.spf_aligned = value::opt_token_in(pool, given, "spf", warnings);
            }
            Place::Reason => record.reasons.push(Reason {
                kind: value::token(
                    match self.reason_type.get() {
                        Some(kind) => kind,
                        // `<reason>forwarded</reason>`: the type written as the text.
                        None if leaf && !text.is_empty() => {
                            warnings.add("<reason> without <type>: its text read as the type");
                            text
                        }
                        None => "",
                    },
                    "type",
                    warnings,
                ),
                comment: self
                    .reason_comment
                    .get()
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            }),
            Place::ReasonType => self.reason_type.set(text),
            Place::ReasonComment => self.reason_comment.set(text),
            // A bare comment outside any <reason>: still an override explanation.
            Place::EvaluatedComment if !text.is_empty() => {
                record.extra.truncate(self.extras_before_comment);
                record.reasons.push(Reason {
                    kind: String::new(),
                    comment: Some(text.to_owned()),
                });
                self.path_ends.clear();
            }
            Place::EvaluatedComment | Place::Extra => self.end_extra(text, leaf),
            Place::HeaderFrom => record.header_from = value::domain_in(pool, given),
            Place::EnvelopeFrom => record.envelope_from = value::domain_in(pool, given),
            Place::EnvelopeTo => record.envelope_to = value::domain_in(pool, given),
            Place::Dkim => record.dkim.push(DkimAuth {
                domain: value::domain_in(pool, self.auth_domain.get()).unwrap_or_default(),
                selector: self.auth_selector.get().map(|t| value::text_in(pool, t)),
                result: value::token_in(
                    pool,
                    self.auth_result.get().unwrap_or("none"),
                    "result",
                    warnings,
                ),
                human_result: self.auth_human.get().map(str::to_owned),
            }),
            Place::Spf => record.spf.push(SpfAuth {
                domain: value::domain_in(pool, self.auth_domain.get()).unwrap_or_default(),
                scope: value::opt_token_in(pool, self.auth_scope.get(), "scope", warnings),
                result: value::token_in(
                    pool,
                    self.auth_result.get().unwrap_or("none"),
                    "result",
                    warnings,
                ),
                human_result: self.auth_human.get().map(str::to_owned),
            }),
            Place::AuthDomain => self.auth_domain.set(text),
            Place::AuthSelector => self.auth_selector.set(text),
            Place::AuthScope => self.auth_scope.set(text),
            Place::AuthResult => self.auth_result.set(text),
            Place::AuthHuman => self.auth_human.set(text),
            Place::Record
            | Place::Evaluated
            | Place::Identifiers
            | Place::AuthResults
            | Place::Ignored => {}
        }
    }

    fn reset(&mut self) {
        let partial = std::mem::take(&mut self.record);
        partial.recycle(&mut self.spare);
        self.places.clear();
        self.path.clear();
        self.path_ends.clear();
    }
}
