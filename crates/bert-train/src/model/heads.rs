//! The pre-training heads: pooler, masked-LM prediction head and next-sentence classifier.
//!
//! Mirrors `modeling_bert.py`'s `BertPooler` (dense + tanh on the [CLS] hidden state),
//! `BertLMPredictionHead` (transform: dense, GELU, LayerNorm; decoder: the word-embedding
//! matrix transposed plus a per-token bias `cls.predictions.bias`) and the NSP linear layer
//! `cls.seq_relationship` to 2 logits. Unlike `transformers`, the MLM head runs only on the
//! positions asked for (the labelled ones in training): the decoder is a `[H, vocab]` matmul,
//! the biggest in a small model, and unlabelled positions never reach the loss.

use candle_core::Tensor;

use super::layers::{matmul, LayerNorm, Linear, Precision};
use crate::config::ModelConfig;
use crate::error::Result;
use crate::params::{Init, ParamBuilder};

/// `bert.pooler`: dense + tanh on the first token.
#[derive(Debug, Clone)]
pub struct Pooler {
    pub dense: Linear,
}

impl Pooler {
    pub fn new(vb: &ParamBuilder, c: &ModelConfig) -> Result<Pooler> {
        Ok(Pooler {
            dense: Linear::new(
                &vb.pp("dense"),
                c.hidden_size,
                c.hidden_size,
                c.initializer_range,
            )?,
        })
    }

    /// `[B, L, H]` to `[B, H]`.
    pub fn forward(&self, hidden: &Tensor) -> Result<Tensor> {
        let first = hidden.narrow(1, 0, 1)?.squeeze(1)?;
        Ok(self.dense.forward(&first)?.tanh()?)
    }
}

/// `cls.predictions`: transform and tied decoder with its own bias.
#[derive(Debug, Clone)]
pub struct MlmHead {
    pub dense: Linear,
    pub layer_norm: LayerNorm,
    /// `cls.predictions.bias`, `[vocab]`.
    pub bias: Tensor,
    /// What the decoder's product is computed in.
    pub precision: Precision,
}

impl MlmHead {
    pub fn new(vb: &ParamBuilder, c: &ModelConfig) -> Result<MlmHead> {
        let t = vb.pp("transform");
        Ok(MlmHead {
            dense: Linear::new(
                &t.pp("dense"),
                c.hidden_size,
                c.hidden_size,
                c.initializer_range,
            )?,
            layer_norm: LayerNorm::new(&t.pp("LayerNorm"), c.hidden_size, c.layer_norm_eps)?,
            bias: vb.get(&[c.vocab_size], "bias", Init::Zeros)?,
            precision: Precision::Fp32,
        })
    }

    /// Logits `[M, vocab]` for the rows `positions` (`[M]`, u32) of the flattened hidden states
    /// `[B * L, H]`, decoding with the word embeddings `[vocab, H]`.
    pub fn forward(&self, hidden: &Tensor, positions: &Tensor, word: &Tensor) -> Result<Tensor> {
        let picked = hidden.index_select(positions, 0)?;
        let x = super::fused::gelu(&self.dense.forward(&picked)?)?;
        let x = self.layer_norm.forward(&x)?;
        Ok(matmul(&x, &word.t()?, self.precision)?.broadcast_add(&self.bias)?)
    }
}

/// `cls.seq_relationship`: `[B, H]` pooled to `[B, 2]` (0 = B follows A, 1 = random).
pub fn nsp_head(vb: &ParamBuilder, c: &ModelConfig) -> Result<Linear> {
    Linear::new(
        &vb.pp("seq_relationship"),
        c.hidden_size,
        2,
        c.initializer_range,
    )
}
