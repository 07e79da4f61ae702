//! MosaicML Streaming's MDS: `index.json` plus shard files, as `streaming.StreamingDataset`
//! reads them (MosaicBERT, ModernBERT and any trainer on `mosaicml-streaming`).
//!
//! The columns are ours, under our names, as fixed-shape columns (`ndarray:int32:L`, `int8`,
//! ...), so a sample is a dict `BertForPreTraining` takes as it is. A shard file is what
//! `MDSWriter` writes: the sample count (u32), `count + 1` absolute offsets (u32), the shard's
//! config as JSON (Python's `json.dumps(..., sort_keys=True)` spelling), then the samples, each
//! its columns' bytes in column-name order (fixed sizes, so no per-sample size header). A shard
//! is closed when the next sample would pass the size limit, with `MDSWriter`'s accounting (the
//! header's 8 bytes and config, 4 bytes of offset per sample); with zstd the file on disk is
//! `NAME.mds.zstd` and `index.json` records both sizes, as `MDSWriter` does.
//!
//! Builds with `--masking dynamic` export in ModernBERT's pre-tokenised layout instead
//! ([`MdsLayout::Tokens`]): one `input_ids` column of each row's real tokens, for a trainer
//! that masks and pads (`StreamingTextDataset`/`NoStreamingDataset` of ModernBERT's
//! `text_data.py`, or `DataCollatorForLanguageModeling`).
//!
//! MDS shards never straddle two source shards: each source shard becomes its own run of MDS
//! files, written as `STEM.NNNN.mds`, so an interrupted export resumes per source shard; once
//! every source shard is done they take `MDSWriter`'s names in order, `shard.00000.mds`,
//! `shard.00001.mds`, ... ([`shard_name`]). Memory is one MDS shard (the size limit, 64 MiB by
//! default).

use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};

use super::files::{HashingWriter, Pending};
use crate::error::{Error, Result};
use crate::shard::row::{RowView, ShardRow};

/// `MDSWriter`'s default shard size limit.
pub const DEFAULT_SIZE_LIMIT: u64 = 1 << 26;

/// The zstd level of `mosaicml-streaming`'s `"zstd"` compression.
const ZSTD_LEVEL: i32 = 3;

/// The index file `StreamingDataset` opens.
pub const INDEX_FILE: &str = "index.json";

/// One MDS shard file written, as `index.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MdsPart {
    /// The uncompressed shard's name (`shard.NNNNN.mds` in a finished export).
    pub raw_basename: String,
    /// Its size uncompressed.
    pub raw_bytes: u64,
    /// Samples in it.
    pub samples: u64,
}

/// Which samples an MDS export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MdsLayout {
    /// Our padded rows, every column under its name, fixed shapes at this sequence length.
    Rows(usize),
    /// Unmasked rows (`--masking dynamic`) as ModernBERT's and MosaicBERT's text datasets read
    /// pre-tokenised data: one column `input_ids` (`ndarray:int64`, each row at its real
    /// length); the trainer masks and pads.
    Tokens,
}

/// The columns: `(name, encoding, bytes per sample)` (`None`: variable), in name order as
/// `MDSWriter` sorts them.
/// The name of the `n`th MDS shard of an export, as `MDSWriter` names them.
pub fn shard_name(n: usize) -> String {
    format!("shard.{n:05}.mds")
}

fn columns(layout: MdsLayout) -> Vec<(&'static str, String, Option<usize>)> {
    let l = match layout {
        MdsLayout::Tokens => return vec![("input_ids", "ndarray:int64".into(), None)],
        MdsLayout::Rows(l) => l,
    };
    vec![
        ("attention_mask", format!("ndarray:int8:{l}"), Some(l)),
        ("input_ids", format!("ndarray:int32:{l}"), Some(4 * l)),
        ("labels", format!("ndarray:int32:{l}"), Some(4 * l)),
        ("next_sentence_label", "int8".into(), Some(1)),
        ("num_tokens", "int16".into(), Some(2)),
        ("source", "uint64".into(), Some(8)),
        ("token_type_ids", format!("ndarray:int8:{l}"), Some(l)),
    ]
}

