//! A training batch: rows from the shards trimmed to the batch's longest row, on the host and
//! as device tensors.
//!
//! [`Batch::from_rows`] cuts every row to `L = round_up(max num_tokens, 8)` (at most the shard's
//! `max_seq_len`): the padding past the longest row only costs compute, and a multiple of 8
//! keeps matmul shapes friendly. The masked-LM targets become a list of flat positions
//! (`row * L + i`) with their labels, so the MLM head and the loss only ever see labelled
//! positions: this replaces PyTorch's `ignore_index = -100`, which candle's `cross_entropy`
//! lacks. [`BatchTensors::new`] uploads a batch and turns the attention mask into the additive
//! "extended attention mask" (`0` on tokens, the most negative f32 on padding, `[B, 1, 1, L]`).

use candle_core::{Device, Tensor};

use bertprep::shard::{RowView, IGNORE_LABEL};

use crate::error::Result;

/// A batch on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Rows `B`.
    pub rows: usize,
    /// Trimmed length `L`.
    pub seq_len: usize,
    /// `[B * L]`.
    pub input_ids: Vec<u32>,
    /// `[B * L]`.
    pub token_type_ids: Vec<u32>,
    /// `[B * L]`, 1 on tokens, 0 on padding.
    pub attention_mask: Vec<u8>,
    /// Flat positions `row * L + i` of the labelled tokens.
    pub mlm_positions: Vec<u32>,
    /// The original token at each of `mlm_positions`.
    pub mlm_labels: Vec<u32>,
    /// `[B]`: 0 = B follows A, 1 = random.
    pub nsp_labels: Vec<u32>,
    /// Sum of the rows' `num_tokens` (real tokens, for throughput).
    pub real_tokens: usize,
}

/// `n` rounded up to a multiple of 8.
pub fn round_up8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

