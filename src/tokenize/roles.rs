//! Special tokens by role, not by spelling: which ids are CLS, SEP, PAD, MASK and UNK in a
//! `tokenizer.json`, and where a word starts.
//!
//! CLS and SEP come from the post-processor (`BertProcessing`, `RobertaProcessing`, or the
//! special tokens around `$A` in a `TemplateProcessing` single template, also inside a
//! `Sequence`); without one, from the spellings `[CLS]`/`<s>` and `[SEP]`/`</s>`. UNK is the
//! model's unknown token where it has one; PAD is the pad token of the `padding` section where
//! the tokenizer has one; PAD and MASK (and UNK otherwise) are else the added or vocabulary
//! tokens spelled `[PAD]`/`<pad>`, `[MASK]`/`<mask>`, `[UNK]`/`<unk>`. Any role can
//! be named instead (`--special-tokens cls=<s>,sep=</s>`). What cannot be found is an error
//! naming the role and how to name it.
//!
//! The pair layout follows the post-processor too: `RobertaProcessing` (and a template with two
//! separators between the segments) lays pairs out as `<s> A </s></s> B </s>`
//! ([`PairLayout::Roberta`]), everything else as BERT's `[CLS] A [SEP] B [SEP]`.
//!
//! Word starts, for whole-word masking: a WordPiece continuation carries the model's prefix
//! (`##`); with a byte-level pre-tokeniser a word starts with `Ġ` (the encoded space), with a
//! Metaspace one with `▁`, and every other piece continues the word before it.

use serde_json::Value;
use tokenizers::ModelWrapper;

use super::SpecialTokens;

/// The five roles, with the spellings looked for when nothing names them.
const ROLES: [(&str, [&str; 2]); 5] = [
    ("pad", ["[PAD]", "<pad>"]),
    ("unk", ["[UNK]", "<unk>"]),
    ("cls", ["[CLS]", "<s>"]),
    ("sep", ["[SEP]", "</s>"]),
    ("mask", ["[MASK]", "<mask>"]),
];

/// How a tokenizer lays out a pair of segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PairLayout {
    /// `[CLS] A [SEP] B [SEP]`, segment ids 0 then 1.
    #[default]
    Bert,
    /// `<s> A </s></s> B </s>`, segment ids all 0.
    Roberta,
}

impl PairLayout {
    /// Whether this is BERT's layout, the default.
    pub fn is_bert(&self) -> bool {
        *self == PairLayout::Bert
    }

    /// Special tokens a pair takes: 3 for BERT's, 4 for RoBERTa's.
    pub fn specials_per_pair(self) -> usize {
        match self {
            PairLayout::Bert => 3,
            PairLayout::Roberta => 4,
        }
    }
}

/// `role=token` pairs naming special tokens (`--special-tokens`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecialNames(pub Vec<(String, String)>);

impl std::str::FromStr for SpecialNames {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let mut names = Vec::new();
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let Some((role, token)) = part.split_once('=') else {
                return Err(format!(
                    "--special-tokens takes role=token pairs, got '{part}'"
                ));
            };
            if !ROLES.iter().any(|(r, _)| *r == role) {
                return Err(format!(
                    "unknown role '{role}' in --special-tokens (roles: pad, unk, cls, sep, mask)"
                ));
            }
            names.push((role.to_string(), token.to_string()));
        }
        Ok(SpecialNames(names))
    }
}

