//! Work units: input files read as streams and cut at document boundaries.
//!
//! A [`UnitReader`] walks the input files in order — or only some pieces of them, from the unit
//! plan ([`super::plan`]) — and yields [`Unit`]s of about [`UNIT_TARGET_BYTES`] of decompressed
//! text each, always ending at a document boundary (after a `</doc>` line for WikiExtractor
//! text, after any line for JSON lines, after a blank line for plain text, after `</page>` in a
//! dump). A file smaller than the target is one unit. A unit's key, [`unit_key`] of (file, piece
//! in file, unit in piece), keys every random stream, so a unit is the same whichever task,
//! process or thread count reads it.
//!
//! A cut piece is read from its first byte on disk (for bzip2, from its first stream), skipping
//! through its first line end and then through the first boundary line, so it starts at a
//! document; it ends with the first boundary line that starts past its own last byte, reading
//! on into the next piece's bytes (only as far as that line) to finish its last document. The
//! rule is the same from both sides of a cut, so every document is in exactly one piece. A piece
//! after a file's first takes the file's format, and a dump's header, from the file's head.
//!
//! Only one unit's text is held here at a time; decompression streams. Each unit carries the
//! index of its first document in its piece and its first line, so documents keep their
//! piece-level indices and errors their line numbers (file-level for a file's first piece;
//! counted from the piece's start, under a `PATH [piece K/N]` label, for the others). A single document larger than
//! [`MAX_UNIT_BYTES`] is an error naming the file, and so is a single line longer than
//! [`MAX_LINE_BYTES`] (read no further than that and one block, so a file without newlines
//! cannot exhaust memory). A file starting with a UTF-16 byte-order mark is transcoded to UTF-8
//! as it streams.
//!
//! After an error the reader drops the file it was reading; [`UnitReader::take_failure`] says
//! which file and where, and [`UnitReader::next_unit`] goes on with the next file (what
//! `--on-error skip` uses).

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::bz2par::{self, ParallelBzReader};
use super::decode::{self, Compression};
use super::mediawiki::SiteInfo;
use super::parquet::{ParquetRows, DEFAULT_TEXT_COLUMN, MAGIC};
use super::plan::{Cut, Piece};
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
    /// The unit's key, [`unit_key`] of (file, piece in file, unit in piece): increasing in
    /// reading order, and what keys its random streams.
    pub index: u64,
    /// Index of the file in the input list.
    pub file_index: u32,
    /// Index of the plan piece in its file ([`super::plan`]).
    pub piece: u32,
    /// The file, or for a piece after a file's first, a label naming the file and the piece
    /// (`wiki.txt [piece 3/8]`: its line numbers and offsets count from the piece's start).
    pub path: PathBuf,
    /// Format of the file (never `Auto`).
    pub format: Format,
    /// Compression of the file.
    pub compression: Compression,
    /// Index in the file's piece of the unit's first document.
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

/// The key of unit `unit` of piece `piece` of file `file`: `file << 44 | piece << 32 | unit`.
pub fn unit_key(file: u32, piece: u32, unit: u32) -> u64 {
    u64::from(file) << 44 | u64::from(piece) << 32 | u64::from(unit)
}

/// Reads input files as a sequence of units.
pub struct UnitReader {
    files: Vec<InputFile>,
    pieces: Vec<Piece>,
    format: Format,
    target: usize,
    text_column: String,
    next_piece: usize,
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
            .field("pieces", &self.pieces.len())
            .field("next_piece", &self.next_piece)
            .finish()
    }
}

