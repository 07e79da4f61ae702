//! Fused CPU kernels with hand-written backward passes: LayerNorm, the attention's scaled and
//! masked softmax, and GELU.
//!
//! Built from candle's primitive ops, each of these is several single-threaded passes over the
//! activations, every intermediate kept alive for the backward pass: a LayerNorm of `[N, H]`
//! keeps eight `[N, H]` tensors, the softmax of the attention scores five
//! `[B, heads, L, L]` ones, GELU's backward builds six `[N, 4H]` ones. Here each is one candle
//! custom op (`CustomOp1/2/3`) whose forward and backward are one pass each over rows, split
//! into fixed blocks of rows on rayon's threads (so sums never depend on the thread count), and
//! which keeps only its inputs and output. The arithmetic is PyTorch's: `F.layer_norm` with the
//! biased variance, `softmax(scale * s + mask)` over the last dimension, the exact erf GELU.
//! Tests hold each to the composite ops, value and gradient. Tensors off the CPU, or not f32,
//! take the composite ops.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, CustomOp3, Layout, Shape, Tensor, D};
use rayon::prelude::*;

use crate::error::Result;

/// Rows per block of work (and per partial sum of a parameter's gradient).
const BLOCK_ROWS: usize = 32;

/// Whether `x` takes the fused kernels.
fn fused(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == candle_core::DType::F32
}

/// `torch.nn.functional.layer_norm(x, [H], weight, bias, eps)` over the last dimension.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    if !fused(x) {
        return Ok(candle_nn::ops::layer_norm_slow(
            x, weight, bias, eps as f32,
        )?);
    }
    Ok(x.contiguous()?.apply_op3(
        &weight.contiguous()?,
        &bias.contiguous()?,
        LayerNormOp { eps: eps as f32 },
    )?)
}

/// `softmax(scores * scale + mask)` over the last dimension: `scores` `[B, heads, Lq, Lk]`,
/// `mask` `[B, 1, 1, Lk]` (additive; no gradient).
pub fn masked_softmax(scores: &Tensor, mask: &Tensor, scale: f64) -> Result<Tensor> {
    if !fused(scores) || mask.dtype() != scores.dtype() {
        let scores = scores.affine(scale, 0.0)?.broadcast_add(mask)?;
        return Ok(candle_nn::ops::softmax(&scores, D::Minus1)?);
    }
    let (b, _, _, lk) = scores.dims4()?;
    if mask.dims() != [b, 1, 1, lk] {
        return Err(crate::error::Error::Internal(format!(
            "masked_softmax: mask {:?} for scores {:?}",
            mask.dims(),
            scores.dims()
        )));
    }
    Ok(scores.contiguous()?.apply_op2(
        &mask.contiguous()?,
        SoftmaxOp {
            scale: scale as f32,
        },
    )?)
}

/// The exact GELU, `x * (1 + erf(x / sqrt(2))) / 2` (`hidden_act: "gelu"`).
pub fn gelu(x: &Tensor) -> Result<Tensor> {
    if !fused(x) {
        return Ok(x.gelu_erf()?);
    }
    Ok(x.contiguous()?.apply_op1(GeluOp)?)
}

/// The data of a contiguous f32 CPU storage.
fn slice<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let data = storage.as_slice::<f32>()?;
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("a fused op got a non-contiguous tensor"),
    }
}

/// Calls `f` with the data of the f32 CPU tensor `t`.
fn with_data<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> candle_core::Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else {
        candle_core::bail!("a fused op got a tensor off the CPU");
    };
    Ok(f(slice(cpu, layout)?))
}

fn tensor_like(data: Vec<f32>, like: &Tensor) -> candle_core::Result<Tensor> {
    Tensor::from_vec(data, like.shape(), like.device())
}

/// Mean and `1 / sqrt(var + eps)` of one row (biased variance, accumulated in f64).
fn moments(x: &[f32], eps: f32) -> (f32, f32) {
    let n = x.len() as f64;
    let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = x
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean as f32, (1.0 / (var + f64::from(eps)).sqrt()) as f32)
}

