//! Work units: input files read as streams and cut at document boundaries.
//!
//! A [`UnitReader`] walks the input files in order and yields [`Unit`]s of about
//! [`UNIT_TARGET_BYTES`] of decompressed text each, always ending at a document boundary (after a
//! `</doc>` line for WikiExtractor text, after any line for JSON lines, after a blank line for
//! plain text). A file smaller than the target is one unit. Units are numbered globally in
//! reading order, which is what keys every random stream, so the numbering — and therefore the
//! output — is the same for any thread count and any `--worker i/N` split.
//!
//! Only one unit's text is held here at a time; decompression streams. Each unit carries the
//! index of its first document in the file and its first line, so documents keep their
//! file-level indices and errors their file-level line numbers. A single document larger than
//! [`MAX_UNIT_BYTES`] is an error naming the file, and so is a single line longer than
//! [`MAX_LINE_BYTES`] (read no further than that and one block, so a file without newlines
//! cannot exhaust memory). A file starting with a UTF-16 byte-order mark is transcoded to UTF-8
//! as it streams.
//!
//! After an error the reader drops the file it was reading; [`UnitReader::take_failure`] says
//! which file and where, and [`UnitReader::next_unit`] goes on with the next file (what
//! `--on-error skip` uses).

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::bz2par::{self, ParallelBzReader};
use super::decode::{self, Compression};
use super::mediawiki::SiteInfo;
use super::parquet::{ParquetRows, DEFAULT_TEXT_COLUMN, MAGIC};
use super::{dump, formats, Format, InputFile};
use crate::error::{Error, Result};

/// Text per unit before the reader looks for the next document boundary.
pub const UNIT_TARGET_BYTES: usize = 2 << 20;

/// Largest unit accepted (one document cannot be cut).
pub const MAX_UNIT_BYTES: usize = 1 << 30;

/// Longest line accepted; a longer one is an error naming the file, line and byte offset.
pub const MAX_LINE_BYTES: usize = 32 << 20;

/// Where reading a file failed: the file and the decompressed byte offset of the first byte
/// that was not placed in a unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFailure {
    /// Index of the file in the input list.
    pub file_index: u32,
    /// The file.
    pub path: PathBuf,
    /// Offset in the decompressed (and transcoded) file.
    pub offset: u64,
}

/// A piece of one input file holding whole documents.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Global unit number, in reading order.
    pub index: u64,
    /// Index of the file in the input list.
    pub file_index: u32,
    /// The file.
    pub path: PathBuf,
    /// Format of the file (never `Auto`).
    pub format: Format,
    /// Compression of the file.
    pub compression: Compression,
    /// Index in the file of the unit's first document.
    pub first_doc: u32,
    /// 1-based line number in the file of the unit's first line.
    pub first_line: usize,
    /// Offset of the unit in the decompressed file.
    pub byte_offset: u64,
    /// The unit's raw bytes (UTF-8 not yet checked).
    pub bytes: Vec<u8>,
    /// Whether this is the file's last unit.
    pub last_of_file: bool,
    /// For a MediaWiki dump, its header's facts.
    pub site: Option<Arc<SiteInfo>>,
}

/// Reads input files as a sequence of units.
pub struct UnitReader {
    files: Vec<InputFile>,
    format: Format,
    target: usize,
    text_column: String,
    next_file: usize,
    next_index: u64,
    current: Option<OpenFile>,
    failure: Option<FileFailure>,
    disk_bytes_read: Arc<AtomicU64>,
    /// Threads that decompress a multi-stream bzip2 file.
    decode_threads: usize,
}

impl std::fmt::Debug for UnitReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnitReader")
            .field("files", &self.files.len())
            .field("next_file", &self.next_file)
            .field("next_index", &self.next_index)
            .finish()
    }
}

struct OpenFile {
    file_index: u32,
    path: PathBuf,
    format: Format,
    compression: Compression,
    reader: Box<dyn BufRead + Send>,
    /// For a Parquet file, its rows (and `reader` is empty).
    parquet: Option<ParquetRows>,
    next_doc: u64,
    next_line: usize,
    offset: u64,
    /// Bytes read ahead (for format detection, or past the last unit's cut), not yet placed in
    /// a unit.
    pending: Vec<u8>,
    done: bool,
    emitted: bool,
    /// For a MediaWiki dump, its header's facts.
    site: Option<Arc<SiteInfo>>,
    /// The error to give once the pages before a truncation are out.
    truncated: Option<Error>,
}

