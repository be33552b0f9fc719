//! The DMARC Policy Record: the tag-value TXT record at `_dmarc.DOMAIN`, parsed as RFC 9989
//! §4.7 (tags) and §4.8 (formal definition) ask.
//!
//! Only a missing or wrong `v=DMARC1` first tag makes a record unusable. Everything after it is
//! forgiving, as §4.7 requires ("syntax errors in the remainder MUST be discarded in favor of
//! default values"): a bad value falls back to the tag's default and becomes a [`RecordWarning`]
//! naming the tag and its byte offset, unknown tags are ignored with a warning, and the tags
//! RFC 9989 removed (`pct`, `rf`, `ri`) are read and reported as obsolete, never fatal.

use serde::Serialize;

use super::{Alignment, Policy, PsdFlag};

/// Longest record text parsed; DNS TXT records of DMARC are far shorter in practice.
const MAX_RECORD_LEN: usize = 8192;

/// A DMARC Policy Record as published, with defaults applied where tags are absent or invalid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DmarcRecord {
    /// `p`: the Domain Owner Assessment Policy. `none` when absent or invalid (RFC 9989 §4.7).
    pub p: Policy,
    /// True when a valid `p` tag was present.
    pub p_explicit: bool,
    /// `sp`: the policy for existing subdomains, when published and valid.
    pub sp: Option<Policy>,
    /// `np`: the policy for non-existent subdomains, when published and valid.
    pub np: Option<Policy>,
    /// `psd`: whether the publishing domain is a Public Suffix Domain (default `u`).
    pub psd: PsdFlag,
    /// `t=y`: the owner is testing; the policy is applied one level lower.
    pub testing: bool,
    /// `adkim`: DKIM identifier alignment mode (default relaxed).
    pub adkim: Alignment,
    /// `aspf`: SPF identifier alignment mode (default relaxed).
    pub aspf: Alignment,
    /// `rua`: aggregate report URIs, as written.
    pub rua: Vec<String>,
    /// `ruf`: failure report URIs, as written.
    pub ruf: Vec<String>,
    /// `fo`: failure reporting options (default `["0"]`).
    pub fo: Vec<String>,
    /// `pct`, when an old record still carries it (removed by RFC 9989; not applied).
    pub pct: Option<String>,
    /// Problems that did not make the record unusable.
    pub warnings: Vec<RecordWarning>,
}

/// Something wrong in a record that RFC 9989 says to work around rather than reject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RecordWarning {
    /// The tag concerned (lower-case), or empty for problems between tags.
    pub tag: String,
    /// Byte offset of the problem in the record text.
    pub offset: usize,
    /// What kind of problem.
    pub kind: WarningKind,
    /// A sentence for a person, quoting the input.
    pub message: String,
}

/// The kinds of [`RecordWarning`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum WarningKind {
    /// A tag RFC 9989 removed (`pct`, `rf`, `ri`).
    Obsolete,
    /// A known tag with a value outside its syntax; the default is used.
    InvalidValue,
    /// A tag not in the DMARC registry; ignored.
    UnknownTag,
    /// A tag given twice; the first one counts.
    DuplicateTag,
    /// Text that is not `tag=value`.
    Syntax,
}

/// Why a text is not a usable DMARC record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The record is empty.
    #[error("empty DMARC record")]
    Empty,
    /// The first tag is not `v` (RFC 9989 §4.7: it must come first).
    #[error("DMARC record '{record}' does not start with v=DMARC1")]
    NoVersion {
        /// The record text (truncated).
        record: String,
    },
    /// `v` has another value than `DMARC1` (case-sensitive).
    #[error("DMARC record version '{value}' at offset {offset} is not DMARC1")]
    WrongVersion {
        /// The value found.
        value: String,
        /// Byte offset of the value.
        offset: usize,
    },
    /// The record is longer than inkan parses.
    #[error("DMARC record is {len} bytes long, more than {MAX_RECORD_LEN}")]
    TooLong {
        /// The record length.
        len: usize,
    },
}

