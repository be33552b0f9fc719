//! The archive of every input's original bytes: one gzip member (RFC 1952) per input, cut
//! into chunks of [`CHUNK`] bytes for the `input_chunks` table. Text is deflated at the
//! fastest level; inputs that are gzip or zip already are only wrapped, in stored blocks
//! (RFC 1951 section 3.2.4) written here without a compressor. The deflate state and
//! buffers are kept and reset between inputs, so archiving thousands of small files
//! allocates them once. A large input is archived (and hashed, in the same
//! reading) on a thread of its own while the store parses it: [`Archiver::archive_to`].

use std::io::Read;
use std::sync::mpsc::SyncSender;

use sha2::{Digest, Sha256};

use flate2::{Compress, Compression, FlushCompress, Status};

use crate::container::{Content, detect};
use crate::error::StoreError;

/// Bytes of compressed archive per stored chunk.
pub(crate) const CHUNK: usize = 1 << 20;
/// Bytes of input handed to the compressor at a time.
const STEP: usize = 256 * 1024;
/// Free output room kept before each compression call.
const ROOM: usize = 64 * 1024;

fn io_error(what: &str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        context: format!("archiving '{what}'"),
        cause: std::sync::Arc::new(source),
    }
}

/// Most bytes in one stored deflate block.
const STORED_BLOCK: usize = 0xffff;

/// The gzip member header written before stored blocks: deflate, no flags, no time, OS
/// unknown (RFC 1952 section 2.3).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

/// Reusable compression state for archiving inputs one after the other.
#[derive(Default)]
pub(crate) struct Archiver {
    fast: Option<Compress>,
    input: Vec<u8>,
    output: Vec<u8>,
}

/// Hands `emit` every whole [`CHUNK`] at the front of `output`.
fn emit_chunks(
    output: &mut Vec<u8>,
    emit: &mut impl FnMut(&[u8]) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    if output.len() >= CHUNK {
        let whole = output.len() / CHUNK * CHUNK;
        for chunk in output[..whole].chunks(CHUNK) {
            emit(chunk)?;
        }
        output.drain(..whole);
    }
    Ok(())
}

/// Appends `data` to `output` as stored deflate blocks, the last of them final when `last`
/// (an empty final block when `data` is empty).
fn stored_blocks(output: &mut Vec<u8>, data: &[u8], last: bool) {
    let mut pieces = data.chunks(STORED_BLOCK).peekable();
    if data.is_empty() {
        if last {
            output.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        return;
    }
    while let Some(piece) = pieces.next() {
        let final_block = last && pieces.peek().is_none();
        let len = u16::try_from(piece.len()).unwrap_or(u16::MAX);
        output.push(u8::from(final_block));
        output.extend_from_slice(&len.to_le_bytes());
        output.extend_from_slice(&(!len).to_le_bytes());
        output.extend_from_slice(piece);
    }
}

/// Reads until `buf` holds `want` bytes or the input ends; whether it ended.
fn fill(reader: &mut impl Read, buf: &mut Vec<u8>, want: usize) -> std::io::Result<bool> {
    buf.clear();
    let got = reader.take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

impl Archiver {
    /// Compresses all of `reader` (the input `what`) into one gzip member and hands `emit`
    /// its chunks in order, each at most [`CHUNK`] bytes.
    pub(crate) fn archive(
        &mut self,
        mut reader: impl Read,
        what: &str,
        mut emit: impl FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut input = std::mem::take(&mut self.input);
        let mut output = std::mem::take(&mut self.output);
        output.clear();
        let mut ended = fill(&mut reader, &mut input, STEP).map_err(|e| io_error(what, e))?;
        if matches!(
            detect(&input[..input.len().min(4)]),
            Content::Gzip | Content::Zip
        ) {
            // Compressed already: wrapped as it is. A compressor at level 0 would do the
            // same, after clearing its 128 KB hash table for each input.
            let mut crc = flate2::Crc::new();
            output.extend_from_slice(&GZIP_HEADER);
            loop {
                crc.update(&input);
                stored_blocks(&mut output, &input, ended);
                emit_chunks(&mut output, &mut emit)?;
                if ended {
                    break;
                }
                ended = fill(&mut reader, &mut input, STEP).map_err(|e| io_error(what, e))?;
            }
            output.extend_from_slice(&crc.sum().to_le_bytes());
            output.extend_from_slice(&crc.amount().to_le_bytes());
            return self.finish(input, output, emit);
        }
        let gzip = self
            .fast
            .get_or_insert_with(|| Compress::new_gzip(Compression::fast(), 15));
        gzip.reset();
        loop {
            let flush = if ended {
                FlushCompress::Finish
            } else {
                FlushCompress::None
            };
            let mut used = 0usize;
            loop {
                if output.capacity() - output.len() < ROOM {
                    output.reserve(ROOM);
                }
                let before = gzip.total_in();
                let status = gzip
                    .compress_vec(&input[used..], &mut output, flush)
                    .map_err(|e| io_error(what, std::io::Error::other(e)))?;
                used += usize::try_from(gzip.total_in() - before).unwrap_or(0);
                emit_chunks(&mut output, &mut emit)?;
                let done = if ended {
                    status == Status::StreamEnd
                } else {
                    used == input.len()
                };
                if done {
                    break;
                }
            }
            if ended {
                break;
            }
            ended = fill(&mut reader, &mut input, STEP).map_err(|e| io_error(what, e))?;
        }
        self.finish(input, output, emit)
    }

    /// Hands `emit` the rest of `output` and keeps the buffers for the next input, unless
    /// one grew past the usual size.
    fn finish(
        &mut self,
        input: Vec<u8>,
        mut output: Vec<u8>,
        mut emit: impl FnMut(&[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if !output.is_empty() {
            emit(&output)?;
        }
        if input.capacity() <= STEP {
            self.input = input;
        }
        output.clear();
        if output.capacity() <= CHUNK + 2 * ROOM {
            self.output = output;
        }
        Ok(())
    }
}

/// A reader that hashes (SHA-256) and counts what passes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    size: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
}

/// Lowercase hex of `digest`.
pub(crate) fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(digest.len() * 2);
    for byte in digest {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 15)]));
    }
    out
}

