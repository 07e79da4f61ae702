//! The learning-rate schedule: linear warm-up from 0 to the peak, then linear decay to 0.
//!
//! Mirrors `transformers.get_linear_schedule_with_warmup`: the multiplier at optimiser step
//! `s` (0-based: the first update uses `s = 0`) is `s / warmup` while `s < warmup`, then
//! `max(0, (total - s) / (total - warmup))`. It is a pure function of the step, so resuming
//! needs only the step count.

use serde::{Deserialize, Serialize};

/// Linear warm-up and decay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LinearSchedule {
    /// Learning rate at the end of warm-up.
    pub peak: f64,
    /// Steps of warm-up.
    pub warmup: u64,
    /// Total optimiser steps (the rate reaches 0 there).
    pub total: u64,
}

impl LinearSchedule {
    /// The learning rate of optimiser step `step` (0-based).
    pub fn lr(&self, step: u64) -> f64 {
        let s = step as f64;
        if step < self.warmup {
            return self.peak * s / self.warmup.max(1) as f64;
        }
        let left = self.total.saturating_sub(step) as f64;
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        self.peak * (left / span).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_zero() {
        let s = LinearSchedule {
            peak: 1e-3,
            warmup: 10,
            total: 110,
        };
        assert_eq!(s.lr(0), 0.0);
        assert!((s.lr(5) - 5e-4).abs() < 1e-12);
        assert!((s.lr(10) - 1e-3).abs() < 1e-12);
        assert!((s.lr(60) - 5e-4).abs() < 1e-12);
        assert_eq!(s.lr(110), 0.0);
        assert_eq!(s.lr(500), 0.0);
        let flat = LinearSchedule {
            peak: 1.0,
            warmup: 0,
            total: 4,
        };
        assert_eq!(
            (0..5).map(|i| flat.lr(i)).collect::<Vec<_>>(),
            [1.0, 0.75, 0.5, 0.25, 0.0]
        );
    }
}