impl DmarcRecord {
    /// Parses the text of one TXT record (character-strings already concatenated).
    pub fn parse(text: &str) -> Result<Self, RecordError> {
        if text.len() > MAX_RECORD_LEN {
            return Err(RecordError::TooLong { len: text.len() });
        }
        let mut tags = split_tags(text);
        let Some(first) = tags.next() else {
            return Err(RecordError::Empty);
        };
        if !first.name.eq_ignore_ascii_case("v") || first.value.is_none() {
            return Err(RecordError::NoVersion {
                record: text.chars().take(80).collect(),
            });
        }
        let version = first.value.unwrap_or_default();
        if version != "DMARC1" {
            return Err(RecordError::WrongVersion {
                value: version.into(),
                offset: first.value_offset,
            });
        }
        let mut record = DmarcRecord {
            p: Policy::None,
            p_explicit: false,
            sp: None,
            np: None,
            psd: PsdFlag::Unknown,
            testing: false,
            adkim: Alignment::Relaxed,
            aspf: Alignment::Relaxed,
            rua: Vec::new(),
            ruf: Vec::new(),
            fo: vec!["0".into()],
            pct: None,
            warnings: Vec::new(),
        };
        let mut seen: Vec<String> = vec!["v".into()];
        for tag in tags {
            record.apply(tag, &mut seen);
        }
        if !record.p_explicit && !record.warnings.iter().any(|w| w.tag == "p") {
            record.warn(
                "p",
                text.len(),
                WarningKind::InvalidValue,
                "no p tag: treated as p=none".into(),
            );
        }
        Ok(record)
    }

    /// The record in canonical text form (tags in registry order, defaults omitted).
    pub fn to_text(&self) -> String {
        let mut out = format!("v=DMARC1; p={}", self.p.as_str());
        for (name, policy) in [("sp", self.sp), ("np", self.np)] {
            if let Some(policy) = policy {
                out.push_str(&format!("; {name}={}", policy.as_str()));
            }
        }
        if self.psd != PsdFlag::Unknown {
            out.push_str(&format!("; psd={}", self.psd.as_str()));
        }
        if self.testing {
            out.push_str("; t=y");
        }
        if self.adkim == Alignment::Strict {
            out.push_str("; adkim=s");
        }
        if self.aspf == Alignment::Strict {
            out.push_str("; aspf=s");
        }
        if !self.rua.is_empty() {
            out.push_str(&format!("; rua={}", self.rua.join(",")));
        }
        if !self.ruf.is_empty() {
            out.push_str(&format!("; ruf={}", self.ruf.join(",")));
        }
        if self.fo != ["0"] {
            out.push_str(&format!("; fo={}", self.fo.join(":")));
        }
        out
    }

    /// True when the record has at least one aggregate report URI with a valid syntax.
    pub fn has_valid_rua(&self) -> bool {
        self.rua.iter().any(|uri| uri_is_valid(uri))
    }

    fn warn(&mut self, tag: &str, offset: usize, kind: WarningKind, message: String) {
        self.warnings.push(RecordWarning {
            tag: tag.into(),
            offset,
            kind,
            message,
        });
    }

