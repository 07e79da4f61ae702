//! `bert-train`'s model equals `transformers`' `BertForPreTraining`: logits, losses, every
//! gradient, two AdamW steps and three LAMB steps, against the reference that
//! `scripts/make_train_reference.py` wrote into `tests/golden/train/`.

use std::collections::HashMap;

use bert_train::batch::{Batch, BatchTensors};
use bert_train::loss::pretraining_loss;
use bert_train::optim::{Optimizer, OptimizerConfig, OptimizerKind};
use bert_train::params::ParamBuilder;
use bert_train::step::gradients;
use bert_train::{BertForPreTraining, ModelConfig};
use bertprep::shard::RowView;
use candle_core::{Device, Tensor};

mod util;

use util::root;

struct Reference {
    config: ModelConfig,
    tensors: HashMap<String, Tensor>,
}

fn reference() -> Reference {
    let dir = root().join("tests/golden/train");
    let config = ModelConfig::read(&dir.join("config.json")).unwrap();
    let tensors =
        candle_core::safetensors::load(dir.join("reference.safetensors"), &Device::Cpu).unwrap();
    Reference { config, tensors }
}

impl Reference {
    fn get(&self, name: &str) -> &Tensor {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("reference has no {name}"))
    }

    fn values(&self, name: &str) -> Vec<f32> {
        flat(self.get(name))
    }

    fn ints(&self, name: &str) -> Vec<Vec<i32>> {
        self.get(name).to_vec2().unwrap()
    }

    fn model(&self) -> BertForPreTraining {
        let weights: HashMap<String, Tensor> = self
            .tensors
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("weight.")
                    .map(|n| (n.to_string(), v.clone()))
            })
            .collect();
        BertForPreTraining::new(ParamBuilder::loaded(weights, &Device::Cpu), &self.config).unwrap()
    }

    fn batch(&self) -> Batch {
        let ids = self.ints("batch.input_ids");
        let to_i8 = |v: Vec<Vec<i32>>| -> Vec<Vec<i8>> {
            v.into_iter()
                .map(|r| r.into_iter().map(|x| x as i8).collect())
                .collect()
        };
        let types = to_i8(self.ints("batch.token_type_ids"));
        let mask = to_i8(self.ints("batch.attention_mask"));
        let labels = self.ints("batch.labels");
        let nsp: Vec<i32> = self.get("batch.next_sentence_label").to_vec1().unwrap();
        let rows: Vec<RowView> = (0..ids.len())
            .map(|r| RowView {
                input_ids: &ids[r],
                token_type_ids: Some(&types[r]),
                attention_mask: Some(&mask[r]),
                labels: &labels[r],
                special_tokens_mask: None,
                next_sentence_label: nsp[r] as i8,
                num_tokens: mask[r].iter().filter(|&&m| m == 1).count() as i16,
                source: 0,
            })
            .collect();
        let batch = Batch::from_rows(&rows);
        assert_eq!(
            batch.seq_len,
            ids[0].len(),
            "the reference batch is not trimmed"
        );
        batch
    }
}

fn flat(t: &Tensor) -> Vec<f32> {
    t.flatten_all().unwrap().to_vec1().unwrap()
}

fn assert_close(name: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{name}[{i}]: {g} vs {w}");
    }
}

/// Relative closeness for a gradient tensor: every element within `tol` of the reference,
/// relative to the element or, for elements near zero, to 10% of the tensor's largest
/// magnitude (f32 rounding in sums leaves absolute errors of about 1e-6 of the tensor's scale,
/// which would be large relative errors on its smallest elements); and the whole tensor within
/// `tol` in relative L2 norm. Gradients that are zero in exact arithmetic (the attention key bias: adding the
/// same amount to every score of a query does not change its softmax) are float noise in both
/// implementations; they only have to stay below `ZERO` absolutely.
fn assert_grad_close(name: &str, got: &[f32], want: &[f32], tol: f32) {
    const ZERO: f32 = 1e-6;
    assert_eq!(got.len(), want.len(), "{name}: length");
    let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
    if name.contains("attention.self.key.bias") {
        assert!(
            scale < ZERO,
            "{name}: reference gradient {scale} should be ~0"
        );
        assert!(
            got.iter().all(|g| g.abs() < ZERO),
            "{name}: {got:?} should be ~0"
        );
        return;
    }
    assert!(scale > 1e-3, "{name}: reference gradient is ~0 ({scale})");
    let mut worst = 0f32;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let reference = w.abs().max(0.1 * scale);
        let err = (g - w).abs() / reference;
        worst = worst.max(err);
        assert!(err <= tol, "{name}[{i}]: {g} vs {w} (scale {scale})");
    }
    let diff: f32 = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).powi(2))
        .sum::<f32>()
        .sqrt();
    let norm: f32 = want.iter().map(|w| w * w).sum::<f32>().sqrt();
    assert!(
        diff / norm <= tol,
        "{name}: relative L2 error {}",
        diff / norm
    );
    eprintln!("{name}: worst element {worst:.2e}, L2 {:.2e}", diff / norm);
}

