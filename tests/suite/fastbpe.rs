//! The fast byte-level BPE gives exactly the `tokenizers` crate's ids.
//!
//! The tokenizers are byte-level BPEs trained by `bertprep vocab --model bpe` (GPT-2's and
//! RoBERTa's pipeline: byte-level split with GPT-2's regex, merges by rank, `<s> <pad> </s>
//! <unk> <mask>`), no tokenizer being downloaded:
//!
//! - Every line of the shared Wikipedia corpora (enwiki-2021, enwiki-json-small, zhwiki-small)
//!   through one trained on English and Chinese Wikipedia, and through GPT-2's own BPE (50,000
//!   merges, RoBERTa's special tokens; `scripts/gpt2_tokenizer.py` builds it from the ranks in
//!   openai-whisper's sdist, `.ci/run` passes it as `BERTPREP_GPT2_TOKENIZER`).
//! - Every line of the other shared corpora (enwiki-2019-small, enwiki-truncated, Google's
//!   sample text; MediaWiki XML dumps as the sentences `bertprep` extracts from their pages)
//!   through both.
//! - Property tests over arbitrary Unicode (`any::<String>()`, and strings of any `char` at all:
//!   control, format, private-use and unassigned ones too), and over strings built from what
//!   stresses the split and the merges (contractions, whitespace runs, marks, CJK, emoji,
//!   literal special tokens), through a small one trained on `fixtures/` and its variants:
//!   RoBERTa's settings (prefix space, `<mask>` taking the spaces before it, normalized added
//!   tokens), `ignore_merges`, and the merges in reverse rank order; and through GPT-2's.
//! - Which tokenizers `auto` sends to the fast path.

use std::path::Path;
use std::sync::OnceLock;

use bertprep::tokenize::{Tokenizer, TokenizerImpl};
use bertprep::vocab::{train_vocab, VocabModel, VocabOptions};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::exact::{
    any_corpus_lines, assert_corpus_exact, assert_lines_exact, check_all, from_json, Pair,
};
use crate::util::{root, shared_corpus, REQUIRE_CORPORA};

/// The `tokenizer.json` of a byte-level BPE of `vocab_size` trained on `inputs`.
fn trained(inputs: &[&Path], vocab_size: usize) -> String {
    let dir = tempfile::tempdir().unwrap();
    let inputs = inputs.iter().map(|p| p.to_path_buf()).collect();
    let out = dir.path().to_path_buf();
    train_vocab(&VocabOptions::new(inputs, out, VocabModel::Bpe, vocab_size)).unwrap();
    std::fs::read_to_string(dir.path().join("tokenizer.json")).unwrap()
}

/// A small BPE trained on the fixtures corpus (always present).
fn fixture_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| trained(&[&root().join("fixtures/wiki")], 2000))
}

/// `json` with `edit` applied.
fn edited(json: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(json).unwrap();
    edit(&mut value);
    value.to_string()
}

/// The fixture BPE as trained, with RoBERTa's settings, with `ignore_merges`, and with its
/// merges in reverse order.
fn variants() -> &'static [Pair] {
    static VARIANTS: OnceLock<Vec<Pair>> = OnceLock::new();
    VARIANTS.get_or_init(|| {
        let base = fixture_json();
        let roberta = edited(base, |j| {
            j["pre_tokenizer"]["add_prefix_space"] = json!(true);
            let next = j["model"]["vocab"].as_object().unwrap().len();
            let added = j["added_tokens"].as_array_mut().unwrap();
            for token in added.iter_mut() {
                let mask = token["content"] == "<mask>";
                token["lstrip"] = json!(mask);
                token["normalized"] = json!(!mask);
            }
            for (i, content) in ["<x>", "<x>y", "x>", "the"].iter().enumerate() {
                added.push(json!({
                    "id": next + i, "content": content, "single_word": false,
                    "lstrip": i == 1, "rstrip": false, "normalized": i % 2 == 0,
                    "special": false,
                }));
            }
        });
        let whole = edited(base, |j| j["model"]["ignore_merges"] = json!(true));
        let reversed = edited(base, |j| {
            j["model"]["merges"].as_array_mut().unwrap().reverse();
        });
        [
            ("trained", base.to_string()),
            ("roberta settings", roberta),
            ("ignore_merges", whole),
            ("reversed merges", reversed),
        ]
        .into_iter()
        .map(|(name, json)| Pair::new(name, || from_json(&json)))
        .collect()
    })
}

/// A byte-level BPE of 16,000 trained on English and Chinese Wikipedia, or `None` when the
/// corpora are absent.
fn wikipedia_pair() -> Option<&'static Pair> {
    static PAIR: OnceLock<Option<Pair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let en = shared_corpus("enwiki-2019-small")?.join("wiki");
        let zh = shared_corpus("zhwiki-small")?.join("wiki");
        let json = trained(&[&en, &zh], 16_000);
        Some(Pair::new("wikipedia bpe", || from_json(&json)))
    })
    .as_ref()
}

