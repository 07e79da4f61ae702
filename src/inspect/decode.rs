//! Decoded instances: a stored row back as readable segments A and B.
//!
//! [`decode`] splits a row at its `[SEP]`s (A is after `[CLS]` up to the first `[SEP]`, B from
//! there to the last) and turns each segment into [`Span`]s: runs of unpredicted tokens decoded
//! by the tokenizer (WordPieces joined back, as `transformers`' `decode` does), and one span per
//! masked-LM prediction, which [`Span::plain`] writes as `[MASK→word]`, `[random→word]` or
//! `[kept word]` — `word` being the label, what the model must predict: the vocabulary entry for
//! WordPiece (`##ization`), the decoded piece where words start with a marker (byte-level BPE's
//! `Ġsmall` is `small`, a Metaspace `▁small` too). A piece that continues a word attaches to
//! the span before it with no space.
//!
//! Without a tokenizer ([`Vocab::Ids`]) every token is written as its id, so a shard can still be
//! read when its `tokenizer.json` is lost.

use serde::Serialize;

use crate::shard::{ShardRow, IGNORE_LABEL};
use crate::tokenize::roles::WordStarts;
use crate::tokenize::{SpecialTokens, Tokenizer};

/// How ids become text.
#[derive(Debug, Clone, Copy)]
pub enum Vocab<'a> {
    /// Through the shard's tokenizer.
    Tokenizer(&'a Tokenizer),
    /// No tokenizer: ids are written as numbers.
    Ids,
}

impl Vocab<'_> {
    /// The vocabulary entry of `id` (e.g. `##ing`), or the id as a number.
    fn token(&self, id: i32) -> String {
        match self {
            Vocab::Tokenizer(tok) => u32::try_from(id)
                .ok()
                .and_then(|id| tok.id_to_token(id))
                .unwrap_or_else(|| format!("<{id}>")),
            Vocab::Ids => id.to_string(),
        }
    }

    /// The label of a prediction as shown in a decoded segment: the vocabulary entry, or where
    /// words start with a marker, the piece decoded without it (the entry where it decodes to
    /// part of a character; whitespace alone quoted).
    fn label(&self, id: i32) -> String {
        let spelled = self.token(id);
        let Vocab::Tokenizer(tok) = self else {
            return spelled;
        };
        let WordStarts::StartMarker(marker) = *tok.word_starts() else {
            return spelled;
        };
        let decoded = u32::try_from(id)
            .ok()
            .filter(|&id| tok.id_to_token(id).is_some())
            .and_then(|id| tok.decode(&[id]).ok());
        match decoded {
            Some(text) if text.contains('\u{FFFD}') => spelled,
            Some(text) if !text.trim().is_empty() => text.trim_start().to_string(),
            // Whitespace alone (a lone `Ġ` or `▁`) is shown quoted: `[MASK→" "]`.
            _ => format!("{:?}", spelled.replace(marker, " ")),
        }
    }

    /// Whether a run of `ids` decoded as `text` goes on the previous span with no space: a `##`
    /// piece, or punctuation the decoder's cleanup would join (`mat .` → `mat.`).
    fn attaches(&self, ids: &[i32], text: &str) -> bool {
        ids.first().is_some_and(|&id| self.continues(id))
            || (matches!(self, Vocab::Tokenizer(_)) && text.starts_with(['.', ',', '?', '!']))
    }

    /// Whether `id` continues the previous token's word.
    fn continues(&self, id: i32) -> bool {
        match self {
            Vocab::Tokenizer(tok) => u32::try_from(id).is_ok_and(|id| tok.is_continuation(id)),
            Vocab::Ids => false,
        }
    }

    /// Text of a run of unpredicted ids.
    fn text(&self, ids: &[i32]) -> String {
        let Vocab::Tokenizer(tok) = self else {
            return join(ids.iter().map(|id| id.to_string()));
        };
        let known: Option<Vec<u32>> = ids
            .iter()
            .map(|&id| {
                u32::try_from(id)
                    .ok()
                    .filter(|&id| tok.id_to_token(id).is_some())
            })
            .collect();
        let decoded = known.and_then(|ids| tok.decode(&ids).ok());
        let text = decoded.unwrap_or_else(|| join(ids.iter().map(|&id| self.token(id))));
        // The decoder keeps the `##` of a run's first piece; the span is attached instead.
        // A run that starts a word with `Ġ` decodes with that space, which the joined spans
        // put before it already.
        match ids.first() {
            Some(&first) if self.continues(first) => strip_prefix(&text).to_string(),
            Some(_) if matches!(tok.word_starts(), WordStarts::StartMarker(_)) => {
                text.strip_prefix(' ').map_or(text.clone(), str::to_string)
            }
            _ => text,
        }
    }
}

