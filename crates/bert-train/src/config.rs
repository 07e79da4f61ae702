//! The model's shape: presets and Hugging Face `config.json`.
//!
//! [`ModelConfig`] holds the fields of `transformers`' `BertConfig` that decide the network
//! (sizes, dropout, initialiser range, LayerNorm epsilon). Presets follow Google's BERT release:
//! the miniatures of "Well-Read Students Learn Better" (tiny L2/H128, mini L4/H256, small
//! L4/H512, medium L8/H512) and BERT base (L12/H768) and large (L24/H1024), each with 4x-hidden
//! feed-forward, 512 positions and 2 token types. The vocabulary size is left to the caller (a
//! preset takes it from the shards' tokenizer).
//!
//! [`ModelConfig::read`] accepts any `config.json` written by `transformers` for a BERT model
//! (unknown keys are ignored, missing keys take `BertConfig`'s defaults) and rejects what this
//! trainer does not implement (another activation, relative positions, a decoder).
//! [`ModelConfig::to_hf_json`] writes the file `BertForPreTraining.from_pretrained` reads.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The architecture of a BERT model, in `transformers`' `BertConfig` terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    /// Only "gelu" (the exact, erf-based GELU) is implemented.
    pub hidden_act: String,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    /// Standard deviation of the normal initialiser.
    pub initializer_range: f64,
    pub layer_norm_eps: f64,
    pub pad_token_id: usize,
    /// Only "absolute" (learned positions) is implemented.
    pub position_embedding_type: String,
    /// Must be false: this is an encoder.
    pub is_decoder: bool,
    /// The masked-LM head alone (`BertForMaskedLM`: no pooler, no NSP head), for shards without
    /// a sentence-pair objective. Written as `architectures` in `config.json`.
    #[serde(skip)]
    pub mlm_only: bool,
}

impl Default for ModelConfig {
    /// `BertConfig()`'s defaults: BERT base with the uncased vocabulary.
    fn default() -> Self {
        ModelConfig {
            vocab_size: 30522,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            hidden_dropout_prob: 0.1,
            attention_probs_dropout_prob: 0.1,
            max_position_embeddings: 512,
            type_vocab_size: 2,
            initializer_range: 0.02,
            layer_norm_eps: 1e-12,
            pad_token_id: 0,
            position_embedding_type: "absolute".into(),
            is_decoder: false,
            mlm_only: false,
        }
    }
}

/// Names of the presets, smallest first.
pub const PRESETS: [&str; 6] = ["tiny", "mini", "small", "medium", "base", "large"];

impl ModelConfig {
    /// A preset by name (see [`PRESETS`]) with the given vocabulary size.
    pub fn preset(name: &str, vocab_size: usize) -> Result<ModelConfig> {
        let (layers, hidden, heads) = match name {
            "tiny" => (2, 128, 2),
            "mini" => (4, 256, 4),
            "small" => (4, 512, 8),
            "medium" => (8, 512, 8),
            "base" => (12, 768, 12),
            "large" => (24, 1024, 16),
            other => {
                return Err(Error::Config(format!(
                    "unknown model preset {other:?} (expected one of {})",
                    PRESETS.join(", ")
                )))
            }
        };
        let config = ModelConfig {
            vocab_size,
            hidden_size: hidden,
            num_hidden_layers: layers,
            num_attention_heads: heads,
            intermediate_size: 4 * hidden,
            ..ModelConfig::default()
        };
        config.validate()?;
        Ok(config)
    }

