//! Parallel decompression of multi-stream bzip2 files, such as Wikimedia's
//! `pages-articles-multistream.xml.bz2` dumps.
//!
//! Owns: locating the streams of a bzip2 file ([`find_stream_starts`], or the dump's
//! `-multistream-index.txt.bz2` through [`stream_starts_from_index`]), and
//! [`ParallelBzReader`], which decodes groups of streams on a thread pool and hands the
//! decompressed bytes back in file order. [`is_multistream`] tells whether a file is worth it.
//!
//! Pipeline, one stage per submodule:
//! 1. `split` reads the compressed input in pieces and cuts it into chunks of at least
//!    ~1 MiB, each cut placed at a stream start (from the index, or found by `scan`).
//! 2. `decode` decodes one chunk: its streams in order, each with a fresh decoder, each
//!    stream's end found by the decoder itself, not by the scan.
//! 3. `reader` runs `decode` on a rayon pool, at most `2 * threads` chunks ahead, and serves
//!    the results in order through `Read` / `BufRead`.
//!
//! Format facts relied on (bzip2 file format, as written by `bzip2`/`libbzip2`, `pbzip2` and
//! the Wikimedia dump scripts):
//! - A stream starts with `BZh` and a block-size digit `1`..`9`, then either a block header
//!   (48-bit magic `0x314159265359`, π) or, for a stream with no data, the end-of-stream
//!   magic `0x177245385090` (√π). That start is byte-aligned.
//! - Inside a stream nothing is byte-aligned: a stream ends with the end-of-stream magic and a
//!   32-bit CRC at any bit position, padded with 0–7 bits to a whole byte. The next stream of a
//!   multi-stream file starts at the next byte.
//! - Each stream decodes on its own, so streams can be decoded in any order and concatenated.
//!
//! Invariants:
//! - The output is byte-for-byte what `bzip2::bufread::MultiBzDecoder` yields for the same
//!   input, whatever the thread count, chunk sizes or index; only the failure cases differ,
//!   in that ours name the compressed offset of the stream that failed.
//! - A chunk handed to a worker starts at a position the scan (or index) believes is a stream
//!   start; this belief is checked, never trusted: the chunk before it must decode to exactly
//!   its end. If it stops mid-stream instead, the cut was not a real start, the worker's result
//!   for the next chunk is dropped, and the reader carries the cut stream's decoder over into
//!   the next chunk's bytes on its own thread. So a wrong cut costs time, never correctness.
//! - Memory is bounded: at most `2 * threads` chunks (each at most 4 MiB compressed, ~1 MiB
//!   typically) are in flight or decoded ahead, plus the chunk being read.
//! - Errors are delivered in order: bytes decoded before a corrupt or truncated stream come
//!   out first, then an `io::Error` naming the stream ("bzip2 stream at byte N: ..."), which
//!   every later read repeats.
//! - A file with a single stream (or streams longer than 4 MiB compressed) still decodes
//!   correctly: it is cut at arbitrary points and decoded sequentially on the caller's thread,
//!   the decoder state carried from one piece to the next.

mod decode;
mod index;
mod reader;
mod scan;
mod split;
#[cfg(test)]
mod tests;

pub use index::stream_starts_from_index;
pub use reader::ParallelBzReader;
pub use scan::{find_stream_starts, is_multistream};
pub(crate) use scan::{next_start, resume_point, Scan, LOOK_BEHIND};
