//! Which rows a run reads, in which order: epochs, shuffle windows, held-out rows, and the
//! position that makes resuming exact.
//!
//! An epoch visits every row group of every shard once, in an order shuffled with the stream
//! `(seed, DataOrder, epoch)`. Consecutive row groups in that order form *windows* of at least
//! `window_rows` rows; a window is read whole and its rows are shuffled with the stream
//! `(seed, DataShuffle, epoch, window)`. This is a shuffle buffer whose contents are a function
//! of (seed, epoch, window) alone, so the reader's state is just a [`DataPosition`] — (epoch,
//! window, offset) of the next row — and a resumed run reads exactly the rows a straight run
//! would, without replaying the stream. Memory is one window (plus the row groups being
//! decoded ahead).
//!
//! With `eval_fraction > 0`, each row is held out with that probability, decided by the
//! stream `(seed, Holdout, shard, row group)` in row order: training never sees held-out rows
//! and evaluation sees only them, whatever the epoch or window.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::shards::{Limits, Rows, ShardSet};
use crate::batch::Batch;
use crate::error::Result;
use bertprep::rng::{Purpose, UnitRng};

/// Where the next training row comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPosition {
    pub epoch: u64,
    pub window: u64,
    /// Rows of the window already consumed.
    pub offset: u64,
}

/// Which rows of the shards a plan reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Selection {
    /// Every row.
    All,
    /// Rows not held out with probability `fraction`.
    Train { fraction: f64 },
    /// Rows held out with probability `fraction`.
    Held { fraction: f64 },
}

/// The epoch whose masks evaluation rows of a `--masking dynamic` build get.
const EVAL_MASKS: u64 = u64::MAX;

/// The rows of a shard set a run reads and the order it reads them in.
#[derive(Debug, Clone)]
pub struct Plan {
    pub shards: Arc<ShardSet>,
    pub selection: Selection,
    pub seed: u64,
    /// Minimum rows per shuffle window.
    pub window_rows: usize,
    pub limits: Limits,
    /// `(shard, row group, rows)` of every row group, in file order.
    units: Vec<(usize, usize, usize)>,
}

impl Plan {
    pub fn new(
        shards: Arc<ShardSet>,
        selection: Selection,
        seed: u64,
        window_rows: usize,
        limits: Limits,
    ) -> Plan {
        let units = shards
            .files
            .iter()
            .enumerate()
            .flat_map(|(s, f)| {
                f.row_group_rows
                    .iter()
                    .enumerate()
                    .map(move |(g, &rows)| (s, g, rows as usize))
            })
            .collect();
        Plan {
            shards,
            selection,
            seed,
            window_rows: window_rows.max(1),
            limits,
            units,
        }
    }

    /// Which rows of a row group this plan takes (`None` = all).
    fn keep(&self, shard: usize, group: usize, rows: usize) -> Option<Vec<bool>> {
        let (fraction, held) = match self.selection {
            Selection::All => return None,
            Selection::Train { fraction } => (fraction, false),
            Selection::Held { fraction } => (fraction, true),
        };
        let mut rng = UnitRng::new(self.seed, Purpose::Holdout, shard as u64, group as u64);
        Some((0..rows).map(|_| rng.chance(fraction) == held).collect())
    }

    /// Rows this plan takes per epoch.
    pub fn rows(&self) -> usize {
        self.units
            .iter()
            .map(|&(s, g, rows)| match self.keep(s, g, rows) {
                None => rows,
                Some(k) => k.iter().filter(|&&b| b).count(),
            })
            .sum()
    }

    /// Reads row group `unit` (an index into the file-order list), keeping the plan's rows;
    /// rows of a `--masking dynamic` build get the masks of `epoch` (the stream
    /// `(seed, TrainMasks, epoch, unit)`, so a resumed run draws the same ones).
    fn read_unit(&self, unit: usize, epoch: u64) -> Result<Rows> {
        let (s, g, rows) = self.units[unit];
        let all = self.shards.read(s, g, self.limits)?;
        let mut kept = match self.keep(s, g, rows.min(all.len())) {
            None => all,
            Some(keep) => {
                let mut kept = Rows::default();
                kept.extend_from(&all, Some(&keep));
                kept
            }
        };
        if !self.shards.form().is_static() {
            let mut rng = UnitRng::new(self.seed, Purpose::TrainMasks, epoch, unit as u64);
            self.shards.mask_rows(&mut kept, &mut rng);
        }
        Ok(kept)
    }

    /// The windows of `epoch`: lists of row-group indices.
    pub fn windows(&self, epoch: u64) -> Vec<Vec<usize>> {
        let mut order: Vec<usize> = (0..self.units.len()).collect();
        UnitRng::new(self.seed, Purpose::DataOrder, epoch, 0).shuffle(&mut order);
        let mut windows = Vec::new();
        let mut current = Vec::new();
        let mut rows = 0;
        for u in order {
            current.push(u);
            rows += self.units[u].2;
            if rows >= self.window_rows {
                windows.push(std::mem::take(&mut current));
                rows = 0;
            }
        }
        if !current.is_empty() {
            windows.push(current);
        }
        windows
    }

    /// The rows of window `window` of `epoch`, in their shuffled order.
    pub fn window(&self, epoch: u64, window: usize, units: &[usize]) -> Result<Rows> {
        let mut rows = Rows::default();
        for &u in units {
            rows.extend_from(&self.read_unit(u, epoch)?, None);
        }
        let mut order: Vec<usize> = (0..rows.len()).collect();
        UnitRng::new(self.seed, Purpose::DataShuffle, epoch, window as u64).shuffle(&mut order);
        let mut shuffled = Rows::default();
        for i in order {
            shuffled.push(rows.row(i));
        }
        Ok(shuffled)
    }

    /// Up to `max_batches` batches of `batch_size` rows in file order (no shuffling), the
    /// last one possibly short: the evaluation set.
    pub fn sequential_batches(&self, batch_size: usize, max_batches: usize) -> Result<Vec<Batch>> {
        let mut batches = Vec::new();
        let mut pending = Rows::default();
        for unit in 0..self.units.len() {
            // Evaluation masks are the same at every evaluation.
            let rows = self.read_unit(unit, EVAL_MASKS)?;
            for i in 0..rows.len() {
                pending.push(rows.row(i));
                if pending.len() == batch_size {
                    batches.push(Batch::from_rows(&pending.refs()));
                    pending = Rows::default();
                    if batches.len() == max_batches {
                        return Ok(batches);
                    }
                }
            }
        }
        if !pending.is_empty() {
            batches.push(Batch::from_rows(&pending.refs()));
        }
        Ok(batches)
    }
}
