//! Dropout whose masks come from our seeded RNG.
//!
//! candle's `ops::dropout` draws from the device RNG, which cannot be seeded on the CPU, so a
//! run could not be repeated or resumed exactly. Here every mask is drawn from a [`UnitRng`]
//! that the trainer derives from (seed, step, micro-batch): element `i` is kept when the i-th
//! 32-bit draw is at least `p * 2^32`, and kept values are scaled by `1 / (1 - p)` (inverted
//! dropout, as `torch.nn.Dropout`). With no RNG (evaluation, parity checks) dropout is the
//! identity. On the CPU the mask is kept as bits inside one custom op with its own backward
//! pass, not as an f32 tensor beside the input and output.
//!
//! On a GPU, drawing masks on the host and copying them over would cost more than the step
//! itself (a base model's step needs ~150 M mask values), so the masks come from the device's
//! generator instead, which [`seed_device`] reseeds from the same stream at the start of every
//! micro-batch: runs on one kind of GPU repeat and resume exactly, but their masks differ from
//! the CPU's.

use candle_core::{Device, Tensor};

use crate::error::Result;
use bertprep::rng::UnitRng;

/// `x` with each element zeroed with probability `p` and the rest scaled by `1 / (1 - p)`;
/// the identity when `rng` is `None` or `p` is 0.
pub fn dropout(x: &Tensor, p: f64, rng: Option<&mut UnitRng>) -> Result<Tensor> {
    let Some(rng) = rng else {
        return Ok(x.clone());
    };
    if p <= 0.0 {
        return Ok(x.clone());
    }
    if !x.device().is_cpu() {
        let scale = 1.0 / (1.0 - p);
        let keep = x.rand_like(0.0, 1.0)?.ge(p)?.to_dtype(x.dtype())?;
        return Ok(x.mul(&keep.affine(scale, 0.0)?)?);
    }
    if x.dtype() != candle_core::DType::F32 {
        let mask = keep_mask(rng, x.elem_count(), p);
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        return Ok(x.mul(&mask)?);
    }
    let op = DropoutOp {
        keep: keep_bits(rng, x.elem_count(), p),
        scale: (1.0 / (1.0 - p)) as f32,
    };
    Ok(x.contiguous()?.apply_op1(op)?)
}

/// `n` keep bits, 64 to a word: bit `i` is set when the i-th 32-bit draw is at least
/// `p * 2^32`.
pub fn keep_bits(rng: &mut UnitRng, n: usize, p: f64) -> Vec<u64> {
    let threshold = (p * 4_294_967_296.0).min(u32::MAX as f64) as u32;
    let mut bits = vec![0u64; n.div_ceil(64)];
    let mut i = 0;
    while i < n {
        let word = rng.next_u64();
        for half in [word as u32, (word >> 32) as u32] {
            if i < n {
                bits[i / 64] |= u64::from(half >= threshold) << (i % 64);
                i += 1;
            }
        }
    }
    bits
}

/// Dropout on the CPU as one op that keeps its mask as bits (32x smaller than a mask tensor)
/// and no copy of its input: forward and backward multiply by the same `scale` or 0.
struct DropoutOp {
    keep: Vec<u64>,
    scale: f32,
}

impl DropoutOp {
    fn apply(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .enumerate()
            .map(|(i, &v)| {
                let kept = self.keep[i / 64] >> (i % 64) & 1 == 1;
                v * if kept { self.scale } else { 0.0 }
            })
            .collect()
    }
}

impl candle_core::CustomOp1 for DropoutOp {
    fn name(&self) -> &'static str {
        "bert-dropout"
    }

    fn cpu_fwd(
        &self,
        storage: &candle_core::CpuStorage,
        layout: &candle_core::Layout,
    ) -> candle_core::Result<(candle_core::CpuStorage, candle_core::Shape)> {
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("dropout of a non-contiguous tensor");
        };
        let x = &storage.as_slice::<f32>()?[start..end];
        Ok((
            candle_core::CpuStorage::F32(self.apply(x)),
            layout.shape().clone(),
        ))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let g: Vec<f32> = grad.flatten_all()?.to_vec1()?;
        Ok(Some(Tensor::from_vec(
            self.apply(&g),
            grad.shape(),
            grad.device(),
        )?))
    }
}

/// Reseeds `device`'s generator from `rng` (nothing on the CPU, whose masks `rng` draws).
pub fn seed_device(device: &Device, rng: &mut UnitRng) -> Result<()> {
    if !device.is_cpu() {
        device.set_seed(rng.next_u64())?;
    }
    Ok(())
}

/// `n` mask values: 0 with probability `p`, else `1 / (1 - p)` (the bits of [`keep_bits`]).
pub fn keep_mask(rng: &mut UnitRng, n: usize, p: f64) -> Vec<f32> {
    let scale = (1.0 / (1.0 - p)) as f32;
    let bits = keep_bits(rng, n, p);
    (0..n)
        .map(|i| {
            if bits[i / 64] >> (i % 64) & 1 == 1 {
                scale
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bertprep::rng::Purpose;

    #[test]
    fn drops_about_p_and_rescales() {
        let x = Tensor::ones((200, 500), candle_core::DType::F32, &Device::Cpu).unwrap();
        let mut rng = UnitRng::new(1, Purpose::Dropout, 0, 0);
        let y = dropout(&x, 0.1, Some(&mut rng)).unwrap();
        let v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        let zeros = v.iter().filter(|&&x| x == 0.0).count() as f64 / v.len() as f64;
        assert!((zeros - 0.1).abs() < 0.005, "{zeros}");
        assert!(v.iter().all(|&x| x == 0.0 || (x - 1.0 / 0.9).abs() < 1e-6));
        // The mean is preserved.
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn the_bit_mask_op_equals_multiplying_by_the_mask() {
        let x = Tensor::arange(-500f32, 500., &Device::Cpu).unwrap();
        let var = candle_core::Var::from_tensor(&x).unwrap();
        let mut rng = UnitRng::new(3, Purpose::Dropout, 0, 0);
        let y = dropout(var.as_tensor(), 0.1, Some(&mut rng)).unwrap();
        let mut rng = UnitRng::new(3, Purpose::Dropout, 0, 0);
        let mask = keep_mask(&mut rng, 1000, 0.1);
        let want: Vec<f32> = x
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .zip(&mask)
            .map(|(a, b)| a * b)
            .collect();
        let got: Vec<f32> = y.to_vec1().unwrap();
        assert_eq!(
            got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        // The gradient of sum(w * y) is w * mask.
        let w = Tensor::arange(0f32, 1000., &Device::Cpu).unwrap();
        let grads = (&y * &w).unwrap().sum_all().unwrap().backward().unwrap();
        let g: Vec<f32> = grads.get(var.as_tensor()).unwrap().to_vec1().unwrap();
        let want: Vec<f32> = mask.iter().enumerate().map(|(i, m)| i as f32 * m).collect();
        assert_eq!(g, want);
    }

    #[test]
    fn masks_repeat_with_the_stream_and_eval_is_identity() {
        let x = Tensor::arange(0f32, 64., &Device::Cpu).unwrap();
        let run = |unit| {
            let mut rng = UnitRng::new(9, Purpose::Dropout, unit, 0);
            dropout(&x, 0.5, Some(&mut rng))
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        let same = dropout(&x, 0.5, None).unwrap().to_vec1::<f32>().unwrap();
        assert_eq!(same, x.to_vec1::<f32>().unwrap());
    }
}