/// Counts bytes read from the underlying file, for progress.
struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl UnitReader {
    /// A reader over `files` (in this order) with the given format (or `Auto`), cutting units
    /// of about `target` bytes.
    pub fn with_target(files: Vec<InputFile>, format: Format, target: usize) -> Self {
        UnitReader {
            files,
            format,
            target: target.max(1),
            text_column: DEFAULT_TEXT_COLUMN.to_string(),
            next_file: 0,
            next_index: 0,
            current: None,
            failure: None,
            disk_bytes_read: Arc::new(AtomicU64::new(0)),
            decode_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// Decompresses a multi-stream bzip2 file on `threads` threads (default: one per core).
    pub fn with_decode_threads(mut self, threads: usize) -> Self {
        self.decode_threads = threads.max(1);
        self
    }

    /// Reads the text of Parquet inputs from column `name`.
    pub fn with_text_column(mut self, name: &str) -> Self {
        self.text_column = name.to_string();
        self
    }

    /// Bytes read from disk so far (compressed bytes for compressed files).
    pub fn disk_bytes_counter(&self) -> Arc<AtomicU64> {
        self.disk_bytes_read.clone()
    }

    /// The index the next unit will have.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Where the last error of [`UnitReader::next_unit`] happened (taken once).
    pub fn take_failure(&mut self) -> Option<FileFailure> {
        self.failure.take()
    }

    /// The next unit, or `None` after the last file. On an error the file being read is
    /// dropped (see [`UnitReader::take_failure`]); calling again continues with the next file.
    pub fn next_unit(&mut self) -> Result<Option<Unit>> {
        loop {
            if self.current.is_none() {
                if self.next_file >= self.files.len() {
                    return Ok(None);
                }
                let index = self.next_file;
                self.next_file += 1;
                match self.open(index) {
                    Ok(file) => self.current = Some(file),
                    Err(e) => {
                        self.failure = Some(FileFailure {
                            file_index: index as u32,
                            path: self.files[index].path.clone(),
                            offset: 0,
                        });
                        return Err(e);
                    }
                }
            }
            let Some(file) = self.current.as_mut() else {
                continue;
            };
            let read = read_unit(file, self.target, self.next_index);
            let read = match read {
                Ok(read) => read,
                Err(e) => {
                    self.failure = Some(FileFailure {
                        file_index: file.file_index,
                        path: file.path.clone(),
                        offset: file.offset,
                    });
                    self.current = None;
                    return Err(e);
                }
            };
            if let Some(unit) = read {
                self.next_index += 1;
                if unit.last_of_file {
                    self.current = None;
                }
                return Ok(Some(unit));
            }
            self.current = None;
        }
    }

    fn open(&self, index: usize) -> Result<OpenFile> {
        let path = self.files[index].path.clone();
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let counting = CountingReader {
            inner: file,
            counter: self.disk_bytes_read.clone(),
        };
        let mut raw = BufReader::with_capacity(1 << 20, counting);
        let head = raw.fill_buf().map_err(|e| Error::io(&path, e))?;
        if head.starts_with(MAGIC) || self.format == Format::Parquet {
            let rows = ParquetRows::open(&path, &self.text_column)?;
            // The sniffed head was counted already; the rest of the file is read as rows.
            let rest = self.files[index].bytes.saturating_sub(head.len() as u64);
            self.disk_bytes_read.fetch_add(rest, Ordering::Relaxed);
            let empty = Box::new(std::io::empty());
            let mut open = OpenFile::new(index, path, Format::Parquet, Compression::None, empty);
            open.parquet = Some(rows);
            return Ok(open);
        }
        let compression = Compression::sniff(head);
        let reader: Box<dyn BufRead + Send> = if compression == Compression::Bzip2
            && self.decode_threads > 1
            && bz2par::is_multistream(head)
        {
            let parallel = ParallelBzReader::from_reader(raw, self.decode_threads);
            Box::new(parallel.map_err(|e| Error::io(&path, e))?)
        } else {
            compression.decoder(raw).map_err(|e| Error::io(&path, e))?
        };
        let reader = decode::utf16_to_utf8(reader).map_err(|e| Error::io(&path, e))?;
        let mut open = OpenFile::new(index, path, self.format, compression, reader);
        if open.format == Format::Auto {
            open.format = open.detect_format()?;
        }
        if open.format == Format::Mediawiki {
            let OpenFile {
                reader,
                pending,
                path,
                ..
            } = &mut open;
            let site = dump::read_header(reader, pending, path, |r, buf, line| {
                read_line(r, buf, path, line, 0)
            })?;
            open.site = Some(Arc::new(site));
        }
        Ok(open)
    }
}

impl OpenFile {
    /// File `index` of the inputs, open at its start.
    fn new(
        index: usize,
        path: PathBuf,
        format: Format,
        compression: Compression,
        reader: Box<dyn BufRead + Send>,
    ) -> OpenFile {
        OpenFile {
            file_index: index as u32,
            path,
            format,
            compression,
            reader,
            parquet: None,
            next_doc: 0,
            next_line: 1,
            offset: 0,
            pending: Vec::new(),
            done: false,
            emitted: false,
            site: None,
            truncated: None,
        }
    }

    /// The format by the first non-blank line (past an XML declaration); what was read stays
    /// in `pending`.
    fn detect_format(&mut self) -> Result<Format> {
        let mut line = 1;
        loop {
            let start = self.pending.len();
            let n = read_line(&mut self.reader, &mut self.pending, &self.path, line, 0)?;
            line += 1;
            let text = String::from_utf8_lossy(&self.pending[start..]);
            let text = text.trim().trim_start_matches('\u{feff}');
            if n == 0 || !(text.is_empty() || dump::is_xml_declaration(text)) {
                break;
            }
        }
        let head = String::from_utf8_lossy(&self.pending);
        Ok(formats::detect(
            &self.path,
            head.trim_start_matches('\u{feff}'),
        ))
    }
}

/// A failed read of `path`, which for a compressed file usually means a corrupt stream.
fn read_error(path: &Path, e: std::io::Error) -> Error {
    Error::io(
        path,
        std::io::Error::new(
            e.kind(),
            format!("read failed (corrupt compressed stream?): {e}"),
        ),
    )
}

/// Appends one line (with its `\n`) to `buf`; returns the bytes read (0 at the end). A line
/// longer than [`MAX_LINE_BYTES`] is an error at `line` (1-based, the line being read) and
/// byte `offset` (where `buf` starts in the file); no more than that is read.
fn read_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    path: &Path,
    line: usize,
    offset: u64,
) -> Result<usize> {
    let start = buf.len();
    let limit = MAX_LINE_BYTES as u64 + 1;
    let n = reader
        .take(limit)
        .read_until(b'\n', buf)
        .map_err(|e| read_error(path, e))?;
    if n > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
        return Err(line_too_long(path, line, offset + start as u64));
    }
    Ok(n)
}