struct LayerNormOp {
    eps: f32,
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "bert-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, w, b) = (slice(s1, l1)?, slice(s2, l2)?, slice(s3, l3)?);
        let h = w.len();
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(h * BLOCK_ROWS)
            .zip(x.par_chunks(h * BLOCK_ROWS))
            .for_each(|(y, x)| {
                for (y, x) in y.chunks_mut(h).zip(x.chunks(h)) {
                    let (mean, rstd) = moments(x, self.eps);
                    for i in 0..h {
                        y[i] = (x[i] - mean) * rstd * w[i] + b[i];
                    }
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let h = w.elem_count();
        let (dx, dw, db) = with_data(x, |x| {
            with_data(w, |w| {
                with_data(grad, |g| layer_norm_backward(x, w, g, h, self.eps))
            })
        })????;
        Ok((
            Some(tensor_like(dx, x)?),
            Some(tensor_like(dw, w)?),
            Some(tensor_like(db, b)?),
        ))
    }
}

/// `(dx, dweight, dbias)` of LayerNorm for rows of `h`.
fn layer_norm_backward(
    x: &[f32],
    w: &[f32],
    g: &[f32],
    h: usize,
    eps: f32,
) -> candle_core::Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
    let mut dx = vec![0f32; x.len()];
    let partials: Vec<(Vec<f32>, Vec<f32>)> = dx
        .par_chunks_mut(h * BLOCK_ROWS)
        .zip(x.par_chunks(h * BLOCK_ROWS))
        .zip(g.par_chunks(h * BLOCK_ROWS))
        .map(|((dx, x), g)| {
            let (mut dw, mut db) = (vec![0f32; h], vec![0f32; h]);
            for ((dx, x), g) in dx.chunks_mut(h).zip(x.chunks(h)).zip(g.chunks(h)) {
                let (mean, rstd) = moments(x, eps);
                let (mut sum_gw, mut sum_gw_xhat) = (0f32, 0f32);
                for i in 0..h {
                    let xhat = (x[i] - mean) * rstd;
                    let gw = g[i] * w[i];
                    sum_gw += gw;
                    sum_gw_xhat += gw * xhat;
                    dw[i] += g[i] * xhat;
                    db[i] += g[i];
                }
                let (a, c) = (sum_gw / h as f32, sum_gw_xhat / h as f32);
                for i in 0..h {
                    let xhat = (x[i] - mean) * rstd;
                    dx[i] = rstd * (g[i] * w[i] - a - xhat * c);
                }
            }
            (dw, db)
        })
        .collect();
    let (mut dw, mut db) = (vec![0f32; h], vec![0f32; h]);
    for (pw, pb) in partials {
        for i in 0..h {
            dw[i] += pw[i];
            db[i] += pb[i];
        }
    }
    Ok((dx, dw, db))
}

struct SoftmaxOp {
    scale: f32,
}

impl CustomOp2 for SoftmaxOp {
    fn name(&self) -> &'static str {
        "bert-masked-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (s, mask) = (slice(s1, l1)?, slice(s2, l2)?);
        let lk = l1.dims()[3];
        // Rows of one batch element share its row of the mask.
        let rows_per_mask = s.len() / mask.len();
        let mut y = vec![0f32; s.len()];
        y.par_chunks_mut(lk * BLOCK_ROWS)
            .zip(s.par_chunks(lk * BLOCK_ROWS))
            .enumerate()
            .for_each(|(block, (y, s))| {
                for (r, (y, s)) in y.chunks_mut(lk).zip(s.chunks(lk)).enumerate() {
                    let row = block * BLOCK_ROWS + r;
                    let m = &mask[row / rows_per_mask * lk..][..lk];
                    let mut max = f32::NEG_INFINITY;
                    for j in 0..lk {
                        y[j] = s[j] * self.scale + m[j];
                        max = max.max(y[j]);
                    }
                    let mut sum = 0f32;
                    for v in y.iter_mut() {
                        *v = (*v - max).exp();
                        sum += *v;
                    }
                    for v in y.iter_mut() {
                        *v /= sum;
                    }
                }
            });
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        scores: &Tensor,
        _mask: &Tensor,
        res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let lk = scores.dim(D::Minus1)?;
        let ds = with_data(res, |y| {
            with_data(grad, |g| {
                let mut ds = vec![0f32; y.len()];
                ds.par_chunks_mut(lk * BLOCK_ROWS)
                    .zip(y.par_chunks(lk * BLOCK_ROWS))
                    .zip(g.par_chunks(lk * BLOCK_ROWS))
                    .for_each(|((ds, y), g)| {
                        for ((ds, y), g) in ds.chunks_mut(lk).zip(y.chunks(lk)).zip(g.chunks(lk)) {
                            let dot: f32 = y.iter().zip(g).map(|(a, b)| a * b).sum();
                            for j in 0..lk {
                                ds[j] = self.scale * y[j] * (g[j] - dot);
                            }
                        }
                    });
                ds
            })
        })??;
        Ok((Some(tensor_like(ds, scores)?), None))
    }
}

struct GeluOp;

/// Elements per block of GELU's work.
const GELU_BLOCK: usize = 1 << 14;

