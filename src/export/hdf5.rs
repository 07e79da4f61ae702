//! NVIDIA DeepLearningExamples' BERT HDF5 files, as its PyTorch `pretraining_dataset` reads
//! them (`f[key][:]` for each of six keys, then one row per index).
//!
//! Datasets, as NVIDIA's `create_pretraining_data.py` writes them: `input_ids` int32 `[N, L]`,
//! `input_mask` int8 `[N, L]`, `segment_ids` int8 `[N, L]`, `masked_lm_positions` int32
//! `[N, P]`, `masked_lm_ids` int32 `[N, P]` (zero-padded; the loader takes the first zero
//! position as the end), `next_sentence_labels` int8 `[N]` (1 = B is random); in chunks of
//! about 256 KiB through HDF5's shuffle and gzip (deflate) filters, which h5py undoes on read.
//! NVIDIA writes gzip level 4 without shuffle; shuffle (bytes of equal significance side by
//! side, so the zero high bytes of small ids compress to almost nothing) with level 1 writes
//! about as small a file in half the time (measured in README's "Use with other trainers").
//! NVIDIA's trainer picks the files of its input directory whose names contain `training`,
//! hence `STEM_training.hdf5`.
//!
//! Written with `hdf5-pure`, a pure-Rust HDF5 writer (files h5py and the C library read), so
//! the build needs no C library. Its writer lays a file out from whole datasets, and appends
//! in place only to one-dimensional ones, so one source shard's columns are held in memory
//! while its file is written: about `N × (6L + 8P + 1)` bytes, 100,000 rows at L = 512 and
//! P = 77 being 369 MB — the size NVIDIA's own loader holds when it reads the file.

use std::path::Path;

use std::mem::take;

use hdf5_pure::{DatasetBuilder, FileBuilder};

use super::files::{HashingWriter, Pending};
use super::rows::Predictions;
use crate::error::{Error, Result};
use crate::shard::row::RowView;

/// gzip level, after the shuffle filter.
const GZIP_LEVEL: u32 = 1;

/// Target bytes of one chunk.
const CHUNK_BYTES: usize = 1 << 18;

/// One source shard's columns, gathered for its HDF5 file.
pub struct Hdf5Columns {
    seq_len: usize,
    max_predictions: usize,
    gzip: bool,
    input_ids: Vec<i32>,
    input_mask: Vec<i8>,
    segment_ids: Vec<i8>,
    positions: Vec<i32>,
    ids: Vec<i32>,
    next_sentence_labels: Vec<i8>,
}

impl Hdf5Columns {
    pub fn new(seq_len: usize, max_predictions: usize, rows: usize, gzip: bool) -> Self {
        Hdf5Columns {
            seq_len,
            max_predictions,
            gzip,
            input_ids: Vec::with_capacity(rows * seq_len),
            input_mask: Vec::with_capacity(rows * seq_len),
            segment_ids: Vec::with_capacity(rows * seq_len),
            positions: Vec::with_capacity(rows * max_predictions),
            ids: Vec::with_capacity(rows * max_predictions),
            next_sentence_labels: Vec::with_capacity(rows),
        }
    }

    /// Adds one row (already checked) and its predictions.
    pub fn push(&mut self, row: &RowView<'_>, predictions: &Predictions) {
        self.input_ids.extend_from_slice(row.input_ids);
        self.input_mask
            .extend_from_slice(row.attention_mask.unwrap_or_default());
        self.segment_ids
            .extend_from_slice(row.token_type_ids.unwrap_or_default());
        self.positions.extend_from_slice(&predictions.positions);
        self.ids.extend_from_slice(&predictions.ids);
        self.next_sentence_labels.push(row.next_sentence_label);
    }

    /// Appends the rows gathered in `other` (a later row group).
    pub fn append(&mut self, other: Hdf5Columns) {
        self.input_ids.extend_from_slice(&other.input_ids);
        self.input_mask.extend_from_slice(&other.input_mask);
        self.segment_ids.extend_from_slice(&other.segment_ids);
        self.positions.extend_from_slice(&other.positions);
        self.ids.extend_from_slice(&other.ids);
        self.next_sentence_labels
            .extend_from_slice(&other.next_sentence_labels);
    }

    /// Writes the file `dir/name` under a temporary name. Each column is released as soon as
    /// the builder holds its copy.
    pub fn write(mut self, dir: &Path, name: &str) -> Result<Pending> {
        let n = self.next_sentence_labels.len() as u64;
        let (l, p) = (self.seq_len as u64, self.max_predictions as u64);
        let chunk = |width: u64, item: usize| {
            let rows = (CHUNK_BYTES / (width as usize * item).max(1)).max(1) as u64;
            [rows.min(n.max(1)), width]
        };
        let mut builder = FileBuilder::new();
        let level = self.gzip.then_some(GZIP_LEVEL);
        let finish = |d: &mut DatasetBuilder, shape: &[u64], chunks: &[u64]| {
            d.with_shape(shape).with_chunks(chunks);
            if let Some(level) = level {
                d.with_shuffle().with_deflate(level);
            }
        };
        let d = builder.create_dataset("input_ids");
        finish(
            d.with_i32_data(&take(&mut self.input_ids)),
            &[n, l],
            &chunk(l, 4),
        );
        let d = builder.create_dataset("input_mask");
        finish(
            d.with_i8_data(&take(&mut self.input_mask)),
            &[n, l],
            &chunk(l, 1),
        );
        let d = builder.create_dataset("segment_ids");
        finish(
            d.with_i8_data(&take(&mut self.segment_ids)),
            &[n, l],
            &chunk(l, 1),
        );
        let d = builder.create_dataset("masked_lm_positions");
        finish(
            d.with_i32_data(&take(&mut self.positions)),
            &[n, p],
            &chunk(p, 4),
        );
        let d = builder.create_dataset("masked_lm_ids");
        finish(d.with_i32_data(&take(&mut self.ids)), &[n, p], &chunk(p, 4));
        let d = builder.create_dataset("next_sentence_labels");
        let labels = take(&mut self.next_sentence_labels);
        finish(d.with_i8_data(&labels), &[n], &chunk(1, 1)[..1]);
        let mut out = HashingWriter::create(dir, name)?;
        builder
            .finish_to(&mut out)
            .map_err(|e| Error::output(dir.join(name), format!("writing HDF5: {e}")))?;
        out.finish(dir, name)
    }
}

/// One dataset read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    pub shape: Vec<u64>,
    /// The values, widened.
    pub values: Vec<i64>,
}

/// The datasets NVIDIA's loader reads from one file, in its key order (for checks and tests).
pub fn read_datasets(path: &Path) -> Result<Vec<Dataset>> {
    let bad = |e: hdf5_pure::Error| Error::output(path, format!("reading HDF5: {e}"));
    let file = hdf5_pure::File::open(path).map_err(bad)?;
    let keys = [
        ("input_ids", true),
        ("input_mask", false),
        ("segment_ids", false),
        ("masked_lm_positions", true),
        ("masked_lm_ids", true),
        ("next_sentence_labels", false),
    ];
    keys.iter()
        .map(|&(key, wide)| {
            let d = file.dataset(key).map_err(bad)?;
            let shape = d.shape().map_err(bad)?;
            let values: Vec<i64> = if wide {
                d.read_i32()
                    .map_err(bad)?
                    .into_iter()
                    .map(i64::from)
                    .collect()
            } else {
                d.read_i8()
                    .map_err(bad)?
                    .into_iter()
                    .map(i64::from)
                    .collect()
            };
            Ok(Dataset {
                name: key.to_string(),
                shape,
                values,
            })
        })
        .collect()
}
