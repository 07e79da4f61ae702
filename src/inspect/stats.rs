//! Statistics over a stream of rows: what a shard holds, in numbers.
//!
//! [`Stats`] is an accumulator: [`Stats::add`] takes one [`RowView`] at a time (a few counters
//! and one count per distinct length, so memory does not grow with the rows) and
//! [`Stats::merge`] adds another shard's, so a directory is the sum of its shards.
//! [`Stats::summary`] turns the counts into the reported [`StatsSummary`]:
//!
//! - the histogram of real lengths (`num_tokens`) in [`HISTOGRAM_BUCKETS`] equal buckets up to
//!   `max_seq_len`;
//! - predictions per instance, and among predictions the observed share of `[MASK]` (input id is
//!   the mask id), kept (input id equals the label) and random (anything else) — the 80/10/10
//!   rule of Google's `create_pretraining_data.py`, as it came out (a random draw that happened
//!   to pick the original token shows as kept, so the observed kept share is a little above the
//!   build's `masked_as_kept` counter);
//! - the share of random-next pairs (`next_sentence_label` 1);
//! - mean lengths of segment A (after `[CLS]`, before the first `[SEP]`) and B (after it, or
//!   after `</s></s>` in RoBERTa's layout, before the last `[SEP]`);
//! - the share of padding among all stored positions.
//!
//! Rows that break the layout (see [`super::check`]) are still counted where they can be; a row
//! without two `[SEP]` adds nothing to the segment means.

use serde::Serialize;

use crate::shard::RowView;
use crate::shard::IGNORE_LABEL;
use crate::tokenize::SpecialTokens;

/// Buckets of the length histogram.
pub const HISTOGRAM_BUCKETS: usize = 16;

/// Counts over rows; add rows, merge shards, then [`Stats::summary`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    rows: u64,
    /// `lengths[n]` = rows with `num_tokens == n` (negative lengths count as 0).
    lengths: Vec<u64>,
    tokens: u64,
    positions: u64,
    predictions: u64,
    predictions_min: Option<u64>,
    predictions_max: u64,
    mask: u64,
    random: u64,
    kept: u64,
    random_next: u64,
    segment_a: u64,
    segment_b: u64,
    segmented_rows: u64,
}

impl Stats {
    /// Counts one row.
    pub fn add(&mut self, row: &RowView<'_>, specials: &SpecialTokens) {
        let mask_id = specials.mask as i32;
        self.rows += 1;
        let length = row.num_tokens.max(0) as usize;
        if self.lengths.len() <= length {
            self.lengths.resize(length + 1, 0);
        }
        self.lengths[length] += 1;
        self.tokens += length as u64;
        self.positions += row.input_ids.len() as u64;
        self.random_next += u64::from(row.next_sentence_label == 1);

        let mut predictions = 0;
        for (&label, &id) in row.labels.iter().zip(row.input_ids) {
            if label == IGNORE_LABEL {
                continue;
            }
            predictions += 1;
            if id == mask_id {
                self.mask += 1;
            } else if id == label {
                self.kept += 1;
            } else {
                self.random += 1;
            }
        }
        self.predictions += predictions;
        self.predictions_min = Some(
            self.predictions_min
                .map_or(predictions, |m| m.min(predictions)),
        );
        self.predictions_max = self.predictions_max.max(predictions);

        let real = &row.input_ids[..row.len()];
        let bounds = super::decode::segment_bounds(real, specials);
        if bounds.last < real.len() {
            self.segment_a += (bounds.first - bounds.start) as u64;
            self.segment_b += (bounds.last - bounds.b_start) as u64;
            self.segmented_rows += 1;
        }
    }

