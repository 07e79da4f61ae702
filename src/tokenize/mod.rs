//! Text to token ids, through the Hugging Face `tokenizers` crate or one of its exact, faster
//! re-implementations: BERT's WordPiece ([`wordpiece`]) and GPT-2/RoBERTa's byte-level BPE
//! ([`bytebpe`]).
//!
//! The default is BERT base uncased WordPiece with its 30,522-entry vocabulary embedded in the
//! binary ([PAD]=0 [UNK]=100 [CLS]=101 [SEP]=102 [MASK]=103), built the way `transformers`'
//! `BertTokenizerFast` builds it (BertNormalizer with clean_text, Chinese-character spacing,
//! lowercasing and accent stripping; BertPreTokenizer; WordPiece with `##` continuations and
//! 100 characters per word at most), so the ids are the ones `transformers` gives.
//! `--vocab vocab.txt [--cased]` builds the same pipeline over another vocabulary, and
//! `--tokenizer tokenizer.json` loads any tokenizer whose special tokens [`roles`] can find.
//!
//! The `tokenizers` object is always loaded: it is the serialized form, the decoder and the
//! vocabulary. Encoding goes through [`wordpiece::FastBert`] or [`bytebpe::FastByteBpe`]
//! instead whenever the pipeline is one they reproduce id for id ([`TokenizerImpl::Auto`], the
//! default); [`TokenizerImpl`] can force either way. The choice never changes an id, so it is
//! not part of the build config. Other tokenizers (Unigram/SentencePiece among them) encode
//! through the crate.
//!
//! Besides encoding, [`Tokenizer`] knows what masking needs: the special ids, which ids continue
//! a word (`##` pieces, for whole-word masking), and the pool of ids a random replacement is drawn
//! from (the vocabulary without special and `[unused]` entries). Its serialized JSON is written
//! beside the shards and its SHA-256 goes into every shard, so shards can always be decoded.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::AddedToken;

pub mod added;
pub mod bytebpe;
pub mod classes;
pub mod roles;
pub mod wordpiece;

use crate::error::{Error, Result};
use crate::input::small::{read_text_bounded, MAX_TOKENIZER_BYTES};
use bytebpe::FastByteBpe;
use wordpiece::FastBert;

/// Origin string of the embedded default tokenizer.
pub const EMBEDDED_ORIGIN: &str = "embedded:bert-base-uncased";

/// BERT base uncased vocabulary, one token per line; line number = id.
pub const EMBEDDED_VOCAB: &str = include_str!("../../assets/bert-base-uncased-vocab.txt");

/// Longest word WordPiece tries to split before giving [UNK] (BERT's value).
const MAX_INPUT_CHARS_PER_WORD: usize = 100;

/// Where to get the tokenizer from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenizerSource {
    /// The embedded BERT base uncased WordPiece.
    Embedded,
    /// A BERT `vocab.txt`, lowercased and accent-stripped unless `cased`.
    Vocab { path: PathBuf, cased: bool },
    /// A Hugging Face `tokenizer.json`.
    Json(PathBuf),
}

impl TokenizerSource {
    /// The string recorded as the config's `tokenizer`.
    pub fn origin(&self) -> String {
        match self {
            TokenizerSource::Embedded => EMBEDDED_ORIGIN.to_string(),
            TokenizerSource::Vocab { path, cased } => format!(
                "vocab:{}{}",
                path.display(),
                if *cased { " (cased)" } else { "" }
            ),
            TokenizerSource::Json(path) => format!("tokenizer:{}", path.display()),
        }
    }
}

/// Which implementation encodes text. Both give the same ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenizerImpl {
    /// The fast WordPiece or byte-level BPE when the tokenizer is one of those pipelines,
    /// else the `tokenizers` crate.
    #[default]
    Auto,
    /// Always the `tokenizers` crate.
    Crate,
    /// Always a fast implementation; loading fails when the tokenizer has none.
    Fast,
}

impl TokenizerImpl {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TokenizerImpl::Auto => "auto",
            TokenizerImpl::Crate => "crate",
            TokenizerImpl::Fast => "fast",
        }
    }
}

impl std::fmt::Display for TokenizerImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TokenizerImpl {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s {
            "auto" => Ok(TokenizerImpl::Auto),
            "crate" => Ok(TokenizerImpl::Crate),
            "fast" => Ok(TokenizerImpl::Fast),
            _ => Err(format!(
                "unknown tokenizer implementation {s:?} (expected auto, crate or fast)"
            )),
        }
    }
}

