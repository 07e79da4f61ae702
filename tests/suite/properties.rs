//! Property tests: every instance holds its invariants whatever the documents and settings.

use bertprep::config::{Masking, Objective, Padding};
use bertprep::instances::masking::{num_to_predict, MaskSettings, MaskVocab};
use bertprep::instances::pairs::PairSettings;
use bertprep::instances::{create_instances, Counters, InstanceSettings, TokenizedDocument};
use bertprep::shard::check::{check_row, RowRules};
use bertprep::shard::row::RowLayout;
use bertprep::shard::{RowForm, ShardRow};
use bertprep::tokenize::roles::PairLayout;
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
/// First id of the documents' tokens; below it only special ids.
const FIRST_WORD: u32 = 10;
/// Ids per document: document `d` uses `FIRST_WORD + d * DOC_IDS ..` the next block, the first
/// [`WORD_STARTS`] of them starting words and the rest `##` continuations, so every token
/// names its document.
const DOC_IDS: u32 = 30;
const WORD_STARTS: u32 = 20;
const MAX_DOCS: usize = 6;
const VOCAB: u32 = FIRST_WORD + DOC_IDS * MAX_DOCS as u32;

/// The document a (non-special) token id belongs to.
fn doc_of(id: u32) -> usize {
    ((id - FIRST_WORD) / DOC_IDS) as usize
}

fn is_continuation(id: u32) -> bool {
    id >= FIRST_WORD && (id - FIRST_WORD) % DOC_IDS >= WORD_STARTS
}

fn docs_strategy() -> impl Strategy<Value = Vec<Vec<Vec<u32>>>> {
    let sentence = prop::collection::vec(0..DOC_IDS, 1..40);
    let doc = prop::collection::vec(sentence, 1..10);
    prop::collection::vec(doc, 1..=MAX_DOCS).prop_map(|docs| {
        docs.into_iter()
            .enumerate()
            .map(|(d, doc)| {
                let base = FIRST_WORD + d as u32 * DOC_IDS;
                doc.into_iter()
                    .map(|s| s.into_iter().map(|t| base + t).collect())
                    .collect()
            })
            .collect()
    })
}

/// The instance's tokens with every prediction put back to its original.
fn originals(inst: &bertprep::instances::Instance) -> Vec<u32> {
    let mut ids = inst.input_ids.clone();
    for &(pos, original) in &inst.predictions {
        ids[pos as usize] = original;
    }
    ids
}

#[derive(Debug, Clone)]
struct Case {
    docs: Vec<Vec<Vec<u32>>>,
    max_seq_len: usize,
    masked_lm_prob: f64,
    max_predictions: usize,
    short_seq_prob: f64,
    whole_word_mask: bool,
    mask_spans: bool,
    objective: Objective,
    cross_document: bool,
    dynamic: bool,
    pair_layout: PairLayout,
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
        any::<bool>(),
        (0usize..3, any::<bool>(), any::<bool>(), any::<bool>()),
        1usize..3,
        any::<u64>(),
    )
        .prop_map(
            |(
                docs,
                max_seq_len,
                p,
                max_pred,
                short,
                wwm,
                spans,
                (objective, cross, dynamic, roberta),
                dupe,
                seed,
            )| Case {
                docs,
                max_seq_len,
                masked_lm_prob: p,
                max_predictions: max_pred.min(max_seq_len - 3),
                short_seq_prob: short,
                whole_word_mask: wwm,
                mask_spans: spans,
                objective: [Objective::Nsp, Objective::Sop, Objective::None][objective],
                cross_document: cross,
                dynamic,
                pair_layout: if roberta {
                    PairLayout::Roberta
                } else {
                    PairLayout::Bert
                },
                dupe_factor: dupe,
                seed,
            },
        )
}

/// The masking invariants of a statically masked instance (and its padded row).
fn check_masking(
    case: &Case,
    mask: &MaskSettings,
    inst: &bertprep::instances::Instance,
    row: &ShardRow,
    pool: &[u32],
) -> Result<(), TestCaseError> {
    let predictions =
        if case.objective == Objective::None || case.pair_layout == PairLayout::Roberta {
            row.labels.iter().filter(|&&l| l >= 0).count()
        } else {
            assert_row_invariants(row, SPECIALS, case.max_seq_len)
        };
    let want = num_to_predict(inst.input_ids.len(), mask);
    let mut predicted = vec![false; inst.input_ids.len()];
    for &(pos, _) in &inst.predictions {
        predicted[pos as usize] = true;
    }
    let original = originals(inst);
    if case.whole_word_mask || case.mask_spans {
        // Whole words (and spans of them) that would overshoot are passed over, so fewer may
        // be taken; one word is always taken, capped at max_predictions.
        prop_assert!(predictions <= case.max_predictions);
        // Every piece of a masked word is predicted, unless the cap cut the word short: a
        // word's pieces are the positions joined by `##` continuations.
        if predictions < case.max_predictions {
            for i in 1..original.len() {
                if is_continuation(original[i]) && original[i - 1] >= FIRST_WORD {
                    prop_assert_eq!(
                        predicted[i],
                        predicted[i - 1],
                        "a word split at position {} of {:?}",
                        i,
                        original
                    );
                }
            }
        }
    } else {
        prop_assert_eq!(predictions, want);
    }
    // Predicted positions hold their original token in labels; kept/random/mask only.
    for &(pos, original) in &inst.predictions {
        let shown = inst.input_ids[pos as usize];
        prop_assert!(shown == SPECIALS.mask || shown == original || pool.contains(&shown));
        prop_assert!((FIRST_WORD..VOCAB).contains(&original));
    }
    Ok(())
}

