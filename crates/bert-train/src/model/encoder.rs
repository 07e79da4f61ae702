//! `BertLayer`: post-LN self-attention and feed-forward blocks.
//!
//! Mirrors `modeling_bert.py`'s `BertSelfAttention` (eager path), `BertSelfOutput`,
//! `BertIntermediate` and `BertOutput`:
//! `scores = Q K^T / sqrt(d) + mask`, softmax, dropout on the probabilities, `P V`; then
//! `LayerNorm(dropout(dense(ctx)) + x)`; then `LayerNorm(dropout(dense(gelu(dense(h)))) + h)`.
//! The mask is the "extended attention mask": 0 on real keys, the most negative f32 on padding,
//! added to every query's scores, so padded keys get exactly zero weight. The scaling, the mask
//! and the softmax are one kernel with its own backward pass ([`super::fused::masked_softmax`];
//! candle's `softmax_last_dim` and `sdpa` have none). GELU is the exact erf form
//! (`hidden_act: "gelu"`, [`super::fused::gelu`]).

use candle_core::Tensor;

use super::fused;
use super::layers::{matmul, LayerNorm, Linear, Precision};
use crate::config::ModelConfig;
use crate::dropout::dropout;
use crate::error::Result;
use crate::params::ParamBuilder;
use bertprep::rng::UnitRng;

/// Multi-head self-attention (`attention.self`).
#[derive(Debug, Clone)]
pub struct SelfAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub heads: usize,
    pub head_size: usize,
    pub dropout: f64,
    /// What the scores and the context are computed in.
    pub precision: Precision,
}

impl SelfAttention {
    pub fn new(vb: &ParamBuilder, c: &ModelConfig) -> Result<SelfAttention> {
        let h = c.hidden_size;
        let std = c.initializer_range;
        Ok(SelfAttention {
            query: Linear::new(&vb.pp("query"), h, h, std)?,
            key: Linear::new(&vb.pp("key"), h, h, std)?,
            value: Linear::new(&vb.pp("value"), h, h, std)?,
            heads: c.num_attention_heads,
            head_size: c.head_size(),
            dropout: c.attention_probs_dropout_prob,
            precision: Precision::Fp32,
        })
    }

    /// `x` `[B, L, H]` and the additive mask `[B, 1, 1, L]` to the context `[B, L, H]`.
    pub fn forward(&self, x: &Tensor, mask: &Tensor, rng: Option<&mut UnitRng>) -> Result<Tensor> {
        let (b, l, h) = x.dims3()?;
        let split = |t: Tensor| -> Result<Tensor> {
            Ok(t.reshape((b, l, self.heads, self.head_size))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scale = 1.0 / (self.head_size as f64).sqrt();
        let scores = matmul(&q, &k.t()?, self.precision)?;
        let probs = fused::masked_softmax(&scores, mask, scale)?;
        let probs = dropout(&probs, self.dropout, rng)?;
        let context = matmul(&probs, &v, self.precision)?
            .transpose(1, 2)?
            .reshape((b, l, h))?;
        Ok(context)
    }
}

/// One encoder layer (`bert.encoder.layer.N`).
#[derive(Debug, Clone)]
pub struct Layer {
    pub attention: SelfAttention,
    pub attention_output: Linear,
    pub attention_norm: LayerNorm,
    pub intermediate: Linear,
    pub output: Linear,
    pub output_norm: LayerNorm,
    pub dropout: f64,
}

impl Layer {
    pub fn new(vb: &ParamBuilder, c: &ModelConfig) -> Result<Layer> {
        let (h, i, std, eps) = (
            c.hidden_size,
            c.intermediate_size,
            c.initializer_range,
            c.layer_norm_eps,
        );
        let attn = vb.pp("attention");
        Ok(Layer {
            attention: SelfAttention::new(&attn.pp("self"), c)?,
            attention_output: Linear::new(&attn.pp("output").pp("dense"), h, h, std)?,
            attention_norm: LayerNorm::new(&attn.pp("output").pp("LayerNorm"), h, eps)?,
            intermediate: Linear::new(&vb.pp("intermediate").pp("dense"), h, i, std)?,
            output: Linear::new(&vb.pp("output").pp("dense"), i, h, std)?,
            output_norm: LayerNorm::new(&vb.pp("output").pp("LayerNorm"), h, eps)?,
            dropout: c.hidden_dropout_prob,
        })
    }

    /// Computes the layer's matrix products in `precision`.
    pub fn set_precision(&mut self, precision: Precision) {
        self.attention.precision = precision;
        for linear in [
            &mut self.attention.query,
            &mut self.attention.key,
            &mut self.attention.value,
            &mut self.attention_output,
            &mut self.intermediate,
            &mut self.output,
        ] {
            linear.precision = precision;
        }
    }

    pub fn forward(&self, x: &Tensor, mask: &Tensor, rng: Option<&mut UnitRng>) -> Result<Tensor> {
        let mut rng = rng;
        let context = self.attention.forward(x, mask, rng.as_deref_mut())?;
        let attended = dropout(
            &self.attention_output.forward(&context)?,
            self.dropout,
            rng.as_deref_mut(),
        )?;
        let attended = self.attention_norm.forward(&(attended + x)?)?;
        let inner = self.intermediate.forward(&attended)?;
        let inner = fused::gelu(&inner)?;
        let out = dropout(&self.output.forward(&inner)?, self.dropout, rng)?;
        self.output_norm.forward(&(out + attended)?)
    }
}
