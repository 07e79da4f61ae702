//! The model's parameters: created with their `transformers` names, initialised from our RNG or
//! loaded from a checkpoint.
//!
//! [`ParamBuilder`] is this trainer's `VarBuilder`: a model module asks it for a tensor by
//! shape, name and [`Init`] (`vb.pp("attention").get(...)`), and it either draws a fresh value
//! from a seeded [`UnitRng`] or takes the tensor of that name from loaded weights. Either way
//! it records a [`Param`] (name, trainable [`Var`], whether weight decay applies) in creation
//! order, so the list of parameters, their names and the order of the random draws are all
//! defined by the model code alone.
//!
//! Initialisation mirrors `BertPreTrainedModel._init_weights`: linear and embedding weights
//! N(0, initializer_range) with the [PAD] row of the word embeddings zeroed, biases 0, LayerNorm
//! weight 1 and bias 0 (candle's own `linear` uses Kaiming uniform, so the model never calls
//! it). Weight decay applies to every parameter except biases and LayerNorm weights, as in the
//! original BERT optimiser and the `transformers` Trainer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use candle_core::{DType, Device, Tensor, Var};

use crate::error::{Error, Result};
use bertprep::rng::UnitRng;

/// How a fresh parameter is initialised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// N(0, std).
    Normal { std: f64 },
    /// N(0, std) with one row (the padding token's embedding) set to zero.
    NormalZeroRow { std: f64, row: usize },
    /// All zeros (biases).
    Zeros,
    /// All ones (LayerNorm weights).
    Ones,
}

/// One trainable parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Its `transformers` name, e.g. `bert.encoder.layer.0.attention.self.query.weight`.
    pub name: String,
    /// The trainable tensor.
    pub var: Var,
    /// Whether weight decay (and LAMB's trust ratio) applies.
    pub decay: bool,
}

/// Whether weight decay applies to the parameter called `name`.
pub fn decays(name: &str) -> bool {
    !(name.ends_with("bias") || name.contains("LayerNorm"))
}

enum Source {
    Fresh(Box<UnitRng>),
    Loaded(HashMap<String, Tensor>),
}

struct Inner {
    source: Source,
    device: Device,
    params: Vec<Param>,
}

/// Hands out named parameters to the model code (cheap to clone; clones share one store).
#[derive(Clone)]
pub struct ParamBuilder {
    inner: Rc<RefCell<Inner>>,
    prefix: String,
}

impl std::fmt::Debug for ParamBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamBuilder")
            .field("prefix", &self.prefix)
            .field("params", &self.inner.borrow().params.len())
            .finish()
    }
}

impl ParamBuilder {
    /// Fresh parameters drawn from `rng` on `device`.
    pub fn fresh(rng: UnitRng, device: &Device) -> Self {
        Self::with_source(Source::Fresh(Box::new(rng)), device)
    }

    /// Parameters taken from `tensors` (any dtype; converted to f32 on `device`).
    pub fn loaded(tensors: HashMap<String, Tensor>, device: &Device) -> Self {
        Self::with_source(Source::Loaded(tensors), device)
    }

    fn with_source(source: Source, device: &Device) -> Self {
        ParamBuilder {
            inner: Rc::new(RefCell::new(Inner {
                source,
                device: device.clone(),
                params: Vec::new(),
            })),
            prefix: String::new(),
        }
    }

    /// A builder for the sub-module `name` (names join with dots).
    #[must_use]
    pub fn pp(&self, name: impl std::fmt::Display) -> Self {
        let prefix = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        ParamBuilder {
            inner: self.inner.clone(),
            prefix,
        }
    }

    /// The device parameters live on.
    pub fn device(&self) -> Device {
        self.inner.borrow().device.clone()
    }

    /// The parameter `name` of this module, of shape `dims`.
    pub fn get(&self, dims: &[usize], name: &str, init: Init) -> Result<Tensor> {
        let full = if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        };
        let mut inner = self.inner.borrow_mut();
        let device = inner.device.clone();
        let tensor = match &mut inner.source {
            Source::Fresh(rng) => fresh_tensor(rng, dims, init, &device)?,
            Source::Loaded(tensors) => {
                let Some(t) = tensors.remove(&full) else {
                    return Err(Error::Config(format!("weights have no tensor {full}")));
                };
                if t.dims() != dims {
                    return Err(Error::Config(format!(
                        "tensor {full} has shape {:?}, the model needs {dims:?}",
                        t.dims()
                    )));
                }
                t.to_dtype(DType::F32)?.to_device(&device)?
            }
        };
        let var = Var::from_tensor(&tensor)?;
        let out = var.as_tensor().clone();
        inner.params.push(Param {
            decay: decays(&full),
            name: full,
            var,
        });
        Ok(out)
    }

    /// The parameters created so far, in creation order. With loaded weights, names that the
    /// model did not ask for are an error unless `ignore` accepts them (tied copies).
    pub fn finish(self, ignore: impl Fn(&str) -> bool) -> Result<Vec<Param>> {
        let mut inner = self.inner.borrow_mut();
        if let Source::Loaded(rest) = &inner.source {
            let mut unexpected: Vec<&String> = rest.keys().filter(|k| !ignore(k)).collect();
            unexpected.sort();
            if !unexpected.is_empty() {
                return Err(Error::Config(format!(
                    "weights have tensors the model does not use: {unexpected:?}"
                )));
            }
        }
        Ok(std::mem::take(&mut inner.params))
    }
}

