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
//! Written with `rust-hdf5`, a pure-Rust HDF5 library (files h5py and the C library read), so
//! the build needs no C library. `N` is known before the first row (the source shard's row
//! count), so each dataset is created at its final shape and written a chunk at a time as rows
//! arrive: memory holds one chunk per dataset (about 1.5 MB), not the file.

use std::path::{Path, PathBuf};

use rust_hdf5::{H5Dataset, H5File};

use super::files::Pending;
use super::rows::Predictions;
use crate::error::{Error, Result};
use crate::output::layout;
use crate::shard::row::RowView;

/// gzip level, after the shuffle filter.
const GZIP_LEVEL: u32 = 1;

/// Target bytes of one chunk.
const CHUNK_BYTES: usize = 1 << 18;

/// One dataset being written: its rows gathered into the chunk they belong to.
struct Column {
    dataset: H5Dataset,
    /// Bytes of one row (its width times the item size).
    row_bytes: usize,
    /// Rows of one chunk.
    chunk_rows: usize,
    chunk: Vec<u8>,
    next_chunk: usize,
}

impl Column {
    /// Creates dataset `name` of `rows` rows of `width` items of type `T` (a 1-D dataset when
    /// `width` is `None`).
    fn create<T: rust_hdf5::H5Type>(
        file: &H5File,
        name: &str,
        rows: usize,
        width: Option<usize>,
        gzip: bool,
    ) -> rust_hdf5::Result<Column> {
        let item = std::mem::size_of::<T>();
        let w = width.unwrap_or(1).max(1);
        let chunk_rows = (CHUNK_BYTES / (w * item)).clamp(1, rows.max(1));
        let builder = file.new_dataset::<T>();
        let builder = match width {
            Some(w) => builder.shape([rows, w]).chunk(&[chunk_rows, w]),
            None => builder.shape([rows]).chunk(&[chunk_rows]),
        };
        let builder = if gzip {
            builder.shuffle_deflate(GZIP_LEVEL)
        } else {
            builder
        };
        Ok(Column {
            dataset: builder.create(name)?,
            row_bytes: w * item,
            chunk_rows,
            chunk: Vec::with_capacity(chunk_rows * w * item),
            next_chunk: 0,
        })
    }

    /// Adds whole rows' bytes; writes each chunk as it fills.
    fn append(&mut self, mut bytes: &[u8]) -> rust_hdf5::Result<()> {
        let full = self.chunk_rows * self.row_bytes;
        while !bytes.is_empty() {
            let take = (full - self.chunk.len()).min(bytes.len());
            self.chunk.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.chunk.len() == full {
                self.write_chunk()?;
            }
        }
        Ok(())
    }

    /// Writes the gathered rows as the next chunk, zero-padded to its full size (the rows past
    /// the dataset's end are outside its shape).
    fn write_chunk(&mut self) -> rust_hdf5::Result<()> {
        self.chunk.resize(self.chunk_rows * self.row_bytes, 0);
        self.dataset.write_chunk(self.next_chunk, &self.chunk)?;
        self.next_chunk += 1;
        self.chunk.clear();
        Ok(())
    }

    /// Writes the last, partial chunk, if any.
    fn finish(&mut self) -> rust_hdf5::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.write_chunk()
    }
}

/// Rows (of one row group) as the little-endian bytes of the six datasets, in their order.
#[derive(Debug, Default)]
pub struct Hdf5Rows {
    parts: [Vec<u8>; 6],
    rows: usize,
}

impl Hdf5Rows {
    /// Adds one row (already checked) and its predictions.
    pub fn push(&mut self, row: &RowView<'_>, predictions: &Predictions) {
        let [ids, mask, segments, positions, labels, pair] = &mut self.parts;
        let wide =
            |out: &mut Vec<u8>, v: &[i32]| out.extend(v.iter().flat_map(|x| x.to_le_bytes()));
        let narrow = |out: &mut Vec<u8>, v: &[i8]| out.extend(v.iter().map(|&x| x as u8));
        wide(ids, row.input_ids);
        narrow(mask, row.attention_mask.unwrap_or_default());
        narrow(segments, row.token_type_ids.unwrap_or_default());
        wide(positions, &predictions.positions);
        wide(labels, &predictions.ids);
        pair.push(row.next_sentence_label as u8);
        self.rows += 1;
    }
}

