//! Parquet input: a string column of a Parquet file (Hugging Face dataset dumps), one document
//! per row.
//!
//! A Parquet file is recognised by its magic bytes (`PAR1`), whatever it is called. Only the
//! text column (`text`, or `--text-column`) is read, row group by row group, so memory stays at
//! one record batch. Rows are handed on as JSON lines (`{"text": ...}`, one per row, line `n` =
//! row `n`), so the rest of the pipeline treats them like [`super::Format::Jsonl`]: a null or
//! blank value is an empty document, and document indices are row numbers. A missing or
//! non-string column is an error naming the file and the column. A file in object storage is
//! read by range requests: its footer, then the text column's chunks.

use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::ChunkReader;

use crate::error::{Error, Result};

/// The column read when none is named.
pub const DEFAULT_TEXT_COLUMN: &str = "text";

/// Magic bytes at the start (and end) of a Parquet file.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// Rows of one string column, read batch by batch.
pub struct ParquetRows {
    batches: ParquetRecordBatchReader,
    batch: Option<RecordBatch>,
    row: usize,
    column: String,
}

impl ParquetRows {
    /// Opens `path` and selects the string column `column`.
    pub fn open(path: &Path, column: &str) -> Result<ParquetRows> {
        if super::remote::is_remote(path) {
            return Self::from_chunks(super::remote::RemoteParquet::open(path)?, path, column);
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_chunks(file, path, column)
    }

    /// [`ParquetRows::open`] on `chunks`, the file at `path` (on disk or in object storage).
    fn from_chunks<T: ChunkReader + 'static>(
        chunks: T,
        path: &Path,
        column: &str,
    ) -> Result<ParquetRows> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(chunks)
            .map_err(|e| Error::parquet(path, e))?;
        let fields = builder.schema().fields();
        let Some(index) = fields.iter().position(|f| f.name() == column) else {
            let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
            return Err(Error::parquet(
                path,
                format!(
                    "no column '{column}' (columns: {}); choose one with --text-column",
                    names.join(", ")
                ),
            ));
        };
        let data_type = fields[index].data_type();
        if !matches!(
            data_type,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ) {
            return Err(Error::parquet(
                path,
                format!("column '{column}' holds {data_type}, not strings"),
            ));
        }
        let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
        let batches = builder
            .with_projection(mask)
            .build()
            .map_err(|e| Error::parquet(path, e))?;
        Ok(ParquetRows {
            batches,
            batch: None,
            row: 0,
            column: column.to_string(),
        })
    }

    /// Appends rows as JSON lines to `out` until it holds at least `target` bytes or the file
    /// ends; returns the number of rows appended (0 at the end).
    pub fn read_lines(&mut self, path: &Path, out: &mut Vec<u8>, target: usize) -> Result<usize> {
        let mut rows = 0;
        while out.len() < target {
            let batch = match &self.batch {
                Some(b) if self.row < b.num_rows() => b,
                _ => match self.batches.next() {
                    Some(batch) => {
                        self.batch = Some(batch.map_err(|e| Error::parquet(path, e))?);
                        self.row = 0;
                        continue;
                    }
                    None => return Ok(rows),
                },
            };
            let column = batch.column(0);
            let text = value(column.as_ref(), self.row).ok_or_else(|| {
                Error::parquet(path, format!("column '{}' is not a string", self.column))
            })?;
            let json = serde_json::json!({ "text": text.unwrap_or("") });
            // Serialising a JSON value cannot fail.
            let line = serde_json::to_string(&json).unwrap_or_default();
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
            self.row += 1;
            rows += 1;
        }
        Ok(rows)
    }
}

/// The string at `row` of a string array (`Some(None)` for null); `None` if not strings.
fn value(array: &dyn Array, row: usize) -> Option<Option<&str>> {
    if array.is_null(row) {
        return Some(None);
    }
    if let Some(a) = array.as_string_opt::<i32>() {
        return Some(Some(a.value(row)));
    }
    if let Some(a) = array.as_string_opt::<i64>() {
        return Some(Some(a.value(row)));
    }
    array.as_string_view_opt().map(|a| Some(a.value(row)))
}
