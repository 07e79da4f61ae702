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
//! | `source` | uint64 | `file << 44 \| piece << 32 \| document index in the piece` (see [`crate::instances::source_id`]) |
//!
//! [`schema_description`] renders the columns and the metadata keys of [`super::meta`] as the
//! JSON checked in under `schemas/`, and a test holds the two together. Every other module names
//! a column through the constants here.

use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef};

use super::meta::{META_CONFIG, META_SCHEMA_VERSION, META_SPECIAL_TOKENS, META_TOKENIZER_SHA256};
use crate::config::{BuildConfig, Masking, Objective, Padding};
use crate::error::Error;
use crate::tokenize::roles::PairLayout;

/// Version of the shard layout; bump on any change to columns or metadata keys.
pub const SCHEMA_VERSION: u32 = 2;

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
/// `--masking dynamic`'s column in place of [`LABELS`]: 1 where the id is [CLS], [SEP] or
/// [PAD] (`DataCollatorForLanguageModeling` never masks those).
pub const SPECIAL_TOKENS_MASK: &str = "special_tokens_mask";
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
            "input file index << 44 | piece of the file << 32 | document index within the piece",
        ),
    ]
}

/// The Arrow schema of a shard of BERT's recipe, the default (without metadata).
pub fn arrow_schema() -> SchemaRef {
    arrow_schema_for(RowForm::BERT)
}

/// What a build's rows hold, from its recipe: the pair-label column (or none), masked ids with
/// `labels` or unmasked ids with `special_tokens_mask`, lists padded or at their real length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowForm {
    pub objective: Objective,
    pub masking: Masking,
    pub padding: Padding,
    /// BERT's pairs or RoBERTa's (`<s> A </s></s> B </s>`, segment ids 0).
    pub pair_layout: PairLayout,
}

impl Default for RowForm {
    fn default() -> Self {
        RowForm::BERT
    }
}

impl RowForm {
    /// BERT's rows: NSP, masked at build time, padded.
    pub const BERT: RowForm = RowForm {
        objective: Objective::Nsp,
        masking: Masking::Static,
        padding: Padding::Max,
        pair_layout: PairLayout::Bert,
    };

    /// The rows a build config makes.
    pub fn of(config: &BuildConfig) -> RowForm {
        RowForm {
            objective: config.objective,
            masking: config.masking,
            padding: config.padding,
            pair_layout: config.pair_layout,
        }
    }

    /// The pair-label column, if the objective has one.
    pub fn pair_label(&self) -> Option<&'static str> {
        match self.objective {
            Objective::Nsp => Some(NEXT_SENTENCE_LABEL),
            Objective::Sop => Some(SENTENCE_ORDER_LABEL),
            Objective::None => None,
        }
    }

    /// Whether masks are stored (`labels`), rather than drawn at training time.
    pub fn is_static(&self) -> bool {
        self.masking == Masking::Static
    }

    /// Whether every list is padded to `max_seq_len`.
    pub fn is_padded(&self) -> bool {
        self.padding == Padding::Max
    }

    /// Whether this form stores column `name`.
    fn holds(&self, name: &str) -> bool {
        match name {
            NEXT_SENTENCE_LABEL | SENTENCE_ORDER_LABEL => self.pair_label() == Some(name),
            LABELS => self.is_static(),
            SPECIAL_TOKENS_MASK => !self.is_static(),
            _ => true,
        }
    }

    /// The form a file's columns show (padding cannot be seen in a schema: `Max` is assumed).
    fn seen_in(found: &Schema) -> RowForm {
        let has = |name| found.field_with_name(name).is_ok();
        let objective = if has(NEXT_SENTENCE_LABEL) {
            Objective::Nsp
        } else if has(SENTENCE_ORDER_LABEL) {
            Objective::Sop
        } else {
            Objective::None
        };
        let masking = if !has(LABELS) && has(SPECIAL_TOKENS_MASK) {
            Masking::Dynamic
        } else {
            Masking::Static
        };
        RowForm {
            objective,
            masking,
            padding: Padding::Max,
            pair_layout: PairLayout::Bert,
        }
    }
}

/// Every column any recipe stores, in the order a shard holds them.
fn all_columns() -> Vec<(&'static str, DataType, &'static str)> {
    let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, false)));
    let mut all = columns().to_vec();
    all.insert(
        4,
        (
            SPECIAL_TOKENS_MASK,
            list(DataType::Int8),
            "(--masking dynamic, in place of labels) 1 on [CLS], [SEP] and [PAD], 0 elsewhere",
        ),
    );
    all.insert(
        6,
        (
            SENTENCE_ORDER_LABEL,
            DataType::Int8,
            "(--objective sop, in place of next_sentence_label) 0 = A then B, 1 = swapped",
        ),
    );
    all
}

/// The Arrow schema of a shard of rows of `form` (without metadata).
pub fn arrow_schema_for(form: RowForm) -> SchemaRef {
    let fields: Vec<Field> = all_columns()
        .into_iter()
        .filter(|(name, _, _)| form.holds(name))
        .map(|(name, t, _)| Field::new(name, t, false))
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
            "--objective none": format!("no {NEXT_SENTENCE_LABEL}; rows [CLS] sentences [SEP], [SEP] between documents; token_type_ids all 0"),
            "--masking dynamic": format!("{SPECIAL_TOKENS_MASK} (list<int8>; 1 on [CLS], [SEP] and [PAD]) in place of {LABELS}; input_ids unmasked"),
            "--padding none": "every list at the row's real length (num_tokens); attention_mask all 1",
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
/// int16`), for the recipe its columns show (pair label, `labels` or `special_tokens_mask`).
/// Empty when every column is there with its type; extra columns are allowed.
pub fn schema_problems(found: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    for field in arrow_schema_for(RowForm::seen_in(found)).fields() {
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
