//! One optimisation step: forward and backward over the micro-batches, gradient accumulation,
//! clipping and the optimiser's update.
//!
//! Each micro-batch's loss is scaled by `1 / micro_batches` before `backward`, and the
//! gradients are summed, so an accumulated step equals one step on the mean of the
//! micro-batch losses. Dropout masks for micro-batch `k` of step `s` come from the RNG stream
//! `(seed, Dropout, s, k)`: a pure function of the step, which is what makes a resumed run
//! repeat a straight one exactly.

use candle_core::Tensor;

use crate::batch::{Batch, BatchTensors};
use crate::dropout;
use crate::error::{Error, Result};
use crate::loss::{correct, pretraining_loss};
use crate::model::BertForPreTraining;
use crate::optim::Optimizer;
use bertprep::rng::{Purpose, UnitRng};

/// Sums of what the heads got right and the losses, over one or more batches.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Sum over batches of the batch's mean MLM loss.
    pub mlm_loss: f64,
    /// Sum over batches of the batch's mean NSP loss.
    pub nsp_loss: f64,
    /// Batches counted.
    pub batches: usize,
    pub mlm_correct: usize,
    pub mlm_count: usize,
    pub nsp_correct: usize,
    pub nsp_count: usize,
    /// Real (unpadded) tokens seen.
    pub tokens: usize,
    /// Sequences seen.
    pub sequences: usize,
}

impl Tally {
    pub fn add(&mut self, other: &Tally) {
        self.mlm_loss += other.mlm_loss;
        self.nsp_loss += other.nsp_loss;
        self.batches += other.batches;
        self.mlm_correct += other.mlm_correct;
        self.mlm_count += other.mlm_count;
        self.nsp_correct += other.nsp_correct;
        self.nsp_count += other.nsp_count;
        self.tokens += other.tokens;
        self.sequences += other.sequences;
    }

    /// Mean MLM loss per batch.
    pub fn mean_mlm_loss(&self) -> f64 {
        self.mlm_loss / self.batches.max(1) as f64
    }

    /// Mean NSP loss per batch.
    pub fn mean_nsp_loss(&self) -> f64 {
        self.nsp_loss / self.batches.max(1) as f64
    }

    /// Mean MLM plus mean NSP loss.
    pub fn mean_loss(&self) -> f64 {
        self.mean_mlm_loss() + self.mean_nsp_loss()
    }

    pub fn mlm_accuracy(&self) -> f64 {
        self.mlm_correct as f64 / self.mlm_count.max(1) as f64
    }

    pub fn nsp_accuracy(&self) -> f64 {
        self.nsp_correct as f64 / self.nsp_count.max(1) as f64
    }
}

/// Forward pass and losses of one batch, with the tally; `rng` = dropout (None: evaluation).
pub fn evaluate(
    model: &BertForPreTraining,
    batch: &Batch,
    rng: Option<&mut UnitRng>,
) -> Result<(crate::loss::Losses, Tally)> {
    let tensors = tensors_of(model, batch)?;
    let out = model.forward(&tensors, rng)?;
    let losses = pretraining_loss(&out, &tensors.mlm_labels, &tensors.nsp_labels)?;
    let tally = tally(batch, &tensors, &out, &losses)?;
    Ok((losses, tally))
}

/// `batch` as tensors on the model's device; an error when it has no masked-LM label.
fn tensors_of(model: &BertForPreTraining, batch: &Batch) -> Result<BatchTensors> {
    if batch.mlm_positions.is_empty() {
        return Err(Error::Config(
            "a batch has no masked-LM labels (every row needs at least one)".into(),
        ));
    }
    BatchTensors::new(batch, model.device())
}

/// Adds `grads` (one per parameter, `None` = none) to `sums`.
pub(crate) fn accumulate(
    sums: &mut [Option<Tensor>],
    grads: impl IntoIterator<Item = Option<Tensor>>,
) -> Result<()> {
    for (sum, g) in sums.iter_mut().zip(grads) {
        if let Some(g) = g {
            *sum = Some(match sum.take() {
                None => g,
                Some(s) => (s + g)?,
            });
        }
    }
    Ok(())
}

