//! Reading one shard as a stream of rows, with bounded memory.
//!
//! [`ShardFile::open`] reads only the Parquet footer: row and row-group counts, compression, the
//! `bertprep.*` key-value metadata and the Arrow schema, which it holds to
//! [`crate::shard::schema_problems`]. It tells apart a file that is not Parquet at all (no `PAR1`
//! magic at the start), one cut short (magic at the start, none at the end) and Parquet from
//! another program (naming the missing or mistyped columns).
//!
//! [`ShardFile::batches`] then yields [`Batch`]es of at most [`BATCH_ROWS`] rows; the Parquet
//! reader decodes one row group's column chunks at a time, so memory is bounded by the row-group
//! size whatever the file size. A [`Batch`] lends each row as a [`RowView`] of slices into the
//! Arrow buffers: nothing is copied per row. Without [`Columns::All`] the two int8 columns that
//! only the invariant check needs (`token_type_ids`, `attention_mask`) are not even decoded.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use arrow_array::{Array, Int16Array, Int32Array, Int8Array, ListArray, RecordBatch, UInt64Array};
use arrow_buffer::{ArrowNativeType, OffsetBuffer, ScalarBuffer};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::Compression;

use crate::error::{Error, Result};
use crate::shard::{check_columns, column, key_value_metadata};

/// Rows per decoded batch.
pub const BATCH_ROWS: usize = 1024;

const MAGIC: &[u8; 4] = b"PAR1";

/// Which columns to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// What statistics and decoding need: all but `token_type_ids` and `attention_mask`.
    Stats,
    /// Every column (the invariant check).
    All,
}

/// An opened shard: its footer facts, ready to stream rows.
#[derive(Debug, Clone)]
pub struct ShardFile {
    /// Where it is.
    pub path: PathBuf,
    /// Size on disk.
    pub bytes: u64,
    /// Rows, from the footer.
    pub rows: u64,
    /// Rows in each row group, from the footer.
    pub row_group_rows: Vec<u64>,
    /// Compression codecs of its column chunks, e.g. `zstd`.
    pub compression: Vec<String>,
    /// The writer's `created_by`, e.g. `bertprep 0.1.0`.
    pub created_by: Option<String>,
    /// Key-value metadata, Arrow's own `ARROW:` keys left out.
    pub metadata: BTreeMap<String, String>,
    reader_meta: ArrowReaderMetadata,
}

impl ShardFile {
    /// Opens `path` and reads its footer; an error names the file and what is wrong with it.
    pub fn open(path: &Path) -> Result<ShardFile> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let bytes = file.metadata().map_err(|e| Error::io(path, e))?.len();
        check_magic(path, &mut file, bytes)?;
        let reader_meta =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
                Error::parquet(path, format!("unreadable Parquet footer (corrupt?): {e}"))
            })?;
        check_columns(path, reader_meta.schema())?;
        let meta = reader_meta.metadata();
        let file_meta = meta.file_metadata();
        let metadata = key_value_metadata(file_meta);
        let row_group_rows: Vec<u64> = meta
            .row_groups()
            .iter()
            .map(|g| g.num_rows().max(0) as u64)
            .collect();
        let mut compression: Vec<String> = meta
            .row_groups()
            .iter()
            .flat_map(|g| g.columns().iter().map(|c| codec_name(c.compression())))
            .collect();
        compression.sort();
        compression.dedup();
        Ok(ShardFile {
            path: path.to_path_buf(),
            bytes,
            rows: row_group_rows.iter().sum(),
            row_group_rows,
            compression,
            created_by: file_meta.created_by().map(str::to_string),
            metadata,
            reader_meta,
        })
    }

    /// Row groups in the file.
    pub fn row_groups(&self) -> usize {
        self.row_group_rows.len()
    }

    /// Streams the file's rows in batches.
    pub fn batches(&self, columns: Columns) -> Result<Batches> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let schema = self.reader_meta.schema();
        let wanted: &[&str] = match columns {
            Columns::All => &[
                "input_ids",
                "token_type_ids",
                "attention_mask",
                "labels",
                "next_sentence_label",
                "num_tokens",
                "source",
            ],
            Columns::Stats => &[
                "input_ids",
                "labels",
                "next_sentence_label",
                "num_tokens",
                "source",
            ],
        };
        let roots = wanted.iter().filter_map(|name| schema.index_of(name).ok());
        let mask = ProjectionMask::roots(self.reader_meta.parquet_schema(), roots);
        let inner =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.reader_meta.clone())
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| Error::parquet(&self.path, e))?;
        Ok(Batches {
            path: self.path.clone(),
            inner,
        })
    }
}

