//! `bertprep vocab`: a vocabulary trained on your own corpus with the `tokenizers` crate's own
//! trainers, written as the `tokenizer.json` that `bertprep build --tokenizer` and
//! `transformers` (`PreTrainedTokenizerFast(tokenizer_file=...)`) use as it is.
//!
//! The text is read exactly as `build` reads it (every format, compression and MediaWiki
//! dumps, through [`crate::sentences::SentenceWriter`]) and split into sentences the same way;
//! the sentences stream from a reader thread through a bounded channel to be normalised and
//! pre-tokenised on the pool into word counts, so memory is bounded by the vocabulary of the
//! corpus, not its size. The trainers then learn from the counts in sorted order (their own
//! feeding keeps them in hash maps with per-process random seeds, and WordPiece's alphabet
//! limit and Unigram's parallel sums then vary from run to run; Unigram's sums run on one
//! thread, and the characters its trainer scores in hash order are put in a fixed order, see
//! [`canonical_unigram`]): the same corpus and flags give the same `tokenizer.json` byte for
//! byte, on any number of threads, for every model. Three models, each laid out as the encoders that
//! made it known:
//!
//! - `wordpiece` (BERT, the default): BERT's normaliser (lower-cased and accents stripped, or
//!   neither with `cased`), BERT's pre-tokeniser, `##` continuations, `[PAD] [UNK] [CLS] [SEP]
//!   [MASK]` as ids 0–4, `BertProcessing`; the trainer's alphabet limited to 1,000 characters
//!   as `BertWordPieceTokenizer` does. `vocab.txt` is written beside it.
//! - `bpe` (RoBERTa, GPT-2): byte-level pre-tokeniser (GPT-2's split, no prefix space), the 256
//!   byte symbols as the initial alphabet, `<s> <pad> </s> <unk> <mask>` as ids 0–4 (`<mask>`
//!   taking the space before it, as RoBERTa's), `RobertaProcessing`, byte-level decoder; no
//!   normaliser. It learns from the sentences as `build` encodes them: a sentence after its
//!   document's first with the space before it (`ĠThe`).
//! - `unigram` (ALBERT, T5-style SentencePiece): NMT and NFKC normalisation, runs of spaces
//!   collapsed, `▁` Metaspace pre-tokeniser, `<pad> <unk> [CLS] [SEP] [MASK]` as ids 0–4 and
//!   `[CLS] A [SEP] B [SEP]` by template (ALBERT's layout).
//!
//! `special_tokens` respells roles (`cls=<s>`); ids and layout stay the model's. A failed run
//! (unreadable input, a write error) leaves nothing behind: files are written under temporary
//! names and renamed when complete.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use ahash::AHashMap;
use compact_str::CompactString;

use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::metaspace::Metaspace as MetaspaceDecoder;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::{BpeTrainer, BPE};
use tokenizers::models::unigram::{Unigram, UnigramTrainer};
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::normalizers::replace::Replace;
use tokenizers::normalizers::unicode::{Nmt, NFKC};
use tokenizers::normalizers::{NormalizerWrapper, Sequence as NormalizerSequence};
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::processors::bert::BertProcessing;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{
    AddedToken, ModelWrapper, NormalizedString, Normalizer, OffsetReferential, OffsetType,
    PreTokenizedString, PreTokenizer, Tokenizer,
};

use crate::error::{Error, Result};
use crate::output::atomic::write_atomic;
use crate::sentences::{ReadSettings, SentenceWriter, Source};
use crate::tokenize::roles::SpecialNames;

/// Sentences held in the channel between the reader and the trainer.
const AHEAD: usize = 4096;

/// Which subword model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VocabModel {
    WordPiece,
    Bpe,
    Unigram,
}

impl std::str::FromStr for VocabModel {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "wordpiece" => Ok(VocabModel::WordPiece),
            "bpe" => Ok(VocabModel::Bpe),
            "unigram" => Ok(VocabModel::Unigram),
            other => Err(format!(
                "unknown --model '{other}' (expected wordpiece, bpe or unigram)"
            )),
        }
    }
}

