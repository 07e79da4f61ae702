//! One shard row as the other trainers' formats hold it.
//!
//! Our rows keep `labels` over every position (-100 where nothing is predicted), the layout of
//! `transformers`. Google's and NVIDIA's generators keep the predictions apart instead:
//! `masked_lm_positions` (ascending, zero-padded to `P`), `masked_lm_ids` (the original ids,
//! zero-padded) and, in TFRecord, `masked_lm_weights` (1.0 per real prediction, 0.0 on the
//! padding). `P` is the build's `max_predictions`. Position 0 is always `[CLS]`, which is never
//! predicted, so NVIDIA's loader can take the first zero position as the end of the list.
//!
//! The other columns map one to one: `attention_mask` is `input_mask`, `token_type_ids` is
//! `segment_ids`, and `next_sentence_label` (1 = B is random) is `next_sentence_labels` with the
//! same meaning in all three formats.

use crate::shard::row::RowView;
use crate::shard::IGNORE_LABEL;

/// The masked-LM predictions of one row, zero-padded to `P` entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Predictions {
    /// Predicted positions, ascending, then zeros.
    pub positions: Vec<i32>,
    /// The original id at each predicted position, then zeros.
    pub ids: Vec<i32>,
    /// Real predictions (the rest is padding).
    pub count: usize,
}

impl Predictions {
    /// Room for `max_predictions` entries.
    pub fn with_capacity(max_predictions: usize) -> Self {
        Predictions {
            positions: Vec::with_capacity(max_predictions),
            ids: Vec::with_capacity(max_predictions),
            count: 0,
        }
    }

    /// Fills in the predictions of `row`, padded to `max_predictions`; an error says how many
    /// there were when the row holds more than fit.
    pub fn fill(&mut self, row: &RowView<'_>, max_predictions: usize) -> Result<(), String> {
        self.positions.clear();
        self.ids.clear();
        for (position, &label) in row.labels.iter().enumerate() {
            if label != IGNORE_LABEL {
                self.positions.push(position as i32);
                self.ids.push(label);
            }
        }
        self.count = self.positions.len();
        if self.count > max_predictions {
            return Err(format!(
                "{} predictions, more than the build's max_predictions {max_predictions}",
                self.count
            ));
        }
        self.positions.resize(max_predictions, 0);
        self.ids.resize(max_predictions, 0);
        Ok(())
    }

    /// `masked_lm_weights`: 1.0 for each real prediction, 0.0 for the padding.
    pub fn weights(&self) -> impl Iterator<Item = f32> + Clone + '_ {
        (0..self.positions.len()).map(|i| if i < self.count { 1.0 } else { 0.0 })
    }
}

/// The `labels` column rebuilt from predictions: the inverse of [`Predictions::fill`] (used to
/// check a format read back against its source).
pub fn labels_from(positions: &[i32], ids: &[i32], count: usize, len: usize) -> Vec<i32> {
    let mut labels = vec![IGNORE_LABEL; len];
    for (&p, &id) in positions.iter().zip(ids).take(count) {
        if let Some(slot) = labels.get_mut(p as usize) {
            *slot = id;
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(input_ids: &'a [i32], labels: &'a [i32]) -> RowView<'a> {
        RowView {
            input_ids,
            token_type_ids: None,
            attention_mask: None,
            labels,
            special_tokens_mask: None,
            next_sentence_label: 0,
            num_tokens: input_ids.len() as i16,
            source: 0,
        }
    }

    #[test]
    fn predictions_are_ascending_and_zero_padded() {
        let labels = [-100, 7, -100, -100, 9, -100];
        let ids = [101, 103, 5, 6, 103, 102];
        let mut p = Predictions::with_capacity(4);
        p.fill(&view(&ids, &labels), 4).unwrap();
        assert_eq!(p.positions, [1, 4, 0, 0]);
        assert_eq!(p.ids, [7, 9, 0, 0]);
        assert_eq!(p.count, 2);
        assert_eq!(p.weights().collect::<Vec<_>>(), [1.0, 1.0, 0.0, 0.0]);
        assert_eq!(labels_from(&p.positions, &p.ids, p.count, 6), labels);
    }

    #[test]
    fn too_many_predictions_is_an_error() {
        let labels = [-100, 7, 8, 9];
        let mut p = Predictions::with_capacity(2);
        let err = p.fill(&view(&[1, 2, 3, 4], &labels), 2).unwrap_err();
        assert!(err.contains("3 predictions"), "{err}");
    }
}
