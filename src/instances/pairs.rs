//! Next-sentence pairs: Google's `create_instances_from_document` with its known flaws fixed.
//!
//! Mirrors `create_pretraining_data.py` (google-research/bert): sentences accumulate into a
//! chunk until it reaches the target length (`max_num_tokens`, or with probability
//! `short_seq_prob` a uniform length in `[2, max_num_tokens]`); A is the chunk's first `a_end`
//! sentences (`a_end` uniform in `[1, len - 1]`); B is the rest of the chunk, or with
//! probability 0.5 text from a random other document starting at a random sentence, in which
//! case the chunk's unused sentences are put back. The pair is then truncated to fit, one token
//! at a time from the longer side, front or back at random.
//!
//! With `--objective sop` (ALBERT's sentence-order prediction) B is always the chunk's own
//! continuation (or, for a single-sentence chunk, the document's next sentence), and the same
//! fair coin that would have drawn a random B swaps A and B instead: label 1 means B's text comes
//! first in the document. ALBERT's own generator makes SOP pairs the same way.
//!
//! Differences from Google, each a fix:
//! - The NSP coin is fair. Google forces a random B for every single-sentence chunk, so its
//!   output is 57-62% random-next on Wikipedia. Here a single-sentence chunk takes the
//!   document's next sentence as its true B, and a chunk that is the document's last sentence
//!   alone (one-sentence documents included) is not used as A at all (counted as
//!   `lone_last_sentences`). A chunk never closes leaving a single sentence of the document
//!   behind: that sentence joins it.
//! - The random document is never the document itself (Google gives up after ten draws), and it
//!   is drawn from the documents of the same work unit, which bounds memory.
//! - The short target is drawn afresh for every chunk rather than once per document, so that
//!   about `short_seq_prob` of the instances are short ones.

use super::record::{Counters, Pair, TokenizedDocument};
use crate::config::Objective;
use crate::rng::UnitRng;

/// Probability that B is a random other document's text.
pub const RANDOM_NEXT_PROB: f64 = 0.5;

/// Settings of pair creation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairSettings {
    /// Tokens for A and B together: `max_seq_len - 3`. At least 2.
    pub max_num_tokens: usize,
    /// Probability of a short target length.
    pub short_seq_prob: f64,
    /// NSP draws a random B half the time; SOP keeps B the true continuation and swaps A and B
    /// half the time.
    pub objective: Objective,
}

/// Appends the pairs of `docs[doc_index]` to `out`.
pub fn create_pairs(
    docs: &[TokenizedDocument],
    doc_index: usize,
    settings: &PairSettings,
    rng: &mut UnitRng,
    counters: &mut Counters,
    out: &mut Vec<Pair>,
) {
    let doc = &docs[doc_index].sentences;
    let n = doc.len();
    let max_num_tokens = settings.max_num_tokens.max(2);
    let draw_target = |rng: &mut UnitRng| draw_target(settings.short_seq_prob, max_num_tokens, rng);
    let (mut target, mut short) = draw_target(rng);
    let mut chunk_start = 0;
    let mut chunk_len = 0;
    let mut i = 0;
    while i < n {
        chunk_len += doc[i].len();
        let last = i + 1 == n;
        // Close at the target unless that would leave the document's last sentence alone.
        let close = last || (chunk_len >= target && i + 2 != n);
        if !close {
            i += 1;
            continue;
        }
        let k = i + 1 - chunk_start;
        if k == 1 && last {
            counters.lone_last_sentences += 1;
            break;
        }
        let a_end = if k >= 2 { rng.inclusive(1, k - 1) } else { 1 };
        let mut tokens_a: Vec<u32> = doc[chunk_start..chunk_start + a_end].concat();
        // The same coin decides NSP's random B and SOP's swap.
        let coin = rng.chance(RANDOM_NEXT_PROB);
        let sop = settings.objective == Objective::Sop;
        let mut is_random_next = coin && !sop;
        if is_random_next && docs.len() < 2 {
            counters.no_other_document += 1;
            is_random_next = false;
        }
        let mut tokens_b: Vec<u32>;
        if is_random_next {
            let target_b = target.saturating_sub(tokens_a.len()).max(1);
            tokens_b = random_next(docs, doc_index, target_b, rng);
            // Put the chunk's unused sentences back.
            i -= k - a_end;
        } else if k >= 2 {
            tokens_b = doc[chunk_start + a_end..=i].concat();
        } else {
            // A single sentence that filled the target: its true next sentence is B.
            i += 1;
            tokens_b = doc[i].clone();
        }
        let truncated = truncate_pair(&mut tokens_a, &mut tokens_b, max_num_tokens, rng);
        let swapped = coin && sop;
        if swapped {
            std::mem::swap(&mut tokens_a, &mut tokens_b);
        }
        counters.random_next += u64::from(is_random_next);
        counters.swapped += u64::from(swapped);
        out.push(Pair {
            tokens_a,
            tokens_b,
            pair_label: is_random_next || swapped,
            short_target: short,
            truncated,
            source: docs[doc_index].source,
        });
        i += 1;
        chunk_start = i;
        chunk_len = 0;
        (target, short) = draw_target(rng);
    }
}