/// What `out` and `losses` of `batch` count for.
fn tally(
    batch: &Batch,
    tensors: &BatchTensors,
    out: &crate::model::Output,
    losses: &crate::loss::Losses,
) -> Result<Tally> {
    Ok(Tally {
        mlm_loss: losses.mlm.to_scalar::<f32>()? as f64,
        nsp_loss: match &losses.nsp {
            Some(nsp) => nsp.to_scalar::<f32>()? as f64,
            None => 0.0,
        },
        batches: 1,
        mlm_correct: correct(&out.mlm_logits, &tensors.mlm_labels)?,
        mlm_count: batch.mlm_positions.len(),
        nsp_correct: match &out.nsp_logits {
            Some(logits) => correct(logits, &tensors.nsp_labels)?,
            None => 0,
        },
        nsp_count: if out.nsp_logits.is_some() {
            batch.rows
        } else {
            0
        },
        tokens: batch.real_tokens,
        sequences: batch.rows,
    })
}

/// Gradients of the mean loss over `micro_batches` for every parameter (in the model's order;
/// `None` where a parameter got none), with dropout from the step's RNG streams; with
/// `recompute`, each encoder layer's activations are recomputed in the backward pass
/// ([`crate::recompute`]) instead of kept.
pub fn gradients(
    model: &BertForPreTraining,
    micro_batches: &[Batch],
    seed: u64,
    step: u64,
    train: bool,
    recompute: bool,
) -> Result<(Vec<Option<Tensor>>, Tally)> {
    let mut sums: Vec<Option<Tensor>> = vec![None; model.params.len()];
    let mut tally = Tally::default();
    let scale = 1.0 / micro_batches.len().max(1) as f64;
    for (k, batch) in micro_batches.iter().enumerate() {
        let mut rng = UnitRng::new(seed, Purpose::Dropout, step, k as u64);
        if let (true, Some(p)) = (train, model.params.first()) {
            dropout::seed_device(p.var.as_tensor().device(), &mut rng)?;
        }
        let grads: Vec<Option<Tensor>> = if recompute {
            let tensors = tensors_of(model, batch)?;
            let (out, losses, grads) = crate::recompute::loss_and_gradients(
                model,
                &tensors,
                train.then_some(&mut rng),
                scale,
            )?;
            tally.add(&self::tally(batch, &tensors, &out, &losses)?);
            grads
        } else {
            let (losses, t) = evaluate(model, batch, train.then_some(&mut rng))?;
            tally.add(&t);
            // What the buffer cache holds now, the forward pass did not reuse (sizes only the
            // last backward pass asked for); kept, it would sit idle through this one.
            crate::heap::release_cached();
            let grads = losses.total.affine(scale, 0.0)?.backward()?;
            model
                .params
                .iter()
                .map(|p| grads.get(p.var.as_tensor()).cloned())
                .collect()
        };
        accumulate(&mut sums, grads)?;
    }
    Ok((sums, tally))
}

/// What one training step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutcome {
    pub tally: Tally,
    pub grad_norm: f64,
}

/// One full training step (dropout on) at learning rate `lr`.
pub fn train_step(
    model: &BertForPreTraining,
    optimizer: &mut Optimizer,
    micro_batches: &[Batch],
    seed: u64,
    lr: f64,
    max_grad_norm: f64,
    recompute: bool,
) -> Result<StepOutcome> {
    let step = optimizer.step;
    let (grads, tally) = gradients(model, micro_batches, seed, step, true, recompute)?;
    let report = optimizer.step(&model.params, &grads, lr, max_grad_norm)?;
    Ok(StepOutcome {
        tally,
        grad_norm: report.grad_norm,
    })
}