/// Reads the first and last four bytes: `PAR1` must be at both ends.
fn check_magic(path: &Path, file: &mut File, bytes: u64) -> Result<()> {
    let io = |e| Error::io(path, e);
    let mut head = [0u8; 4];
    let has_head = bytes >= 4 && file.read_exact(&mut head).is_ok() && &head == MAGIC;
    if !has_head {
        return Err(Error::parquet(
            path,
            "not a Parquet file (it does not start with the PAR1 magic bytes)",
        ));
    }
    let mut tail = [0u8; 4];
    let has_tail = bytes >= 12 && {
        file.seek(SeekFrom::End(-4)).map_err(io)?;
        file.read_exact(&mut tail).map_err(io)?;
        &tail == MAGIC
    };
    if !has_tail {
        return Err(Error::parquet(
            path,
            format!(
                "truncated Parquet file: it starts like Parquet but its footer is missing \
                 ({bytes} bytes, no PAR1 magic at the end); was it cut short while written or copied?"
            ),
        ));
    }
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    Ok(())
}

fn codec_name(c: Compression) -> String {
    match c {
        Compression::UNCOMPRESSED => "none".into(),
        Compression::SNAPPY => "snappy".into(),
        Compression::GZIP(_) => "gzip".into(),
        Compression::LZO => "lzo".into(),
        Compression::BROTLI(_) => "brotli".into(),
        Compression::LZ4 => "lz4".into(),
        Compression::ZSTD(_) => "zstd".into(),
        Compression::LZ4_RAW => "lz4_raw".into(),
    }
}

/// Iterator over a shard's rows in [`Batch`]es.
pub struct Batches {
    path: PathBuf,
    inner: ParquetRecordBatchReader,
}

impl Iterator for Batches {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.inner.next()?;
        Some(
            batch
                .map_err(|e| Error::parquet(&self.path, format!("cannot decode rows: {e}")))
                .and_then(|b| Batch::new(&b).map_err(|e| Error::parquet(&self.path, e))),
        )
    }
}

/// One list column: per-row slices into one values buffer.
#[derive(Debug, Clone)]
struct ListColumn<T: ArrowNativeType> {
    offsets: OffsetBuffer<i32>,
    values: ScalarBuffer<T>,
    nulls: usize,
}

impl<T: ArrowNativeType> ListColumn<T> {
    fn row(&self, row: usize) -> &[T] {
        let (Some(&start), Some(&end)) = (self.offsets.get(row), self.offsets.get(row + 1)) else {
            return &[];
        };
        self.values
            .get(start.max(0) as usize..end.max(0) as usize)
            .unwrap_or(&[])
    }
}

/// Decoded rows of one batch.
#[derive(Debug, Clone)]
pub struct Batch {
    input_ids: ListColumn<i32>,
    token_type_ids: Option<ListColumn<i8>>,
    attention_mask: Option<ListColumn<i8>>,
    labels: ListColumn<i32>,
    next_sentence_label: ScalarBuffer<i8>,
    num_tokens: ScalarBuffer<i16>,
    source: ScalarBuffer<u64>,
    rows: usize,
    nulls: usize,
}

impl Batch {
    fn new(batch: &RecordBatch) -> std::result::Result<Batch, String> {
        fn list<T, A>(batch: &RecordBatch, name: &str) -> std::result::Result<ListColumn<T>, String>
        where
            T: ArrowNativeType,
            A: Array + 'static + Values<T>,
        {
            let list = batch
                .column_by_name(name)
                .and_then(|c| c.as_any().downcast_ref::<ListArray>())
                .ok_or_else(|| format!("column {name} is not a list"))?;
            let values = list
                .values()
                .as_any()
                .downcast_ref::<A>()
                .ok_or_else(|| format!("column {name} has an unexpected item type"))?;
            Ok(ListColumn {
                offsets: list.offsets().clone(),
                values: values.scalars(),
                nulls: list.null_count() + values.null_count(),
            })
        }
        fn scalar<T, A>(
            batch: &RecordBatch,
            name: &str,
        ) -> std::result::Result<(ScalarBuffer<T>, usize), String>
        where
            T: ArrowNativeType,
            A: Array + 'static + Values<T>,
        {
            let array = column::<A>(batch, name)?;
            Ok((array.scalars(), array.null_count()))
        }
        let optional = |name: &str| -> std::result::Result<Option<ListColumn<i8>>, String> {
            match batch.column_by_name(name) {
                None => Ok(None),
                Some(_) => list::<i8, Int8Array>(batch, name).map(Some),
            }
        };
        let input_ids = list::<i32, Int32Array>(batch, "input_ids")?;
        let labels = list::<i32, Int32Array>(batch, "labels")?;
        let token_type_ids = optional("token_type_ids")?;
        let attention_mask = optional("attention_mask")?;
        let (next_sentence_label, n1) = scalar::<i8, Int8Array>(batch, "next_sentence_label")?;
        let (num_tokens, n2) = scalar::<i16, Int16Array>(batch, "num_tokens")?;
        let (source, n3) = scalar::<u64, UInt64Array>(batch, "source")?;
        let nulls = input_ids.nulls
            + labels.nulls
            + token_type_ids.as_ref().map_or(0, |c| c.nulls)
            + attention_mask.as_ref().map_or(0, |c| c.nulls)
            + n1
            + n2
            + n3;
        Ok(Batch {
            input_ids,
            token_type_ids,
            attention_mask,
            labels,
            next_sentence_label,
            num_tokens,
            source,
            rows: batch.num_rows(),
            nulls,
        })
    }