/// Finds the special tokens of `inner` by role (`names` first); an error says which role is
/// missing and how to name it.
pub fn find_specials(
    inner: &tokenizers::Tokenizer,
    names: &SpecialNames,
) -> std::result::Result<(SpecialTokens, PairLayout), String> {
    let processor = inner
        .get_post_processor()
        .and_then(|p| serde_json::to_value(p).ok())
        .unwrap_or(Value::Null);
    let (framing, layout) = framing(&processor);
    let id_of = |token: &str| inner.token_to_id(token);
    let find = |role: &str, spellings: [&str; 2]| -> std::result::Result<u32, String> {
        if let Some((_, token)) = names.0.iter().find(|(r, _)| r == role) {
            return id_of(token).ok_or_else(|| {
                format!("--special-tokens names {role}={token}, which the vocabulary lacks")
            });
        }
        let from_processor = match role {
            "cls" => framing.map(|f| f.0),
            "sep" => framing.map(|f| f.1),
            "unk" => model_unk(inner).and_then(|t| id_of(&t)),
            "pad" => inner.get_padding().and_then(|p| id_of(&p.pad_token)),
            _ => None,
        };
        from_processor
            .or_else(|| spellings.iter().find_map(|s| id_of(s)))
            .ok_or_else(|| {
                format!(
                    "no {role} token: the tokenizer has neither {} nor {}{} (name it with \
                     --special-tokens {role}=TOKEN)",
                    spellings[0],
                    spellings[1],
                    if matches!(role, "cls" | "sep") {
                        " and its post-processor names none"
                    } else {
                        ""
                    }
                )
            })
    };
    let [pad, unk, cls, sep, mask] = ROLES.map(|(role, spellings)| find(role, spellings));
    Ok((
        SpecialTokens {
            pad: pad?,
            unk: unk?,
            cls: cls?,
            sep: sep?,
            mask: mask?,
        },
        layout,
    ))
}

/// `(cls, sep)` ids the post-processor frames a sequence with, and its pair layout.
fn framing(processor: &Value) -> (Option<(u32, u32)>, PairLayout) {
    let id = |v: &Value| v.get(1).and_then(Value::as_u64).map(|n| n as u32);
    match processor["type"].as_str() {
        Some("BertProcessing") => (
            id(&processor["cls"]).zip(id(&processor["sep"])),
            PairLayout::Bert,
        ),
        Some("RobertaProcessing") => (
            id(&processor["cls"]).zip(id(&processor["sep"])),
            PairLayout::Roberta,
        ),
        Some("TemplateProcessing") => template_framing(processor),
        Some("Sequence") => processor["processors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(framing)
            .find(|(f, _)| f.is_some())
            .unwrap_or((None, PairLayout::Bert)),
        _ => (None, PairLayout::Bert),
    }
}

/// The special tokens right before and after `$A` in a template's single sequence; two
/// specials between `$A` and `$B` in its pair template make the RoBERTa layout.
fn template_framing(processor: &Value) -> (Option<(u32, u32)>, PairLayout) {
    let specials = &processor["special_tokens"];
    let special_id = |piece: &Value| -> Option<u32> {
        let name = piece["SpecialToken"]["id"].as_str()?;
        specials[name]["ids"][0].as_u64().map(|n| n as u32)
    };
    let pieces = |key: &str| processor[key].as_array().cloned().unwrap_or_default();
    let single = pieces("single");
    let a = single.iter().position(|p| p.get("Sequence").is_some());
    let framing = a.and_then(|a| {
        let cls = single[..a].iter().rev().find_map(special_id)?;
        let sep = single[a + 1..].iter().find_map(special_id)?;
        Some((cls, sep))
    });
    let pair = pieces("pair");
    let sequences: Vec<usize> = pair
        .iter()
        .enumerate()
        .filter(|(_, p)| p.get("Sequence").is_some())
        .map(|(i, _)| i)
        .collect();
    let layout = match sequences[..] {
        [a, b] if b > a + 2 => PairLayout::Roberta,
        _ => PairLayout::Bert,
    };
    (framing, layout)
}

/// The model's own unknown token, where it has one.
fn model_unk(inner: &tokenizers::Tokenizer) -> Option<String> {
    match inner.get_model() {
        ModelWrapper::WordPiece(wp) => Some(wp.unk_token.clone()),
        ModelWrapper::BPE(bpe) => bpe.unk_token.clone(),
        ModelWrapper::WordLevel(wl) => Some(wl.unk_token.clone()),
        ModelWrapper::Unigram(u) => {
            let id = serde_json::to_value(u).ok()?["unk_id"].as_u64()? as u32;
            inner.id_to_token(id)
        }
    }
}

/// How a piece that continues a word is recognised, for whole-word masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordStarts {
    /// Continuations carry this prefix (WordPiece's `##`).
    ContinuationPrefix(String),
    /// Word starts carry this marker (`Ġ` byte-level, `▁` Metaspace); other pieces continue.
    StartMarker(char),
    /// Every piece is a word of its own.
    EveryPiece,
}

