//! Activation recomputation per encoder layer (`--recompute`): the same loss and gradients as
//! one backward pass, holding one layer's activations at a time instead of every layer's.
//!
//! The forward pass runs each layer and keeps only its input (and the dropout stream as it
//! stood before the layer); the layer's own intermediates are freed as soon as its output is
//! computed. The heads' loss is differentiated down to the last layer's output. Then, from the
//! last layer to the first, the layer runs forward again from its kept input with the same
//! dropout masks, and `sum(output * grad_output)` is differentiated, which gives the layer's
//! parameter gradients and the gradient of its input: the next layer down's `grad_output`.
//! Last, the embeddings' output is differentiated the same way. The cost is one more forward
//! pass of the encoder. On a GPU, whose masks come from the device's generator, the generator
//! is reseeded from the stream before every layer, so both passes draw the same masks (they
//! differ from a run without `--recompute` there; on the CPU they are the same).

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::batch::BatchTensors;
use crate::dropout;
use crate::error::{Error, Result};
use crate::loss::{pretraining_loss, Losses};
use crate::model::{BertForPreTraining, Output};
use bertprep::rng::UnitRng;

/// The heads' output, the losses, and the gradients of `scale * loss` for every parameter (in
/// the model's order; `None` where a parameter got none), recomputing each layer.
pub fn loss_and_gradients(
    model: &BertForPreTraining,
    batch: &BatchTensors,
    rng: Option<&mut UnitRng>,
    scale: f64,
) -> Result<(Output, Losses, Vec<Option<Tensor>>)> {
    let mut rng = rng;
    let device = model.device().clone();
    let mut grads: Vec<Option<Tensor>> = vec![None; model.params.len()];
    let embedded =
        model
            .embeddings
            .forward(&batch.input_ids, &batch.token_type_ids, rng.as_deref_mut())?;
    let mut kept: Vec<(Tensor, Option<UnitRng>)> = Vec::with_capacity(model.layers.len());
    let mut x = embedded.detach();
    for layer in &model.layers {
        let stream = rng.as_deref().cloned();
        if let Some(rng) = rng.as_deref_mut() {
            dropout::seed_device(&device, rng)?;
        }
        let out = layer.forward(&x, &batch.attention_bias, rng.as_deref_mut())?;
        kept.push((x, stream));
        x = out.detach();
    }
    let last = Var::from_tensor(&x)?;
    drop(x);
    let pooled = match &model.pooler {
        Some(pooler) => Some(pooler.forward(last.as_tensor())?),
        None => None,
    };
    let out = model.heads(last.as_tensor(), pooled.as_ref(), &batch.mlm_positions)?;
    let losses = pretraining_loss(&out, &batch.mlm_labels, &batch.nsp_labels)?;
    // Each backward pass starts with the buffer cache emptied of what its forward pass did not
    // reuse (see `step`).
    crate::heap::release_cached();
    let store = losses.total.affine(scale, 0.0)?.backward()?;
    add(model, &store, &mut grads)?;
    let mut grad = input_grad(&store, &last)?;
    drop(store);
    for (layer, (input, stream)) in model.layers.iter().zip(kept).rev() {
        let input = Var::from_tensor(&input)?;
        let mut stream = stream;
        if let Some(rng) = stream.as_mut() {
            dropout::seed_device(&device, rng)?;
        }
        let out = layer.forward(input.as_tensor(), &batch.attention_bias, stream.as_mut())?;
        crate::heap::release_cached();
        let store = (out * &grad)?.sum_all()?.backward()?;
        add(model, &store, &mut grads)?;
        grad = input_grad(&store, &input)?;
    }
    let store = (embedded * &grad)?.sum_all()?.backward()?;
    add(model, &store, &mut grads)?;
    Ok((out, losses, grads))
}

/// Adds the parameter gradients in `store` to `sums`.
fn add(model: &BertForPreTraining, store: &GradStore, sums: &mut [Option<Tensor>]) -> Result<()> {
    let grads = model
        .params
        .iter()
        .map(|p| store.get(p.var.as_tensor()).cloned());
    crate::step::accumulate(sums, grads)
}

fn input_grad(store: &GradStore, input: &Var) -> Result<Tensor> {
    store
        .get(input.as_tensor())
        .cloned()
        .ok_or_else(|| Error::Internal("a layer's input got no gradient".into()))
}