/// The shard config `MDSWriter.get_config` gives for the layout's columns.
fn config(layout: MdsLayout, zstd: bool, size_limit: u64) -> Value {
    let cols = columns(layout);
    json!({
        "column_encodings": cols.iter().map(|c| c.1.clone()).collect::<Vec<_>>(),
        "column_names": cols.iter().map(|c| c.0).collect::<Vec<_>>(),
        "column_sizes": cols.iter().map(|c| c.2).collect::<Vec<_>>(),
        "compression": if zstd { Value::from("zstd") } else { Value::Null },
        "format": "mds",
        "hashes": [],
        "size_limit": size_limit,
        "version": 2,
    })
}

/// JSON as Python's `json.dumps(obj, sort_keys=True)` spells it (`", "` and `": "`; serde_json's
/// maps are already sorted).
pub fn python_json(value: &Value) -> Vec<u8> {
    struct Spaced;
    impl serde_json::ser::Formatter for Spaced {
        fn begin_array_value<W: ?Sized + Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                w.write_all(b", ")
            }
        }
        fn begin_object_key<W: ?Sized + Write>(
            &mut self,
            w: &mut W,
            first: bool,
        ) -> std::io::Result<()> {
            if first {
                Ok(())
            } else {
                w.write_all(b", ")
            }
        }
        fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
            w.write_all(b": ")
        }
    }
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, Spaced);
    serde::Serialize::serialize(value, &mut ser).expect("a JSON value serialises");
    out
}

/// Writes one source shard's rows as MDS shard files.
pub struct MdsWriter<'a> {
    dir: &'a Path,
    stem: String,
    zstd: bool,
    size_limit: u64,
    /// zstd's worker threads for this writer's files.
    zstd_workers: u32,
    config: Vec<u8>,
    samples: Vec<u8>,
    /// Where each held sample ends in `samples`.
    ends: Vec<usize>,
    /// Files complete under temporary names, with what `index.json` needs of each.
    pub written: Vec<(Pending, MdsPart)>,
}

impl<'a> MdsWriter<'a> {
    pub fn new(dir: &'a Path, stem: &str, layout: MdsLayout, zstd: bool, size_limit: u64) -> Self {
        MdsWriter {
            dir,
            stem: stem.to_string(),
            zstd,
            size_limit,
            zstd_workers: 1,
            config: python_json(&config(layout, zstd, size_limit)),
            samples: Vec::new(),
            ends: Vec::new(),
            written: Vec::new(),
        }
    }

    /// Compresses with `n` zstd worker threads (default 1); the bytes are the same for any
    /// number.
    #[must_use]
    pub fn zstd_workers(mut self, n: usize) -> Self {
        self.zstd_workers = n.clamp(1, u32::MAX as usize) as u32;
        self
    }

    fn shard_size(&self) -> u64 {
        (8 + self.config.len() + self.samples.len() + 4 * self.ends.len()) as u64
    }

    /// Appends one row (already checked) as a sample's bytes, in `layout`.
    pub fn encode(layout: MdsLayout, row: &RowView<'_>, s: &mut Vec<u8>) {
        match layout {
            MdsLayout::Rows(_) => encode_row(row, s),
            MdsLayout::Tokens => encode_tokens(row, s),
        }
    }

    /// Adds samples made by [`MdsWriter::encode`] (`ends`: where each ends in `samples`), in
    /// order, starting a new file whenever the next sample would pass the size limit.
    pub fn push_encoded(&mut self, samples: &[u8], ends: &[usize]) -> Result<()> {
        let mut start = 0;
        for &end in ends {
            let next = (end - start + 4) as u64;
            if !self.ends.is_empty() && self.size_limit < self.shard_size() + next {
                self.flush()?;
            }
            self.samples.extend_from_slice(&samples[start..end]);
            self.ends.push(self.samples.len());
            start = end;
        }
        Ok(())
    }