/// Ids of the special tokens BERT instances are built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialTokens {
    pub pad: u32,
    pub unk: u32,
    pub cls: u32,
    pub sep: u32,
    pub mask: u32,
}

impl SpecialTokens {
    /// The ids of BERT's own vocabularies (base and large, uncased and cased), the embedded
    /// tokenizer's among them.
    pub const BERT: SpecialTokens = SpecialTokens {
        pad: 0,
        unk: 100,
        cls: 101,
        sep: 102,
        mask: 103,
    };
}

/// A fast implementation of a tokenizer's pipeline.
#[derive(Debug, Clone)]
enum Fast {
    Bert(Box<FastBert>),
    ByteBpe(Box<FastByteBpe>),
}

impl Fast {
    /// The fast implementation of `tok`'s pipeline, or why there is none.
    fn of(tok: &tokenizers::Tokenizer) -> std::result::Result<Self, String> {
        let bert = match FastBert::from_tokenizer(tok) {
            Ok(fast) => return Ok(Fast::Bert(Box::new(fast))),
            Err(reason) => reason,
        };
        FastByteBpe::from_tokenizer(tok)
            .map(|fast| Fast::ByteBpe(Box::new(fast)))
            .map_err(|bpe| format!("not WordPiece ({bert}), not byte-level BPE ({bpe})"))
    }

    fn encode(&self, text: &str) -> Vec<u32> {
        match self {
            Fast::Bert(fast) => fast.encode(text),
            Fast::ByteBpe(fast) => fast.encode(text),
        }
    }
}

/// A loaded tokenizer plus what instance building needs to know about its vocabulary.
pub struct Tokenizer {
    inner: tokenizers::Tokenizer,
    fast: Option<Fast>,
    origin: String,
    specials: SpecialTokens,
    pair_layout: roles::PairLayout,
    word_starts: roles::WordStarts,
    vocab_size: usize,
    continuation: Vec<bool>,
    random_pool: Vec<u32>,
    json: String,
    sha256: String,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("vocab_size", &self.vocab_size)
            .field("implementation", &self.implementation())
            .field("specials", &self.specials)
            .field("random_pool", &self.random_pool.len())
            .field("sha256", &self.sha256)
            .finish()
    }
}

impl Tokenizer {
    /// Loads the tokenizer named by `source`, encoding with [`TokenizerImpl::Auto`].
    pub fn load(source: &TokenizerSource) -> Result<Self> {
        match source {
            TokenizerSource::Embedded => Self::bert(EMBEDDED_VOCAB, true, EMBEDDED_ORIGIN),
            TokenizerSource::Vocab { path, cased } => {
                let text = read_text_bounded(path, MAX_TOKENIZER_BYTES)?;
                Self::bert(&text, !cased, &source.origin())
            }
            TokenizerSource::Json(path) => Self::from_json_file(path),
        }
    }

    /// Loads the tokenizer named by `source`, encoding with `implementation`.
    pub fn load_with(source: &TokenizerSource, implementation: TokenizerImpl) -> Result<Self> {
        Self::load(source)?.with_impl(implementation)
    }

    /// Loads the tokenizer named by `source` with the special tokens `names` names
    /// (`--special-tokens`), the others found by role, encoding with `implementation`. A role
    /// the tokenizer alone does not give is no error when `names` names it.
    pub fn load_named(
        source: &TokenizerSource,
        implementation: TokenizerImpl,
        names: &roles::SpecialNames,
    ) -> Result<Self> {
        match source {
            TokenizerSource::Json(path) => Self::from_json_file_named(path, names)?,
            _ => Self::load(source)?.with_special_names(names)?,
        }
        .with_impl(implementation)
    }

    /// The same tokenizer encoding with `implementation`; an error if that is
    /// [`TokenizerImpl::Fast`] and no fast implementation reproduces the tokenizer.
    pub fn with_impl(mut self, implementation: TokenizerImpl) -> Result<Self> {
        // Loading already built the fast implementation where the tokenizer allows it.
        match implementation {
            TokenizerImpl::Crate => self.fast = None,
            TokenizerImpl::Auto => {}
            TokenizerImpl::Fast if self.fast.is_none() => {
                let fast = Fast::of(&self.inner).map_err(|reason| Error::Tokenizer {
                    origin: self.origin.clone(),
                    message: format!("no fast implementation encodes for it: {reason}"),
                })?;
                self.fast = Some(fast);
            }
            TokenizerImpl::Fast => {}
        }
        Ok(self)
    }

