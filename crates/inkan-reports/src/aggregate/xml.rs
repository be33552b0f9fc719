//! The lenient, bounded XML layer under the aggregate-report reader. It reads one top-level
//! child of `<feedback>` at a time from borrowed quick-xml events — straight out of the
//! input's own buffer (the whole document when it is in memory), or out of a window this
//! layer copies the input into once an element runs past the end of what the input had
//! buffered — so a report of any size is read in constant memory and no event is copied.
//! Each element is handed to a [`Sink`]: records fill a [`RecordBuilder`] directly; the
//! few other elements (metadata, policy, unknown ones) become small [`Node`] trees. Elements
//! written plainly skip quick-xml: a record that is also clean (valid UTF-8, no references or
//! control characters, text only in leaves) is checked once as a whole and scanned eight
//! bytes at a time, its values handed on as slices of the input; any other plain element is
//! read byte by byte; everything else, errors included, goes through quick-xml.
//!
//! Text is decoded leniently (invalid UTF-8 replaced and warned about, control characters
//! dropped, unknown entities kept verbatim); DOCTYPEs that declare entities are refused, end
//! tags must match their start tags, and depth and element size are capped.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::errors::{Error as XmlError, IllFormedError};
use quick_xml::events::{BytesStart, Event};

use super::record::RecordBuilder;
use crate::error::ParseError;
use crate::limits::Limits;
use crate::warnings::{Warnings, excerpt};

/// One element with its text and children (attributes are not used by any report schema).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    /// The first child called `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The trimmed text of the first child called `name`.
    pub(crate) fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// Every leaf under this node as `prefix.path = text`, for keeping unknown elements.
    pub(crate) fn flatten_into(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let path = if prefix.is_empty() {
            self.name.clone()
        } else {
            format!("{prefix}.{}", self.name)
        };
        if self.children.is_empty() {
            out.push((path, self.text.clone()));
        } else {
            for child in &self.children {
                child.flatten_into(&path, out);
            }
        }
    }
}

/// What the next top-level step of the document is.
#[derive(Debug)]
pub(crate) enum Item {
    /// The root element opened, with its local name and default namespace.
    Root {
        name: String,
        namespace: Option<String>,
    },
    /// A whole child of the root other than a record.
    Child(Node),
    /// A whole `<record>`: the [`RecordBuilder`] passed in holds it.
    Record,
    /// The root element closed.
    RootEnd,
    /// The document ended.
    Eof,
}

/// Receives the elements of one top-level item, innermost last.
pub(crate) trait Sink {
    /// An element opened, called by its local name (as written: UTF-8 in every report
    /// schema, but not checked).
    fn start(&mut self, name: &[u8]);
    /// The innermost open element closed with its trimmed text; `leaf` when it had no child
    /// element.
    fn end(&mut self, text: &str, leaf: bool, warnings: &mut Warnings);
    /// Forgets a partly read item: the input ended inside it, and it is read again from its
    /// start once more input is in.
    fn reset(&mut self);
}

/// Builds [`Node`] trees, reusing the nodes handed back with [`XmlPull::recycle`].
#[derive(Debug, Default)]
struct Tree {
    /// Emptied nodes, kept with their allocations for the next tree.
    pool: Vec<Node>,
    /// The open elements, outermost first.
    stack: Vec<Node>,
    /// The item, once its element closed.
    done: Option<Node>,
}

/// Most nodes kept for reuse.
const POOL: usize = 256;
/// Nodes whose text grew past this are dropped rather than kept for reuse.
const POOL_TEXT: usize = 4096;

impl Tree {
    fn recycle(&mut self, mut node: Node) {
        while let Some(child) = node.children.pop() {
            self.recycle(child);
        }
        if self.pool.len() < POOL && node.text.capacity() <= POOL_TEXT {
            node.name.clear();
            node.text.clear();
            self.pool.push(node);
        }
    }
}

impl Sink for Tree {
    fn start(&mut self, name: &[u8]) {
        let mut node = self.pool.pop().unwrap_or_default();
        node.name.push_str(&String::from_utf8_lossy(name));
        self.stack.push(node);
    }

    fn end(&mut self, text: &str, _leaf: bool, _warnings: &mut Warnings) {
        let mut node = self.stack.pop().unwrap_or_default();
        node.text.push_str(text);
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => self.done = Some(node),
        }
    }

    fn reset(&mut self) {
        while let Some(node) = self.stack.pop() {
            self.recycle(node);
        }
        if let Some(node) = self.done.take() {
            self.recycle(node);
        }
    }
}

/// The elements open inside the item being read.
#[derive(Debug, Default)]
struct Open {
    /// Their qualified names as written, one after the other, to match end tags against.
    names: Vec<u8>,
    /// Where each name ends in `names`.
    ends: Vec<usize>,
    /// Their text so far, by depth; kept across items for their allocations.
    texts: Vec<String>,
    /// Whether each has had a child element, and whether whitespace before its text was
    /// skipped by the reader.
    flags: Vec<Flags>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    parent: bool,
    padded: bool,
}

impl Open {
    fn depth(&self) -> usize {
        self.ends.len()
    }

    fn push(&mut self, name: &[u8]) {
        if let Some(flags) = self.flags.last_mut() {
            flags.parent = true;
        }
        self.names.extend_from_slice(name);
        self.ends.push(self.names.len());
        self.flags.push(Flags::default());
        let depth = self.ends.len();
        if self.texts.len() < depth {
            self.texts.push(String::new());
        }
        self.texts[depth - 1].clear();
    }

    /// Where the qualified name of the innermost open element lies in `names`.
    fn name_range(&self) -> std::ops::Range<usize> {
        let end = self.ends.last().copied().unwrap_or(0);
        let start = self.ends.len().checked_sub(2).map_or(0, |i| self.ends[i]);
        start..end
    }

    /// The qualified name of the innermost open element.
    fn name(&self) -> &[u8] {
        &self.names[self.name_range()]
    }

    /// Whether the innermost open element has had a child element.
    fn is_parent(&self) -> bool {
        self.flags.last().is_some_and(|f| f.parent)
    }

    /// Whether an element named `qname` is open.
    fn is_open(&self, qname: &[u8]) -> bool {
        let mut start = 0;
        self.ends.iter().any(|&end| {
            let open = &self.names[start..end];
            start = end;
            open == qname
        })
    }

