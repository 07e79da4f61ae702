//! `finalize --rebalance R`: the shards of a `--tasks` build rewritten into shards of exactly
//! `R` rows (the last one shorter), each drawn evenly from every task.
//!
//! Tasks write shards of their own sizes; a multi-rank loader wants equal shards. Row `j` of
//! task `t` (of `n_t` rows, in the task's shard order) takes the place `(j + ½) / n_t` in
//! `[0, 1)`, and rows are written in the order of their places (ties by task): every stretch of
//! the output holds each task's rows in proportion to its size, and each task's rows stay in
//! their order (already shuffled by the build). The order depends only on the row counts.
//!
//! Streaming and bounded memory: each task is read [`READ_ROWS`] rows at a time through the
//! one shard reader, rows are gathered column by column (`arrow_select::interleave`) into row
//! groups and written with the build's own schema, metadata and writer settings. The new shards
//! are staged in `.bertprep-finalize/` with a state file recording every finished one, so a
//! killed rebalance resumes after its last finished shard (the rows before it are read again,
//! not written) and writes the same bytes. The input shards' checksums were verified by
//! `finalize` before; only once every new shard is staged are they renamed in, `manifest.json`
//! written, and the tasks' shards and parts removed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ArrowWriter;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::output::atomic::write_atomic;
use crate::output::layout::{self, MANIFEST_FILE};
use crate::output::manifest::{Manifest, ShardEntry};
use crate::shard::writer::{schema_and_properties, HashingWriter};
use crate::shard::ShardMeta;

/// Rows read from a task at a time.
pub const READ_ROWS: usize = 64;

const STATE_FILE: &str = "state.json";

/// What a rebalance in progress has done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RebalanceState {
    /// Rows per new shard.
    rows: u64,
    /// SHA-256 of every input shard, in order: the same inputs, or start over.
    inputs: Vec<String>,
    /// New shards finished (staged).
    shards: Vec<ShardEntry>,
}

/// Rewrites the shards of the joined manifest `merged` of `dir` into shards of `rows` rows and
/// writes `manifest.json`; returns it.
pub fn rebalance(dir: &Path, mut merged: Manifest, rows: u64) -> Result<Manifest> {
    if rows == 0 {
        return Err(Error::Config(
            "--rebalance needs at least 1 row per shard".into(),
        ));
    }
    let staging = layout::finalize_dir(dir);
    std::fs::create_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
    let state_path = staging.join(STATE_FILE);
    let inputs: Vec<String> = merged.shards.iter().map(|s| s.sha256.clone()).collect();
    let mut state = read_state(&state_path)
        .filter(|s| s.rows == rows && s.inputs == inputs)
        .unwrap_or(RebalanceState {
            rows,
            inputs,
            shards: Vec::new(),
        });
    // A staged shard must still be there as recorded.
    while let Some(last) = state.shards.last() {
        if last.verify(&staging, true).is_ok() {
            break;
        }
        state.shards.pop();
    }
    let meta = ShardMeta {
        config: merged.config.clone(),
        tokenizer_sha256: merged.tokenizer.sha256.clone(),
        specials: merged.tokenizer.special_tokens,
    };
    let mut merge = Interleave::new(dir, &merged.shards)?;
    let total = merge.total;
    merge.skip(state.shards.len() as u64 * rows)?;
    let group_rows = (merged.config.row_group_rows as u64).min(rows) as usize;
    while merge.done < total {
        let index = state.shards.len();
        let name = layout::shard_name(None, index);
        let count = rows.min(total - merge.done);
        let entry = write_shard(&staging, &name, &meta, &mut merge, count, group_rows)?;
        state.shards.push(entry);
        let json = serde_json::to_vec_pretty(&state)
            .map_err(|e| Error::Internal(format!("rebalance state to JSON: {e}")))?;
        write_atomic(&state_path, &json)?;
    }
    // Every new shard is staged: in with them, then the manifest, then the tasks' files out.
    let old: Vec<String> = merged.shards.iter().map(|s| s.file.clone()).collect();
    for shard in &state.shards {
        let to = dir.join(&shard.file);
        std::fs::rename(staging.join(&shard.file), &to).map_err(|e| Error::io(&to, e))?;
    }
    merged.shards = state.shards;
    merged.rebalanced_rows = Some(rows);
    merged.write_file(&dir.join(MANIFEST_FILE))?;
    remove_task_files(dir, &old)?;
    let _ = std::fs::remove_file(&state_path);
    let _ = std::fs::remove_dir(&staging);
    Ok(merged)
}

