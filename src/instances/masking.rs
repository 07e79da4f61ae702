//! Masked-LM predictions: Google's `create_masked_lm_predictions`, with its flaws fixed.
//!
//! Lays a [`Pair`] out as `[CLS] A [SEP] B [SEP]`, then picks exactly
//! `min(max_predictions, max(1, round(len * masked_lm_prob)))` positions among all but
//! `[CLS]`/`[SEP]` (`len` counts the special tokens; `round` is Python's, ties to even). Each
//! chosen position becomes `[MASK]` with probability 0.8, stays unchanged with 0.1, and becomes a
//! random token with 0.1. With whole-word masking the candidates are whole words (a token and
//! the `##` pieces right after it) and the 80/10/10 decision is made once per word; a word that
//! would overshoot the count is passed over, as in Google's code (and when every word would, the
//! shortest is taken, capped at `max_predictions`, so no instance is left without a prediction).
//!
//! With `--mask-spans` (SpanBERT) the predictions are spans of whole words, each of a length
//! drawn from a geometric distribution (p = 0.2, at most 10 words; mean 3.8), with one 80/10/10
//! decision per span, until the count is met ([`predict_spans`]).
//!
//! Fixes: the random token is drawn from the vocabulary without special and `[unused]` entries
//! (Google drew from all of it, `[PAD]` and `[CLS]` included); whole-word decisions are per word
//! (Google decided per piece); a `##` piece right after `[SEP]` starts its own word (Google
//! glued it to the last word of A).

use super::record::{Counters, Instance, Pair};
use crate::rng::UnitRng;
use crate::tokenize::roles::PairLayout;
use crate::tokenize::{SpecialTokens, Tokenizer};

/// Settings of masking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskSettings {
    pub masked_lm_prob: f64,
    pub max_predictions: usize,
    pub whole_word_mask: bool,
    /// SpanBERT's spans of whole words instead of single tokens or words.
    pub mask_spans: bool,
}

/// SpanBERT's span lengths: geometric with this `p`, in whole words...
pub const SPAN_P: f64 = 0.2;
/// ... truncated to at most this many words (and renormalised: mean 3.8 words).
pub const MAX_SPAN_WORDS: usize = 10;

/// What masking needs to know about the vocabulary.
#[derive(Debug, Clone, Copy)]
pub struct MaskVocab<'a> {
    pub specials: SpecialTokens,
    /// `continuation[id]`: the token continues the previous token's word.
    pub continuation: &'a [bool],
    /// Ids a random replacement is drawn from (non-empty).
    pub random_pool: &'a [u32],
    /// BERT's pairs or RoBERTa's (a second separator between the segments).
    pub pair_layout: PairLayout,
}

impl<'a> MaskVocab<'a> {
    /// The masking view of a tokenizer.
    pub fn new(tokenizer: &'a Tokenizer) -> Self {
        MaskVocab {
            specials: tokenizer.specials(),
            continuation: tokenizer.continuation_flags(),
            random_pool: tokenizer.random_pool(),
            pair_layout: tokenizer.pair_layout(),
        }
    }

    fn is_continuation(&self, id: u32) -> bool {
        self.continuation.get(id as usize).copied().unwrap_or(false)
    }
}

/// Number of predictions for an instance of `len` tokens.
pub fn num_to_predict(len: usize, settings: &MaskSettings) -> usize {
    let scaled = (len as f64 * settings.masked_lm_prob).round_ties_even() as usize;
    settings.max_predictions.min(scaled.max(1))
}