    /// Whitespace the reader skipped before the next event (`text`: a text event) in the
    /// innermost open element: part of its text once the text has begun, and before a text
    /// that begins it, whitespace to trim (and warn about) as if it had been kept.
    fn skipped(&mut self, whitespace: &[u8], text: bool) {
        let depth = self.ends.len().max(1);
        let out = &mut self.texts[depth - 1];
        if !out.is_empty() {
            out.push_str(&String::from_utf8_lossy(whitespace));
        } else if text {
            self.flags[depth - 1].padded = true;
        }
    }

    /// Whether the innermost open element has text yet.
    fn has_text(&self) -> bool {
        self.texts
            .get(self.ends.len().max(1) - 1)
            .is_some_and(|t| !t.is_empty())
    }

    /// Adds text to the innermost open element.
    fn push_text(&mut self, text: &[u8], warnings: &mut Warnings) {
        let depth = self.ends.len().max(1);
        let name = &self.names[self.name_range()];
        let out = &mut self.texts[depth - 1];
        push_text(out, text, || String::from_utf8_lossy(local(name)), warnings);
    }

    /// The text of the innermost open element, with its local name for warnings.
    fn text(&mut self) -> (&mut String, Cow<'_, str>) {
        let depth = self.ends.len().max(1);
        let name = &self.names[self.name_range()];
        (
            &mut self.texts[depth - 1],
            String::from_utf8_lossy(local(name)),
        )
    }

    /// Closes the innermost element: its trimmed text, whether it was a leaf.
    fn close(&mut self, warnings: &mut Warnings) -> (&mut String, bool) {
        let flags = self.flags.pop().unwrap_or_default();
        let leaf = !flags.parent;
        let depth = self.ends.len();
        let name = self.name_range();
        self.ends.pop();
        let text = &mut self.texts[depth - 1];
        if (trim_in_place(text) || flags.padded) && leaf && !text.is_empty() {
            warnings.add(format!(
                "whitespace around the value of <{}> trimmed",
                String::from_utf8_lossy(local(&self.names[name.clone()]))
            ));
        }
        self.names.truncate(name.start);
        (text, leaf)
    }

    /// Opens element `qname` and shows its local name to `sink`.
    fn enter(&mut self, qname: &[u8], sink: &mut impl Sink) {
        self.enter_local(qname, local(qname), sink);
    }

    /// [`Open::enter`] with the local name of `qname` found already.
    fn enter_local(&mut self, qname: &[u8], local: &[u8], sink: &mut impl Sink) {
        self.push(qname);
        sink.start(local);
    }

    /// Closes the innermost element and shows its text to `sink`.
    fn leave(&mut self, sink: &mut impl Sink, warnings: &mut Warnings) {
        let (text, leaf) = self.close(warnings);
        sink.end(text.as_str(), leaf, warnings);
    }

    /// Starts reading element `qname` from nothing open.
    fn begin(&mut self, qname: &[u8], sink: &mut impl Sink) {
        self.clear();
        self.enter(qname, sink);
    }

    fn clear(&mut self) {
        self.names.clear();
        self.ends.clear();
        self.flags.clear();
    }
}

/// What reading from one window of input came to.
enum Step {
    /// An item, and how many bytes of the window it used.
    Done(Item, usize),
    /// The window ended inside the item that starts at this offset: it is read again with
    /// more input.
    More(usize),
}

/// Input to read items from.
#[derive(Debug, Clone, Copy)]
struct Window<'b> {
    bytes: &'b [u8],
    /// Whether `bytes` is all that is left of the document.
    at_end: bool,
    /// Where `bytes` starts in the document.
    offset: u64,
}

/// The parser's state between windows of input.
#[derive(Debug)]
struct Parser {
    limits: Limits,
    in_root: bool,
    root_name: String,
    /// The root element's qualified name as written.
    root_qname: Vec<u8>,
    tree: Tree,
    open: Open,
    /// Warnings of the item being read, kept only once it is whole.
    pending: Warnings,
    /// Where a syntax error was met at the end of a window: met there again with more input,
    /// it is a real one.
    syntax_error_at: Option<u64>,
    /// The elements open in a record read by [`Parser::clean_record`].
    levels: Vec<Level>,
    /// Finds the end tag of a record.
    record_end: memchr::memmem::Finder<'static>,
}

/// An element open in a record read by [`Parser::clean_record`].
#[derive(Debug, Clone, Copy)]
struct Level {
    /// Where its qualified name lies in the record.
    name: (usize, usize),
    /// Whether it has had a child element.
    parent: bool,
}

/// The end tag of a record.
const RECORD_END: &[u8] = b"</record>";

/// Pulls top-level children of the root element out of an XML byte stream.
pub(crate) struct XmlPull<R: BufRead> {
    input: R,
    /// Input taken out of `input` once an item ran past the end of its buffer; read from
    /// `window_start` on.
    window: Vec<u8>,
    window_start: usize,
    /// Whether reading goes through `window` (rather than straight from `input`'s buffer).
    windowed: bool,
    /// Whether `input` is exhausted (only known when windowed).
    input_done: bool,
    /// Bytes of the document consumed before the current window.
    offset: u64,
    parser: Parser,
}

impl<R: BufRead> std::fmt::Debug for XmlPull<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlPull")
            .field("in_root", &self.parser.in_root)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// Bytes read ahead into the window each time it runs dry.
const READ_AHEAD: usize = 256 * 1024;

/// The local part of a (possibly prefixed) element name.
fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The bytes of a plain element name: ASCII letters, digits, `_`, `-`, `.`, `:`.
const NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b':');
        b += 1;
    }
    table
};

/// Where `text` holds `/name>`: the end tag of element `name` written without its `<`.
fn lost_end_tag(text: &[u8], name: &[u8]) -> Option<usize> {
    text.iter().enumerate().find_map(|(at, &b)| {
        let rest = &text[at + 1..];
        (b == b'/' && rest.starts_with(name) && rest.get(name.len()) == Some(&b'>')).then_some(at)
    })
}

/// Whether `name`, read from `<name ...>`, can be an element's name: not empty, not starting
/// with a digit, and without the characters of an address or URL (`@`, `/`, brackets...).
fn is_tag_name(name: &[u8]) -> bool {
    name.first().is_some_and(|b| !b.is_ascii_digit())
        && !name.iter().any(|b| {
            matches!(
                b,
                b'@' | b'/' | b'(' | b')' | b'[' | b']' | b',' | b';' | b'"' | b'\'' | b'='
            )
        })
}

/// The XML whitespace at the start of `bytes`.
fn leading_whitespace(bytes: &[u8]) -> &[u8] {
    let n = bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    &bytes[..n]
}

