//! Finding where bzip2 streams start in compressed bytes, without decoding.
//!
//! A position `p` is taken as a stream start when
//! - `data[p..]` is `BZh`, a digit `1`..`9`, then the 48-bit block magic `0x314159265359` or
//!   (an empty stream) the end-of-stream magic `0x177245385090`, and
//! - `p == 0`, or the previous stream's trailer ends exactly at `p`: the end-of-stream magic
//!   and a 32-bit CRC, followed by 0–7 padding bits, fill the bits just before `p`.
//!
//! Inside a stream the bytes are Huffman-coded bits with no byte alignment, so the 10-byte
//! header pattern turns up there only by chance (about 9 · 2⁻⁷⁹ per byte), and the 48-bit
//! trailer check before it cuts that by a further ~2⁻⁴⁵. Uncompressed payload bytes never appear
//! literally in a bzip2 stream, so `BZh91AY&SY` in the text is irrelevant. A false start that
//! still got through would be harmless to [`super::ParallelBzReader`], which verifies every cut
//! by decoding (see the module invariants).

use memchr::memmem;

/// Stream header: `BZh` and then a block-size digit.
const HEADER: &[u8] = b"BZh";
/// First block header magic (BCD digits of π).
const BLOCK_MAGIC: u64 = 0x3141_5926_5359;
/// End-of-stream magic (BCD digits of √π).
const END_MAGIC: u64 = 0x1772_4538_5090;
/// Bytes needed to check a header: `BZh`, digit, 48-bit magic.
pub(crate) const HEADER_LEN: usize = 10;
/// Bytes covering a trailer with any padding: 48 + 32 bits plus up to 7, rounded up.
const TRAILER_LEN: usize = 11;
/// Bytes read before `p` to check a trailer (a whole number of bytes holding one).
pub(crate) const LOOK_BEHIND: usize = 12;

/// What the bytes at a position say about a stream start there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A stream start at this offset.
    Found(usize),
    /// Too few bytes after this offset to tell; look again from here with more data.
    NeedMore(usize),
    /// No start in the bytes searched.
    None,
}

/// The first stream start at or after `from` in `data`. Offset 0 needs no trailer before it,
/// so a search from 0 must be over bytes that begin at the start of the file.
pub(crate) fn next_start(data: &[u8], from: usize) -> Scan {
    let Some(tail) = data.get(from..) else {
        return Scan::None;
    };
    for hit in memmem::find_iter(tail, HEADER) {
        let p = from + hit;
        if p + HEADER_LEN > data.len() {
            return Scan::NeedMore(p);
        }
        if header_at(data, p) && (p == 0 || trailer_ends_at(data, p)) {
            return Scan::Found(p);
        }
    }
    Scan::None
}

/// Where a search of `data` that found nothing can resume once more bytes are appended: a
/// `BZ` or `B` at the very end may be the beginning of a header.
pub(crate) fn resume_point(data: &[u8], from: usize) -> usize {
    from.max(data.len().saturating_sub(HEADER.len() - 1))
}

/// Whether a stream header and its first magic start at `p` (`data` holds `HEADER_LEN` bytes).
fn header_at(data: &[u8], p: usize) -> bool {
    let Some(head) = data.get(p..p + HEADER_LEN) else {
        return false;
    };
    if !head.starts_with(HEADER) || !(b'1'..=b'9').contains(&head[3]) {
        return false;
    }
    let magic = head[4..]
        .iter()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    magic == BLOCK_MAGIC || magic == END_MAGIC
}

/// Whether a stream trailer (end-of-stream magic, 32-bit CRC, 0–7 padding bits) ends at `p`.
fn trailer_ends_at(data: &[u8], p: usize) -> bool {
    if p < LOOK_BEHIND.max(TRAILER_LEN) || p > data.len() {
        return false;
    }
    let bits = data[p - LOOK_BEHIND..p]
        .iter()
        .fold(0u128, |acc, &b| acc << 8 | u128::from(b));
    const MASK: u128 = (1 << 48) - 1;
    (0..8).any(|pad| (bits >> (pad + 32)) & MASK == u128::from(END_MAGIC))
}

/// Byte offsets where bzip2 streams start in `data`, a compressed file or its first bytes.
///
/// Offset 0 is included when the data starts with a stream header. Every later offset holds a
/// stream header with its first magic *and* follows a complete stream trailer (see the module
/// docs for why that makes false positives vanishingly rare). A header cut off by the end of
/// `data` is not reported.
pub fn find_stream_starts(data: &[u8]) -> Vec<u64> {
    let mut starts = Vec::new();
    let mut from = 0;
    while let Scan::Found(p) = next_start(data, from) {
        starts.push(p as u64);
        from = p + 1;
    }
    starts
}

/// Whether a file is worth decoding in parallel: true when a second stream start is found in
/// `head`, its first few MiB (4 MiB covers a Wikimedia dump's header stream and more).
pub fn is_multistream(head: &[u8]) -> bool {
    match next_start(head, 0) {
        Scan::Found(first) => matches!(next_start(head, first + 1), Scan::Found(_)),
        _ => false,
    }
}
