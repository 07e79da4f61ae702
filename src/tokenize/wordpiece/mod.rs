//! Fast BERT WordPiece: the ids of the `tokenizers` crate's BERT pipeline, many times faster.
//!
//! [`FastBert`] is built from a loaded `tokenizers::Tokenizer` whose normalizer is
//! `BertNormalizer`, pre-tokenizer `BertPreTokenizer` and model `WordPiece`, and whose added
//! tokens are matched on raw text (see [`FastBert::from_tokenizer`] for what is checked). It
//! reads the same vocabulary, settings and added tokens from that object, and runs the same
//! stages, each in its own module:
//!
//! 1. [`super::added`] — cut the raw text at added tokens (`[CLS]`, `[MASK]`, ...), which map to their
//!    ids directly.
//! 2. [`normalize`] — clean text, space CJK ideographs, strip accents (NFD, drop Mn), lowercase,
//!    as one streaming pass with an ASCII fast path; character classes in [`chars`].
//! 3. [`pretokenize`] — split on whitespace and punctuation.
//! 4. [`model`] — greedy longest-match-first WordPiece over hash tables of the vocabulary
//!    ([`vocab`]), `##` continuations, `[UNK]` for long or unmatched words.
//!
//! No stage builds a string per word: characters flow from the normalizer into a word buffer
//! reused across words and calls (one per thread), pieces are looked up as slices of it, and ids are appended to the output vector.
//! Exactness against the crate is tested on whole Wikipedia corpora and by property tests
//! (`tests/suite/fastwp.rs`).

pub mod chars;
pub mod model;
pub mod normalize;
pub mod pretokenize;
pub mod vocab;

use std::cell::RefCell;

use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{Model, ModelWrapper};

use super::added::{AddedTokens, Piece};
use model::WordPieceModel;
use normalize::{Normalizer, NormalizerSpec};
use pretokenize::Words;
use vocab::PieceTable;

/// Largest scratch buffer kept between calls, in elements.
const SCRATCH_KEEP: usize = 1 << 16;

/// Buffers reused across calls on one thread: the current word's bytes, characters awaiting NFD.
#[derive(Default)]
struct Scratch {
    word: Vec<u8>,
    pending: Vec<char>,
}

/// The BERT pipeline of one tokenizer, ready to encode.
#[derive(Debug, Clone)]
pub struct FastBert {
    added: AddedTokens,
    ascii: [u8; 128],
    normalizer: Normalizer,
    model: WordPieceModel,
}

/// Why a tokenizer's pipeline is not the BERT one [`FastBert`] reproduces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotBert(pub String);

impl From<&str> for NotBert {
    fn from(reason: &str) -> Self {
        NotBert(reason.to_string())
    }
}

impl From<String> for NotBert {
    fn from(reason: String) -> Self {
        NotBert(reason)
    }
}

impl FastBert {
    /// Takes the vocabulary, settings and added tokens of `tok`, or says why its pipeline is not
    /// the BERT one this module reproduces: the normalizer must be a `BertNormalizer` (any
    /// settings), the pre-tokenizer a `BertPreTokenizer`, the model a `WordPiece` whose unknown
    /// token is in its vocabulary, and every added token unnormalized, without `single_word`,
    /// `lstrip` or `rstrip`, with `encode_special_tokens` off.
    pub fn from_tokenizer(tok: &tokenizers::Tokenizer) -> Result<Self, NotBert> {
        let Some(NormalizerWrapper::BertNormalizer(norm)) = tok.get_normalizer() else {
            return Err("the normalizer is not a plain BertNormalizer".into());
        };
        let Some(PreTokenizerWrapper::BertPreTokenizer(_)) = tok.get_pre_tokenizer() else {
            return Err("the pre-tokenizer is not a plain BertPreTokenizer".into());
        };
        let ModelWrapper::WordPiece(wp) = tok.get_model() else {
            return Err("the model is not WordPiece".into());
        };
        let vocab = wp.get_vocab();
        let unk = *vocab.get(&wp.unk_token).ok_or_else(|| {
            format!(
                "the unknown token {:?} is not in the vocabulary",
                wp.unk_token
            )
        })?;
        if tok.get_encode_special_tokens() {
            return Err("special tokens are encoded as text (encode_special_tokens)".into());
        }
        let decoder = tok.get_added_tokens_decoder();
        if let Some(t) = decoder
            .values()
            .find(|t| t.normalized || t.single_word || t.lstrip || t.rstrip)
        {
            return Err(NotBert(format!(
                "added token {:?} is normalized, single-word or strips spaces",
                t.content
            )));
        }
        let prefix = wp.continuing_subword_prefix.as_str();
        let heads = PieceTable::new(vocab.iter().map(|(t, &id)| (t.as_bytes(), id)));
        let tails = PieceTable::new(
            vocab
                .iter()
                .filter_map(|(t, &id)| t.strip_prefix(prefix).map(|rest| (rest.as_bytes(), id))),
        );
        let spec = NormalizerSpec {
            clean_text: norm.clean_text,
            handle_chinese_chars: norm.handle_chinese_chars,
            strip_accents: norm.strip_accents.unwrap_or(norm.lowercase),
            lowercase: norm.lowercase,
        };
        Ok(FastBert {
            added: AddedTokens::new(decoder.iter().map(|(&id, t)| (t.content.as_str(), id))),
            ascii: pretokenize::ascii_flags(),
            normalizer: Normalizer::new(spec),
            model: WordPieceModel {
                heads,
                tails,
                unk,
                max_chars: wp.max_input_chars_per_word,
            },
        })
    }

    /// Appends the ids of `text` (no special tokens added) to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        thread_local! {
            static SCRATCH: RefCell<Scratch> = RefCell::default();
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                self.encode_with(text, &mut scratch, out);
                // A pathological word (megabytes without a space) must not stay allocated.
                if scratch.word.capacity() > SCRATCH_KEEP {
                    scratch.word = Vec::new();
                }
                if scratch.pending.capacity() > SCRATCH_KEEP {
                    scratch.pending = Vec::new();
                }
            }
            Err(_) => self.encode_with(text, &mut Scratch::default(), out),
        });
    }

    fn encode_with(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u32>) {
        let Scratch { word, pending } = scratch;
        self.added.split(text, |piece| match piece {
            Piece::Token(id) => out.push(id),
            Piece::Text(segment) => {
                let mut words = Words::new(&self.model, &self.ascii, word, out);
                self.normalizer.normalize(segment, pending, &mut words);
                words.end_word();
            }
        });
    }

    /// The ids of `text`, without special tokens added.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 4 + 4);
        self.encode_into(text, &mut out);
        out
    }
}
