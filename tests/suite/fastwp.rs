//! The fast WordPiece gives exactly the `tokenizers` crate's ids.
//!
//! - Every line of the shared Wikipedia corpora (enwiki-2021, enwiki-json-small's `text` fields,
//!   zhwiki-small), through the uncased and the cased BERT pipeline (the embedded vocabulary
//!   with lowercasing and accent stripping off: no cased vocabulary is in the shared folder).
//! - Property tests over strings built from what breaks tokenizers: combining marks and
//!   reordering, Hangul, CJK (compatibility ideographs included), emoji sequences, zero-width
//!   and control characters, U+FFFD, odd whitespace, special casing, very long words, literal
//!   special tokens; through every setting of `BertNormalizer` (loaded from a `tokenizer.json`).
//! - Which tokenizers `auto` sends to the fast path, and the error when `fast` cannot serve.

use std::sync::OnceLock;

use bertprep::tokenize::{Tokenizer, TokenizerImpl, EMBEDDED_VOCAB};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::exact::{assert_corpus_exact, check_all, from_json, Pair};

impl Pair {
    fn bert(lowercase: bool) -> Self {
        let name = if lowercase { "uncased" } else { "cased" };
        Pair::new(name, || {
            Tokenizer::bert(EMBEDDED_VOCAB, lowercase, name).unwrap()
        })
    }

    /// BERT's vocabulary plus [`MARKS`] as pieces of their own.
    fn bert_with_marks(lowercase: bool) -> Self {
        let name = if lowercase {
            "uncased+marks"
        } else {
            "cased+marks"
        };
        let mut vocab = EMBEDDED_VOCAB.to_string();
        for m in MARKS {
            vocab.push_str(&format!("{m}\n##{m}\n"));
        }
        Pair::new(name, || Tokenizer::bert(&vocab, lowercase, name).unwrap())
    }
}

fn assert_bert_corpus_exact(name: &str, lowercase: bool) {
    assert_corpus_exact(name, &[&Pair::bert(lowercase)]);
}

#[test]
fn enwiki_2021_uncased_ids_equal_the_crate() {
    assert_bert_corpus_exact("enwiki-2021", true);
}

#[test]
fn enwiki_2021_cased_ids_equal_the_crate() {
    assert_bert_corpus_exact("enwiki-2021", false);
}

#[test]
fn enwiki_json_small_ids_equal_the_crate() {
    assert_bert_corpus_exact("enwiki-json-small", true);
    assert_bert_corpus_exact("enwiki-json-small", false);
}

#[test]
fn zhwiki_small_ids_equal_the_crate() {
    assert_bert_corpus_exact("zhwiki-small", true);
    assert_bert_corpus_exact("zhwiki-small", false);
}

/// Combining marks of several classes, spacing ones (kept by accent stripping) included. With
/// these in the vocabulary, NFD's canonical reordering of a run of them shows in the ids (BERT's
/// own vocabulary turns any such word into [UNK], whatever the order).
const MARKS: [char; 11] = [
    '\u{301}',
    '\u{316}',
    '\u{334}',
    '\u{1D165}',
    '\u{1D166}',
    '\u{1D16D}',
    '\u{1D16E}',
    '\u{93C}',
    '\u{5B0}',
    '\u{F71}',
    '\u{F72}',
];

/// The embedded tokenizer's JSON with `edit` applied.
fn edited_json(edit: impl FnOnce(&mut Value)) -> String {
    let tok = Tokenizer::embedded().unwrap();
    let mut json: Value = serde_json::from_str(tok.json()).unwrap();
    let vocab = json["model"]["vocab"].as_object_mut().unwrap();
    for (i, m) in MARKS.iter().enumerate() {
        vocab.insert(m.to_string(), json!(30522 + 2 * i));
        vocab.insert(format!("##{m}"), json!(30523 + 2 * i));
    }
    edit(&mut json);
    json.to_string()
}

