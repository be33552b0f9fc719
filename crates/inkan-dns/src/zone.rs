//! Zone files: the RFC 1035 §5 master-file format, read into [`Record`]s and a [`MemoryResolver`].
//!
//! This is what `--zone FILE` answers from, and what tests write their DNS in. Supported:
//! - entries and their owner, TTL, class and type fields in either order (RFC 1035 §5.1), a blank
//!   owner repeating the previous one, `@` for the origin, relative and absolute names;
//! - `$ORIGIN` (RFC 1035 §5.1) and `$TTL` (RFC 2308 §4); `$INCLUDE` is refused with an error,
//!   because a zone given on the command line should not read other files behind the user's back;
//! - parentheses spanning lines, `;` comments, quoted character-strings with `\X` and `\DDD`
//!   escapes (RFC 1035 §5.1), several strings per TXT record, unquoted TXT words;
//! - the types A, AAAA, CNAME, MX (including the null MX `0 .` of RFC 7505), NS, PTR, SOA, TXT and
//!   SPF (type 99), and only the class IN;
//! - TTLs in seconds or with BIND's units (`1h30m`, `2d`, `1w`).
//!
//! A record without a TTL takes the `$TTL` in force, else the last TTL written on an earlier
//! record (RFC 1035 §5.1), else the SOA MINIMUM of the file, else [`DEFAULT_TTL`].
//!
//! Every error names the file and the line it was found on. Names are checked as RFC 1035 §2.3.4
//! requires (labels of at most 63 bytes, names of at most 253), character-strings as §3.3 does
//! (at most 255 bytes each). Bytes outside ASCII in quoted strings are kept as their UTF-8 bytes.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use crate::memory::MemoryResolver;
use crate::types::{RData, Record, RecordType, Soa, Txt};

/// The TTL of records when the file says nothing at all about TTLs.
pub const DEFAULT_TTL: u32 = 3600;
/// The largest TTL RFC 2181 §8 allows.
const MAX_TTL: u64 = 0x7fff_ffff;

/// A zone file that could not be read, with where the problem is.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub struct ZoneError {
    /// The file, as given to the parser.
    pub file: String,
    /// The line, counting from 1; 0 when the problem is with the file as a whole (I/O).
    pub line: usize,
    /// What is wrong.
    #[source]
    pub kind: ZoneErrorKind,
}

impl ZoneError {
    fn new(file: &str, line: usize, kind: ZoneErrorKind) -> Self {
        ZoneError {
            file: file.to_owned(),
            line,
            kind,
        }
    }

    /// The file, as given to the parser.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The line, counting from 1; 0 when the problem is with the file as a whole.
    pub fn line(&self) -> usize {
        self.line
    }

    /// What is wrong.
    pub fn kind(&self) -> &ZoneErrorKind {
        &self.kind
    }
}

impl fmt::Display for ZoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.kind)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.kind)
        }
    }
}

/// What is wrong in a zone file.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZoneErrorKind {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(Arc<std::io::Error>),
    /// A quoted string has no closing quote on its line.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A `(` is never closed.
    #[error("unterminated parenthesis: '(' is never closed")]
    UnterminatedParen,
    /// A `)` closes nothing, or a `(` opens inside another.
    #[error("unbalanced parenthesis: '{0}'")]
    UnbalancedParen(char),
    /// A backslash escape is incomplete or out of range.
    #[error("bad escape '{0}'")]
    BadEscape(String),
    /// A directive other than `$ORIGIN` and `$TTL`.
    #[error("unsupported directive '{0}'{hint}", hint = directive_hint(.0))]
    UnsupportedDirective(String),
    /// A directive lacks its argument or has too many.
    #[error("'{0}' takes exactly one argument")]
    DirectiveArguments(String),
    /// A record type inkan does not know.
    #[error("unknown record type '{0}'")]
    UnknownType(String),
    /// A class other than IN.
    #[error("unsupported class '{0}' (only IN is supported)")]
    UnsupportedClass(String),
    /// An entry with a blank owner before any owner was given.
    #[error("no owner name: the first record must name its owner")]
    NoOwner,
    /// A relative name (or `@`) while no origin is known.
    #[error("relative name '{0}' but no $ORIGIN is known")]
    NoOrigin(String),
    /// A name that is not a valid domain name.
    #[error("bad name '{name}': {why}")]
    BadName {
        /// The name as written.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// A TTL that is not a number of seconds or a duration like `1h30m`.
    #[error("bad TTL '{0}' (expected seconds up to 2147483647 or a duration like 1h30m)")]
    BadTtl(String),
    /// A number field that is not a number in range.
    #[error("bad {field} '{value}'")]
    BadNumber {
        /// Which field.
        field: &'static str,
        /// The value as written.
        value: String,
    },
    /// An A record's data is not an IPv4 address.
    #[error("bad IPv4 address '{0}'")]
    BadIpv4(String),
    /// An AAAA record's data is not an IPv6 address.
    #[error("bad IPv6 address '{0}'")]
    BadIpv6(String),
    /// A character-string longer than 255 bytes.
    #[error(
        "character-string of {0} bytes is longer than 255 (split it into several quoted strings)"
    )]
    StringTooLong(usize),
    /// A record has fewer data fields than its type needs.
    #[error("{rtype} record needs {expected}")]
    MissingData {
        /// The record type.
        rtype: RecordType,
        /// What the data should be.
        expected: &'static str,
    },
    /// A record has more data fields than its type takes.
    #[error("unexpected '{value}' after the {rtype} data")]
    TrailingData {
        /// The record type.
        rtype: RecordType,
        /// The first field too many.
        value: String,
    },
    /// A quoted string where a name, number or type is expected.
    #[error("unexpected quoted string \"{0}\" where {1} is expected")]
    UnexpectedQuoted(String, &'static str),
    /// A name owns a CNAME and other data (RFC 1034 §3.6.2, RFC 2181 §10.1).
    #[error("'{0}' has a CNAME and other records, which RFC 1034 §3.6.2 forbids")]
    CnameAndOtherData(String),
}

