//! The lenient, bounded XML layer under the aggregate-report reader: quick-xml events turned
//! into small element trees, one top-level child of `<feedback>` at a time, so a report of any
//! size is read in constant memory. Trees handed back with [`XmlPull::recycle`] are reused, so
//! that reading a record allocates nothing in the steady state. Text is decoded leniently (invalid UTF-8 replaced and
//! warned about, unknown entities kept verbatim); DOCTYPEs that declare entities are refused,
//! and depth and element size are capped.

use std::io::{BufRead, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_xml::events::Event;

use crate::error::ParseError;
use crate::limits::Limits;
use crate::warnings::Warnings;

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
    /// A whole child of the root.
    Child(Node),
    /// The root element closed.
    RootEnd,
    /// The document ended.
    Eof,
}

/// Counts the raw bytes consumed since the last reset and fails once they pass the limit, so
/// that one event (a huge text node, an endless tag) cannot grow quick-xml's buffer without
/// bound: element sizes are otherwise only known after the event is whole.
struct Metered<R> {
    inner: R,
    used: Arc<AtomicU64>,
    limit: u64,
}

impl<R: BufRead> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Metered<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.used.load(Ordering::Relaxed) > self.limit {
            return Err(std::io::Error::other(ParseError::ElementTooLarge {
                element: "(one xml event)".to_owned(),
                limit: usize::try_from(self.limit).unwrap_or(usize::MAX),
            }));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        // Only this reader's thread touches the counter: a plain add, not a locked one.
        let used = self.used.load(Ordering::Relaxed);
        self.used.store(used + amt as u64, Ordering::Relaxed);
        self.inner.consume(amt);
    }
}

/// Pulls top-level children of the root element out of an XML byte stream.
pub(crate) struct XmlPull<R: BufRead> {
    reader: quick_xml::Reader<Metered<R>>,
    used: Arc<AtomicU64>,
    buf: Vec<u8>,
    limits: Limits,
    in_root: bool,
    root_name: String,
    /// Emptied nodes, kept with their allocations for the next tree.
    pool: Vec<Node>,
}

impl<R: BufRead> std::fmt::Debug for XmlPull<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XmlPull")
            .field("in_root", &self.in_root)
            .finish_non_exhaustive()
    }
}

/// Most nodes kept for reuse (a record has about twenty).
const POOL: usize = 256;
/// Nodes whose text grew past this are dropped rather than kept for reuse.
const POOL_TEXT: usize = 4096;