/// One tokenizer per setting of `BertNormalizer` (24), plus one with overlapping added tokens
/// and a custom continuation prefix and word limit.
fn variants() -> &'static [Pair] {
    static VARIANTS: OnceLock<Vec<Pair>> = OnceLock::new();
    VARIANTS.get_or_init(|| {
        let mut out = Vec::new();
        for clean_text in [true, false] {
            for handle_chinese_chars in [true, false] {
                for strip_accents in [Value::Null, json!(true), json!(false)] {
                    for lowercase in [true, false] {
                        let normalizer = json!({
                            "type": "BertNormalizer",
                            "clean_text": clean_text,
                            "handle_chinese_chars": handle_chinese_chars,
                            "strip_accents": strip_accents,
                            "lowercase": lowercase,
                        });
                        let name = normalizer.to_string();
                        let text = edited_json(|j| j["normalizer"] = normalizer);
                        out.push(Pair::new(&name, || from_json(&text)));
                    }
                }
            }
        }
        let text = edited_json(|j| {
            let added = j["added_tokens"].as_array_mut().unwrap();
            for (id, content) in [
                (30544, "<x>"),
                (30545, "<x>y"),
                (30546, "x>"),
                (1996, "the"),
            ] {
                added.push(json!({
                    "id": id, "content": content, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": false,
                }));
            }
            j["model"]["max_input_chars_per_word"] = json!(12);
            // Continuations become "@@" + piece; "##" entries turn into ordinary words.
            let vocab = j["model"]["vocab"].as_object_mut().unwrap();
            let renamed: Vec<(String, Value)> = vocab
                .iter()
                .filter_map(|(t, id)| Some((format!("@@{}", t.strip_prefix("##")?), id.clone())))
                .collect();
            vocab.extend(renamed);
            j["model"]["continuing_subword_prefix"] = json!("@@");
        });
        out.push(Pair::new("added tokens, @@, 12 chars", || from_json(&text)));
        out
    })
}

fn pick<T: Clone + std::fmt::Debug + 'static>(items: &[T]) -> impl Strategy<Value = T> {
    prop::sample::select(items.to_vec())
}

/// Strings made of the pieces that stress each stage.
fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => "[a-zA-Z0-9]{1,12}",
        3 => pick(&[
            "The", "tokenization", "unaffable", "running", "Zürich", "naïve", "café", "don't",
            "U.S.", "3.14", "1,000", "e-mail", "##ing", "@@ing", "<x>y", "x>", "the", "THE",
        ]).prop_map(str::to_string),
        3 => pick(&[
            " ", "  ", "\t", "\n", "\r\n", "\u{A0}", "\u{3000}", "\u{2028}", "\u{2029}",
            "\u{B}", "\u{C}", "\u{85}", "\u{1C}", "\u{1680}", "\u{2007}", "\u{202F}",
        ]).prop_map(str::to_string),
        3 => pick(&[
            ".", ",", "!", "'", "\"", "-", "—", "–", "«", "»", "¿", "、", "。", "，", "「", "$",
            "€", "£", "#", "@", "_", "~", "`", "^", "|", "\\", "…", "‰", "§", "¶", "·", "*",
        ]).prop_map(str::to_string),
        2 => pick(&[
            "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[MASK", "MASK]", "[[MASK]]",
            "[mask]", "[CLS][SEP]", "[unused1]", "[ MASK ]", "[MA\u{0}SK]", "[MA\u{200B}SK]",
        ]).prop_map(str::to_string),
        3 => prop_oneof![
            prop::char::range('\u{300}', '\u{36F}'),
            prop::char::range('\u{1AB0}', '\u{1AFF}'),
            prop::char::range('\u{20D0}', '\u{20FF}'),
            prop::char::range('\u{591}', '\u{5C7}'),
            prop::char::range('\u{610}', '\u{65F}'),
            prop::char::range('\u{900}', '\u{97F}'),
            prop::char::range('\u{1D15E}', '\u{1D172}'),
            prop::char::range('\u{FE00}', '\u{FE2F}'),
        ].prop_map(String::from),
        3 => prop_oneof![
            prop::char::range('\u{C0}', '\u{24F}'),
            prop::char::range('\u{370}', '\u{3FF}'),
            prop::char::range('\u{400}', '\u{4FF}'),
            prop::char::range('\u{1E00}', '\u{1FFF}'),
            prop::char::range('\u{2100}', '\u{218F}'),
            prop::char::range('\u{FB00}', '\u{FB4F}'),
            prop::char::range('\u{FF00}', '\u{FFEF}'),
        ].prop_map(String::from),
        2 => prop_oneof![
            prop::char::range('\u{AC00}', '\u{D7A3}'),
            prop::char::range('\u{1100}', '\u{11FF}'),
            prop::char::range('\u{3130}', '\u{318F}'),
        ].prop_map(String::from),
        3 => prop_oneof![
            prop::char::range('\u{4E00}', '\u{9FFF}'),
            prop::char::range('\u{3400}', '\u{4DBF}'),
            prop::char::range('\u{F900}', '\u{FAFF}'),
            prop::char::range('\u{20000}', '\u{2A6DF}'),
            prop::char::range('\u{2F800}', '\u{2FA1F}'),
            prop::char::range('\u{3040}', '\u{30FF}'),
            prop::char::range('\u{3000}', '\u{303F}'),
        ].prop_map(String::from),
        2 => prop_oneof![
            prop::char::range('\u{1F300}', '\u{1FAFF}').prop_map(String::from),
            pick(&[
                "👨\u{200D}👩\u{200D}👧", "👍🏽", "❤\u{FE0F}", "1\u{FE0F}\u{20E3}", "🇩🇪",
                "🏳\u{FE0F}\u{200D}🌈", "\u{E0067}\u{E0062}",
            ]).prop_map(str::to_string),
        ],
        2 => pick(&[
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{AD}', '\u{180E}',
            '\u{FFFD}', '\u{FFFD}', '\u{0}', '\u{7F}', '\u{E000}', '\u{F8FF}', '\u{378}',
            '\u{FFFF}', '\u{10FFFF}', '\u{E0001}', '\u{E0100}', '\u{F0000}', '\u{D7FF}',
        ]).prop_map(String::from),
        1 => prop::char::range('\u{0}', '\u{9F}').prop_map(String::from),
        2 => pick(&[
            "İ", "ß", "ẞ", "ﬁ", "ŉ", "ǅ", "Ω", "K", "Å", "ΐ", "ΣΑΣ", "ὒ", "ǰ", "क़", "가각",
            "\u{1D15E}", "Ǆ", "ﾊﾟ", "ｶﾞ", "Ⅻ", "①", "㍿",
        ]).prop_map(str::to_string),
        // Runs of marks of different combining classes, spacing ones (kept by accent
        // stripping) included, so NFD's canonical reordering shows in the output.
        2 => prop::collection::vec(
            prop_oneof![4 => pick(&MARKS), 1 => pick(&['\u{1}', '\u{200B}', 'a'])],
            2..7,
        ).prop_map(|marks| marks.into_iter().collect::<String>()),
        1 => "[a-z]{95,130}",
        1 => "(é|ab|中){30,60}",
        2 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn uncased_ids_equal_the_crate_on_hard_strings(text in text_strategy()) {
        static PAIR: OnceLock<Pair> = OnceLock::new();
        check_all(PAIR.get_or_init(|| Pair::bert_with_marks(true)), &text)?;
    }

    #[test]
    fn cased_ids_equal_the_crate_on_hard_strings(text in text_strategy()) {
        static PAIR: OnceLock<Pair> = OnceLock::new();
        check_all(PAIR.get_or_init(|| Pair::bert_with_marks(false)), &text)?;
    }

    #[test]
    fn every_normalizer_setting_equals_the_crate(
        text in text_strategy(),
        which in 0usize..25,
    ) {
        let variants = variants();
        check_all(&variants[which % variants.len()], &text)?;
    }

    #[test]
    fn arbitrary_unicode_equals_the_crate(text in any::<String>(), which in 0usize..25) {
        let variants = variants();
        check_all(&variants[which % variants.len()], &text)?;
    }
}

