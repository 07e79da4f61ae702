//! AdamW and LAMB with global gradient-norm clipping, whose state this crate owns and saves.
//!
//! [`OptimizerKind::AdamW`] is `torch.optim.AdamW`'s update (decoupled weight decay,
//! bias-corrected moments):
//!
//! ```text
//! p <- p * (1 - lr * wd)                      (only where weight decay applies)
//! m <- b1 * m + (1 - b1) * g
//! v <- b2 * v + (1 - b2) * g^2
//! p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//! ```
//!
//! [`OptimizerKind::Lamb`] is LAMB (You et al. 2019, Algorithm 2; the optimiser of NVIDIA's
//! BERT recipe for batches of 32k–64k): the same moments, then one trust ratio per parameter
//! tensor scaling the step to the tensor's own norm:
//!
//! ```text
//! u <- m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps) + wd * p
//! p <- p - lr * (||p|| / ||u||) * u           (ratio 1 when a norm is 0)
//! ```
//!
//! Both with BERT's eps 1e-6 and betas 0.9 / 0.999, and no weight decay (and for LAMB no trust
//! ratio) on biases and LayerNorm weights ([`crate::params::decays`]). Gradients are first scaled by
//! `min(1, max_norm / (norm + 1e-6))`, the global L2 norm over all parameters, as
//! `torch.nn.utils.clip_grad_norm_` does. Parameters without a gradient are skipped, as
//! PyTorch skips `grad is None`.
//!
//! The moments live on the host as `Vec<f32>` on the CPU device (one fused pass per parameter,
//! in place in the parameter's storage and split over threads, instead of a dozen tensor ops),
//! and as tensors on other devices; both paths compute the same arithmetic, and a test holds
//! them together. [`Optimizer::state`] and
//! [`Optimizer::restore`] move the state to and from named tensors for checkpoints (the same
//! for both kinds).

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::params::Param;

/// Which update the optimiser makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// `torch.optim.AdamW`.
    #[default]
    AdamW,
    /// LAMB: AdamW's step scaled per tensor by a trust ratio.
    Lamb,
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "adamw" => Ok(OptimizerKind::AdamW),
            "lamb" => Ok(OptimizerKind::Lamb),
            _ => Err(format!("unknown optimizer {s:?} (expected adamw or lamb)")),
        }
    }
}

/// Hyper-parameters of the optimiser (the learning rate comes per step from the schedule).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerConfig {
    pub kind: OptimizerKind,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for OptimizerConfig {
    /// BERT's: AdamW, betas 0.9 / 0.999, eps 1e-6, weight decay 0.01.
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::AdamW,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-6,
            weight_decay: 0.01,
        }
    }
}

enum Moments {
    Host { m: Vec<f32>, v: Vec<f32> },
    Device { m: Tensor, v: Tensor },
}

/// The optimiser and its state, one entry per parameter in the model's order.
pub struct Optimizer {
    pub config: OptimizerConfig,
    /// Updates done so far (`t` in the bias corrections).
    pub step: u64,
    moments: Vec<Moments>,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer")
            .field("config", &self.config)
            .field("step", &self.step)
            .field("params", &self.moments.len())
            .finish()
    }
}

/// What one optimiser step reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Factor the gradients were scaled by (1 when not clipped).
    pub clip_scale: f64,
}

/// The global L2 norm of `grads`. On the CPU the squares are summed in `f64` (an `f32` sum
/// over a large embedding's gradient loses digits); on a device each gradient's sum of squares
/// stays there and only the total is read back, once.
pub fn global_norm(grads: &[Option<Tensor>]) -> Result<f64> {
    let mut host = 0.0f64;
    let mut device = Vec::new();
    for g in grads.iter().flatten() {
        match host_sum_of_squares(g)? {
            Some(sum) => host += sum,
            None => device.push(g.sqr()?.sum_all()?),
        }
    }
    if !device.is_empty() {
        host += f64::from(Tensor::stack(&device, 0)?.sum_all()?.to_scalar::<f32>()?);
    }
    Ok(host.sqrt())
}

