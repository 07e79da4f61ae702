//! Stages 4 and 5: sentence pairs for next-sentence prediction (or sentence order, or rows of
//! whole sentences without a pair), then masked-LM predictions (or none, for masks drawn at
//! training time).
//!
//! [`record::TokenizedDocument`] → [`pairs`] → [`record::Pair`] → [`masking`] →
//! [`record::Instance`]. [`create_instances`] runs those two stages over every document of one
//! work unit for every duplication pass; it is a pure function of its arguments, which is what
//! makes the output independent of the thread count. (The global shuffle is
//! [`crate::build::spill`]'s.)

pub mod masking;
pub mod packing;
pub mod pairs;
pub mod record;

pub use masking::{MaskSettings, MaskVocab};
pub use pairs::PairSettings;
pub use record::{source_file, source_id, Counters, Instance, Pair, TokenizedDocument};

use crate::config::Objective;
use crate::rng::{Purpose, UnitRng};

/// Everything instance creation needs to know, borrowed from the config and tokenizer.
#[derive(Debug, Clone, Copy)]
pub struct InstanceSettings<'a> {
    pub seed: u64,
    pub dupe_factor: usize,
    pub pairs: PairSettings,
    /// `--objective none` with `--no-cross-document` ends rows with their document.
    pub cross_document: bool,
    pub mask: MaskSettings,
    /// `--masking dynamic`: rows are laid out unmasked.
    pub dynamic: bool,
    pub vocab: MaskVocab<'a>,
}

impl<'a> InstanceSettings<'a> {
    /// The settings a build config and tokenizer call for.
    pub fn new(
        config: &crate::config::BuildConfig,
        tokenizer: &'a crate::tokenize::Tokenizer,
    ) -> Self {
        InstanceSettings {
            seed: config.seed,
            dupe_factor: config.dupe_factor,
            cross_document: config.cross_document,
            dynamic: config.masking == crate::config::Masking::Dynamic,
            pairs: PairSettings {
                max_num_tokens: config.max_num_tokens(),
                short_seq_prob: config.short_seq_prob,
                objective: config.objective,
            },
            mask: MaskSettings {
                masked_lm_prob: config.masked_lm_prob,
                max_predictions: config.max_predictions,
                whole_word_mask: config.whole_word_mask,
                mask_spans: config.mask_spans,
            },
            vocab: MaskVocab {
                pair_layout: config.pair_layout,
                ..MaskVocab::new(tokenizer)
            },
        }
    }
}

impl InstanceSettings<'_> {
    /// A pair or row laid out and masked (or, with dynamic masking, only laid out).
    fn finish(&self, pair: Pair, rng: &mut UnitRng, counters: &mut Counters) -> Instance {
        if self.dynamic {
            masking::unmasked(pair, &self.vocab, counters)
        } else {
            masking::mask(pair, &self.mask, &self.vocab, rng, counters)
        }
    }
}

/// Builds every instance of one work unit, all passes included, in document order.
///
/// Pass `p` draws from the stream `(seed, Instances, unit, p)`.
pub fn create_instances(
    docs: &[TokenizedDocument],
    unit: u64,
    settings: &InstanceSettings<'_>,
    counters: &mut Counters,
) -> Vec<Instance> {
    let mut instances = Vec::new();
    let mut pairs_buf = Vec::new();
    for pass in 0..settings.dupe_factor {
        let mut rng = UnitRng::new(settings.seed, Purpose::Instances, unit, pass as u64);
        if settings.pairs.objective == Objective::None {
            pairs_buf.clear();
            // `[CLS] row [SEP]`: two tokens more than a pair's A and B take.
            let capacity = settings.pairs.max_num_tokens + 1;
            let sep = settings.vocab.specials.sep;
            packing::pack_rows(
                docs,
                capacity,
                settings.cross_document,
                sep,
                counters,
                &mut pairs_buf,
            );
            for pair in pairs_buf.drain(..) {
                instances.push(settings.finish(pair, &mut rng, counters));
            }
            continue;
        }
        for doc_index in 0..docs.len() {
            pairs_buf.clear();
            pairs::create_pairs(
                docs,
                doc_index,
                &settings.pairs,
                &mut rng,
                counters,
                &mut pairs_buf,
            );
            for pair in pairs_buf.drain(..) {
                instances.push(settings.finish(pair, &mut rng, counters));
            }
        }
    }
    instances
}
