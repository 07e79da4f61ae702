//! Writing shards: instances in, padded zstd Parquet files out.
//!
//! [`ShardWriter`] writes `shard-0000.parquet`, `shard-0001.parquet`, ... (names from
//! [`crate::output::layout`]) under a hidden temporary name and renames each only once it is
//! complete and synced, so a file named `shard-*.parquet` is never partial. Row groups are
//! encoded by [`RowGroupJob`]s, which a caller may run on other threads; the bytes written do not
//! depend on where they ran.

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Int16Array, Int32Array, Int8Array, ListArray, RecordBatch, UInt64Array,
};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{ArrowError, DataType, SchemaRef};
use crossbeam_channel::Receiver;
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use sha2::{Digest, Sha256};

use super::meta::ShardMeta;
use super::row::{pad_row, PaddedColumns, RowLayout};
use super::schema::{
    arrow_schema_for, RowForm, ATTENTION_MASK, INPUT_IDS, LABELS, NEXT_SENTENCE_LABEL, NUM_TOKENS,
    SENTENCE_ORDER_LABEL, SOURCE, SPECIAL_TOKENS_MASK, TOKEN_TYPE_IDS,
};
use crate::error::{Error, Result};
use crate::instances::Instance;
use crate::output::layout::{self, Task};
use crate::output::manifest::ShardEntry;
use crate::tokenize::hex;

/// Moves a column's values out, leaving it empty.
fn take<T>(values: &mut Vec<T>) -> Vec<T> {
    std::mem::take(values)
}

/// One row group to encode: the rows, padded into columns, and the settings to encode them with.
///
/// Encoding is pure and independent of other row groups, so a caller may run many jobs on
/// other threads (see [`ShardWriter::with_encoder`]); the writer appends the results in order.
pub struct RowGroupJob {
    instances: Vec<Instance>,
    writers: Vec<ArrowColumnWriter>,
    layout: RowLayout,
    schema: SchemaRef,
}

/// An encoded row group, ready to append.
pub struct EncodedRowGroup(Vec<ArrowColumnChunk>);

impl RowGroupJob {
    /// Pads the instances into columns and encodes and compresses them.
    pub fn encode(self) -> Result<EncodedRowGroup> {
        let failed = |what: &str, e: &dyn std::fmt::Display| {
            Error::Internal(format!("row-group encoding: {what}: {e}"))
        };
        let batch = to_batch(&self.instances, &self.layout, &self.schema)
            .map_err(|e| failed("padding", &e))?;
        drop(self.instances);
        let mut writers = self.writers.into_iter();
        let mut chunks = Vec::new();
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column).map_err(|e| failed("leaves", &e))? {
                let mut writer = writers
                    .next()
                    .ok_or_else(|| failed("writers", &"more leaves than column writers"))?;
                writer.write(&leaf).map_err(|e| failed("encoding", &e))?;
                chunks.push(writer.close().map_err(|e| failed("compression", &e))?);
            }
        }
        Ok(EncodedRowGroup(chunks))
    }
}

/// The result of one row-group job, as delivered by an [`Encoder`].
pub type Encoded = Result<EncodedRowGroup>;

/// Starts a row-group job and returns where its result will arrive. The job may run on another
/// thread; [`inline_encoder`] runs it at once.
pub type Encoder<'a> = Box<dyn Fn(RowGroupJob) -> Receiver<Encoded> + 'a>;

/// An [`Encoder`] that encodes on the calling thread before returning.
pub fn inline_encoder<'a>() -> Encoder<'a> {
    Box::new(|job| {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let _ = tx.send(job.encode());
        rx
    })
}

/// Writes instances into numbered shards of `rows_per_shard` rows.
///
/// Rows are cut into row groups of `row_group_rows` (counted from the start of each shard) as
/// they arrive; each group is handed to the [`Encoder`] at once and appended to the file in
/// order once encoded, with up to `in_flight` groups started and not yet appended. The bytes
/// written depend on neither the encoder nor `in_flight`.
pub struct ShardWriter<'a> {
    dir: PathBuf,
    rows_per_shard: usize,
    row_group_rows: usize,
    in_flight: usize,
    encoder: Encoder<'a>,
    layout: RowLayout,
    schema: SchemaRef,
    props: WriterProperties,
    task: Option<Task>,
    pending: Vec<Instance>,
    /// Rows still to be pushed, when the caller said how many ([`ShardWriter::with_total`]).
    to_come: Option<u64>,
    open: Option<OpenShard>,
    finished: Vec<ShardEntry>,
}