/// A row without a pair: `[CLS]` pieces of documents in order, `[SEP]` between them (one
/// piece only without `cross_document`), `[SEP]` at the end; its source the first piece's.
fn check_packed_row(
    case: &Case,
    inst: &bertprep::instances::Instance,
    original: &[u32],
) -> Result<(), TestCaseError> {
    let n = original.len();
    prop_assert_eq!(inst.segment_a_len, n);
    prop_assert_eq!((original[0], original[n - 1]), (SPECIALS.cls, SPECIALS.sep));
    let pieces: Vec<&[u32]> = original[1..n - 1].split(|&t| t == SPECIALS.sep).collect();
    prop_assert!(
        pieces.iter().all(|p| !p.is_empty()),
        "empty piece in {:?}",
        original
    );
    prop_assert!(case.cross_document || pieces.len() == 1);
    let docs: Vec<usize> = pieces.iter().map(|p| doc_of(p[0])).collect();
    for (piece, &doc) in pieces.iter().zip(&docs) {
        prop_assert!(
            piece.iter().all(|&t| doc_of(t) == doc),
            "piece {:?} spans documents",
            piece
        );
    }
    prop_assert_eq!(docs[0], inst.source as usize);
    prop_assert!(
        docs.windows(2).all(|w| w[0] < w[1]),
        "documents out of order: {:?}",
        docs
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_instance_holds_its_invariants(case in case_strategy()) {
        let continuation: Vec<bool> = (0..VOCAB).map(is_continuation).collect();
        let pool: Vec<u32> = (FIRST_WORD..VOCAB).collect();
        let settings = InstanceSettings {
            seed: case.seed,
            dupe_factor: case.dupe_factor,
            pairs: PairSettings {
                max_num_tokens: case.max_seq_len - case.pair_layout.specials_per_pair(),
                short_seq_prob: case.short_seq_prob,
                objective: case.objective,
            },
            cross_document: case.cross_document,
            dynamic: case.dynamic,
            mask: MaskSettings {
                masked_lm_prob: case.masked_lm_prob,
                max_predictions: case.max_predictions,
                whole_word_mask: case.whole_word_mask,
                mask_spans: case.mask_spans,
            },
            vocab: MaskVocab {
                specials: SPECIALS,
                continuation: &continuation,
                random_pool: &pool,
                pair_layout: case.pair_layout,
            },
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

        let form = RowForm {
            objective: case.objective,
            masking: if case.dynamic { Masking::Dynamic } else { Masking::Static },
            padding: Padding::Max,
            pair_layout: case.pair_layout,
        };
        let layout = RowLayout { max_seq_len: case.max_seq_len, form, specials: SPECIALS };
        let rules = RowRules {
            max_seq_len: Some(case.max_seq_len),
            specials: SPECIALS,
            vocab_size: Some(VOCAB as usize),
            form,
        };
        for inst in &instances {
            let row = ShardRow::from_instance(inst, &layout);
            prop_assert_eq!(check_row(&row.view(), &rules), Ok(()));
            if case.dynamic {
                prop_assert!(inst.predictions.is_empty());
                prop_assert!(!inst.input_ids.contains(&SPECIALS.mask));
            } else {
                check_masking(&case, &settings.mask, inst, &row, &pool)?;
            }
            let original = originals(inst);
            if case.objective == Objective::None {
                check_packed_row(&case, inst, &original)?;
                continue;
            }
            // By document: A is all from the instance's document; a true-next B always is too,
            // and a random B never is (and comes from one other document).
            let a_doc = inst.source as usize;
            let a = &original[1..inst.segment_a_len - 1];
            // RoBERTa's pairs open B with a second separator.
            let b_start = inst.segment_a_len + usize::from(case.pair_layout == PairLayout::Roberta);
            let b = &original[b_start..original.len() - 1];
            prop_assert!(a.iter().all(|&t| doc_of(t) == a_doc), "A {:?} not all from {}", a, a_doc);
            let b_docs: std::collections::BTreeSet<usize> = b.iter().map(|&t| doc_of(t)).collect();
            prop_assert_eq!(b_docs.len(), 1, "B {:?} spans documents", b);
            let b_doc = *b_docs.iter().next().unwrap();
            if inst.pair_label && case.objective == Objective::Nsp {
                prop_assert_ne!(b_doc, a_doc);
            } else {
                // A true next B, and both halves of an SOP pair, swapped or not.
                prop_assert_eq!(b_doc, a_doc);
            }
        }
        prop_assert_eq!(
            counters.masked,
            instances.iter().map(|i| i.predictions.len() as u64).sum::<u64>()
        );
        let labelled = instances.iter().filter(|i| i.pair_label).count() as u64;
        let (random_next, swapped) = match case.objective {
            Objective::Nsp => (labelled, 0),
            Objective::Sop => (0, labelled),
            Objective::None => (0, 0),
        };
        prop_assert!(case.objective != Objective::None || labelled == 0);
        prop_assert_eq!((counters.random_next, counters.swapped), (random_next, swapped));
        if !case.mask_spans {
            prop_assert_eq!((counters.mask_spans, counters.mask_span_words), (0, 0));
        }
    }
}