impl VocabModel {
    /// The vocabulary size of the model's best-known encoder: BERT's 30,522 for `wordpiece`
    /// (and `unigram`), RoBERTa's 50,265 for `bpe`.
    pub fn default_vocab_size(self) -> usize {
        match self {
            VocabModel::WordPiece | VocabModel::Unigram => 30_522,
            VocabModel::Bpe => 50_265,
        }
    }

    /// `(role, token)` of the special tokens in id order, spelled as the model's encoders
    /// spell them (RoBERTa's order for `bpe`).
    pub fn default_special_tokens(self) -> Vec<(&'static str, &'static str)> {
        match self {
            VocabModel::WordPiece => vec![
                ("pad", "[PAD]"),
                ("unk", "[UNK]"),
                ("cls", "[CLS]"),
                ("sep", "[SEP]"),
                ("mask", "[MASK]"),
            ],
            VocabModel::Bpe => vec![
                ("cls", "<s>"),
                ("pad", "<pad>"),
                ("sep", "</s>"),
                ("unk", "<unk>"),
                ("mask", "<mask>"),
            ],
            VocabModel::Unigram => vec![
                ("pad", "<pad>"),
                ("unk", "<unk>"),
                ("cls", "[CLS]"),
                ("sep", "[SEP]"),
                ("mask", "[MASK]"),
            ],
        }
    }
}

/// The special tokens of a vocabulary, by role.
#[derive(Debug, Clone)]
struct Specials {
    /// `(role, token)` in id order.
    ordered: Vec<(&'static str, String)>,
}

impl Specials {
    fn new(model: VocabModel, names: &SpecialNames) -> Specials {
        let ordered = model
            .default_special_tokens()
            .into_iter()
            .map(|(role, default)| {
                let named = names.0.iter().find(|(r, _)| r == role);
                (role, named.map_or(default.to_string(), |(_, t)| t.clone()))
            })
            .collect();
        Specials { ordered }
    }

    fn token(&self, role: &str) -> &str {
        self.ordered
            .iter()
            .find(|(r, _)| *r == role)
            .map_or("", |(_, t)| t.as_str())
    }

    fn tokens(&self) -> Vec<String> {
        self.ordered.iter().map(|(_, t)| t.clone()).collect()
    }
}

/// What `bertprep vocab` is asked to do.
#[derive(Debug, Clone)]
pub struct VocabOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub vocab_size: usize,
    pub model: VocabModel,
    /// Keep case and accents (WordPiece's normaliser only).
    pub cased: bool,
    pub min_frequency: u64,
    /// Special tokens respelled by role (`cls=<s>`); the others as the model's defaults.
    pub special_tokens: SpecialNames,
    /// How the inputs are read (`build`'s input flags).
    pub read: ReadSettings,
    /// Replace a `tokenizer.json` already in `out`.
    pub overwrite: bool,
}

impl VocabOptions {
    /// Options with the defaults of `bertprep vocab` (uncased, `--min-frequency 2`, the model's
    /// special tokens, formats recognised, articles only, no overwrite).
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf, model: VocabModel, vocab_size: usize) -> Self {
        VocabOptions {
            inputs,
            out,
            vocab_size,
            model,
            cased: false,
            min_frequency: 2,
            special_tokens: SpecialNames::default(),
            read: ReadSettings::default(),
            overwrite: false,
        }
    }
}

/// What a training run read and made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VocabSummary {
    pub files: u64,
    pub documents: u64,
    pub sentences: u64,
    /// Entries of the trained vocabulary, special tokens included.
    pub vocab_size: usize,
    /// Files written, in `out`.
    pub written: Vec<String>,
    /// Inputs left out under `--on-error skip`, each `where: why`.
    pub skipped: Vec<String>,
}