/// Refuses `bytes` (all of `path`, decompressed) when a line is longer than [`MAX_LINE_BYTES`],
/// with the error a streamed read gives.
pub fn check_line_lengths(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut start = 0;
    for (line, end) in memchr::memchr_iter(b'\n', bytes)
        .chain(std::iter::once(bytes.len()))
        .enumerate()
    {
        if end - start > MAX_LINE_BYTES {
            return Err(line_too_long(path, line + 1, start as u64));
        }
        start = end + 1;
    }
    Ok(())
}

/// Line `line` of `path`, starting at byte `offset`, is longer than [`MAX_LINE_BYTES`].
fn line_too_long(path: &Path, line: usize, offset: u64) -> Error {
    Error::format(
        path,
        line,
        format!(
            "line longer than {} MiB (starting at byte offset {offset}); not a text corpus?",
            MAX_LINE_BYTES >> 20
        ),
    )
}

/// Reads the next unit of `file`, or `None` when the file has been fully emitted.
fn read_unit(file: &mut OpenFile, target: usize, index: u64) -> Result<Option<Unit>> {
    if file.done {
        return Ok(None);
    }
    if let Some(e) = file.truncated.take() {
        file.done = true;
        return Err(e);
    }
    if file.parquet.is_some() {
        return read_parquet_unit(file, target, index);
    }
    // Blocks are read whole and their lines classified in one pass; the unit ends after the
    // first boundary line at or past the target, and what was read beyond it starts the next.
    let mut bytes = std::mem::take(&mut file.pending);
    let mut docs_in_unit = 0u64;
    let mut lines_in_unit = 0usize;
    let mut prev_blank = true;
    let mut scanned = 0;
    loop {
        while let Some(nl) = memchr::memchr(b'\n', &bytes[scanned..]) {
            let kind = classify(file.format, &bytes[scanned..scanned + nl], prev_blank);
            docs_in_unit += u64::from(kind.starts_doc);
            prev_blank = kind.blank;
            lines_in_unit += 1;
            scanned += nl + 1;
            if scanned >= target && kind.boundary_after {
                file.pending = bytes.split_off(scanned);
                let at_end = file.pending.is_empty()
                    && file
                        .reader
                        .fill_buf()
                        .map_err(|e| read_error(&file.path, e))?
                        .is_empty();
                return make_unit(file, index, bytes, docs_in_unit, lines_in_unit, at_end)
                    .map(Some);
            }
        }
        let line = file.next_line + lines_in_unit;
        if bytes.len() - scanned > MAX_LINE_BYTES {
            return Err(line_too_long(
                &file.path,
                line,
                file.offset + scanned as u64,
            ));
        }
        if bytes.len() > MAX_UNIT_BYTES {
            return Err(Error::format(
                &file.path,
                line,
                format!("no document boundary within {} MiB", MAX_UNIT_BYTES >> 20),
            ));
        }
        let block = file
            .reader
            .fill_buf()
            .map_err(|e| read_error(&file.path, e))?;
        if block.is_empty() {
            break;
        }
        let n = block.len();
        bytes.extend_from_slice(block);
        file.reader.consume(n);
    }
    if file.format == Format::Mediawiki {
        if let Some((open, complete)) = dump::unclosed_page(&bytes) {
            return truncated_dump(file, index, bytes, open, complete);
        }
    }
    // The end of the file; a last line without '\n'.
    if scanned < bytes.len() {
        docs_in_unit += u64::from(classify(file.format, &bytes[scanned..], prev_blank).starts_doc);
        lines_in_unit += 1;
    }
    if bytes.is_empty() && file.emitted {
        file.done = true;
        return Ok(None);
    }
    make_unit(file, index, bytes, docs_in_unit, lines_in_unit, true).map(Some)
}