/// The sum of squares of `g` in `f64` when it is in host memory (read in place when it is a
/// contiguous `f32` tensor, as gradients are); `None` on a device.
fn host_sum_of_squares(g: &Tensor) -> Result<Option<f64>> {
    if !g.device().is_cpu() {
        return Ok(None);
    }
    if !g.is_contiguous() || g.dtype() != candle_core::DType::F32 {
        let g = g.to_dtype(candle_core::DType::F32)?.contiguous()?;
        return host_sum_of_squares(&g);
    }
    let (storage, layout) = g.storage_and_layout();
    let (candle_core::Storage::Cpu(cpu), Some((start, end))) =
        (&*storage, layout.contiguous_offsets())
    else {
        return Ok(None);
    };
    let Ok(values) = cpu.as_slice::<f32>() else {
        return Ok(None);
    };
    // Eight independent sums, so the loop vectorizes.
    let mut lanes = [0f64; 8];
    let chunks = values[start..end].chunks_exact(8);
    let rest: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v).powi(2))
        .sum();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f64::from(v) * f64::from(v);
        }
    }
    Ok(Some(lanes.iter().sum::<f64>() + rest))
}

/// One step's constants, applied to each parameter.
struct Update {
    kind: OptimizerKind,
    lr: f64,
    clip_scale: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    /// `1 - beta1^t`.
    bc1: f64,
    /// `sqrt(1 - beta2^t)`.
    bc2_sqrt: f64,
    weight_decay: f64,
}

impl Update {
    /// LAMB's trust ratio `||w|| / ||u||` (1 when a norm is 0 or the parameter is exempt).
    fn trust(&self, decays: bool, w_norm: f64, u_norm: f64) -> f64 {
        if decays && w_norm > 0.0 && u_norm > 0.0 {
            w_norm / u_norm
        } else {
            1.0
        }
    }

    /// The update of one parameter whose moments are host vectors, made in place in the
    /// parameter's storage: one fused pass over weights, gradient and moments, split over
    /// rayon's threads (two passes for LAMB, whose trust ratio needs the norms first).
    fn host(&self, p: &Param, g: &Tensor, m: &mut [f32], v: &mut [f32]) -> Result<()> {
        let g = g.to_dtype(candle_core::DType::F32)?.contiguous()?;
        let (storage, layout) = g.storage_and_layout();
        let (candle_core::Storage::Cpu(cpu), Some((start, end))) =
            (&*storage, layout.contiguous_offsets())
        else {
            return Err(Error::Internal("a host gradient off the CPU".into()));
        };
        let op = InPlace {
            update: self,
            decay: p.decay,
            g: &cpu.as_slice::<f32>()?[start..end],
            moments: std::sync::Mutex::new((m, v)),
        };
        p.var.as_tensor().inplace_op1(&op)?;
        Ok(())
    }

    /// [`Update::host`]'s arithmetic on slices.
    fn apply(&self, decay: bool, w: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 14;
        let (b1, b2) = (self.beta1 as f32, self.beta2 as f32);
        let scale = self.clip_scale as f32;
        let (bc2_sqrt, eps) = (self.bc2_sqrt as f32, self.eps as f32);
        let wd = if decay { self.weight_decay } else { 0.0 };
        let moments = |g: &[f32], m: &mut [f32], v: &mut [f32]| {
            for i in 0..g.len() {
                let gi = g[i] * scale;
                m[i] = b1 * m[i] + (1.0 - b1) * gi;
                v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            }
        };
        match self.kind {
            OptimizerKind::AdamW => {
                let decay = (1.0 - self.lr * wd) as f32;
                let step_size = (self.lr / self.bc1) as f32;
                w.par_chunks_mut(BLOCK)
                    .zip(g.par_chunks(BLOCK))
                    .zip(m.par_chunks_mut(BLOCK))
                    .zip(v.par_chunks_mut(BLOCK))
                    .for_each(|(((w, g), m), v)| {
                        moments(g, m, v);
                        for i in 0..w.len() {
                            let denom = v[i].sqrt() / bc2_sqrt + eps;
                            w[i] = w[i] * decay - step_size * m[i] / denom;
                        }
                    });
            }
            OptimizerKind::Lamb => {
                moments(g, m, v);
                let (bc1, wd) = (self.bc1 as f32, wd as f32);
                let u: Vec<f32> = (0..w.len())
                    .map(|i| m[i] / bc1 / (v[i].sqrt() / bc2_sqrt + eps) + wd * w[i])
                    .collect();
                let norm = |x: &[f32]| x.iter().map(|&a| f64::from(a).powi(2)).sum::<f64>().sqrt();
                let ratio = self.trust(decay, norm(w), norm(&u));
                let step = (self.lr * ratio) as f32;
                for (wi, ui) in w.iter_mut().zip(&u) {
                    *wi -= step * ui;
                }
            }
        }
    }