struct OpenFile {
    file_index: u32,
    /// Index of the piece in the file.
    piece: u32,
    /// Units made so far.
    units: u32,
    /// For a cut piece, where its own bytes end in the stream (once known): the piece ends
    /// with the first boundary line starting past it.
    own_end: Option<Arc<AtomicU64>>,
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
        let pieces = files
            .iter()
            .enumerate()
            .map(|(i, f)| Piece {
                position: i as u64,
                file_index: i as u32,
                index: 0,
                of: 1,
                cut: Cut::Whole,
                start: 0,
                end: f.bytes,
            })
            .collect();
        UnitReader {
            files,
            pieces,
            format,
            target: target.max(1),
            text_column: DEFAULT_TEXT_COLUMN.to_string(),
            next_piece: 0,
            current: None,
            failure: None,
            disk_bytes_read: Arc::new(AtomicU64::new(0)),
            decode_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// Reads only `pieces` of the files (from [`super::plan::plan`], in plan order), skipping
    /// those whose units all have keys below `first_key` (done before a resume).
    pub fn with_pieces(mut self, pieces: Vec<Piece>, first_key: u64) -> Self {
        self.pieces = pieces
            .into_iter()
            .filter(|p| unit_key(p.file_index, p.index, u32::MAX) >= first_key)
            .collect();
        self
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

    /// Where the last error of [`UnitReader::next_unit`] happened (taken once).
    pub fn take_failure(&mut self) -> Option<FileFailure> {
        self.failure.take()
    }

    /// The next unit, or `None` after the last file. On an error the file being read is
    /// dropped (see [`UnitReader::take_failure`]); calling again continues with the next file.
    pub fn next_unit(&mut self) -> Result<Option<Unit>> {
        loop {
            if self.current.is_none() {
                let Some(piece) = self.pieces.get(self.next_piece).cloned() else {
                    return Ok(None);
                };
                self.next_piece += 1;
                match self.open(&piece) {
                    Ok(file) => self.current = Some(file),
                    Err(e) => {
                        let index = piece.file_index as usize;
                        self.failure = Some(FileFailure {
                            file_index: piece.file_index,
                            path: piece_label(&self.files[index].path, &piece),
                            offset: 0,
                        });
                        return Err(e);
                    }
                }
            }
            let Some(file) = self.current.as_mut() else {
                continue;
            };
            let key = unit_key(file.file_index, file.piece, file.units);
            let read = read_unit(file, self.target, key);
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
                file.units += 1;
                if unit.last_of_file {
                    self.current = None;
                }
                return Ok(Some(unit));
            }
            self.current = None;
        }
    }

    /// Opens `piece` at its first document.
    fn open(&self, piece: &Piece) -> Result<OpenFile> {
        let index = piece.file_index as usize;
        if piece.cut == Cut::Whole {
            return self.open_whole(index, false);
        }
        let snapped;
        let piece = match piece.cut {
            Cut::Bzip2 => {
                snapped = self.at_streams(piece)?;
                &snapped
            }
            _ => piece,
        };
        let path = self.files[index].path.clone();
        let own_end = Arc::new(AtomicU64::new(u64::MAX));
        let stream = Box::new(self.piece_stream(piece, own_end.clone())?);
        let mut open = if piece.index == 0 {
            let compression = match piece.cut {
                Cut::Bzip2 => Compression::Bzip2,
                _ => Compression::None,
            };
            self.finish_open(index, path, compression, stream)?
        } else {
            // The format and a dump's header come from the file's head.
            let head = self.open_whole(index, true)?;
            let label = piece_label(&path, piece);
            let mut open = OpenFile::new(index, label, head.format, head.compression, stream);
            open.site = head.site;
            open
        };
        open.piece = piece.index;
        open.own_end = Some(own_end);
        if piece.index > 0 {
            skip_to_first_document(&mut open)?;
        }
        Ok(open)
    }

    /// A bzip2 `piece` with its offsets moved to the stream starts at or after them (the
    /// file's start and end stay).
    fn at_streams(&self, piece: &Piece) -> Result<Piece> {
        let file = &self.files[piece.file_index as usize];
        let at = |offset: u64| {
            super::plan::bzip2_stream_at(&file.path, file.bytes, offset, &self.disk_bytes_read)
        };
        Ok(Piece {
            start: at(piece.start)?,
            end: match piece.index + 1 < piece.of {
                true => at(piece.end)?,
                false => file.bytes,
            },
            ..piece.clone()
        })
    }

    /// The decompressed bytes of a cut `piece` from its start on: its own bytes, then (for all
    /// but a file's last piece) the next piece's, read as far as the reader goes.
    fn piece_stream(&self, piece: &Piece, own_end: Arc<AtomicU64>) -> Result<Spans> {
        let path = &self.files[piece.file_index as usize].path;
        let own = counted_from(path, piece.start, &self.disk_bytes_read)?.take(piece.bytes());
        let own: Box<dyn BufRead + Send> = match piece.cut {
            // No stream starts in it (streams longer than pieces): it holds no document.
            _ if piece.bytes() == 0 => Box::new(std::io::empty()),
            Cut::Bzip2 if self.decode_threads > 1 => Box::new(
                ParallelBzReader::from_reader(own, self.decode_threads)
                    .map_err(|e| Error::io(path, e))?,
            ),
            Cut::Bzip2 => Compression::Bzip2
                .decoder(BufReader::with_capacity(TAIL_BUFFER, own))
                .map_err(|e| Error::io(path, e))?,
            _ => {
                let capacity = piece.bytes().clamp(1, 1 << 20) as usize;
                Box::new(BufReader::with_capacity(capacity, own))
            }
        };
        // Pieces after this one may be empty up to the end of the file (streams longer than
        // pieces): then there is nothing past its end.
        let size = self.files[piece.file_index as usize].bytes;
        let tail = (piece.index + 1 < piece.of && piece.end < size).then(|| Tail {
            path: path.clone(),
            start: piece.end,
            cut: piece.cut,
            counter: self.disk_bytes_read.clone(),
        });
        Ok(Spans {
            own,
            own_read: 0,
            own_end,
            tail,
            tail_reader: None,
            in_tail: false,
        })
    }

    /// Opens file `index` whole at its start; `head_only` reads no more than its format and
    /// header need (small buffers, one decoding thread).
    fn open_whole(&self, index: usize, head_only: bool) -> Result<OpenFile> {
        let path = self.files[index].path.clone();
        let file = super::remote::open(&path)?;
        let counting = CountingReader {
            inner: file,
            counter: self.disk_bytes_read.clone(),
        };
        let capacity = if head_only { TAIL_BUFFER } else { 1 << 20 };
        let mut raw = BufReader::with_capacity(capacity, counting);
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
            && !head_only
            && bz2par::is_multistream(head)
        {
            let parallel = ParallelBzReader::from_reader(raw, self.decode_threads);
            Box::new(parallel.map_err(|e| Error::io(&path, e))?)
        } else {
            compression.decoder(raw).map_err(|e| Error::io(&path, e))?
        };
        self.finish_open(index, path, compression, reader)
    }

    /// File `index` open on its decompressed `reader`: UTF-16 transcoded, format detected, a
    /// dump's header read.
    fn finish_open(
        &self,
        index: usize,
        path: PathBuf,
        compression: Compression,
        reader: Box<dyn BufRead + Send>,
    ) -> Result<OpenFile> {
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

/// Buffer of a read past a piece's end or of a file's head.
const TAIL_BUFFER: usize = 8 << 10;

/// How `piece` of `path` is named in errors: the path for a file's first piece, else
/// `PATH [piece K/N]`.
fn piece_label(path: &Path, piece: &Piece) -> PathBuf {
    if piece.index == 0 {
        return path.to_path_buf();
    }
    let mut label = path.as_os_str().to_owned();
    label.push(format!(" [piece {}/{}]", piece.index + 1, piece.of));
    PathBuf::from(label)
}

/// `path` open at byte `start`, counting what is read.
fn counted_from(
    path: &Path,
    start: u64,
    counter: &Arc<AtomicU64>,
) -> Result<CountingReader<Box<dyn super::remote::ReadSeek>>> {
    let mut file = super::remote::open(path)?;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| Error::io(path, e))?;
    Ok(CountingReader {
        inner: file,
        counter: counter.clone(),
    })
}

/// Skips the start of a piece after a file's first: through its first line end, then through
/// the first boundary line, so that it starts at a document. A piece whose first boundary lies
/// past its own bytes holds no document.
fn skip_to_first_document(file: &mut OpenFile) -> Result<()> {
    let mut line = Vec::new();
    let mut first = true;
    loop {
        line.clear();
        let start = file.offset;
        let n = read_line(
            &mut file.reader,
            &mut line,
            &file.path,
            file.next_line,
            start,
        )?;
        if n == 0 {
            file.done = true;
            return Ok(());
        }
        file.offset += n as u64;
        file.next_line += 1;
        if first {
            first = false;
            continue;
        }
        if classify(file.format, &line, false).boundary_after {
            if file.past_own_end(start) {
                file.done = true;
            }
            return Ok(());
        }
    }
}

/// Where the bytes past a piece's own come from.
struct Tail {
    path: PathBuf,
    start: u64,
    cut: Cut,
    counter: Arc<AtomicU64>,
}

impl Tail {
    fn open(self) -> std::io::Result<Box<dyn BufRead + Send>> {
        let file = counted_from(&self.path, self.start, &self.counter)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let raw = BufReader::with_capacity(TAIL_BUFFER, file);
        match self.cut {
            Cut::Bzip2 => Compression::Bzip2.decoder(raw),
            _ => Ok(Box::new(raw)),
        }
    }
}

/// A cut piece's stream: its own bytes, then the next piece's (opened when first needed);
/// records where its own bytes end.
struct Spans {
    own: Box<dyn BufRead + Send>,
    own_read: u64,
    own_end: Arc<AtomicU64>,
    tail: Option<Tail>,
    tail_reader: Option<Box<dyn BufRead + Send>>,
    in_tail: bool,
}

impl Read for Spans {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Spans {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if !self.in_tail {
            if !self.own.fill_buf()?.is_empty() {
                return self.own.fill_buf();
            }
            self.in_tail = true;
            self.own_end.store(self.own_read, Ordering::Release);
            if let Some(tail) = self.tail.take() {
                self.tail_reader = Some(tail.open()?);
            }
        }
        match self.tail_reader.as_mut() {
            Some(tail) => tail.fill_buf(),
            None => Ok(&[]),
        }
    }

    fn consume(&mut self, n: usize) {
        if self.in_tail {
            if let Some(tail) = self.tail_reader.as_mut() {
                tail.consume(n);
            }
        } else {
            self.own.consume(n);
            self.own_read += n as u64;
        }
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
            piece: 0,
            units: 0,
            own_end: None,
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

    /// Whether stream offset `line_start` lies past the piece's own bytes (a line starting there
    /// and ending a document ends the piece).
    fn past_own_end(&self, line_start: u64) -> bool {
        self.own_end
            .as_ref()
            .is_some_and(|end| line_start > end.load(Ordering::Acquire))
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
            let line_start = file.offset + scanned as u64;
            scanned += nl + 1;
            let piece_ends = kind.boundary_after && file.past_own_end(line_start);
            if piece_ends || (scanned >= target && kind.boundary_after) {
                file.pending = bytes.split_off(scanned);
                if piece_ends {
                    // What was read past the piece's end belongs to the next piece.
                    file.pending.clear();
                }
                let at_end = piece_ends
                    || file.pending.is_empty()
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
        piece: file.piece,
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

    /// Reads every piece of the plan of `bytes` (one file) with pieces of `piece_bytes`.
    fn piece_units(bytes: &[u8], name: &str, piece_bytes: u64, threads: usize) -> Vec<Unit> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let files = vec![InputFile {
            path,
            bytes: bytes.len() as u64,
        }];
        let plan = crate::input::plan::plan(&files, piece_bytes, &AtomicU64::new(0)).unwrap();
        assert!(plan.len() > 1, "{name} was not cut");
        let mut reader = UnitReader::with_target(files, Format::Auto, 300)
            .with_pieces(plan, 0)
            .with_decode_threads(threads);
        let mut out = Vec::new();
        while let Some(u) = reader.next_unit().unwrap() {
            out.push(u);
        }
        out
    }

    #[test]
    fn pieces_hold_every_document_once() {
        let jsonl: String = (0..300)
            .map(|i| format!("{{\"text\": \"doc {i} {}.\"}}\n", "x".repeat(i % 17)))
            .collect();
        let text: String = (0..300)
            .map(|i| format!("Doc {i} line one.\nLine {}.\n\n", "y".repeat(i % 23)))
            .collect();
        for (name, body) in [("w.txt", wiki(300)), ("d.jsonl", jsonl), ("t.txt", text)] {
            for piece_bytes in [1000, 1777, 5000] {
                let units = piece_units(body.as_bytes(), name, piece_bytes, 1);
                let joined: Vec<u8> = units.iter().flat_map(|u| u.bytes.clone()).collect();
                assert_eq!(joined, body.as_bytes(), "{name} in pieces of {piece_bytes}");
                let keys: Vec<u64> = units.iter().map(|u| u.index).collect();
                assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
                let format = units[0].format;
                let whole = parse_at(Path::new(name), &body, format, 0, 1).unwrap();
                let mut docs = 0;
                for u in &units {
                    let t = std::str::from_utf8(&u.bytes).unwrap();
                    let p = parse_at(Path::new(name), t, format, u.first_doc, 1).unwrap();
                    docs += p.documents.len();
                    assert!(p.unclosed_documents == 0, "a piece cut a document");
                }
                assert_eq!(
                    docs,
                    whole.documents.len(),
                    "{name} in pieces of {piece_bytes}"
                );
            }
        }
        // Multi-stream bzip2, its streams cut inside documents (as pbzip2's are).
        let body = wiki(400);
        let mut bz = Vec::new();
        for chunk in body.as_bytes().chunks(777) {
            let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            enc.write_all(chunk).unwrap();
            bz.extend(enc.finish().unwrap());
        }
        // Streams longer than pieces leave pieces with no stream start of their own.
        let mut long = Vec::new();
        for chunk in body.as_bytes().chunks(9000) {
            let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
            enc.write_all(chunk).unwrap();
            long.extend(enc.finish().unwrap());
        }
        for (bz, piece_bytes) in [(&bz, bz.len() as u64 / 7), (&long, 1024)] {
            for threads in [1, 3] {
                let units = piece_units(bz, "w.bz2", piece_bytes, threads);
                assert!(units.iter().any(|u| u.piece > 0));
                let joined: Vec<u8> = units.iter().flat_map(|u| u.bytes.clone()).collect();
                assert_eq!(joined, body.as_bytes());
            }
        }
    }
}