fn join(tokens: impl Iterator<Item = String>) -> String {
    tokens.collect::<Vec<_>>().join(" ")
}

fn strip_prefix(text: &str) -> &str {
    text.strip_prefix("##").unwrap_or(text)
}

/// How a masked-LM prediction was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PredictionKind {
    /// The input is `[MASK]` (80% of predictions).
    Mask,
    /// The input is a random token (10%).
    Random,
    /// The input is the original token, kept (10%).
    Kept,
}

/// A piece of a decoded segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Unpredicted tokens, decoded.
    Text { text: String, attach: bool },
    /// One prediction: `label` is the word to predict.
    Prediction {
        kind: PredictionKind,
        label: String,
        attach: bool,
    },
}

impl Span {
    /// No space before this span: it continues the previous word.
    pub fn attach(&self) -> bool {
        match self {
            Span::Text { attach, .. } | Span::Prediction { attach, .. } => *attach,
        }
    }

    /// The span as plain text: `word`, `[MASK→word]`, `[random→word]` or `[kept word]`.
    pub fn plain(&self) -> String {
        match self {
            Span::Text { text, .. } => text.clone(),
            Span::Prediction { kind, label, .. } => match kind {
                PredictionKind::Mask => format!("[MASK→{label}]"),
                PredictionKind::Random => format!("[random→{label}]"),
                PredictionKind::Kept => format!("[kept {label}]"),
            },
        }
    }
}

/// Spans joined as plain text (`style` wraps each span, e.g. in colour codes).
pub fn join_spans(spans: &[Span], mut style: impl FnMut(&Span, String) -> String) -> String {
    let mut out = String::new();
    for span in spans {
        if !out.is_empty() && !span.attach() {
            out.push(' ');
        }
        out.push_str(&style(span, span.plain()));
    }
    out
}

/// One masked-LM prediction of a decoded instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prediction {
    /// Position in the row.
    pub position: usize,
    pub kind: PredictionKind,
    /// Id the model sees.
    pub input_id: i32,
    /// Id it must predict.
    pub label_id: i32,
    /// Token it sees (its id without a tokenizer).
    pub input: String,
    /// Token it must predict (its id without a tokenizer).
    pub label: String,
}

/// A row, decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedInstance {
    /// Shard file name.
    pub shard: String,
    /// Row within the shard, 0-based.
    pub row: u64,
    /// Row across all shards inspected, 0-based (what `--row` takes).
    pub index: u64,
    /// Input file index (the top 20 bits of `source`).
    pub source_file: u64,
    /// Piece of that file in the unit plan (the next 12 bits).
    pub source_piece: u64,
    /// Document index in that piece (the lower 32 bits).
    pub source_document: u64,
    pub num_tokens: usize,
    pub next_sentence_label: i8,
    /// The label in words: `B follows A` or `B is random`.
    pub next_sentence: String,
    /// Segment A as plain text with predictions marked.
    pub segment_a: String,
    /// Segment B as plain text with predictions marked.
    pub segment_b: String,
    pub predictions: Vec<Prediction>,
    /// Segments A and B as spans, for rendering.
    #[serde(skip)]
    pub spans: [Vec<Span>; 2],
}

/// Where a decoded row came from.
#[derive(Debug, Clone)]
pub struct RowPlace {
    pub shard: String,
    pub row: u64,
    pub index: u64,
}