impl WordStarts {
    /// The convention of `inner`: from its model (WordPiece) or pre-tokeniser.
    pub fn of(inner: &tokenizers::Tokenizer) -> WordStarts {
        if let ModelWrapper::WordPiece(wp) = inner.get_model() {
            return WordStarts::ContinuationPrefix(wp.continuing_subword_prefix.clone());
        }
        let pre = inner
            .get_pre_tokenizer()
            .and_then(|p| serde_json::to_value(p).ok())
            .unwrap_or(Value::Null);
        if mentions(&pre, "ByteLevel") {
            WordStarts::StartMarker('Ġ')
        } else if mentions(&pre, "Metaspace") {
            let marker = find_replacement(&pre).unwrap_or('▁');
            WordStarts::StartMarker(marker)
        } else {
            WordStarts::EveryPiece
        }
    }

    /// Whether `token` (not a special token) continues the word before it.
    pub fn continues(&self, token: &str) -> bool {
        match self {
            WordStarts::ContinuationPrefix(p) => {
                !p.is_empty() && token.starts_with(p.as_str()) && token.len() > p.len()
            }
            WordStarts::StartMarker(m) => !token.starts_with(*m),
            WordStarts::EveryPiece => false,
        }
    }
}

/// Whether a pre-tokeniser (or a `Sequence` holding it) is of type `kind`.
fn mentions(value: &Value, kind: &str) -> bool {
    value["type"].as_str() == Some(kind)
        || value["pretokenizers"]
            .as_array()
            .is_some_and(|all| all.iter().any(|p| mentions(p, kind)))
}

