//! The unit plan: which pieces of which files make the build, worked out from file sizes
//! without reading the files through.
//!
//! A file larger than the piece size is cut into `n = ⌈size / piece_bytes⌉` pieces (at most
//! [`MAX_PIECES_PER_FILE`]; the piece size grows for a larger file) when its bytes can be entered
//! part way:
//! - uncompressed text (not UTF-16, not Parquet): piece `k` starts at byte `k·size/n`;
//! - multi-stream bzip2 (Wikimedia's `-multistream` dumps, `pbzip2` output): piece `k` starts at
//!   the first stream start at or after `k·size/n`, found by [`bzip2_stream_at`] reading only
//!   from that offset on to the stream start. The plan itself holds the offsets `k·size/n`; the
//!   stream starts are found when a piece is read, by the reader of that piece (its start and
//!   its end), so a worker reads around its own pieces' cuts only, never around every cut of
//!   the file.
//!
//! Every other file (gzip, zstd, xz, single-stream bzip2, Parquet, UTF-16, small files) is one
//! piece. Pieces are cut again, when read, at document boundaries (see [`super::units`]): piece
//! `k` holds the documents after the first boundary line that starts past its first byte, up to
//! and including the first boundary line that starts past its last byte. So every document is in
//! exactly one piece, and a reader opens only its own pieces, plus the few bytes past each end
//! that finish its last document, plus the file's head (its format and a dump's header).
//!
//! The plan depends only on the files' sizes and bytes and on the piece size: the same for every
//! task, worker and thread count. A piece's number in the plan ([`Piece::position`]) assigns it
//! to a task; (file, piece in file, unit in piece) keys its random streams.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::bz2par::{self, Scan};
use super::decode::{self, Compression};
use super::parquet::MAGIC;
use super::InputFile;
use crate::error::{Error, Result};

/// Default bytes (on disk) per piece: 32 MiB.
pub const DEFAULT_PIECE_BYTES: u64 = 32 << 20;

/// Most pieces one file is cut into (a piece's number fits in 12 bits of the `source` column).
pub const MAX_PIECES_PER_FILE: u64 = 4096;

/// Most input files (a file's number fits in 20 bits of the `source` column).
pub const MAX_FILES: usize = 1 << 20;

/// Most bytes read from a large file's start to tell how it can be cut: a multi-stream bzip2
/// file shows its second stream within them (read a window at a time until it does).
const HEAD_BYTES: usize = 4 << 20;

/// Most bytes read at a time while looking for a bzip2 stream start.
const WINDOW: usize = 256 << 10;

/// Bytes first read when looking for the bzip2 stream start after an offset.
const FIRST_WINDOW: usize = 16 << 10;

/// How a piece is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The whole file, read as one.
    Whole,
    /// Uncompressed text from `start` (bytes).
    Text,
    /// Bzip2 streams from the stream starting at `start`.
    Bzip2,
}

/// One piece of one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Number of the piece in the plan (over all files), which assigns it to a task.
    pub position: u64,
    /// Index of the file in the input list.
    pub file_index: u32,
    /// Index of the piece in its file, `0..of`.
    pub index: u32,
    /// Pieces of this file.
    pub of: u32,
    /// How it is read.
    pub cut: Cut,
    /// First byte on disk (for bzip2, the offset whose next stream start begins the piece).
    pub start: u64,
    /// Byte on disk where the next piece starts (the file's size for the last one; for bzip2,
    /// the offset whose next stream start ends the piece).
    pub end: u64,
}

impl Piece {
    /// Bytes on disk of the piece itself.
    pub fn bytes(&self) -> u64 {
        self.end - self.start
    }
}

/// The pieces of `files`, in order, cutting files larger than `piece_bytes`. `read` counts the
/// bytes read to decide.
pub fn plan(files: &[InputFile], piece_bytes: u64, read: &AtomicU64) -> Result<Vec<Piece>> {
    if files.len() > MAX_FILES {
        return Err(Error::Config(format!(
            "{} input files; at most {MAX_FILES} are supported (join small files)",
            files.len()
        )));
    }
    let piece_bytes = piece_bytes.max(1);
    let mut pieces = Vec::new();
    for (file_index, file) in files.iter().enumerate() {
        let file_index = file_index as u32;
        let n = file
            .bytes
            .div_ceil(piece_bytes)
            .clamp(1, MAX_PIECES_PER_FILE);
        let cut = if n > 1 {
            how_to_cut(file, read)?
        } else {
            Cut::Whole
        };
        let starts = match cut {
            Cut::Whole => vec![0],
            Cut::Text | Cut::Bzip2 => (0..n).map(|k| k * file.bytes / n).collect(),
        };
        let of = starts.len() as u32;
        for (k, &start) in starts.iter().enumerate() {
            let end = starts.get(k + 1).copied().unwrap_or(file.bytes);
            pieces.push(Piece {
                position: pieces.len() as u64,
                file_index,
                index: k as u32,
                of,
                cut,
                start,
                end,
            });
        }
    }
    Ok(pieces)
}

