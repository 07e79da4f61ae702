//! Spill buckets: the bounded-memory global shuffle.
//!
//! Phase one appends every instance to one of `B` bucket files, the bucket drawn from the
//! instance's unit stream; phase two loads one bucket at a time, shuffles it with its own stream
//! and hands it to the shard writer. Drawing a uniform bucket and then shuffling each bucket gives
//! a uniformly random order of all instances while holding only one bucket in memory, so
//! instances of one document end up spread over the whole output. `B` is chosen from the input
//! size so that a bucket holds about [`BUCKET_TARGET_TEXT_BYTES`] of source text.
//!
//! Records are little-endian: `u16 num_tokens, u16 segment_a_len, u16 predictions, u8 nsp,
//! u64 source`, then the token ids and `(u16 position, id)` pairs, ids as `u16` when the
//! vocabulary fits in 16 bits, else `u32`. Files are only appended to; a checkpoint records their
//! lengths, and resuming truncates them back to the checkpoint.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::input::{Compression, InputFile};
use crate::instances::Instance;

/// Source text per bucket the bucket count aims at.
pub const BUCKET_TARGET_TEXT_BYTES: u64 = 8 << 20;

/// Number of buckets for `text_bytes` of (estimated) input text and `dupe_factor` passes.
pub fn bucket_count(text_bytes: u64, dupe_factor: usize) -> usize {
    let spill = text_bytes.saturating_mul(dupe_factor as u64);
    (spill.div_ceil(BUCKET_TARGET_TEXT_BYTES)).clamp(1, 4096) as usize
}

/// Input text size estimate for choosing the bucket count: sizes on disk, compressed files
/// counted four times. A file that cannot be opened counts its size; the reader reports it.
/// The bytes read to tell compressed files apart are added to `read`.
pub fn estimated_text_bytes(files: &[InputFile], read: &AtomicU64) -> u64 {
    let mut total = 0u64;
    for f in files {
        let mut head = [0u8; 4];
        let n = crate::input::remote::open(&f.path)
            .ok()
            .and_then(|mut file| std::io::Read::read(&mut file, &mut head).ok())
            .unwrap_or(0);
        read.fetch_add(n as u64, Ordering::Relaxed);
        let factor = match Compression::sniff(&head[..n]) {
            Compression::None => 1,
            _ => 4,
        };
        total = total.saturating_add(f.bytes.saturating_mul(factor));
    }
    total
}

/// Name of bucket `b` in the spill directory.
pub fn bucket_path(dir: &Path, b: usize) -> PathBuf {
    dir.join(format!("bucket-{b:05}.bin"))
}

/// Bytes of a record's fixed header (lengths, label, source).
const HEADER_BYTES: usize = 15;

/// Whether ids are stored in 16 bits.
fn narrow(vocab_size: usize) -> bool {
    vocab_size <= 1 << 16
}

/// Appends encoded records to bucket files.
pub struct SpillWriter {
    dir: PathBuf,
    files: Vec<BufWriter<File>>,
    lengths: Vec<u64>,
}

impl std::fmt::Debug for SpillWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpillWriter")
            .field("dir", &self.dir)
            .field("buckets", &self.files.len())
            .finish()
    }
}