/// A Metaspace pre-tokeniser's replacement character.
fn find_replacement(value: &Value) -> Option<char> {
    if value["type"].as_str() == Some("Metaspace") {
        return value["replacement"].as_str()?.chars().next();
    }
    value["pretokenizers"]
        .as_array()?
        .iter()
        .find_map(find_replacement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_starts_follow_each_convention() {
        let wp = WordStarts::ContinuationPrefix("##".into());
        assert!(wp.continues("##ing") && !wp.continues("##") && !wp.continues("walk"));
        let bpe = WordStarts::StartMarker('Ġ');
        assert!(!bpe.continues("Ġwalk") && bpe.continues("ing") && bpe.continues("."));
        let sp = WordStarts::StartMarker('▁');
        assert!(!sp.continues("▁walk") && sp.continues("ing"));
        assert!(!WordStarts::EveryPiece.continues("ing"));
    }

    /// A word-level tokenizer of `vocab` (token, id) with `extra` top-level JSON fields.
    fn word_level(vocab: &[&str], extra: &str) -> tokenizers::Tokenizer {
        let entries: Vec<String> = vocab
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{t:?}: {i}"))
            .collect();
        let json = format!(
            r#"{{"version": "1.0", "added_tokens": [], "normalizer": null,
               "pre_tokenizer": {{"type": "WhitespaceSplit"}}, "decoder": null,
               "model": {{"type": "WordLevel", "vocab": {{{}}}, "unk_token": "[UNK]"}}{extra}}}"#,
            entries.join(", ")
        );
        json.parse().unwrap()
    }

    /// A `TemplateProcessing` of `single` and `pair` with specials `(token, id)`.
    fn template(single: &str, pair: &str, specials: &[(&str, u32)]) -> String {
        let piece = |p: &str| match p {
            "$A" => r#"{"Sequence": {"id": "A", "type_id": 0}}"#.to_string(),
            "$B" => r#"{"Sequence": {"id": "B", "type_id": 0}}"#.to_string(),
            t => format!(r#"{{"SpecialToken": {{"id": {t:?}, "type_id": 0}}}}"#),
        };
        let pieces = |t: &str| t.split(' ').map(piece).collect::<Vec<_>>().join(", ");
        let specials: Vec<String> = specials
            .iter()
            .map(|(t, id)| format!(r#"{t:?}: {{"id": {t:?}, "ids": [{id}], "tokens": [{t:?}]}}"#))
            .collect();
        format!(
            r#"{{"type": "TemplateProcessing", "single": [{}], "pair": [{}],
                "special_tokens": {{{}}}}}"#,
            pieces(single),
            pieces(pair),
            specials.join(", ")
        )
    }

    const VOCAB: [&str; 8] = ["[UNK]", "[P]", "[M]", "[BOS]", "[EOS]", "a", "b", "<mask>"];

    #[test]
    fn a_missing_role_is_named_with_the_flag_that_names_it() {
        let inner = word_level(&["[UNK]", "[CLS]", "[SEP]", "[PAD]", "a"], "");
        let err = find_specials(&inner, &SpecialNames::default()).unwrap_err();
        assert!(err.contains("no mask token"), "{err}");
        assert!(err.contains("--special-tokens mask=TOKEN"), "{err}");
        let inner = word_level(&["[UNK]", "[PAD]", "[MASK]", "a"], "");
        let err = find_specials(&inner, &SpecialNames::default()).unwrap_err();
        assert!(err.contains("no cls token"), "{err}");
        assert!(err.contains("post-processor names none"), "{err}");
        assert!(err.contains("--special-tokens cls=TOKEN"), "{err}");
        // Named, the same vocabulary has every role.
        let names: SpecialNames = "cls=[PAD],sep=[PAD]".parse().unwrap();
        assert!(find_specials(&inner, &names).is_ok());
    }

    #[test]
    fn a_template_gives_the_framing_and_its_pair_layout() {
        let specials = [("[BOS]", 3), ("[EOS]", 4)];
        let roberta = template("[BOS] $A [EOS]", "[BOS] $A [EOS] [EOS] $B [EOS]", &specials);
        let names: SpecialNames = "pad=[P],mask=[M]".parse().unwrap();
        let inner = word_level(&VOCAB, &format!(r#", "post_processor": {roberta}"#));
        let (found, layout) = find_specials(&inner, &names).unwrap();
        assert_eq!((found.cls, found.sep, found.unk), (3, 4, 0));
        assert_eq!(layout, PairLayout::Roberta);
        // One separator between the segments: BERT's layout, with the same framing.
        let bert = template("[BOS] $A [EOS]", "[BOS] $A [EOS] $B [EOS]", &specials);
        let inner = word_level(&VOCAB, &format!(r#", "post_processor": {bert}"#));
        let (found, layout) = find_specials(&inner, &names).unwrap();
        assert_eq!((found.cls, found.sep), (3, 4));
        assert_eq!(layout, PairLayout::Bert);
    }

    #[test]
    fn a_sequence_post_processor_is_searched_for_the_framing() {
        let roberta = template(
            "[BOS] $A [EOS]",
            "[BOS] $A [EOS] [EOS] $B [EOS]",
            &[("[BOS]", 3), ("[EOS]", 4)],
        );
        let sequence = format!(
            r#", "post_processor": {{"type": "Sequence", "processors": [
                {{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true,
                  "use_regex": true}}, {roberta}]}}"#
        );
        let names: SpecialNames = "pad=[P]".parse().unwrap();
        let inner = word_level(&VOCAB, &sequence);
        let (found, layout) = find_specials(&inner, &names).unwrap();
        assert_eq!((found.cls, found.sep, found.mask), (3, 4, 7));
        assert_eq!(layout, PairLayout::Roberta);
    }

    #[test]
    fn pad_comes_from_the_padding_section_where_there_is_one() {
        let padding = r#", "padding": {"strategy": "BatchLongest", "direction": "Right",
            "pad_to_multiple_of": null, "pad_id": 1, "pad_type_id": 0, "pad_token": "[P]"}"#;
        let names: SpecialNames = "cls=[BOS],sep=[EOS]".parse().unwrap();
        let inner = word_level(&VOCAB, padding);
        let (found, _) = find_specials(&inner, &names).unwrap();
        assert_eq!(found.pad, 1);
        // Without it, [P] is no pad token.
        let inner = word_level(&VOCAB, "");
        let err = find_specials(&inner, &names).unwrap_err();
        assert!(err.contains("no pad token"), "{err}");
    }

    #[test]
    fn special_names_parse_roles_and_refuse_others() {
        let names: SpecialNames = "cls=<s>,sep=</s>".parse().unwrap();
        assert_eq!(
            names.0,
            [("cls".into(), "<s>".into()), ("sep".into(), "</s>".into())]
        );
        assert!("bos=<s>"
            .parse::<SpecialNames>()
            .unwrap_err()
            .contains("unknown role"));
        assert!("cls"
            .parse::<SpecialNames>()
            .unwrap_err()
            .contains("role=token"));
    }
}