/// Lays out and masks one pair.
pub fn mask(
    pair: Pair,
    settings: &MaskSettings,
    vocab: &MaskVocab<'_>,
    rng: &mut UnitRng,
    counters: &mut Counters,
) -> Instance {
    let (mut input_ids, segment_a_len) = lay_out(&pair, vocab);
    let len = input_ids.len();
    let whole_words = settings.whole_word_mask || settings.mask_spans;
    let mut words = candidate_words(&input_ids, segment_a_len, whole_words, vocab);
    let target = num_to_predict(len, settings);
    let mut predictions: Vec<(u32, u32)> = Vec::with_capacity(target);
    if settings.mask_spans {
        predict_spans(
            &mut input_ids,
            &mut predictions,
            &words,
            target,
            vocab,
            rng,
            counters,
        );
    } else {
        rng.shuffle(&mut words);
        for &(start, end) in &words {
            if predictions.len() >= target {
                break;
            }
            let size = (end - start) as usize;
            if predictions.len() + size > target {
                continue;
            }
            predict_word(
                &mut input_ids,
                &mut predictions,
                start..end,
                vocab,
                rng,
                counters,
            );
        }
    }
    if predictions.is_empty() {
        // Whole words all longer than the count: take the shortest word anyway (capped at
        // max_predictions) so that no instance goes without a prediction.
        if let Some(&(start, end)) = words.iter().min_by_key(|w| w.1 - w.0) {
            let end = end.min(start + settings.max_predictions.max(1) as u32);
            predict_word(
                &mut input_ids,
                &mut predictions,
                start..end,
                vocab,
                rng,
                counters,
            );
        }
    }
    predictions.sort_unstable_by_key(|p| p.0);

    counters.instances += 1;
    counters.tokens += len as u64;
    counters.masked += predictions.len() as u64;
    counters.truncated += u64::from(pair.truncated);
    counters.short_target += u64::from(pair.short_target);
    Instance {
        input_ids,
        segment_a_len,
        predictions,
        pair_label: pair.pair_label,
        source: pair.source,
    }
}

/// Masks a stored unmasked row at training time (`--masking dynamic`), with the build's rules:
/// exactly [`num_to_predict`] positions among those whose id is not `[CLS]`, `[SEP]` or `[PAD]`
/// (`ids` holds the row's real tokens), each shown as `[MASK]` (80%), a random token (10%) or
/// unchanged (10%). Returns `(position, original id)` of every prediction, ascending.
pub fn mask_row(
    ids: &mut [u32],
    settings: &MaskSettings,
    vocab: &MaskVocab<'_>,
    rng: &mut UnitRng,
) -> Vec<(u32, u32)> {
    let sp = &vocab.specials;
    let mut positions: Vec<(u32, u32)> = (0..ids.len() as u32)
        .filter(|&i| ![sp.cls, sp.sep, sp.pad].contains(&ids[i as usize]))
        .map(|i| (i, i + 1))
        .collect();
    rng.shuffle(&mut positions);
    let target = num_to_predict(ids.len(), settings);
    let mut predictions = Vec::with_capacity(target);
    let mut counters = Counters::default();
    for &(start, end) in positions.iter().take(target) {
        predict_word(ids, &mut predictions, start..end, vocab, rng, &mut counters);
    }
    predictions.sort_unstable_by_key(|p| p.0);
    predictions
}

/// SpanBERT's masking: until `target` positions are predicted, draw a span length in words
/// ([`span_length`]) and a random anchor word not yet taken, and take that many whole words
/// from it — rightwards, then leftwards where the end of its segment, a word already taken or
/// the word that would overshoot `target` stops it — shown by one 80/10/10 decision. `words`
/// are whole words in position order. Gives up after a bounded number of draws (only when
/// every word left would overshoot).
fn predict_spans(
    input_ids: &mut [u32],
    predictions: &mut Vec<(u32, u32)>,
    words: &[(u32, u32)],
    target: usize,
    vocab: &MaskVocab<'_>,
    rng: &mut UnitRng,
    counters: &mut Counters,
) {
    let mut taken = vec![false; words.len()];
    let mut draws = 4 * words.len() + 16;
    while predictions.len() < target && draws > 0 && !words.is_empty() {
        draws -= 1;
        let want = span_length(rng);
        let anchor = rng.index(words.len());
        let fits = |tokens: usize, word: usize| {
            predictions.len() + tokens + (words[word].1 - words[word].0) as usize <= target
        };
        if taken[anchor] || !fits(0, anchor) {
            continue;
        }
        // Grow right from the anchor, then left when something stops it short.
        let (mut first, mut end) = (anchor, anchor + 1);
        let mut tokens = (words[anchor].1 - words[anchor].0) as usize;
        while end - first < want
            && end < words.len()
            && !taken[end]
            && words[end].0 == words[end - 1].1
            && fits(tokens, end)
        {
            tokens += (words[end].1 - words[end].0) as usize;
            end += 1;
        }
        while end - first < want
            && first > 0
            && !taken[first - 1]
            && words[first - 1].1 == words[first].0
            && fits(tokens, first - 1)
        {
            first -= 1;
            tokens += (words[first].1 - words[first].0) as usize;
        }
        taken[first..end].fill(true);
        let span = words[first].0..words[end - 1].1;
        predict_word(input_ids, predictions, span, vocab, rng, counters);
        counters.mask_spans += 1;
        counters.mask_span_words += (end - first) as u64;
    }
}

