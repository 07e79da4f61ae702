//! Parquet shards: the contract between the build, `inspect`, `bert-train` and Python readers.
//!
//! - [`schema`] — the columns (names as constants), their types, the checked-in JSON.
//! - [`meta`] — the `bertprep.*` key-value metadata, written and parsed.
//! - [`row`] — a row, owned or borrowed, and [`row::pad_row`], the one padding function.
//! - [`writer`] — instances to numbered zstd shards, each renamed into place when complete.
//! - [`reader`] — the one streaming reader: footer facts, then batches or single row groups.
//! - [`check`] — the one row-invariant checker (`inspect --check`, `bert-train`, the tests).

pub mod check;
pub mod meta;
pub mod reader;
pub mod row;
pub mod schema;
pub mod writer;

pub use crate::output::manifest::ShardEntry;
pub use meta::ShardMeta;
pub use reader::{read_shard, ShardFile};
pub use row::{RowView, ShardRow};
pub use schema::{arrow_schema, schema_description, RowForm, IGNORE_LABEL, SCHEMA_VERSION};
pub use writer::ShardWriter;