/// Reads the records of one master file. `origin` is the initial `$ORIGIN` (absolute, with or
/// without the trailing dot); `source` names the file in errors.
pub fn parse_zone(
    text: &str,
    origin: Option<&str>,
    source: &str,
) -> Result<Vec<Record>, ZoneError> {
    let err = |line: usize, kind: ZoneErrorKind| ZoneError::new(source, line, kind);
    let origin = match origin {
        Some(o) => Some(absolute_origin(o).map_err(|kind| err(0, kind))?),
        None => None,
    };
    let entries = tokenize(text).map_err(|(line, kind)| err(line, kind))?;
    let mut state = ParseState {
        origin,
        ..ParseState::default()
    };
    for entry in &entries {
        state.entry(entry).map_err(|(line, kind)| err(line, kind))?;
    }
    state.finish().map_err(|(line, kind)| err(line, kind))
}

impl MemoryResolver {
    /// A resolver answering from the records of one master file (see [`parse_zone`]).
    pub fn from_zone_text(
        text: &str,
        origin: Option<&str>,
        source: &str,
    ) -> Result<Self, ZoneError> {
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        add_unique(&mut records, &mut seen, parse_zone(text, origin, source)?);
        Ok(MemoryResolver::from_records(records))
    }

    /// A resolver answering from several master files at once, as if they were one view of DNS.
    /// Each file starts with no origin, so it must use absolute names or set `$ORIGIN`. A record
    /// written in more than one file is kept once.
    pub fn from_zone_files(paths: &[impl AsRef<Path>]) -> Result<Self, ZoneError> {
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        for path in paths {
            let path = path.as_ref();
            let source = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| ZoneError::new(&source, 0, ZoneErrorKind::Io(Arc::new(e))))?;
            add_unique(&mut records, &mut seen, parse_zone(&text, None, &source)?);
        }
        Ok(MemoryResolver::from_records(records))
    }
}

fn add_unique(into: &mut Vec<Record>, seen: &mut HashSet<(String, RData)>, records: Vec<Record>) {
    for record in records {
        if seen.insert((record.name.clone(), record.data.clone())) {
            into.push(record);
        }
    }
}

type Fail = (usize, ZoneErrorKind);

/// One field of an entry.
#[derive(Debug)]
struct Token<'t> {
    /// The field as written (without quotes).
    raw: &'t str,
    /// The field with escapes decoded.
    bytes: Vec<u8>,
    quoted: bool,
    escaped: bool,
    line: usize,
}

impl Token<'_> {
    /// The field as a word (a name, number, type), refusing quoted strings.
    fn word(&self, what: &'static str) -> Result<&str, Fail> {
        if self.quoted {
            return Err((
                self.line,
                ZoneErrorKind::UnexpectedQuoted(self.raw.to_owned(), what),
            ));
        }
        Ok(self.raw)
    }
}

/// One logical entry: the fields of a line, or of several lines joined by parentheses.
#[derive(Debug)]
struct Entry<'t> {
    line: usize,
    /// The entry began with white space: it has no owner field and repeats the previous owner.
    blank_owner: bool,
    tokens: Vec<Token<'t>>,
}

