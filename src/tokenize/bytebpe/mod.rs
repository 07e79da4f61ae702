//! Fast byte-level BPE: the ids of the `tokenizers` crate's GPT-2/RoBERTa pipeline, many
//! times faster.
//!
//! [`FastByteBpe`] is built from a loaded `tokenizers::Tokenizer` with no normalizer, a plain
//! `ByteLevel` pre-tokenizer that splits with GPT-2's regex, and a `BPE` model without dropout
//! or affixes whose vocabulary holds all 256 byte symbols (see
//! [`FastByteBpe::from_tokenizer`]). It runs the crate's stages, each in its own module:
//!
//! 1. [`super::added`] — cut the text at added tokens: unnormalized ones first, then
//!    normalized ones in what is left (with no normalizer the text is unchanged between the
//!    passes); `lstrip` tokens (RoBERTa's `<mask>`) take the whitespace before them.
//! 2. [`split`] — a space before each text piece that does not start with one
//!    (`add_prefix_space`), then GPT-2's split into words.
//! 3. [`model`] — the merges over each word's bytes, in the crate's order.
//!
//! Words repeat, so the ids of each word are kept in a per-thread cache (bounded; cleared
//! when full), as the crate keeps its own. Exactness against the crate is tested on whole
//! Wikipedia corpora and by property tests over arbitrary Unicode (`tests/suite/fastbpe.rs`).

pub mod model;
pub mod split;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use ahash::AHashMap;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::ModelWrapper;

use super::added::{AddedTokens, Piece};
use model::{byte_chars, ByteBpeModel, Work};

/// Words kept in one thread's cache before it is cleared.
const CACHE_WORDS: usize = 1 << 17;

/// Longest word cached, in bytes (longer ones are rare and would crowd the cache).
const CACHE_WORD_BYTES: usize = 64;

/// Source of the ids that tell the caches of different tokenizers apart.
static NEXT_OWNER: AtomicU64 = AtomicU64::new(0);

/// Why a tokenizer's pipeline is not the byte-level BPE [`FastByteBpe`] reproduces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotByteBpe(pub String);

impl From<&str> for NotByteBpe {
    fn from(reason: &str) -> Self {
        NotByteBpe(reason.to_string())
    }
}

/// The byte-level BPE pipeline of one tokenizer, ready to encode.
#[derive(Debug, Clone)]
pub struct FastByteBpe {
    owner: u64,
    raw: AddedTokens,
    normalized: AddedTokens,
    prefix_space: bool,
    model: ByteBpeModel,
}

/// One thread's cache and buffers.
#[derive(Default)]
struct Scratch {
    owner: Option<u64>,
    /// Word bytes → (start, length) in `ids`.
    words: AHashMap<Box<[u8]>, (u32, u32)>,
    ids: Vec<u32>,
    spaced: String,
    work: Work,
}

impl FastByteBpe {
    /// Takes the merges, vocabulary, settings and added tokens of `tok`, or says why its
    /// pipeline is not the one this module reproduces: no normalizer; a `ByteLevel`
    /// pre-tokenizer with `use_regex`; a `BPE` model without dropout, continuing-subword prefix
    /// or end-of-word suffix, whose vocabulary has every byte symbol; added tokens without
    /// `single_word` or `rstrip`; `encode_special_tokens` off.
    pub fn from_tokenizer(tok: &tokenizers::Tokenizer) -> Result<Self, NotByteBpe> {
        if tok.get_normalizer().is_some() {
            return Err("the tokenizer has a normalizer".into());
        }
        let Some(PreTokenizerWrapper::ByteLevel(level)) = tok.get_pre_tokenizer() else {
            return Err("the pre-tokenizer is not a plain ByteLevel".into());
        };
        if !level.use_regex {
            return Err("the ByteLevel pre-tokenizer does not split with its regex".into());
        }
        let ModelWrapper::BPE(bpe) = tok.get_model() else {
            return Err("the model is not BPE".into());
        };
        if bpe.dropout.is_some_and(|p| p > 0.0) {
            return Err("the BPE model has dropout".into());
        }
        if bpe.continuing_subword_prefix.is_some() || bpe.end_of_word_suffix.is_some() {
            return Err("the BPE model has a subword prefix or word suffix".into());
        }
        if tok.get_encode_special_tokens() {
            return Err("special tokens are encoded as text (encode_special_tokens)".into());
        }
        let decoder = tok.get_added_tokens_decoder();
        if let Some(t) = decoder.values().find(|t| t.single_word || t.rstrip) {
            return Err(NotByteBpe(format!(
                "added token {:?} is single-word or strips spaces after it",
                t.content
            )));
        }
        let pass = |normalized: bool| {
            AddedTokens::stripping(
                decoder
                    .iter()
                    .filter(|(_, t)| t.normalized == normalized)
                    .map(|(&id, t)| (t.content.as_str(), id, t.lstrip)),
            )
        };
        Ok(FastByteBpe {
            owner: NEXT_OWNER.fetch_add(1, Ordering::Relaxed),
            raw: pass(false),
            normalized: pass(true),
            prefix_space: level.add_prefix_space,
            model: model_of(bpe)?,
        })
    }