/// Trains the vocabulary and writes `out/tokenizer.json` (and `out/vocab.txt` for WordPiece).
pub fn train_vocab(opts: &VocabOptions) -> Result<VocabSummary> {
    if opts.vocab_size < 10 {
        return Err(Error::Config(format!(
            "--vocab-size must be at least 10, got {}",
            opts.vocab_size
        )));
    }
    if opts.inputs.is_empty() {
        return Err(Error::Config("give at least one --in".into()));
    }
    let specials = Specials::new(opts.model, &opts.special_tokens);
    let tokens = specials.tokens();
    if tokens.iter().any(|t| t.is_empty()) {
        return Err(Error::Config(
            "--special-tokens names an empty token".into(),
        ));
    }
    let target = opts.out.join(crate::output::layout::TOKENIZER_FILE);
    if target.exists() && !opts.overwrite {
        return Err(Error::output(
            &target,
            "exists; pass --overwrite to replace it",
        ));
    }
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;
    let mut tokenizer = pipeline(opts)?;
    let (tx, rx) = crossbeam_channel::bounded::<String>(AHEAD);
    let sources: Vec<Source> = opts.inputs.iter().cloned().map(Source::from_arg).collect();
    let read = opts.read.clone();
    let spaced = opts.model == VocabModel::Bpe;
    let reader = std::thread::Builder::new()
        .name("bertprep-vocab-reader".into())
        .spawn(move || read_sentences(&sources, &read, spaced, tx))
        .map_err(|e| Error::Internal(format!("cannot start the reader thread: {e}")))?;
    let counted = count_words(&tokenizer, rx);
    let read = reader
        .join()
        .map_err(|_| Error::Internal("the reader thread panicked".into()))?;
    // A reading error explains an early end of the sentences: report it first.
    let read = read?;
    let words = counted?;
    let failed = |e: tokenizers::Error| Error::Tokenizer {
        origin: opts.out.display().to_string(),
        message: format!("training failed: {e}"),
    };
    let added = train(opts, &specials, &words, &mut tokenizer).map_err(failed)?;
    tokenizer.add_special_tokens(added).map_err(failed)?;
    set_post_processor(opts.model, &mut tokenizer, &specials)?;
    let written = write_outputs(opts, &tokenizer)?;
    Ok(VocabSummary {
        files: read.files,
        documents: read.documents,
        sentences: read.sentences,
        vocab_size: tokenizer.get_vocab_size(true),
        written,
        skipped: read.skipped,
    })
}

/// Sentences normalised and pre-tokenised as a batch on the pool.
const COUNT_BATCH: usize = 2048;

/// Counts the words (normalised, pre-tokenised pieces) of every sentence from `rx`, a batch of
/// sentences at a time on the pool; the counts are sums, so they do not depend on the threads.
fn count_words(
    tokenizer: &Tokenizer,
    rx: crossbeam_channel::Receiver<String>,
) -> Result<BTreeMap<String, u64>> {
    use rayon::prelude::*;
    let words_of = |sentence: &String| -> tokenizers::Result<Vec<String>> {
        let mut normalized = NormalizedString::from(sentence.as_str());
        if let Some(normalizer) = tokenizer.get_normalizer() {
            normalizer.normalize(&mut normalized)?;
        }
        let mut pre = PreTokenizedString::from(normalized);
        if let Some(pre_tokenizer) = tokenizer.get_pre_tokenizer() {
            pre_tokenizer.pre_tokenize(&mut pre)?;
        }
        Ok(pre
            .get_splits(OffsetReferential::Original, OffsetType::Byte)
            .into_iter()
            .map(|(word, _, _)| word.to_owned())
            .collect())
    };
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut batch = Vec::with_capacity(COUNT_BATCH);
    let mut rx = rx.into_iter().peekable();
    while rx.peek().is_some() {
        batch.clear();
        batch.extend(rx.by_ref().take(COUNT_BATCH));
        let words: Vec<Vec<String>> = batch
            .par_iter()
            .map(words_of)
            .collect::<tokenizers::Result<_>>()
            .map_err(|e| Error::Internal(format!("cannot split a sentence into words: {e}")))?;
        for word in words.into_iter().flatten() {
            *counts.entry(word).or_default() += 1;
        }
    }
    Ok(counts)
}

