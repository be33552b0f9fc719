//! Limits applied to untrusted report input: XML depth, element size, decompressed size, zip
//! entries, container nesting and mail size. Each breach is a clear error for that input only.

use std::io::{self, Read};

use crate::error::ParseError;

/// The largest message or session count one record may state: no single source sends four
/// billion messages in one reporting period, and sums over millions of records stay far inside
/// 64 bits. A larger count is ignored with a warning.
pub(crate) const MAX_COUNT: i64 = u32::MAX as i64;

/// Size and depth limits for one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest XML element nesting accepted.
    pub max_xml_depth: usize,
    /// Largest single top-level XML element (a record, the metadata) in bytes of text.
    pub max_element_bytes: usize,
    /// Most bytes any one gzip stream or zip entry may decompress to.
    pub max_decompressed: u64,
    /// Most entries in one zip archive.
    pub max_zip_entries: usize,
    /// Deepest nesting of containers (zip in mail in mbox...).
    pub max_nesting: usize,
    /// Largest mail message, JSON report or zip archive read whole into memory.
    pub max_in_memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_xml_depth: 32,
            max_element_bytes: 1 << 20,
            max_decompressed: 4 << 30,
            max_zip_entries: 1_000,
            max_nesting: 6,
            max_in_memory: 256 << 20,
        }
    }
}

/// A reader that fails with [`ParseError::TooLarge`] once more than `limit` bytes came through.
#[derive(Debug)]
pub(crate) struct LimitedReader<R> {
    inner: R,
    left: u64,
    limit: u64,
    what: String,
}

impl<R: Read> LimitedReader<R> {
    pub(crate) fn new(inner: R, limit: u64, what: impl Into<String>) -> Self {
        LimitedReader {
            inner,
            left: limit,
            limit,
            what: what.into(),
        }
    }
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more than allowed tells a stream that ends exactly at the limit
            // from one that goes on.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(ParseError::TooLarge {
                    what: self.what.clone(),
                    limit: self.limit,
                })),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads all of `reader` into memory, failing past `limit` bytes.
pub(crate) fn read_capped(
    reader: impl Read,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, ParseError> {
    let mut out = Vec::new();
    LimitedReader::new(reader, limit, what).read_to_end(&mut out)?;
    Ok(out)
}
