//! Cutting a compressed input into chunks of whole streams, while reading it.
//!
//! The input is read `read_size` bytes at a time into a pending buffer. A chunk is cut at the
//! first stream start at least `min_chunk` bytes into the pending bytes: from the index when
//! one was given and still has starts ahead, else found by [`scan`](super::scan::next_start). When
//! `max_chunk` bytes pile up with no start (one long stream), they are cut anyway and the next
//! chunk is marked as continuing a stream; while no start turns up, the following chunks are
//! cut every `min_chunk` bytes. At the end of the input the rest is the last chunk.

use std::io::{self, Read};

use super::scan::{self, Scan};

/// Chunk sizes, in compressed bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tuning {
    /// Fewest bytes in a chunk cut at a stream start.
    pub(crate) min_chunk: usize,
    /// Most bytes gathered before a chunk is cut at a non-start.
    pub(crate) max_chunk: usize,
    /// Bytes asked of the input per read.
    pub(crate) read_size: usize,
}

impl Default for Tuning {
    /// 1 MiB chunks (about ten streams of a Wikimedia dump), at most 4 MiB, read 256 KiB at a
    /// time.
    fn default() -> Self {
        Tuning {
            min_chunk: 1 << 20,
            max_chunk: 4 << 20,
            read_size: 256 << 10,
        }
    }
}

/// A piece of the compressed file.
pub(crate) struct Chunk {
    /// Offset of `bytes[0]` in the compressed file.
    pub(crate) start: u64,
    pub(crate) bytes: Vec<u8>,
    /// Whether the chunk was cut at a (believed) stream start rather than mid-stream.
    pub(crate) at_stream_start: bool,
}

/// Reads an input and yields it as [`Chunk`]s, in order, covering every byte once.
pub(crate) struct Splitter {
    input: Box<dyn Read + Send>,
    tuning: Tuning,
    /// Sorted stream starts from an index, and the first not yet passed.
    known: Vec<u64>,
    next_known: usize,
    /// Bytes read but not yet cut off, starting at file offset `pending_start`.
    pending: Vec<u8>,
    pending_start: u64,
    pending_at_stream_start: bool,
    /// Offset in `pending` from which the scan resumes.
    scanned: usize,
    eof: bool,
}

impl Splitter {
    pub(crate) fn new(input: Box<dyn Read + Send>, known: Vec<u64>, tuning: Tuning) -> Self {
        Splitter {
            input,
            tuning,
            known,
            next_known: 0,
            pending: Vec::new(),
            pending_start: 0,
            pending_at_stream_start: true,
            scanned: 0,
            eof: false,
        }
    }

    /// The next chunk, or `None` once the input is used up.
    pub(crate) fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        loop {
            if let Some(cut) = self.find_cut() {
                return Ok(Some(self.take(cut, true)));
            }
            // A stream already cut is decoded on the reader's thread: smaller pieces keep its
            // output buffers small.
            let limit = if self.pending_at_stream_start {
                self.tuning.max_chunk
            } else {
                self.tuning.min_chunk.max(1)
            };
            let len = self.pending.len();
            if len >= limit || (self.eof && len > 0) {
                return Ok(Some(self.take(len, false)));
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Where to cut the pending bytes, if a stream start lies far enough in.
    fn find_cut(&mut self) -> Option<usize> {
        // Never at 0: a chunk holds at least one byte.
        let from = self.tuning.min_chunk.max(1);
        if self.pending.len() <= from {
            return None;
        }
        if self.next_known < self.known.len() {
            return self.known_cut(from);
        }
        match scan::next_start(&self.pending, self.scanned.max(from)) {
            Scan::Found(p) => Some(p),
            Scan::NeedMore(p) => {
                self.scanned = p;
                None
            }
            Scan::None => {
                self.scanned = scan::resume_point(&self.pending, from);
                None
            }
        }
    }

    /// The first indexed start at least `from` bytes into the pending bytes, if read already.
    fn known_cut(&mut self, from: usize) -> Option<usize> {
        let low = self.pending_start + from as u64;
        let high = self.pending_start + self.pending.len() as u64;
        while let Some(&start) = self.known.get(self.next_known) {
            if start < low {
                self.next_known += 1;
            } else if start < high {
                return Some((start - self.pending_start) as usize);
            } else {
                return None;
            }
        }
        None
    }

    /// Cuts off the first `n` pending bytes as a chunk; `next_at_stream_start` tells whether
    /// the bytes after them begin a stream.
    fn take(&mut self, n: usize, next_at_stream_start: bool) -> Chunk {
        let mut rest = Vec::with_capacity(self.tuning.min_chunk + self.tuning.read_size);
        rest.extend_from_slice(&self.pending[n..]);
        let mut bytes = std::mem::replace(&mut self.pending, rest);
        bytes.truncate(n);
        let chunk = Chunk {
            start: self.pending_start,
            bytes,
            at_stream_start: self.pending_at_stream_start,
        };
        self.pending_start += n as u64;
        self.pending_at_stream_start = next_at_stream_start;
        self.scanned = 0;
        chunk
    }

    /// Reads up to `read_size` more bytes into the pending buffer; sets `eof` at the end.
    fn fill(&mut self) -> io::Result<()> {
        let len = self.pending.len();
        self.pending.resize(len + self.tuning.read_size, 0);
        loop {
            match self.input.read(&mut self.pending[len..]) {
                Ok(n) => {
                    self.pending.truncate(len + n);
                    self.eof = n == 0;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.pending.truncate(len);
                    let at = self.pending_start + len as u64;
                    return Err(io::Error::new(
                        e.kind(),
                        format!("reading compressed input at byte {at}: {e}"),
                    ));
                }
            }
        }
    }
}
