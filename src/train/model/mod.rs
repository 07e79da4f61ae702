//! `BertForPreTraining`: the encoder and both pre-training heads, mirroring `transformers`'
//! `modeling_bert.py` module for module and parameter for parameter.
//!
//! - [`layers`] — `Linear`, differentiable `LayerNorm` and softmax.
//! - [`embeddings`] — `bert.embeddings`.
//! - [`encoder`] — `bert.encoder.layer.N` (post-LN self-attention + feed-forward).
//! - [`heads`] — `bert.pooler`, `cls.predictions`, `cls.seq_relationship`.
//!
//! [`BertForPreTraining::new`] asks a [`ParamBuilder`] for every parameter under its
//! `transformers` name (fresh from the seeded RNG, or from a checkpoint). The forward pass
//! takes a [`BatchTensors`] and an optional dropout RNG (`None` = evaluation: no dropout) and
//! returns MLM logits at the requested positions and NSP logits.

pub mod embeddings;
pub mod encoder;
pub mod heads;
pub mod layers;

use candle_core::{Device, Tensor};

use crate::error::Result;
use crate::rng::UnitRng;
use crate::train::batch::BatchTensors;
use crate::train::config::ModelConfig;
use crate::train::params::{Param, ParamBuilder};

use embeddings::Embeddings;
use encoder::Layer;
use heads::{MlmHead, Pooler};
use layers::Linear;

/// What the heads produce.
#[derive(Debug, Clone)]
pub struct Output {
    /// `[M, vocab]` at the positions asked for, in their order.
    pub mlm_logits: Tensor,
    /// `[B, 2]`.
    pub nsp_logits: Tensor,
}

/// The whole pre-training model.
#[derive(Debug, Clone)]
pub struct BertForPreTraining {
    pub config: ModelConfig,
    pub embeddings: Embeddings,
    pub layers: Vec<Layer>,
    pub pooler: Pooler,
    pub mlm: MlmHead,
    pub nsp: Linear,
    /// Every trainable parameter, in creation order.
    pub params: Vec<Param>,
}

/// Names `transformers` may store for tied or non-persistent tensors; loading skips them.
pub fn is_tied_or_buffer(name: &str) -> bool {
    name == "cls.predictions.decoder.weight"
        || name == "cls.predictions.decoder.bias"
        || name.ends_with("position_ids")
        || name.ends_with("embeddings.token_type_ids")
}

impl BertForPreTraining {
    /// Builds the model, taking every parameter from `vb`.
    pub fn new(vb: ParamBuilder, config: &ModelConfig) -> Result<BertForPreTraining> {
        config.validate()?;
        let bert = vb.pp("bert");
        let embeddings = Embeddings::new(&bert.pp("embeddings"), config)?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| Layer::new(&bert.pp("encoder").pp("layer").pp(i), config))
            .collect::<Result<Vec<_>>>()?;
        let pooler = Pooler::new(&bert.pp("pooler"), config)?;
        let cls = vb.pp("cls");
        let mlm = MlmHead::new(&cls.pp("predictions"), config)?;
        let nsp = heads::nsp_head(&cls, config)?;
        let params = vb.finish(is_tied_or_buffer)?;
        Ok(BertForPreTraining {
            config: config.clone(),
            embeddings,
            layers,
            pooler,
            mlm,
            nsp,
            params,
        })
    }

    /// A freshly initialised model: N(0, initializer_range) from the `Init` stream of `seed`.
    pub fn init(config: &ModelConfig, seed: u64, device: &Device) -> Result<BertForPreTraining> {
        let rng = UnitRng::new(seed, crate::rng::Purpose::Init, 0, 0);
        Self::new(ParamBuilder::fresh(rng, device), config)
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        self.embeddings.word.device()
    }

    /// The final hidden states `[B, L, H]` and the pooled output `[B, H]`.
    pub fn encode(&self, batch: &BatchTensors, rng: Option<&mut UnitRng>) -> Result<(Tensor, Tensor)> {
        let mut rng = rng;
        let mut x = self.embeddings.forward(
            &batch.input_ids,
            &batch.token_type_ids,
            rng.as_deref_mut(),
        )?;
        for layer in &self.layers {
            x = layer.forward(&x, &batch.attention_bias, rng.as_deref_mut())?;
        }
        let pooled = self.pooler.forward(&x)?;
        Ok((x, pooled))
    }

    /// Both heads, the MLM head at the batch's labelled positions.
    pub fn forward(&self, batch: &BatchTensors, rng: Option<&mut UnitRng>) -> Result<Output> {
        self.forward_at(batch, &batch.mlm_positions, rng)
    }

    /// Both heads, the MLM head at `positions` (`[M]` u32 indices into the flattened `B * L`
    /// tokens; pass every index to get `transformers`' full `prediction_logits`).
    pub fn forward_at(
        &self,
        batch: &BatchTensors,
        positions: &Tensor,
        rng: Option<&mut UnitRng>,
    ) -> Result<Output> {
        let (hidden, pooled) = self.encode(batch, rng)?;
        let (b, l, h) = hidden.dims3()?;
        let flat = hidden.reshape((b * l, h))?;
        let mlm_logits = self.mlm.forward(&flat, positions, &self.embeddings.word)?;
        let nsp_logits = self.nsp.forward(&pooled)?;
        Ok(Output {
            mlm_logits,
            nsp_logits,
        })
    }

    /// Number of trainable values.
    pub fn num_parameters(&self) -> usize {
        self.params.iter().map(|p| p.var.elem_count()).sum()
    }
}
