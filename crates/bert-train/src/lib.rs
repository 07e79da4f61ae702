//! `bert-train`'s library: pre-training BERT (masked LM + next sentence) on bertprep shards with
//! candle, producing checkpoints that `transformers` loads as `BertForPreTraining`.
//!
//! One idea per module:
//! - [`config`] — the model's shape: presets and Hugging Face `config.json`.
//! - [`params`] — named parameters, seeded N(0, 0.02) init or loaded weights.
//! - [`model`] — `BertForPreTraining`, mirroring `transformers`' `modeling_bert.py`.
//! - [`dropout`] — dropout masks from our seeded RNG (training only).
//! - [`data`] — shards read row group by row group on a background thread, shuffled, batched.
//! - [`batch`] — rows to a trimmed batch; MLM targets as gathered positions.
//! - [`loss`] — MLM + NSP cross-entropy and accuracies.
//! - [`heap`] — freed tensor buffers kept in the process heap (no page faults per op).
//! - [`optim`] — AdamW and LAMB with gradient clipping, state we own.
//! - [`schedule`] — linear warm-up and decay.
//! - [`metrics`] — `metrics.jsonl` and the progress line.
//! - [`plot`] — the loss curve, `loss.png`, drawn from `metrics.jsonl`.
//! - [`checkpoint`] — `transformers`-loadable checkpoints plus the state of an exact resume.
//! - [`trainer`] — a run: settings, start or resume, the loop, evaluation, checkpoints.
//! - [`step`] — one step: forward, backward, accumulation, clipping, update.
//! - [`recompute`] — the backward pass recomputing each layer's activations (`--recompute`).
//!
//! Known candle traps and where they are handled: the fused `LayerNorm`, `softmax_last_dim`
//! and `sdpa` have no backward pass ([`model::fused`] has kernels with their own, and a test
//! checks that every parameter gets a gradient); `cross_entropy` has no ignore index ([`batch`]
//! gathers the labelled positions); the CPU RNG cannot be seeded ([`params`] and [`dropout`]
//! draw from [`bertprep::rng`]); `candle_nn::linear` initialises with Kaiming ([`params`] owns the
//! init).

pub mod batch;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod dropout;
pub mod error;
pub mod heap;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod params;
pub mod plot;
pub mod recompute;
pub mod schedule;
pub mod step;
pub mod trainer;

pub use config::ModelConfig;
pub use error::{Error, Result};
pub use model::BertForPreTraining;
pub use trainer::{TrainConfig, Trainer};
