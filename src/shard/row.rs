//! One row of a shard: owned ([`ShardRow`]) or borrowed from decoded columns ([`RowView`]),
//! and [`pad_row`], the one place that turns an instance into its stored columns.

use super::schema::{RowForm, IGNORE_LABEL};
use crate::instances::Instance;
use crate::tokenize::roles::PairLayout;
use crate::tokenize::SpecialTokens;

/// How instances become stored rows: the length lists are padded to, the recipe's columns, and
/// the special ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLayout {
    pub max_seq_len: usize,
    pub form: RowForm,
    pub specials: SpecialTokens,
}

impl RowLayout {
    /// The length `inst`'s lists are stored at: `max_seq_len`, or its own with `--padding none`.
    pub fn width(&self, inst: &Instance) -> usize {
        if self.form.is_padded() {
            self.max_seq_len
        } else {
            inst.input_ids.len()
        }
    }
}

/// Appends the row `inst` becomes to the list columns (each grows by [`RowLayout::width`]): ids
/// padded with [PAD]; token types 0 through the first [SEP], 1 through the last, 0 on padding
/// (all 0 without a second segment); attention 1 on the real tokens; with static masking,
/// labels the original id at predicted positions and [`IGNORE_LABEL`] elsewhere; with dynamic
/// masking, `special_tokens_mask` 1 on [CLS], [SEP] and [PAD].
pub fn pad_row(inst: &Instance, layout: &RowLayout, out: &mut PaddedColumns) {
    let len = inst.input_ids.len();
    let width = layout.width(inst);
    let sp = &layout.specials;
    out.input_ids
        .extend(inst.input_ids.iter().map(|&t| t as i32));
    out.input_ids
        .resize(out.input_ids.len() + width - len, sp.pad as i32);
    // RoBERTa's layout has one segment id for both segments.
    let two_types = layout.form.pair_layout == PairLayout::Bert;
    out.token_type_ids
        .extend((0..width).map(|i| i8::from(two_types && i >= inst.segment_a_len && i < len)));
    out.attention_mask
        .extend((0..width).map(|i| i8::from(i < len)));
    if layout.form.is_static() {
        let start = out.labels.len();
        out.labels.resize(start + width, IGNORE_LABEL);
        for &(pos, original) in &inst.predictions {
            out.labels[start + pos as usize] = original as i32;
        }
    } else {
        let special = |t: u32| i8::from(t == sp.cls || t == sp.sep || t == sp.pad);
        out.special_tokens_mask
            .extend(inst.input_ids.iter().map(|&t| special(t)));
        out.special_tokens_mask
            .resize(out.special_tokens_mask.len() + width - len, 1);
    }
}

/// The list columns of stored rows, row after row (`labels` or `special_tokens_mask` empty
/// when the recipe does not store it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaddedColumns {
    pub input_ids: Vec<i32>,
    pub token_type_ids: Vec<i8>,
    pub attention_mask: Vec<i8>,
    pub labels: Vec<i32>,
    pub special_tokens_mask: Vec<i8>,
}

impl PaddedColumns {
    /// Room for `cells` values in each column.
    pub fn with_capacity(cells: usize) -> Self {
        PaddedColumns {
            input_ids: Vec::with_capacity(cells),
            token_type_ids: Vec::with_capacity(cells),
            attention_mask: Vec::with_capacity(cells),
            labels: Vec::with_capacity(cells),
            special_tokens_mask: Vec::new(),
        }
    }
}

/// The pair label of a row whose recipe has none (`--objective none`).
pub const NO_PAIR_LABEL: i8 = -1;

/// One row of a shard, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardRow {
    pub input_ids: Vec<i32>,
    pub token_type_ids: Vec<i8>,
    pub attention_mask: Vec<i8>,
    /// Empty with dynamic masking.
    pub labels: Vec<i32>,
    /// Empty with static masking.
    pub special_tokens_mask: Vec<i8>,
    /// The pair label (`next_sentence_label` or `sentence_order_label`); -1 without one.
    pub next_sentence_label: i8,
    pub num_tokens: i16,
    pub source: u64,
}

impl ShardRow {
    /// The row an instance becomes (what the writer stores).
    pub fn from_instance(inst: &Instance, layout: &RowLayout) -> ShardRow {
        let mut columns = PaddedColumns::with_capacity(layout.width(inst));
        pad_row(inst, layout, &mut columns);
        ShardRow {
            input_ids: columns.input_ids,
            token_type_ids: columns.token_type_ids,
            attention_mask: columns.attention_mask,
            labels: columns.labels,
            special_tokens_mask: columns.special_tokens_mask,
            next_sentence_label: match layout.form.pair_label() {
                Some(_) => i8::from(inst.pair_label),
                None => NO_PAIR_LABEL,
            },
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
            special_tokens_mask: (!self.special_tokens_mask.is_empty())
                .then_some(self.special_tokens_mask.as_slice()),
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
    /// Empty with dynamic masking.
    pub labels: &'a [i32],
    /// `None` with static masking (or when the column was not decoded).
    pub special_tokens_mask: Option<&'a [i8]>,
    /// The pair label; [`NO_PAIR_LABEL`] when the recipe has none (`--objective none`).
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
            special_tokens_mask: self
                .special_tokens_mask
                .map(<[i8]>::to_vec)
                .unwrap_or_default(),
            next_sentence_label: self.next_sentence_label,
            num_tokens: self.num_tokens,
            source: self.source,
        }
    }
}
