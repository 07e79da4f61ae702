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

/// `y = x W^T + b` over the last dimension (`torch.nn.Linear`).
#[derive(Debug, Clone)]
pub struct Linear {
    pub weight: Tensor,
    pub bias: Tensor,
}

impl Linear {
    /// `weight` `[out, in]` and `bias` `[out]` under `vb`.
    pub fn new(vb: &ParamBuilder, input: usize, output: usize, std: f64) -> Result<Linear> {
        Ok(Linear {
            weight: vb.get(&[output, input], "weight", Init::Normal { std })?,
            bias: vb.get(&[output], "bias", Init::Zeros)?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let input = dims.last().copied().unwrap_or(1);
        let rows = x.elem_count() / input.max(1);
        let y = x
            .reshape((rows, input))?
            .matmul(&self.weight.t()?)?
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