impl Archiver {
    /// Archives `reader` (the input `what`) as [`Archiver::archive`] does, sending each chunk
    /// down `chunks` (bounded: this waits while the store is behind); with `hash`, also
    /// returns the SHA-256 (hex) and size of what was read. Meant for a thread of its own;
    /// it stops with an error when the receiving side is gone.
    pub(crate) fn archive_to(
        &mut self,
        reader: impl Read,
        what: &str,
        hash: bool,
        chunks: &SyncSender<Vec<u8>>,
    ) -> Result<Option<(String, u64)>, StoreError> {
        let mut hashing = Hashing {
            inner: reader,
            hasher: Sha256::new(),
            size: 0,
        };
        self.archive(&mut hashing, what, |chunk| {
            chunks.send(chunk.to_vec()).map_err(|_| {
                io_error(
                    what,
                    std::io::Error::other("the store stopped before the archive was written"),
                )
            })
        })?;
        Ok(hash.then(|| (hex(&hashing.hasher.finalize()), hashing.size)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The archive of `data`, checked to decode to it: its chunks joined, and how many
    /// there were.
    fn archived(archiver: &mut Archiver, data: &[u8]) -> (Vec<u8>, usize) {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        archiver
            .archive(data, "test", |chunk| {
                chunks.push(chunk.to_vec());
                Ok(())
            })
            .unwrap();
        assert!(chunks.iter().all(|c| c.len() <= CHUNK));
        let joined = chunks.concat();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&joined[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data, "{} bytes", data.len());
        (joined, chunks.len())
    }

    fn roundtrip(archiver: &mut Archiver, data: &[u8]) -> usize {
        archived(archiver, data).1
    }

    /// At least `len` incompressible bytes (an xorshift stream) behind a gzip magic.
    fn gzip_noise(len: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise = vec![0x1f, 0x8b];
        while noise.len() < len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            noise.extend_from_slice(&state.to_le_bytes());
        }
        noise
    }

    /// Empty, small, many-chunk and already-compressed inputs come back byte for byte, with
    /// one archiver reused across them.
    #[test]
    fn archives_round_trip() {
        let mut archiver = Archiver::default();
        assert_eq!(roundtrip(&mut archiver, b""), 1);
        assert_eq!(roundtrip(&mut archiver, b"<feedback/>"), 1);
        // Incompressible bytes behind a gzip magic: stored, several chunks.
        assert!(roundtrip(&mut archiver, &gzip_noise(3 * CHUNK + 17)) >= 3);
        let text = "<record><row><source_ip>192.0.2.1</source_ip></row></record>\n".repeat(20_000);
        assert_eq!(roundtrip(&mut archiver, text.as_bytes()), 1);
        assert_eq!(roundtrip(&mut archiver, b"again"), 1);
    }

    /// Compressed inputs are wrapped in stored blocks written without a compressor: the
    /// member decodes byte for byte at every edge of a block, of a read and of a chunk (a
    /// last read that is empty ends the member with an empty final block), and holds the
    /// input plus only the block and member overhead.
    #[test]
    fn compressed_inputs_are_wrapped_in_stored_blocks() {
        let mut archiver = Archiver::default();
        let noise = gzip_noise(2 * STEP);
        for len in [
            2,
            3,
            STORED_BLOCK - 1,
            STORED_BLOCK,
            STORED_BLOCK + 1,
            2 * STORED_BLOCK,
            STEP,
            STEP + 1,
            2 * STEP,
        ] {
            let (member, _) = archived(&mut archiver, &noise[..len]);
            // Each read of STEP bytes is cut into blocks of its own.
            let blocks = len / STEP * STEP.div_ceil(STORED_BLOCK)
                + (len % STEP).div_ceil(STORED_BLOCK)
                + usize::from(len % STEP == 0);
            assert_eq!(member.len(), 10 + len + 5 * blocks + 8, "{len} bytes");
        }
        // A zip input is wrapped the same way.
        let zip = b"PK\x03\x04 not really a zip".repeat(10);
        assert_eq!(roundtrip(&mut archiver, &zip), 1);
    }

    /// `archive_to` sends the same chunks down a channel and hashes what it read.
    #[test]
    fn archives_to_a_channel_with_the_digest() {
        let text = "<feedback>\n".repeat(300_000);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let mut archiver = Archiver::default();
        let receiver = std::thread::spawn(move || rx.iter().collect::<Vec<Vec<u8>>>());
        let digest = archiver
            .archive_to(text.as_bytes(), "test", true, &tx)
            .unwrap();
        drop(tx);
        let chunks = receiver.join().unwrap();
        assert_eq!(
            digest,
            Some((hex(&Sha256::digest(text.as_bytes())), text.len() as u64))
        );
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&chunks.concat()[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, text.as_bytes());
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        drop(rx);
        assert!(archiver.archive_to(&b"x"[..], "gone", false, &tx).is_err());
    }
}