    fn apply(&mut self, tag: RawTag<'_>, seen: &mut Vec<String>) {
        let name = tag.name.to_ascii_lowercase();
        let Some(value) = tag.value else {
            let msg = if tag.name.is_empty() {
                "empty tag between semicolons".to_owned()
            } else {
                format!("'{}' is not tag=value", tag.name)
            };
            // An empty segment after the last semicolon is allowed by the grammar.
            if !tag.name.is_empty() {
                self.warn(&name, tag.name_offset, WarningKind::Syntax, msg);
            }
            return;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
            self.warn(
                &name,
                tag.name_offset,
                WarningKind::Syntax,
                format!("'{}' is not a tag name", tag.name),
            );
            return;
        }
        if seen.contains(&name) {
            self.warn(
                &name,
                tag.name_offset,
                WarningKind::DuplicateTag,
                format!("tag '{name}' appears again; the first one counts"),
            );
            return;
        }
        seen.push(name.clone());
        let at = tag.value_offset;
        let invalid = |record: &mut DmarcRecord, expected: &str, fallback: &str| {
            record.warn(
                &name,
                at,
                WarningKind::InvalidValue,
                format!("{name}='{value}' is not {expected}; {fallback}"),
            );
        };
        match name.as_str() {
            "p" => match Policy::parse(value) {
                Some(p) => {
                    self.p = p;
                    self.p_explicit = true;
                }
                None => invalid(self, "none, quarantine or reject", "treated as p=none"),
            },
            "sp" => match Policy::parse(value) {
                Some(p) => self.sp = Some(p),
                None => invalid(self, "none, quarantine or reject", "ignored"),
            },
            "np" => match Policy::parse(value) {
                Some(p) => self.np = Some(p),
                None => invalid(self, "none, quarantine or reject", "ignored"),
            },
            "psd" => match value {
                "y" => self.psd = PsdFlag::Yes,
                "n" => self.psd = PsdFlag::No,
                "u" => self.psd = PsdFlag::Unknown,
                _ => invalid(self, "y, n or u", "treated as psd=u"),
            },
            "t" => match value {
                "y" => self.testing = true,
                "n" => self.testing = false,
                _ => invalid(self, "y or n", "treated as t=n"),
            },
            "adkim" | "aspf" => {
                let mode = match value {
                    "r" => Some(Alignment::Relaxed),
                    "s" => Some(Alignment::Strict),
                    _ => None,
                };
                match (mode, name.as_str()) {
                    (Some(m), "adkim") => self.adkim = m,
                    (Some(m), _) => self.aspf = m,
                    (None, _) => invalid(self, "r or s", "treated as relaxed"),
                }
            }
            "rua" | "ruf" => {
                let uris: Vec<String> = value.split(',').map(|u| u.trim().to_owned()).collect();
                for uri in &uris {
                    if !uri_is_valid(uri) {
                        self.warn(
                            &name,
                            at,
                            WarningKind::InvalidValue,
                            format!("{name} URI '{uri}' is not a valid URI"),
                        );
                    } else if uri.contains('!') {
                        self.warn(
                            &name,
                            at,
                            WarningKind::Obsolete,
                            format!(
                                "{name} URI '{uri}' has a '!size' suffix, which RFC 9989 removed"
                            ),
                        );
                    }
                }
                if name == "rua" {
                    self.rua = uris;
                } else {
                    self.ruf = uris;
                }
            }
            "fo" => {
                let options: Vec<String> = value.split(':').map(|o| o.trim().to_owned()).collect();
                if options
                    .iter()
                    .all(|o| matches!(o.as_str(), "0" | "1" | "d" | "s"))
                {
                    self.fo = options;
                } else {
                    invalid(
                        self,
                        "a colon-separated list of 0, 1, d, s",
                        "treated as fo=0",
                    );
                }
            }
            "pct" => {
                self.pct = Some(value.into());
                let msg = if value.parse::<u8>().is_ok_and(|n| n <= 100) {
                    format!(
                        "pct={value} was removed by RFC 9989 and is not applied; use t=y for testing"
                    )
                } else {
                    format!(
                        "pct='{value}' was removed by RFC 9989 (and is not a number from 0 to 100)"
                    )
                };
                self.warn(&name, at, WarningKind::Obsolete, msg);
            }
            "rf" | "ri" => self.warn(
                &name,
                at,
                WarningKind::Obsolete,
                format!("{name}={value} was removed by RFC 9989 and is ignored"),
            ),
            _ => self.warn(
                &name,
                tag.name_offset,
                WarningKind::UnknownTag,
                format!("unknown tag '{name}' ignored"),
            ),
        }
    }
}

/// One `name=value` segment with offsets into the record.
struct RawTag<'a> {
    name: &'a str,
    name_offset: usize,
    value: Option<&'a str>,
    value_offset: usize,
}