    /// The implementation that encodes: [`TokenizerImpl::Fast`] or [`TokenizerImpl::Crate`].
    pub fn implementation(&self) -> TokenizerImpl {
        if self.fast.is_some() {
            TokenizerImpl::Fast
        } else {
            TokenizerImpl::Crate
        }
    }

    /// The embedded BERT base uncased tokenizer.
    pub fn embedded() -> Result<Self> {
        Self::load(&TokenizerSource::Embedded)
    }

    /// BERT's WordPiece pipeline over a `vocab.txt` (one token per line, line number = id).
    pub fn bert(vocab_text: &str, lowercase: bool, origin: &str) -> Result<Self> {
        let err = |message: String| Error::Tokenizer {
            origin: origin.to_string(),
            message,
        };
        let mut vocab = ahash::AHashMap::new();
        for (id, line) in vocab_text.lines().enumerate() {
            let token = line.trim_end_matches(['\r', '\n']);
            let id = u32::try_from(id).map_err(|_| err("vocabulary too large".into()))?;
            vocab.insert(token.to_string(), id);
        }
        let find = |name: &str| {
            vocab
                .get(name)
                .copied()
                .ok_or_else(|| err(format!("vocabulary has no {name} token")))
        };
        let (cls, sep) = (find("[CLS]")?, find("[SEP]")?);
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
        for name in specials {
            find(name)?;
        }
        let model = WordPiece::builder()
            .vocab(vocab)
            .unk_token("[UNK]".into())
            .continuing_subword_prefix("##".into())
            .max_input_chars_per_word(MAX_INPUT_CHARS_PER_WORD)
            .build()
            .map_err(|e| err(e.to_string()))?;
        let mut inner = tokenizers::Tokenizer::new(model);
        inner
            .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
            .map_err(|e| err(e.to_string()))?;
        inner.with_pre_tokenizer(Some(BertPreTokenizer));
        inner.with_post_processor(Some(BertProcessing::new(
            ("[SEP]".into(), sep),
            ("[CLS]".into(), cls),
        )));
        inner.with_decoder(Some(WordPieceDecoder::default()));
        inner
            .add_special_tokens(specials.iter().map(|s| AddedToken::from(*s, true)))
            .map_err(|e| err(e.to_string()))?;
        Self::wrap(inner, origin)
    }

    /// Loads a Hugging Face `tokenizer.json` whose PAD, UNK, CLS, SEP and MASK are found by
    /// role (see [`roles`]).
    pub fn from_json_file(path: &Path) -> Result<Self> {
        Self::from_json_file_named(path, &roles::SpecialNames::default())
    }

    /// [`Tokenizer::from_json_file`] with the special tokens `names` names.
    pub fn from_json_file_named(path: &Path, names: &roles::SpecialNames) -> Result<Self> {
        let text = read_text_bounded(path, MAX_TOKENIZER_BYTES)?;
        let origin = format!("tokenizer:{}", path.display());
        let err = |message: String| Error::Tokenizer {
            origin: origin.clone(),
            message,
        };
        let mut inner: tokenizers::Tokenizer =
            serde_json::from_str(&text).map_err(|e| err(format!("not a tokenizer.json: {e}")))?;
        // Roles are found before the padding section, which can name PAD, is dropped.
        let found = roles::find_specials(&inner, names).map_err(err)?;
        // Instances are padded and truncated by the pipeline, never by the tokenizer.
        inner.with_padding(None);
        inner
            .with_truncation(None)
            .map_err(|e| err(e.to_string()))?;
        Self::wrap_found(inner, &origin, found)
    }

    fn wrap(inner: tokenizers::Tokenizer, origin: &str) -> Result<Self> {
        let found = roles::find_specials(&inner, &roles::SpecialNames::default()).map_err(|m| {
            Error::Tokenizer {
                origin: origin.to_string(),
                message: m,
            }
        })?;
        Self::wrap_found(inner, origin, found)
    }