/// Decodes one row.
pub fn decode(
    row: &ShardRow,
    place: RowPlace,
    specials: &SpecialTokens,
    vocab: Vocab<'_>,
) -> DecodedInstance {
    let n = row.view().len();
    let ids = &row.input_ids[..n];
    let SegmentBounds {
        start,
        first,
        b_start,
        last,
    } = segment_bounds(ids, specials);
    let mask = specials.mask as i32;
    let mut predictions = Vec::new();
    let labels = &row.labels;
    let a = segment_spans(
        ids,
        labels,
        start.min(first)..first,
        mask,
        vocab,
        &mut predictions,
    );
    let b = segment_spans(ids, labels, b_start..last, mask, vocab, &mut predictions);
    let plain = |spans: &[Span]| join_spans(spans, |_, s| s);
    DecodedInstance {
        shard: place.shard,
        row: place.row,
        index: place.index,
        source_file: crate::instances::source_file(row.source),
        source_piece: (row.source >> 32) & 0xfff,
        source_document: row.source & 0xffff_ffff,
        num_tokens: n,
        next_sentence_label: row.next_sentence_label,
        next_sentence: match row.next_sentence_label {
            0 => "B follows A".into(),
            1 => "B is random".into(),
            other => format!("invalid label {other}"),
        },
        segment_a: plain(&a),
        segment_b: plain(&b),
        predictions,
        spans: [a, b],
    }
}

/// Where segment A starts (after `[CLS]`), where the first `[SEP]` is, where segment B starts
/// (after that `[SEP]`, or after `</s></s>` in RoBERTa's `<s> A </s></s> B </s>`) and where
/// the last `[SEP]` is; a missing `[SEP]` is taken to be at the end, so a broken row still
/// decodes.
pub(super) fn segment_bounds(ids: &[i32], specials: &SpecialTokens) -> SegmentBounds {
    let n = ids.len();
    let sep = specials.sep as i32;
    let first = ids
        .iter()
        .skip(1)
        .position(|&t| t == sep)
        .map_or(n, |p| p + 1);
    let last = ids
        .iter()
        .rposition(|&t| t == sep)
        .filter(|&l| l > first)
        .unwrap_or(n);
    let mut b_start = (first + 1).min(last);
    if b_start < last && ids[b_start] == sep {
        b_start += 1;
    }
    SegmentBounds {
        start: usize::from(ids.first() == Some(&(specials.cls as i32))),
        first,
        b_start,
        last,
    }
}

/// Positions in a row: segment A is `start..first`, segment B `b_start..last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct SegmentBounds {
    pub start: usize,
    pub first: usize,
    pub b_start: usize,
    pub last: usize,
}

/// The positions `range` of `ids` as spans: text runs between predictions, and one span per
/// prediction, which is also appended to `predictions`.
fn segment_spans(
    ids: &[i32],
    labels: &[i32],
    range: std::ops::Range<usize>,
    mask: i32,
    vocab: Vocab<'_>,
    predictions: &mut Vec<Prediction>,
) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut run_start = range.start;
    for i in range.clone() {
        let label = labels.get(i).copied().unwrap_or(IGNORE_LABEL);
        if label == IGNORE_LABEL {
            continue;
        }
        spans.extend(text_span(&ids[run_start..i], vocab));
        run_start = i + 1;
        let kind = prediction_kind(ids[i], label, mask);
        spans.push(Span::Prediction {
            kind,
            label: vocab.label(label),
            attach: vocab.continues(label),
        });
        predictions.push(Prediction {
            position: i,
            kind,
            input_id: ids[i],
            label_id: label,
            input: vocab.token(ids[i]),
            label: vocab.token(label),
        });
    }
    spans.extend(text_span(&ids[run_start..range.end], vocab));
    spans
}

/// A run of unpredicted ids as one text span; `None` for an empty run.
fn text_span(ids: &[i32], vocab: Vocab<'_>) -> Option<Span> {
    if ids.is_empty() {
        return None;
    }
    let text = vocab.text(ids);
    let attach = vocab.attaches(ids, &text);
    Some(Span::Text { text, attach })
}

