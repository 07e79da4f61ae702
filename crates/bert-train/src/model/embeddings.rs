//! `BertEmbeddings`: word + learned position + token type embeddings, LayerNorm, dropout.
//!
//! Mirrors `modeling_bert.py`'s `BertEmbeddings.forward` (absolute positions `0..L`). The word
//! embeddings are an `nn.Embedding` with `padding_idx = pad_token_id`: PyTorch gives the [PAD]
//! row no gradient from the lookup, so the lookup here reads [PAD] positions from a detached
//! copy of the table. (The row still learns through the tied MLM decoder, as in PyTorch.)

use candle_core::Tensor;

use super::layers::LayerNorm;
use crate::config::ModelConfig;
use crate::dropout::dropout;
use crate::error::Result;
use crate::params::{Init, ParamBuilder};
use bertprep::rng::UnitRng;

#[derive(Debug, Clone)]
pub struct Embeddings {
    /// `[vocab, hidden]`, shared with the MLM decoder.
    pub word: Tensor,
    pub position: Tensor,
    pub token_type: Tensor,
    pub layer_norm: LayerNorm,
    pub dropout: f64,
    pub pad: u32,
}

impl Embeddings {
    pub fn new(vb: &ParamBuilder, c: &ModelConfig) -> Result<Embeddings> {
        let std = c.initializer_range;
        let h = c.hidden_size;
        Ok(Embeddings {
            word: vb.get(
                &[c.vocab_size, h],
                "word_embeddings.weight",
                Init::NormalZeroRow {
                    std,
                    row: c.pad_token_id,
                },
            )?,
            position: vb.get(
                &[c.max_position_embeddings, h],
                "position_embeddings.weight",
                Init::Normal { std },
            )?,
            token_type: vb.get(
                &[c.type_vocab_size, h],
                "token_type_embeddings.weight",
                Init::Normal { std },
            )?,
            layer_norm: LayerNorm::new(&vb.pp("LayerNorm"), h, c.layer_norm_eps)?,
            dropout: c.hidden_dropout_prob,
            pad: c.pad_token_id as u32,
        })
    }

    /// `input_ids` and `token_type_ids` `[B, L]` (u32) to `[B, L, hidden]`.
    pub fn forward(
        &self,
        input_ids: &Tensor,
        token_type_ids: &Tensor,
        rng: Option<&mut UnitRng>,
    ) -> Result<Tensor> {
        let (b, l) = input_ids.dims2()?;
        let h = self.word.dim(1)?;
        let ids = input_ids.flatten_all()?;
        let words = self.word.index_select(&ids, 0)?;
        let is_pad = ids
            .eq(self.pad)?
            .unsqueeze(1)?
            .broadcast_as(words.shape())?;
        let frozen = self.word.detach().index_select(&ids, 0)?;
        let words = is_pad.where_cond(&frozen, &words)?.reshape((b, l, h))?;
        let types = self
            .token_type
            .index_select(&token_type_ids.flatten_all()?, 0)?
            .reshape((b, l, h))?;
        let positions = Tensor::arange(0u32, l as u32, input_ids.device())?;
        let positions = self.position.index_select(&positions, 0)?;
        let x = (words + types)?.broadcast_add(&positions)?;
        let x = self.layer_norm.forward(&x)?;
        dropout(&x, self.dropout, rng)
    }
}