/// A span length in words: geometric with `p` = [`SPAN_P`], drawn again until it is at most
/// [`MAX_SPAN_WORDS`] (SpanBERT's truncated, renormalised distribution).
pub fn span_length(rng: &mut UnitRng) -> usize {
    loop {
        let mut len = 1;
        while len <= MAX_SPAN_WORDS && !rng.chance(SPAN_P) {
            len += 1;
        }
        if len <= MAX_SPAN_WORDS {
            return len;
        }
    }
}

/// `[CLS] A [SEP] B [SEP]` (RoBERTa's layout: `<s> A </s></s> B </s>`), and the length of
/// `[CLS] A [SEP]`; a row without a pair (`B` empty) is `[CLS] A [SEP]`, all of it segment 0.
fn lay_out(pair: &Pair, vocab: &MaskVocab<'_>) -> (Vec<u32>, usize) {
    let specials = &vocab.specials;
    let len = pair.tokens_a.len() + pair.tokens_b.len() + 4;
    let mut input_ids = Vec::with_capacity(len);
    input_ids.push(specials.cls);
    input_ids.extend_from_slice(&pair.tokens_a);
    input_ids.push(specials.sep);
    let segment_a_len = input_ids.len();
    if !pair.tokens_b.is_empty() {
        if vocab.pair_layout == PairLayout::Roberta {
            input_ids.push(specials.sep);
        }
        input_ids.extend_from_slice(&pair.tokens_b);
        input_ids.push(specials.sep);
    }
    (input_ids, segment_a_len)
}

/// Lays out one pair or row without masking it (`--masking dynamic`: masks are drawn at
/// training time).
pub fn unmasked(pair: Pair, vocab: &MaskVocab<'_>, counters: &mut Counters) -> Instance {
    let (input_ids, segment_a_len) = lay_out(&pair, vocab);
    counters.instances += 1;
    counters.tokens += input_ids.len() as u64;
    counters.truncated += u64::from(pair.truncated);
    counters.short_target += u64::from(pair.short_target);
    Instance {
        input_ids,
        segment_a_len,
        predictions: Vec::new(),
        pair_label: pair.pair_label,
        source: pair.source,
    }
}

/// Candidate words as (start, end) position ranges, in order; special positions (and the
/// [SEP] between documents of a row without a pair) are never candidates. With `whole_word_mask`, a `##` piece joins the word right before it.
fn candidate_words(
    input_ids: &[u32],
    segment_a_len: usize,
    whole_word_mask: bool,
    vocab: &MaskVocab<'_>,
) -> Vec<(u32, u32)> {
    let len = input_ids.len();
    // A row without a pair (segment A is all of it) holds [SEP] between documents.
    let packed = segment_a_len == len;
    // RoBERTa's pairs open segment B with a second separator.
    let roberta = vocab.pair_layout == PairLayout::Roberta && !packed;
    let second_sep = roberta.then_some(segment_a_len);
    let mut words: Vec<(u32, u32)> = Vec::with_capacity(len);
    for (pos, &id) in input_ids.iter().enumerate().take(len - 1).skip(1) {
        if pos == segment_a_len - 1
            || Some(pos) == second_sep
            || (packed && id == vocab.specials.sep)
        {
            continue;
        }
        let glue = whole_word_mask
            && vocab.is_continuation(id)
            && words.last().is_some_and(|w| w.1 as usize == pos);
        match words.last_mut() {
            Some(word) if glue => word.1 += 1,
            _ => words.push((pos as u32, pos as u32 + 1)),
        }
    }
    words
}

/// How a predicted position is shown to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Mask,
    Kept,
    Random,
}

/// The 80/10/10 draw, in Google's order: [MASK] below 0.8, then a fair coin for kept/random.
fn draw_shown(rng: &mut UnitRng) -> Shown {
    if rng.chance(0.8) {
        Shown::Mask
    } else if rng.chance(0.5) {
        Shown::Kept
    } else {
        Shown::Random
    }
}

