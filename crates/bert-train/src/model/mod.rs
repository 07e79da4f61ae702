//! `BertForPreTraining`: the encoder and both pre-training heads, mirroring `transformers`'
//! `modeling_bert.py` module for module and parameter for parameter.
//!
//! - [`layers`] — `Linear` and differentiable `LayerNorm`.
//! - [`fused`] — LayerNorm, masked softmax and GELU as CPU kernels with their own backward.
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
pub mod fused;
pub mod heads;
pub mod layers;

use candle_core::{Device, Tensor};

use crate::batch::BatchTensors;
use crate::config::ModelConfig;
use crate::error::Result;
use crate::params::{Param, ParamBuilder};
use bertprep::rng::UnitRng;

use embeddings::Embeddings;
use encoder::Layer;
use heads::{MlmHead, Pooler};
use layers::Linear;
pub use layers::Precision;

/// What the heads produce.
#[derive(Debug, Clone)]
pub struct Output {
    /// `[M, vocab]` at the positions asked for, in their order.
    pub mlm_logits: Tensor,
    /// `[B, 2]`; `None` for a masked-LM-only model.
    pub nsp_logits: Option<Tensor>,
}

/// The whole pre-training model.
#[derive(Debug, Clone)]
pub struct BertForPreTraining {
    pub config: ModelConfig,
    pub embeddings: Embeddings,
    pub layers: Vec<Layer>,
    /// `None` for a masked-LM-only model (`BertForMaskedLM`, which has no pooler).
    pub pooler: Option<Pooler>,
    pub mlm: MlmHead,
    /// `None` for a masked-LM-only model.
    pub nsp: Option<Linear>,
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
        let pooler = match config.mlm_only {
            false => Some(Pooler::new(&bert.pp("pooler"), config)?),
            true => None,
        };
        let cls = vb.pp("cls");
        let mlm = MlmHead::new(&cls.pp("predictions"), config)?;
        let nsp = match config.mlm_only {
            false => Some(heads::nsp_head(&cls, config)?),
            true => None,
        };
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
        let rng = UnitRng::new(seed, bertprep::rng::Purpose::Init, 0, 0);
        Self::new(ParamBuilder::fresh(rng, device), config)
    }

    /// The device the parameters live on.
    pub fn device(&self) -> &Device {
        self.embeddings.word.device()
    }

    /// The final hidden states `[B, L, H]` and the pooled output `[B, H]` (`None` without a
    /// pooler).
    pub fn encode(
        &self,
        batch: &BatchTensors,
        rng: Option<&mut UnitRng>,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let mut rng = rng;
        let mut x =
            self.embeddings
                .forward(&batch.input_ids, &batch.token_type_ids, rng.as_deref_mut())?;
        for layer in &self.layers {
            x = layer.forward(&x, &batch.attention_bias, rng.as_deref_mut())?;
        }
        let pooled = match &self.pooler {
            Some(pooler) => Some(pooler.forward(&x)?),
            None => None,
        };
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
        self.heads(&hidden, pooled.as_ref(), positions)
    }

    /// The MLM head at `positions` on the final hidden states `hidden` `[B, L, H]`, and the NSP
    /// head on the pooled output.
    pub fn heads(
        &self,
        hidden: &Tensor,
        pooled: Option<&Tensor>,
        positions: &Tensor,
    ) -> Result<Output> {
        let (b, l, h) = hidden.dims3()?;
        let flat = hidden.reshape((b * l, h))?;
        let mlm_logits = self.mlm.forward(&flat, positions, &self.embeddings.word)?;
        let nsp_logits = match (&self.nsp, pooled) {
            (Some(nsp), Some(pooled)) => Some(nsp.forward(pooled)?),
            _ => None,
        };
        Ok(Output {
            mlm_logits,
            nsp_logits,
        })
    }

    /// Computes every matrix product in `precision` (the parameters stay f32).
    pub fn set_precision(&mut self, precision: Precision) {
        for layer in &mut self.layers {
            layer.set_precision(precision);
        }
        if let Some(pooler) = &mut self.pooler {
            pooler.dense.precision = precision;
        }
        self.mlm.dense.precision = precision;
        self.mlm.precision = precision;
        if let Some(nsp) = &mut self.nsp {
            nsp.precision = precision;
        }
    }

    /// Number of trainable values.
    pub fn num_parameters(&self) -> usize {
        self.params.iter().map(|p| p.var.elem_count()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::Batch;
    use crate::step::gradients;
    use bertprep::shard::RowView;
    use candle_core::{DType, Var};

    fn small() -> ModelConfig {
        ModelConfig {
            vocab_size: 50,
            hidden_size: 16,
            num_hidden_layers: 2,
            num_attention_heads: 2,
            intermediate_size: 24,
            max_position_embeddings: 16,
            ..ModelConfig::default()
        }
    }

    /// Two rows of 12 with 9 and 12 real tokens.
    fn batch() -> Batch {
        let mut rows = Vec::new();
        for (r, n) in [9usize, 12].into_iter().enumerate() {
            let ids: Vec<i32> = (0..12)
                .map(|i| {
                    if i < n {
                        5 + ((i * 7 + r * 3) % 40) as i32
                    } else {
                        0
                    }
                })
                .collect();
            let types: Vec<i8> = (0..12).map(|i| i8::from(i >= 5 && i < n)).collect();
            let mask: Vec<i8> = (0..12).map(|i| i8::from(i < n)).collect();
            let labels: Vec<i32> = (0..12)
                .map(|i| {
                    if i % 4 == 1 && i < n {
                        7 + i as i32
                    } else {
                        -100
                    }
                })
                .collect();
            rows.push((ids, types, mask, labels, r as i8, n as i16));
        }
        let refs: Vec<RowView> = rows
            .iter()
            .map(|(ids, types, mask, labels, nsp, n)| RowView {
                input_ids: ids,
                token_type_ids: Some(types),
                attention_mask: Some(mask),
                labels,
                special_tokens_mask: None,
                next_sentence_label: *nsp,
                num_tokens: *n,
                source: 0,
            })
            .collect();
        Batch::from_rows(&refs)
    }

    #[test]
    fn every_parameter_gets_a_gradient() {
        let model = BertForPreTraining::init(&small(), 1, &Device::Cpu).unwrap();
        let (grads, tally) = gradients(&model, &[batch()], 1, 0, true, false).unwrap();
        assert!(tally.mlm_loss > 0.0 && tally.nsp_loss > 0.0);
        assert_eq!(grads.len(), model.params.len());
        for (p, g) in model.params.iter().zip(&grads) {
            let g = g
                .as_ref()
                .unwrap_or_else(|| panic!("{} got no gradient: an op without backward", p.name));
            let norm = g
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            // The key bias adds the same amount to every score of a query, which the softmax
            // ignores: its gradient is zero in exact arithmetic (transformers' too).
            if p.name.ends_with("attention.self.key.bias") {
                assert!(norm < 1e-10, "{}: {norm}", p.name);
            } else {
                assert!(norm > 1e-12, "{} has a zero gradient", p.name);
            }
        }
    }

    #[test]
    fn recomputing_layers_gives_the_same_losses_and_gradients() {
        let model = BertForPreTraining::init(&small(), 1, &Device::Cpu).unwrap();
        let batches = [batch(), batch()];
        for train in [true, false] {
            let (kept, kept_tally) = gradients(&model, &batches, 1, 3, train, false).unwrap();
            let (again, again_tally) = gradients(&model, &batches, 1, 3, train, true).unwrap();
            assert_eq!(kept_tally, again_tally);
            for ((p, a), b) in model.params.iter().zip(&kept).zip(&again) {
                let values = |g: &Option<Tensor>| -> Vec<f32> {
                    g.as_ref()
                        .unwrap()
                        .flatten_all()
                        .unwrap()
                        .to_vec1()
                        .unwrap()
                };
                let (a, b) = (values(a), values(b));
                if p.name == "bert.embeddings.word_embeddings.weight" {
                    // Tied to the decoder: the lookup's rows are added to the decoder's
                    // gradient one by one in one pass and as a sum in the other.
                    for (x, y) in a.iter().zip(&b) {
                        assert!(
                            (x - y).abs() <= 1e-6 * (1.0 + y.abs()),
                            "{}: {x} {y}",
                            p.name
                        );
                    }
                } else {
                    assert_eq!(a, b, "{} (dropout {train})", p.name);
                }
            }
        }
    }

    /// The trap this model avoids: candle's fused ops return values but no gradient. If this
    /// test fails, candle has added backward passes and the fused ops could be used.
    #[test]
    fn candle_fused_layer_norm_and_softmax_cut_gradients() {
        let x = Var::from_slice(&[0.5f32, -1.0, 2.0, 0.25], (1, 4), &Device::Cpu).unwrap();
        let alpha = Tensor::ones(4, DType::F32, &Device::Cpu).unwrap();
        let beta = Tensor::zeros(4, DType::F32, &Device::Cpu).unwrap();
        let weights = Tensor::new(&[[1f32, 2., 3., 4.]], &Device::Cpu).unwrap();
        let gets_gradient = |y: Tensor| {
            let grads = (y * &weights)
                .unwrap()
                .sum_all()
                .unwrap()
                .backward()
                .unwrap();
            grads.get(x.as_tensor()).is_some()
        };
        let fused = [
            candle_nn::ops::layer_norm(x.as_tensor(), &alpha, &beta, 1e-5).unwrap(),
            candle_nn::ops::softmax_last_dim(x.as_tensor()).unwrap(),
        ];
        for y in fused {
            assert!(!gets_gradient(y));
        }
        let ours = [
            candle_nn::ops::layer_norm_slow(x.as_tensor(), &alpha, &beta, 1e-5).unwrap(),
            fused::layer_norm(x.as_tensor(), &alpha, &beta, 1e-5).unwrap(),
            fused::masked_softmax(
                &x.as_tensor().reshape((1, 1, 1, 4)).unwrap(),
                &Tensor::zeros((1, 1, 1, 4), DType::F32, &Device::Cpu).unwrap(),
                1.0,
            )
            .unwrap()
            .reshape((1, 4))
            .unwrap(),
        ];
        for y in ours {
            assert!(gets_gradient(y));
        }
    }

    #[test]
    fn init_is_seeded_normal_not_kaiming() {
        let config = small();
        let a = BertForPreTraining::init(&config, 7, &Device::Cpu).unwrap();
        let b = BertForPreTraining::init(&config, 7, &Device::Cpu).unwrap();
        let c = BertForPreTraining::init(&config, 8, &Device::Cpu).unwrap();
        let values = |m: &BertForPreTraining, i: usize| -> Vec<f32> {
            m.params[i]
                .var
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        for i in 0..a.params.len() {
            assert_eq!(values(&a, i), values(&b, i), "{}", a.params[i].name);
        }
        assert_ne!(values(&a, 0), values(&c, 0));
        // Kaiming uniform on a 16-wide layer would have std 1/sqrt(3 * 16) = 0.14.
        let q = a
            .params
            .iter()
            .position(|p| p.name == "bert.encoder.layer.0.intermediate.dense.weight")
            .unwrap();
        let v = values(&a, q);
        let std = (v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32).sqrt();
        assert!((std - 0.02).abs() < 0.004, "std {std}");
        assert_eq!(a.num_parameters(), config.num_parameters());
    }

    #[test]
    fn dropout_only_in_training() {
        let model = BertForPreTraining::init(&small(), 3, &Device::Cpu).unwrap();
        let t = BatchTensors::new(&batch(), &Device::Cpu).unwrap();
        let logits = |rng: Option<&mut UnitRng>| -> Vec<f32> {
            model
                .forward(&t, rng)
                .unwrap()
                .mlm_logits
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        assert_eq!(logits(None), logits(None));
        let mut r1 = UnitRng::new(1, bertprep::rng::Purpose::Dropout, 0, 0);
        let mut r2 = UnitRng::new(1, bertprep::rng::Purpose::Dropout, 0, 0);
        let mut r3 = UnitRng::new(1, bertprep::rng::Purpose::Dropout, 1, 0);
        let (a, b, c) = (
            logits(Some(&mut r1)),
            logits(Some(&mut r2)),
            logits(Some(&mut r3)),
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, logits(None));
    }
}