#[test]
fn logits_and_losses_equal_transformers() {
    let r = reference();
    let model = r.model();
    let batch = r.batch();
    let tensors = BatchTensors::new(&batch, &Device::Cpu).unwrap();
    // Every position, to compare with transformers' full prediction_logits.
    let all = Tensor::arange(0u32, (batch.rows * batch.seq_len) as u32, &Device::Cpu).unwrap();
    let out = model.forward_at(&tensors, &all, None).unwrap();
    assert_close(
        "prediction_logits",
        &flat(&out.mlm_logits),
        &r.values("out.prediction_logits"),
        1e-4,
    );
    assert_close(
        "seq_relationship_logits",
        &flat(out.nsp_logits.as_ref().unwrap()),
        &r.values("out.seq_relationship_logits"),
        1e-4,
    );
    // The losses, from the labelled positions only.
    let out = model.forward(&tensors, None).unwrap();
    let losses = pretraining_loss(&out, &tensors.mlm_labels, &tensors.nsp_labels).unwrap();
    for (name, t) in [
        ("out.mlm_loss", &losses.mlm),
        ("out.nsp_loss", losses.nsp.as_ref().unwrap()),
        ("out.loss", &losses.total),
    ] {
        let got = t.to_scalar::<f32>().unwrap();
        let want = r.values(name)[0];
        assert!((got - want).abs() <= 1e-4, "{name}: {got} vs {want}");
    }
}

#[test]
fn a_masked_lm_only_model_equals_transformers_mlm_head() {
    // `BertForMaskedLM` is `BertForPreTraining` without the pooler and the NSP head: the same
    // weights give the same prediction logits and the same masked-LM loss.
    let r = reference();
    let weights: HashMap<String, Tensor> = r
        .tensors
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("weight.")
                .map(|n| (n.to_string(), v.clone()))
        })
        .filter(|(n, _)| !n.starts_with("bert.pooler.") && !n.starts_with("cls.seq_relationship."))
        .collect();
    let config = ModelConfig {
        mlm_only: true,
        ..r.config.clone()
    };
    let model =
        BertForPreTraining::new(ParamBuilder::loaded(weights, &Device::Cpu), &config).unwrap();
    assert_eq!(model.params.len(), 46 - 4);
    let batch = r.batch();
    let tensors = BatchTensors::new(&batch, &Device::Cpu).unwrap();
    let all = Tensor::arange(0u32, (batch.rows * batch.seq_len) as u32, &Device::Cpu).unwrap();
    let out = model.forward_at(&tensors, &all, None).unwrap();
    assert!(out.nsp_logits.is_none());
    assert_close(
        "prediction_logits",
        &flat(&out.mlm_logits),
        &r.values("out.prediction_logits"),
        1e-4,
    );
    let out = model.forward(&tensors, None).unwrap();
    let losses = pretraining_loss(&out, &tensors.mlm_labels, &tensors.nsp_labels).unwrap();
    assert!(losses.nsp.is_none());
    let total = losses.total.to_scalar::<f32>().unwrap();
    let want = r.values("out.mlm_loss")[0];
    assert!(
        (total - want).abs() <= 1e-4,
        "masked-LM loss {total} vs {want}"
    );
    let (grads, _) = gradients(&model, &[batch], 0, 0, false, false).unwrap();
    assert!(
        grads.iter().all(Option::is_some),
        "a parameter got no gradient"
    );
}

#[test]
fn every_gradient_equals_transformers() {
    let r = reference();
    let model = r.model();
    let (grads, _) = gradients(&model, &[r.batch()], 0, 0, false, false).unwrap();
    assert_eq!(model.params.len(), 46);
    for (p, g) in model.params.iter().zip(&grads) {
        let g = g
            .as_ref()
            .unwrap_or_else(|| panic!("{} got no gradient", p.name));
        assert_grad_close(
            &p.name,
            &flat(g),
            &r.values(&format!("grad.{}", p.name)),
            1e-4,
        );
    }
}

#[test]
fn two_adamw_steps_equal_torch() {
    let r = reference();
    let model = r.model();
    let batch = r.batch();
    let mut opt = Optimizer::new(&model.params, OptimizerConfig::default()).unwrap();
    let want_norms = r.values("adamw.grad_norms");
    for (step, want_norm) in want_norms.iter().enumerate() {
        let (grads, _) =
            gradients(&model, std::slice::from_ref(&batch), 0, 0, false, false).unwrap();
        let report = opt.step(&model.params, &grads, 1e-3, 0.5).unwrap();
        let rel = (report.grad_norm as f32 - want_norm).abs() / want_norm;
        assert!(
            rel < 1e-4,
            "step {step}: norm {} vs {want_norm}",
            report.grad_norm
        );
        assert!(report.clip_scale < 1.0, "the reference clips");
    }
    for p in &model.params {
        let got = flat(p.var.as_tensor());
        assert_close(&p.name, &got, &r.values(&format!("adamw.{}", p.name)), 2e-5);
    }
}

#[test]
fn three_lamb_steps_equal_the_papers_equations_in_torch() {
    let mut r = reference();
    let lamb = root().join("tests/golden/train/lamb.safetensors");
    r.tensors
        .extend(candle_core::safetensors::load(lamb, &Device::Cpu).unwrap());
    let model = r.model();
    let batch = r.batch();
    let config = OptimizerConfig {
        kind: OptimizerKind::Lamb,
        ..OptimizerConfig::default()
    };
    let mut opt = Optimizer::new(&model.params, config).unwrap();
    let want_norms = r.values("lamb.grad_norms");
    assert_eq!(want_norms.len(), 3);
    for (step, want_norm) in want_norms.iter().enumerate() {
        let (grads, _) =
            gradients(&model, std::slice::from_ref(&batch), 0, 0, false, false).unwrap();
        let report = opt.step(&model.params, &grads, 1e-3, 0.5).unwrap();
        let rel = (report.grad_norm as f32 - want_norm).abs() / want_norm;
        assert!(
            rel < 1e-4,
            "step {step}: norm {} vs {want_norm}",
            report.grad_norm
        );
    }
    for p in &model.params {
        let got = flat(p.var.as_tensor());
        assert_close(&p.name, &got, &r.values(&format!("lamb.{}", p.name)), 1e-5);
    }
}