impl std::fmt::Debug for ShardWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardWriter")
            .field("dir", &self.dir)
            .field("pending", &self.pending.len())
            .field("finished", &self.finished.len())
            .finish()
    }
}

type Sink = HashingWriter<BufWriter<File>>;

struct OpenShard {
    tmp: PathBuf,
    path: PathBuf,
    name: String,
    /// Rows handed to the encoder.
    rows: usize,
    /// Row groups handed to the encoder.
    row_groups: usize,
    /// Started row groups, oldest first, not yet appended.
    encoding: VecDeque<Receiver<Encoded>>,
    factory: ArrowRowGroupWriterFactory,
    writer: Option<SerializedFileWriter<Sink>>,
    /// The temporary file again, to start writing it back while it grows.
    file: File,
}

impl Drop for OpenShard {
    fn drop(&mut self) {
        // Reached with a writer only when the shard was abandoned (an error): leave nothing.
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl OpenShard {
    /// Waits for the oldest started row group and appends it to the file.
    fn append_oldest(&mut self) -> Result<()> {
        let Some(rx) = self.encoding.pop_front() else {
            return Ok(());
        };
        let tmp = &self.tmp;
        let EncodedRowGroup(chunks) = rx
            .recv()
            .map_err(|_| {
                Error::Internal(format!(
                    "{}: a row-group encoder stopped without a result",
                    tmp.display()
                ))
            })?
            .map_err(|e| Error::parquet_source(tmp, "encoding a row group", e))?;
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        let mut row_group = writer
            .next_row_group()
            .map_err(|e| Error::parquet_source(tmp, "writing", e))?;
        for chunk in chunks {
            chunk
                .append_to_row_group(&mut row_group)
                .map_err(|e| Error::parquet_source(tmp, "writing", e))?;
        }
        row_group
            .close()
            .map_err(|e| Error::parquet_source(tmp, "writing", e))?;
        start_writeback(&self.file);
        Ok(())
    }
}

/// Asks the kernel to start writing `file`'s dirty pages to disk without waiting, so that the
/// sync when the shard is closed finds little left to write (at the end of a build nothing
/// else runs beside it). Only a hint: a failure shows at that sync.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for the duration of the call; the call reads no
        // memory of ours.
        unsafe {
            libc::sync_file_range(file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

impl<'a> ShardWriter<'a> {
    /// A writer into `dir` (which must exist) naming shards `shard-0000.parquet`, ...
    pub fn new(dir: &Path, meta: &ShardMeta) -> Result<Self> {
        Self::resume(dir, meta, None, Vec::new())
    }

    /// A writer of `task`'s shards ([`layout::shard_name`]) that continues after `finished`,
    /// the shards an earlier run of the same build completed.
    pub fn resume(
        dir: &Path,
        meta: &ShardMeta,
        task: Option<Task>,
        finished: Vec<ShardEntry>,
    ) -> Result<Self> {
        let config = &meta.config;
        let (schema, props) = schema_and_properties(meta)?;
        Ok(ShardWriter {
            dir: dir.to_path_buf(),
            rows_per_shard: config.rows_per_shard,
            row_group_rows: config.row_group_rows.min(config.rows_per_shard),
            in_flight: 1,
            encoder: inline_encoder(),
            layout: RowLayout {
                max_seq_len: config.max_seq_len,
                form: RowForm::of(config),
                specials: meta.specials,
            },
            schema,
            props,
            task,
            pending: Vec::new(),
            to_come: None,
            open: None,
            finished,
        })
    }

    /// Tells the writer that exactly `rows` more rows will be pushed, so that the last shard's
    /// last two row groups split its remaining rows evenly, like every full shard's: the
    /// build's last groups are encoded side by side instead of a full group alone after a small
    /// one. Groups depend only on row counts, so the bytes do not depend on what encodes them.
    #[must_use]
    pub fn with_total(mut self, rows: u64) -> Self {
        self.to_come = Some(rows);
        self
    }

    /// Hands row groups to `encoder` (which may run them on other threads), with up to
    /// `in_flight` of them started and not yet appended.
    #[must_use]
    pub fn with_encoder(mut self, in_flight: usize, encoder: Encoder<'a>) -> Self {
        self.in_flight = in_flight.max(1);
        self.encoder = encoder;
        self
    }

    /// Queues one instance; starts a row group when one is full (or the shard is).
    pub fn push(&mut self, instance: Instance) -> Result<()> {
        self.pending.push(instance);
        if let Some(n) = self.to_come.as_mut() {
            *n = n.saturating_sub(1);
        }
        if self.pending.len() >= self.group_rows() {
            self.start_group()?;
        }
        Ok(())
    }

    /// Rows of the row group being filled: `row_group_rows`, or what is left of the shard when
    /// that is less, or half of it when it is between one and two groups (the shard's end is
    /// known from its size, or from the total rows when the last shard is smaller).
    fn group_rows(&self) -> usize {
        let room = self.rows_per_shard - self.open.as_ref().map_or(0, |s| s.rows);
        let left = match self.to_come {
            Some(n) => room.min(
                self.pending
                    .len()
                    .saturating_add(usize::try_from(n).unwrap_or(usize::MAX)),
            ),
            None => room,
        };
        let full = self.row_group_rows;
        if left > full && left < 2 * full {
            left.div_ceil(2)
        } else {
            full.min(left)
        }
    }

    /// Hands the queued instances to the encoder as the open shard's next row group, first
    /// appending the oldest started group when `in_flight` are already started; closes the
    /// shard once it has all its rows.
    fn start_group(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        if self.open.is_none() {
            self.open_shard()?;
        }
        let Some(shard) = self.open.as_mut() else {
            return Ok(());
        };
        while shard.encoding.len() >= self.in_flight {
            shard.append_oldest()?;
        }
        let writers = shard
            .factory
            .create_column_writers(shard.row_groups)
            .map_err(|e| Error::parquet_source(&shard.tmp, "writing", e))?;
        let instances = std::mem::take(&mut self.pending);
        shard.rows += instances.len();
        shard.row_groups += 1;
        shard.encoding.push_back((self.encoder)(RowGroupJob {
            instances,
            writers,
            layout: self.layout,
            schema: self.schema.clone(),
        }));
        if shard.rows >= self.rows_per_shard {
            self.close_shard()?;
        }
        Ok(())
    }

    fn open_shard(&mut self) -> Result<()> {
        let name = layout::shard_name(self.task, self.finished.len());
        let path = self.dir.join(&name);
        let tmp = layout::temp_path(&path);
        let file = layout::create_new(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let writeback = file.try_clone().map_err(|e| Error::io(&tmp, e))?;
        let sink = HashingWriter::new(BufWriter::with_capacity(1 << 20, file));
        let (writer, factory) =
            ArrowWriter::try_new(sink, self.schema.clone(), Some(self.props.clone()))
                .and_then(ArrowWriter::into_serialized_writer)
                .map_err(|e| Error::parquet_source(&tmp, "writing", e))?;
        self.open = Some(OpenShard {
            tmp,
            path,
            name,
            rows: 0,
            row_groups: 0,
            encoding: VecDeque::new(),
            factory,
            writer: Some(writer),
            file: writeback,
        });
        Ok(())
    }

    fn close_shard(&mut self) -> Result<()> {
        let Some(mut shard) = self.open.take() else {
            return Ok(());
        };
        while !shard.encoding.is_empty() {
            shard.append_oldest()?;
        }
        let Some(writer) = shard.writer.take() else {
            return Ok(());
        };
        let tmp = shard.tmp.clone();
        let result = (|| {
            let sink = writer
                .into_inner()
                .map_err(|e| Error::parquet_source(&tmp, "writing", e))?;
            let (buf, digest, bytes) = sink.finish();
            let file = buf
                .into_inner()
                .map_err(|e| Error::io(&tmp, e.into_error()))?;
            file.sync_all().map_err(|e| Error::io(&tmp, e))?;
            drop(file);
            std::fs::rename(&tmp, &shard.path).map_err(|e| Error::io(&shard.path, e))?;
            Ok(ShardEntry {
                file: shard.name.clone(),
                rows: shard.rows as u64,
                bytes,
                sha256: digest,
            })
        })();
        match result {
            Ok(entry) => {
                self.finished.push(entry);
                Ok(())
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    /// Shards finished so far, the resumed ones included.
    pub fn finished(&self) -> &[ShardEntry] {
        &self.finished
    }

    /// Gives up: removes the shard being written and every shard finished (the resumed ones
    /// included), so a failed build leaves nothing behind.
    pub fn abort(mut self) {
        self.open = None; // Dropping an open shard removes its temporary file.
        for entry in &self.finished {
            let _ = std::fs::remove_file(self.dir.join(&entry.file));
        }
    }

    /// Writes what is queued, closes the last shard and returns every shard written.
    pub fn finish(mut self) -> Result<Vec<ShardEntry>> {
        self.start_group()?;
        self.close_shard()?;
        Ok(std::mem::take(&mut self.finished))
    }
}

/// The Arrow schema (with the `bertprep.*` metadata) and the Parquet writer settings of the
/// shards of a build: what every shard file is written with.
pub fn schema_and_properties(meta: &ShardMeta) -> Result<(SchemaRef, WriterProperties)> {
    let config = &meta.config;
    let pairs = meta.key_values()?;
    // In the Parquet footer and in the embedded Arrow schema, so both Parquet readers and
    // `pyarrow.parquet.read_table(...).schema.metadata` see it.
    let kv: Vec<KeyValue> = pairs
        .iter()
        .map(|(k, v)| KeyValue::new(k.to_string(), v.clone()))
        .collect();
    let schema_meta: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let schema = Arc::new(
        arrow_schema_for(RowForm::of(config))
            .as_ref()
            .clone()
            .with_metadata(schema_meta),
    );
    let level = ZstdLevel::try_new(config.zstd_level)
        .map_err(|e| Error::Config(format!("--zstd-level: {e}")))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(level))
        .set_max_row_group_row_count(Some(config.row_group_rows))
        .set_key_value_metadata(Some(kv))
        .set_created_by(format!("bertprep {}", env!("CARGO_PKG_VERSION")))
        // Plain encoding then zstd: dictionary-encoding every token id made a whole build
        // at 512 1.7x slower for ~4% smaller files.
        .set_dictionary_enabled(false);
    // No min/max statistics for the padded token lists: no reader filters on them, and
    // computing them took 3% of a build. The scalar columns keep theirs.
    let props = schema
        .fields()
        .iter()
        .filter(|f| matches!(f.data_type(), DataType::List(_)))
        .fold(props, |props, f| {
            let path = ColumnPath::new(vec![f.name().clone(), "list".into(), "item".into()]);
            props.set_column_statistics_enabled(path, EnabledStatistics::None)
        })
        .build();
    Ok((schema, props))
}

/// A `Write` that hashes and counts what passes through it.
pub(crate) struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> HashingWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, the hex SHA-256 and the count of the bytes written.
    pub(crate) fn finish(self) -> (W, String, u64) {
        (self.inner, hex(&self.hasher.finalize()), self.bytes)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Pads `instances` into a record batch (each row by [`pad_row`]), the columns of `schema`.
pub fn to_batch(
    instances: &[Instance],
    layout: &RowLayout,
    schema: &SchemaRef,
) -> std::result::Result<RecordBatch, arrow_schema::ArrowError> {
    let n = instances.len();
    let mut padded = PaddedColumns::with_capacity(n * layout.max_seq_len);
    for inst in instances {
        pad_row(inst, layout, &mut padded);
    }
    let offsets = OffsetBuffer::<i32>::from_lengths(instances.iter().map(|i| layout.width(i)));
    let list = |name: &str, values: ArrayRef| -> std::result::Result<ArrayRef, ArrowError> {
        let field = schema.field_with_name(name)?;
        let DataType::List(item) = field.data_type() else {
            return Err(ArrowError::SchemaError(format!("{name} is not a list")));
        };
        Ok(Arc::new(ListArray::try_new(
            item.clone(),
            offsets.clone(),
            values,
            None,
        )?))
    };
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let name = field.name().as_str();
        let column: ArrayRef = match name {
            INPUT_IDS => list(
                name,
                Arc::new(Int32Array::from(take(&mut padded.input_ids))),
            )?,
            TOKEN_TYPE_IDS => list(
                name,
                Arc::new(Int8Array::from(take(&mut padded.token_type_ids))),
            )?,
            ATTENTION_MASK => list(
                name,
                Arc::new(Int8Array::from(take(&mut padded.attention_mask))),
            )?,
            LABELS => list(name, Arc::new(Int32Array::from(take(&mut padded.labels))))?,
            SPECIAL_TOKENS_MASK => list(
                name,
                Arc::new(Int8Array::from(take(&mut padded.special_tokens_mask))),
            )?,
            NEXT_SENTENCE_LABEL | SENTENCE_ORDER_LABEL => Arc::new(Int8Array::from_iter_values(
                instances.iter().map(|i| i8::from(i.pair_label)),
            )),
            NUM_TOKENS => Arc::new(Int16Array::from_iter_values(
                instances.iter().map(|i| i.input_ids.len() as i16),
            )),
            SOURCE => Arc::new(UInt64Array::from_iter_values(
                instances.iter().map(|i| i.source),
            )),
            other => {
                return Err(ArrowError::SchemaError(format!(
                    "no values for column {other}"
                )))
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new(schema.clone(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BuildConfig;
    use crate::output::layout::{is_shard_name, shard_name};
    use crate::shard::meta::{META_CONFIG, META_SCHEMA_VERSION, META_TOKENIZER_SHA256};
    use crate::shard::reader::read_shard;
    use crate::shard::row::ShardRow;
    use crate::shard::schema::IGNORE_LABEL;
    use crate::tokenize::SpecialTokens;
    use arrow_schema::{Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    fn instance(ids: &[u32], a_len: usize, preds: &[(u32, u32)], random: bool) -> Instance {
        Instance {
            input_ids: ids.to_vec(),
            segment_a_len: a_len,
            predictions: preds.to_vec(),
            pair_label: random,
            source: 7 << 32 | 3,
        }
    }

    fn test_meta(config: BuildConfig) -> ShardMeta {
        ShardMeta {
            config,
            tokenizer_sha256: "cd".repeat(32),
            specials: SpecialTokens::BERT,
        }
    }

    /// Shards of 10 rows in row groups of 3, rows of up to 16 tokens.
    fn ten_row_shards() -> ShardMeta {
        test_meta(BuildConfig {
            max_seq_len: 16,
            rows_per_shard: 10,
            row_group_rows: 3,
            ..BuildConfig::default()
        })
    }

    /// Every file of `dir`, sorted by name, with its bytes.
    fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                (name, std::fs::read(e.path()).unwrap())
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn encoding_on_other_threads_out_of_order_writes_the_same_bytes() {
        let meta = ten_row_shards();
        let instances: Vec<Instance> = (0..23u32)
            .map(|i| {
                let ids: Vec<u32> = (0..4 + i % 9).map(|k| 1000 + i * 7 + k).collect();
                instance(&ids, 2, &[(1, 5 + i)], i % 3 == 0)
            })
            .collect();
        let write = |in_flight: Option<usize>| {
            let dir = tempfile::tempdir().unwrap();
            let mut writer = ShardWriter::new(dir.path(), &meta).unwrap();
            if let Some(n) = in_flight {
                let started = std::sync::atomic::AtomicU64::new(0);
                // Each job on its own thread, earlier ones sleeping longer: they finish in
                // reverse order of submission.
                writer = writer.with_encoder(
                    n,
                    Box::new(move |job| {
                        let k = started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let (tx, rx) = crossbeam_channel::bounded(1);
                        std::thread::spawn(move || {
                            std::thread::sleep(std::time::Duration::from_millis(2 * (4 - k % 4)));
                            let _ = tx.send(job.encode());
                        });
                        rx
                    }),
                );
            }
            for inst in &instances {
                writer.push(inst.clone()).unwrap();
            }
            let shards = writer.finish().unwrap();
            assert_eq!(
                shards.iter().map(|s| s.rows).collect::<Vec<_>>(),
                [10, 10, 3]
            );
            files(dir.path())
        };
        let inline = write(None);
        assert_eq!(inline.len(), 3);
        for n in [1, 2, 3, 8] {
            assert!(write(Some(n)) == inline, "{n} row groups in flight");
        }
    }

    #[test]
    fn last_rows_of_a_shard_are_split_evenly() {
        let meta = ten_row_shards();
        let groups = |total: Option<u64>| {
            let dir = tempfile::tempdir().unwrap();
            let mut writer = ShardWriter::new(dir.path(), &meta).unwrap();
            if let Some(n) = total {
                writer = writer.with_total(n);
            }
            for i in 0..24u32 {
                writer
                    .push(instance(&[101, 1000 + i, 102], 2, &[(1, 7)], false))
                    .unwrap();
            }
            writer
                .finish()
                .unwrap()
                .iter()
                .map(|s| {
                    let file = File::open(dir.path().join(&s.file)).unwrap();
                    let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
                    let meta = reader.metadata();
                    (0..meta.num_row_groups())
                        .map(|g| meta.row_group(g).num_rows())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        // A shard's end is known from its size; the last shard's only from the total.
        let full = [vec![3, 3, 2, 2], vec![3, 3, 2, 2]];
        assert_eq!(groups(None), [&full[..], &[vec![3, 1]]].concat());
        assert_eq!(groups(Some(24)), [&full[..], &[vec![2, 2]]].concat());
    }

    #[test]
    fn a_failed_row_group_leaves_no_file() {
        let meta = test_meta(BuildConfig {
            max_seq_len: 8,
            rows_per_shard: 4,
            row_group_rows: 2,
            ..BuildConfig::default()
        });
        let dir = tempfile::tempdir().unwrap();
        let started = std::sync::atomic::AtomicU64::new(0);
        // The third row group's encoder goes away without a result.
        let mut writer = ShardWriter::new(dir.path(), &meta).unwrap().with_encoder(
            2,
            Box::new(move |job| {
                let (tx, rx) = crossbeam_channel::bounded(1);
                if started.fetch_add(1, std::sync::atomic::Ordering::SeqCst) != 2 {
                    let _ = tx.send(job.encode());
                }
                rx
            }),
        );
        let mut result = Ok(());
        for i in 0..8u32 {
            result =
                result.and_then(|_| writer.push(instance(&[101, 2000 + i, 102], 2, &[], false)));
        }
        let err = result
            .and_then(|_| writer.finish().map(|_| ()))
            .unwrap_err();
        assert!(err.to_string().contains("without a result"), "{err}");
        assert!(err.to_string().contains(".shard-0001.parquet."), "{err}");
        // The first shard was complete; the failed one left no temporary file.
        let names: Vec<String> = files(dir.path()).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["shard-0000.parquet"]);
    }

    #[test]
    fn round_trips_through_parquet_with_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let config = BuildConfig {
            max_seq_len: 12,
            rows_per_shard: 3,
            row_group_rows: 2,
            ..BuildConfig::default()
        };
        let meta = test_meta(config.clone());
        let instances: Vec<Instance> = (0..7)
            .map(|i| {
                instance(
                    &[101, 2000 + i, 103, 102, 2050, 2051, 102],
                    4,
                    &[(2, 2001), (5, 2051)],
                    i % 2 == 0,
                )
            })
            .collect();
        let mut writer = ShardWriter::new(dir.path(), &meta).unwrap();
        for inst in &instances {
            writer.push(inst.clone()).unwrap();
        }
        let shards = writer.finish().unwrap();
        let rows: Vec<u64> = shards.iter().map(|s| s.rows).collect();
        assert_eq!(rows, [3, 3, 1]);
        let mut read_back = Vec::new();
        for (i, entry) in shards.iter().enumerate() {
            assert_eq!(entry.file, shard_name(None, i));
            let bytes = std::fs::read(dir.path().join(&entry.file)).unwrap();
            assert_eq!(entry.bytes, bytes.len() as u64);
            assert_eq!(entry.sha256, hex(&Sha256::digest(&bytes)));
            let contents = read_shard(&dir.path().join(&entry.file)).unwrap();
            assert_eq!(contents.metadata[META_SCHEMA_VERSION], "2");
            assert_eq!(contents.metadata[META_TOKENIZER_SHA256], "cd".repeat(32));
            let back: BuildConfig = serde_json::from_str(&contents.metadata[META_CONFIG]).unwrap();
            assert_eq!(back, config);
            read_back.extend(contents.rows);
        }
        let expected: Vec<ShardRow> = instances
            .iter()
            .map(|i| {
                let layout = RowLayout {
                    max_seq_len: 12,
                    form: RowForm::BERT,
                    specials: crate::tokenize::SpecialTokens {
                        pad: 0,
                        ..meta.specials
                    },
                };
                ShardRow::from_instance(i, &layout)
            })
            .collect();
        assert_eq!(read_back, expected);
        let row = &read_back[0];
        assert_eq!(row.token_type_ids, [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
        assert_eq!(row.attention_mask, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
        assert_eq!(row.labels[2], 2001);
        assert_eq!(row.labels[0], IGNORE_LABEL);
        assert_eq!(row.num_tokens, 7);
        assert_eq!(row.source, 7 << 32 | 3);
        // No temporary file is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| is_shard_name(n)), "{names:?}");
    }

    #[test]
    fn foreign_parquet_names_missing_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.parquet");
        let schema = Arc::new(Schema::new(vec![Field::new(
            "text",
            DataType::Int32,
            false,
        )]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int32Array::from(vec![1, 2]))])
                .unwrap();
        let mut w = ArrowWriter::try_new(File::create(&path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let err = read_shard(&path).unwrap_err().to_string();
        assert!(
            err.contains("other.parquet") && err.contains("missing column input_ids"),
            "{err}"
        );
        std::fs::write(&path, b"not parquet at all").unwrap();
        let err = read_shard(&path).unwrap_err().to_string();
        assert!(err.contains("other.parquet"), "{err}");
    }
}