/// Removes the tasks' shards `old` and every manifest part of `dir`.
pub fn remove_task_files(dir: &Path, old: &[String]) -> Result<()> {
    for name in old {
        if layout::shard_task(name).is_some() {
            let path = dir.join(name);
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(&path, e))
                }
                _ => {}
            }
        }
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        if layout::part_index(&entry.file_name().to_string_lossy()).is_some() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

fn read_state(path: &Path) -> Option<RebalanceState> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the next `count` rows of `merge` as shard `name` in `staging`, in row groups of
/// `group_rows`; returns its entry.
fn write_shard(
    staging: &Path,
    name: &str,
    meta: &ShardMeta,
    merge: &mut Interleave,
    count: u64,
    group_rows: usize,
) -> Result<ShardEntry> {
    let path = staging.join(name);
    let tmp = layout::temp_path(&path);
    let result = (|| {
        let (schema, props) = schema_and_properties(meta)?;
        let file = layout::create_new(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let sink = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        let mut writer = ArrowWriter::try_new(sink, schema.clone(), Some(props))
            .map_err(|e| Error::parquet_source(&tmp, "writing", e))?;
        let mut left = count;
        while left > 0 {
            let n = (group_rows as u64).min(left) as usize;
            let batch = merge.next_rows(n)?;
            let batch = batch
                .with_schema(schema.clone())
                .map_err(|e| Error::parquet(&tmp, format!("rows do not fit the schema: {e}")))?;
            writer
                .write(&batch)
                .map_err(|e| Error::parquet_source(&tmp, "writing", e))?;
            writer
                .flush()
                .map_err(|e| Error::parquet_source(&tmp, "writing", e))?;
            left -= n as u64;
        }
        let (buf, sha256, bytes) = writer
            .into_inner()
            .map_err(|e| Error::parquet_source(&tmp, "writing", e))?
            .finish();
        let file = buf
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(file);
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(ShardEntry {
            file: name.to_string(),
            rows: count,
            bytes,
            sha256,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// One task's rows, read a few at a time from its shards in order.
struct TaskRows {
    files: Vec<PathBuf>,
    next_file: usize,
    reader: Option<ParquetRecordBatchReader>,
    /// Index in [`Interleave::pool`] of the batch being read, and the next row in it.
    current: Option<(usize, usize)>,
    rows: u64,
}

/// The next row of every task, by place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Next {
    task: usize,
    row: u64,
    of: u64,
}

impl Ord for Next {
    /// Reversed (for a min-heap): the smaller place `(row + ½) / of` first, then the task.
    fn cmp(&self, other: &Self) -> Ordering {
        let mine = u128::from(2 * self.row + 1) * u128::from(other.of);
        let theirs = u128::from(2 * other.row + 1) * u128::from(self.of);
        theirs.cmp(&mine).then_with(|| other.task.cmp(&self.task))
    }
}

impl PartialOrd for Next {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Every task's rows, merged by place.
struct Interleave {
    tasks: Vec<TaskRows>,
    heap: BinaryHeap<Next>,
    /// Batches the rows being gathered come from.
    pool: Vec<RecordBatch>,
    total: u64,
    done: u64,
}

impl Interleave {
    /// The rows of `shards` (a joined manifest's, in task order) of `dir`.
    fn new(dir: &Path, shards: &[ShardEntry]) -> Result<Interleave> {
        let mut tasks: Vec<TaskRows> = Vec::new();
        let mut last_task = None;
        for shard in shards {
            let task = layout::shard_task(&shard.file);
            if task.is_none() || task != last_task || tasks.is_empty() {
                tasks.push(TaskRows {
                    files: Vec::new(),
                    next_file: 0,
                    reader: None,
                    current: None,
                    rows: 0,
                });
                last_task = task;
            }
            let t = tasks.last_mut().expect("pushed above");
            t.files.push(dir.join(&shard.file));
            t.rows += shard.rows;
        }
        super::limits::ensure_open_task_shards(tasks.len() as u64)?;
        let heap = tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.rows > 0)
            .map(|(task, t)| Next {
                task,
                row: 0,
                of: t.rows,
            })
            .collect();
        Ok(Interleave {
            total: tasks.iter().map(|t| t.rows).sum(),
            tasks,
            heap,
            pool: Vec::new(),
            done: 0,
        })
    }

    /// Passes over the next `n` rows (written before a resume).
    fn skip(&mut self, n: u64) -> Result<()> {
        for _ in 0..n {
            self.take_row()?;
            self.release();
        }
        Ok(())
    }

    /// The next `n` rows, gathered into one batch.
    fn next_rows(&mut self, n: usize) -> Result<RecordBatch> {
        let mut picks = Vec::with_capacity(n);
        for _ in 0..n {
            picks.push(self.take_row()?);
        }
        let first = &self.pool[picks[0].0];
        let schema = first.schema();
        let mut columns = Vec::with_capacity(first.num_columns());
        for c in 0..first.num_columns() {
            let arrays: Vec<&dyn Array> = self.pool.iter().map(|b| b.column(c).as_ref()).collect();
            columns.push(
                arrow_select::interleave::interleave(&arrays, &picks)
                    .map_err(|e| Error::Internal(format!("gathering rows: {e}")))?,
            );
        }
        self.release();
        RecordBatch::try_new(schema, columns)
            .map_err(|e| Error::Internal(format!("gathering rows: {e}")))
    }

    /// Drops the pool's batches but those still being read.
    fn release(&mut self) {
        let mut kept = Vec::new();
        for task in &mut self.tasks {
            if let Some((batch, row)) = task.current {
                task.current = Some((kept.len(), row));
                kept.push(self.pool[batch].clone());
            }
        }
        self.pool = kept;
    }

    /// The next row in place order: `(batch in the pool, row in it)`.
    fn take_row(&mut self) -> Result<(usize, usize)> {
        let next = self
            .heap
            .pop()
            .ok_or_else(|| Error::Internal("rebalance ran out of rows".into()))?;
        if next.row + 1 < next.of {
            self.heap.push(Next {
                row: next.row + 1,
                ..next
            });
        }
        self.done += 1;
        let task = &mut self.tasks[next.task];
        loop {
            if let Some((batch, row)) = task.current {
                if row < self.pool[batch].num_rows() {
                    task.current = Some((batch, row + 1));
                    return Ok((batch, row));
                }
                task.current = None;
            }
            let batch = next_batch(task)?;
            task.current = Some((self.pool.len(), 0));
            self.pool.push(batch);
        }
    }
}

/// The task's next batch of rows, opening its next shard when one ends.
fn next_batch(task: &mut TaskRows) -> Result<RecordBatch> {
    loop {
        if let Some(reader) = task.reader.as_mut() {
            let path = &task.files[task.next_file - 1];
            match reader.next() {
                Some(batch) => {
                    return batch.map_err(|e| Error::parquet_source(path, "reading rows", e))
                }
                None => task.reader = None,
            }
        }
        let path = task
            .files
            .get(task.next_file)
            .ok_or_else(|| Error::Internal("a task has fewer rows than its manifest says".into()))?
            .clone();
        task.next_file += 1;
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(READ_ROWS).build())
            .map_err(|e| Error::parquet_source(&path, "reading rows", e))?;
        task.reader = Some(reader);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_interleave_tasks_in_proportion() {
        let counts = [6u64, 2, 3];
        let mut heap: BinaryHeap<Next> = counts
            .iter()
            .enumerate()
            .map(|(task, &of)| Next { task, row: 0, of })
            .collect();
        let mut order = Vec::new();
        while let Some(n) = heap.pop() {
            order.push(n.task);
            if n.row + 1 < n.of {
                heap.push(Next {
                    row: n.row + 1,
                    ..n
                });
            }
        }
        // Places: task 0 at 1/12, 3/12, ...; task 1 at 1/4, 3/4; task 2 at 1/6, 1/2, 5/6.
        assert_eq!(order, [0, 2, 0, 1, 0, 2, 0, 0, 1, 2, 0]);
    }
}