/// One source shard's HDF5 file, written as its rows arrive; dropped before
/// [`Hdf5Writer::finish`], its temporary file is removed.
pub struct Hdf5Writer {
    file: Option<H5File>,
    columns: Vec<Column>,
    tmp: PathBuf,
    dir: PathBuf,
    name: String,
    rows: usize,
    written: usize,
}

impl Hdf5Writer {
    /// Starts `dir/name` (under a temporary name) for `rows` rows of length `seq_len` with
    /// `max_predictions` prediction slots.
    pub fn create(
        dir: &Path,
        name: &str,
        rows: usize,
        seq_len: usize,
        max_predictions: usize,
        gzip: bool,
    ) -> Result<Hdf5Writer> {
        let tmp = layout::temp_path(&dir.join(name));
        let bad = |e: rust_hdf5::Hdf5Error| Error::output(&tmp, format!("writing HDF5: {e}"));
        let file = H5File::create(&tmp).map_err(bad)?;
        let mut writer = Hdf5Writer {
            file: None,
            columns: Vec::with_capacity(6),
            tmp: tmp.clone(),
            dir: dir.to_path_buf(),
            name: name.to_string(),
            rows,
            written: 0,
        };
        let (l, p) = (Some(seq_len), Some(max_predictions));
        writer.columns = vec![
            Column::create::<i32>(&file, "input_ids", rows, l, gzip),
            Column::create::<i8>(&file, "input_mask", rows, l, gzip),
            Column::create::<i8>(&file, "segment_ids", rows, l, gzip),
            Column::create::<i32>(&file, "masked_lm_positions", rows, p, gzip),
            Column::create::<i32>(&file, "masked_lm_ids", rows, p, gzip),
            Column::create::<i8>(&file, "next_sentence_labels", rows, None, gzip),
        ]
        .into_iter()
        .collect::<rust_hdf5::Result<_>>()
        .map_err(bad)?;
        writer.file = Some(file);
        Ok(writer)
    }

    /// Appends rows encoded by [`Hdf5Rows`], in order.
    pub fn append(&mut self, rows: &Hdf5Rows) -> Result<()> {
        if self.written + rows.rows > self.rows {
            return Err(Error::Internal(format!(
                "{}: more than the {} rows announced",
                self.name, self.rows
            )));
        }
        for i in 0..self.columns.len() {
            let appended = self.columns[i].append(&rows.parts[i]);
            appended.map_err(|e| self.error(e))?;
        }
        self.written += rows.rows;
        Ok(())
    }

    fn error(&self, e: rust_hdf5::Hdf5Error) -> Error {
        Error::output(&self.tmp, format!("writing HDF5: {e}"))
    }

    /// Writes the last chunks and closes the file: complete under its temporary name, hashed,
    /// to be renamed by [`Pending::commit`].
    pub fn finish(mut self) -> Result<Pending> {
        if self.written != self.rows {
            return Err(Error::Internal(format!(
                "{}: {} rows written of the {} announced",
                self.name, self.written, self.rows
            )));
        }
        for i in 0..self.columns.len() {
            let finished = self.columns[i].finish();
            finished.map_err(|e| self.error(e))?;
        }
        self.columns.clear();
        let file = self.file.take().expect("finished once");
        file.close().map_err(|e| self.error(e))?;
        Pending::from_written(&self.tmp, &self.dir, &self.name)
    }
}