/// The chunk's target length: with probability `short_seq_prob` a uniform length in
/// `[2, max_num_tokens]` (and `true`, short), else `max_num_tokens`.
fn draw_target(short_seq_prob: f64, max_num_tokens: usize, rng: &mut UnitRng) -> (usize, bool) {
    if rng.chance(short_seq_prob) {
        (rng.inclusive(2, max_num_tokens), true)
    } else {
        (max_num_tokens, false)
    }
}

/// A random B: sentences of a random document other than `doc_index`, from a random sentence
/// on, until they reach `target_b` tokens. Draws the document, then the sentence.
fn random_next(
    docs: &[TokenizedDocument],
    doc_index: usize,
    target_b: usize,
    rng: &mut UnitRng,
) -> Vec<u32> {
    let mut other = rng.index(docs.len() - 1);
    if other >= doc_index {
        other += 1;
    }
    let random_doc = &docs[other].sentences;
    let start = rng.index(random_doc.len());
    let mut tokens_b = Vec::new();
    for sentence in &random_doc[start..] {
        tokens_b.extend_from_slice(sentence);
        if tokens_b.len() >= target_b {
            break;
        }
    }
    tokens_b
}

/// Cuts A and B until together they fit `max_num_tokens`: one token at a time from the longer
/// (B on a tie), from the front or the back at random. Returns whether anything was cut.
pub fn truncate_pair(
    tokens_a: &mut Vec<u32>,
    tokens_b: &mut Vec<u32>,
    max_num_tokens: usize,
    rng: &mut UnitRng,
) -> bool {
    // Track the kept window of each side, then cut once: no quadratic front removal.
    let (mut a_lo, mut a_hi) = (0, tokens_a.len());
    let (mut b_lo, mut b_hi) = (0, tokens_b.len());
    let mut cut = false;
    while (a_hi - a_lo) + (b_hi - b_lo) > max_num_tokens {
        cut = true;
        let (lo, hi) = if a_hi - a_lo > b_hi - b_lo {
            (&mut a_lo, &mut a_hi)
        } else {
            (&mut b_lo, &mut b_hi)
        };
        if rng.chance(0.5) {
            *lo += 1;
        } else {
            *hi -= 1;
        }
    }
    if cut {
        tokens_a.truncate(a_hi);
        tokens_a.drain(..a_lo);
        tokens_b.truncate(b_hi);
        tokens_b.drain(..b_lo);
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Purpose;

    fn doc(source: u64, lens: &[usize]) -> TokenizedDocument {
        let mut next = (source as u32) * 1000 + 1000;
        let sentences = lens
            .iter()
            .map(|&l| {
                (0..l)
                    .map(|_| {
                        next += 1;
                        next
                    })
                    .collect()
            })
            .collect();
        TokenizedDocument { source, sentences }
    }

    fn run(
        docs: &[TokenizedDocument],
        index: usize,
        max: usize,
        seed: u64,
    ) -> (Vec<Pair>, Counters) {
        run_with(docs, index, max, seed, Objective::Nsp)
    }

    fn run_with(
        docs: &[TokenizedDocument],
        index: usize,
        max: usize,
        seed: u64,
        objective: Objective,
    ) -> (Vec<Pair>, Counters) {
        let mut rng = UnitRng::new(seed, Purpose::Instances, 0, 0);
        let mut counters = Counters::default();
        let mut out = Vec::new();
        let settings = PairSettings {
            max_num_tokens: max,
            short_seq_prob: 0.1,
            objective,
        };
        create_pairs(docs, index, &settings, &mut rng, &mut counters, &mut out);
        (out, counters)
    }

    #[test]
    fn sop_pairs_are_consecutive_text_of_their_document_swapped_half_the_time() {
        // Token ids rise through each document, so "in order" is "A's ids below B's".
        let docs = [doc(0, &[5, 9, 3, 12, 7, 4, 6, 8]), doc(1, &[6, 6, 6, 6])];
        let (mut total, mut swapped) = (0, 0);
        for seed in 0..400 {
            let (pairs, counters) = run_with(&docs, 0, 30, seed, Objective::Sop);
            assert_eq!(counters.random_next, 0);
            assert_eq!(
                counters.swapped,
                pairs.iter().filter(|p| p.pair_label).count() as u64
            );
            for p in &pairs {
                let (first, second) = if p.pair_label {
                    (&p.tokens_b, &p.tokens_a)
                } else {
                    (&p.tokens_a, &p.tokens_b)
                };
                let all: Vec<u32> = first.iter().chain(second).copied().collect();
                assert!(all.iter().all(|&t| (1001..2000).contains(&t)), "{all:?}");
                assert!(all.windows(2).all(|w| w[0] < w[1]), "not in order: {all:?}");
                if !p.truncated {
                    // Untruncated, B starts right where A ends: consecutive text, no gap.
                    assert_eq!(first.last().unwrap() + 1, second[0], "{p:?}");
                }
                total += 1;
                swapped += usize::from(p.pair_label);
            }
        }
        let share = swapped as f64 / total as f64;
        assert!(
            (0.45..0.55).contains(&share),
            "swapped share {share} of {total}"
        );
    }

    #[test]
    fn truncation_fits_and_keeps_both_sides() {
        let mut rng = UnitRng::new(1, Purpose::Instances, 0, 0);
        for (la, lb, max) in [(10, 10, 5), (100, 1, 9), (1, 100, 2), (3, 3, 10)] {
            let mut a: Vec<u32> = (0..la).collect();
            let mut b: Vec<u32> = (1000..1000 + lb).collect();
            let cut = truncate_pair(&mut a, &mut b, max as usize, &mut rng);
            assert_eq!(cut, la + lb > max);
            assert!(a.len() + b.len() <= max as usize);
            assert!(!a.is_empty() && !b.is_empty());
            // What is kept is a contiguous window of the original.
            assert!(a.windows(2).all(|w| w[1] == w[0] + 1));
            assert!(b.windows(2).all(|w| w[1] == w[0] + 1));
        }
    }

    #[test]
    fn one_sentence_document_gives_no_pair() {
        let docs = [doc(0, &[5]), doc(1, &[4, 4])];
        let (pairs, counters) = run(&docs, 0, 50, 1);
        assert!(pairs.is_empty());
        assert_eq!(counters.lone_last_sentences, 1);
    }

    #[test]
    fn pairs_fit_and_come_from_the_right_documents() {
        let docs: Vec<TokenizedDocument> = (0..6)
            .map(|d| doc(d, &[7, 3, 12, 5, 9, 4, 6, 8, 2, 10]))
            .collect();
        for seed in 0..50 {
            for index in 0..docs.len() {
                let (pairs, _) = run(&docs, index, 20, seed);
                assert!(!pairs.is_empty());
                for p in pairs {
                    assert!(p.tokens_a.len() + p.tokens_b.len() <= 20);
                    assert!(!p.tokens_a.is_empty() && !p.tokens_b.is_empty());
                    let doc_of = |t: u32| u64::from(t / 1000 - 1);
                    assert!(p.tokens_a.iter().all(|&t| doc_of(t) == index as u64));
                    let b_doc = doc_of(p.tokens_b[0]);
                    assert!(p.tokens_b.iter().all(|&t| doc_of(t) == b_doc));
                    if p.pair_label {
                        assert_ne!(b_doc, index as u64, "random B from the same document");
                    } else {
                        assert_eq!(b_doc, index as u64);
                        // True next: B starts right after A's last kept token's sentence run.
                        assert!(p.tokens_b[0] > *p.tokens_a.last().unwrap() || p.truncated);
                    }
                }
            }
        }
    }

    #[test]
    fn single_long_sentence_chunk_takes_next_sentence_as_b() {
        // Every sentence alone exceeds the target: chunks have one sentence each.
        let docs = [doc(0, &[30, 30, 30, 30]), doc(1, &[30, 30])];
        let mut actual = 0;
        for seed in 0..40 {
            let (pairs, _) = run(&docs, 0, 20, seed);
            for p in pairs.iter().filter(|p| !p.pair_label) {
                actual += 1;
                assert!(p.truncated);
                assert!(p.tokens_b[0] > *p.tokens_a.last().unwrap());
            }
        }
        assert!(actual > 0);
    }

    #[test]
    fn lone_document_in_unit_never_gets_random_b() {
        let docs = [doc(0, &[3, 3, 3, 3, 3, 3, 3, 3])];
        let mut fallbacks = 0;
        for seed in 0..20 {
            let (pairs, counters) = run(&docs, 0, 8, seed);
            assert!(pairs.iter().all(|p| !p.pair_label));
            fallbacks += counters.no_other_document;
        }
        assert!(fallbacks > 0);
    }
}