/// Whether a large file can be entered part way, from its first bytes.
fn how_to_cut(file: &InputFile, read: &AtomicU64) -> Result<Cut> {
    let mut head = Vec::new();
    let mut f = super::remote::open(&file.path)?;
    let mut read_to = |head: &mut Vec<u8>, limit: usize| {
        let have = head.len();
        (&mut f)
            .take((limit - have) as u64)
            .read_to_end(head)
            .map_err(|e| Error::io(&file.path, e))?;
        read.fetch_add((head.len() - have) as u64, Ordering::Relaxed);
        Ok::<_, Error>(())
    };
    // A few bytes tell the kind; only bzip2 needs more, to find its second stream.
    read_to(&mut head, 16)?;
    if Compression::sniff(&head) == Compression::Bzip2 {
        while head.len() < HEAD_BYTES && !bz2par::is_multistream(&head) {
            let have = head.len();
            read_to(&mut head, (have + WINDOW).min(HEAD_BYTES))?;
            if head.len() == have {
                break;
            }
        }
    }
    Ok(match Compression::sniff(&head) {
        _ if head.starts_with(MAGIC) => Cut::Whole,
        Compression::None if decode::utf16_bom(&head).is_none() => Cut::Text,
        Compression::Bzip2 if bz2par::is_multistream(&head) => Cut::Bzip2,
        _ => Cut::Whole,
    })
}

/// The first stream start at or after `offset` in the multi-stream bzip2 file `path` of `size`
/// bytes (`size` when none follows; 0 for 0). A start is recognised with the bytes just before
/// it (the previous stream's trailer), so the search reads from a few bytes before `offset`,
/// in windows of 16 KiB doubling up to 256 KiB, up to the start; `read` counts what it reads.
pub fn bzip2_stream_at(path: &Path, size: u64, offset: u64, read: &AtomicU64) -> Result<u64> {
    if offset == 0 || offset >= size {
        return Ok(offset.min(size));
    }
    let io = |e| Error::io(path, e);
    let mut f = super::remote::open(path)?;
    let base = offset.saturating_sub(bz2par::LOOK_BEHIND as u64);
    f.seek(SeekFrom::Start(base)).map_err(io)?;
    let mut data = Vec::new();
    let mut from = (offset - base) as usize;
    // Small reads first (the next start may be near), doubling while none shows.
    let mut window = FIRST_WINDOW;
    loop {
        let len = data.len();
        (&mut f)
            .take(window as u64)
            .read_to_end(&mut data)
            .map_err(io)?;
        read.fetch_add((data.len() - len) as u64, Ordering::Relaxed);
        let at_end = data.len() - len < window;
        window = (window * 2).min(WINDOW);
        match bz2par::next_start(&data, from) {
            Scan::Found(p) => return Ok(base + p as u64),
            Scan::NeedMore(p) if !at_end => from = p,
            _ if at_end => return Ok(size),
            _ => from = bz2par::resume_point(&data, from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn input(dir: &std::path::Path, name: &str, bytes: &[u8]) -> InputFile {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        InputFile {
            path,
            bytes: bytes.len() as u64,
        }
    }

    #[test]
    fn text_is_cut_by_size_and_compressed_files_only_at_streams() {
        let dir = tempfile::tempdir().unwrap();
        let text = input(dir.path(), "a.txt", &vec![b'x'; 1000]);
        let small = input(dir.path(), "b.txt", b"hello\n");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&vec![b'y'; 5000]).unwrap();
        let gz = input(dir.path(), "c.gz", &gz.finish().unwrap());
        let read = AtomicU64::new(0);
        let pieces = plan(&[text, small, gz], 300, &read).unwrap();
        let cuts: Vec<_> = pieces
            .iter()
            .map(|p| (p.file_index, p.index, p.of, p.cut, p.start, p.end))
            .collect();
        assert_eq!(
            cuts,
            vec![
                (0, 0, 4, Cut::Text, 0, 250),
                (0, 1, 4, Cut::Text, 250, 500),
                (0, 2, 4, Cut::Text, 500, 750),
                (0, 3, 4, Cut::Text, 750, 1000),
                (1, 0, 1, Cut::Whole, 0, 6),
                (2, 0, 1, Cut::Whole, 0, pieces[5].end),
            ]
        );
        assert_eq!(
            pieces.iter().map(|p| p.position).collect::<Vec<_>>(),
            (0..6).collect::<Vec<_>>()
        );
    }

    #[test]
    fn multistream_bzip2_is_cut_at_stream_starts() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        let mut stream_starts = Vec::new();
        for i in 0..40 {
            stream_starts.push(bytes.len() as u64);
            let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            enc.write_all(format!("stream {i}\n").repeat(50).as_bytes())
                .unwrap();
            bytes.extend(enc.finish().unwrap());
        }
        let file = input(dir.path(), "m.bz2", &bytes);
        let read = AtomicU64::new(0);
        let size = bytes.len() as u64;
        let pieces = plan(std::slice::from_ref(&file), size / 5, &read).unwrap();
        assert!(pieces.len() >= 5, "{pieces:?}");
        // The plan reads the head only; the cuts are found when the pieces are read.
        assert!(read.load(Ordering::Relaxed) <= size.min(WINDOW as u64 + 16));
        for p in &pieces {
            assert_eq!(p.cut, Cut::Bzip2);
            let start = bzip2_stream_at(&file.path, size, p.start, &read).unwrap();
            let first_after = stream_starts.iter().copied().find(|&s| s >= p.start);
            assert_eq!(start, first_after.unwrap_or(size), "{p:?}");
        }
        assert_eq!(pieces.last().unwrap().end, size);
    }
}