impl Drop for Hdf5Writer {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            self.columns.clear();
            drop(file);
            let _ = std::fs::remove_file(&self.tmp);
        }
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
    let bad = |e: rust_hdf5::Hdf5Error| Error::output(path, format!("reading HDF5: {e}"));
    let file = H5File::open(path).map_err(bad)?;
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
            let shape = d.shape().into_iter().map(|n| n as u64).collect();
            let values: Vec<i64> = if wide {
                let v = d.read_raw::<i32>().map_err(bad)?;
                v.into_iter().map(i64::from).collect()
            } else {
                let v = d.read_raw::<i8>().map_err(bad)?;
                v.into_iter().map(i64::from).collect()
            };
            Ok(Dataset {
                name: key.to_string(),
                shape,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic row: ids, attention mask, segment ids, predictions.
    type Row = (Vec<i32>, Vec<i8>, Vec<i8>, Predictions);

    /// Row `i` of a synthetic shard: ids `i * 1000 + j`, a mask and segments from `i`.
    fn rows(n: usize, l: usize, p: usize) -> Vec<Row> {
        (0..n)
            .map(|i| {
                let ids = (0..l).map(|j| (i * 1000 + j) as i32).collect();
                let mask = (0..l).map(|j| i8::from(j < i % l + 1)).collect();
                let segments = (0..l).map(|j| i8::from(j > l / 2)).collect();
                let predictions = Predictions {
                    positions: (0..p).map(|k| (k * 2 + i % 3) as i32).collect(),
                    ids: (0..p).map(|k| (i + k) as i32).collect(),
                    count: p,
                };
                (ids, mask, segments, predictions)
            })
            .collect()
    }

    #[test]
    fn a_file_of_many_chunks_reads_back_row_for_row() {
        let dir = tempfile::tempdir().unwrap();
        // 512 rows per input_ids chunk at L = 128: three chunks, the last partial; row groups
        // of 300 rows cross chunk boundaries.
        let (n, l, p) = (1300, 128, 20);
        let data = rows(n, l, p);
        let mut writer = Hdf5Writer::create(dir.path(), "s_training.hdf5", n, l, p, true).unwrap();
        for group in data.chunks(300) {
            let mut encoded = Hdf5Rows::default();
            for (i, (ids, mask, segments, predictions)) in group.iter().enumerate() {
                let row = RowView {
                    input_ids: ids,
                    token_type_ids: Some(segments),
                    attention_mask: Some(mask),
                    labels: &[],
                    special_tokens_mask: None,
                    next_sentence_label: (i % 2) as i8,
                    num_tokens: l as i16,
                    source: 0,
                };
                encoded.push(&row, predictions);
            }
            writer.append(&encoded).unwrap();
        }
        let pending = writer.finish().unwrap();
        pending.commit().unwrap();
        let read = read_datasets(&dir.path().join("s_training.hdf5")).unwrap();
        let shapes: Vec<Vec<u64>> = read.iter().map(|d| d.shape.clone()).collect();
        let (n, l, p) = (n as u64, l as u64, p as u64);
        assert_eq!(
            shapes,
            [
                vec![n, l],
                vec![n, l],
                vec![n, l],
                vec![n, p],
                vec![n, p],
                vec![n]
            ]
        );
        let flat = |f: &dyn Fn(&Row) -> Vec<i64>| data.iter().flat_map(f).collect::<Vec<i64>>();
        let widen = |v: &[i32]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
        let widen8 = |v: &[i8]| v.iter().map(|&x| i64::from(x)).collect::<Vec<_>>();
        assert_eq!(read[0].values, flat(&|r| widen(&r.0)));
        assert_eq!(read[1].values, flat(&|r| widen8(&r.1)));
        assert_eq!(read[2].values, flat(&|r| widen8(&r.2)));
        assert_eq!(read[3].values, flat(&|r| widen(&r.3.positions)));
        assert_eq!(read[4].values, flat(&|r| widen(&r.3.ids)));
        let labels: Vec<i64> = data
            .chunks(300)
            .flat_map(|g| (0..g.len()).map(|i| (i % 2) as i64))
            .collect();
        assert_eq!(read[5].values, labels);
    }

    #[test]
    fn an_unfinished_or_short_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Hdf5Writer::create(dir.path(), "a_training.hdf5", 10, 8, 2, false).unwrap();
        drop(writer);
        let short = Hdf5Writer::create(dir.path(), "b_training.hdf5", 10, 8, 2, false).unwrap();
        let err = short.finish().unwrap_err().to_string();
        assert!(err.contains("0 rows written of the 10"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
