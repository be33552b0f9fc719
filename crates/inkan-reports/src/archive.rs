//! The archive of every input's original bytes: one gzip member (RFC 1952) per input, cut
//! into chunks of [`CHUNK`] bytes for the `input_chunks` table. Text is deflated at the
//! fastest level; inputs that are gzip or zip already are only wrapped (stored blocks). The
//! deflate states and buffers are kept and reset between inputs, so archiving thousands of
//! small files allocates them once.

use std::io::Read;

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
        source: std::sync::Arc::new(source),
    }
}

/// Reusable compression state for archiving inputs one after the other.
#[derive(Default)]
pub(crate) struct Archiver {
    fast: Option<Compress>,
    stored: Option<Compress>,
    input: Vec<u8>,
    output: Vec<u8>,
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
        let gzip = match detect(&input[..input.len().min(4)]) {
            Content::Gzip | Content::Zip => self
                .stored
                .get_or_insert_with(|| Compress::new_gzip(Compression::none(), 15)),
            _ => self
                .fast
                .get_or_insert_with(|| Compress::new_gzip(Compression::fast(), 15)),
        };
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
                while output.len() >= CHUNK {
                    emit(&output[..CHUNK])?;
                    output.drain(..CHUNK);
                }
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
        if !output.is_empty() {
            emit(&output)?;
        }
        // Keep the buffers for the next input, unless one grew past the usual size.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(archiver: &mut Archiver, data: &[u8]) -> usize {
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
        assert_eq!(back, data);
        chunks.len()
    }

    /// Empty, small, many-chunk and already-compressed inputs come back byte for byte, with
    /// one archiver reused across them.
    #[test]
    fn archives_round_trip() {
        let mut archiver = Archiver::default();
        assert_eq!(roundtrip(&mut archiver, b""), 1);
        assert_eq!(roundtrip(&mut archiver, b"<feedback/>"), 1);
        // Incompressible bytes (an xorshift stream) behind a gzip magic: stored, several chunks.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise = vec![0x1f, 0x8b];
        while noise.len() < 3 * CHUNK + 17 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            noise.extend_from_slice(&state.to_le_bytes());
        }
        assert!(roundtrip(&mut archiver, &noise) >= 3);
        let text = "<record><row><source_ip>192.0.2.1</source_ip></row></record>\n".repeat(20_000);
        assert_eq!(roundtrip(&mut archiver, text.as_bytes()), 1);
        assert_eq!(roundtrip(&mut archiver, b"again"), 1);
    }
}