    /// Writes the samples held as one MDS shard file.
    fn flush(&mut self) -> Result<()> {
        let raw_basename = format!("{}.{:04}.mds", self.stem, self.written.len());
        let count = self.ends.len();
        let header_len = 4 + 4 * (count + 1) + self.config.len();
        let mut header = Vec::with_capacity(header_len);
        header.extend_from_slice(&(count as u32).to_le_bytes());
        for end in std::iter::once(0).chain(self.ends.iter().copied()) {
            let offset = header_len + end;
            let offset = u32::try_from(offset).map_err(|_| {
                Error::Config("an MDS shard over 4 GiB: lower --mds-size-limit".into())
            })?;
            header.extend_from_slice(&offset.to_le_bytes());
        }
        header.extend_from_slice(&self.config);
        let name = if self.zstd {
            format!("{raw_basename}.zstd")
        } else {
            raw_basename.clone()
        };
        let mut out = HashingWriter::create(self.dir, &name)?;
        let tmp_err = |e: std::io::Error| Error::io(self.dir.join(&name), e);
        if self.zstd {
            // Multi-threaded zstd writes the same bytes for any number of workers (one or more).
            let mut encoder = zstd::stream::Encoder::new(&mut out, ZSTD_LEVEL).map_err(tmp_err)?;
            encoder.multithread(self.zstd_workers).map_err(tmp_err)?;
            // The frame header must hold the content size, as `zstd.compress` (MDSWriter's)
            // writes it: streaming's `zstd.decompress` reads nothing from a frame without it,
            // and a streamed frame of more than one block leaves it out unless pledged.
            let size = (header.len() + self.samples.len()) as u64;
            encoder.set_pledged_src_size(Some(size)).map_err(tmp_err)?;
            encoder.include_contentsize(true).map_err(tmp_err)?;
            encoder.write_all(&header).map_err(tmp_err)?;
            encoder.write_all(&self.samples).map_err(tmp_err)?;
            encoder.finish().map_err(tmp_err)?;
        } else {
            out.write_all(&header).map_err(tmp_err)?;
            out.write_all(&self.samples).map_err(tmp_err)?;
        }
        let part = MdsPart {
            raw_basename,
            raw_bytes: (header.len() + self.samples.len()) as u64,
            samples: count as u64,
        };
        self.written.push((out.finish(self.dir, &name)?, part));
        // The buffers are kept for the next shard.
        self.samples.clear();
        self.ends.clear();
        Ok(())
    }

    /// Writes what is left; the files written, ready to commit.
    pub fn finish(mut self) -> Result<Vec<(Pending, MdsPart)>> {
        if !self.ends.is_empty() {
            self.flush()?;
        }
        Ok(self.written)
    }
}

/// A row's columns' bytes in name order (fixed sizes, so no size header).
fn encode_row(row: &RowView<'_>, s: &mut Vec<u8>) {
    let bytes = |v: Option<&[i8]>| {
        v.unwrap_or_default()
            .iter()
            .map(|&b| b as u8)
            .collect::<Vec<_>>()
    };
    s.extend(bytes(row.attention_mask));
    row.input_ids
        .iter()
        .for_each(|v| s.extend_from_slice(&v.to_le_bytes()));
    row.labels
        .iter()
        .for_each(|v| s.extend_from_slice(&v.to_le_bytes()));
    s.push(row.next_sentence_label as u8);
    s.extend_from_slice(&row.num_tokens.to_le_bytes());
    s.extend_from_slice(&row.source.to_le_bytes());
    s.extend(bytes(row.token_type_ids));
}

/// A row's real tokens as `ndarray:int64` of dynamic shape, after the u32 size `MDSWriter`
/// puts before each variable-size column: one byte `ndim << 2 | shape dtype` (1-D; the shape's
/// dtype uint8 below 256 tokens, else uint16), the length in that dtype, the int64 values.
fn encode_tokens(row: &RowView<'_>, s: &mut Vec<u8>) {
    let ids = &row.input_ids[..row.len()];
    let n = ids.len();
    // ndim 1; shape dtype 0 = uint8, 1 = uint16.
    const ONE_AXIS: u8 = 1 << 2;
    let shape: Vec<u8> = if n < 256 {
        vec![ONE_AXIS, n as u8]
    } else {
        let [a, b] = (n as u16).to_le_bytes();
        vec![ONE_AXIS | 1, a, b]
    };
    let size = shape.len() + 8 * n;
    s.extend_from_slice(&(size as u32).to_le_bytes());
    s.extend_from_slice(&shape);
    ids.iter()
        .for_each(|&v| s.extend_from_slice(&i64::from(v).to_le_bytes()));
}

