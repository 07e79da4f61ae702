//! The building blocks: `nn.Linear`, `nn.LayerNorm` and `nn.Embedding` with PyTorch's layouts
//! and names, written so that every parameter gets a gradient.
//!
//! candle's `candle_nn::LayerNorm` and `ops::layer_norm` run a fused kernel with no backward
//! pass: gradients silently stop there. [`LayerNorm`] uses [`super::fused::layer_norm`], one
//! kernel with its own backward pass on the CPU and primitive ops that autograd follows
//! elsewhere. [`Linear`] stores its weight as `[out, in]` like
//! PyTorch (so checkpoint tensors need no transpose) and is initialised by the
//! [`ParamBuilder`] (N(0, 0.02)), never by `candle_nn::linear`'s Kaiming init.

use candle_core::Tensor;

use crate::error::Result;
use crate::params::{Init, ParamBuilder};

/// The dtype matrix products are computed in: `fp32`, or `bf16` as `torch.autocast(dtype=
/// torch.bfloat16)` computes them (operands rounded to bf16, products back in f32; the weights,
/// LayerNorm, softmax and the loss stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    Fp32,
    Bf16,
}

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "fp32" => Ok(Precision::Fp32),
            "bf16" => Ok(Precision::Bf16),
            _ => Err(format!("unknown precision {s:?} (expected fp32 or bf16)")),
        }
    }
}

/// `a.matmul(b)` computed in `precision`, returned in `a`'s dtype (differentiable: the casts'
/// backward casts the gradients back).
pub fn matmul(a: &Tensor, b: &Tensor, precision: Precision) -> Result<Tensor> {
    match precision {
        Precision::Fp32 => Ok(a.matmul(b)?),
        Precision::Bf16 => {
            let bf16 = candle_core::DType::BF16;
            Ok(a.to_dtype(bf16)?
                .matmul(&b.to_dtype(bf16)?)?
                .to_dtype(a.dtype())?)
        }
    }
}

/// `y = x W^T + b` over the last dimension (`torch.nn.Linear`).
#[derive(Debug, Clone)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Tensor,
    /// What the product is computed in.
    pub precision: Precision,
}

impl Linear {
    /// `weight` `[out, in]` and `bias` `[out]` under `vb`.
    pub fn new(vb: &ParamBuilder, input: usize, output: usize, std: f64) -> Result<Linear> {
        Ok(Linear {
            weight: vb.get(&[output, input], "weight", Init::Normal { std })?,
            bias: vb.get(&[output], "bias", Init::Zeros)?,
            precision: Precision::Fp32,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let input = dims.last().copied().unwrap_or(1);
        let rows = x.elem_count() / input.max(1);
        let y = matmul(
            &x.reshape((rows, input))?,
            &self.weight.t()?,
            self.precision,
        )?
        .broadcast_add(&self.bias)?;
        let mut out_dims = dims;
        if let Some(last) = out_dims.last_mut() {
            *last = self.weight.dim(0)?;
        }
        Ok(y.reshape(out_dims)?)
    }
}

/// `torch.nn.LayerNorm` over the last dimension, differentiable.
#[derive(Debug, Clone)]
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f64,
}

impl LayerNorm {
    /// `weight` (ones) and `bias` (zeros) of size `size` under `vb`.
    pub fn new(vb: &ParamBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
        Ok(LayerNorm {
            weight: vb.get(&[size], "weight", Init::Ones)?,
            bias: vb.get(&[size], "bias", Init::Zeros)?,
            eps,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        super::fused::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}
