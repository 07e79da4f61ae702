//! The one shard reader: a shard as a stream of rows, with bounded memory. `inspect`,
//! `bert-train` and the tests all read shards through it.
//!
//! [`ShardFile::open`] reads only the Parquet footer: row and row-group counts, compression, the
//! `bertprep.*` key-value metadata and the Arrow schema, which it holds to
//! [`super::schema::schema_problems`]. It tells apart a file that is not Parquet at all (no `PAR1`
//! magic at the start), one cut short (magic at the start, none at the end) and Parquet from
//! another program (naming the missing or mistyped columns).
//!
//! [`ShardFile::batches`] then yields [`Batch`]es of at most [`BATCH_ROWS`] rows; the Parquet
//! reader decodes one row group's column chunks at a time, so memory is bounded by the row-group
//! size whatever the file size; [`ShardFile::row_group`] decodes one chosen row group (what a
//! trainer's shuffled plan asks for). A [`Batch`] lends each row as a [`RowView`] of slices into the
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

use super::meta::{key_value_metadata, ShardMetadata};
use super::row::{RowView, ShardRow, NO_PAIR_LABEL};
use super::schema::{
    check_columns, column, ATTENTION_MASK, COLUMNS, INPUT_IDS, LABELS, NEXT_SENTENCE_LABEL,
    NUM_TOKENS, SENTENCE_ORDER_LABEL, SOURCE, SPECIAL_TOKENS_MASK, TOKEN_TYPE_IDS,
};
use crate::error::{Error, Result};

/// Rows per decoded batch.
pub const BATCH_ROWS: usize = 1024;

const MAGIC: &[u8; 4] = b"PAR1";

/// Every column either objective's shards may hold (a file's missing ones are skipped).
const ALL_COLUMNS: [&str; 9] = [
    COLUMNS[0],
    COLUMNS[1],
    COLUMNS[2],
    COLUMNS[3],
    SPECIAL_TOKENS_MASK,
    COLUMNS[4],
    SENTENCE_ORDER_LABEL,
    COLUMNS[5],
    COLUMNS[6],
];

/// Which columns to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// What statistics and decoding need: all but `token_type_ids` and `attention_mask`.
    Stats,
    /// Every column (the invariant check, training).
    All,
}

impl Columns {
    /// The column names decoded.
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Columns::All => &ALL_COLUMNS,
            Columns::Stats => &[
                INPUT_IDS,
                LABELS,
                SPECIAL_TOKENS_MASK,
                NEXT_SENTENCE_LABEL,
                SENTENCE_ORDER_LABEL,
                NUM_TOKENS,
                SOURCE,
            ],
        }
    }
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
        let roots = columns
            .names()
            .iter()
            .filter_map(|name| schema.index_of(name).ok());
        let mask = ProjectionMask::roots(self.reader_meta.parquet_schema(), roots);
        let inner =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.reader_meta.clone())
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| Error::parquet_source(&self.path, "cannot read rows", e))?;
        Ok(Batches {
            path: self.path.clone(),
            inner,
        })
    }

    /// Decodes row group `group` whole, as one batch of every column.
    pub fn row_group(&self, group: usize) -> Result<Batch> {
        let path = &self.path;
        let doing = format!("row group {group}");
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let rows = self.row_group_rows.get(group).copied().ok_or_else(|| {
            Error::parquet(
                path,
                format!("{doing}: the file has {} row groups", self.row_groups()),
            )
        })?;
        let reader =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.reader_meta.clone())
                .with_row_groups(vec![group])
                .with_batch_size((rows as usize).max(1))
                .build()
                .map_err(|e| Error::parquet_source(path, &doing, e))?;
        let mut decoded = None;
        for batch in reader {
            let batch = batch.map_err(|e| Error::parquet_source(path, &doing, e))?;
            if decoded.is_some() {
                return Err(Error::parquet(
                    path,
                    format!("{doing}: more rows than the footer says"),
                ));
            }
            decoded = Some(Batch::new(path, &batch)?);
        }
        decoded.ok_or_else(|| Error::parquet(path, format!("{doing}: no rows")))
    }

    /// The `bertprep.*` metadata, parsed.
    pub fn shard_metadata(&self) -> ShardMetadata {
        ShardMetadata::parse(&self.metadata)
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
                .map_err(|e| Error::parquet_source(&self.path, "cannot decode rows", e))
                .and_then(|b| Batch::new(&self.path, &b)),
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
    labels: Option<ListColumn<i32>>,
    special_tokens_mask: Option<ListColumn<i8>>,
    next_sentence_label: Option<ScalarBuffer<i8>>,
    num_tokens: ScalarBuffer<i16>,
    source: ScalarBuffer<u64>,
    rows: usize,
    nulls: usize,
}

