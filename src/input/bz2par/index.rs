//! The stream offsets listed in a Wikimedia `-multistream-index.txt.bz2` file.
//!
//! Each line is `offset:page_id:title` (the title may itself contain `:`), where `offset` is
//! the byte offset in the data file of the bzip2 stream holding the page; about a hundred
//! consecutive lines share one offset. The index is itself bzip2 (multi-stream in current
//! dumps) and is decoded with [`ParallelBzReader`]; an index already decompressed (not starting
//! with `BZh`) is read as it is.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::num::NonZeroUsize;
use std::path::Path;

use super::reader::ParallelBzReader;

/// Byte offsets where bzip2 streams start in a compressed file, from the dump's
/// `-multistream-index.txt.bz2` (`offset:page_id:title` lines). The offsets come back sorted,
/// each once. A line whose first field is not a decimal number is an error naming the line.
pub fn stream_starts_from_index(index_bz2: &Path) -> io::Result<Vec<u64>> {
    let with_path =
        |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", index_bz2.display()));
    let mut file = BufReader::new(File::open(index_bz2).map_err(with_path)?);
    let compressed = file.fill_buf().map_err(with_path)?.starts_with(b"BZh");
    let starts = if compressed {
        let threads = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        parse_index(ParallelBzReader::from_reader(file, threads)?)
    } else {
        parse_index(file)
    };
    starts.map_err(with_path)
}

/// The sorted, deduplicated offsets of index lines read from `lines`.
fn parse_index(lines: impl BufRead) -> io::Result<Vec<u64>> {
    let mut starts: Vec<u64> = Vec::new();
    for (i, line) in lines.split(b'\n').enumerate() {
        let line = line?;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.is_empty() {
            continue;
        }
        let offset = parse_offset(line).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("index line {}: expected offset:page_id:title", i + 1),
            )
        })?;
        // Lines of one stream are consecutive: skip repeats before sorting.
        if starts.last() != Some(&offset) {
            starts.push(offset);
        }
    }
    starts.sort_unstable();
    starts.dedup();
    Ok(starts)
}

/// The decimal number before the first `:` of a line that has one.
fn parse_offset(line: &[u8]) -> Option<u64> {
    let colon = memchr::memchr(b':', line)?;
    let digits = &line[..colon];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}