/// Splits the text into entries (RFC 1035 §5.1): fields separated by blanks, `;` comments to the
/// end of the line, `(` `)` joining lines, `"` quoting, `\` escaping.
fn tokenize(text: &str) -> Result<Vec<Entry<'_>>, Fail> {
    let bytes = text.as_bytes();
    let mut entries = Vec::new();
    let mut line = 1;
    let mut i = 0;
    let mut paren_line: Option<usize> = None;
    let mut current: Option<Entry<'_>> = None;
    let mut at_line_start = true;
    while i < bytes.len() {
        let b = bytes[i];
        if at_line_start && paren_line.is_none() {
            at_line_start = false;
            if current.is_none() {
                current = Some(Entry {
                    line,
                    blank_owner: b == b' ' || b == b'\t',
                    tokens: Vec::new(),
                });
            }
        }
        match b {
            b'\n' => {
                if paren_line.is_none()
                    && let Some(entry) = current.take().filter(|e| !e.tokens.is_empty())
                {
                    entries.push(entry);
                }
                line += 1;
                at_line_start = true;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b';' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' => {
                if paren_line.is_some() {
                    return Err((line, ZoneErrorKind::UnbalancedParen('(')));
                }
                paren_line = Some(line);
                i += 1;
            }
            b')' => {
                if paren_line.take().is_none() {
                    return Err((line, ZoneErrorKind::UnbalancedParen(')')));
                }
                i += 1;
            }
            b'"' => {
                let start = i + 1;
                let mut decoded = Vec::new();
                let mut j = start;
                loop {
                    match bytes.get(j) {
                        None | Some(b'\n') => return Err((line, ZoneErrorKind::UnterminatedQuote)),
                        Some(b'"') => break,
                        Some(b'\\') => j = unescape(text, j, line, &mut decoded)?,
                        Some(&c) => {
                            decoded.push(c);
                            j += 1;
                        }
                    }
                }
                let token = Token {
                    raw: &text[start..j],
                    bytes: decoded,
                    quoted: true,
                    escaped: false,
                    line,
                };
                push_token(&mut current, token, line);
                i = j + 1;
            }
            _ => {
                let start = i;
                let mut decoded = Vec::new();
                let mut escaped = false;
                let mut j = i;
                while let Some(&c) = bytes.get(j) {
                    match c {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"' => break,
                        b'\\' => {
                            escaped = true;
                            j = unescape(text, j, line, &mut decoded)?;
                        }
                        _ => {
                            decoded.push(c);
                            j += 1;
                        }
                    }
                }
                let token = Token {
                    raw: &text[start..j],
                    bytes: decoded,
                    quoted: false,
                    escaped,
                    line,
                };
                push_token(&mut current, token, line);
                i = j;
            }
        }
    }
    if let Some(opened) = paren_line {
        return Err((opened, ZoneErrorKind::UnterminatedParen));
    }
    if let Some(entry) = current.take().filter(|e| !e.tokens.is_empty()) {
        entries.push(entry);
    }
    Ok(entries)
}

fn push_token<'t>(current: &mut Option<Entry<'t>>, token: Token<'t>, line: usize) {
    current
        .get_or_insert_with(|| Entry {
            line,
            blank_owner: false,
            tokens: Vec::new(),
        })
        .tokens
        .push(token);
}

/// Decodes the escape starting with the backslash at `at` (RFC 1035 §5.1: `\X` is X, `\DDD` is
/// the byte with that decimal value) and returns the index after it.
fn unescape(text: &str, at: usize, line: usize, out: &mut Vec<u8>) -> Result<usize, Fail> {
    let bytes = text.as_bytes();
    let bad = |end: usize| {
        let end = (at..=end.min(text.len()))
            .rev()
            .find(|&e| text.is_char_boundary(e))
            .unwrap_or(at);
        (line, ZoneErrorKind::BadEscape(text[at..end].to_owned()))
    };
    match bytes.get(at + 1) {
        None | Some(b'\n') => Err(bad(at + 1)),
        Some(c) if c.is_ascii_digit() => {
            let digits = bytes
                .get(at + 1..at + 4)
                .filter(|d| d.iter().all(u8::is_ascii_digit));
            let value = digits
                .map(|d| d.iter().fold(0u32, |n, &c| n * 10 + u32::from(c - b'0')))
                .and_then(|v| u8::try_from(v).ok())
                .ok_or_else(|| bad(at + 4))?;
            out.push(value);
            Ok(at + 4)
        }
        Some(&c) => {
            out.push(c);
            Ok(at + 2)
        }
    }
}

/// What the entries read so far have set.
#[derive(Debug, Default)]
struct ParseState {
    origin: Option<String>,
    default_ttl: Option<u32>,
    last_ttl: Option<u32>,
    last_owner: Option<String>,
    soa_minimum: Option<u32>,
    /// Records, with no TTL yet when none could be decided when they were read.
    records: Vec<(Record, Option<u32>, usize)>,
}

impl ParseState {
    fn entry(&mut self, entry: &Entry<'_>) -> Result<(), Fail> {
        let first = &entry.tokens[0];
        if !entry.blank_owner && !first.quoted && first.raw.starts_with('$') {
            return self.directive(entry);
        }
        let mut fields = entry.tokens.iter().peekable();
        let owner = if entry.blank_owner {
            self.last_owner
                .clone()
                .ok_or((entry.line, ZoneErrorKind::NoOwner))?
        } else {
            let token = fields.next().expect("entries are never empty");
            self.name(token)?
        };
        self.last_owner = Some(owner.clone());

        let mut ttl = None;
        let mut class_seen = false;
        let rtype = loop {
            let Some(token) = fields.next() else {
                return Err((entry.line, ZoneErrorKind::UnknownType(String::new())));
            };
            let word = token.word("a TTL, class or type")?;
            if word.starts_with(|c: char| c.is_ascii_digit()) && ttl.is_none() {
                ttl = Some(
                    parse_ttl(word)
                        .ok_or_else(|| (token.line, ZoneErrorKind::BadTtl(word.into())))?,
                );
            } else if !class_seen && word.eq_ignore_ascii_case("IN") {
                class_seen = true;
            } else if !class_seen && is_class(word) {
                return Err((token.line, ZoneErrorKind::UnsupportedClass(word.into())));
            } else {
                break word
                    .parse::<RecordType>()
                    .map_err(|_| (token.line, ZoneErrorKind::UnknownType(word.into())))?;
            }
        };
        let rest: Vec<&Token<'_>> = fields.collect();
        let data = self.rdata(rtype, &rest, entry.line)?;
        if let RData::Soa(soa) = &data {
            self.soa_minimum.get_or_insert(soa.minimum);
        }
        if ttl.is_some() {
            self.last_ttl = ttl;
        }
        let ttl = ttl.or(self.default_ttl).or(self.last_ttl);
        self.records.push((
            Record {
                name: owner,
                ttl: ttl.unwrap_or(0),
                data,
            },
            ttl,
            entry.line,
        ));
        Ok(())
    }

