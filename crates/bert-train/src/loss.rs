//! The pre-training loss: masked-LM cross-entropy over the labelled positions plus
//! next-sentence cross-entropy, as `BertForPreTraining` computes it.
//!
//! `transformers` takes `CrossEntropyLoss()` over all `B * L` positions with
//! `ignore_index = -100`, i.e. the mean over labelled positions; candle's `cross_entropy` has
//! no ignore index, so the model's MLM logits are already gathered at the labelled positions
//! ([`crate::batch`]) and the mean here is over exactly those. The total is
//! `mlm + nsp` (`mlm` alone for a model without the NSP head, trained on `--objective none`
//! shards, as `BertForMaskedLM` computes it). Accuracies are counted (argmax equals the label) for the metrics.

use candle_core::{DType, Tensor, D};

use crate::error::Result;
use crate::model::Output;

/// The differentiable losses of one forward pass.
#[derive(Debug, Clone)]
pub struct Losses {
    /// `mlm + nsp`, the scalar to differentiate (`mlm` alone for a masked-LM-only model).
    pub total: Tensor,
    pub mlm: Tensor,
    /// `None` for a masked-LM-only model.
    pub nsp: Option<Tensor>,
}

/// Mean cross-entropy of `logits` `[N, C]` against `labels` `[N]` (u32).
pub fn cross_entropy(logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    let picked = log_probs.gather(&labels.unsqueeze(1)?, 1)?;
    Ok(picked.mean_all()?.neg()?)
}

/// How many rows of `logits` have their argmax at `labels`.
pub fn correct(logits: &Tensor, labels: &Tensor) -> Result<usize> {
    let predicted = logits.argmax_keepdim(D::Minus1)?.squeeze(1)?;
    let hits = predicted.eq(labels)?.to_dtype(DType::U32)?.sum_all()?;
    Ok(hits.to_scalar::<u32>()? as usize)
}

/// MLM and NSP losses of `out` against the labels (MLM alone when `out` has no NSP logits).
pub fn pretraining_loss(out: &Output, mlm_labels: &Tensor, nsp_labels: &Tensor) -> Result<Losses> {
    let mlm = cross_entropy(&out.mlm_logits, mlm_labels)?;
    let nsp = match &out.nsp_logits {
        Some(logits) => Some(cross_entropy(logits, nsp_labels)?),
        None => None,
    };
    let total = match &nsp {
        Some(nsp) => (&mlm + nsp)?,
        None => mlm.clone(),
    };
    Ok(Losses { total, mlm, nsp })
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn cross_entropy_matches_hand_computation() {
        let logits = Tensor::new(&[[1.0f32, 2.0, 3.0], [0.5, 0.5, -1.0]], &Device::Cpu).unwrap();
        let labels = Tensor::new(&[2u32, 0], &Device::Cpu).unwrap();
        let got = cross_entropy(&logits, &labels)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let lse = |v: &[f64]| v.iter().map(|x| x.exp()).sum::<f64>().ln();
        let want = ((lse(&[1.0, 2.0, 3.0]) - 3.0) + (lse(&[0.5, 0.5, -1.0]) - 0.5)) / 2.0;
        assert!((got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        assert_eq!(correct(&logits, &labels).unwrap(), 2);
        let wrong = Tensor::new(&[0u32, 2], &Device::Cpu).unwrap();
        assert_eq!(correct(&logits, &wrong).unwrap(), 0);
    }
}