/// The next unit of a Parquet file: its next rows, as JSON lines.
fn read_parquet_unit(file: &mut OpenFile, target: usize, index: u64) -> Result<Option<Unit>> {
    let Some(rows) = file.parquet.as_mut() else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    let n = rows.read_lines(&file.path, &mut bytes, target)?;
    let at_end = n == 0 || bytes.len() < target;
    if n == 0 && file.emitted {
        file.done = true;
        return Ok(None);
    }
    make_unit(file, index, bytes, n as u64, n, at_end).map(Some)
}

/// The end of a dump cut short inside the `<page>` at `open` in `bytes` (the rest of the file):
/// the complete pages before it, up to `complete`, as a unit, then the error naming where the
/// unclosed page starts — or the error at once when no page before it is complete.
fn truncated_dump(
    file: &mut OpenFile,
    index: u64,
    mut bytes: Vec<u8>,
    open: usize,
    complete: usize,
) -> Result<Option<Unit>> {
    let line = file.next_line + memchr::memchr_iter(b'\n', &bytes[..open]).count();
    let ends_at = file.offset + bytes.len() as u64;
    let error = Error::format(
        &file.path,
        line,
        format!(
            "truncated dump: the <page> starting here never closes (the file ends at \
             decompressed byte offset {ends_at})"
        ),
    );
    bytes.truncate(complete);
    let (docs, lines) = count_docs_and_lines(file.format, &bytes);
    if docs == 0 {
        file.offset += complete as u64;
        return Err(error);
    }
    file.truncated = Some(error);
    make_unit(file, index, bytes, docs, lines, false).map(Some)
}