impl CustomOp1 for GeluOp {
    fn name(&self) -> &'static str {
        "bert-gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = slice(s, l)?;
        let mut y = vec![0f32; x.len()];
        y.par_chunks_mut(GELU_BLOCK)
            .zip(x.par_chunks(GELU_BLOCK))
            .for_each(|(y, x)| {
                for (y, &x) in y.iter_mut().zip(x) {
                    *y = (candle_core::cpu::erf::erf_f32(x * std::f32::consts::FRAC_1_SQRT_2)
                        + 1.0)
                        * 0.5
                        * x;
                }
            });
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        // d/dx = (1 + erf(x / sqrt 2)) / 2 + x * exp(-x^2 / 2) / sqrt(2 pi)
        let inv_sqrt_2pi = 0.5 * std::f32::consts::FRAC_2_SQRT_PI * std::f32::consts::FRAC_1_SQRT_2;
        let dx = with_data(x, |x| {
            with_data(grad, |g| {
                let mut dx = vec![0f32; x.len()];
                dx.par_chunks_mut(GELU_BLOCK)
                    .zip(x.par_chunks(GELU_BLOCK))
                    .zip(g.par_chunks(GELU_BLOCK))
                    .for_each(|((dx, x), g)| {
                        for ((dx, &x), &g) in dx.iter_mut().zip(x).zip(g) {
                            let cdf = 0.5
                                * (1.0
                                    + candle_core::cpu::erf::erf_f32(
                                        x * std::f32::consts::FRAC_1_SQRT_2,
                                    ));
                            *dx = g * (cdf + x * (-0.5 * x * x).exp() * inv_sqrt_2pi);
                        }
                    });
                dx
            })
        })??;
        Ok(Some(tensor_like(dx, x)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, IndexOp, Var};

    fn close(a: &Tensor, b: &Tensor, tol: f32, what: &str) {
        let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a.len(), b.len());
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
            .fold(0f32, f32::max);
        assert!(worst < tol, "{what}: differs by {worst}");
    }

    fn random(shape: &[usize], seed: u64) -> Tensor {
        let mut rng = bertprep::rng::UnitRng::new(seed, bertprep::rng::Purpose::Dropout, 0, 0);
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0)
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    /// Value and gradients of `fused` and `composite` on the same inputs, through a random
    /// projection of the output (so every output element's gradient differs).
    fn same(
        inputs: &[Tensor],
        fused: impl Fn(&[Tensor]) -> Tensor,
        composite: impl Fn(&[Tensor]) -> Tensor,
        what: &str,
    ) {
        let vars: Vec<Var> = inputs
            .iter()
            .map(|t| Var::from_tensor(t).unwrap())
            .collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let a = fused(&ts);
        let b = composite(&ts);
        close(&a, &b, 1e-5, what);
        let project = random(a.dims(), 99);
        let ga = (&a * &project)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let gb = (&b * &project)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for (k, t) in ts.iter().enumerate() {
            close(
                ga.get(t).unwrap(),
                gb.get(t).unwrap(),
                1e-4,
                &format!("{what}: gradient of input {k}"),
            );
        }
    }

    #[test]
    fn layer_norm_equals_the_composite_ops() {
        let x = (random(&[3, 70, 48], 1) * 3.0)
            .unwrap()
            .affine(1.0, 0.5)
            .unwrap();
        let (w, b) = (random(&[48], 2), random(&[48], 3));
        same(
            &[x, w, b],
            |t| layer_norm(&t[0], &t[1], &t[2], 1e-12).unwrap(),
            |t| candle_nn::ops::layer_norm_slow(&t[0], &t[1], &t[2], 1e-12).unwrap(),
            "layer_norm",
        );
    }

    #[test]
    fn masked_softmax_equals_the_composite_ops() {
        let scores = (random(&[2, 3, 40, 40], 4) * 4.0).unwrap();
        let mut mask = vec![0f32; 2 * 40];
        for v in &mut mask[40 + 31..] {
            *v = f32::MIN;
        }
        let mask = Tensor::from_vec(mask, (2, 1, 1, 40), &Device::Cpu).unwrap();
        let scale = 1.0 / 8f64.sqrt();
        let composite = |t: &[Tensor]| {
            let s = t[0]
                .affine(scale, 0.0)
                .unwrap()
                .broadcast_add(&mask)
                .unwrap();
            candle_nn::ops::softmax(&s, D::Minus1).unwrap()
        };
        let fused = |t: &[Tensor]| masked_softmax(&t[0], &mask, scale).unwrap();
        same(
            std::slice::from_ref(&scores),
            fused,
            composite,
            "masked_softmax",
        );
        // Masked keys get exactly zero weight.
        let y: Vec<f32> = fused(&[scores]).i((1, 2, 5)).unwrap().to_vec1().unwrap();
        assert!(y[31..].iter().all(|&v| v == 0.0));
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn gelu_equals_the_composite_ops() {
        let x = (random(&[5, 1000], 5) * 3.0).unwrap();
        same(
            &[x],
            |t| gelu(&t[0]).unwrap(),
            |t| t[0].gelu_erf().unwrap(),
            "gelu",
        );
    }

    #[test]
    fn other_dtypes_take_the_composite_ops() {
        let x = random(&[4, 8], 6).to_dtype(DType::F64).unwrap();
        let y = gelu(&x).unwrap();
        assert_eq!(y.dtype(), DType::F64);
    }
}