/// Trims `text` in place; whether anything was removed.
fn trim_in_place(text: &mut String) -> bool {
    if !text.starts_with(char::is_whitespace) && !text.ends_with(char::is_whitespace) {
        return false;
    }
    let end = text.trim_end().len();
    let start = text.len() - text.trim_start().len();
    if start == 0 && end == text.len() {
        return false;
    }
    if start >= end {
        text.clear();
    } else {
        text.truncate(end);
        text.drain(..start);
    }
    true
}

impl<R: BufRead> XmlPull<R> {
    pub(crate) fn new(input: R, limits: Limits) -> Self {
        XmlPull {
            input,
            window: Vec::new(),
            window_start: 0,
            windowed: false,
            input_done: false,
            offset: 0,
            parser: Parser {
                limits,
                in_root: false,
                root_name: String::new(),
                root_qname: Vec::new(),
                tree: Tree::default(),
                open: Open::default(),
                pending: Warnings::default(),
                syntax_error_at: None,
                levels: Vec::new(),
                record_end: memchr::memmem::Finder::new(RECORD_END),
            },
        }
    }

    /// The input read from.
    pub(crate) fn input_mut(&mut self) -> &mut R {
        &mut self.input
    }

    /// Takes back a tree the caller is done with, so that its allocations serve the next one.
    pub(crate) fn recycle(&mut self, node: Node) {
        self.parser.tree.recycle(node);
    }

    /// The next top-level item; a record goes into `records`.
    pub(crate) fn next_item(
        &mut self,
        warnings: &mut Warnings,
        records: &mut RecordBuilder,
    ) -> Result<Item, ParseError> {
        loop {
            let (bytes, at_end) = if self.windowed {
                (&self.window[self.window_start..], self.input_done)
            } else {
                let bytes = self.input.fill_buf()?;
                (bytes, bytes.is_empty())
            };
            match self.parser.step(
                Window {
                    bytes,
                    at_end,
                    offset: self.offset,
                },
                warnings,
                records,
            )? {
                Step::Done(item, used) => {
                    self.advance(used);
                    return Ok(item);
                }
                Step::More(keep) => self.read_more(keep)?,
            }
        }
    }

    fn advance(&mut self, used: usize) {
        self.offset += used as u64;
        if self.windowed {
            self.window_start += used;
            if self.window_start == self.window.len() && !self.input_done {
                // Everything copied was read: back to reading from the input's buffer.
                self.window.clear();
                self.window_start = 0;
                self.windowed = false;
            }
        } else {
            self.input.consume(used);
        }
    }

    /// Keeps the bytes from `keep` on and adds at least [`READ_AHEAD`] more behind them.
    fn read_more(&mut self, keep: usize) -> Result<(), ParseError> {
        self.offset += keep as u64;
        if self.windowed {
            self.window.drain(..self.window_start + keep);
        } else {
            let buffered = self.input.fill_buf()?;
            let len = buffered.len();
            self.window.clear();
            self.window.extend_from_slice(&buffered[keep..]);
            self.input.consume(len);
            self.windowed = true;
        }
        self.window_start = 0;
        // Room for the largest item the element limit allows, with its markup.
        let limit = self.parser.limits.max_element_bytes.saturating_mul(4);
        if self.window.len() > limit {
            return Err(ParseError::ElementTooLarge {
                element: "(one top-level xml element)".to_owned(),
                limit,
            });
        }
        // Doubling: an item read again with more input costs at most twice its size.
        let want = self.window.len() + READ_AHEAD.max(self.window.len());
        while self.window.len() < want {
            let buffered = self.input.fill_buf()?;
            if buffered.is_empty() {
                self.input_done = true;
                break;
            }
            let len = buffered.len();
            self.window.extend_from_slice(buffered);
            self.input.consume(len);
        }
        Ok(())
    }
}

/// The local name and default namespace of the root element.
fn root(start: &BytesStart<'_>) -> (String, Option<String>) {
    let name = String::from_utf8_lossy(local(start.name().as_ref())).into_owned();
    let namespace = start
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == b"xmlns")
        .map(|a| String::from_utf8_lossy(&a.value).into_owned());
    (name, namespace)
}

/// Whether `err` at byte `at` may only mean that the window ended inside markup (an unclosed
/// tag, comment...): then the item is read again with more input, and a syntax error met at
/// the same place again (`seen`) is a real one.
fn truncated_by_window(err: &XmlError, at_end: bool, at: u64, seen: &mut Option<u64>) -> bool {
    if at_end || !matches!(err, XmlError::Syntax(_)) || *seen == Some(at) {
        return false;
    }
    *seen = Some(at);
    true
}

/// Converts a quick-xml error at `position`.
fn xml_error(err: XmlError, position: u64) -> ParseError {
    match ParseError::from(err) {
        ParseError::Xml { detail, .. } => ParseError::Xml { position, detail },
        other => other,
    }
}

/// The next event of `reader` (reading a window that starts at byte `offset` of the
/// document); `None` when its error may only mean that the window ended inside markup
/// ([`truncated_by_window`]).
fn next_event<'b>(
    reader: &mut quick_xml::Reader<&'b [u8]>,
    at_end: bool,
    offset: u64,
    seen: &mut Option<u64>,
) -> Result<Option<Event<'b>>, ParseError> {
    match reader.read_event() {
        Ok(event) => Ok(Some(event)),
        Err(err) => {
            let at = offset + reader.error_position();
            if truncated_by_window(&err, at_end, at, seen) {
                Ok(None)
            } else {
                Err(xml_error(err, at))
            }
        }
    }
}

/// Where the markup of the event read from `before` in `bytes` (a window starting at byte
/// `offset` of the document) starts: past the whitespace the reader skipped.
fn markup_at(bytes: &[u8], before: usize, offset: u64) -> u64 {
    let skipped = leading_whitespace(bytes.get(before..).unwrap_or_default());
    offset + (before + skipped.len()) as u64
}

/// The error for end tag `found` where `expected` is open, at byte `at`.
fn mismatched_end(expected: &[u8], found: &[u8], at: u64) -> ParseError {
    let error = IllFormedError::MismatchedEndTag {
        expected: String::from_utf8_lossy(expected).into_owned(),
        found: String::from_utf8_lossy(found).into_owned(),
    };
    xml_error(XmlError::IllFormed(error), at)
}