/// `index.json` for the parts listed, `(file on disk, part)` in order.
pub fn index_json(
    parts: &[(String, u64, &MdsPart)],
    layout: MdsLayout,
    zstd: bool,
    size_limit: u64,
) -> Vec<u8> {
    let shards: Vec<Value> = parts
        .iter()
        .map(|(file, bytes, part)| {
            let mut shard = config(layout, zstd, size_limit);
            let raw = json!({"basename": part.raw_basename, "bytes": part.raw_bytes, "hashes": {}});
            let zip = json!({"basename": file, "bytes": bytes, "hashes": {}});
            shard["raw_data"] = raw;
            shard["zip_data"] = if zstd { zip } else { Value::Null };
            shard["samples"] = part.samples.into();
            shard
        })
        .collect();
    python_json(&json!({"shards": shards, "version": 2}))
}

/// Reads every sample of an MDS directory written by [`MdsWriter`] back into rows (for checks
/// and tests); an error names the file.
pub fn read_rows(dir: &Path) -> Result<Vec<ShardRow>> {
    let index_path = dir.join(INDEX_FILE);
    let index: Value =
        serde_json::from_slice(&std::fs::read(&index_path).map_err(|e| Error::io(&index_path, e))?)
            .map_err(|source| Error::Json {
                path: index_path.clone(),
                source,
            })?;
    let bad = |path: &Path, m: &str| Error::output(path, m.to_string());
    let mut rows = Vec::new();
    for shard in index["shards"]
        .as_array()
        .ok_or_else(|| bad(&index_path, "no shards"))?
    {
        let zip = shard["zip_data"]["basename"].as_str();
        let name = zip
            .or(shard["raw_data"]["basename"].as_str())
            .unwrap_or_default();
        let path = dir.join(name);
        let mut raw = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        if zip.is_some() {
            raw = zstd::stream::decode_all(&raw[..]).map_err(|e| Error::io(&path, e))?;
        }
        let u32_at =
            |i: usize| u32::from_le_bytes(raw[i..i + 4].try_into().expect("4 bytes")) as usize;
        let n = u32_at(0);
        let samples = (0..n).map(|i| &raw[u32_at(4 + 4 * i)..u32_at(8 + 4 * i)]);
        if shard["column_names"] == json!(["input_ids"]) {
            rows.extend(samples.map(decode_tokens));
            continue;
        }
        let sizes: Vec<usize> = shard["column_sizes"]
            .as_array()
            .ok_or_else(|| bad(&path, "no column sizes"))?
            .iter()
            .map(|v| v.as_u64().unwrap_or(0) as usize)
            .collect();
        let l = sizes[0];
        for s in samples {
            let (mask, s) = s.split_at(l);
            let (ids, s) = s.split_at(4 * l);
            let (labels, s) = s.split_at(4 * l);
            let i32s = |b: &[u8]| {
                b.chunks_exact(4)
                    .map(|c| i32::from_le_bytes(c.try_into().expect("4")))
                    .collect()
            };
            rows.push(ShardRow {
                input_ids: i32s(ids),
                token_type_ids: s[11..].iter().map(|&b| b as i8).collect(),
                attention_mask: mask.iter().map(|&b| b as i8).collect(),
                labels: i32s(labels),
                special_tokens_mask: Vec::new(),
                next_sentence_label: s[0] as i8,
                num_tokens: i16::from_le_bytes([s[1], s[2]]),
                source: u64::from_le_bytes(s[3..11].try_into().expect("8 bytes")),
            });
        }
    }
    Ok(rows)
}

/// A sample of the tokens layout back as a row holding only its ids (and their count).
fn decode_tokens(s: &[u8]) -> ShardRow {
    let head = if s[4] & 3 == 0 { 2 } else { 3 };
    let input_ids: Vec<i32> = s[4 + head..]
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().expect("8")) as i32)
        .collect();
    ShardRow {
        num_tokens: input_ids.len() as i16,
        input_ids,
        token_type_ids: Vec::new(),
        attention_mask: Vec::new(),
        labels: Vec::new(),
        special_tokens_mask: Vec::new(),
        next_sentence_label: -1,
        source: 0,
    }
}