/// Predicts every position of one word, shown as one 80/10/10 decision.
fn predict_word(
    input_ids: &mut [u32],
    predictions: &mut Vec<(u32, u32)>,
    word: std::ops::Range<u32>,
    vocab: &MaskVocab<'_>,
    rng: &mut UnitRng,
    counters: &mut Counters,
) {
    let shown = draw_shown(rng);
    for pos in word {
        let slot = &mut input_ids[pos as usize];
        predictions.push((pos, *slot));
        match shown {
            Shown::Mask => {
                *slot = vocab.specials.mask;
                counters.masked_as_mask += 1;
            }
            Shown::Kept => counters.masked_as_kept += 1,
            Shown::Random => {
                *slot = vocab.random_pool[rng.index(vocab.random_pool.len())];
                counters.masked_as_random += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    const SPECIALS: SpecialTokens = SpecialTokens {
        pad: 0,
        unk: 1,
        cls: 2,
        sep: 3,
        mask: 4,
    };

    fn pair(a: &[u32], b: &[u32]) -> Pair {
        Pair {
            tokens_a: a.to_vec(),
            tokens_b: b.to_vec(),
            pair_label: false,
            short_target: false,
            truncated: false,
            source: 0,
        }
    }

    #[test]
    fn count_follows_python_rounding() {
        let s = MaskSettings {
            masked_lm_prob: 0.15,
            max_predictions: 20,
            whole_word_mask: false,
            mask_spans: false,
        };
        assert_eq!(num_to_predict(3, &s), 1);
        assert_eq!(num_to_predict(10, &s), 2); // round(1.5) = 2
        assert_eq!(num_to_predict(50, &s), 8); // round(7.5) = 8
        assert_eq!(num_to_predict(128, &s), 19);
        assert_eq!(num_to_predict(512, &s), 20);
    }

    #[test]
    fn whole_words_are_masked_together_with_one_decision() {
        // ids >= 100 are continuations.
        let continuation: Vec<bool> = (0..200).map(|i| i >= 100).collect();
        let pool: Vec<u32> = (10..100).collect();
        let vocab = MaskVocab {
            specials: SPECIALS,
            continuation: &continuation,
            random_pool: &pool,
            pair_layout: PairLayout::Bert,
        };
        let settings = MaskSettings {
            masked_lm_prob: 0.3,
            max_predictions: 100,
            whole_word_mask: true,
            mask_spans: false,
        };
        // Words: [10 101 102] [11] [12 103] | [104] is a word of its own after [SEP] | [13 105]
        let a = [10, 101, 102, 11, 12, 103];
        let b = [104, 13, 105];
        let mut counters = Counters::default();
        for seed in 0..200 {
            let mut rng = UnitRng::new(seed, Purpose::Instances, 0, 0);
            let inst = mask(pair(&a, &b), &settings, &vocab, &mut rng, &mut counters);
            let positions: Vec<u32> = inst.predictions.iter().map(|p| p.0).collect();
            let words: [&[u32]; 5] = [&[1, 2, 3], &[4], &[5, 6], &[8], &[9, 10]];
            for word in words {
                let hit = word.iter().filter(|p| positions.contains(p)).count();
                assert!(
                    hit == 0 || hit == word.len(),
                    "split word {word:?}: {positions:?}"
                );
                if hit > 0 {
                    let shown: Vec<u32> =
                        word.iter().map(|&p| inst.input_ids[p as usize]).collect();
                    let all_mask = shown.iter().all(|&t| t == SPECIALS.mask);
                    let any_mask = shown.contains(&SPECIALS.mask);
                    assert_eq!(all_mask, any_mask, "mixed decision in {shown:?}");
                }
            }
            assert!(!positions.contains(&0) && !positions.contains(&7) && !positions.contains(&11));
        }
    }

    #[test]
    fn span_lengths_follow_spanbert_s_distribution() {
        let mut rng = UnitRng::new(7, Purpose::Instances, 0, 0);
        let n = 200_000;
        let mut counts = [0usize; MAX_SPAN_WORDS + 1];
        for _ in 0..n {
            counts[span_length(&mut rng)] += 1;
        }
        assert_eq!(counts[0], 0);
        let mean = (1..=MAX_SPAN_WORDS).map(|k| k * counts[k]).sum::<usize>() as f64 / n as f64;
        // SpanBERT's mean: sum k p (1-p)^(k-1) / sum p (1-p)^(k-1) over k = 1..10.
        let weights: Vec<f64> = (1..=MAX_SPAN_WORDS)
            .map(|k| SPAN_P * (1.0 - SPAN_P).powi(k as i32 - 1))
            .collect();
        let expected = weights
            .iter()
            .enumerate()
            .map(|(i, w)| (i + 1) as f64 * w)
            .sum::<f64>()
            / weights.iter().sum::<f64>();
        assert!((expected - 3.8).abs() < 0.01, "{expected}");
        assert!(
            (mean - expected).abs() < 0.03,
            "mean {mean}, expected {expected}"
        );
    }

    #[test]
    fn spans_are_runs_of_whole_words_inside_a_segment_with_one_decision() {
        // ids >= 100 are continuations; every word is [id, 100 + id].
        let continuation: Vec<bool> = (0..300).map(|i| i >= 100).collect();
        let pool: Vec<u32> = (10..100).collect();
        let vocab = MaskVocab {
            specials: SPECIALS,
            continuation: &continuation,
            random_pool: &pool,
            pair_layout: PairLayout::Bert,
        };
        let settings = MaskSettings {
            masked_lm_prob: 0.3,
            max_predictions: 60,
            whole_word_mask: false,
            mask_spans: true,
        };
        let word = |i: u32| [10 + i, 110 + i];
        let a: Vec<u32> = (0..40).flat_map(word).collect();
        let b: Vec<u32> = (40..80).flat_map(word).collect();
        let sep_a = a.len() + 1;
        let mut counters = Counters::default();
        for seed in 0..100 {
            let mut rng = UnitRng::new(seed, Purpose::Instances, 0, 0);
            let inst = mask(pair(&a, &b), &settings, &vocab, &mut rng, &mut counters);
            let len = inst.input_ids.len();
            // Words of two pieces: an odd count is missed by one at most.
            let want = num_to_predict(len, &settings);
            assert!(inst.predictions.len() + 1 >= want && inst.predictions.len() <= want);
            let positions: Vec<usize> = inst.predictions.iter().map(|p| p.0 as usize).collect();
            // Whole words: a word's two pieces are predicted together.
            for &p in &positions {
                let partner = if (p - 1 - usize::from(p > sep_a)) % 2 == 0 {
                    p + 1
                } else {
                    p - 1
                };
                assert!(
                    positions.contains(&partner),
                    "half a word at {p}: {positions:?}"
                );
                assert!(p != 0 && p != sep_a && p != len - 1);
            }
        }
        assert!(counters.mask_spans > 0);
        let mean = counters.mask_span_words as f64 / counters.mask_spans as f64;
        assert!((2.5..=3.8).contains(&mean), "mean span {mean} words");
    }

    #[test]
    fn rows_masked_in_training_follow_the_build_s_rules() {
        let pool: Vec<u32> = (10..100).collect();
        let continuation = vec![false; 100];
        let vocab = MaskVocab {
            specials: SPECIALS,
            continuation: &continuation,
            random_pool: &pool,
            pair_layout: PairLayout::Bert,
        };
        let settings = MaskSettings {
            masked_lm_prob: 0.3,
            max_predictions: 40,
            whole_word_mask: false,
            mask_spans: false,
        };
        // [CLS] 40 words [SEP] 20 words [SEP]
        let row: Vec<u32> = std::iter::once(SPECIALS.cls)
            .chain(10..50)
            .chain([SPECIALS.sep])
            .chain(50..70)
            .chain([SPECIALS.sep])
            .collect();
        let (mut shown, mut total) = ([0usize; 3], 0);
        let mut first = None;
        for epoch in 0..300 {
            let mut rng = UnitRng::new(1, Purpose::TrainMasks, epoch, 0);
            let mut ids = row.clone();
            let predictions = mask_row(&mut ids, &settings, &vocab, &mut rng);
            assert_eq!(predictions.len(), num_to_predict(row.len(), &settings));
            first.get_or_insert_with(|| predictions.clone());
            for &(pos, original) in &predictions {
                assert_eq!(row[pos as usize], original);
                assert!(![SPECIALS.cls, SPECIALS.sep].contains(&original));
                let kind = match ids[pos as usize] {
                    t if t == SPECIALS.mask => 0,
                    t if t == original => 1,
                    _ => 2,
                };
                shown[kind] += 1;
                total += 1;
            }
            let untouched =
                (0..row.len() as u32).filter(|p| !predictions.iter().any(|q| q.0 == *p));
            assert!(untouched
                .into_iter()
                .all(|p| ids[p as usize] == row[p as usize]));
        }
        let share = |n: usize| n as f64 / total as f64;
        assert!((share(shown[0]) - 0.8).abs() < 0.02, "{shown:?}");
        // The kept share includes random draws of the original token (1 in 90 here).
        assert!((share(shown[1]) - 0.1).abs() < 0.015, "{shown:?}");
        // Another epoch, other masks.
        let mut rng = UnitRng::new(1, Purpose::TrainMasks, 1, 0);
        let mut ids = row.clone();
        assert_ne!(
            mask_row(&mut ids, &settings, &vocab, &mut rng),
            first.unwrap()
        );
    }
}
