//! Property tests: every instance holds its invariants whatever the documents and settings.

use bertprep::instance::{create_instances, Counters, InstanceSettings, TokenizedDocument};
use bertprep::masking::{num_to_predict, MaskSettings, MaskVocab};
use bertprep::pairs::PairSettings;
use bertprep::shard::ShardRow;
use bertprep::tokenize::SpecialTokens;
use proptest::prelude::*;

use crate::util::assert_row_invariants;

const SPECIALS: SpecialTokens = SpecialTokens {
    pad: 0,
    unk: 1,
    cls: 2,
    sep: 3,
    mask: 4,
};
/// Ids 10..60 start words, 60..80 are `##` continuations.
const VOCAB: u32 = 80;

fn docs_strategy() -> impl Strategy<Value = Vec<Vec<Vec<u32>>>> {
    let sentence = prop::collection::vec(10u32..VOCAB, 1..40);
    let doc = prop::collection::vec(sentence, 1..10);
    prop::collection::vec(doc, 1..6)
}

#[derive(Debug, Clone)]
struct Case {
    docs: Vec<Vec<Vec<u32>>>,
    max_seq_len: usize,
    masked_lm_prob: f64,
    max_predictions: usize,
    short_seq_prob: f64,
    whole_word_mask: bool,
    dupe_factor: usize,
    seed: u64,
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (
        docs_strategy(),
        8usize..96,
        0.01f64..0.5,
        1usize..40,
        0.0f64..1.0,
        any::<bool>(),
        1usize..3,
        any::<u64>(),
    )
        .prop_map(
            |(docs, max_seq_len, p, max_pred, short, wwm, dupe, seed)| Case {
                docs,
                max_seq_len,
                masked_lm_prob: p,
                max_predictions: max_pred.min(max_seq_len - 3),
                short_seq_prob: short,
                whole_word_mask: wwm,
                dupe_factor: dupe,
                seed,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_instance_holds_its_invariants(case in case_strategy()) {
        let continuation: Vec<bool> = (0..VOCAB).map(|id| id >= 60).collect();
        let pool: Vec<u32> = (10..VOCAB).collect();
        let settings = InstanceSettings {
            seed: case.seed,
            dupe_factor: case.dupe_factor,
            pairs: PairSettings { max_num_tokens: case.max_seq_len - 3, short_seq_prob: case.short_seq_prob },
            mask: MaskSettings {
                masked_lm_prob: case.masked_lm_prob,
                max_predictions: case.max_predictions,
                whole_word_mask: case.whole_word_mask,
            },
            vocab: MaskVocab { specials: SPECIALS, continuation: &continuation, random_pool: &pool },
        };
        let docs: Vec<TokenizedDocument> = case
            .docs
            .iter()
            .enumerate()
            .map(|(i, sentences)| TokenizedDocument { source: i as u64, sentences: sentences.clone() })
            .collect();
        let mut counters = Counters::default();
        let instances = create_instances(&docs, 0, &settings, &mut counters);
        prop_assert_eq!(counters.instances, instances.len() as u64);
        // Determinism: the same arguments give the same instances.
        let mut again = Counters::default();
        prop_assert_eq!(&create_instances(&docs, 0, &settings, &mut again), &instances);

        for inst in &instances {
            let row = ShardRow::from_instance(inst, case.max_seq_len, SPECIALS.pad);
            let predictions = assert_row_invariants(&row, SPECIALS, case.max_seq_len);
            let want = num_to_predict(inst.input_ids.len(), &settings.mask);
            if case.whole_word_mask {
                // Whole words that would overshoot are passed over, so fewer may be taken; one word
                // is always taken, capped at max_predictions.
                prop_assert!(predictions <= case.max_predictions);
            } else {
                prop_assert_eq!(predictions, want);
            }
            // Predicted positions hold their original token in labels; kept/random/mask only.
            for &(pos, original) in &inst.predictions {
                let shown = inst.input_ids[pos as usize];
                prop_assert!(shown == SPECIALS.mask || shown == original || pool.contains(&shown));
                prop_assert!((10..VOCAB).contains(&original));
            }
            // A true-next pair's B comes from the same document as A, a random one's never does.
            let doc = &case.docs[inst.source as usize];
            let b_start = inst.segment_a_len;
            let b_first = inst
                .predictions
                .iter()
                .find(|p| p.0 as usize == b_start)
                .map_or(inst.input_ids[b_start], |p| p.1);
            if !inst.is_random_next {
                prop_assert!(doc.iter().flatten().any(|&t| t == b_first));
            }
            if inst.is_random_next {
                prop_assert!(case.docs.len() >= 2);
            }
        }
        prop_assert_eq!(
            counters.masked,
            instances.iter().map(|i| i.predictions.len() as u64).sum::<u64>()
        );
    }
}