fn fresh_tensor(rng: &mut UnitRng, dims: &[usize], init: Init, device: &Device) -> Result<Tensor> {
    let n: usize = dims.iter().product();
    let values: Vec<f32> = match init {
        Init::Zeros => vec![0.0; n],
        Init::Ones => vec![1.0; n],
        Init::Normal { std } => (0..n)
            .map(|_| (rng.standard_normal() * std) as f32)
            .collect(),
        Init::NormalZeroRow { std, row } => {
            let mut v: Vec<f32> = (0..n)
                .map(|_| (rng.standard_normal() * std) as f32)
                .collect();
            let width = dims.last().copied().unwrap_or(0);
            if let Some(r) = v.get_mut(row * width..(row + 1) * width) {
                r.fill(0.0);
            }
            v
        }
    };
    Ok(Tensor::from_vec(values, dims, device)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bertprep::rng::Purpose;

    #[test]
    fn names_nest_and_inits_follow_the_kind() {
        let vb = ParamBuilder::fresh(UnitRng::new(1, Purpose::Init, 0, 0), &Device::Cpu);
        let emb = vb
            .pp("bert")
            .pp("embeddings")
            .get(
                &[50, 40],
                "word_embeddings.weight",
                Init::NormalZeroRow { std: 0.02, row: 3 },
            )
            .unwrap();
        let ln = vb.pp("ln").get(&[40], "weight", Init::Ones).unwrap();
        let bias = vb.pp("dense").get(&[40], "bias", Init::Zeros).unwrap();
        let params = vb.finish(|_| false).unwrap();
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bert.embeddings.word_embeddings.weight",
                "ln.weight",
                "dense.bias"
            ]
        );
        assert!(params[0].decay && params[1].decay && !params[2].decay);
        assert!(!decays("bert.embeddings.LayerNorm.weight"));
        let v: Vec<Vec<f32>> = emb.to_vec2().unwrap();
        assert!(v[3].iter().all(|&x| x == 0.0));
        let flat: Vec<f32> = v.concat();
        let std = (flat.iter().map(|x| x * x).sum::<f32>() / (flat.len() - 40) as f32).sqrt();
        assert!((std - 0.02).abs() < 0.002, "std {std}");
        assert!(ln.to_vec1::<f32>().unwrap().iter().all(|&x| x == 1.0));
        assert!(bias.to_vec1::<f32>().unwrap().iter().all(|&x| x == 0.0));
    }

    #[test]
    fn same_seed_same_weights() {
        let draw = |seed| {
            let vb = ParamBuilder::fresh(UnitRng::new(seed, Purpose::Init, 0, 0), &Device::Cpu);
            vb.get(&[8, 8], "w", Init::Normal { std: 0.02 })
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }

    #[test]
    fn loading_checks_names_and_shapes() {
        let mut map = HashMap::new();
        map.insert(
            "a.w".to_string(),
            Tensor::zeros((2, 3), DType::F32, &Device::Cpu).unwrap(),
        );
        map.insert(
            "tied".to_string(),
            Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap(),
        );
        let vb = ParamBuilder::loaded(map.clone(), &Device::Cpu);
        assert!(vb.pp("a").get(&[2, 3], "w", Init::Zeros).is_ok());
        assert!(vb.clone().finish(|n| n == "tied").is_ok());
        let vb = ParamBuilder::loaded(map.clone(), &Device::Cpu);
        vb.pp("a").get(&[2, 3], "w", Init::Zeros).unwrap();
        let err = vb.finish(|_| false).unwrap_err().to_string();
        assert!(err.contains("tied"), "{err}");
        let vb = ParamBuilder::loaded(map.clone(), &Device::Cpu);
        let err = vb
            .pp("a")
            .get(&[3, 2], "w", Init::Zeros)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a.w") && err.contains("[3, 2]"), "{err}");
        let vb = ParamBuilder::loaded(map, &Device::Cpu);
        let err = vb
            .get(&[1], "missing", Init::Zeros)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing"), "{err}");
    }
}