    fn wrap_found(
        inner: tokenizers::Tokenizer,
        origin: &str,
        (specials, pair_layout): (SpecialTokens, roles::PairLayout),
    ) -> Result<Self> {
        let err = |message: String| Error::Tokenizer {
            origin: origin.to_string(),
            message,
        };
        let vocab_size = inner.get_vocab_size(true);
        let word_starts = roles::WordStarts::of(&inner);
        let added_special: std::collections::HashSet<u32> = inner
            .get_added_tokens_decoder()
            .iter()
            .filter(|(_, t)| t.special)
            .map(|(id, _)| *id)
            .collect();
        // The three derived parts are independent; built side by side, loading takes about
        // the time of the longest (where no thread can be started, a part is built here).
        let (tables, json, fast) = std::thread::scope(|scope| {
            let json_task = || inner.to_string(true);
            let fast_task = || Fast::of(&inner).ok();
            let json = std::thread::Builder::new().spawn_scoped(scope, json_task);
            let fast = std::thread::Builder::new().spawn_scoped(scope, fast_task);
            let tables = token_tables(&inner, &word_starts, vocab_size, &added_special);
            let json = json.map_or_else(|_| json_task(), joined);
            let fast = fast.map_or_else(|_| fast_task(), joined);
            (tables, json, fast)
        });
        let (continuation, random_pool) = tables.map_err(err)?;
        let json = json.map_err(|e| err(e.to_string()))?;
        let sha256 = hex(&Sha256::digest(json.as_bytes()));
        Ok(Tokenizer {
            inner,
            fast,
            origin: origin.to_string(),
            specials,
            pair_layout,
            word_starts,
            vocab_size,
            continuation,
            random_pool,
            json,
            sha256,
        })
    }

    /// Token ids of `text`, without special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        if let Some(fast) = &self.fast {
            return Ok(fast.encode(text));
        }
        let encoding = self
            .inner
            .encode_fast(text, false)
            .map_err(|e| Error::Tokenizer {
                origin: "encode".into(),
                message: e.to_string(),
            })?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The underlying `tokenizers` crate tokenizer.
    pub fn crate_tokenizer(&self) -> &tokenizers::Tokenizer {
        &self.inner
    }

    /// Text of `ids`, WordPieces joined back, special tokens kept.
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        self.inner.decode(ids, false).map_err(|e| Error::Tokenizer {
            origin: "decode".into(),
            message: e.to_string(),
        })
    }

    /// The vocabulary entry of `id`, if any.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// Whether a sentence after a document's first is encoded with the space before it (a
    /// byte-level BPE, whose words carry their leading space as `Ġ`).
    pub fn spaces_sentences(&self) -> bool {
        self.word_starts == roles::WordStarts::StartMarker('Ġ')
    }

    /// How the tokenizer marks where words start (`##` continuations, `Ġ` or `▁` starts).
    pub fn word_starts(&self) -> &roles::WordStarts {
        &self.word_starts
    }

    /// How the tokenizer's post-processor lays out a pair of segments.
    pub fn pair_layout(&self) -> roles::PairLayout {
        self.pair_layout
    }

    /// The same tokenizer with the special tokens `names` names (`role=token`), the others
    /// found by role as on loading.
    pub fn with_special_names(mut self, names: &roles::SpecialNames) -> Result<Self> {
        if names.0.is_empty() {
            return Ok(self);
        }
        let (specials, layout) =
            roles::find_specials(&self.inner, names).map_err(|message| Error::Tokenizer {
                origin: self.origin.clone(),
                message,
            })?;
        self.specials = specials;
        self.pair_layout = layout;
        Ok(self)
    }

    /// The special token ids.
    pub fn specials(&self) -> SpecialTokens {
        self.specials
    }

    /// Size of the vocabulary, added tokens included.
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// Whether `id` continues the previous token's word (a `##` piece).
    pub fn is_continuation(&self, id: u32) -> bool {
        self.continuation.get(id as usize).copied().unwrap_or(false)
    }

    /// Continuation flag of every id, indexed by id.
    pub fn continuation_flags(&self) -> &[bool] {
        &self.continuation
    }

    /// Ids a random replacement is drawn from: no special or `[unused]` entries.
    pub fn random_pool(&self) -> &[u32] {
        &self.random_pool
    }

    /// The tokenizer serialized as `tokenizer.json`.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Hex SHA-256 of [`Tokenizer::json`].
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The result of a scoped thread, its panic carried on.
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Which ids are continuation pieces (start with the WordPiece `prefix`), and the ids random
/// replacement draws from (all but special tokens and reserved placeholders), sorted.
fn token_tables(
    inner: &tokenizers::Tokenizer,
    word_starts: &roles::WordStarts,
    vocab_size: usize,
    added_special: &std::collections::HashSet<u32>,
) -> std::result::Result<(Vec<bool>, Vec<u32>), String> {
    let mut continuation = vec![false; vocab_size];
    let mut random_pool = Vec::with_capacity(vocab_size);
    for (token, id) in inner.get_vocab(true) {
        let Some(slot) = continuation.get_mut(id as usize) else {
            return Err(format!("token id {id} beyond vocabulary size {vocab_size}"));
        };
        *slot = !added_special.contains(&id) && word_starts.continues(&token);
        if !added_special.contains(&id) && !is_reserved(&token) {
            random_pool.push(id);
        }
    }
    random_pool.sort_unstable();
    if random_pool.is_empty() {
        return Err("vocabulary has no ordinary tokens".into());
    }
    Ok((continuation, random_pool))
}