    /// Adds another accumulator's counts (e.g. the next shard's).
    pub fn merge(&mut self, other: &Stats) {
        if self.lengths.len() < other.lengths.len() {
            self.lengths.resize(other.lengths.len(), 0);
        }
        for (mine, theirs) in self.lengths.iter_mut().zip(&other.lengths) {
            *mine += theirs;
        }
        self.rows += other.rows;
        self.tokens += other.tokens;
        self.positions += other.positions;
        self.predictions += other.predictions;
        self.predictions_min = match (self.predictions_min, other.predictions_min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.predictions_max = self.predictions_max.max(other.predictions_max);
        self.mask += other.mask;
        self.random += other.random;
        self.kept += other.kept;
        self.random_next += other.random_next;
        self.segment_a += other.segment_a;
        self.segment_b += other.segment_b;
        self.segmented_rows += other.segmented_rows;
    }

    /// Rows counted so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Real tokens counted so far (sum of `num_tokens`).
    pub fn tokens(&self) -> u64 {
        self.tokens
    }

    /// The longest `num_tokens` seen (0 when there are no rows).
    pub fn longest(&self) -> usize {
        self.lengths.iter().rposition(|&c| c > 0).unwrap_or(0)
    }

    /// The reported numbers; the histogram spans `1..=max_seq_len`.
    pub fn summary(&self, max_seq_len: usize) -> StatsSummary {
        let max_seq_len = max_seq_len.max(self.longest()).max(1);
        let width = max_seq_len.div_ceil(HISTOGRAM_BUCKETS);
        let buckets = max_seq_len.div_ceil(width);
        let mut histogram: Vec<Bucket> = (0..buckets)
            .map(|b| Bucket {
                from: b * width + 1,
                to: ((b + 1) * width).min(max_seq_len),
                rows: 0,
            })
            .collect();
        for (length, &count) in self.lengths.iter().enumerate() {
            let b = (length.max(1) - 1) / width;
            if let Some(bucket) = histogram.get_mut(b.min(buckets - 1)) {
                bucket.rows += count;
            }
        }
        let min = self.lengths.iter().position(|&c| c > 0).unwrap_or(0);
        let share = |part: u64, whole: u64| round6(part as f64 / whole.max(1) as f64);
        StatsSummary {
            rows: self.rows,
            num_tokens: LengthSummary {
                min,
                max: self.longest(),
                mean: share(self.tokens, self.rows),
                histogram,
            },
            predictions: PredictionSummary {
                total: self.predictions,
                per_instance_mean: share(self.predictions, self.rows),
                per_instance_min: self.predictions_min.unwrap_or(0),
                per_instance_max: self.predictions_max,
                mask: self.mask,
                random: self.random,
                kept: self.kept,
                mask_share: share(self.mask, self.predictions),
                random_share: share(self.random, self.predictions),
                kept_share: share(self.kept, self.predictions),
            },
            next_sentence: NextSentenceSummary {
                random_next: self.random_next,
                random_next_share: share(self.random_next, self.rows),
            },
            segment_a_mean: share(self.segment_a, self.segmented_rows),
            segment_b_mean: share(self.segment_b, self.segmented_rows),
            padding_share: share(self.positions.saturating_sub(self.tokens), self.positions),
        }
    }
}

/// `x` rounded to 6 decimals, so reports print short, stable numbers.
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Statistics as reported (text and `--json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSummary {
    /// Rows counted.
    pub rows: u64,
    /// Real lengths.
    pub num_tokens: LengthSummary,
    /// Masked-LM predictions.
    pub predictions: PredictionSummary,
    /// Next-sentence labels.
    pub next_sentence: NextSentenceSummary,
    /// Mean tokens in segment A.
    pub segment_a_mean: f64,
    /// Mean tokens in segment B.
    pub segment_b_mean: f64,
    /// Padding positions over all stored positions.
    pub padding_share: f64,
}

/// `num_tokens` over the rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LengthSummary {
    pub min: usize,
    pub max: usize,
    pub mean: f64,
    /// Equal-width buckets covering `1..=max_seq_len`.
    pub histogram: Vec<Bucket>,
}

/// Rows whose `num_tokens` is in `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub from: usize,
    pub to: usize,
    pub rows: u64,
}

/// Predictions per instance and how they were made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictionSummary {
    pub total: u64,
    pub per_instance_mean: f64,
    pub per_instance_min: u64,
    pub per_instance_max: u64,
    /// Input is `[MASK]`.
    pub mask: u64,
    /// Input is another token than the label.
    pub random: u64,
    /// Input is the label itself.
    pub kept: u64,
    pub mask_share: f64,
    pub random_share: f64,
    pub kept_share: f64,
}