#[test]
fn enwiki_2021_ids_equal_the_crate() {
    if let Some(pair) = wikipedia_pair() {
        assert_corpus_exact("enwiki-2021", &[pair]);
    }
}

#[test]
fn enwiki_json_small_and_zhwiki_small_ids_equal_the_crate() {
    if let Some(pair) = wikipedia_pair() {
        assert_corpus_exact("enwiki-json-small", &[pair]);
        assert_corpus_exact("zhwiki-small", &[pair]);
    }
}

/// The shared corpora the two tests above do not cover: WikiExtractor trees, Google's sample
/// text, and MediaWiki XML dumps (their pages' sentences, as `bertprep` extracts them; the
/// Vietnamese WikiExtractor output beside them line by line).
const OTHER_CORPORA: [&str; 4] = [
    "enwiki-2019-small",
    "enwiki-truncated",
    "google-sample-text",
    "mediawiki",
];

#[test]
fn every_other_shared_corpus_ids_equal_the_crate() {
    // Every corpus there is checked by this test or the ones above.
    if let Some(dir) = shared_corpus("") {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut covered = OTHER_CORPORA.to_vec();
        covered.extend(["enwiki-2021", "enwiki-json-small", "zhwiki-small"]);
        covered.sort();
        assert_eq!(names, covered, "a shared corpus no parity test reads");
    }
    let pairs: Vec<&Pair> = wikipedia_pair().into_iter().chain(gpt2_pair()).collect();
    for name in OTHER_CORPORA {
        let Some(lines) = any_corpus_lines(name) else {
            continue;
        };
        assert!(lines.len() > 20, "{name}: only {} lines", lines.len());
        assert_lines_exact(name, &lines, &pairs);
    }
}

/// GPT-2's BPE from `BERTPREP_GPT2_TOKENIZER`, or `None` with a message (a failure under CI).
fn gpt2_pair() -> Option<&'static Pair> {
    static PAIR: OnceLock<Option<Pair>> = OnceLock::new();
    PAIR.get_or_init(|| {
        let Some(path) = std::env::var_os("BERTPREP_GPT2_TOKENIZER") else {
            if std::env::var(REQUIRE_CORPORA).is_ok_and(|v| v == "1") {
                panic!("BERTPREP_GPT2_TOKENIZER is not set and {REQUIRE_CORPORA}=1");
            }
            eprintln!("SKIPPED: BERTPREP_GPT2_TOKENIZER not set (see scripts/gpt2_tokenizer.py)");
            return None;
        };
        let json = std::fs::read_to_string(&path).unwrap();
        Some(Pair::new("gpt-2", || from_json(&json)))
    })
    .as_ref()
}

#[test]
fn gpt2_ids_are_gpt2s_and_equal_the_crate_on_every_corpus() {
    let Some(pair) = gpt2_pair() else { return };
    // GPT-2's ids for these are well known; RoBERTa's tokens are the same pieces.
    for (text, ids) in [
        ("Hello world", &[15496, 995][..]),
        ("Hello world!", &[15496, 995, 0]),
    ] {
        assert_eq!(pair.fast.encode(text).unwrap(), ids, "{text:?}");
    }
    let mask = pair.fast.specials().mask;
    assert_eq!(
        pair.fast.encode("a  <mask>").unwrap(),
        [64, mask],
        "<mask> takes the spaces before it"
    );
    assert_corpus_exact("enwiki-2021", &[pair]);
    assert_corpus_exact("enwiki-json-small", &[pair]);
    assert_corpus_exact("zhwiki-small", &[pair]);
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> impl Strategy<Value = T> {
    prop::sample::select(items.to_vec())
}

/// Strings made of the pieces that stress the split and the merges.
fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9]{1,12}",
        3 => pick(&[
            "The", "the", " the", "tokenization", "running", "Zürich", "naïve", "don't",
            "U.S.", "3.14", "1,000", "e-mail", "'s", "'t", "'re", "'ve", "'m", "'ll", "'d",
            "'S", "'RE", "''", "'", "’s", "<x>y", "x>", "<x>", "Ġthe", "ĠĠ",
        ]).prop_map(str::to_string),
        4 => pick(&[
            " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\u{A0}", "\u{3000}",
            "\u{2028}", "\u{B}", "\u{C}", "\u{85}", "\u{1C}", "\u{1680}", "\u{200B}", "\u{FEFF}",
        ]).prop_map(str::to_string),
        3 => pick(&[
            ".", ",", "!", "\"", "-", "—", "«", "»", "、", "。", "$", "€", "#", "@", "_", "…",
            "½", "²", "Ⅻ", "٣", "①", "*", "...", "?!",
        ]).prop_map(str::to_string),
        2 => pick(&[
            "<s>", "</s>", "<mask>", " <mask>", "  <mask>", "<unk>", "<pad>", "<mask", "mask>",
            "<<mask>>", "<MASK>", "</s></s>", "\u{3000}<mask>",
        ]).prop_map(str::to_string),
        3 => prop_oneof![
            prop::char::range('\u{300}', '\u{36F}'),
            prop::char::range('\u{C0}', '\u{24F}'),
            prop::char::range('\u{370}', '\u{4FF}'),
            prop::char::range('\u{900}', '\u{97F}'),
            prop::char::range('\u{AC00}', '\u{D7A3}'),
            prop::char::range('\u{4E00}', '\u{9FFF}'),
            prop::char::range('\u{3040}', '\u{30FF}'),
            prop::char::range('\u{1F300}', '\u{1FAFF}'),
            prop::char::range('\u{0}', '\u{9F}'),
        ].prop_map(String::from),
        1 => "[a-z]{60,130}",
        1 => "(é|ab|中| ){30,60}",
        2 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn byte_level_ids_equal_the_crate_on_hard_strings(text in text_strategy(), which in 0usize..4) {
        check_all(&variants()[which], &text)?;
    }

    #[test]
    fn gpt2_ids_equal_the_crate_on_hard_strings(text in text_strategy()) {
        if let Some(pair) = gpt2_pair() {
            check_all(pair, &text)?;
        }
    }

    #[test]
    fn byte_level_ids_equal_the_crate_on_arbitrary_unicode(
        text in any::<String>(),
        which in 0usize..4,
    ) {
        check_all(&variants()[which], &text)?;
    }
}

