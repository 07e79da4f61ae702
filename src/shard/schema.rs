//! The shard schema: column names and types, the checked-in JSON description, and the check
//! that a file's Arrow schema is a shard's.
//!
//! One row per instance, padded to `max_seq_len`, with Hugging Face column names so that
//! `datasets.load_dataset("parquet", ...)` rows feed `BertForPreTraining`:
//!
//! | column | type | meaning |
//! |---|---|---|
//! | `input_ids` | list<int32> | token ids after masking, padded with [PAD] |
//! | `token_type_ids` | list<int8> | 0 for [CLS], A and the first [SEP]; 1 for B and the last [SEP]; 0 on padding |
//! | `attention_mask` | list<int8> | 1 on the first `num_tokens` positions, 0 after |
//! | `labels` | list<int32> | original id at predicted positions, -100 elsewhere |
//! | `next_sentence_label` | int8 | 0 = B follows A, 1 = B is random |
//! | or `sentence_order_label` | int8 | (`--objective sop`) 0 = A then B in document order, 1 = swapped |
//! | `num_tokens` | int16 | real length before padding |
//! | `source` | uint64 | `(input file index << 32) \| document index in that file` |
//!
//! [`schema_description`] renders the columns and the metadata keys of [`super::meta`] as the
//! JSON checked in under `schemas/`, and a test holds the two together. Every other module names
//! a column through the constants here.

use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::meta::{META_CONFIG, META_SCHEMA_VERSION, META_SPECIAL_TOKENS, META_TOKENIZER_SHA256};
use crate::config::Objective;
use crate::error::Error;

/// Version of the shard layout; bump on any change to columns or metadata keys.
pub const SCHEMA_VERSION: u32 = 1;

/// Label of positions that are not predicted (PyTorch's cross-entropy ignore index).
pub const IGNORE_LABEL: i32 = -100;

/// Column names.
pub const INPUT_IDS: &str = "input_ids";
pub const TOKEN_TYPE_IDS: &str = "token_type_ids";
pub const ATTENTION_MASK: &str = "attention_mask";
pub const LABELS: &str = "labels";
pub const NEXT_SENTENCE_LABEL: &str = "next_sentence_label";
/// The pair label of an `--objective sop` build, in place of [`NEXT_SENTENCE_LABEL`] (the name
/// `transformers`' `AlbertForPreTraining` takes).
pub const SENTENCE_ORDER_LABEL: &str = "sentence_order_label";
pub const NUM_TOKENS: &str = "num_tokens";
pub const SOURCE: &str = "source";

/// Every column, in order.
pub const COLUMNS: [&str; 7] = [
    INPUT_IDS,
    TOKEN_TYPE_IDS,
    ATTENTION_MASK,
    LABELS,
    NEXT_SENTENCE_LABEL,
    NUM_TOKENS,
    SOURCE,
];

/// Columns and their Arrow types, in order.
pub(crate) fn columns() -> [(&'static str, DataType, &'static str); 7] {
    let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, false)));
    [
        (
            INPUT_IDS,
            list(DataType::Int32),
            "token ids after masking, padded with [PAD]",
        ),
        (
            TOKEN_TYPE_IDS,
            list(DataType::Int8),
            "0 = [CLS], A and first [SEP]; 1 = B and last [SEP]; 0 on padding",
        ),
        (
            ATTENTION_MASK,
            list(DataType::Int8),
            "1 on the first num_tokens positions, 0 on padding",
        ),
        (
            LABELS,
            list(DataType::Int32),
            "original token id at predicted positions, -100 elsewhere",
        ),
        (
            NEXT_SENTENCE_LABEL,
            DataType::Int8,
            "0 = B follows A, 1 = B is a random other document's text",
        ),
        (NUM_TOKENS, DataType::Int16, "real length before padding"),
        (
            SOURCE,
            DataType::UInt64,
            "(input file index << 32) | document index within that file",
        ),
    ]
}

