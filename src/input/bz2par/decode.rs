//! Decoding one chunk of compressed bytes: its streams in order, each with a fresh decoder.
//!
//! The end of each stream is where the decoder reports it, never where a scan guessed, so
//! a chunk that decodes to exactly its last byte proves that its end is a stream boundary.
//! A chunk whose input runs out mid-stream returns the live decoder ([`Partial`]) so the
//! stream can be finished with the next chunk's bytes.

use std::io;

use bzip2::{Decompress, Status};

/// Spare output space kept free before each call into the decoder.
const MIN_SPARE: usize = 64 << 10;
/// Initial output capacity per compressed byte (bzip2 on text is ~4–5x).
const EXPANSION: usize = 4;

/// A stream whose input ran out before its end.
pub(crate) struct Partial {
    /// Offset in the compressed file of the stream's first byte.
    pub(crate) stream_start: u64,
    decoder: Decompress,
}

impl Partial {
    fn new(stream_start: u64) -> Self {
        Partial {
            stream_start,
            decoder: Decompress::new(false),
        }
    }

    /// The error for a stream whose file ends before the stream does.
    pub(crate) fn truncated(&self) -> io::Error {
        stream_error(
            self.stream_start,
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "unexpected end of data (truncated file?)",
            ),
        )
    }
}

/// How decoding a chunk ended.
pub(crate) enum End {
    /// The chunk's last stream ended at its last byte (or the chunk was empty).
    Clean,
    /// The input ran out inside a stream.
    Cut(Partial),
    /// A stream is corrupt; the error names its offset.
    Failed(io::Error),
}

/// The output of one chunk and how it ended. `out` holds everything decoded, including the
/// part of a cut or failed stream produced before it stopped.
pub(crate) struct Decoded {
    pub(crate) out: Vec<u8>,
    pub(crate) end: End,
}

/// Decodes `bytes`, found at `offset` in the compressed file. With `resume`, the bytes first
/// continue that stream; otherwise they must begin with a stream.
pub(crate) fn decode_chunk(bytes: &[u8], offset: u64, resume: Option<Partial>) -> Decoded {
    let capacity = bytes.len().saturating_mul(EXPANSION).max(MIN_SPARE);
    let mut out = Vec::with_capacity(capacity);
    let mut pos = 0;
    let mut current = resume;
    loop {
        let mut stream = match current.take() {
            Some(stream) => stream,
            None if pos == bytes.len() => {
                break Decoded {
                    out,
                    end: End::Clean,
                }
            }
            None => Partial::new(offset + pos as u64),
        };
        match decode_stream(&mut stream.decoder, &bytes[pos..], &mut out) {
            Ok(Progress::Ended(used)) => pos += used,
            Ok(Progress::NeedsInput) => {
                break Decoded {
                    out,
                    end: End::Cut(stream),
                }
            }
            Err(e) => {
                let e = stream_error(stream.stream_start, e);
                break Decoded {
                    out,
                    end: End::Failed(e),
                };
            }
        }
    }
}

/// How far one call of [`decode_stream`] got.
enum Progress {
    /// The stream ended after this many bytes of the input.
    Ended(usize),
    /// All input was used and the stream has not ended.
    NeedsInput,
}

/// Feeds `input` to `decoder` until its stream ends or the input is used up.
fn decode_stream(
    decoder: &mut Decompress,
    input: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<Progress> {
    let base = decoder.total_in();
    loop {
        if out.capacity() - out.len() < MIN_SPARE {
            out.reserve(out.len().max(MIN_SPARE));
        }
        let used = (decoder.total_in() - base) as usize;
        let produced = decoder.total_out();
        let status = decoder
            .decompress_vec(&input[used..], out)
            .map_err(decoder_error)?;
        let now_used = (decoder.total_in() - base) as usize;
        match status {
            Status::StreamEnd => return Ok(Progress::Ended(now_used)),
            Status::MemNeeded => {
                return Err(io::Error::new(io::ErrorKind::OutOfMemory, "out of memory"))
            }
            _ if now_used == used && decoder.total_out() == produced => {
                if now_used == input.len() {
                    return Ok(Progress::NeedsInput);
                }
                return Err(io::Error::other("decoder stalled with input left"));
            }
            _ => {}
        }
    }
}

fn decoder_error(e: bzip2::Error) -> io::Error {
    let what = match e {
        bzip2::Error::DataMagic => "no bzip2 header (not a bzip2 stream, or trailing garbage)",
        bzip2::Error::Data => "corrupt data (bad block header, Huffman table or CRC)",
        bzip2::Error::Sequence | bzip2::Error::Param => "decoder misuse",
    };
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Prefixes `e` with the compressed offset of the stream it concerns.
fn stream_error(stream_start: u64, e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("bzip2 stream at byte {stream_start}: {e}"),
    )
}
