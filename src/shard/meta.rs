//! The `bertprep.*` key-value metadata of a shard: written by the writer and parsed by every
//! reader, both here.
//!
//! Each shard's Parquet footer (and the Arrow schema embedded in it, so `pyarrow` shows it as
//! `schema.metadata`) holds the schema version, the build config as JSON, the tokenizer's
//! SHA-256 and the special-token ids.

use std::collections::BTreeMap;

use parquet::file::metadata::FileMetaData;

use super::schema::RowForm;
use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::tokenize::SpecialTokens;

use super::schema::SCHEMA_VERSION;

/// Metadata keys.
pub const META_SCHEMA_VERSION: &str = "bertprep.schema_version";
pub const META_CONFIG: &str = "bertprep.config";
pub const META_TOKENIZER_SHA256: &str = "bertprep.tokenizer_sha256";
pub const META_SPECIAL_TOKENS: &str = "bertprep.special_tokens";

/// What the writer stamps into every shard's metadata.
#[derive(Debug, Clone)]
pub struct ShardMeta {
    pub config: BuildConfig,
    pub tokenizer_sha256: String,
    pub specials: SpecialTokens,
}

impl ShardMeta {
    /// The key-value pairs written into a shard, in order.
    pub fn key_values(&self) -> Result<Vec<(String, String)>> {
        let json =
            |what: &str, e: serde_json::Error| Error::Internal(format!("{what} to JSON: {e}"));
        let config = serde_json::to_string(&self.config).map_err(|e| json("build config", e))?;
        let specials =
            serde_json::to_string(&self.specials).map_err(|e| json("special tokens", e))?;
        Ok(vec![
            (META_SCHEMA_VERSION.to_string(), SCHEMA_VERSION.to_string()),
            (META_CONFIG.to_string(), config),
            (
                META_TOKENIZER_SHA256.to_string(),
                self.tokenizer_sha256.clone(),
            ),
            (META_SPECIAL_TOKENS.to_string(), specials),
        ])
    }
}

/// The `bertprep.*` metadata as read back from a shard; a field is `None` when its key is
/// missing or does not parse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardMetadata {
    pub schema_version: Option<u32>,
    pub config: Option<serde_json::Value>,
    pub tokenizer_sha256: Option<String>,
    pub specials: Option<SpecialTokens>,
}

impl ShardMetadata {
    /// Parses the key-value pairs of a shard.
    pub fn parse(kv: &BTreeMap<String, String>) -> ShardMetadata {
        let get = |key: &str| kv.get(key);
        ShardMetadata {
            schema_version: get(META_SCHEMA_VERSION).and_then(|v| v.parse().ok()),
            config: get(META_CONFIG).and_then(|v| serde_json::from_str(v).ok()),
            tokenizer_sha256: get(META_TOKENIZER_SHA256).cloned(),
            specials: get(META_SPECIAL_TOKENS).and_then(|v| serde_json::from_str(v).ok()),
        }
    }

    /// The build's `max_seq_len`, from the config.
    pub fn max_seq_len(&self) -> Option<usize> {
        self.config
            .as_ref()?
            .get("max_seq_len")?
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
    }

    /// The recipe's rows, from the config's `objective`, `masking` and `padding` (each absent
    /// for BERT's default).
    pub fn row_form(&self) -> RowForm {
        row_form_of(self.config.as_ref())
    }
}

/// The recipe's rows a build config (as JSON) names: its `objective`, `masking` and `padding`,
/// each BERT's default when absent.
pub fn row_form_of(config: Option<&serde_json::Value>) -> RowForm {
    fn parse<T: serde::de::DeserializeOwned>(
        config: Option<&serde_json::Value>,
        key: &str,
    ) -> Option<T> {
        serde_json::from_value(config?.get(key)?.clone()).ok()
    }
    let bert = RowForm::BERT;
    RowForm {
        objective: parse(config, "objective").unwrap_or(bert.objective),
        masking: parse(config, "masking").unwrap_or(bert.masking),
        padding: parse(config, "padding").unwrap_or(bert.padding),
        pair_layout: parse(config, "pair_layout").unwrap_or(bert.pair_layout),
    }
}

/// A Parquet file's key-value metadata, Arrow's own `ARROW:` keys left out.
pub fn key_value_metadata(meta: &FileMetaData) -> BTreeMap<String, String> {
    meta.key_value_metadata()
        .map(|kv| {
            kv.iter()
                .filter(|k| !k.key.starts_with("ARROW:"))
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}