    /// The same update with the moments as tensors on the parameter's device.
    fn device(&self, p: &Param, g: &Tensor, m: &mut Tensor, v: &mut Tensor) -> Result<()> {
        let g = g.affine(self.clip_scale, 0.0)?;
        *m = (m.affine(self.beta1, 0.0)? + g.affine(1.0 - self.beta1, 0.0)?)?;
        *v = (v.affine(self.beta2, 0.0)? + g.sqr()?.affine(1.0 - self.beta2, 0.0)?)?;
        let denom = v.sqrt()?.affine(1.0 / self.bc2_sqrt, self.eps)?;
        let wd = if p.decay { self.weight_decay } else { 0.0 };
        let w = p.var.as_tensor();
        let w = match self.kind {
            OptimizerKind::AdamW => {
                let update = m.div(&denom)?.affine(self.lr / self.bc1, 0.0)?;
                (w.affine(1.0 - self.lr * wd, 0.0)? - update)?
            }
            OptimizerKind::Lamb => {
                let u = (m.div(&denom)?.affine(1.0 / self.bc1, 0.0)? + w.affine(wd, 0.0)?)?;
                let norm = |x: &Tensor| -> Result<f64> {
                    Ok(f64::from(x.sqr()?.sum_all()?.to_scalar::<f32>()?).sqrt())
                };
                let ratio = self.trust(p.decay, norm(w)?, norm(&u)?);
                (w - u.affine(self.lr * ratio, 0.0)?)?
            }
        };
        p.var.set(&w)?;
        Ok(())
    }
}

/// The host update as an in-place op on the parameter's storage (no copy of the weights out
/// and back).
struct InPlace<'a> {
    update: &'a Update,
    decay: bool,
    g: &'a [f32],
    moments: std::sync::Mutex<(&'a mut [f32], &'a mut [f32])>,
}

impl candle_core::InplaceOp1 for InPlace<'_> {
    fn name(&self) -> &'static str {
        "optimizer-update"
    }

    fn cpu_fwd(
        &self,
        storage: &mut candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<()> {
        let (candle_core::CpuStorage::F32(w), Some((start, end))) =
            (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("the optimiser updates contiguous f32 parameters");
        };
        let w = &mut w[start..end];
        let mut moments = self.moments.lock().unwrap_or_else(|e| e.into_inner());
        let (m, v) = &mut *moments;
        if w.len() != self.g.len() || m.len() != w.len() || v.len() != w.len() {
            candle_core::bail!("a parameter, its gradient and its moments differ in size");
        }
        self.update.apply(self.decay, w, self.g, m, v);
        Ok(())
    }
}