    /// Rows in the batch.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Null entries in the batch's columns (a bertprep shard has none).
    pub fn nulls(&self) -> usize {
        self.nulls
    }

    /// Row `i` of the batch (`i < len()`).
    pub fn row(&self, i: usize) -> RowView<'_> {
        RowView {
            input_ids: self.input_ids.row(i),
            token_type_ids: self.token_type_ids.as_ref().map(|c| c.row(i)),
            attention_mask: self.attention_mask.as_ref().map(|c| c.row(i)),
            labels: self.labels.row(i),
            next_sentence_label: self.next_sentence_label.get(i).copied().unwrap_or(-1),
            num_tokens: self.num_tokens.get(i).copied().unwrap_or(-1),
            source: self.source.get(i).copied().unwrap_or(0),
        }
    }
}

/// Typed values of a primitive Arrow array.
trait Values<T: ArrowNativeType> {
    fn scalars(&self) -> ScalarBuffer<T>;
}

macro_rules! values {
    ($array:ty, $t:ty) => {
        impl Values<$t> for $array {
            fn scalars(&self) -> ScalarBuffer<$t> {
                self.values().clone()
            }
        }
    };
}
values!(Int8Array, i8);
values!(Int16Array, i16);
values!(Int32Array, i32);
values!(UInt64Array, u64);

/// One row as stored, borrowed from a [`Batch`] (or from a [`crate::shard::ShardRow`]).
///
/// Lists may have any length here: nothing is trusted until [`super::check`] says so.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    pub input_ids: &'a [i32],
    /// `None` when the column was not decoded ([`Columns::Stats`]).
    pub token_type_ids: Option<&'a [i8]>,
    /// `None` when the column was not decoded ([`Columns::Stats`]).
    pub attention_mask: Option<&'a [i8]>,
    pub labels: &'a [i32],
    pub next_sentence_label: i8,
    pub num_tokens: i16,
    pub source: u64,
}

impl<'a> RowView<'a> {
    /// A view of a row read by [`crate::shard::read_shard`].
    pub fn of(row: &'a crate::shard::ShardRow) -> RowView<'a> {
        RowView {
            input_ids: &row.input_ids,
            token_type_ids: Some(&row.token_type_ids),
            attention_mask: Some(&row.attention_mask),
            labels: &row.labels,
            next_sentence_label: row.next_sentence_label,
            num_tokens: row.num_tokens,
            source: row.source,
        }
    }

    /// The real length, clamped to the stored list (safe to slice with).
    pub fn len(&self) -> usize {
        (self.num_tokens.max(0) as usize).min(self.input_ids.len())
    }

    /// Whether the row has no real tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An owned copy (for the few rows that are shown decoded).
    pub fn to_owned(&self) -> crate::shard::ShardRow {
        crate::shard::ShardRow {
            input_ids: self.input_ids.to_vec(),
            token_type_ids: self.token_type_ids.map(<[i8]>::to_vec).unwrap_or_default(),
            attention_mask: self.attention_mask.map(<[i8]>::to_vec).unwrap_or_default(),
            labels: self.labels.to_vec(),
            next_sentence_label: self.next_sentence_label,
            num_tokens: self.num_tokens,
            source: self.source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_non_parquet_from_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.parquet");
        std::fs::write(&path, b"hello, I am text").unwrap();
        let err = ShardFile::open(&path).unwrap_err().to_string();
        assert!(
            err.contains("x.parquet") && err.contains("not a Parquet file"),
            "{err}"
        );
        std::fs::write(&path, b"PAR1 and then the file stops").unwrap();
        let err = ShardFile::open(&path).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        std::fs::write(&path, b"").unwrap();
        let err = ShardFile::open(&path).unwrap_err().to_string();
        assert!(err.contains("not a Parquet file"), "{err}");
    }
}
