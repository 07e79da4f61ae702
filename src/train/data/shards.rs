//! Opening a shard directory and reading one row group at a time, checked.
//!
//! [`ShardSet::open`] reads `manifest.json` (its presence means the build finished; it also
//! gives the tokenizer's vocabulary size), lists the `shard-*.parquet` files in order, and
//! reads each footer once, checking the columns against [`crate::shard::arrow_schema`]. The
//! per-row-group row counts are known from the footers before any data is read.
//!
//! [`ShardSet::read`] decodes one row group into [`Rows`] (columnar, row `i` is a
//! [`RowRef`]) and checks every value against the model's [`Limits`] — token and label ids
//! inside the vocabulary, token types inside `type_vocab_size`, lengths within the position
//! table, `num_tokens` within the row, NSP labels 0/1, at least one label per row — so a bad
//! shard is a clear error naming the file and row group, never a panic or an out-of-range
//! embedding lookup.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{Array, Int16Array, Int32Array, Int8Array, ListArray, RecordBatch};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, MANIFEST_FILE, TOKENIZER_FILE};
use crate::shard::{check_columns, column, is_shard_name, IGNORE_LABEL};
use crate::train::batch::RowRef;

/// What the model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub vocab_size: usize,
    pub type_vocab_size: usize,
    pub max_positions: usize,
}

/// One shard file and its footer.
#[derive(Debug, Clone)]
pub struct ShardFile {
    pub path: PathBuf,
    meta: ArrowReaderMetadata,
    /// Rows of each row group.
    pub row_groups: Vec<usize>,
}

/// The shards of one `bertprep build` output directory.
#[derive(Debug, Clone)]
pub struct ShardSet {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub files: Vec<ShardFile>,
}

impl ShardSet {
    /// Opens `dir`: manifest, shard list, footers and schemas.
    pub fn open(dir: &Path) -> Result<ShardSet> {
        if !dir.join(MANIFEST_FILE).is_file() {
            return Err(Error::Config(format!(
                "{} has no {MANIFEST_FILE}: not a finished `bertprep build` output",
                dir.display()
            )));
        }
        let manifest = Manifest::read(dir)?;
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_shard_name(n))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(Error::NoInput(format!(
                "{} (no shard-*.parquet files)",
                dir.display()
            )));
        }
        let files = names
            .iter()
            .map(|n| ShardFile::open(&dir.join(n)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ShardSet {
            dir: dir.to_path_buf(),
            manifest,
            files,
        })
    }

    /// The tokenizer file beside the shards.
    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join(TOKENIZER_FILE)
    }

    /// Vocabulary size of the tokenizer the shards were built with.
    pub fn vocab_size(&self) -> usize {
        self.manifest.tokenizer.vocab_size
    }

    /// Padded row length of the build.
    pub fn max_seq_len(&self) -> usize {
        self.manifest.config.max_seq_len
    }

    /// Checks the build against the model before any row is read.
    pub fn check(&self, limits: Limits) -> Result<()> {
        if self.vocab_size() > limits.vocab_size {
            return Err(Error::Config(format!(
                "{}: the tokenizer has {} entries but the model's vocabulary is {}",
                self.dir.join(MANIFEST_FILE).display(),
                self.vocab_size(),
                limits.vocab_size
            )));
        }
        if self.max_seq_len() > limits.max_positions {
            return Err(Error::Config(format!(
                "{}: rows are {} long but the model has {} positions",
                self.dir.join(MANIFEST_FILE).display(),
                self.max_seq_len(),
                limits.max_positions
            )));
        }
        Ok(())
    }

    /// Total rows.
    pub fn rows(&self) -> usize {
        self.files.iter().flat_map(|f| &f.row_groups).sum()
    }

    /// Reads row group `group` of shard `shard`, checked against `limits`.
    pub fn read(&self, shard: usize, group: usize, limits: Limits) -> Result<Rows> {
        let file = self
            .files
            .get(shard)
            .ok_or_else(|| Error::Config(format!("no shard number {shard}")))?;
        file.read(group, limits)
    }
}

impl ShardFile {
    fn open(path: &Path) -> Result<ShardFile> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
            .map_err(|e| Error::parquet(path, format!("not a readable Parquet file: {e}")))?;
        check_columns(path, meta.schema())?;
        let row_groups = meta
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.num_rows().max(0) as usize)
            .collect();
        Ok(ShardFile {
            path: path.to_path_buf(),
            meta,
            row_groups,
        })
    }

    fn read(&self, group: usize, limits: Limits) -> Result<Rows> {
        let path = &self.path;
        let at = |e: String| Error::parquet(path, format!("row group {group}: {e}"));
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let rows = self.row_groups.get(group).copied().unwrap_or(0);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.meta.clone())
            .with_row_groups(vec![group])
            .with_batch_size(rows.max(1))
            .build()
            .map_err(|e| at(e.to_string()))?;
        let mut out = Rows::default();
        for batch in reader {
            let batch = batch.map_err(|e| at(e.to_string()))?;
            out.append(&batch).map_err(at)?;
        }
        out.check(limits).map_err(at)?;
        Ok(out)
    }
}

/// Decoded rows, stored column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Start of each row in the list columns, plus the end.
    starts: Vec<usize>,
    input_ids: Vec<i32>,
    token_type_ids: Vec<i8>,
    attention_mask: Vec<i8>,
    labels: Vec<i32>,
    next_sentence_label: Vec<i8>,
    num_tokens: Vec<i16>,
}