/// Next-sentence prediction labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextSentenceSummary {
    /// Rows with `next_sentence_label` 1 (B is random).
    pub random_next: u64,
    pub random_next_share: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shard::ShardRow;

    const SP: SpecialTokens = SpecialTokens::BERT;

    /// `[CLS] a a [SEP] b [SEP]` padded to 8; a [MASK], a kept and a random prediction.
    fn row(nsp: i8) -> ShardRow {
        let ids = vec![101, 103, 2001, 102, 999, 102, 0, 0];
        let mut labels = vec![IGNORE_LABEL; 8];
        labels[1] = 2000; // [MASK]
        labels[2] = 2001; // kept
        labels[4] = 2002; // random
        ShardRow {
            input_ids: ids,
            token_type_ids: vec![0, 0, 0, 0, 1, 1, 0, 0],
            attention_mask: vec![1, 1, 1, 1, 1, 1, 0, 0],
            labels,
            special_tokens_mask: Vec::new(),
            next_sentence_label: nsp,
            num_tokens: 6,
            source: 0,
        }
    }

    #[test]
    fn counts_prediction_kinds_segments_and_padding() {
        let mut stats = Stats::default();
        stats.add(&row(0).view(), &SP);
        stats.add(&row(1).view(), &SP);
        let s = stats.summary(8);
        assert_eq!(s.rows, 2);
        assert_eq!(
            (s.predictions.mask, s.predictions.kept, s.predictions.random),
            (2, 2, 2)
        );
        assert_eq!(s.predictions.per_instance_mean, 3.0);
        assert_eq!(s.next_sentence.random_next_share, 0.5);
        assert_eq!((s.segment_a_mean, s.segment_b_mean), (2.0, 1.0));
        assert_eq!(s.padding_share, 0.25);
        assert_eq!(
            (s.num_tokens.min, s.num_tokens.max, s.num_tokens.mean),
            (6, 6, 6.0)
        );
        let in_buckets: u64 = s.num_tokens.histogram.iter().map(|b| b.rows).sum();
        assert_eq!(in_buckets, 2);
    }

    #[test]
    fn roberta_pairs_count_b_after_both_separators() {
        let sp = SpecialTokens {
            cls: 0,
            pad: 1,
            sep: 2,
            unk: 3,
            mask: 50264,
        };
        // `<s> a a a </s></s> b b </s>`
        let ids = vec![0, 10, 11, 12, 2, 2, 13, 14, 2, 1];
        let r = ShardRow {
            token_type_ids: vec![0; ids.len()],
            attention_mask: vec![1, 1, 1, 1, 1, 1, 1, 1, 1, 0],
            labels: vec![IGNORE_LABEL; ids.len()],
            input_ids: ids,
            special_tokens_mask: Vec::new(),
            next_sentence_label: 0,
            num_tokens: 9,
            source: 0,
        };
        let mut stats = Stats::default();
        stats.add(&r.view(), &sp);
        let s = stats.summary(10);
        assert_eq!((s.segment_a_mean, s.segment_b_mean), (3.0, 2.0));
    }

    #[test]
    fn merge_equals_adding_everything_to_one() {
        let rows: Vec<ShardRow> = (0..5).map(|i| row(i % 2)).collect();
        let mut whole = Stats::default();
        let (mut a, mut b) = (Stats::default(), Stats::default());
        for (i, r) in rows.iter().enumerate() {
            whole.add(&r.view(), &SP);
            if i < 2 { &mut a } else { &mut b }.add(&r.view(), &SP);
        }
        a.merge(&b);
        assert_eq!(a, whole);
    }

    #[test]
    fn histogram_buckets_cover_one_to_max_seq_len() {
        let s = Stats::default().summary(128);
        assert_eq!(s.num_tokens.histogram.len(), HISTOGRAM_BUCKETS);
        assert_eq!(s.num_tokens.histogram[0].from, 1);
        assert_eq!(s.num_tokens.histogram[0].to, 8);
        assert_eq!(s.num_tokens.histogram[15].to, 128);
        let s = Stats::default().summary(20);
        assert_eq!(s.num_tokens.histogram.last().map(|b| b.to), Some(20));
    }
}