/// Trains `opts.model` on the word counts, installs it in `tokenizer`, and returns the special
/// tokens to add. Every model trains from counts in a fixed order, so the output depends on
/// nothing but the input.
fn train(
    opts: &VocabOptions,
    roles: &Specials,
    words: &BTreeMap<String, u64>,
    tokenizer: &mut Tokenizer,
) -> tokenizers::Result<Vec<AddedToken>> {
    // RoBERTa's `<mask>` takes the space before it (`lstrip`), so that `a <mask>` encodes as
    // `a` and the mask alone, as `RobertaTokenizerFast` has it.
    let specials: Vec<AddedToken> = roles
        .ordered
        .iter()
        .map(|(role, t)| {
            AddedToken::from(t.clone(), true)
                .lstrip(opts.model == VocabModel::Bpe && *role == "mask")
        })
        .collect();
    let unk = roles.token("unk").to_string();
    // The BPE trainer numbers `##` characters and breaks ties between equal merges in the
    // iteration order of this map: a fixed hasher makes that order a function of the words.
    let mut counts: AHashMap<CompactString, u64> =
        AHashMap::with_hasher(ahash::RandomState::with_seeds(1, 2, 3, 4));
    counts.extend(
        words
            .iter()
            .map(|(w, &c)| (CompactString::from(w.as_str()), c)),
    );
    let (size, freq) = (opts.vocab_size, opts.min_frequency);
    Ok(match opts.model {
        VocabModel::WordPiece => {
            // `BertWordPieceTokenizer`'s alphabet of 1,000 characters, chosen here by count
            // with ties by character: the trainer would break ties in hash order.
            let trainer = BpeTrainer::builder()
                .vocab_size(size)
                .min_frequency(freq)
                .special_tokens(specials)
                .limit_alphabet(WORDPIECE_ALPHABET)
                .initial_alphabet(top_characters(words, WORDPIECE_ALPHABET))
                .continuing_subword_prefix("##".into())
                .show_progress(false)
                .build();
            let mut bpe = BPE::default();
            let added = trainer.do_train(&counts, &mut bpe)?;
            let mut model = WordPiece::from_bpe(&bpe);
            model.unk_token = unk;
            tokenizer.with_model(ModelWrapper::WordPiece(model));
            added
        }
        VocabModel::Bpe => {
            let trainer = BpeTrainer::builder()
                .vocab_size(size)
                .min_frequency(freq)
                .special_tokens(specials)
                .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
                .show_progress(false)
                .build();
            let mut bpe = BPE::default();
            let added = trainer.do_train(&counts, &mut bpe)?;
            tokenizer.with_model(ModelWrapper::BPE(bpe));
            added
        }
        VocabModel::Unigram => {
            let trainer = UnigramTrainer::builder()
                .vocab_size(size as u32)
                .special_tokens(specials)
                .unk_token(Some(unk))
                .show_progress(false)
                .build()
                .map_err(|e| Box::new(e) as tokenizers::Error)?;
            // The E-step sums floats in chunks of the words, one chunk per thread of the
            // current pool: serial, on a pool of one thread, in the words' sorted order, for
            // the same result on any number of threads.
            tokenizers::parallelism::set_parallelism(false);
            let sentences: Vec<(String, u32)> = words
                .iter()
                .map(|(w, &c)| (w.clone(), c.min(u64::from(u32::MAX)) as u32))
                .collect();
            let mut unigram = Unigram::default();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .thread_name(|_| "bertprep-unigram".into())
                .build()
                .map_err(|e| Box::new(e) as tokenizers::Error)?;
            let added = pool.install(|| trainer.do_train(sentences, &mut unigram))?;
            let unigram = canonical_unigram(&unigram, roles.ordered.len())?;
            tokenizer.with_model(ModelWrapper::Unigram(unigram));
            added
        }
    })
}

/// Step between the scores the crate's Unigram trainer gives the characters its model lacks.
const UNIGRAM_PENALTY_STEP: f64 = 0.0001;