impl Optimizer {
    /// Zero moments for `params`.
    pub fn new(params: &[Param], config: OptimizerConfig) -> Result<Optimizer> {
        let moments = params
            .iter()
            .map(|p| {
                let t = p.var.as_tensor();
                Ok(match t.device() {
                    Device::Cpu => Moments::Host {
                        m: vec![0.0; t.elem_count()],
                        v: vec![0.0; t.elem_count()],
                    },
                    _ => Moments::Device {
                        m: t.zeros_like()?,
                        v: t.zeros_like()?,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Optimizer {
            config,
            step: 0,
            moments,
        })
    }

    /// Keeps the moments as tensors even on the CPU (the path other devices take).
    pub fn use_tensor_path(&mut self, params: &[Param]) -> Result<()> {
        for (moment, p) in self.moments.iter_mut().zip(params) {
            if let Moments::Host { m, v } = moment {
                let shape = p.var.as_tensor().shape().clone();
                let device = p.var.device().clone();
                *moment = Moments::Device {
                    m: Tensor::from_slice(m, &shape, &device)?,
                    v: Tensor::from_slice(v, &shape, &device)?,
                };
            }
        }
        Ok(())
    }

    /// One update of `params` with `grads` (same order; `None` = no gradient), clipping the
    /// global norm to `max_grad_norm` (no clipping when it is not positive).
    pub fn step(
        &mut self,
        params: &[Param],
        grads: &[Option<Tensor>],
        lr: f64,
        max_grad_norm: f64,
    ) -> Result<StepReport> {
        if params.len() != grads.len() || params.len() != self.moments.len() {
            return Err(Error::Config(format!(
                "optimiser has {} parameters, got {} and {} gradients",
                self.moments.len(),
                params.len(),
                grads.len()
            )));
        }
        let grad_norm = global_norm(grads)?;
        let clip_scale = if max_grad_norm > 0.0 {
            (max_grad_norm / (grad_norm + 1e-6)).min(1.0)
        } else {
            1.0
        };
        self.step += 1;
        let c = self.config;
        let t = self.step as i32;
        let update = Update {
            kind: c.kind,
            lr,
            clip_scale,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            bc1: 1.0 - c.beta1.powi(t),
            bc2_sqrt: (1.0 - c.beta2.powi(t)).sqrt(),
            weight_decay: c.weight_decay,
        };
        for ((p, g), moment) in params.iter().zip(grads).zip(self.moments.iter_mut()) {
            let Some(g) = g else { continue };
            match moment {
                Moments::Host { m, v } => update.host(p, g, m, v)?,
                Moments::Device { m, v } => update.device(p, g, m, v)?,
            }
        }
        Ok(StepReport {
            grad_norm,
            clip_scale,
        })
    }

    /// The moments as named tensors: `exp_avg.NAME` and `exp_avg_sq.NAME` (PyTorch's names).
    pub fn state(&self, params: &[Param]) -> Result<Vec<(String, Tensor)>> {
        let mut out = Vec::with_capacity(2 * params.len());
        for (p, moment) in params.iter().zip(&self.moments) {
            let shape = p.var.as_tensor().shape().clone();
            let (m, v) = match moment {
                Moments::Host { m, v } => (
                    Tensor::from_slice(m, &shape, &Device::Cpu)?,
                    Tensor::from_slice(v, &shape, &Device::Cpu)?,
                ),
                Moments::Device { m, v } => (m.clone(), v.clone()),
            };
            out.push((format!("exp_avg.{}", p.name), m));
            out.push((format!("exp_avg_sq.{}", p.name), v));
        }
        Ok(out)
    }

    /// Restores the moments saved by [`Optimizer::state`] and the step count.
    pub fn restore(
        &mut self,
        params: &[Param],
        mut tensors: HashMap<String, Tensor>,
        step: u64,
    ) -> Result<()> {
        for (p, moment) in params.iter().zip(self.moments.iter_mut()) {
            let mut take = |kind: &str| -> Result<Tensor> {
                let key = format!("{kind}.{}", p.name);
                let t = tensors
                    .remove(&key)
                    .ok_or_else(|| Error::Config(format!("optimiser state has no {key}")))?;
                if t.dims() != p.var.dims() {
                    return Err(Error::Config(format!(
                        "optimiser state {key} has shape {:?}, expected {:?}",
                        t.dims(),
                        p.var.dims()
                    )));
                }
                Ok(t)
            };
            let (m, v) = (take("exp_avg")?, take("exp_avg_sq")?);
            *moment = match moment {
                Moments::Host { .. } => Moments::Host {
                    m: m.flatten_all()?.to_vec1()?,
                    v: v.flatten_all()?.to_vec1()?,
                },
                Moments::Device { .. } => Moments::Device {
                    m: m.to_device(p.var.device())?,
                    v: v.to_device(p.var.device())?,
                },
            };
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    fn param(name: &str, values: &[f32], decay: bool) -> Param {
        Param {
            name: name.into(),
            var: Var::from_slice(values, values.len(), &Device::Cpu).unwrap(),
            decay,
        }
    }

    fn values(p: &Param) -> Vec<f32> {
        p.var.as_tensor().to_vec1().unwrap()
    }

    /// AdamW by hand in f64, one scalar at a time.
    fn reference(w0: f64, grads: &[f64], lr: f64, wd: f64) -> f64 {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-6);
        let (mut w, mut m, mut v) = (w0, 0.0, 0.0);
        for (i, g) in grads.iter().enumerate() {
            let t = (i + 1) as i32;
            w *= 1.0 - lr * wd;
            m = b1 * m + (1.0 - b1) * g;
            v = b2 * v + (1.0 - b2) * g * g;
            let denom = v.sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
            w -= lr / (1.0 - b1.powi(t)) * m / denom;
        }
        w
    }

    #[test]
    fn matches_the_reference_update_with_and_without_decay() {
        let params = vec![
            param("w", &[0.5, -1.0], true),
            param("b.bias", &[0.25], false),
        ];
        let mut opt = Optimizer::new(&params, OptimizerConfig::default()).unwrap();
        let steps = [[0.1f32, -0.3, 0.02], [0.05, 0.2, -0.01], [-0.2, 0.1, 0.03]];
        for g in &steps {
            let grads = vec![
                Some(Tensor::new(&[g[0], g[1]], &Device::Cpu).unwrap()),
                Some(Tensor::new(&[g[2]], &Device::Cpu).unwrap()),
            ];
            opt.step(&params, &grads, 1e-2, 0.0).unwrap();
        }
        let col = |j: usize| steps.iter().map(|g| g[j] as f64).collect::<Vec<_>>();
        let w = values(&params[0]);
        assert!((w[0] as f64 - reference(0.5, &col(0), 1e-2, 0.01)).abs() < 1e-6);
        assert!((w[1] as f64 - reference(-1.0, &col(1), 1e-2, 0.01)).abs() < 1e-6);
        let b = values(&params[1]);
        assert!((b[0] as f64 - reference(0.25, &col(2), 1e-2, 0.0)).abs() < 1e-6);
        assert_eq!(opt.step, 3);
    }

    #[test]
    fn clips_the_global_norm() {
        let params = vec![param("a", &[0.0, 0.0], true), param("b", &[0.0], true)];
        let grads = vec![
            Some(Tensor::new(&[3.0f32, 0.0], &Device::Cpu).unwrap()),
            Some(Tensor::new(&[4.0f32], &Device::Cpu).unwrap()),
        ];
        assert!((global_norm(&grads).unwrap() - 5.0).abs() < 1e-9);
        let mut opt = Optimizer::new(&params, OptimizerConfig::default()).unwrap();
        let report = opt.step(&params, &grads, 0.1, 1.0).unwrap();
        assert!((report.grad_norm - 5.0).abs() < 1e-6);
        assert!((report.clip_scale - 1.0 / (5.0 + 1e-6)).abs() < 1e-9);
        // The first AdamW step moves each weight by about lr * sign(g), clipped or not.
        assert!((values(&params[0])[0] + 0.1).abs() < 1e-4);
        // A parameter without a gradient is left alone.
        let before = values(&params[1]);
        opt.step(&params, &[grads[0].clone(), None], 0.1, 1.0)
            .unwrap();
        assert_eq!(values(&params[1]), before);
    }

    #[test]
    fn global_norm_of_a_large_gradient_keeps_its_digits() {
        // 2^24 values of 1e-3 (and a strided view, read through a copy): an f32 running sum of
        // their squares stalls far below the true 16.78.
        let n = 1usize << 24;
        let g = Tensor::full(1e-3f32, n, &Device::Cpu).unwrap();
        let strided = Tensor::full(1e-3f32, (2, n / 2), &Device::Cpu)
            .unwrap()
            .t()
            .unwrap();
        let exact = (2.0 * n as f64).sqrt() * f64::from(1e-3f32);
        let norm = global_norm(&[Some(g), None, Some(strided)]).unwrap();
        assert!((norm - exact).abs() < 1e-9 * exact, "{norm} vs {exact}");
    }

    #[test]
    fn tensor_path_equals_host_path_and_state_round_trips() {
        for kind in [OptimizerKind::AdamW, OptimizerKind::Lamb] {
            paths_agree_and_state_round_trips(kind);
        }
    }

    /// LAMB by hand in f64: the trust ratio scales the decayed Adam step of `w` to `w`'s norm;
    /// the exempt bias takes the plain Adam step.
    #[test]
    fn lamb_scales_each_step_by_the_tensors_trust_ratio() {
        let params = vec![
            param("w", &[3.0, -4.0], true),
            param("b.bias", &[0.5], false),
        ];
        let config = OptimizerConfig {
            kind: OptimizerKind::Lamb,
            ..OptimizerConfig::default()
        };
        let mut opt = Optimizer::new(&params, config).unwrap();
        let grads = vec![
            Some(Tensor::new(&[0.2f32, 0.1], &Device::Cpu).unwrap()),
            Some(Tensor::new(&[-0.4f32], &Device::Cpu).unwrap()),
        ];
        opt.step(&params, &grads, 1e-2, 0.0).unwrap();
        // Step 1: m_hat = g, v_hat = g^2, so the Adam direction is g / (|g| + eps).
        let adam = |g: f64| g / (g.abs() + 1e-6);
        let w = [3.0f64, -4.0];
        let u: Vec<f64> = [0.2, 0.1]
            .iter()
            .zip(w)
            .map(|(&g, w)| adam(g) + 0.01 * w)
            .collect();
        let ratio = 5.0 / u.iter().map(|x| x * x).sum::<f64>().sqrt();
        let want: Vec<f64> = w
            .iter()
            .zip(&u)
            .map(|(w, u)| w - 1e-2 * ratio * u)
            .collect();
        for (got, want) in values(&params[0]).iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{got} vs {want}");
        }
        let bias = f64::from(values(&params[1])[0]);
        assert!((bias - (0.5 - 1e-2 * adam(-0.4))).abs() < 1e-6, "{bias}");
    }

    fn paths_agree_and_state_round_trips(kind: OptimizerKind) {
        let config = OptimizerConfig {
            kind,
            ..OptimizerConfig::default()
        };
        let run = |tensor_path: bool| {
            let params = vec![
                param("w", &[0.3, -0.7, 1.5], true),
                param("x.bias", &[0.1], false),
            ];
            let mut opt = Optimizer::new(&params, config).unwrap();
            if tensor_path {
                opt.use_tensor_path(&params).unwrap();
            }
            for k in 0..4 {
                let s = k as f32;
                let grads = vec![
                    Some(Tensor::new(&[0.1 + s, -0.2, 0.05 * s], &Device::Cpu).unwrap()),
                    Some(Tensor::new(&[0.3 - s], &Device::Cpu).unwrap()),
                ];
                opt.step(&params, &grads, 1e-3, 1.0).unwrap();
            }
            (params, opt)
        };
        let (host_params, host) = run(false);
        let (dev_params, dev) = run(true);
        for (a, b) in host_params.iter().zip(&dev_params) {
            for (x, y) in values(a).iter().zip(values(b)) {
                // Equal up to f32 rounding (the two paths order the operations differently).
                assert!(
                    (x - y).abs() <= 1e-6 * x.abs().max(1.0),
                    "{kind:?}: {x} vs {y}"
                );
            }
        }
        // Save the host state, restore it into a fresh optimiser, and compare.
        let state: HashMap<String, Tensor> =
            host.state(&host_params).unwrap().into_iter().collect();
        assert!(state.contains_key("exp_avg_sq.x.bias"));
        let mut fresh = Optimizer::new(&host_params, config).unwrap();
        fresh
            .restore(&host_params, state.clone(), host.step)
            .unwrap();
        let again: HashMap<String, Tensor> =
            fresh.state(&host_params).unwrap().into_iter().collect();
        for (k, v) in &state {
            let a: Vec<f32> = v.flatten_all().unwrap().to_vec1().unwrap();
            let b: Vec<f32> = again[k].flatten_all().unwrap().to_vec1().unwrap();
            assert_eq!(a, b, "{k}");
        }
        let _ = dev;
        let mut missing = state;
        missing.remove("exp_avg.w");
        let err = fresh
            .restore(&host_params, missing, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("exp_avg.w"), "{err}");
    }
}
