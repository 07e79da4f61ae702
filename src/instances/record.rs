//! The records that flow between the stages: [`TokenizedDocument`] (sentences as token ids) →
//! [`Pair`] (segments A and B with the NSP label) → [`Instance`] (the unpadded model input with
//! its predictions), and the [`Counters`] every stage adds to.

use serde::{Deserialize, Serialize};

use crate::input::dump::PageCounts;

/// One document's sentences as token ids; every sentence has at least one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedDocument {
    /// [`source_id`] of its file, piece and index in the piece.
    pub source: u64,
    /// Token ids of each sentence, in order.
    pub sentences: Vec<Vec<u32>>,
}

/// Packs a document's origin into the `source` column: `file << 44 | piece << 32 | index`,
/// with the piece of the file and the document's index in the piece from the unit plan
/// ([`crate::input::plan`]: a file has at most 4,096 pieces, a build at most 2^20 files).
pub fn source_id(file_index: u32, piece: u32, doc_index: u32) -> u64 {
    u64::from(file_index) << 44 | u64::from(piece) << 32 | u64::from(doc_index)
}

/// The file index of a `source` value.
pub fn source_file(source: u64) -> u64 {
    source >> 44
}

/// A sentence pair before masking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    /// Segment A token ids (non-empty).
    pub tokens_a: Vec<u32>,
    /// Segment B token ids (non-empty).
    pub tokens_b: Vec<u32>,
    /// The pair's label: under NSP, B was drawn from another document; under SOP, A and B
    /// are swapped (B's text comes first in the document).
    pub pair_label: bool,
    /// The chunk had a short target length (probability `short_seq_prob`).
    pub short_target: bool,
    /// Tokens were cut to fit `max_seq_len`.
    pub truncated: bool,
    /// Document A came from.
    pub source: u64,
}

/// A finished instance: `[CLS] A [SEP] B [SEP]` after masking, not yet padded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Token ids after masking; `num_tokens = input_ids.len()`.
    pub input_ids: Vec<u32>,
    /// Length of segment 0: `[CLS]`, A and the first `[SEP]`.
    pub segment_a_len: usize,
    /// `(position, original id)` of every prediction, ascending by position.
    pub predictions: Vec<(u32, u32)>,
    /// The pair's label, 1 in the shard: B is random (NSP) or A and B are swapped (SOP).
    pub pair_label: bool,
    /// Document A came from.
    pub source: u64,
}

/// Counts over a build, summed over units; written to the manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Input bytes after decompression.
    pub text_bytes: u64,
    /// Documents with text.
    pub documents: u64,
    /// Documents with a blank body (skipped).
    pub empty_documents: u64,
    /// `<doc>` blocks that never closed (kept).
    pub unclosed_documents: u64,
    /// Documents with no token after splitting and tokenizing (skipped).
    pub tokenless_documents: u64,
    /// Sentences with at least one token.
    pub sentences: u64,
    /// Instances written.
    pub instances: u64,
    /// Real tokens in all instances, special tokens included.
    pub tokens: u64,
    /// Predicted positions.
    pub masked: u64,
    /// Predictions shown as [MASK].
    pub masked_as_mask: u64,
    /// Predictions shown as a random token.
    pub masked_as_random: u64,
    /// Predictions shown unchanged.
    pub masked_as_kept: u64,
    /// Instances whose B is random.
    pub random_next: u64,
    /// Instances whose A and B are swapped (`--objective sop`; absent otherwise).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub swapped: u64,
    /// Spans masked (`--mask-spans`; absent otherwise).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mask_spans: u64,
    /// Whole words in those spans (`--mask-spans`; absent otherwise).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mask_span_words: u64,
    /// Parts of the input skipped under `--on-error skip` (see the manifest's `skipped`).
    #[serde(default)]
    pub skipped: u64,
    /// Instances cut to fit.
    pub truncated: u64,
    /// Instances made with a short target length.
    pub short_target: u64,
    /// Chunks that were a document's last sentence alone, so not used as A.
    pub lone_last_sentences: u64,
    /// Random-next draws turned into actual-next because the unit had one document.
    pub no_other_document: u64,
    /// What became of the pages of MediaWiki dumps (absent when no input was a dump).
    #[serde(default, skip_serializing_if = "PageCounts::is_zero")]
    pub pages: PageCounts,
}

impl Counters {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counters) {
        self.text_bytes += other.text_bytes;
        self.documents += other.documents;
        self.empty_documents += other.empty_documents;
        self.unclosed_documents += other.unclosed_documents;
        self.tokenless_documents += other.tokenless_documents;
        self.sentences += other.sentences;
        self.instances += other.instances;
        self.tokens += other.tokens;
        self.masked += other.masked;
        self.masked_as_mask += other.masked_as_mask;
        self.masked_as_random += other.masked_as_random;
        self.masked_as_kept += other.masked_as_kept;
        self.random_next += other.random_next;
        self.swapped += other.swapped;
        self.mask_spans += other.mask_spans;
        self.mask_span_words += other.mask_span_words;
        self.truncated += other.truncated;
        self.skipped += other.skipped;
        self.short_target += other.short_target;
        self.lone_last_sentences += other.lone_last_sentences;
        self.no_other_document += other.no_other_document;
        self.pages.add(&other.pages);
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