/// `[PAD]`, `[unused12]` and the like: bracketed reserved names, never drawn as random tokens.
fn is_reserved(token: &str) -> bool {
    token.len() > 2
        && token.starts_with('[')
        && token.ends_with(']')
        && token[1..token.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_has_bert_ids() {
        let tok = Tokenizer::embedded().unwrap();
        let s = tok.specials();
        assert_eq!(
            (s.pad, s.unk, s.cls, s.sep, s.mask),
            (0, 100, 101, 102, 103)
        );
        assert_eq!(s, SpecialTokens::BERT);
        assert_eq!(tok.vocab_size(), 30_522);
        assert_eq!(tok.id_to_token(1996).as_deref(), Some("the"));
    }

    #[test]
    fn random_pool_excludes_special_and_unused() {
        let tok = Tokenizer::embedded().unwrap();
        let pool = tok.random_pool();
        for id in [0, 1, 99, 100, 101, 102, 103, 104, 998] {
            assert!(pool.binary_search(&id).is_err(), "{id} in pool");
        }
        assert!(pool.binary_search(&1996).is_ok());
        // 30,522 minus 5 specials and 994 [unused] entries.
        assert_eq!(pool.len(), 30_522 - 5 - 994);
    }

    #[test]
    fn encodes_lowercased_wordpieces() {
        let tok = Tokenizer::embedded().unwrap();
        let ids = tok.encode("Hello, WORLD! Tokenization").unwrap();
        let pieces: Vec<String> = ids.iter().map(|&i| tok.id_to_token(i).unwrap()).collect();
        assert_eq!(pieces, ["hello", ",", "world", "!", "token", "##ization"]);
        assert!(tok.is_continuation(ids[5]));
        assert!(!tok.is_continuation(ids[4]));
    }

    #[test]
    fn json_round_trips_with_same_ids_and_hash() {
        let tok = Tokenizer::embedded().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, tok.json()).unwrap();
        let back = Tokenizer::from_json_file(&path).unwrap();
        assert_eq!(back.sha256(), tok.sha256());
        let text = "Ångström's café in Zürich: 3.14 km, 東京!";
        assert_eq!(back.encode(text).unwrap(), tok.encode(text).unwrap());
        assert_eq!(back.random_pool(), tok.random_pool());
    }

    #[test]
    fn cased_vocab_keeps_case() {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nHello\nhello\n##lo\nHel\n";
        let cased = Tokenizer::bert(vocab, false, "test").unwrap();
        assert_eq!(cased.encode("Hello hello").unwrap(), [5, 6]);
        let uncased = Tokenizer::bert(vocab, true, "test").unwrap();
        assert_eq!(uncased.encode("Hello").unwrap(), [6]);
    }

    #[test]
    fn missing_special_token_is_a_clear_error() {
        let err = Tokenizer::bert("[PAD]\n[UNK]\nhello\n", true, "my-vocab.txt").unwrap_err();
        assert!(err.to_string().contains("my-vocab.txt"), "{err}");
        assert!(err.to_string().contains("[CLS]"), "{err}");
    }
}
