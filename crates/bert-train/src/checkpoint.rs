//! Checkpoints: a directory `transformers` opens as `BertForPreTraining`, plus what an exact
//! resume needs.
//!
//! `RUN_DIR/checkpoint-STEP/` holds:
//! - `model.safetensors` — every parameter under its `transformers` name, float32, with the
//!   metadata `{"format": "pt"}` that `from_pretrained` expects. The tied
//!   `cls.predictions.decoder.weight` (= the word embeddings) and `decoder.bias`
//!   (= `cls.predictions.bias`) are not stored, as `save_pretrained` does not store them.
//! - `config.json` — [`ModelConfig::to_hf_json`] (`model_type: "bert"`,
//!   `architectures: ["BertForPreTraining"]`).
//! - `tokenizer.json` copied from the shard directory, and `tokenizer_config.json` naming the
//!   BERT tokenizer class, its casing and special tokens, so `AutoTokenizer` opens it too.
//! - `optimizer.safetensors` — the optimiser's moments (`exp_avg.NAME`, `exp_avg_sq.NAME`).
//! - `trainer_state.json` — [`TrainerState`]: step, data position, seed.
//!
//! A checkpoint is written into `.checkpoint-STEP.tmp/` and renamed when complete, so a
//! directory named `checkpoint-STEP` is never partial.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors};
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::data::DataPosition;
use crate::error::{Error, Result};
use crate::model::BertForPreTraining;
use crate::optim::Optimizer;
use crate::params::ParamBuilder;

pub const MODEL_FILE: &str = "model.safetensors";
pub const CONFIG_FILE: &str = "config.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
pub const STATE_FILE: &str = "trainer_state.json";
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const TOKENIZER_CONFIG_FILE: &str = "tokenizer_config.json";

/// Where training stood when a checkpoint was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    /// Optimiser steps done.
    pub step: u64,
    /// The next training row.
    pub data_position: DataPosition,
    /// The run's seed: init, dropout `(seed, step, micro-batch)`, data order and holdout are
    /// all streams of it, so the step and the data position are the whole RNG state.
    pub seed: u64,
    /// Real tokens trained on so far.
    pub tokens_seen: u64,
}

/// `RUN_DIR/checkpoint-STEP`.
pub fn checkpoint_dir(run: &Path, step: u64) -> PathBuf {
    run.join(format!("checkpoint-{step}"))
}

/// The checkpoints in `run`, by step.
pub fn list(run: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(run) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(run, e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(step) = name
            .strip_prefix("checkpoint-")
            .and_then(|s| s.parse::<u64>().ok())
        {
            out.push((step, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Writes `tensors` (f32) as a safetensors file with `metadata`.
pub fn write_safetensors(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let values: Vec<f32> = t.flatten_all()?.to_vec1()?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        owned.push((name.clone(), t.dims().to_vec(), bytes));
    }
    let views = owned
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| Error::checkpoint(path, e))
        })
        .collect::<Result<Vec<_>>>()?;
    safetensors::serialize_to_file(views, Some(metadata), path)
        .map_err(|e| Error::checkpoint(path, e))
}

/// Reads a safetensors file: its tensors (as f32 on `device`) and metadata.
pub fn read_safetensors(
    path: &Path,
    device: &Device,
) -> Result<(HashMap<String, Tensor>, HashMap<String, String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let metadata = SafeTensors::read_metadata(&bytes)
        .map_err(|e| Error::checkpoint(path, format!("not a safetensors file: {e}")))?
        .1
        .metadata()
        .clone()
        .unwrap_or_default();
    let tensors = candle_core::safetensors::load_buffer(&bytes, device)
        .map_err(|e| Error::checkpoint(path, e))?
        .into_iter()
        .map(|(k, v)| Ok((k, v.to_dtype(candle_core::DType::F32)?)))
        .collect::<Result<HashMap<_, _>>>()?;
    Ok((tensors, metadata))
}

/// The `tokenizer_config.json` for the `tokenizer.json` at `path`: the BERT tokenizer class,
/// its lowercasing and the special tokens' strings (when its normalizer is BERT's).
fn tokenizer_config(path: &Path, model_max_length: usize) -> Result<String> {
    let tokenizer = bertprep::tokenize::Tokenizer::from_json_file(path)?;
    let json: serde_json::Value =
        serde_json::from_str(tokenizer.json()).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let mut config = serde_json::json!({ "model_max_length": model_max_length });
    let normalizer = &json["normalizer"];
    if normalizer["type"] == "BertNormalizer" {
        config["tokenizer_class"] = "BertTokenizer".into();
        config["do_lower_case"] = normalizer["lowercase"].as_bool().unwrap_or(true).into();
        config["strip_accents"] = normalizer["strip_accents"].clone();
        config["tokenize_chinese_chars"] = normalizer["handle_chinese_chars"]
            .as_bool()
            .unwrap_or(true)
            .into();
    }
    let sp = tokenizer.specials();
    for (key, id) in [
        ("pad_token", sp.pad),
        ("unk_token", sp.unk),
        ("cls_token", sp.cls),
        ("sep_token", sp.sep),
        ("mask_token", sp.mask),
    ] {
        if let Some(token) = tokenizer.id_to_token(id) {
            config[key] = token.into();
        }
    }
    let mut out = serde_json::to_string_pretty(&config).unwrap_or_default();
    out.push('\n');
    Ok(out)
}

/// Everything a checkpoint is written from.
#[derive(Debug)]
pub struct CheckpointData<'a> {
    pub model: &'a BertForPreTraining,
    pub optimizer: &'a Optimizer,
    pub state: &'a TrainerState,
    /// The shard directory's `tokenizer.json`.
    pub tokenizer: &'a Path,
}