    /// Appends the ids of `text` (no special tokens added) to `out`.
    pub fn encode_into(&self, text: &str, out: &mut Vec<u32>) {
        thread_local! {
            static SCRATCH: RefCell<Scratch> = RefCell::default();
        }
        SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                if scratch.owner != Some(self.owner) || scratch.words.len() >= CACHE_WORDS {
                    scratch.words.clear();
                    scratch.ids.clear();
                    scratch.owner = Some(self.owner);
                }
                self.encode_with(text, &mut scratch, out);
            }
            Err(_) => self.encode_with(text, &mut Scratch::default(), out),
        });
    }

    /// The ids of `text`, without special tokens added.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 4);
        self.encode_into(text, &mut out);
        out
    }

    fn encode_with(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u32>) {
        self.raw.split(text, |piece| match piece {
            Piece::Token(id) => out.push(id),
            Piece::Text(text) => self.normalized.split(text, |piece| match piece {
                Piece::Token(id) => out.push(id),
                Piece::Text(text) => self.encode_text(text, scratch, out),
            }),
        });
    }

    /// Ids of a piece of text between added tokens.
    fn encode_text(&self, text: &str, scratch: &mut Scratch, out: &mut Vec<u32>) {
        let mut spaced = std::mem::take(&mut scratch.spaced);
        let text = if self.prefix_space && !text.starts_with(' ') {
            spaced.clear();
            spaced.push(' ');
            spaced.push_str(text);
            spaced.as_str()
        } else {
            text
        };
        split::split(text, |word| self.encode_word(word.as_bytes(), scratch, out));
        scratch.spaced = spaced;
    }

    #[inline]
    fn encode_word(&self, word: &[u8], scratch: &mut Scratch, out: &mut Vec<u32>) {
        if word.len() > CACHE_WORD_BYTES {
            return self.model.encode_piece(word, &mut scratch.work, out);
        }
        if let Some(&(start, len)) = scratch.words.get(word) {
            out.extend_from_slice(&scratch.ids[start as usize..(start + len) as usize]);
            return;
        }
        let from = out.len();
        self.model.encode_piece(word, &mut scratch.work, out);
        let start = scratch.ids.len() as u32;
        scratch.ids.extend_from_slice(&out[from..]);
        scratch
            .words
            .insert(word.into(), (start, (out.len() - from) as u32));
    }
}

/// The byte ids, merges and (with `ignore_merges`) whole-word table of `bpe`.
fn model_of(bpe: &tokenizers::models::bpe::BPE) -> Result<ByteBpeModel, NotByteBpe> {
    let vocab = bpe.get_vocab();
    let chars = byte_chars();
    let mut byte_ids = [0u32; 256];
    for (b, c) in chars.iter().enumerate() {
        byte_ids[b] = *vocab
            .get(c.encode_utf8(&mut [0; 4]) as &str)
            .ok_or_else(|| {
                NotByteBpe(format!(
                    "the vocabulary has no symbol {c:?} for byte {b:#04x}"
                ))
            })?;
    }
    let byte_of: AHashMap<char, u8> = chars.iter().zip(0..=255u8).map(|(&c, b)| (c, b)).collect();
    let bytes_of = |token: &str| -> Option<Box<[u8]>> {
        token.chars().map(|c| byte_of.get(&c).copied()).collect()
    };
    // The crate keeps its merges private; its serialization lists them in rank order.
    let json = serde_json::to_value(bpe).map_err(|e| NotByteBpe(e.to_string()))?;
    let listed = json["merges"]
        .as_array()
        .ok_or_else(|| NotByteBpe::from("the BPE model serializes no merges"))?;
    let mut merges = AHashMap::with_capacity(listed.len());
    for (rank, merge) in listed.iter().enumerate() {
        let (left, right) = match merge {
            serde_json::Value::Array(p) if p.len() == 2 => (p[0].as_str(), p[1].as_str()),
            serde_json::Value::String(s) => match s.split_once(' ') {
                Some((l, r)) => (Some(l), Some(r)),
                None => (None, None),
            },
            _ => (None, None),
        };
        let (Some(left), Some(right)) = (left, right) else {
            return Err(NotByteBpe(format!("merge {merge} is not a pair")));
        };
        let id = |t: &str| {
            vocab
                .get(t)
                .copied()
                .ok_or_else(|| NotByteBpe(format!("merge token {t:?} is not in the vocabulary")))
        };
        let merged = id(&format!("{left}{right}"))?;
        let key = (u64::from(id(left)?) << 32) | u64::from(id(right)?);
        merges.insert(key, (rank as u32, merged));
    }
    let whole = bpe.ignore_merges.then(|| {
        vocab
            .iter()
            .filter_map(|(t, &id)| bytes_of(t).map(|b| (b, id)))
            .collect()
    });
    Ok(ByteBpeModel {
        byte_ids,
        merges,
        whole,
    })
}