    fn directive(&mut self, entry: &Entry<'_>) -> Result<(), Fail> {
        let name = entry.tokens[0].raw;
        let arg = match &entry.tokens[1..] {
            [arg] => arg,
            _ if is_known_directive(name) => {
                return Err((
                    entry.line,
                    ZoneErrorKind::DirectiveArguments(name.to_owned()),
                ));
            }
            _ => {
                return Err((
                    entry.line,
                    ZoneErrorKind::UnsupportedDirective(name.to_owned()),
                ));
            }
        };
        if name.eq_ignore_ascii_case("$ORIGIN") {
            let origin = self.name(arg)?;
            self.origin = Some(origin);
        } else if name.eq_ignore_ascii_case("$TTL") {
            let word = arg.word("a TTL")?;
            self.default_ttl = Some(
                parse_ttl(word).ok_or_else(|| (arg.line, ZoneErrorKind::BadTtl(word.into())))?,
            );
        } else {
            return Err((
                entry.line,
                ZoneErrorKind::UnsupportedDirective(name.to_owned()),
            ));
        }
        Ok(())
    }

    /// A name field: `@`, absolute, or relative to the origin.
    fn name(&self, token: &Token<'_>) -> Result<String, Fail> {
        let word = token.word("a domain name")?;
        let bad = |why: &str| {
            (
                token.line,
                ZoneErrorKind::BadName {
                    name: word.into(),
                    why: why.into(),
                },
            )
        };
        if token.escaped {
            return Err(bad("escapes in names are not supported"));
        }
        if word == "@" {
            return self
                .origin
                .clone()
                .ok_or_else(|| (token.line, ZoneErrorKind::NoOrigin(word.into())));
        }
        let full = if word == "." {
            String::new()
        } else if let Some(absolute) = word.strip_suffix('.') {
            absolute.to_ascii_lowercase()
        } else {
            let origin = self
                .origin
                .as_deref()
                .ok_or_else(|| (token.line, ZoneErrorKind::NoOrigin(word.into())))?;
            let relative = word.to_ascii_lowercase();
            if origin.is_empty() {
                relative
            } else {
                format!("{relative}.{origin}")
            }
        };
        check_name(&full).map_err(|why| bad(&why))?;
        Ok(full)
    }