/// `unigram` with the same pieces and scores in an order that depends on nothing but them.
///
/// The crate's Unigram trainer keeps every character of the corpus: those its model lacks get
/// the scores `min_score`, `min_score + 1e-4`, `min_score + 2e-4`, … in the iteration order of a
/// hash set, which changes from run to run, and pieces of equal score keep that order. Here
/// those characters (the single-character pieces whose scores make that chain from the lowest
/// one) take the chain's scores in character order, and pieces are ordered by score, then by
/// piece, after the `specials` first ones.
fn canonical_unigram(unigram: &Unigram, specials: usize) -> tokenizers::Result<Unigram> {
    let pieces: Vec<(String, f64)> = unigram.iter().cloned().collect();
    let specials = specials.min(pieces.len());
    let (head, rest) = pieces.split_at(specials);
    let mut rest = rest.to_vec();
    let single = |p: &str| p.chars().count() == 1;
    let lowest = rest
        .iter()
        .filter(|(p, _)| single(p))
        .map(|(_, s)| *s)
        .fold(f64::INFINITY, f64::min);
    if lowest.is_finite() {
        // The chain's scores as the trainer computes them, and which pieces hold them.
        let mut chain: Vec<usize> = Vec::new();
        let mut penalty = 0.0;
        loop {
            let score = lowest + penalty;
            let at: Vec<usize> = (0..rest.len())
                .filter(|&i| single(&rest[i].0) && rest[i].1 == score && !chain.contains(&i))
                .collect();
            if at.is_empty() {
                break;
            }
            chain.extend(at);
            penalty += UNIGRAM_PENALTY_STEP;
        }
        let mut scores: Vec<f64> = chain.iter().map(|&i| rest[i].1).collect();
        scores.sort_by(f64::total_cmp);
        let mut chars: Vec<String> = chain.iter().map(|&i| rest[i].0.clone()).collect();
        chars.sort();
        for (&i, (piece, score)) in chain.iter().zip(chars.into_iter().zip(scores)) {
            rest[i] = (piece, score);
        }
    }
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let unk_id = serde_json::to_value(unigram)
        .ok()
        .and_then(|v| v["unk_id"].as_u64())
        .map(|id| id as usize);
    let vocab = head.iter().cloned().chain(rest).collect();
    Unigram::from(vocab, unk_id, unigram.byte_fallback())
}

/// Characters `BertWordPieceTokenizer` keeps by default.
const WORDPIECE_ALPHABET: usize = 1000;

/// The `limit` characters that occur most in `words` (weighted by count), ties by character.
fn top_characters(words: &BTreeMap<String, u64>, limit: usize) -> HashSet<char> {
    let mut counts: BTreeMap<char, u64> = BTreeMap::new();
    for (word, &count) in words {
        for c in word.chars() {
            *counts.entry(c).or_default() += count;
        }
    }
    let mut ranked: Vec<(char, u64)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.into_iter().take(limit).map(|(c, _)| c).collect()
}

/// Reads every source's sentences into `tx`, one per message; with `spaced`, a sentence after
/// its document's first has the space before it, as `build` encodes it for a byte-level BPE.
fn read_sentences(
    sources: &[Source],
    read: &ReadSettings,
    spaced: bool,
    tx: crossbeam_channel::Sender<String>,
) -> Result<crate::sentences::Summary> {
    let lines = LineSender {
        tx,
        partial: Vec::new(),
        spaced,
        in_document: false,
    };
    let mut writer = SentenceWriter::new(lines, "<trainer>").reading(read);
    let mut stdin = std::io::stdin().lock();
    for source in sources {
        writer.write_source(source, &mut stdin)?;
    }
    writer.finish()
}

/// A writer that sends each line it is given (a sentence) down a channel; blank lines (between
/// documents) are dropped. The trainer hanging up ends the writing with an error.
struct LineSender {
    tx: crossbeam_channel::Sender<String>,
    partial: Vec<u8>,
    /// Whether a sentence after its document's first is sent with a space before it.
    spaced: bool,
    /// Whether a sentence of the current document has been sent.
    in_document: bool,
}

impl Write for LineSender {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if b != b'\n' {
                self.partial.push(b);
                continue;
            }
            if self.partial.is_empty() {
                self.in_document = false;
                continue;
            }
            if self.spaced && self.in_document {
                self.partial.insert(0, b' ');
            }
            self.in_document = true;
            let line = String::from_utf8(std::mem::take(&mut self.partial))
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
            self.tx
                .send(line)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "trainer gone"))?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The tokenizer pipeline of `opts.model` (normaliser, pre-tokeniser, decoder) around an