/// Strings of any Unicode scalar values (control, format, private-use, unassigned and
/// surrogate-adjacent ones included, which `any::<String>()` never draws), mixed with spaces,
/// newlines, digits and ASCII words.
fn any_chars_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => any::<char>().prop_map(String::from),
        2 => pick(&[" ", "  ", "\n", "\r\n", "\t", " \n"]).prop_map(str::to_string),
        1 => "[0-9]{1,6}",
        2 => "[ -~]{1,8}",
    ];
    prop::collection::vec(piece, 0..48).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn byte_level_ids_equal_the_crate_on_any_chars(
        text in any_chars_strategy(),
        which in 0usize..4,
    ) {
        check_all(&variants()[which], &text)?;
    }

    #[test]
    fn gpt2_ids_equal_the_crate_on_arbitrary_unicode_and_any_chars(
        text in prop_oneof![any::<String>(), any_chars_strategy()],
    ) {
        if let Some(pair) = gpt2_pair() {
            check_all(pair, &text)?;
        }
    }
}

#[test]
fn auto_picks_the_fast_bpe_for_byte_level_tokenizers_only() {
    let base = fixture_json();
    for pair in variants() {
        let tok = from_json(pair.reference.json());
        assert_eq!(tok.implementation(), TokenizerImpl::Fast, "{}", pair.name);
    }
    assert_eq!(from_json(base).implementation(), TokenizerImpl::Fast);
    let not_fast: [(&str, String); 5] = [
        (
            "normalizer",
            edited(base, |j| j["normalizer"] = json!({"type": "NFC"})),
        ),
        (
            "pre-tokenizer",
            edited(base, |j| j["pre_tokenizer"]["use_regex"] = json!(false)),
        ),
        (
            "dropout",
            edited(base, |j| j["model"]["dropout"] = json!(0.1)),
        ),
        (
            "strips spaces after it",
            edited(base, |j| j["added_tokens"][4]["rstrip"] = json!(true)),
        ),
        (
            "no symbol",
            edited(base, |j| {
                let vocab = j["model"]["vocab"].as_object_mut().unwrap();
                let id = vocab.remove("Ā").unwrap();
                vocab.insert("<byte 0>".into(), id);
                let merges = j["model"]["merges"].as_array_mut().unwrap();
                merges.retain(|m| !m.to_string().contains('Ā'));
            }),
        ),
    ];
    for (what, json) in not_fast {
        let tok = from_json(&json);
        assert_eq!(tok.implementation(), TokenizerImpl::Crate, "{what}");
        let err = tok.with_impl(TokenizerImpl::Fast).unwrap_err().to_string();
        assert!(err.contains(what), "{what}: {err}");
    }
    // A byte-level tokenizer encodes the same either way through the public API.
    let tok = from_json(base);
    let forced = from_json(base).with_impl(TokenizerImpl::Crate).unwrap();
    let text = "Hello world, it's <mask> 2024!\n\n  中文 text";
    assert_eq!(tok.encode(text).unwrap(), forced.encode(text).unwrap());
    assert!(Tokenizer::embedded().unwrap().implementation() == TokenizerImpl::Fast);
}