/// Splits a record into its `;`-separated segments, trimming whitespace around names and
/// values (`dmarc-sep` and `equals` allow it).
fn split_tags(text: &str) -> impl Iterator<Item = RawTag<'_>> {
    let mut start = 0;
    text.split(';').filter_map(move |segment| {
        let seg_start = start;
        start += segment.len() + 1;
        let trimmed_lead = segment.len() - segment.trim_start().len();
        let body = segment.trim();
        if body.is_empty() {
            return None;
        }
        let name_offset = seg_start + trimmed_lead;
        Some(match body.split_once('=') {
            Some((name, value)) => {
                let value_lead = value.len() - value.trim_start().len();
                RawTag {
                    name: name.trim_end(),
                    name_offset,
                    value: Some(value.trim()),
                    value_offset: name_offset + name.len() + 1 + value_lead,
                }
            }
            None => RawTag {
                name: body,
                name_offset,
                value: None,
                value_offset: name_offset,
            },
        })
    })
}

/// A light check of RFC 3986 URI syntax: a scheme, a colon and something after it, with no
/// whitespace or characters the DMARC grammar forbids unencoded.
fn uri_is_valid(uri: &str) -> bool {
    let uri = uri.split_once('!').map_or(uri, |(u, _)| u);
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_ok
        && !rest.is_empty()
        && rest.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(
                    b,
                    b'<' | b'>' | b'"' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(r: &DmarcRecord) -> Vec<(String, WarningKind)> {
        r.warnings.iter().map(|w| (w.tag.clone(), w.kind)).collect()
    }

    #[test]
    fn full_record_is_read() {
        let r = DmarcRecord::parse(
            "v=DMARC1; p=reject; sp=quarantine; np=reject; psd=n; t=y; adkim=s; aspf=s; \
             rua=mailto:a@example.com, mailto:b@example.net; ruf=mailto:f@example.com; fo=d:s",
        )
        .unwrap();
        assert_eq!(r.p, Policy::Reject);
        assert!(r.p_explicit);
        assert_eq!(r.sp, Some(Policy::Quarantine));
        assert_eq!(r.np, Some(Policy::Reject));
        assert_eq!(r.psd, PsdFlag::No);
        assert!(r.testing);
        assert_eq!((r.adkim, r.aspf), (Alignment::Strict, Alignment::Strict));
        assert_eq!(r.rua, ["mailto:a@example.com", "mailto:b@example.net"]);
        assert_eq!(r.ruf, ["mailto:f@example.com"]);
        assert_eq!(r.fo, ["d", "s"]);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert!(r.has_valid_rua());
    }

    #[test]
    fn defaults_when_tags_are_absent() {
        let r = DmarcRecord::parse("v=DMARC1; p=none").unwrap();
        assert_eq!(r.p, Policy::None);
        assert_eq!(
            (r.sp, r.np, r.psd, r.testing),
            (None, None, PsdFlag::Unknown, false)
        );
        assert_eq!((r.adkim, r.aspf), (Alignment::Relaxed, Alignment::Relaxed));
        assert_eq!(r.fo, ["0"]);
    }

    #[test]
    fn whitespace_and_case_are_tolerated() {
        let r = DmarcRecord::parse("  v = DMARC1 ;P = Quarantine ;  ADKIM=s;").unwrap();
        assert_eq!(r.p, Policy::Quarantine);
        assert_eq!(r.adkim, Alignment::Strict);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn version_must_be_first_and_exact() {
        assert!(matches!(
            DmarcRecord::parse("p=reject; v=DMARC1"),
            Err(RecordError::NoVersion { .. })
        ));
        assert!(matches!(
            DmarcRecord::parse("v=spf1 -all"),
            Err(RecordError::WrongVersion { .. })
        ));
        let err = DmarcRecord::parse("v=dmarc1; p=reject").unwrap_err();
        assert_eq!(
            err,
            RecordError::WrongVersion {
                value: "dmarc1".into(),
                offset: 2
            }
        );
        assert!(err.to_string().contains("'dmarc1'"));
        assert_eq!(DmarcRecord::parse(""), Err(RecordError::Empty));
        assert_eq!(DmarcRecord::parse(" ; "), Err(RecordError::Empty));
        assert!(matches!(
            DmarcRecord::parse("v"),
            Err(RecordError::NoVersion { .. })
        ));
    }

    /// RFC 9989 §4.7: a record without `p` is treated as `p=none`.
    #[test]
    fn missing_p_is_none() {
        let r = DmarcRecord::parse("v=DMARC1; rua=mailto:d@example.com").unwrap();
        assert_eq!(r.p, Policy::None);
        assert!(!r.p_explicit);
        assert_eq!(kinds(&r), [("p".into(), WarningKind::InvalidValue)]);
    }

    #[test]
    fn invalid_values_fall_back_and_are_located() {
        let text = "v=DMARC1; p=block; sp=maybe; adkim=x; t=yes; psd=q; fo=9";
        let r = DmarcRecord::parse(text).unwrap();
        assert_eq!(r.p, Policy::None);
        assert_eq!(r.sp, None);
        assert_eq!(r.adkim, Alignment::Relaxed);
        assert!(!r.testing);
        assert_eq!(r.psd, PsdFlag::Unknown);
        assert_eq!(r.fo, ["0"]);
        let p = r.warnings.iter().find(|w| w.tag == "p").unwrap();
        assert_eq!(&text[p.offset..p.offset + 5], "block");
        assert!(p.message.contains("'block'"));
        assert_eq!(r.warnings.len(), 6, "{:?}", r.warnings);
    }

    #[test]
    fn obsolete_tags_are_reported_not_fatal() {
        let r = DmarcRecord::parse("v=DMARC1; p=reject; pct=50; rf=afrf; ri=86400").unwrap();
        assert_eq!(r.p, Policy::Reject);
        assert_eq!(r.pct.as_deref(), Some("50"));
        assert_eq!(
            kinds(&r),
            [
                ("pct".into(), WarningKind::Obsolete),
                ("rf".into(), WarningKind::Obsolete),
                ("ri".into(), WarningKind::Obsolete)
            ]
        );
        let r = DmarcRecord::parse("v=DMARC1; p=reject; pct=abc").unwrap();
        assert_eq!(kinds(&r), [("pct".into(), WarningKind::Obsolete)]);
    }

    #[test]
    fn unknown_duplicate_and_garbage_tags_are_ignored() {
        let r = DmarcRecord::parse("v=DMARC1; p=reject; foo=bar; p=none; junk; 9x=1").unwrap();
        assert_eq!(r.p, Policy::Reject);
        assert_eq!(
            kinds(&r),
            [
                ("foo".into(), WarningKind::UnknownTag),
                ("p".into(), WarningKind::DuplicateTag),
                ("junk".into(), WarningKind::Syntax),
                ("9x".into(), WarningKind::Syntax)
            ]
        );
    }

    #[test]
    fn report_uris_are_checked() {
        let r = DmarcRecord::parse("v=DMARC1; p=none; rua=mailto:a@example.com!10m, not a uri")
            .unwrap();
        assert_eq!(r.rua.len(), 2);
        assert!(r.has_valid_rua());
        assert_eq!(
            kinds(&r),
            [
                ("rua".into(), WarningKind::Obsolete),
                ("rua".into(), WarningKind::InvalidValue)
            ]
        );
    }

    #[test]
    fn canonical_text_round_trips() {
        let r = DmarcRecord::parse(
            "v=DMARC1; p=quarantine; np=reject; psd=y; t=y; aspf=s; rua=mailto:x@example.com; fo=1",
        )
        .unwrap();
        let again = DmarcRecord::parse(&r.to_text()).unwrap();
        assert_eq!(r, again);
    }

    #[test]
    fn serializes_with_stable_names() {
        let r = DmarcRecord::parse("v=DMARC1; p=reject; pct=20").unwrap();
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["p"], "reject");
        assert_eq!(json["adkim"], "r");
        assert_eq!(json["psd"], "u");
        assert_eq!(json["warnings"][0]["kind"], "obsolete");
    }

    #[test]
    fn very_long_and_odd_input_never_panics() {
        assert!(matches!(
            DmarcRecord::parse(&"a".repeat(9000)),
            Err(RecordError::TooLong { .. })
        ));
        for text in [
            "v=DMARC1;;;;",
            "v=DMARC1; =",
            "v=DMARC1; p=\u{e9}",
            "v=DMARC1; \u{e9}=\u{e9}",
        ] {
            let _ = DmarcRecord::parse(text);
        }
    }
}