/// The local part of a (possibly prefixed) element name.
fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Appends `bytes` to `out`, replacing invalid UTF-8.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// An empty node called `name` (its local part), reusing a recycled one when there is one.
fn fresh(pool: &mut Vec<Node>, name: &[u8]) -> Node {
    let mut node = pool.pop().unwrap_or_default();
    push_lossy(&mut node.name, local(name));
    node
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
        let used = Arc::new(AtomicU64::new(0));
        // Raw bytes allowed per top-level item: the element text limit plus room for markup.
        let limit = (limits.max_element_bytes as u64).saturating_mul(4);
        let mut reader = quick_xml::Reader::from_reader(Metered {
            inner: input,
            used: Arc::clone(&used),
            limit,
        });
        let config = reader.config_mut();
        config.trim_text(false);
        config.expand_empty_elements = false;
        config.check_end_names = true;
        config.allow_dangling_amp = true;
        XmlPull {
            reader,
            used,
            buf: Vec::with_capacity(4096),
            limits,
            in_root: false,
            root_name: String::new(),
            pool: Vec::new(),
        }
    }

    /// Takes back a tree the caller is done with, so that its allocations serve the next one.
    pub(crate) fn recycle(&mut self, mut node: Node) {
        while let Some(child) = node.children.pop() {
            self.recycle(child);
        }
        if self.pool.len() < POOL && node.text.capacity() <= POOL_TEXT {
            node.name.clear();
            node.text.clear();
            self.pool.push(node);
        }
    }

    fn xml_error(&self, err: quick_xml::Error) -> ParseError {
        match ParseError::from(err) {
            ParseError::Xml { detail, .. } => ParseError::Xml {
                position: self.reader.error_position(),
                detail,
            },
            other => other,
        }
    }

    /// The next top-level item.
    pub(crate) fn next_item(&mut self, warnings: &mut Warnings) -> Result<Item, ParseError> {
        self.used.store(0, Ordering::Relaxed);
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(err) => return Err(self.xml_error(err)),
            };
            match event {
                Event::Start(start) => {
                    if !self.in_root {
                        let name =
                            String::from_utf8_lossy(local(start.name().as_ref())).into_owned();
                        let namespace = start
                            .attributes()
                            .flatten()
                            .find(|a| a.key.as_ref() == b"xmlns")
                            .map(|a| String::from_utf8_lossy(&a.value).into_owned());
                        self.in_root = true;
                        self.root_name = name.clone();
                        return Ok(Item::Root { name, namespace });
                    }
                    let top = fresh(&mut self.pool, start.name().as_ref());
                    let node = self.read_subtree(top, warnings)?;
                    return Ok(Item::Child(node));
                }
                Event::Empty(start) => {
                    if !self.in_root {
                        // `<feedback/>`: a root with nothing in it; the document ends next.
                        return Ok(Item::Root {
                            name: String::from_utf8_lossy(local(start.name().as_ref()))
                                .into_owned(),
                            namespace: None,
                        });
                    }
                    return Ok(Item::Child(fresh(&mut self.pool, start.name().as_ref())));
                }
                Event::End(_) => {
                    self.in_root = false;
                    return Ok(Item::RootEnd);
                }
                Event::DocType(doctype) => {
                    let text = String::from_utf8_lossy(doctype.as_ref()).into_owned();
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
                    warnings.add("stray text outside the report element ignored");
                }
                Event::GeneralRef(_) | Event::CData(_) => {
                    warnings.add("stray text outside the report element ignored");
                }
                Event::Eof => {
                    if self.in_root {
                        return Err(ParseError::Truncated(self.root_name.clone()));
                    }
                    return Ok(Item::Eof);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
    }

    /// Reads the element just opened (`top`, still empty) and everything in it into a
    /// [`Node`].
    fn read_subtree(&mut self, top: Node, warnings: &mut Warnings) -> Result<Node, ParseError> {
        let mut stack = vec![top];
        let mut size = 0usize;
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(err) => return Err(self.xml_error(err)),
            };
            match event {
                Event::Start(start) => {
                    let qname = start.name();
                    let name = local(qname.as_ref());
                    // +1 for the root element.
                    if stack.len() + 1 >= self.limits.max_xml_depth {
                        return Err(ParseError::TooDeep {
                            limit: self.limits.max_xml_depth,
                            element: String::from_utf8_lossy(name).into_owned(),
                        });
                    }
                    size += name.len();
                    let node = fresh(&mut self.pool, name);
                    stack.push(node);
                }
                Event::Empty(start) => {
                    let qname = start.name();
                    let name = local(qname.as_ref());
                    size += name.len();
                    let node = fresh(&mut self.pool, name);
                    if let Some(top) = stack.last_mut() {
                        top.children.push(node);
                    }
                }
                Event::End(_) => {
                    let mut done = stack.pop().unwrap_or_default();
                    if trim_in_place(&mut done.text)
                        && done.children.is_empty()
                        && !done.text.is_empty()
                    {
                        warnings.add(format!(
                            "whitespace around the value of <{}> trimmed",
                            done.name
                        ));
                    }
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Text(text) => {
                    size += text.len();
                    if let Some(top) = stack.last_mut() {
                        // Indentation before a value or between elements would only be
                        // trimmed again.
                        let blank = text.iter().all(u8::is_ascii_whitespace);
                        if !(blank && top.text.is_empty()) {
                            push_text(&mut top.text, &text, &top.name, warnings);
                        }
                    }
                }
                Event::CData(data) => {
                    size += data.len();
                    if let Some(top) = stack.last_mut() {
                        push_text(&mut top.text, &data, &top.name, warnings);
                    }
                }
                Event::GeneralRef(reference) => {
                    if let Some(top) = stack.last_mut() {
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
                            Some(c) => top.text.push(c),
                            None => {
                                let raw = String::from_utf8_lossy(reference.as_ref()).into_owned();
                                warnings.add(format!(
                                    "unknown entity '&{raw};' in <{}> kept as text",
                                    top.name
                                ));
                                top.text.push('&');
                                top.text.push_str(&raw);
                                top.text.push(';');
                            }
                        }
                        size += reference.len() + 2;
                    }
                }
                Event::Eof => {
                    let inside = stack.last().map(|n| n.name.clone()).unwrap_or_default();
                    return Err(ParseError::Truncated(inside));
                }
                Event::DocType(_) => {
                    return Err(ParseError::Xml {
                        position: self.reader.buffer_position(),
                        detail: "document type declaration inside an element".to_owned(),
                    });
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
            if size > self.limits.max_element_bytes {
                return Err(ParseError::ElementTooLarge {
                    element: stack.first().map(|n| n.name.clone()).unwrap_or_default(),
                    limit: self.limits.max_element_bytes,
                });
            }
        }
    }
}

fn push_text(out: &mut String, bytes: &[u8], element: &str, warnings: &mut Warnings) {
    if bytes
        .iter()
        .any(|b| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        warnings.add(format!("control characters in <{element}> removed"));
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
            warnings.add(format!("invalid utf-8 in <{element}> replaced"));
            out.push_str(&String::from_utf8_lossy(bytes));
        }
    }
}
