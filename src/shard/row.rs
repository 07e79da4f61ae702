//! One row of a shard: owned ([`ShardRow`]) or borrowed from decoded columns ([`RowView`]),
//! and [`pad_row`], the one place that turns an instance into its padded columns.

use super::schema::IGNORE_LABEL;
use crate::instances::Instance;

/// Appends the padded row `inst` becomes to the four list columns (each grows by `max_seq_len`):
/// ids padded with `pad`; token types 0 through the first [SEP], 1 through the last, 0 on
/// padding; attention 1 on the real tokens; labels the original id at predicted positions and
/// [`IGNORE_LABEL`] elsewhere.
pub fn pad_row(inst: &Instance, max_seq_len: usize, pad: u32, out: &mut PaddedColumns) {
    let len = inst.input_ids.len();
    out.input_ids
        .extend(inst.input_ids.iter().map(|&t| t as i32));
    out.input_ids
        .resize(out.input_ids.len() + max_seq_len - len, pad as i32);
    out.token_type_ids
        .extend((0..max_seq_len).map(|i| i8::from(i >= inst.segment_a_len && i < len)));
    out.attention_mask
        .extend((0..max_seq_len).map(|i| i8::from(i < len)));
    let start = out.labels.len();
    out.labels.resize(start + max_seq_len, IGNORE_LABEL);
    for &(pos, original) in &inst.predictions {
        out.labels[start + pos as usize] = original as i32;
    }
}

/// The list columns of padded rows, row after row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaddedColumns {
    pub input_ids: Vec<i32>,
    pub token_type_ids: Vec<i8>,
    pub attention_mask: Vec<i8>,
    pub labels: Vec<i32>,
}

impl PaddedColumns {
    /// Room for `cells` values in each column.
    pub fn with_capacity(cells: usize) -> Self {
        PaddedColumns {
            input_ids: Vec::with_capacity(cells),
            token_type_ids: Vec::with_capacity(cells),
            attention_mask: Vec::with_capacity(cells),
            labels: Vec::with_capacity(cells),
        }
    }
}

/// One row of a shard, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRow {
    pub input_ids: Vec<i32>,
    pub token_type_ids: Vec<i8>,
    pub attention_mask: Vec<i8>,
    pub labels: Vec<i32>,
    pub next_sentence_label: i8,
    pub num_tokens: i16,
    pub source: u64,
}

impl ShardRow {
    /// The row an instance becomes, padded to `max_seq_len` (what the writer stores).
    pub fn from_instance(inst: &Instance, max_seq_len: usize, pad: u32) -> ShardRow {
        let mut columns = PaddedColumns::with_capacity(max_seq_len);
        pad_row(inst, max_seq_len, pad, &mut columns);
        ShardRow {
            input_ids: columns.input_ids,
            token_type_ids: columns.token_type_ids,
            attention_mask: columns.attention_mask,
            labels: columns.labels,
            next_sentence_label: i8::from(inst.pair_label),
            num_tokens: inst.input_ids.len() as i16,
            source: inst.source,
        }
    }

    /// A view of the row.
    pub fn view(&self) -> RowView<'_> {
        RowView {
            input_ids: &self.input_ids,
            token_type_ids: Some(&self.token_type_ids),
            attention_mask: Some(&self.attention_mask),
            labels: &self.labels,
            next_sentence_label: self.next_sentence_label,
            num_tokens: self.num_tokens,
            source: self.source,
        }
    }
}

/// One row as stored, borrowed from a decoded batch (or from a [`ShardRow`]).
///
/// Lists may have any length here: nothing is trusted until [`super::check`] says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowView<'a> {
    pub input_ids: &'a [i32],
    /// `None` when the column was not decoded ([`super::reader::Columns::Stats`]).
    pub token_type_ids: Option<&'a [i8]>,
    /// `None` when the column was not decoded ([`super::reader::Columns::Stats`]).
    pub attention_mask: Option<&'a [i8]>,
    pub labels: &'a [i32],
    pub next_sentence_label: i8,
    pub num_tokens: i16,
    pub source: u64,
}

impl RowView<'_> {
    /// The real length, clamped to the stored list (safe to slice with).
    pub fn len(&self) -> usize {
        (self.num_tokens.max(0) as usize).min(self.input_ids.len())
    }

    /// Whether the row has no real tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An owned copy.
    pub fn to_owned(&self) -> ShardRow {
        ShardRow {
            input_ids: self.input_ids.to_vec(),
            token_type_ids: self.token_type_ids.map(<[i8]>::to_vec).unwrap_or_default(),
            attention_mask: self.attention_mask.map(<[i8]>::to_vec).unwrap_or_default(),
            labels: self.labels.to_vec(),
            next_sentence_label: self.next_sentence_label,
            num_tokens: self.num_tokens,
            source: self.source,
        }
    }
}