/// The Arrow schema of a shard of the default objective (without metadata).
pub fn arrow_schema() -> SchemaRef {
    arrow_schema_for(Objective::Nsp)
}

/// The name of the pair-label column under `objective`.
pub fn pair_label_column(objective: Objective) -> &'static str {
    match objective {
        Objective::Nsp => NEXT_SENTENCE_LABEL,
        Objective::Sop => SENTENCE_ORDER_LABEL,
    }
}

/// The Arrow schema of a shard of a build with `objective` (without metadata): the pair-label
/// column is named for the objective.
pub fn arrow_schema_for(objective: Objective) -> SchemaRef {
    let fields: Vec<Field> = columns()
        .into_iter()
        .map(|(name, t, _)| {
            let name = if name == NEXT_SENTENCE_LABEL {
                pair_label_column(objective)
            } else {
                name
            };
            Field::new(name, t, false)
        })
        .collect();
    Arc::new(Schema::new(fields))
}

/// The schema as the JSON document checked in at `schemas/shard.schema.json`.
pub fn schema_description() -> String {
    let cols: Vec<serde_json::Value> = columns()
        .into_iter()
        .map(|(name, t, doc)| serde_json::json!({"name": name, "type": type_name(&t), "nullable": false, "description": doc}))
        .collect();
    let doc = serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "format": "parquet, zstd",
        "row": "one BERT pre-training instance, padded to max_seq_len",
        "columns": cols,
        "variants": {
            "--objective sop": format!("{SENTENCE_ORDER_LABEL} (int8; 0 = A then B in document order, 1 = A and B swapped) in place of {NEXT_SENTENCE_LABEL}"),
        },
        "metadata": {
            META_SCHEMA_VERSION: "schema version, decimal string",
            META_CONFIG: "the build config as JSON (see manifest.json's config)",
            META_TOKENIZER_SHA256: "hex SHA-256 of the tokenizer.json beside the shards",
            META_SPECIAL_TOKENS: "JSON object of special-token ids: pad, unk, cls, sep, mask",
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn type_name(t: &DataType) -> String {
    match t {
        DataType::List(item) => format!("list<{}>", type_name(item.data_type())),
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::UInt64 => "uint64".into(),
        other => other.to_string().to_lowercase(),
    }
}

/// the file and each problem.
pub fn check_columns(path: &Path, found: &Schema) -> crate::Result<()> {
    let problems = schema_problems(found);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::parquet(
            path,
            format!("not a bertprep shard: {}", problems.join("; ")),
        ))
    }
}

/// Column `name` of `batch` as an array of type `T`.
pub fn column<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> Result<&'a T, ColumnError> {
    batch
        .column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| ColumnError(name.to_string()))
}

/// A column that is missing from a batch or of another type than the schema's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {0} is missing or has an unexpected type")]
pub struct ColumnError(pub String);

/// What keeps `found` from being a shard schema: each column of [`arrow_schema`] that is missing
/// (`missing column input_ids`) or has another type (`column num_tokens is int32, expected
/// int16`); the pair label may be either objective's column. Empty when every column is there with its type; extra columns are allowed.
pub fn schema_problems(found: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    let sop = found.field_with_name(NEXT_SENTENCE_LABEL).is_err()
        && found.field_with_name(SENTENCE_ORDER_LABEL).is_ok();
    let objective = if sop { Objective::Sop } else { Objective::Nsp };
    for field in arrow_schema_for(objective).fields() {
        match found.field_with_name(field.name()) {
            Err(_) => problems.push(format!("missing column {}", field.name())),
            Ok(f) if type_name(f.data_type()) != type_name(field.data_type()) => {
                problems.push(format!(
                    "column {} is {}, expected {}",
                    field.name(),
                    type_name(f.data_type()),
                    type_name(field.data_type())
                ))
            }
            Ok(_) => {}
        }
    }
    problems
}
