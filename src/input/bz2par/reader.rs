//! [`ParallelBzReader`]: decodes chunks on a thread pool, serves their output in order.
//!
//! The reader's own thread reads the compressed input and cuts it (`split`), keeping up to
//! `2 * threads` chunks queued; each chunk cut at a stream start is decoded by a pool job
//! whose result comes back on a one-shot channel. Chunks are taken off the queue in order.
//! When a chunk's decode stops mid-stream (its cut was not a stream start, or was forced in a
//! long stream), the next chunk is decoded on the reader's thread instead, continuing that
//! stream's decoder; a pool result for it, if any, is dropped.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;

use super::decode::{decode_chunk, Decoded, End, Partial};
use super::index::stream_starts_from_index;
use super::split::{Chunk, Splitter, Tuning};

/// Chunks kept in flight or decoded ahead, per thread.
const AHEAD_PER_THREAD: usize = 2;

/// A reader yielding the decompressed bytes of a (multi-stream) bzip2 file in order, decoding
/// up to `threads` chunks of streams (each chunk at least ~1 MiB compressed) at a time on its
/// own rayon pool, with at most `2 * threads` chunks decoded ahead.
///
/// The output equals `bzip2::bufread::MultiBzDecoder`'s. A corrupt or truncated stream is an
/// `io::Error` ("bzip2 stream at byte N: ...") after all bytes decoded before it; later reads
/// return the same error. Bytes after the last stream that are not a stream are an error too,
/// as in `MultiBzDecoder`. See the module docs for the invariants.
pub struct ParallelBzReader {
    splitter: Splitter,
    input_done: bool,
    /// Whether the input held any byte at all.
    saw_input: bool,
    pool: rayon::ThreadPool,
    ahead: usize,
    queue: VecDeque<io::Result<Slot>>,
    /// The decoder of a stream cut at the end of the last chunk taken off the queue.
    carry: Option<Partial>,
    out: Vec<u8>,
    pos: usize,
    /// The error to report once `out` is drained, and on every read after.
    failure: Option<(io::ErrorKind, String)>,
    /// Set on drop, so that queued jobs skip their work.
    cancelled: Arc<AtomicBool>,
}

/// A queued chunk: its bytes, and the pool's result if it was sent to the pool.
struct Slot {
    start: u64,
    bytes: Arc<Vec<u8>>,
    job: Option<Receiver<Decoded>>,
}

impl ParallelBzReader {
    /// Opens `path` for decoding on `threads` threads (0 counts as 1). With `index` (the
    /// dump's `-multistream-index.txt.bz2`), chunks are cut at the indexed stream starts
    /// instead of scanned ones.
    pub fn open(path: &Path, threads: usize, index: Option<&Path>) -> io::Result<Self> {
        let file = File::open(path).map_err(|e| with_path(path, e))?;
        let known = match index {
            Some(index) => stream_starts_from_index(index)?,
            None => Vec::new(),
        };
        Self::build(Box::new(file), threads, known, Tuning::default())
    }

    /// Decodes the compressed bytes of `r`, read as they are needed, on `threads` threads
    /// (0 counts as 1). Stream starts are found by scanning.
    pub fn from_reader(r: impl Read + Send + 'static, threads: usize) -> io::Result<Self> {
        Self::build(Box::new(r), threads, Vec::new(), Tuning::default())
    }

    pub(crate) fn build(
        input: Box<dyn Read + Send>,
        threads: usize,
        known: Vec<u64>,
        tuning: Tuning,
    ) -> io::Result<Self> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("bz2par-{i}"))
            .build()
            .map_err(io::Error::other)?;
        Ok(ParallelBzReader {
            splitter: Splitter::new(input, known, tuning),
            input_done: false,
            saw_input: false,
            pool,
            ahead: AHEAD_PER_THREAD * threads,
            queue: VecDeque::new(),
            carry: None,
            out: Vec::new(),
            pos: 0,
            failure: None,
            cancelled: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Reads and queues chunks until `ahead` are queued or the input ends.
    fn top_up(&mut self) {
        while !self.input_done && self.queue.len() < self.ahead {
            match self.splitter.next_chunk() {
                Ok(Some(chunk)) => {
                    self.saw_input = true;
                    let slot = self.queue_chunk(chunk);
                    self.queue.push_back(Ok(slot));
                }
                Ok(None) => self.input_done = true,
                Err(e) => {
                    self.queue.push_back(Err(e));
                    self.input_done = true;
                }
            }
        }
    }

    /// Sends a chunk that starts a stream to the pool; one continuing a stream waits for the
    /// reader's thread.
    fn queue_chunk(&self, chunk: Chunk) -> Slot {
        let bytes = Arc::new(chunk.bytes);
        let job = chunk.at_stream_start.then(|| {
            let (tx, rx) = mpsc::sync_channel(1);
            let bytes = Arc::clone(&bytes);
            let cancelled = Arc::clone(&self.cancelled);
            let start = chunk.start;
            self.pool.spawn(move || {
                if !cancelled.load(Ordering::Relaxed) {
                    // The reader may have dropped the receiver; the result is then unwanted.
                    let _ = tx.send(decode_chunk(&bytes, start, None));
                }
            });
            rx
        });
        Slot {
            start: chunk.start,
            bytes,
            job,
        }
    }

    /// The output of the next chunk, `None` at the end. A decoding failure is recorded in
    /// `failure` and the bytes decoded before it are returned.
    fn next_output(&mut self) -> io::Result<Option<Vec<u8>>> {
        self.top_up();
        let Some(slot) = self.queue.pop_front() else {
            return match self.carry.take() {
                Some(cut) => Err(cut.truncated()),
                None if !self.saw_input => Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "bzip2 stream at byte 0: empty input",
                )),
                None => Ok(None),
            };
        };
        let slot = slot?;
        let decoded = match (self.carry.take(), slot.job) {
            (None, Some(job)) => job.recv().map_err(|_| {
                io::Error::other(format!(
                    "bzip2 chunk at byte {}: decoding thread failed",
                    slot.start
                ))
            })?,
            (carry, _) => decode_chunk(&slot.bytes, slot.start, carry),
        };
        match decoded.end {
            End::Clean => {}
            End::Cut(partial) => self.carry = Some(partial),
            End::Failed(e) => self.fail(&e),
        }
        Ok(Some(decoded.out))
    }

    fn fail(&mut self, e: &io::Error) {
        self.failure = Some((e.kind(), e.to_string()));
        self.queue.clear();
        self.input_done = true;
        self.carry = None;
    }
}

impl Read for ParallelBzReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ParallelBzReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.out.len() {
            if let Some((kind, message)) = &self.failure {
                return Err(io::Error::new(*kind, message.clone()));
            }
            match self.next_output() {
                Ok(Some(out)) => {
                    self.out = out;
                    self.pos = 0;
                }
                Ok(None) => break,
                Err(e) => self.fail(&e),
            }
        }
        Ok(&self.out[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.out.len());
    }
}

impl Drop for ParallelBzReader {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for ParallelBzReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParallelBzReader")
            .field("threads", &self.pool.current_num_threads())
            .field("queued_chunks", &self.queue.len())
            .field("buffered_bytes", &(self.out.len() - self.pos))
            .field("input_done", &self.input_done)
            .finish_non_exhaustive()
    }
}

fn with_path(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}
