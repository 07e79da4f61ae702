//! The background reader: decodes, shuffles and batches training rows on its own thread.
//!
//! [`Loader::spawn`] starts a thread that walks the [`Plan`] from a [`DataPosition`] —
//! window by window, epoch after epoch, endlessly — and sends each batch of `batch_size` rows
//! with the position just after it through a bounded channel, so decoding overlaps training
//! and at most a few batches wait in memory. Batches run across window and epoch boundaries.
//! An error (a bad shard) is sent as the next item and ends the thread. Dropping the loader
//! closes the channel, which stops the thread at its next send, and joins it.

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{bounded, Receiver};

use super::plan::{DataPosition, Plan};
use super::shards::Rows;
use crate::batch::Batch;
use crate::error::{Error, Result};

/// Batches the channel holds ahead of the trainer.
const AHEAD: usize = 16;

type Item = Result<(Batch, DataPosition)>;

/// A stream of training batches read ahead on a background thread.
pub struct Loader {
    rx: Option<Receiver<Item>>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader").finish_non_exhaustive()
    }
}

impl Loader {
    /// Starts reading `plan` at `start` in batches of `batch_size` rows.
    pub fn spawn(plan: Arc<Plan>, start: DataPosition, batch_size: usize) -> Result<Loader> {
        if batch_size == 0 {
            return Err(Error::Config("batch size must be positive".into()));
        }
        if plan.rows() == 0 {
            return Err(Error::shards(
                &plan.shards.dir,
                "no training rows left after holding out evaluation rows",
            ));
        }
        let (tx, rx) = bounded::<Item>(AHEAD);
        let handle = std::thread::Builder::new()
            .name("bert-train-loader".into())
            .spawn(move || {
                if let Err(e) = produce(&plan, start, batch_size, &tx) {
                    let _ = tx.send(Err(e));
                }
            })
            .map_err(Error::Thread)?;
        Ok(Loader {
            rx: Some(rx),
            handle: Some(handle),
        })
    }

    /// The next batch and the position after it.
    pub fn next_batch(&mut self) -> Result<(Batch, DataPosition)> {
        let rx = self
            .rx
            .as_ref()
            .ok_or_else(|| Error::Internal("the loader is closed".into()))?;
        rx.recv()
            .map_err(|_| Error::Internal("the loader thread stopped unexpectedly".into()))?
    }
}

impl Drop for Loader {
    fn drop(&mut self) {
        self.rx = None;
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Sends batches until the receiver is gone (`Ok`) or reading fails (`Err`).
fn produce(
    plan: &Plan,
    start: DataPosition,
    batch_size: usize,
    tx: &crossbeam_channel::Sender<Item>,
) -> Result<()> {
    let mut pos = start;
    let mut pending = Rows::default();
    loop {
        let windows = plan.windows(pos.epoch);
        while (pos.window as usize) < windows.len() {
            let w = pos.window as usize;
            let rows = plan.window(pos.epoch, w, &windows[w])?;
            while (pos.offset as usize) < rows.len() {
                pending.push(rows.row(pos.offset as usize));
                pos.offset += 1;
                if pending.len() == batch_size {
                    let batch = Batch::from_rows(&pending.refs());
                    pending = Rows::default();
                    if tx.send(Ok((batch, pos))).is_err() {
                        return Ok(());
                    }
                }
            }
            pos.window += 1;
            pos.offset = 0;
        }
        pos.epoch += 1;
        pos.window = 0;
    }
}