    /// Reads a Hugging Face `config.json`.
    pub fn read(path: &Path) -> Result<ModelConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let json = |source| Error::Json {
            path: path.to_path_buf(),
            source,
        };
        let value: serde_json::Value = serde_json::from_str(&text).map_err(json)?;
        let mut config: ModelConfig = serde_json::from_value(value.clone()).map_err(json)?;
        config.mlm_only = value["architectures"][0] == "BertForMaskedLM";
        config
            .validate()
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        Ok(config)
    }

    /// Checks that the sizes fit together and that the model is one this trainer implements.
    pub fn validate(&self) -> Result<()> {
        let fail = |m: String| Err(Error::Config(m));
        if self.vocab_size == 0
            || self.hidden_size == 0
            || self.num_hidden_layers == 0
            || self.num_attention_heads == 0
            || self.intermediate_size == 0
            || self.max_position_embeddings == 0
        {
            return fail("model sizes must be positive".into());
        }
        if !self.hidden_size.is_multiple_of(self.num_attention_heads) {
            return fail(format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.type_vocab_size < 2 {
            return fail(format!(
                "type_vocab_size {} < 2: sentence pairs need two token types",
                self.type_vocab_size
            ));
        }
        if self.hidden_act != "gelu" {
            return fail(format!(
                "hidden_act {:?} is not implemented (only \"gelu\", the erf GELU)",
                self.hidden_act
            ));
        }
        if self.position_embedding_type != "absolute" {
            return fail(format!(
                "position_embedding_type {:?} is not implemented (only \"absolute\")",
                self.position_embedding_type
            ));
        }
        if self.is_decoder {
            return fail("is_decoder: a decoder is not implemented".into());
        }
        for (name, p) in [
            ("hidden_dropout_prob", self.hidden_dropout_prob),
            (
                "attention_probs_dropout_prob",
                self.attention_probs_dropout_prob,
            ),
        ] {
            if !(0.0..1.0).contains(&p) {
                return fail(format!("{name} {p} is not in [0, 1)"));
            }
        }
        if self.pad_token_id >= self.vocab_size {
            return fail(format!(
                "pad_token_id {} is outside the vocabulary ({})",
                self.pad_token_id, self.vocab_size
            ));
        }
        if !(self.initializer_range > 0.0 && self.layer_norm_eps > 0.0) {
            return fail("initializer_range and layer_norm_eps must be positive".into());
        }
        Ok(())
    }

    /// The `transformers` class of the model: `BertForMaskedLM` or `BertForPreTraining`.
    pub fn architecture(&self) -> &'static str {
        if self.mlm_only {
            "BertForMaskedLM"
        } else {
            "BertForPreTraining"
        }
    }

    /// Size of one attention head.
    pub fn head_size(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }

    /// The `config.json` `transformers` reads: these fields plus `model_type`, `architectures`
    /// and the dtype.
    pub fn to_hf_json(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = value.as_object_mut() {
            map.insert("model_type".into(), "bert".into());
            map.insert(
                "architectures".into(),
                serde_json::json!([self.architecture()]),
            );
            map.insert("torch_dtype".into(), "float32".into());
            map.insert("use_cache".into(), true.into());
            map.insert("classifier_dropout".into(), serde_json::Value::Null);
        }
        let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Number of parameters (the decoder shares the word embeddings).
    pub fn num_parameters(&self) -> usize {
        let h = self.hidden_size;
        let i = self.intermediate_size;
        let embeddings =
            (self.vocab_size + self.max_position_embeddings + self.type_vocab_size) * h + 2 * h;
        let layer = 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h;
        let mlm_head = (h * h + h) + 2 * h + self.vocab_size;
        // The pooler and the NSP head, which a masked-LM-only model lacks.
        let pair_heads = if self.mlm_only {
            0
        } else {
            (h * h + h) + (2 * h + 2)
        };
        embeddings + self.num_hidden_layers * layer + mlm_head + pair_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_have_google_shapes() {
        let base = ModelConfig::preset("base", 30522).unwrap();
        assert_eq!(base, ModelConfig::default());
        // BERT base with both heads: 110,106,428 parameters in transformers.
        assert_eq!(base.num_parameters(), 110_106_428);
        let tiny = ModelConfig::preset("tiny", 30522).unwrap();
        assert_eq!(
            (
                tiny.num_hidden_layers,
                tiny.hidden_size,
                tiny.num_attention_heads
            ),
            (2, 128, 2)
        );
        assert_eq!(tiny.intermediate_size, 512);
        for name in PRESETS {
            ModelConfig::preset(name, 1000).unwrap();
        }
        let err = ModelConfig::preset("huge", 1000).unwrap_err().to_string();
        assert!(err.contains("huge") && err.contains("tiny"), "{err}");
    }

    #[test]
    fn hf_json_round_trips_and_names_the_architecture() {
        let config = ModelConfig::preset("mini", 1234).unwrap();
        let text = config.to_hf_json();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["model_type"], "bert");
        assert_eq!(value["architectures"][0], "BertForPreTraining");
        assert_eq!(value["hidden_size"], 256);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(ModelConfig::read(&path).unwrap(), config);
    }

    #[test]
    fn reads_a_partial_config_with_defaults_and_rejects_what_is_not_implemented() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"hidden_size": 64, "num_attention_heads": 4, "extra": 1}"#,
        )
        .unwrap();
        let config = ModelConfig::read(&path).unwrap();
        assert_eq!(config.hidden_size, 64);
        assert_eq!(config.num_hidden_layers, 12);
        std::fs::write(&path, r#"{"hidden_act": "relu"}"#).unwrap();
        let err = ModelConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("config.json") && err.contains("relu"), "{err}");
        std::fs::write(&path, r#"{"hidden_size": 100, "num_attention_heads": 12}"#).unwrap();
        assert!(ModelConfig::read(&path).is_err());
        std::fs::write(&path, "{not json").unwrap();
        let err = ModelConfig::read(&path).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
    }
}