impl Parser {
    /// Reads the next item out of `bytes` (all that is left of the document when `at_end`),
    /// which start at byte `offset` of the document.
    fn step(
        &mut self,
        window: Window<'_>,
        warnings: &mut Warnings,
        records: &mut RecordBuilder,
    ) -> Result<Step, ParseError> {
        let Window {
            bytes,
            at_end,
            offset,
        } = window;
        // A record opened by a plain `<record>` (after the indentation, which makes no event
        // here either) is read without setting up quick-xml for its start tag; anything
        // else, and a record the plain reader does not take, goes the way below.
        if self.in_root {
            let before = leading_whitespace(bytes).len();
            let content = before + b"<record>".len();
            if bytes[before..].starts_with(b"<record>")
                && let Some(end) = self
                    .clean_record(bytes, content, records)
                    .or_else(|| self.plain_element(bytes, content, b"record", records))
            {
                return Ok(self.finish_item(Some((Item::Record, end)), before, warnings));
            }
        }
        let mut reader = quick_xml::Reader::from_reader(bytes);
        let config = reader.config_mut();
        // Whitespace before text is skipped (indentation then makes no event at all); the
        // text handler puts back what matters of it.
        config.trim_text_start = true;
        config.trim_text_end = false;
        config.expand_empty_elements = false;
        // End tags are matched here, against the names of the item's open elements: the
        // reader may start in the middle of the document, after the root opened.
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        config.allow_dangling_amp = true;
        loop {
            let before = reader.buffer_position() as usize;
            let Some(event) = next_event(&mut reader, at_end, offset, &mut self.syntax_error_at)?
            else {
                return Ok(Step::More(before));
            };
            match event {
                Event::Start(start) if !self.in_root => {
                    let (name, namespace) = root(&start);
                    self.in_root = true;
                    self.root_name.clone_from(&name);
                    self.root_qname.clear();
                    self.root_qname.extend_from_slice(start.name().as_ref());
                    let used = reader.buffer_position() as usize;
                    return Ok(Step::Done(Item::Root { name, namespace }, used));
                }
                Event::Empty(start) if !self.in_root => {
                    // `<feedback/>`: a root with nothing in it; the document ends next.
                    let (name, _) = root(&start);
                    let used = reader.buffer_position() as usize;
                    let item = Item::Root {
                        name,
                        namespace: None,
                    };
                    return Ok(Step::Done(item, used));
                }
                // Some reporters (IKEA's, for one) open an XML Schema element right inside
                // the root and never close it: its tags are passed over, and what is in it is
                // read as the report's own children.
                Event::Start(start) | Event::Empty(start)
                    if local(start.name().as_ref()) == b"schema" =>
                {
                    warnings.add(format!(
                        "XML Schema tag <{}> inside the report ignored",
                        String::from_utf8_lossy(start.name().as_ref())
                    ));
                }
                Event::End(end)
                    if local(end.name().as_ref()) == b"schema"
                        && end.name().as_ref() != self.root_qname.as_slice() => {}
                Event::Start(start) => {
                    let item = self.item(&mut reader, window, &start, false, records)?;
                    return Ok(self.finish_item(item, before, warnings));
                }
                Event::Empty(start) => {
                    let item = self.item(&mut reader, window, &start, true, records)?;
                    return Ok(self.finish_item(item, before, warnings));
                }
                Event::End(end) => {
                    if !self.in_root || end.name().as_ref() != self.root_qname.as_slice() {
                        let at = markup_at(bytes, before, offset);
                        return Err(mismatched_end(&self.root_qname, end.name().as_ref(), at));
                    }
                    self.in_root = false;
                    return Ok(Step::Done(Item::RootEnd, reader.buffer_position() as usize));
                }
                Event::DocType(doctype) => {
                    let text = String::from_utf8_lossy(doctype.as_ref());
                    if text.contains("ENTITY") {
                        let shown: String = text.chars().take(60).collect();
                        return Err(ParseError::EntityDeclaration(shown));
                    }
                    warnings.add("document type declaration ignored");
                }
                Event::Text(text) => {
                    if self.in_root || text.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    if !at_end && reader.buffer_position() as usize == bytes.len() {
                        // The text may go on in the input not read yet: warned about once.
                        return Ok(Step::More(before));
                    }
                    warnings.add("stray text outside the report element ignored");
                }
                Event::GeneralRef(_) | Event::CData(_) => {
                    warnings.add("stray text outside the report element ignored");
                }
                Event::Eof => {
                    if !at_end {
                        return Ok(Step::More(before));
                    }
                    if self.in_root {
                        return Err(ParseError::Truncated(self.root_name.clone()));
                    }
                    return Ok(Step::Done(Item::Eof, before));
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
    }

    /// Reads the child of the root whose start tag was just read: the item, or `None` when
    /// the window ended inside it.
    fn item(
        &mut self,
        reader: &mut quick_xml::Reader<&[u8]>,
        window: Window<'_>,
        start: &BytesStart<'_>,
        empty: bool,
        records: &mut RecordBuilder,
    ) -> Result<Option<(Item, usize)>, ParseError> {
        let qname = start.name();
        let content = reader.buffer_position() as usize;
        if local(qname.as_ref()) == b"record" {
            if !empty
                && let Some(end) = (qname.as_ref() == b"record")
                    .then(|| self.clean_record(window.bytes, content, records))
                    .flatten()
                    .or_else(|| self.plain_element(window.bytes, content, qname.as_ref(), records))
            {
                return Ok(Some((Item::Record, end)));
            }
            let whole = self.read_element(reader, window, qname.as_ref(), empty, records)?;
            let end = reader.buffer_position() as usize;
            return Ok(whole.then_some((Item::Record, end)));
        }
        let mut tree = std::mem::take(&mut self.tree);
        // The report's metadata and policy are written as plainly as its records.
        if !empty
            && let Some(end) = self.plain_element(window.bytes, content, qname.as_ref(), &mut tree)
        {
            let item = tree.done.take().map(Item::Child);
            self.tree = tree;
            return Ok(item.map(|item| (item, end)));
        }
        let whole = self.read_element(reader, window, qname.as_ref(), empty, &mut tree);
        let item = tree.done.take().map(Item::Child);
        self.tree = tree;
        let end = reader.buffer_position() as usize;
        Ok(if whole? {
            item.map(|item| (item, end))
        } else {
            None
        })
    }

    /// Reads a `<record>` written cleanly — what [`Parser::plain_element`] takes, and besides
    /// valid UTF-8 throughout, no control characters and text only in leaves (what every
    /// reporter writes) — from `bytes`, whose content starts at `content`. The record is
    /// checked once as a whole; each value goes to the builder as a slice of the input,
    /// trimmed, without being copied on the way. The builder sees what
    /// [`Parser::plain_element`] would show it, with the same warnings; `None` (the builder
    /// reset) at anything else, which is then read that way.
    fn clean_record(
        &mut self,
        bytes: &[u8],
        content: usize,
        records: &mut RecordBuilder,
    ) -> Option<usize> {
        let rest = bytes.get(content..)?;
        let close = self.record_end.find(rest)?;
        let body = &rest[..close + RECORD_END.len()];
        if body.len() > self.limits.max_element_bytes || !clean_bytes(body) {
            return None;
        }
        let text = std::str::from_utf8(body).ok()?;
        let Parser {
            limits,
            pending,
            levels,
            ..
        } = self;
        match read_clean(text, limits.max_xml_depth, levels, records, pending) {
            Some(used) => Some(content + used),
            None => {
                records.reset();
                *pending = Warnings::default();
                None
            }
        }
    }

    /// Reads an element written plainly — tags without attributes, comments or other markup,
    /// text without references — straight from `bytes`, whose content starts at `content`:
    /// the sink sees what [`Parser::read_element`] would show it, faster than through
    /// quick-xml. `None` (the sink reset) at anything else, which is then read by
    /// [`Parser::read_element`], errors included.
    fn plain_element<S: Sink>(
        &mut self,
        bytes: &[u8],
        content: usize,
        qname: &[u8],
        sink: &mut S,
    ) -> Option<usize> {
        let Parser {
            limits,
            open,
            pending,
            ..
        } = self;
        open.begin(qname, sink);
        let mut size = 0usize;
        let mut at = content;
        let end = loop {
            let rest = bytes.get(at..)?;
            // One pass over each run of text and each tag: they are short, and a plain loop
            // beats a vector search here.
            let blank = leading_whitespace(rest).len();
            let Some(lt) = rest[blank..].iter().position(|b| matches!(b, b'<' | b'&')) else {
                break None;
            };
            let lt = blank + lt;
            if rest[lt] == b'&' {
                break None;
            }
            let run = &rest[..lt];
            // What quick-xml, skipping whitespace before text, would hand over.
            let skipped = if blank < run.len() || open.has_text() {
                &run[..blank]
            } else {
                &[]
            };
            if !skipped.is_empty() {
                size += skipped.len();
                open.skipped(skipped, blank < run.len());
            }
            if blank < run.len() {
                size += run.len() - blank;
                open.push_text(&run[blank..], pending);
            }
            let tag = &rest[lt + 1..];
            // The usual end tag, `</name>` of the innermost open element: compared with its
            // name rather than scanned byte by byte (what follows does it for the rest).
            if let Some(after) = tag
                .strip_prefix(b"/")
                .and_then(|t| t.strip_prefix(open.name()))
                && after.first() == Some(&b'>')
            {
                at += lt + 1 + (tag.len() - after.len()) + 1;
                open.leave(sink, pending);
                if open.depth() == 0 {
                    break Some(at);
                }
                if size > limits.max_element_bytes {
                    break None;
                }
                continue;
            }
            let closing = tag.first() == Some(&b'/');
            let name_start = usize::from(closing);
            let name_len = tag[name_start..]
                .iter()
                .take_while(|b| NAME_BYTE[usize::from(**b)])
                .count();
            let name = &tag[name_start..name_start + name_len];
            let after = &tag[name_start + name_len..];
            if name.is_empty() {
                break None;
            }
            if after.first() == Some(&b'>') {
                at += lt + 1 + name_start + name_len + 1;
                if closing {
                    if name != open.name() {
                        break None;
                    }
                    open.leave(sink, pending);
                    if open.depth() == 0 {
                        break Some(at);
                    }
                } else {
                    if open.depth() + 1 >= limits.max_xml_depth {
                        break None;
                    }
                    let local = local(name);
                    size += local.len();
                    open.enter_local(name, local, sink);
                }
            } else if !closing && after.starts_with(b"/>") {
                at += lt + 1 + name_len + 2;
                let local = local(name);
                size += local.len();
                open.enter_local(name, local, sink);
                open.leave(sink, pending);
            } else {
                break None;
            }
            if size > limits.max_element_bytes {
                break None;
            }
        };
        if end.is_none() {
            sink.reset();
            open.clear();
            *pending = Warnings::default();
        }
        end
    }

    /// The step an item (`None`: cut by the end of the window) that started at `before`
    /// comes to; its warnings are kept once it is whole.
    fn finish_item(
        &mut self,
        item: Option<(Item, usize)>,
        before: usize,
        warnings: &mut Warnings,
    ) -> Step {
        match item {
            Some((item, end)) => {
                warnings.absorb(&mut self.pending);
                Step::Done(item, end)
            }
            None => {
                self.pending = Warnings::default();
                Step::More(before)
            }
        }
    }

    /// Reads the element whose start tag (`qname`, `empty` for `<x/>`) was just read, and
    /// everything in it, into `sink`; `false` when the window ended inside it.
    fn read_element<S: Sink>(
        &mut self,
        reader: &mut quick_xml::Reader<&[u8]>,
        window: Window<'_>,
        qname: &[u8],
        empty: bool,
        sink: &mut S,
    ) -> Result<bool, ParseError> {
        let Window {
            bytes,
            at_end,
            offset,
        } = window;
        let Parser {
            limits,
            open,
            pending,
            syntax_error_at,
            ..
        } = self;
        open.begin(qname, sink);
        if empty {
            open.leave(sink, pending);
            return Ok(true);
        }
        let mut size = 0usize;
        let whole = loop {
            let before = reader.buffer_position();
            let Some(event) = next_event(reader, at_end, offset, syntax_error_at)? else {
                break false;
            };
            // The reader skips whitespace after each event (so indentation makes no event of
            // its own): it lies between the last event and this one.
            // Only looked for where it matters: before text, or once the text has begun.
            let skipped = match &event {
                Event::Text(text) => {
                    let start = (reader.buffer_position() as usize).saturating_sub(text.len());
                    bytes.get(before as usize..start).unwrap_or_default()
                }
                _ if open.has_text() => {
                    leading_whitespace(bytes.get(before as usize..).unwrap_or_default())
                }
                _ => &[],
            };
            // Where this event's markup starts, for errors.
            let at = || markup_at(bytes, before as usize, offset);
            if !skipped.is_empty() {
                size += skipped.len();
                open.skipped(skipped, matches!(event, Event::Text(_)));
            }
            match event {
                // `<email><noreply@example.com></email>`: an address in angle brackets
                // written without escaping them is text, not a tag.
                Event::Start(start) if !is_tag_name(start.name().as_ref()) => {
                    let written = format!("<{}>", String::from_utf8_lossy(&start));
                    let (_, name) = open.text();
                    pending.add(format!(
                        "'{}' in <{name}> is not a tag; read as text",
                        excerpt(&written)
                    ));
                    size += written.len();
                    open.push_text(written.as_bytes(), pending);
                }
                Event::Start(start) => {
                    let qname = start.name();
                    let name = local(qname.as_ref());
                    // +1 for the root element.
                    if open.depth() + 1 >= limits.max_xml_depth {
                        return Err(ParseError::TooDeep {
                            limit: limits.max_xml_depth,
                            element: String::from_utf8_lossy(name).into_owned(),
                        });
                    }
                    size += name.len();
                    open.enter(qname.as_ref(), sink);
                }
                Event::Empty(start) => {
                    let qname = start.name();
                    let name = local(qname.as_ref());
                    size += name.len();
                    open.enter(qname.as_ref(), sink);
                    open.leave(sink, pending);
                }
                Event::End(end) => {
                    let found = end.name();
                    if found.as_ref() != open.name() {
                        if !open.is_open(found.as_ref()) {
                            return Err(mismatched_end(open.name(), found.as_ref(), at()));
                        }
                        // An element left open: closed by its enclosing element's end tag.
                        while open.name() != found.as_ref() {
                            pending.add(format!(
                                "<{}> never closed; closed at </{}>",
                                String::from_utf8_lossy(open.name()),
                                String::from_utf8_lossy(found.as_ref())
                            ));
                            open.leave(sink, pending);
                        }
                    }
                    open.leave(sink, pending);
                    if open.depth() == 0 {
                        break true;
                    }
                }
                Event::Text(text) => {
                    // `<report_id>x/report_id>` (KDDI's): an end tag that lost its `<`,
                    // read as the end tag it was meant to be.
                    let cut = if open.is_parent() {
                        None
                    } else {
                        lost_end_tag(&text, open.name())
                    };
                    size += text.len();
                    match cut {
                        None => open.push_text(&text, pending),
                        Some(cut) => {
                            let open_name_len = open.name().len();
                            open.push_text(&text[..cut], pending);
                            pending.add(format!(
                                "end tag </{}> written without '<'; read as one",
                                String::from_utf8_lossy(open.name())
                            ));
                            open.leave(sink, pending);
                            if open.depth() == 0 {
                                break true;
                            }
                            let rest = &text[cut + open_name_len + 2..];
                            if !rest.iter().all(u8::is_ascii_whitespace) {
                                open.push_text(rest, pending);
                            }
                        }
                    }
                }
                Event::CData(data) => {
                    size += data.len();
                    open.push_text(&data, pending);
                }
                Event::GeneralRef(reference) => {
                    let (out, name) = open.text();
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c),
                        Ok(None) => match reference.as_ref() {
                            b"amp" => Some('&'),
                            b"lt" => Some('<'),
                            b"gt" => Some('>'),
                            b"quot" => Some('"'),
                            b"apos" => Some('\''),
                            _ => None,
                        },
                        Err(_) => None,
                    };
                    match resolved {
                        Some(c) => out.push(c),
                        None => {
                            let raw = String::from_utf8_lossy(reference.as_ref());
                            pending
                                .add(format!("unknown entity '&{raw};' in <{name}> kept as text"));
                            out.push('&');
                            out.push_str(&raw);
                            out.push(';');
                        }
                    }
                    size += reference.len() + 2;
                }
                Event::Eof => {
                    if !at_end {
                        break false;
                    }
                    let inside = String::from_utf8_lossy(local(open.name())).into_owned();
                    return Err(ParseError::Truncated(inside));
                }
                Event::DocType(_) => {
                    return Err(ParseError::Xml {
                        position: at(),
                        detail: "document type declaration inside an element".to_owned(),
                    });
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
            if size > limits.max_element_bytes {
                return Err(ParseError::ElementTooLarge {
                    element: String::from_utf8_lossy(local(qname)).into_owned(),
                    limit: limits.max_element_bytes,
                });
            }
        };
        if !whole {
            sink.reset();
        }
        Ok(whole)
    }
}

/// Whether `bytes` hold no `&` and no control character but tab, line feed and carriage
/// return (checked without branching per byte).
fn clean_bytes(bytes: &[u8]) -> bool {
    // One reduction over the whole record, with no early exit: the shape the compiler
    // vectorises.
    let odd = bytes.iter().fold(0u8, |odd, &b| {
        let control = (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r');
        odd | u8::from(b == b'&') | u8::from(control)
    });
    odd == 0
}

/// One in each byte of a word.
const ONES: u64 = u64::from_le_bytes([1; 8]);
/// The high bit of each byte of a word.
const HIGH: u64 = ONES << 7;

/// The high bit of each byte of `word` that is zero, and of no other.
fn zero_bytes(word: u64) -> u64 {
    !(((word & !HIGH) + !HIGH) | word) & HIGH
}

/// Where the run of text from `at` in `bytes` (which [`clean_bytes`] passed) ends — at the
/// next `<` — and whether it is blank: XML whitespace only, which there is every byte up to a
/// space. Eight bytes at a time, with no branch per byte.
fn scan_run(bytes: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut text = 0u64;
    while let Some(word) = bytes
        .get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
    {
        let word = u64::from_le_bytes(word);
        let lt = zero_bytes(word ^ (ONES * u64::from(b'<')));
        // Bytes above a space (each sum stays within its byte).
        let above = (((word & !HIGH) + ONES * 0x5f) | word) & HIGH;
        if lt == 0 {
            text |= above;
            at += 8;
            continue;
        }
        let before = (lt & lt.wrapping_neg()).wrapping_sub(1) & HIGH;
        text |= above & before;
        return Some((at + (lt.trailing_zeros() / 8) as usize, text == 0));
    }
    for (i, b) in bytes.get(at..)?.iter().enumerate() {
        if *b == b'<' {
            return Some((at + i, text == 0));
        }
        if *b > b' ' {
            text = 1;
        }
    }
    None
}

/// Whether two short names are the same, compared a word at a time.
fn same_name(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let long = |s: &[u8], i: usize| {
        s.get(i..i + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map(u64::from_le_bytes)
    };
    let short = |s: &[u8], i: usize| {
        s.get(i..i + 4)
            .and_then(|w| <[u8; 4]>::try_from(w).ok())
            .map(u32::from_le_bytes)
    };
    match n {
        8..=16 => long(a, 0) == long(b, 0) && long(a, n - 8) == long(b, n - 8),
        4..=7 => short(a, 0) == short(b, 0) && short(a, n - 4) == short(b, n - 4),
        _ => a.iter().zip(b).all(|(x, y)| x == y),
    }
}

/// The bytes of a plain element name as [`NAME_BYTE`] has them, with `:` marked apart: 0 for
/// a byte that ends a name, 1 for a name byte, 2 for `:`.
const NAME_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        if NAME_BYTE[b] {
            table[b] = if b == b':' as usize { 2 } else { 1 };
        }
        b += 1;
    }
    table
};

/// Reads the elements of a clean record (`text`: its content and end tag) into `sink`, as
/// [`Parser::plain_element`] would; how many bytes it used, or `None` at anything it does
/// not take (the caller resets the sink).
fn read_clean(
    text: &str,
    max_depth: usize,
    levels: &mut Vec<Level>,
    sink: &mut RecordBuilder,
    warnings: &mut Warnings,
) -> Option<usize> {
    let body = text.as_bytes();
    levels.clear();
    // The record's own name, as its end tag at the end of `body` spells it.
    let n = body.len();
    levels.push(Level {
        name: (n - RECORD_END.len() + 2, n - 1),
        parent: false,
    });
    sink.start(b"record");
    let mut at = 0;
    loop {
        let (lt, blank) = scan_run(body, at)?;
        let run = text.get(at..lt)?;
        let tag = body.get(lt + 1..)?;
        if tag.first() == Some(&b'/') {
            // Only the end tag of the innermost element, written `</name>`.
            let level = *levels.last()?;
            let name = &body[level.name.0..level.name.1];
            let len = name.len();
            if !(tag.get(len + 1) == Some(&b'>') && same_name(&tag[1..=len], name)) {
                return None;
            }
            at = lt + len + 3;
            levels.pop();
            let value = if blank {
                ""
            } else if level.parent {
                return None;
            } else if run
                .as_bytes()
                .first()
                .is_some_and(|b| (b'!'..0x80).contains(b))
                && run
                    .as_bytes()
                    .last()
                    .is_some_and(|b| (b'!'..0x80).contains(b))
            {
                run
            } else {
                let trimmed = run.trim();
                if trimmed.len() != run.len() && !trimmed.is_empty() {
                    warnings.add(format!(
                        "whitespace around the value of <{}> trimmed",
                        String::from_utf8_lossy(local(name))
                    ));
                }
                trimmed
            };
            sink.end(value, !level.parent, warnings);
            if levels.is_empty() {
                return Some(at);
            }
            continue;
        }
        // Text before a child element: mixed content, not taken here.
        if !blank {
            return None;
        }
        let mut len = 0;
        let mut local_start = 0;
        while let Some(b) = tag.get(len) {
            let class = NAME_CLASS[usize::from(*b)];
            if class != 1 {
                if class == 0 {
                    break;
                }
                local_start = len + 1;
            }
            len += 1;
        }
        if len == 0 {
            return None;
        }
        let local = &tag[local_start..len];
        let empty = match tag.get(len) {
            Some(b'>') => false,
            Some(b'/') if tag.get(len + 1) == Some(&b'>') => true,
            _ => return None,
        };
        if !empty && levels.len() + 1 >= max_depth {
            return None;
        }
        if let Some(parent) = levels.last_mut() {
            parent.parent = true;
        }
        sink.start(local);
        if empty {
            sink.end("", true, warnings);
            at = lt + len + 3;
        } else {
            levels.push(Level {
                name: (lt + 1, lt + 1 + len),
                parent: false,
            });
            at = lt + len + 2;
        }
    }
}

/// Appends `bytes` to `out` leniently, warning about what had to change in `element` (only
/// named when there is something to say).
fn push_text<'n>(
    out: &mut String,
    bytes: &[u8],
    element: impl Fn() -> Cow<'n, str>,
    warnings: &mut Warnings,
) {
    if bytes
        .iter()
        .any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        warnings.add(format!("control characters in <{}> removed", element()));
        let kept: Vec<u8> = bytes
            .iter()
            .copied()
            .filter(|b| *b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r'))
            .collect();
        return push_text(out, &kept, element, warnings);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => {
            warnings.add(format!("invalid utf-8 in <{}> replaced", element()));
            out.push_str(&String::from_utf8_lossy(bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Cursor};

    use super::super::{AggregateReader, AggregateTrailer, Record};
    use crate::error::ParseError;
    use crate::limits::Limits;

    const HEAD: &str = "<?xml version=\"1.0\"?>\n<feedback>\n  <report_metadata><org_name>o</org_name>\
        <report_id>r</report_id></report_metadata>\n  <policy_published><domain>d.example</domain>\
        </policy_published>\n";

    /// A report whose records carry something to warn about, unknown elements, entities,
    /// comments and CDATA, so that a cut anywhere in them shows.
    fn report(records: usize) -> Vec<u8> {
        let mut xml = HEAD.to_owned();
        for i in 0..records {
            xml.push_str(&format!(
                "  <record>\n    <row>\n      <source_ip> 10.0.{}.{} </source_ip>\n      <count>{i}</count>\n\
                 <policy_evaluated><disposition>NONE</disposition><dkim>pass</dkim>\
                 <reason><type>other</type><comment>a &amp; <!-- c --> b &lt;<![CDATA[x]]> &#65;</comment></reason>\
                 </policy_evaluated>\n    </row>\n    <identifiers><header_from>S.Example.</header_from></identifiers>\n\
                 <auth_results><dkim><domain>s.example</domain><result>Pass</result></dkim></auth_results>\n\
                 <x_vendor><score>0.{i}</score></x_vendor>\n  </record>\n",
                i / 256,
                i % 256
            ));
        }
        xml.push_str("  <extension><e>1</e></extension>\n</feedback>\n");
        xml.into_bytes()
    }

    fn read<R: std::io::BufRead>(
        input: R,
        limits: Limits,
    ) -> Result<(Vec<Record>, AggregateTrailer), ParseError> {
        let mut reader = AggregateReader::new(input, limits)?;
        let mut records = Vec::new();
        while let Some(record) = reader.next_record()? {
            records.push(record);
        }
        Ok((records, reader.finish()?))
    }

    #[test]
    fn records_cut_by_the_input_buffer_read_the_same_and_warn_once() {
        let xml = report(600);
        let (records, trailer) = read(&xml[..], Limits::default()).unwrap();
        assert_eq!(records.len(), 600);
        let first = &records[0];
        assert_eq!(first.source_ip, "10.0.0.0");
        assert_eq!(first.disposition.as_deref(), Some("none"));
        assert_eq!(first.header_from.as_deref(), Some("s.example"));
        assert_eq!(first.dkim[0].result, "pass");
        assert_eq!(
            first.reasons[0].comment.as_deref(),
            Some("a &  b <x A"),
            "whitespace inside text is kept, around it trimmed"
        );
        assert_eq!(
            first.extra,
            [("record.x_vendor.score".to_owned(), "0.0".to_owned())]
        );
        assert_eq!(trailer.extra, [("extension.e".to_owned(), "1".to_owned())]);
        let counts: Vec<(&str, u64)> = trailer.warnings.iter().collect();
        assert!(
            counts.contains(&("whitespace around the value of <source_ip> trimmed", 600)),
            "{counts:?}"
        );
        assert!(counts.contains(&(
            "upper-case value in <disposition> ('NONE') lower-cased",
            600
        )));
        assert!(counts.contains(&("upper-case value in <result> ('Pass') lower-cased", 600)));
        for capacity in [1, 5, 64, 4096, 100_000] {
            let streamed = BufReader::with_capacity(capacity, Cursor::new(&xml[..]));
            let (again, trailer_again) = read(streamed, Limits::default()).unwrap();
            assert_eq!(again, records, "buffer of {capacity} bytes");
            assert_eq!(trailer_again, trailer, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn a_syntax_error_far_into_a_streamed_report_is_reported_as_such() {
        let mut xml = report(1_000);
        let at = xml.len() - 200;
        xml.splice(at..at, b"<!x>".iter().copied());
        for capacity in [64, 256 * 1024] {
            let streamed = BufReader::with_capacity(capacity, Cursor::new(&xml[..]));
            let error = read(streamed, Limits::default()).unwrap_err();
            assert!(
                matches!(&error, ParseError::Xml { position, .. } if *position > 300_000),
                "{error:?}"
            );
        }
    }

    #[test]
    fn end_tags_must_match_wherever_the_reader_starts() {
        let xml = format!(
            "{HEAD}<record><row><source_ip>192.0.2.1</source_ip></rows></record></feedback>"
        );
        for capacity in [3, 4096] {
            let streamed = BufReader::with_capacity(capacity, Cursor::new(xml.as_bytes()));
            let error = read(streamed, Limits::default()).unwrap_err().to_string();
            assert!(
                error.contains("expected `</row>`, but `</rows>` was found"),
                "{error}"
            );
        }
        let xml = format!("{HEAD}</feedbacks>");
        let error = read(xml.as_bytes(), Limits::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("expected `</feedback>`"), "{error}");
    }

    #[test]
    fn an_element_larger_than_the_window_allows_is_refused() {
        let limits = Limits {
            max_element_bytes: 1_000,
            ..Limits::default()
        };
        let mut xml = HEAD.as_bytes().to_vec();
        xml.extend_from_slice(b"<record><row><source_ip>");
        xml.resize(xml.len() + 100_000, b'1');
        xml.extend_from_slice(b"</source_ip></row></record></feedback>");
        for capacity in [64, 1 << 20] {
            let streamed = BufReader::with_capacity(capacity, Cursor::new(&xml[..]));
            let error = read(streamed, limits).unwrap_err();
            assert!(
                matches!(error, ParseError::ElementTooLarge { .. }),
                "{error:?}"
            );
        }
    }

    /// Records the clean reader takes read exactly as through quick-xml (which a comment
    /// right after `<record>` sends them to): the same values, unknown elements and warnings.
    #[test]
    fn clean_records_read_as_through_quick_xml() {
        let bodies = [
            "\n    <row>\n      <source_ip>192.0.2.1</source_ip>\n      <count>3</count>\n      \
             <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>\
             </policy_evaluated>\n    </row>\n    <identifiers><header_from>a.example</header_from>\
             </identifiers>\n  ",
            "<row><source_ip> 192.0.2.2 </source_ip><count>\n5\n</count></row>\
             <identifiers><header_from>\u{a0}B.Example.\u{2003}</header_from></identifiers>",
            "<row><source_ip>192.0.2.3</source_ip><x_vendor><a>1</a><b/><c></c></x_vendor></row>\
             <identifiers><envelope_to/><envelope_from></envelope_from></identifiers>\
             <x-y.z><record><w>2</w></record></x-y.z>",
            "\r\n\t<d:row><d:source_ip>192.0.2.4</d:source_ip>\r\n\t</d:row>\r\n",
            "<row><source_ip>192.0.2.5</source_ip><policy_evaluated><disposition>REJECT</disposition>\
             <reason><type>Forwarded</type><comment> a > b, caf\u{e9} </comment></reason>\
             <comment>bare</comment></policy_evaluated></row>\
             <auth_results><dkim><domain>D.example</domain><result>Pass</result><human_result>h</human_result>\
             <selector>s</selector></dkim><spf><domain>s.example</domain><scope>MFROM</scope>\
             <result>softfail</result></spf></auth_results>",
            "<row><count>1</count></row>",
            "<row><source_ip>[192.0.2.6]</source_ip><policy_evaluated><reason>Local_Policy</reason>\
             </policy_evaluated></row>",
        ];
        for body in bodies {
            let clean = format!("{HEAD}<record>{body}</record>\n</feedback>\n");
            let through = format!("{HEAD}<record><!---->{body}</record>\n</feedback>\n");
            let (records, trailer) = read(clean.as_bytes(), Limits::default()).unwrap();
            let (expected, expected_trailer) = read(through.as_bytes(), Limits::default()).unwrap();
            assert_eq!(records, expected, "{body}");
            assert_eq!(trailer, expected_trailer, "{body}");
        }
    }

    #[test]
    fn a_report_cut_short_is_truncated_at_any_buffer_size() {
        let xml = report(50);
        let cut = &xml[..xml.len() * 2 / 3];
        for capacity in [7, 1 << 20] {
            let streamed = BufReader::with_capacity(capacity, Cursor::new(cut));
            let error = read(streamed, Limits::default()).unwrap_err();
            assert!(matches!(error, ParseError::Truncated(_)), "{error:?}");
        }
    }
}