    fn rdata(&self, rtype: RecordType, fields: &[&Token<'_>], line: usize) -> Result<RData, Fail> {
        let expected = match rtype {
            RecordType::A => "an IPv4 address",
            RecordType::Aaaa => "an IPv6 address",
            RecordType::Cname | RecordType::Ns | RecordType::Ptr => "a domain name",
            RecordType::Mx => "a preference and an exchange name",
            RecordType::Soa => "MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM",
            RecordType::Txt | RecordType::Spf => "at least one character-string",
        };
        let count = match rtype {
            RecordType::Mx => 2,
            RecordType::Soa => 7,
            RecordType::Txt | RecordType::Spf => fields.len().max(1),
            _ => 1,
        };
        if fields.len() < count {
            let at = fields.last().map_or(line, |t| t.line);
            return Err((at, ZoneErrorKind::MissingData { rtype, expected }));
        }
        if let Some(extra) = fields.get(count) {
            return Err((
                extra.line,
                ZoneErrorKind::TrailingData {
                    rtype,
                    value: extra.raw.into(),
                },
            ));
        }
        let data = match rtype {
            RecordType::A => {
                let word = fields[0].word(expected)?;
                RData::A(
                    word.parse::<Ipv4Addr>()
                        .map_err(|_| (fields[0].line, ZoneErrorKind::BadIpv4(word.into())))?,
                )
            }
            RecordType::Aaaa => {
                let word = fields[0].word(expected)?;
                RData::Aaaa(
                    word.parse::<Ipv6Addr>()
                        .map_err(|_| (fields[0].line, ZoneErrorKind::BadIpv6(word.into())))?,
                )
            }
            RecordType::Cname => RData::Cname(self.name(fields[0])?),
            RecordType::Ns => RData::Ns(self.name(fields[0])?),
            RecordType::Ptr => RData::Ptr(self.name(fields[0])?),
            RecordType::Mx => {
                let preference = number(fields[0], "MX preference")?;
                RData::Mx {
                    preference,
                    exchange: self.name(fields[1])?,
                }
            }
            RecordType::Soa => {
                let timer = |t: &Token<'_>, field: &'static str| {
                    let word = t.word("a number")?;
                    parse_ttl(word).ok_or_else(|| {
                        (
                            t.line,
                            ZoneErrorKind::BadNumber {
                                field,
                                value: word.into(),
                            },
                        )
                    })
                };
                RData::Soa(Soa {
                    mname: self.name(fields[0])?,
                    rname: self.name(fields[1])?,
                    serial: number(fields[2], "SOA serial")?,
                    refresh: timer(fields[3], "SOA refresh")?,
                    retry: timer(fields[4], "SOA retry")?,
                    expire: timer(fields[5], "SOA expire")?,
                    minimum: timer(fields[6], "SOA minimum")?,
                })
            }
            RecordType::Txt | RecordType::Spf => {
                let mut strings = Vec::with_capacity(fields.len());
                for token in fields {
                    if token.bytes.len() > 255 {
                        return Err((token.line, ZoneErrorKind::StringTooLong(token.bytes.len())));
                    }
                    strings.push(token.bytes.clone());
                }
                let txt = Txt::new(strings);
                if rtype == RecordType::Txt {
                    RData::Txt(txt)
                } else {
                    RData::Spf(txt)
                }
            }
        };
        Ok(data)
    }

    /// Gives every record its TTL and checks rules that span entries.
    fn finish(self) -> Result<Vec<Record>, Fail> {
        let fallback = self.soa_minimum.unwrap_or(DEFAULT_TTL);
        let mut kinds: HashMap<&str, (bool, bool)> = HashMap::new();
        for (record, _, line) in &self.records {
            let (cname, other) = kinds.entry(record.name.as_str()).or_default();
            if matches!(record.data, RData::Cname(_)) {
                *cname = true;
            } else {
                *other = true;
            }
            if *cname && *other {
                return Err((*line, ZoneErrorKind::CnameAndOtherData(record.name.clone())));
            }
        }
        Ok(self
            .records
            .into_iter()
            .map(|(mut record, ttl, _)| {
                record.ttl = ttl.unwrap_or(fallback);
                record
            })
            .collect())
    }
}

fn absolute_origin(origin: &str) -> Result<String, ZoneErrorKind> {
    let name = origin
        .strip_suffix('.')
        .unwrap_or(origin)
        .to_ascii_lowercase();
    check_name(&name).map_err(|why| ZoneErrorKind::BadName {
        name: origin.into(),
        why,
    })?;
    Ok(name)
}

/// Checks a normalized name (no trailing dot; `""` is the root) against RFC 1035 §2.3.4.
fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Ok(());
    }
    // Written as a record's owner, such a name would read as a directive; only an escape
    // (`\$`) could say otherwise, and escapes are not supported.
    if name.starts_with('$') {
        return Err("a name starting with '$' reads as a directive at the start of a line".into());
    }
    if name.len() > 253 {
        return Err(format!("name is {} bytes long, more than 253", name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("empty label".into());
        }
        if label.len() > 63 {
            return Err(format!(
                "label '{label}' is {} bytes long, more than 63",
                label.len()
            ));
        }
    }
    Ok(())
}

fn directive_hint(name: &str) -> &'static str {
    if name.eq_ignore_ascii_case("$INCLUDE") {
        " (give each file to inkan separately instead)"
    } else {
        ""
    }
}

fn is_known_directive(name: &str) -> bool {
    name.eq_ignore_ascii_case("$ORIGIN") || name.eq_ignore_ascii_case("$TTL")
}

/// The classes of RFC 1035 §3.2.4 other than IN, and the generic `CLASSnn` form (RFC 3597 §5).
fn is_class(word: &str) -> bool {
    ["CS", "CH", "HS", "NONE", "ANY"]
        .iter()
        .any(|c| c.eq_ignore_ascii_case(word))
        || word.get(..5).is_some_and(|p| {
            p.eq_ignore_ascii_case("CLASS")
                && word.len() > 5
                && word[5..].bytes().all(|b| b.is_ascii_digit())
        })
}

fn number<T: std::str::FromStr>(token: &Token<'_>, field: &'static str) -> Result<T, Fail> {
    let word = token.word("a number")?;
    if !word.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            token.line,
            ZoneErrorKind::BadNumber {
                field,
                value: word.into(),
            },
        ));
    }
    word.parse().map_err(|_| {
        (
            token.line,
            ZoneErrorKind::BadNumber {
                field,
                value: word.into(),
            },
        )
    })
}