#[test]
fn auto_picks_fast_for_bert_tokenizers_only() {
    use bertprep::tokenize::TokenizerSource;
    let dir = tempfile::tempdir().unwrap();
    let vocab = dir.path().join("vocab.txt");
    std::fs::write(&vocab, EMBEDDED_VOCAB).unwrap();
    for cased in [false, true] {
        let source = TokenizerSource::Vocab {
            path: vocab.clone(),
            cased,
        };
        let tok = Tokenizer::load(&source).unwrap();
        assert_eq!(tok.implementation(), TokenizerImpl::Fast);
        let forced = Tokenizer::load_with(&source, TokenizerImpl::Crate).unwrap();
        assert_eq!(forced.implementation(), TokenizerImpl::Crate);
    }
    assert_eq!(
        Tokenizer::embedded().unwrap().implementation(),
        TokenizerImpl::Fast
    );
    assert_eq!(
        from_json(&edited_json(|_| {})).implementation(),
        TokenizerImpl::Fast
    );

    let not_bert: [(&str, String); 4] = [
        (
            "normalizer",
            edited_json(|j| {
                j["normalizer"] =
                    json!({"type": "Sequence", "normalizers": [j["normalizer"].clone()]})
            }),
        ),
        (
            "pre-tokenizer",
            edited_json(|j| j["pre_tokenizer"] = json!({"type": "Whitespace"})),
        ),
        (
            "added token",
            edited_json(|j| j["added_tokens"][4]["normalized"] = json!(true)),
        ),
        (
            "added token",
            edited_json(|j| j["added_tokens"][0]["lstrip"] = json!(true)),
        ),
    ];
    for (what, json) in not_bert {
        let tok = from_json(&json);
        assert_eq!(tok.implementation(), TokenizerImpl::Crate, "{what}");
        let err = tok.with_impl(TokenizerImpl::Fast).unwrap_err().to_string();
        assert!(err.contains(what), "{err}");
        assert!(err.contains("tokenizer:"), "error names the file: {err}");
    }
}

#[test]
fn tokenizer_impl_parses_its_names() {
    for imp in [
        TokenizerImpl::Auto,
        TokenizerImpl::Crate,
        TokenizerImpl::Fast,
    ] {
        assert_eq!(imp.to_string().parse::<TokenizerImpl>(), Ok(imp));
    }
    assert!("quick"
        .parse::<TokenizerImpl>()
        .unwrap_err()
        .contains("quick"));
}