/// Documents started and lines in `bytes` (whole lines), as [`classify`] counts them.
fn count_docs_and_lines(format: Format, bytes: &[u8]) -> (u64, usize) {
    let (mut docs, mut lines, mut prev_blank) = (0u64, 0usize, true);
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        let kind = classify(format, line, prev_blank);
        docs += u64::from(kind.starts_doc);
        prev_blank = kind.blank;
        lines += 1;
    }
    (docs, lines)
}

/// The unit of `file` holding `bytes` (`docs` documents on `lines` lines); advances the file.
fn make_unit(
    file: &mut OpenFile,
    index: u64,
    bytes: Vec<u8>,
    docs_in_unit: u64,
    lines_in_unit: usize,
    at_end: bool,
) -> Result<Unit> {
    let first_doc = u32::try_from(file.next_doc).map_err(|_| {
        Error::format(
            &file.path,
            file.next_line,
            "more than 2^32 documents in one file",
        )
    })?;
    let unit = Unit {
        index,
        file_index: file.file_index,
        path: file.path.clone(),
        format: file.format,
        compression: file.compression,
        first_doc,
        first_line: file.next_line,
        byte_offset: file.offset,
        last_of_file: at_end,
        bytes,
        site: file.site.clone(),
    };
    file.next_doc += docs_in_unit;
    file.next_line += lines_in_unit;
    file.offset += unit.bytes.len() as u64;
    file.emitted = true;
    file.done = at_end;
    Ok(unit)
}

struct LineKind {
    blank: bool,
    starts_doc: bool,
    boundary_after: bool,
}