/// Writes `RUN_DIR/checkpoint-STEP/` atomically (replacing one of the same step).
pub fn save(run: &Path, data: &CheckpointData<'_>) -> Result<PathBuf> {
    let step = data.state.step;
    let dir = checkpoint_dir(run, step);
    let tmp = run.join(format!(".checkpoint-{step}.tmp"));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = write_into(&tmp, data);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    std::fs::rename(&tmp, &dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

fn write_into(dir: &Path, data: &CheckpointData<'_>) -> Result<()> {
    let model = data.model;
    let weights: Vec<(String, Tensor)> = model
        .params
        .iter()
        .map(|p| (p.name.clone(), p.var.as_tensor().clone()))
        .collect();
    let pt = HashMap::from([("format".to_string(), "pt".to_string())]);
    write_safetensors(&dir.join(MODEL_FILE), &weights, pt)?;
    let config_path = dir.join(CONFIG_FILE);
    std::fs::write(&config_path, model.config.to_hf_json())
        .map_err(|e| Error::io(&config_path, e))?;
    let moments = data.optimizer.state(&model.params)?;
    let meta = HashMap::from([("step".to_string(), data.optimizer.step.to_string())]);
    write_safetensors(&dir.join(OPTIMIZER_FILE), &moments, meta)?;
    let state_path = dir.join(STATE_FILE);
    let mut state = serde_json::to_string_pretty(data.state).unwrap_or_default();
    state.push('\n');
    std::fs::write(&state_path, state).map_err(|e| Error::io(&state_path, e))?;
    let tok = dir.join(TOKENIZER_FILE);
    std::fs::copy(data.tokenizer, &tok).map_err(|e| Error::io(data.tokenizer, e))?;
    let tok_config = tokenizer_config(data.tokenizer, model.config.max_position_embeddings)?;
    let tok_config_path = dir.join(TOKENIZER_CONFIG_FILE);
    std::fs::write(&tok_config_path, tok_config).map_err(|e| Error::io(&tok_config_path, e))?;
    Ok(())
}

/// Loads the model of a checkpoint (or of a directory `BertForPreTraining.save_pretrained`
/// wrote with safetensors).
pub fn load_model(dir: &Path, device: &Device) -> Result<BertForPreTraining> {
    let config = ModelConfig::read(&dir.join(CONFIG_FILE))?;
    let path = dir.join(MODEL_FILE);
    let (tensors, _) = read_safetensors(&path, device)?;
    BertForPreTraining::new(ParamBuilder::loaded(tensors, device), &config)
        .map_err(|e| Error::checkpoint(&path, e))
}

/// Loads the optimiser state and trainer state of a checkpoint into `optimizer`.
pub fn load_training_state(
    dir: &Path,
    model: &BertForPreTraining,
    optimizer: &mut Optimizer,
) -> Result<TrainerState> {
    let state_path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&state_path).map_err(|e| Error::io(&state_path, e))?;
    let state: TrainerState = serde_json::from_str(&text).map_err(|source| Error::Json {
        path: state_path.clone(),
        source,
    })?;
    let path = dir.join(OPTIMIZER_FILE);
    let (tensors, _) = read_safetensors(&path, model.device())?;
    optimizer
        .restore(&model.params, tensors, state.step)
        .map_err(|e| Error::checkpoint(&path, e))?;
    Ok(state)
}
