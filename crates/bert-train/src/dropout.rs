//! Dropout whose masks come from our seeded RNG.
//!
//! candle's `ops::dropout` draws from the device RNG, which cannot be seeded on the CPU, so a
//! run could not be repeated or resumed exactly. Here every mask is drawn from a [`UnitRng`]
//! that the trainer derives from (seed, step, micro-batch): element `i` is kept when the i-th
//! 32-bit draw is at least `p * 2^32`, and kept values are scaled by `1 / (1 - p)` (inverted
//! dropout, as `torch.nn.Dropout`). With no RNG (evaluation, parity checks) dropout is the
//! identity.
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
    let mask = keep_mask(rng, x.elem_count(), p);
    let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
    Ok(x.mul(&mask)?)
}

/// Reseeds `device`'s generator from `rng` (nothing on the CPU, whose masks `rng` draws).
pub fn seed_device(device: &Device, rng: &mut UnitRng) -> Result<()> {
    if !device.is_cpu() {
        device.set_seed(rng.next_u64())?;
    }
    Ok(())
}

/// `n` mask values: 0 with probability `p`, else `1 / (1 - p)`.
pub fn keep_mask(rng: &mut UnitRng, n: usize, p: f64) -> Vec<f32> {
    let threshold = (p * 4_294_967_296.0).min(u32::MAX as f64) as u32;
    let scale = (1.0 / (1.0 - p)) as f32;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let word = rng.next_u64();
        for half in [word as u32, (word >> 32) as u32] {
            if out.len() < n {
                out.push(if half >= threshold { scale } else { 0.0 });
            }
        }
    }
    out
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