/// untrained model.
fn pipeline(opts: &VocabOptions) -> Result<Tokenizer> {
    let bad = |e: tokenizers::Error| Error::Internal(e.to_string());
    Ok(match opts.model {
        VocabModel::WordPiece => {
            let mut t = Tokenizer::new(ModelWrapper::WordPiece(WordPiece::default()));
            let lowercase = !opts.cased;
            let normalizer = BertNormalizer::new(true, true, Some(lowercase), lowercase);
            t.with_normalizer(Some(normalizer)).map_err(bad)?;
            t.with_pre_tokenizer(Some(BertPreTokenizer));
            t.with_decoder(Some(WordPieceDecoder::default()));
            t
        }
        VocabModel::Bpe => {
            let mut t = Tokenizer::new(ModelWrapper::BPE(BPE::default()));
            t.with_pre_tokenizer(Some(ByteLevel::new(false, true, true)));
            t.with_decoder(Some(ByteLevelDecoder::default()));
            t
        }
        VocabModel::Unigram => {
            let mut t = Tokenizer::new(ModelWrapper::Unigram(Unigram::default()));
            let spaces = Replace::new(" {2,}", " ").map_err(bad)?;
            let normalizer = NormalizerSequence::new(vec![
                NormalizerWrapper::Nmt(Nmt),
                NormalizerWrapper::NFKC(NFKC),
                NormalizerWrapper::Replace(spaces),
            ]);
            t.with_normalizer(Some(normalizer)).map_err(bad)?;
            t.with_pre_tokenizer(Some(Metaspace::new('▁', PrependScheme::Always, true)));
            t.with_decoder(Some(MetaspaceDecoder::new(
                '▁',
                PrependScheme::Always,
                true,
            )));
            t
        }
    })
}

/// Adds the pair layout of the model's encoders: `[CLS] A [SEP] B [SEP]` (BERT, ALBERT) or
/// `<s> A </s></s> B </s>` (RoBERTa), with the trained ids of the tokens.
fn set_post_processor(
    model: VocabModel,
    tokenizer: &mut Tokenizer,
    roles: &Specials,
) -> Result<()> {
    let id = |token: &str| {
        tokenizer
            .token_to_id(token)
            .ok_or_else(|| Error::Internal(format!("the trained vocabulary lacks {token}")))
    };
    let (cls, sep) = (roles.token("cls"), roles.token("sep"));
    let cls = (cls.to_string(), id(cls)?);
    let sep = (sep.to_string(), id(sep)?);
    match model {
        VocabModel::WordPiece => {
            tokenizer.with_post_processor(Some(BertProcessing::new(sep, cls)));
        }
        VocabModel::Bpe => {
            let processor = RobertaProcessing::new(sep, cls)
                .trim_offsets(true)
                .add_prefix_space(false);
            tokenizer.with_post_processor(Some(processor));
        }
        VocabModel::Unigram => {
            let (c, s) = (&cls.0, &sep.0);
            let template = TemplateProcessing::builder()
                .try_single(format!("{c} $A {s}"))
                .and_then(|b| b.try_pair(format!("{c} $A {s} $B:1 {s}:1")))
                .map_err(|e| Error::Internal(e.to_string()))?
                .special_tokens(vec![cls.clone(), sep.clone()])
                .build()
                .map_err(|e| Error::Internal(e.to_string()))?;
            tokenizer.with_post_processor(Some(template));
        }
    }
    Ok(())
}

/// Writes `tokenizer.json` (and `vocab.txt` for WordPiece) under temporary names, then renames.
fn write_outputs(opts: &VocabOptions, tokenizer: &Tokenizer) -> Result<Vec<String>> {
    let json = tokenizer.to_string(true).map_err(|e| Error::Tokenizer {
        origin: opts.out.display().to_string(),
        message: e.to_string(),
    })?;
    let mut files: Vec<(&str, Vec<u8>)> =
        vec![(crate::output::layout::TOKENIZER_FILE, json.into_bytes())];
    if opts.model == VocabModel::WordPiece {
        let mut vocab: Vec<(String, u32)> = tokenizer.get_vocab(true).into_iter().collect();
        vocab.sort_by_key(|(_, id)| *id);
        let mut text = String::new();
        for (token, _) in vocab {
            text.push_str(&token);
            text.push('\n');
        }
        files.push(("vocab.txt", text.into_bytes()));
    }
    for (name, bytes) in &files {
        write_atomic(&opts.out.join(name), bytes)?;
    }
    Ok(files.iter().map(|(n, _)| n.to_string()).collect())
}