/// A TTL in seconds, or a duration in BIND's units (`1w2d3h4m5s`, case-insensitive).
fn parse_ttl(word: &str) -> Option<u32> {
    if word.is_empty() {
        return None;
    }
    let total = if word.bytes().all(|b| b.is_ascii_digit()) {
        word.parse::<u64>().ok()?
    } else {
        let mut total: u64 = 0;
        let mut digits_start = 0;
        for (i, b) in word.bytes().enumerate() {
            if b.is_ascii_digit() {
                continue;
            }
            let unit = match b.to_ascii_lowercase() {
                b's' => 1,
                b'm' => 60,
                b'h' => 3600,
                b'd' => 86_400,
                b'w' => 604_800,
                _ => return None,
            };
            let count: u64 = word
                .get(digits_start..i)
                .filter(|d| !d.is_empty())?
                .parse()
                .ok()?;
            total = total.checked_add(count.checked_mul(unit)?)?;
            digits_start = i + 1;
        }
        if digits_start != word.len() {
            return None;
        }
        total
    };
    if total > MAX_TTL {
        return None;
    }
    u32::try_from(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Answer, Resolver};

    const GOOD: &str = r#"
$ORIGIN example.test.
$TTL 1h
@   IN  SOA ns1 hostmaster.example.test. (
        2026112801 ; serial
        7200       ; refresh
        1h         ; retry
        2w         ; expire
        300 )      ; minimum
    IN  NS  ns1
    NS  ns2.other.test.
    600 IN MX 10 mx1
    MX  0 .
    TXT "v=spf1 ip4:192.0.2.0/24 " "-all"
ns1 A   192.0.2.53
mx1 IN 300 A 192.0.2.25
    AAAA 2001:db8::25
www CNAME @
_dmarc TXT ( "v=DMARC1; p=reject; "
             "rua=mailto:dmarc@example.test" )
sel._domainkey 60 TXT "v=DKIM1; k=ed25519; p=abc\"def\\\059\233"
word TXT hello  world ; two unquoted strings
old SPF "v=spf1 -all"
utf TXT "café"
25.2.0.192.in-addr.arpa. PTR mx1.example.test.
"#;

    fn parse(text: &str) -> Vec<Record> {
        parse_zone(text, None, "test.zone").unwrap()
    }

    fn error(text: &str) -> ZoneError {
        parse_zone(text, None, "zones/example.zone").unwrap_err()
    }

    fn find<'a>(records: &'a [Record], name: &str, rtype: RecordType) -> Vec<&'a Record> {
        records
            .iter()
            .filter(|r| r.name == name && r.data.record_type() == rtype)
            .collect()
    }

    #[test]
    fn a_full_zone_is_read() {
        let records = parse(GOOD);
        assert_eq!(records.len(), 16);
        let soa = find(&records, "example.test", RecordType::Soa);
        let RData::Soa(s) = &soa[0].data else {
            panic!()
        };
        assert_eq!(
            (
                s.mname.as_str(),
                s.rname.as_str(),
                s.serial,
                s.refresh,
                s.retry,
                s.expire,
                s.minimum
            ),
            (
                "ns1.example.test",
                "hostmaster.example.test",
                2026112801,
                7200,
                3600,
                1_209_600,
                300
            )
        );
        assert_eq!(soa[0].ttl, 3600);
        let ns: Vec<_> = find(&records, "example.test", RecordType::Ns)
            .iter()
            .map(|r| r.data.to_string())
            .collect();
        assert_eq!(ns, ["ns1.example.test.", "ns2.other.test."]);
        let mx = find(&records, "example.test", RecordType::Mx);
        assert_eq!(
            mx[0].data,
            RData::Mx {
                preference: 10,
                exchange: "mx1.example.test".into()
            }
        );
        assert_eq!(mx[0].ttl, 600);
        assert_eq!(
            mx[1].data,
            RData::Mx {
                preference: 0,
                exchange: String::new()
            },
            "null MX"
        );
        assert_eq!(mx[1].ttl, 3600, "$TTL applies, not the last explicit TTL");
        let spf = find(&records, "example.test", RecordType::Txt);
        let RData::Txt(t) = &spf[0].data else {
            panic!()
        };
        assert_eq!(
            t.strings(),
            [b"v=spf1 ip4:192.0.2.0/24 ".to_vec(), b"-all".to_vec()]
        );
        assert_eq!(
            find(&records, "mx1.example.test", RecordType::A)[0].ttl,
            300
        );
        assert_eq!(
            find(&records, "mx1.example.test", RecordType::Aaaa)[0].data,
            RData::Aaaa("2001:db8::25".parse().unwrap())
        );
        assert_eq!(
            find(&records, "www.example.test", RecordType::Cname)[0].data,
            RData::Cname("example.test".into())
        );
        let RData::Txt(dmarc) = &find(&records, "_dmarc.example.test", RecordType::Txt)[0].data
        else {
            panic!()
        };
        assert_eq!(
            dmarc.concat_lossy(),
            "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
        );
        let dkim = &find(&records, "sel._domainkey.example.test", RecordType::Txt)[0];
        assert_eq!(dkim.ttl, 60);
        let RData::Txt(dkim) = &dkim.data else {
            panic!()
        };
        assert_eq!(dkim.concat(), b"v=DKIM1; k=ed25519; p=abc\"def\\;\xe9");
        let RData::Txt(word) = &find(&records, "word.example.test", RecordType::Txt)[0].data else {
            panic!()
        };
        assert_eq!(word.strings(), [b"hello".to_vec(), b"world".to_vec()]);
        assert!(matches!(
            find(&records, "old.example.test", RecordType::Spf)[0].data,
            RData::Spf(_)
        ));
        let RData::Txt(utf) = &find(&records, "utf.example.test", RecordType::Txt)[0].data else {
            panic!()
        };
        assert_eq!(utf.concat(), "café".as_bytes());
        assert_eq!(
            find(&records, "25.2.0.192.in-addr.arpa", RecordType::Ptr)[0].data,
            RData::Ptr("mx1.example.test".into())
        );
    }

    #[test]
    fn origin_argument_and_relative_origin_change() {
        let records = parse_zone(
            "@ TXT a\n$ORIGIN sub\nwww A 192.0.2.1\n",
            Some("Example.Test."),
            "t",
        )
        .unwrap();
        assert_eq!(records[0].name, "example.test");
        assert_eq!(records[1].name, "www.sub.example.test");
    }

    #[test]
    fn ttl_falls_back_to_last_explicit_then_soa_minimum_then_default() {
        let records = parse("a.test. 120 A 192.0.2.1\nb.test. A 192.0.2.2\n");
        assert_eq!(
            (records[0].ttl, records[1].ttl),
            (120, 120),
            "RFC 1035: last explicit TTL"
        );
        let records = parse("a.test. A 192.0.2.1\ntest. SOA ns.test. h.test. 1 2 3 4 900\n");
        assert_eq!((records[0].ttl, records[1].ttl), (900, 900), "SOA minimum");
        assert_eq!(parse("a.test. A 192.0.2.1\n")[0].ttl, DEFAULT_TTL);
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("1h30m"), Some(5400));
        assert_eq!(
            parse_ttl("1W2d3H4m5S"),
            Some(604_800 + 2 * 86_400 + 3 * 3600 + 4 * 60 + 5)
        );
        assert_eq!(parse_ttl("2147483647"), Some(2_147_483_647));
        for bad in ["2147483648", "1h30", "h", "1x", "", "99999999999999999999w"] {
            assert_eq!(parse_ttl(bad), None, "{bad}");
        }
    }

    #[test]
    fn class_and_ttl_in_either_order_class_optional() {
        for line in [
            "a.test. 60 IN A 192.0.2.1",
            "a.test. IN 60 A 192.0.2.1",
            "a.test. in a 192.0.2.1",
            "a.test. 60 A 192.0.2.1",
        ] {
            let r = parse(line);
            assert_eq!(r[0].data, RData::A(Ipv4Addr::new(192, 0, 2, 1)), "{line}");
        }
    }

    #[test]
    fn quotes_hide_comments_and_parentheses() {
        let r = parse("a.test. TXT \"x; (y) \\\"z\" ; comment\n");
        let RData::Txt(t) = &r[0].data else { panic!() };
        assert_eq!(t.concat(), b"x; (y) \"z");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases: &[(&str, usize, &str)] = &[
            (
                "$ORIGIN example.test.\n\n@ TXTT \"x\"\n",
                3,
                "unknown record type 'TXTT'",
            ),
            ("a.test. A 192.0.2\n", 1, "bad IPv4 address '192.0.2'"),
            (
                "a.test. A 1.2.3.4\nb.test. AAAA 2001:db8::g\n",
                2,
                "bad IPv6 address '2001:db8::g'",
            ),
            (
                "a.test. TXT \"ok\"\nb.test. TXT \"open\n",
                2,
                "unterminated quoted string",
            ),
            (
                "a.test. SOA ( ns.test. h.test.\n 1 2 3 4 5\n\n",
                1,
                "unterminated parenthesis",
            ),
            ("a.test. A 192.0.2.1 )\n", 1, "unbalanced parenthesis: ')'"),
            (
                "www A 192.0.2.1\n",
                1,
                "relative name 'www' but no $ORIGIN is known",
            ),
            ("@ A 192.0.2.1\n", 1, "relative name '@'"),
            (
                &format!("a.test. TXT \"{}\"\n", "x".repeat(256)),
                1,
                "256 bytes is longer than 255",
            ),
            (
                &format!("{}.test. A 192.0.2.1\n", "a".repeat(64)),
                1,
                "more than 63",
            ),
            ("a.test. CH TXT \"x\"\n", 1, "unsupported class 'CH'"),
            // Found by the zone_parse fuzz target: records at this origin could not be
            // written back, their owner reading as a directive.
            (
                "$ORIGIN $arked.test.\n@ MX 0 .\n",
                1,
                "a name starting with '$' reads as a directive",
            ),
            (
                "a.test. CNAME $x.test.\n",
                1,
                "a name starting with '$' reads as a directive",
            ),
            (
                "$INCLUDE other.zone\n",
                1,
                "unsupported directive '$INCLUDE'",
            ),
            ("$TTL 1x\n", 1, "bad TTL '1x'"),
            (
                "a.test. MX mx.test.\n",
                1,
                "MX record needs a preference and an exchange name",
            ),
            (
                "a.test. MX 70000 mx.test.\n",
                1,
                "bad MX preference '70000'",
            ),
            (
                "a.test. A 192.0.2.1 192.0.2.2\n",
                1,
                "unexpected '192.0.2.2' after the A data",
            ),
            ("  A 192.0.2.1\n", 1, "no owner name"),
            ("a.test. TXT \"\\300\"\n", 1, "bad escape '\\300'"),
            (
                "a.test. CNAME b.test.\na.test. A 192.0.2.1\n",
                2,
                "has a CNAME and other records",
            ),
            ("a..test. A 192.0.2.1\n", 1, "empty label"),
            (
                "a.test. SOA ns.test. h.test. (\n 1 2 3 4\n x )\n",
                3,
                "bad SOA minimum 'x'",
            ),
            ("a.test.\n", 1, "unknown record type ''"),
        ];
        for (text, line, message) in cases {
            let err = error(text);
            assert_eq!(err.line(), *line, "{text:?} → {err}");
            assert_eq!(err.file(), "zones/example.zone");
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("zones/example.zone:{line}: ")),
                "{shown}"
            );
            assert!(shown.contains(message), "{text:?} → {shown}");
        }
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let err = MemoryResolver::from_zone_files(&["/nonexistent/inkan.zone"]).unwrap_err();
        assert!(matches!(err.kind(), ZoneErrorKind::Io(_)));
        assert!(
            err.to_string()
                .starts_with("/nonexistent/inkan.zone: cannot read the file"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn resolver_from_zone_answers_records_nxdomain_and_nodata() {
        let r = MemoryResolver::from_zone_text(GOOD, None, "good.zone").unwrap();
        let answer = r.lookup("Example.Test.", RecordType::Txt).await.unwrap();
        assert_eq!(
            answer.txt().next().unwrap().concat(),
            b"v=spf1 ip4:192.0.2.0/24 -all"
        );
        assert!(matches!(
            r.lookup("nope.example.test", RecordType::A).await.unwrap(),
            Answer::NxDomain { ttl: 300 }
        ));
        assert!(matches!(
            r.lookup("ns1.example.test", RecordType::Txt).await.unwrap(),
            Answer::NoData { ttl: 300 }
        ));
        assert!(matches!(
            r.lookup("_domainkey.example.test", RecordType::Txt)
                .await
                .unwrap(),
            Answer::NoData { .. }
        ));
        let via_cname = r.lookup("www.example.test", RecordType::Mx).await.unwrap();
        assert_eq!(
            via_cname.names().collect::<Vec<_>>(),
            ["mx1.example.test", ""]
        );
    }

    #[test]
    fn files_are_merged_and_duplicates_kept_once() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one.zone");
        let two = dir.path().join("two.zone");
        std::fs::write(
            &one,
            "$ORIGIN one.test.\n@ TXT \"1\"\nshared.test. A 192.0.2.1\n",
        )
        .unwrap();
        std::fs::write(
            &two,
            "$ORIGIN two.test.\n@ TXT \"2\"\nshared.test. A 192.0.2.1\n",
        )
        .unwrap();
        let r = MemoryResolver::from_zone_files(&[&one, &two]).unwrap();
        assert_eq!(r.records().count(), 3);
        assert!(r.name_exists("one.test") && r.name_exists("two.test"));
        std::fs::write(&two, "bad.test. A 300.1.1.1\n").unwrap();
        let err = MemoryResolver::from_zone_files(&[&one, &two]).unwrap_err();
        assert_eq!(
            (err.file(), err.line()),
            (two.display().to_string().as_str(), 1)
        );
    }

    fn round_trip(records: &[Record]) {
        let written: String = records
            .iter()
            .map(|r| {
                format!(
                    "{}. {} IN {} {}\n",
                    r.name,
                    r.ttl,
                    r.data.record_type(),
                    r.data
                )
            })
            .collect();
        let reread = parse_zone(&written, None, "rewritten.zone")
            .unwrap_or_else(|e| panic!("{e}\n{written}"));
        assert_eq!(records, reread, "{written}");
    }

    #[test]
    fn records_written_in_presentation_format_read_back_the_same() {
        round_trip(&parse(GOOD));
    }

    /// A small deterministic stand-in for the fuzz target in `fuzz/`: damaged zones give an
    /// error or records that round-trip, never a panic.
    #[test]
    fn damaged_zones_never_panic() {
        let specials = b" \t\n;()\"\\$@.0123456789aINTXTMXSOA\xc3\xa9";
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..4000 {
            let mut bytes = GOOD.as_bytes().to_vec();
            for _ in 0..round % 6 + 1 {
                let at = (next() as usize) % (bytes.len() + 1);
                let byte = specials[(next() as usize) % specials.len()];
                match next() % 3 {
                    0 if at < bytes.len() => bytes[at] = byte,
                    1 if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.insert(at, byte),
                }
            }
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            if let Ok(records) = parse_zone(&text, Some("origin.test"), "damaged.zone") {
                round_trip(&records);
            }
        }
        for end in (0..GOOD.len()).filter(|&e| GOOD.is_char_boundary(e)) {
            let _ = parse_zone(&GOOD[..end], None, "truncated.zone");
        }
    }
}