impl Batch {
    fn new(path: &Path, batch: &RecordBatch) -> Result<Batch> {
        let bad = |message: String| Error::parquet(path, message);
        let list_of = |name: &str| -> Result<&ListArray> {
            column::<ListArray>(batch, name).map_err(|e| bad(e.to_string()))
        };
        fn values<T, A>(path: &Path, list: &ListArray, name: &str) -> Result<ListColumn<T>>
        where
            T: ArrowNativeType,
            A: Array + 'static + Values<T>,
        {
            let values = list.values().as_any().downcast_ref::<A>().ok_or_else(|| {
                Error::parquet(path, format!("column {name} has an unexpected item type"))
            })?;
            Ok(ListColumn {
                offsets: list.offsets().clone(),
                values: values.scalars(),
                nulls: list.null_count() + values.null_count(),
            })
        }
        fn scalar<T, A>(
            path: &Path,
            batch: &RecordBatch,
            name: &str,
        ) -> Result<(ScalarBuffer<T>, usize)>
        where
            T: ArrowNativeType,
            A: Array + 'static + Values<T>,
        {
            let array =
                column::<A>(batch, name).map_err(|e| Error::parquet(path, e.to_string()))?;
            Ok((array.scalars(), array.null_count()))
        }
        let optional = |name: &str| -> Result<Option<ListColumn<i8>>> {
            match batch.column_by_name(name) {
                None => Ok(None),
                Some(_) => values::<i8, Int8Array>(path, list_of(name)?, name).map(Some),
            }
        };
        let input_ids = values::<i32, Int32Array>(path, list_of(INPUT_IDS)?, INPUT_IDS)?;
        // Static masking stores labels; dynamic masking a special-tokens mask instead.
        let labels = match batch.column_by_name(LABELS) {
            None => None,
            Some(_) => Some(values::<i32, Int32Array>(path, list_of(LABELS)?, LABELS)?),
        };
        let special_tokens_mask = optional(SPECIAL_TOKENS_MASK)?;
        let token_type_ids = optional(TOKEN_TYPE_IDS)?;
        let attention_mask = optional(ATTENTION_MASK)?;
        // The pair label under either objective's name; none under `--objective none`.
        let pair_label = [NEXT_SENTENCE_LABEL, SENTENCE_ORDER_LABEL]
            .into_iter()
            .find(|name| batch.column_by_name(name).is_some())
            .map(|name| scalar::<i8, Int8Array>(path, batch, name))
            .transpose()?;
        let (num_tokens, n2) = scalar::<i16, Int16Array>(path, batch, NUM_TOKENS)?;
        let (source, n3) = scalar::<u64, UInt64Array>(path, batch, SOURCE)?;
        let nulls = input_ids.nulls
            + labels.as_ref().map_or(0, |c| c.nulls)
            + special_tokens_mask.as_ref().map_or(0, |c| c.nulls)
            + token_type_ids.as_ref().map_or(0, |c| c.nulls)
            + attention_mask.as_ref().map_or(0, |c| c.nulls)
            + pair_label.as_ref().map_or(0, |p| p.1)
            + n2
            + n3;
        Ok(Batch {
            input_ids,
            token_type_ids,
            attention_mask,
            labels,
            special_tokens_mask,
            next_sentence_label: pair_label.map(|p| p.0),
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
            labels: self.labels.as_ref().map_or(&[], |c| c.row(i)),
            special_tokens_mask: self.special_tokens_mask.as_ref().map(|c| c.row(i)),
            next_sentence_label: self
                .next_sentence_label
                .as_ref()
                .map_or(NO_PAIR_LABEL, |l| l.get(i).copied().unwrap_or(-1)),
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

/// A whole shard read back: its key-value metadata and rows (for tests and small tools; large
/// shards are better streamed with [`ShardFile::batches`]).
#[derive(Debug, Clone)]
pub struct ShardContents {
    pub metadata: BTreeMap<String, String>,
    pub row_groups: usize,
    pub rows: Vec<ShardRow>,
}

/// Reads a whole shard, checking that it is one.
pub fn read_shard(path: &Path) -> Result<ShardContents> {
    let shard = ShardFile::open(path)?;
    let mut rows = Vec::with_capacity(shard.rows as usize);
    for batch in shard.batches(Columns::All)? {
        let batch = batch?;
        rows.extend((0..batch.len()).map(|i| batch.row(i).to_owned()));
    }
    Ok(ShardContents {
        row_groups: shard.row_groups(),
        metadata: shard.metadata,
        rows,
    })
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