impl SpillWriter {
    /// Opens `lengths.len()` buckets in `dir`, truncated to `lengths` (all zero for a fresh
    /// start, a checkpoint's lengths when resuming).
    pub fn open(dir: &Path, lengths: &[u64]) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let mut files = Vec::with_capacity(lengths.len());
        for (b, &len) in lengths.iter().enumerate() {
            let path = bucket_path(dir, b);
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            let actual = file.metadata().map_err(|e| Error::io(&path, e))?.len();
            if actual < len {
                return Err(Error::io(
                    &path,
                    std::io::Error::other(format!(
                        "spill bucket is {actual} bytes, the checkpoint says {len}; rerun with --overwrite"
                    )),
                ));
            }
            // Only a resumed bucket is cut back: truncating a file (even to its own size) has
            // ext4 write it out when it is closed, work a temporary file never needs.
            if actual > len {
                file.set_len(len).map_err(|e| Error::io(&path, e))?;
            }
            let mut writer = BufWriter::with_capacity(64 << 10, file);
            use std::io::Seek;
            writer
                .seek(std::io::SeekFrom::Start(len))
                .map_err(|e| Error::io(&path, e))?;
            files.push(writer);
        }
        Ok(SpillWriter {
            dir: dir.to_path_buf(),
            files,
            lengths: lengths.to_vec(),
        })
    }

    /// Appends records already encoded by [`encode_by_bucket`] (for this vocabulary size) to
    /// bucket `b`.
    pub fn append(&mut self, b: usize, records: &[u8]) -> Result<()> {
        self.files[b]
            .write_all(records)
            .map_err(|e| Error::io(bucket_path(&self.dir, b), e))?;
        self.lengths[b] += records.len() as u64;
        Ok(())
    }

    /// Flushes every bucket to the OS and returns their lengths, for a checkpoint.
    pub fn checkpoint(&mut self) -> Result<Vec<u64>> {
        for (b, f) in self.files.iter_mut().enumerate() {
            f.flush()
                .map_err(|e| Error::io(bucket_path(&self.dir, b), e))?;
        }
        Ok(self.lengths.clone())
    }
}

/// The records of `instances`, grouped by bucket (`buckets[i]` is instance `i`'s, below
/// `count`), in instance order within each bucket, for [`SpillWriter::append`]. The threads
/// that make the instances encode them.
pub fn encode_by_bucket(
    instances: &[Instance],
    buckets: &[u32],
    count: usize,
    vocab_size: usize,
) -> Vec<Vec<u8>> {
    let narrow = narrow(vocab_size);
    let mut out = vec![Vec::new(); count];
    for (inst, &b) in instances.iter().zip(buckets) {
        encode(inst, narrow, &mut out[b as usize]);
    }
    out
}