/// How the input `id` at a predicted position relates to its `label`.
fn prediction_kind(id: i32, label: i32, mask: i32) -> PredictionKind {
    if id == mask {
        PredictionKind::Mask
    } else if id == label {
        PredictionKind::Kept
    } else {
        PredictionKind::Random
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ids: &[i32], labels: &[(usize, i32)], len: usize) -> ShardRow {
        let mut input_ids = ids.to_vec();
        input_ids.resize(len, 0);
        let mut l = vec![IGNORE_LABEL; len];
        for &(pos, label) in labels {
            l[pos] = label;
        }
        ShardRow {
            input_ids,
            token_type_ids: vec![0; len],
            attention_mask: vec![0; len],
            labels: l,
            special_tokens_mask: Vec::new(),
            next_sentence_label: 1,
            num_tokens: ids.len() as i16,
            source: 3 << 44 | 9,
        }
    }

    fn place() -> RowPlace {
        RowPlace {
            shard: "s".into(),
            row: 0,
            index: 0,
        }
    }

    #[test]
    fn marks_each_prediction_kind_and_joins_wordpieces() {
        let tok = Tokenizer::embedded().unwrap();
        let sp = tok.specials();
        let enc =
            |s: &str| -> Vec<i32> { tok.encode(s).unwrap().iter().map(|&i| i as i32).collect() };
        let a = enc("the tokenization cat sat");
        let b = enc("on the mat.");
        let mut ids = vec![101];
        ids.extend(&a);
        ids.push(102);
        let b_start = ids.len();
        ids.extend(&b);
        ids.push(102);
        // Mask "##ization" (a continuation), replace "cat" with "dog", keep "mat".
        let piece = 3;
        assert!(tok.is_continuation(ids[piece] as u32), "{a:?}");
        let cat = piece + 1;
        let mat = b_start + 2;
        let original = ids.clone();
        ids[piece] = 103;
        ids[cat] = enc("dog")[0];
        let r = row(
            &ids,
            &[
                (piece, original[piece]),
                (cat, original[cat]),
                (mat, original[mat]),
            ],
            20,
        );
        let d = decode(&r, place(), &sp, Vocab::Tokenizer(&tok));
        assert_eq!(d.segment_a, "the token[MASK→##ization] [random→cat] sat");
        assert_eq!(d.segment_b, "on the [kept mat].");
        assert_eq!(d.predictions.len(), 3);
        assert_eq!(d.predictions[1].input, "dog");
        assert_eq!(d.predictions[1].kind, PredictionKind::Random);
        assert_eq!((d.source_file, d.source_document), (3, 9));
        assert_eq!(d.next_sentence, "B is random");
    }

    #[test]
    fn roberta_pairs_start_b_after_both_separators() {
        let sp = SpecialTokens {
            cls: 0,
            pad: 1,
            sep: 2,
            unk: 3,
            mask: 4,
        };
        let r = row(&[0, 10, 11, 2, 2, 12, 4, 2], &[(6, 13)], 10);
        let d = decode(&r, place(), &sp, Vocab::Ids);
        assert_eq!(d.segment_a, "10 11");
        assert_eq!(d.segment_b, "12 [MASK→13]");
        // An empty B in BERT's layout stays empty.
        let r = row(&[0, 10, 2, 2], &[], 6);
        let d = decode(&r, place(), &sp, Vocab::Ids);
        assert_eq!((d.segment_a.as_str(), d.segment_b.as_str()), ("10", ""));
    }

    #[test]
    fn without_tokenizer_shows_ids() {
        let sp = Tokenizer::embedded().unwrap().specials();
        let r = row(&[101, 2000, 103, 102, 2002, 102], &[(2, 2001)], 8);
        let d = decode(&r, place(), &sp, Vocab::Ids);
        assert_eq!(d.segment_a, "2000 [MASK→2001]");
        assert_eq!(d.segment_b, "2002");
    }
}