/// The list column's offsets and its flat values.
fn list<'a, T: 'static>(
    batch: &'a RecordBatch,
    name: &str,
) -> std::result::Result<(&'a [i32], &'a T), String> {
    let list = column::<ListArray>(batch, name)?;
    let values = list
        .values()
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| format!("column {name} has an unexpected item type"))?;
    Ok((list.value_offsets(), values))
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.num_tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.num_tokens.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> RowRef<'_> {
        let (a, b) = (self.starts[i], self.starts[i + 1]);
        RowRef {
            input_ids: &self.input_ids[a..b],
            token_type_ids: &self.token_type_ids[a..b],
            attention_mask: &self.attention_mask[a..b],
            labels: &self.labels[a..b],
            next_sentence_label: self.next_sentence_label[i],
            num_tokens: self.num_tokens[i],
        }
    }

    /// Appends the rows `keep` selects (all when `None`) from `other`.
    pub fn extend_from(&mut self, other: &Rows, keep: Option<&[bool]>) {
        for i in 0..other.len() {
            if keep.is_some_and(|k| !k[i]) {
                continue;
            }
            self.push(other.row(i));
        }
    }

    fn append(&mut self, batch: &RecordBatch) -> std::result::Result<(), String> {
        let (ids_off, ids) = list::<Int32Array>(batch, "input_ids")?;
        let (types_off, types) = list::<Int8Array>(batch, "token_type_ids")?;
        let (mask_off, mask) = list::<Int8Array>(batch, "attention_mask")?;
        let (labels_off, labels) = list::<Int32Array>(batch, "labels")?;
        if ids_off != types_off || ids_off != mask_off || ids_off != labels_off {
            return Err("list columns of one row differ in length".into());
        }
        let nsp = column::<Int8Array>(batch, "next_sentence_label")?;
        let num = column::<Int16Array>(batch, "num_tokens")?;
        for c in [
            ids.null_count(),
            types.null_count(),
            mask.null_count(),
            labels.null_count(),
            nsp.null_count(),
            num.null_count(),
        ] {
            if c > 0 {
                return Err("null values".into());
            }
        }
        let (first, last) = (ids_off[0] as usize, ids_off[ids_off.len() - 1] as usize);
        let base = self.input_ids.len();
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.starts
            .extend(ids_off[1..].iter().map(|&o| base + o as usize - first));
        self.input_ids.extend_from_slice(&ids.values()[first..last]);
        self.token_type_ids
            .extend_from_slice(&types.values()[first..last]);
        self.attention_mask
            .extend_from_slice(&mask.values()[first..last]);
        self.labels.extend_from_slice(&labels.values()[first..last]);
        self.next_sentence_label.extend_from_slice(nsp.values());
        self.num_tokens.extend_from_slice(num.values());
        Ok(())
    }

    /// Every value within what the model accepts.
    fn check(&self, limits: Limits) -> std::result::Result<(), String> {
        let vocab = limits.vocab_size as i32;
        for i in 0..self.len() {
            let r = self.row(i);
            let len = r.input_ids.len();
            if len == 0 || len > limits.max_positions {
                return Err(format!(
                    "row {i} is {len} long; the model has {} positions",
                    limits.max_positions
                ));
            }
            let n = r.num_tokens;
            if n < 1 || n as usize > len {
                return Err(format!("row {i}: num_tokens {n} outside 1..={len}"));
            }
            if let Some(&t) = r.input_ids.iter().find(|&&t| t < 0 || t >= vocab) {
                return Err(format!(
                    "row {i}: token id {t} outside the model's vocabulary of {vocab}"
                ));
            }
            if let Some(&t) = r
                .token_type_ids
                .iter()
                .find(|&&t| t < 0 || t as usize >= limits.type_vocab_size)
            {
                return Err(format!("row {i}: token type {t} outside the model's types"));
            }
            let mut labelled = 0;
            for (j, &l) in r.labels.iter().enumerate() {
                if l == IGNORE_LABEL {
                    continue;
                }
                if l < 0 || l >= vocab {
                    return Err(format!(
                        "row {i}: label {l} outside the model's vocabulary of {vocab}"
                    ));
                }
                if j >= n as usize {
                    return Err(format!("row {i}: label at padding position {j}"));
                }
                labelled += 1;
            }
            if labelled == 0 {
                return Err(format!("row {i} has no masked-LM label"));
            }
            if !matches!(r.next_sentence_label, 0 | 1) {
                return Err(format!(
                    "row {i}: next_sentence_label {} is not 0 or 1",
                    r.next_sentence_label
                ));
            }
        }
        Ok(())
    }
}

impl Rows {
    /// Appends one row.
    pub fn push(&mut self, r: RowRef<'_>) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        self.input_ids.extend_from_slice(r.input_ids);
        self.token_type_ids.extend_from_slice(r.token_type_ids);
        self.attention_mask.extend_from_slice(r.attention_mask);
        self.labels.extend_from_slice(r.labels);
        self.next_sentence_label.push(r.next_sentence_label);
        self.num_tokens.push(r.num_tokens);
        self.starts.push(self.input_ids.len());
    }

    /// Every row, in order.
    pub fn refs(&self) -> Vec<RowRef<'_>> {
        (0..self.len()).map(|i| self.row(i)).collect()
    }
}