/// What a line means for document counting and cutting, per format. Mirrors the parsers in
/// [`formats`]: wiki documents start at `<doc` lines, JSON documents are non-blank lines, text
/// documents are runs of non-blank lines.
fn classify(format: Format, line: &[u8], prev_blank: bool) -> LineKind {
    let trimmed = line.trim_ascii();
    // Only a line whose first byte past ASCII white space is non-ASCII or a vertical tab can
    // still be blank by Unicode's white space; only those are decoded to check.
    let blank = match trimmed.first() {
        None => true,
        Some(&b) if b >= 0x80 || b == 0x0B => {
            std::str::from_utf8(trimmed).is_ok_and(|l| l.trim().is_empty())
        }
        Some(_) => false,
    };
    match format {
        Format::Wiki => LineKind {
            blank,
            starts_doc: trimmed.starts_with(b"<doc")
                && std::str::from_utf8(trimmed).is_ok_and(formats::is_doc_open),
            boundary_after: trimmed == b"</doc>",
        },
        Format::Jsonl | Format::Parquet => LineKind {
            blank,
            starts_doc: !blank,
            boundary_after: true,
        },
        Format::Text | Format::Auto => LineKind {
            blank,
            starts_doc: !blank && prev_blank,
            boundary_after: blank,
        },
        Format::Mediawiki => {
            let (starts_doc, boundary_after) = dump::line_kind(trimmed);
            LineKind {
                blank,
                starts_doc,
                boundary_after,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::formats::parse_at;
    use std::io::Write;

    #[test]
    fn classify_finds_unicode_blank_lines_and_doc_openings() {
        let blank = |line: &[u8]| classify(Format::Text, line, false).blank;
        assert!(blank(b"  \t\r\n"));
        assert!(blank(b"\x0B\n"));
        assert!(blank(" \u{00A0}\u{3000}\u{2029} \n".as_bytes()));
        assert!(!blank(b" a\n"));
        assert!(!blank(" \u{00A0}x\n".as_bytes()));
        assert!(!blank(b"\xff\n"));
        let opens = |line: &[u8]| classify(Format::Wiki, line, false).starts_doc;
        assert!(opens(b"<doc id=\"1\" title=\"A\">\n"));
        assert!(opens(b"  <doc>\n"));
        assert!(!opens(b"<document>\n"));
        assert!(!opens(b"<doc \xff>\n"));
        assert!(classify(Format::Wiki, b"</doc>\r\n", false).boundary_after);
    }

    fn units_of(text: &[u8], name: &str, target: usize) -> Vec<Unit> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let files = vec![InputFile {
            path,
            bytes: text.len() as u64,
        }];
        let mut reader = UnitReader::with_target(files, Format::Auto, target);
        let mut out = Vec::new();
        while let Some(u) = reader.next_unit().unwrap() {
            out.push(u);
        }
        out
    }

    #[test]
    fn bytes_read_count_each_input_byte_once() {
        let parquet = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/parquet/docs.parquet");
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("a.txt");
        std::fs::write(&text, wiki(50)).unwrap();
        let files: Vec<InputFile> = [parquet, text]
            .into_iter()
            .map(|path| InputFile {
                bytes: std::fs::metadata(&path).unwrap().len(),
                path,
            })
            .collect();
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        let mut reader = UnitReader::with_target(files, Format::Auto, 1 << 10);
        let counter = reader.disk_bytes_counter();
        let mut units = 0;
        while reader.next_unit().unwrap().is_some() {
            units += 1;
        }
        assert!(units > 2);
        assert_eq!(counter.load(Ordering::Relaxed), total);
    }

    fn wiki(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "<doc id=\"{i}\" title=\"T{i}\">\nT{i}\n\nDocument {i} says hello.\nMore text.\n</doc>\n"
                )
            })
            .collect()
    }

    /// Cutting changes nothing: the documents of all units equal those of the whole file.
    fn assert_same_documents(text: &str, name: &str, target: usize) -> usize {
        let units = units_of(text.as_bytes(), name, target);
        let format = units[0].format;
        let whole = parse_at(Path::new(name), text, format, 0, 1).unwrap();
        let mut docs = Vec::new();
        let mut empty = 0;
        for u in &units {
            let t = std::str::from_utf8(&u.bytes).unwrap();
            let p = parse_at(Path::new(name), t, format, u.first_doc, u.first_line).unwrap();
            docs.extend(p.documents);
            empty += p.empty_documents;
        }
        assert_eq!(docs, whole.documents);
        assert_eq!(empty, whole.empty_documents);
        assert!(units.last().unwrap().last_of_file);
        let joined: Vec<u8> = units.iter().flat_map(|u| u.bytes.clone()).collect();
        assert_eq!(joined, text.as_bytes());
        units.len()
    }

    #[test]
    fn wiki_cut_at_doc_ends_keeps_indices() {
        let text = wiki(50);
        let n = assert_same_documents(&text, "w", 300);
        assert!(n > 5, "{n} units");
        assert_eq!(assert_same_documents(&text, "w", 1 << 20), 1);
    }

    #[test]
    fn jsonl_and_text_cut_at_their_boundaries() {
        let jsonl: String = (0..40)
            .map(|i| format!("{{\"text\": \"doc {i}.\"}}\n\n"))
            .collect();
        assert!(assert_same_documents(&jsonl, "d.jsonl", 100) > 5);
        let text: String = (0..40)
            .map(|i| format!("Doc {i} line one.\nLine two.\n\n\n"))
            .collect();
        assert!(assert_same_documents(&text, "t.txt", 100) > 5);
        // No trailing newline.
        assert_same_documents("A.\n\nB.\nC.", "t2.txt", 2);
    }

    #[test]
    fn empty_file_is_one_empty_unit() {
        let units = units_of(b"", "empty", 100);
        assert_eq!(units.len(), 1);
        assert!(units[0].bytes.is_empty() && units[0].last_of_file);
    }

    #[test]
    fn compressed_streams_are_cut_too() {
        let text = wiki(30);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        let units = units_of(&gz.finish().unwrap(), "w.gz", 200);
        assert!(units.len() > 3);
        assert_eq!(units[0].compression, Compression::Gzip);
        let joined: Vec<u8> = units.iter().flat_map(|u| u.bytes.clone()).collect();
        assert_eq!(joined, text.as_bytes());
        assert_eq!(
            units.iter().map(|u| u.index).collect::<Vec<_>>(),
            (0..units.len() as u64).collect::<Vec<_>>()
        );
    }
}
