//! The one source of randomness: a ChaCha12 stream per (seed, purpose, unit, pass).
//!
//! Every random decision in the pipeline draws from an [`UnitRng`] derived from the user's seed
//! and the coordinates of the work it serves, never from a thread-local or OS RNG, so the output
//! is a pure function of (inputs, config, seed) whatever the thread count or the workers that run the tasks.
//!
//! The sampling algorithms (ranges, floats, Fisher-Yates) are written here over the raw
//! ChaCha words, so the output bytes do not change when the `rand` crate changes its own.

use rand_chacha::ChaCha12Rng;
use rand_core::{Rng, SeedableRng};

/// What a stream is used for; part of the key so that streams never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// Pairing sentences and masking tokens for one unit and pass.
    Instances = 1,
    /// Shuffling one spill bucket (keyed by bucket, and task in place of the pass).
    Shuffle = 2,
    /// Assigning a unit's instances to spill buckets.
    Bucket = 3,
    /// Initial weights of a model being trained (`unit` and `pass` 0).
    Init = 4,
    /// Dropout masks of one training step (`unit` = step, `pass` = micro-batch).
    Dropout = 5,
    /// Order of a training epoch's row groups (`unit` = epoch).
    DataOrder = 6,
    /// Shuffling one window of training rows (`unit` = epoch, `pass` = window).
    DataShuffle = 7,
    /// Holding rows out for evaluation (`unit` = shard, `pass` = row group).
    Holdout = 8,
    /// Masks drawn in training for rows of a `--masking dynamic` build (`unit` = epoch,
    /// `pass` = row group in file order).
    TrainMasks = 9,
}

/// A seeded random stream with the sampling helpers the pipeline needs. A clone goes on to draw
/// exactly what the original draws next.
#[derive(Clone)]
pub struct UnitRng {
    inner: ChaCha12Rng,
}

impl std::fmt::Debug for UnitRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnitRng")
    }
}

impl UnitRng {
    /// The stream for `purpose` on work unit `unit`, duplication pass `pass`.
    pub fn new(seed: u64, purpose: Purpose, unit: u64, pass: u64) -> Self {
        let mut key = [0u8; 32];
        key[0..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&(purpose as u64).to_le_bytes());
        key[16..24].copy_from_slice(&unit.to_le_bytes());
        key[24..32].copy_from_slice(&pass.to_le_bytes());
        UnitRng {
            inner: ChaCha12Rng::from_seed(key),
        }
    }

    /// A uniform 64-bit word.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// A uniform 32-bit word (the high half of a 64-bit draw).
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A standard normal draw (Box-Muller; one draw per call, the pair's second value is
    /// discarded so that the stream position depends only on the number of calls).
    pub fn standard_normal(&mut self) -> f64 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.unit_f64();
        let u2 = self.unit_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A uniform float in [0, 1) with 53 bits of precision.
    pub fn unit_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit_f64() < p
    }

    /// A uniform integer in `0..n` (Lemire's nearly-divisionless method, unbiased).
    ///
    /// `n == 0` returns 0 so callers never divide by zero; they guard emptiness themselves.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        let mut m = u128::from(self.next_u64()) * u128::from(n);
        let mut low = m as u64;
        if low < n {
            let threshold = n.wrapping_neg() % n;
            while low < threshold {
                m = u128::from(self.next_u64()) * u128::from(n);
                low = m as u64;
            }
        }
        (m >> 64) as u64
    }

    /// A uniform index in `0..n` as `usize`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// A uniform integer in the inclusive range `[lo, hi]` (`hi >= lo`).
    pub fn inclusive(&mut self, lo: usize, hi: usize) -> usize {
        debug_assert!(hi >= lo);
        lo + self.index(hi - lo + 1)
    }

    /// Shuffles `items` in place (Fisher-Yates, from the back).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_coordinates_give_same_stream() {
        let mut a = UnitRng::new(7, Purpose::Instances, 3, 1);
        let mut b = UnitRng::new(7, Purpose::Instances, 3, 1);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    #[test]
    fn different_coordinates_give_different_streams() {
        let first = |seed, purpose, unit, pass| UnitRng::new(seed, purpose, unit, pass).next_u64();
        let base = first(7, Purpose::Instances, 3, 1);
        assert_ne!(base, first(8, Purpose::Instances, 3, 1));
        assert_ne!(base, first(7, Purpose::Shuffle, 3, 1));
        assert_ne!(base, first(7, Purpose::Instances, 4, 1));
        assert_ne!(base, first(7, Purpose::Instances, 3, 2));
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = UnitRng::new(1, Purpose::Instances, 0, 0);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[rng.index(7)] += 1;
        }
        for c in counts {
            assert!((9_300..10_700).contains(&c), "{counts:?}");
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
    }

    #[test]
    fn inclusive_hits_both_ends() {
        let mut rng = UnitRng::new(2, Purpose::Instances, 0, 0);
        let draws: Vec<usize> = (0..1000).map(|_| rng.inclusive(2, 5)).collect();
        assert!(draws.iter().all(|d| (2..=5).contains(d)));
        assert!(draws.contains(&2) && draws.contains(&5));
    }

    #[test]
    fn unit_f64_in_range_with_mean_half() {
        let mut rng = UnitRng::new(3, Purpose::Instances, 0, 0);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = rng.unit_f64();
            assert!((0.0..1.0).contains(&x));
            sum += x;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.01);
    }

    #[test]
    fn standard_normal_has_mean_zero_and_unit_variance() {
        let mut rng = UnitRng::new(5, Purpose::Init, 0, 0);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| rng.standard_normal()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        let beyond_two = draws.iter().filter(|x| x.abs() > 2.0).count() as f64 / n as f64;
        assert!((beyond_two - 0.0455).abs() < 0.003, "tail {beyond_two}");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = UnitRng::new(4, Purpose::Shuffle, 0, 0);
        let mut v: Vec<u32> = (0..100).collect();
        rng.shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }
}