impl Batch {
    /// A batch of `rows` (at least one), trimmed to their longest `num_tokens` rounded up to 8.
    /// Rows are checked ones ([`crate::data::ShardSet::read`]); a column a row lacks counts
    /// as what the invariants fix (types 0, attention on the real tokens).
    pub fn from_rows(rows: &[RowView<'_>]) -> Batch {
        let full = rows.iter().map(|r| r.input_ids.len()).min().unwrap_or(0);
        let longest = rows
            .iter()
            .map(|r| r.num_tokens.max(0) as usize)
            .max()
            .unwrap_or(0);
        let l = round_up8(longest).min(full);
        let b = rows.len();
        let mut batch = Batch {
            rows: b,
            seq_len: l,
            input_ids: Vec::with_capacity(b * l),
            token_type_ids: Vec::with_capacity(b * l),
            attention_mask: Vec::with_capacity(b * l),
            mlm_positions: Vec::new(),
            mlm_labels: Vec::new(),
            nsp_labels: Vec::with_capacity(b),
            real_tokens: 0,
        };
        for (r, row) in rows.iter().enumerate() {
            batch
                .input_ids
                .extend(row.input_ids[..l].iter().map(|&t| t as u32));
            match row.token_type_ids.and_then(|t| t.get(..l)) {
                Some(types) => batch.token_type_ids.extend(types.iter().map(|&t| t as u32)),
                None => batch.token_type_ids.extend(std::iter::repeat_n(0, l)),
            }
            match row.attention_mask.and_then(|m| m.get(..l)) {
                Some(mask) => batch
                    .attention_mask
                    .extend(mask.iter().map(|&m| u8::from(m != 0))),
                None => batch
                    .attention_mask
                    .extend((0..l).map(|i| u8::from(i < row.len()))),
            }
            for (i, &label) in row.labels[..l].iter().enumerate() {
                if label != IGNORE_LABEL {
                    batch.mlm_positions.push((r * l + i) as u32);
                    batch.mlm_labels.push(label as u32);
                }
            }
            batch.nsp_labels.push(row.next_sentence_label as u32);
            batch.real_tokens += row.num_tokens.max(0) as usize;
        }
        batch
    }
}

/// A batch as tensors on the model's device.
#[derive(Debug, Clone)]
pub struct BatchTensors {
    /// `[B, L]` u32.
    pub input_ids: Tensor,
    /// `[B, L]` u32.
    pub token_type_ids: Tensor,
    /// `[B, 1, 1, L]` f32: 0 on tokens, `f32::MIN` on padding.
    pub attention_bias: Tensor,
    /// `[M]` u32.
    pub mlm_positions: Tensor,
    /// `[M]` u32.
    pub mlm_labels: Tensor,
    /// `[B]` u32.
    pub nsp_labels: Tensor,
}

impl BatchTensors {
    pub fn new(batch: &Batch, device: &Device) -> Result<BatchTensors> {
        let (b, l) = (batch.rows, batch.seq_len);
        let bias: Vec<f32> = batch
            .attention_mask
            .iter()
            .map(|&m| if m != 0 { 0.0 } else { f32::MIN })
            .collect();
        let m = batch.mlm_positions.len();
        Ok(BatchTensors {
            input_ids: Tensor::from_slice(&batch.input_ids, (b, l), device)?,
            token_type_ids: Tensor::from_slice(&batch.token_type_ids, (b, l), device)?,
            attention_bias: Tensor::from_vec(bias, (b, 1, 1, l), device)?,
            mlm_positions: Tensor::from_slice(&batch.mlm_positions, m, device)?,
            mlm_labels: Tensor::from_slice(&batch.mlm_labels, m, device)?,
            nsp_labels: Tensor::from_slice(&batch.nsp_labels, b, device)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Owned {
        ids: Vec<i32>,
        types: Vec<i8>,
        mask: Vec<i8>,
        labels: Vec<i32>,
        nsp: i8,
        n: i16,
    }

    fn row(n: usize, len: usize, masked: &[usize], nsp: i8) -> Owned {
        let mut labels = vec![IGNORE_LABEL; len];
        for &i in masked {
            labels[i] = 1000 + i as i32;
        }
        Owned {
            ids: (0..len)
                .map(|i| if i < n { 200 + i as i32 } else { 0 })
                .collect(),
            types: (0..len).map(|i| i8::from(i >= 2 && i < n)).collect(),
            mask: (0..len).map(|i| i8::from(i < n)).collect(),
            labels,
            nsp,
            n: n as i16,
        }
    }

    fn refs(rows: &[Owned]) -> Vec<RowView<'_>> {
        rows.iter()
            .map(|r| RowView {
                input_ids: &r.ids,
                token_type_ids: Some(&r.types),
                attention_mask: Some(&r.mask),
                labels: &r.labels,
                special_tokens_mask: None,
                next_sentence_label: r.nsp,
                num_tokens: r.n,
                source: 0,
            })
            .collect()
    }

    #[test]
    fn trims_to_the_longest_row_rounded_to_eight() {
        let rows = [row(5, 32, &[1, 3], 0), row(11, 32, &[9], 1)];
        let batch = Batch::from_rows(&refs(&rows));
        assert_eq!((batch.rows, batch.seq_len), (2, 16));
        assert_eq!(batch.input_ids.len(), 32);
        assert_eq!(&batch.input_ids[..6], &[200, 201, 202, 203, 204, 0]);
        assert_eq!(batch.mlm_positions, [1, 3, 16 + 9]);
        assert_eq!(batch.mlm_labels, [1001, 1003, 1009]);
        assert_eq!(batch.nsp_labels, [0, 1]);
        assert_eq!(batch.real_tokens, 16);
        assert_eq!(
            batch.attention_mask[16..28]
                .iter()
                .filter(|&&m| m == 1)
                .count(),
            11
        );
        // Never longer than the padded rows.
        let rows = [row(30, 30, &[2], 0)];
        assert_eq!(Batch::from_rows(&refs(&rows)).seq_len, 30);
        assert_eq!(round_up8(8), 8);
        assert_eq!(round_up8(9), 16);
    }

    #[test]
    fn tensors_carry_the_extended_mask() {
        let rows = [row(3, 8, &[1], 0)];
        let batch = Batch::from_rows(&refs(&rows));
        let t = BatchTensors::new(&batch, &Device::Cpu).unwrap();
        assert_eq!(t.attention_bias.dims(), &[1, 1, 1, 8]);
        let bias: Vec<f32> = t.attention_bias.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(&bias[..3], &[0.0, 0.0, 0.0]);
        assert!(bias[3..].iter().all(|&b| b == f32::MIN));
        assert_eq!(t.mlm_positions.to_vec1::<u32>().unwrap(), [1]);
    }
}
