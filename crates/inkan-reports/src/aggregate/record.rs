//! `<record>`: one row of an aggregate report (RFC 9990 section 3.1.3; RFC 7489 appendix C):
//! source IP, message count, the DMARC evaluation with override reasons (Google's
//! "Sender requirement failed: 550-5.7.30 ..." comments among them), the identifiers and the
//! underlying DKIM and SPF results.

use serde::Serialize;

use super::value;
use super::xml::Node;
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

    pub(crate) fn from_node(node: &Node, warnings: &mut Warnings) -> Record {
        Record::from_node_in(node, warnings, &mut Spare::default())
    }

    /// Reads a record, building its strings and lists from `spare`.
    pub(crate) fn from_node_in(node: &Node, warnings: &mut Warnings, spare: &mut Spare) -> Record {
        let mut record = Record {
            dkim: spare.dkim.pop().unwrap_or_default(),
            spf: spare.spf.pop().unwrap_or_default(),
            ..Record::default()
        };
        let pool = &mut spare.strings;
        for child in &node.children {
            match child.name.as_str() {
                "row" => record.read_row(child, warnings, pool),
                "identifiers" => {
                    for id in &child.children {
                        let text = Some(id.text.as_str());
                        match id.name.as_str() {
                            "header_from" => record.header_from = value::domain_in(pool, text),
                            "envelope_from" => record.envelope_from = value::domain_in(pool, text),
                            "envelope_to" => record.envelope_to = value::domain_in(pool, text),
                            _ => id.flatten_into("record.identifiers", &mut record.extra),
                        }
                    }
                }
                "auth_results" => {
                    for auth in &child.children {
                        match auth.name.as_str() {
                            "dkim" => record.dkim.push(DkimAuth {
                                domain: value::domain_in(pool, auth.child_text("domain"))
                                    .unwrap_or_default(),
                                selector: auth
                                    .child_text("selector")
                                    .map(|t| value::text_in(pool, t)),
                                result: value::token_in(
                                    pool,
                                    auth.child_text("result").unwrap_or("none"),
                                    "result",
                                    warnings,
                                ),
                                human_result: auth.child_text("human_result").map(str::to_owned),
                            }),
                            "spf" => record.spf.push(SpfAuth {
                                domain: value::domain_in(pool, auth.child_text("domain"))
                                    .unwrap_or_default(),
                                scope: value::opt_token_in(
                                    pool,
                                    auth.child_text("scope"),
                                    "scope",
                                    warnings,
                                ),
                                result: value::token_in(
                                    pool,
                                    auth.child_text("result").unwrap_or("none"),
                                    "result",
                                    warnings,
                                ),
                                human_result: auth.child_text("human_result").map(str::to_owned),
                            }),
                            _ => auth.flatten_into("record.auth_results", &mut record.extra),
                        }
                    }
                }
                _ => child.flatten_into("record", &mut record.extra),
            }
        }
        record
    }

    fn read_row(&mut self, row: &Node, warnings: &mut Warnings, pool: &mut value::Pool) {
        for child in &row.children {
            match child.name.as_str() {
                "source_ip" => self.source_ip = value::ip_in(pool, &child.text, warnings),
                "count" => {
                    self.count = value::integer(Some(&child.text), "count", warnings).unwrap_or(0)
                }
                "policy_evaluated" => {
                    for eval in &child.children {
                        let text = Some(eval.text.as_str());
                        match eval.name.as_str() {
                            "disposition" => {
                                self.disposition =
                                    value::opt_token_in(pool, text, "disposition", warnings)
                            }
                            "dkim" => {
                                self.dkim_aligned =
                                    value::opt_token_in(pool, text, "dkim", warnings)
                            }
                            "spf" => {
                                self.spf_aligned = value::opt_token_in(pool, text, "spf", warnings)
                            }
                            "reason" => self.reasons.push(Reason {
                                kind: value::token(
                                    eval.child_text("type").unwrap_or(""),
                                    "type",
                                    warnings,
                                ),
                                comment: eval
                                    .child_text("comment")
                                    .filter(|c| !c.is_empty())
                                    .map(str::to_owned),
                            }),
                            // A bare comment outside any <reason>: still an override explanation.
                            "comment" if !eval.text.is_empty() => self.reasons.push(Reason {
                                kind: String::new(),
                                comment: Some(eval.text.clone()),
                            }),
                            _ => eval.flatten_into("record.row.policy_evaluated", &mut self.extra),
                        }
                    }
                }
                _ => child.flatten_into("record.row", &mut self.extra),
            }
        }
        if self.source_ip.is_empty() {
            warnings.add("record without <source_ip>");
        }
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

impl Spare {
    fn keep(&mut self, mut text: String) {
        if self.strings.len() < SPARE_STRINGS && text.capacity() <= SPARE_CAPACITY {
            text.clear();
            self.strings.push(text);
        }
    }
}