fn encode(inst: &Instance, narrow: bool, out: &mut Vec<u8>) {
    out.extend_from_slice(&(inst.input_ids.len() as u16).to_le_bytes());
    out.extend_from_slice(&(inst.segment_a_len as u16).to_le_bytes());
    out.extend_from_slice(&(inst.predictions.len() as u16).to_le_bytes());
    out.push(u8::from(inst.pair_label));
    out.extend_from_slice(&inst.source.to_le_bytes());
    let put = |out: &mut Vec<u8>, id: u32| {
        if narrow {
            out.extend_from_slice(&(id as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&id.to_le_bytes());
        }
    };
    for &id in &inst.input_ids {
        put(out, id);
    }
    for &(pos, id) in &inst.predictions {
        out.extend_from_slice(&(pos as u16).to_le_bytes());
        put(out, id);
    }
}

/// A bucket's records as read from its file, to be decoded whole or in pieces (in parallel
/// by the caller; the pieces' instances in order are the bucket's).
pub struct BucketBytes {
    path: PathBuf,
    bytes: Vec<u8>,
    narrow: bool,
}

impl BucketBytes {
    /// Reads the first `len` bytes of bucket `b`.
    pub fn read(dir: &Path, b: usize, len: u64, vocab_size: usize) -> Result<Self> {
        let path = bucket_path(dir, b);
        let mut bytes = Vec::with_capacity(len as usize);
        File::open(&path)
            .and_then(|f| f.take(len).read_to_end(&mut bytes))
            .map_err(|e| Error::io(&path, e))?;
        if (bytes.len() as u64) < len {
            return Err(Error::io(
                &path,
                std::io::Error::other("spill bucket is shorter than recorded"),
            ));
        }
        Ok(BucketBytes {
            path,
            bytes,
            narrow: narrow(vocab_size),
        })
    }

    /// The records cut at record boundaries into `parts` pieces of about equal size (fewer
    /// when there are fewer records).
    pub fn pieces(&self, parts: usize) -> Result<Vec<&[u8]>> {
        let target = self.bytes.len().div_ceil(parts.max(1)).max(1);
        let mut pieces = Vec::with_capacity(parts);
        let (mut start, mut at) = (0, 0);
        while at < self.bytes.len() {
            at += record_len(&self.bytes[at..], self.narrow).ok_or_else(|| self.corrupt())?;
            if at - start >= target {
                pieces.push(&self.bytes[start..at]);
                start = at;
            }
        }
        if start < at {
            pieces.push(&self.bytes[start..at]);
        }
        Ok(pieces)
    }

    /// Every instance of the bucket.
    pub fn instances(&self) -> Result<Vec<Instance>> {
        self.decode(&self.bytes)
    }

    /// The instances of `piece`, a run of whole records of this bucket.
    pub fn decode(&self, piece: &[u8]) -> Result<Vec<Instance>> {
        decode_all(piece, self.narrow).ok_or_else(|| self.corrupt())
    }

    fn corrupt(&self) -> Error {
        Error::io(
            &self.path,
            std::io::Error::other("spill bucket is corrupt; rerun with --overwrite"),
        )
    }
}

/// Length of the record at the start of `bytes`, if its header is there and it fits: the one
/// place that knows where a record ends.
fn record_len(bytes: &[u8], narrow: bool) -> Option<usize> {
    let head = bytes.get(..HEADER_BYTES)?;
    let width = if narrow { 2 } else { 4 };
    let len = u16::from_le_bytes([head[0], head[1]]) as usize;
    let preds = u16::from_le_bytes([head[4], head[5]]) as usize;
    let total = HEADER_BYTES + len * width + preds * (2 + width);
    (total <= bytes.len()).then_some(total)
}

fn decode_all(bytes: &[u8], narrow: bool) -> Option<Vec<Instance>> {
    let width = if narrow { 2 } else { 4 };
    let id = |s: &[u8]| -> u32 {
        if narrow {
            u32::from(u16::from_le_bytes([s[0], s[1]]))
        } else {
            u32::from_le_bytes([s[0], s[1], s[2], s[3]])
        }
    };
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (record, after) = rest.split_at(record_len(rest, narrow)?);
        rest = after;
        let (head, body) = record.split_at(HEADER_BYTES);
        let len = u16::from_le_bytes([head[0], head[1]]) as usize;
        let (ids, pairs) = body.split_at(len * width);
        out.push(Instance {
            input_ids: ids.chunks_exact(width).map(id).collect(),
            segment_a_len: u16::from_le_bytes([head[2], head[3]]) as usize,
            predictions: pairs
                .chunks_exact(2 + width)
                .map(|p| (u32::from(u16::from_le_bytes([p[0], p[1]])), id(&p[2..])))
                .collect(),
            pair_label: head[6] != 0,
            source: u64::from_le_bytes(head[7..15].try_into().ok()?),
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_bucket(dir: &Path, b: usize, len: u64, vocab: usize) -> Result<Vec<Instance>> {
        BucketBytes::read(dir, b, len, vocab)?.instances()
    }

    fn inst(seed: u32) -> Instance {
        Instance {
            input_ids: vec![101, seed, 103, 102, 70_000 % (seed + 2), 102],
            segment_a_len: 4,
            predictions: vec![(2, seed + 1)],
            pair_label: seed.is_multiple_of(2),
            source: u64::from(seed) << 32 | 9,
        }
    }

    /// Appends one instance's record to bucket `b`.
    fn push(w: &mut SpillWriter, b: usize, inst: &Instance, vocab: usize) {
        w.append(
            b,
            &encode_by_bucket(std::slice::from_ref(inst), &[0], 1, vocab)[0],
        )
        .unwrap();
    }

    #[test]
    fn round_trips_and_resumes_from_checkpoint() {
        for vocab in [30_522, 250_000] {
            let dir = tempfile::tempdir().unwrap();
            let mut w = SpillWriter::open(dir.path(), &[0, 0, 0]).unwrap();
            for i in 0..10 {
                push(&mut w, (i % 3) as usize, &inst(i), vocab);
            }
            let lengths = w.checkpoint().unwrap();
            // Written after the checkpoint, then "killed".
            push(&mut w, 0, &inst(99), vocab);
            w.checkpoint().unwrap();
            drop(w);
            let mut w = SpillWriter::open(dir.path(), &lengths).unwrap();
            push(&mut w, 1, &inst(50), vocab);
            let lengths = w.checkpoint().unwrap();
            let b0 = read_bucket(dir.path(), 0, lengths[0], vocab).unwrap();
            assert_eq!(b0, vec![inst(0), inst(3), inst(6), inst(9)]);
            let b1 = read_bucket(dir.path(), 1, lengths[1], vocab).unwrap();
            assert_eq!(b1, vec![inst(1), inst(4), inst(7), inst(50)]);
        }
    }

    #[test]
    fn records_encoded_by_bucket_read_back_in_order() {
        for vocab in [30_522, 250_000] {
            let instances: Vec<Instance> = (0..9).map(inst).collect();
            let buckets = [2, 0, 2, 1, 0, 2, 2, 0, 1];
            let records = encode_by_bucket(&instances, &buckets, 4, vocab);
            assert_eq!(records.len(), 4);
            assert!(records[3].is_empty());
            let dir = tempfile::tempdir().unwrap();
            let mut w = SpillWriter::open(dir.path(), &[0; 4]).unwrap();
            for (b, r) in records.iter().enumerate() {
                w.append(b, r).unwrap();
            }
            let lengths = w.checkpoint().unwrap();
            let b2 = read_bucket(dir.path(), 2, lengths[2], vocab).unwrap();
            assert_eq!(b2, vec![inst(0), inst(2), inst(5), inst(6)]);
            let b1 = read_bucket(dir.path(), 1, lengths[1], vocab).unwrap();
            assert_eq!(b1, vec![inst(3), inst(8)]);
        }
    }

    #[test]
    fn corrupt_bucket_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(bucket_path(dir.path(), 0), [1, 2, 3]).unwrap();
        assert!(read_bucket(dir.path(), 0, 3, 30_522).is_err());
        let bucket = BucketBytes::read(dir.path(), 0, 3, 30_522).unwrap();
        let err = bucket.pieces(2).unwrap_err().to_string();
        assert!(
            err.contains("bucket-00000.bin") && err.contains("corrupt"),
            "{err}"
        );
    }

    #[test]
    fn pieces_cut_at_records_and_decode_to_the_whole() {
        for vocab in [30_522, 250_000] {
            let instances: Vec<Instance> = (0..9).map(inst).collect();
            let records = encode_by_bucket(&instances, &[0; 9], 1, vocab);
            let dir = tempfile::tempdir().unwrap();
            let mut w = SpillWriter::open(dir.path(), &[0]).unwrap();
            w.append(0, &records[0]).unwrap();
            let len = w.checkpoint().unwrap()[0];
            let bucket = BucketBytes::read(dir.path(), 0, len, vocab).unwrap();
            for parts in [1, 2, 4, 9, 20] {
                let pieces = bucket.pieces(parts).unwrap();
                assert!(
                    !pieces.is_empty() && pieces.len() <= parts.min(9),
                    "{parts}"
                );
                let decoded: Vec<Instance> = pieces
                    .iter()
                    .flat_map(|p| bucket.decode(p).unwrap())
                    .collect();
                assert_eq!(decoded, instances, "{parts} pieces");
            }
        }
    }

    #[test]
    fn bucket_count_grows_with_input() {
        assert_eq!(bucket_count(0, 1), 1);
        assert_eq!(bucket_count(33 << 20, 1), 5);
        assert_eq!(bucket_count(1 << 30, 1), 128);
        assert_eq!(bucket_count(1 << 30, 5), 640);
    }
}
