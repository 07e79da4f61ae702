//! The build configuration: every knob that changes the output bytes.
//!
//! [`BuildConfig`] is a plain serde struct with a documented [`Default`]; the CLI fills it from
//! flags and calls [`BuildConfig::validate`]. The effective config is written into every shard's
//! metadata and into `manifest.json`, so a shard always says how it was made. Settings that do not
//! change the output (thread count, progress) are deliberately not part of it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::input::Format;
use crate::tokenize::roles::{PairLayout, SpecialNames};

/// The largest sequence length a shard can hold (`num_tokens` is an int16 column).
pub const MAX_SEQ_LEN_LIMIT: usize = i16::MAX as usize;

/// How instances are made and written. Defaults follow Google's BERT phase-2 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BuildConfig {
    /// Length every instance is padded to, special tokens included. Default 512.
    pub max_seq_len: usize,
    /// Passes over the corpus, each with fresh pairs and masks. Default 1.
    pub dupe_factor: usize,
    /// Share of tokens to predict. Default 0.15.
    pub masked_lm_prob: f64,
    /// Cap on predictions per instance. Default `round(max_seq_len * max(0.15, masked_lm_prob))`
    /// (77 at 512).
    pub max_predictions: usize,
    /// Probability of a short target length, uniform in `[2, max_seq_len - 3]`. Default 0.1.
    pub short_seq_prob: f64,
    /// Seed of every random decision. Default 12345.
    pub seed: u64,
    /// Mask whole words (all WordPieces of a word together). Default off.
    pub whole_word_mask: bool,
    /// Mask SpanBERT's spans: runs of whole words of geometric length (p = 0.2, 1 to 10 words),
    /// one 80/10/10 decision per span. Default off (left out of the JSON then).
    #[serde(default, skip_serializing_if = "is_false")]
    pub mask_spans: bool,
    /// The sentence-pair objective: `nsp` (BERT's next-sentence prediction, the default, left
    /// out of the JSON then) or `sop` (ALBERT's sentence order).
    #[serde(default, skip_serializing_if = "Objective::is_nsp")]
    pub objective: Objective,
    /// With `--objective none`: rows run on across document boundaries (RoBERTa's
    /// FULL-SENTENCES, the default, left out of the JSON then) or end with each document
    /// (DOC-SENTENCES, `--no-cross-document`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub cross_document: bool,
    /// `static` masks at build time (the default, left out of the JSON then); `dynamic` stores
    /// the unmasked ids and `special_tokens_mask`, for masks drawn at training time.
    #[serde(default, skip_serializing_if = "Masking::is_static")]
    pub masking: Masking,
    /// `max` pads every row to `max_seq_len` (the default, left out of the JSON then); `none`
    /// stores each row at its real length.
    #[serde(default, skip_serializing_if = "Padding::is_max")]
    pub padding: Padding,
    /// Each input line is already one sentence (Google's input format). Default off.
    pub presplit: bool,
    /// Input format; `auto` detects it per file. Default auto.
    pub format: Format,
    /// Rows per Parquet shard. Default 100,000.
    pub rows_per_shard: usize,
    /// Rows per Parquet row group. Default [`default_row_group_rows`]: 2,048 at 128, 512 at
    /// 512.
    pub row_group_rows: usize,
    /// zstd level of the shards. Default 3.
    pub zstd_level: i32,
    /// Decompressed bytes per work unit before it is cut at the next document boundary.
    /// Units key the random streams and are the pool random-next documents are drawn from.
    /// Default 2 MiB.
    pub unit_bytes: usize,
    /// Bytes on disk per piece of the unit plan ([`crate::input::plan`]): larger files that can
    /// be entered part way are cut into pieces of about this size, which tasks share out.
    /// Default 32 MiB.
    #[serde(default = "default_piece_bytes")]
    pub piece_bytes: u64,
    /// Column holding the text in Parquet input. Default `text` (left out of the JSON then).
    #[serde(
        default = "default_text_column",
        skip_serializing_if = "is_default_text_column"
    )]
    pub text_column: String,
    /// What a bad input file does: `stop` the build (default) or `skip` it and record the skip
    /// in the manifest. Absent in configs written before the setting existed (and left out when
    /// `stop`, so those outputs are unchanged).
    #[serde(default, skip_serializing_if = "OnError::is_stop")]
    pub on_error: OnError,
    /// Namespaces of a MediaWiki dump whose pages become documents. Default `[0]` (articles;
    /// left out of the JSON then, so other outputs are unchanged).
    #[serde(
        default = "default_namespaces",
        skip_serializing_if = "is_default_namespaces"
    )]
    pub namespaces: Vec<i32>,
    /// Where the tokenizer came from: `embedded:bert-base-uncased`, a `tokenizer.json` path, or
    /// a `vocab.txt` path (with `cased`).
    pub tokenizer: String,
    /// Special tokens named by role (`cls=<s>`, ...), over what the tokenizer's post-processor
    /// and spellings say. Empty by default (left out of the JSON then).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub special_tokens: Vec<String>,
    /// How pairs are laid out, from the tokenizer's post-processor: BERT's `[CLS] A [SEP] B
    /// [SEP]` (the default, left out of the JSON then) or RoBERTa's `<s> A </s></s> B </s>`.
    /// Set by the build, not a flag.
    #[serde(default, skip_serializing_if = "PairLayout::is_bert")]
    pub pair_layout: PairLayout,
}

impl Default for BuildConfig {
    fn default() -> Self {
        BuildConfig {
            max_seq_len: 512,
            dupe_factor: 1,
            masked_lm_prob: 0.15,
            max_predictions: default_max_predictions(512),
            short_seq_prob: 0.1,
            seed: 12345,
            whole_word_mask: false,
            mask_spans: false,
            objective: Objective::Nsp,
            cross_document: true,
            masking: Masking::Static,
            padding: Padding::Max,
            presplit: false,
            format: Format::Auto,
            rows_per_shard: 100_000,
            row_group_rows: default_row_group_rows(512),
            zstd_level: 3,
            unit_bytes: crate::input::units::UNIT_TARGET_BYTES,
            piece_bytes: default_piece_bytes(),
            on_error: OnError::Stop,
            text_column: default_text_column(),
            namespaces: default_namespaces(),
            tokenizer: crate::tokenize::EMBEDDED_ORIGIN.to_string(),
            special_tokens: Vec::new(),
            pair_layout: PairLayout::Bert,
        }
    }
}

/// What a build does with an input file it cannot read (`--on-error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Fail the build, naming the file; nothing is left behind.
    #[default]
    Stop,
    /// Skip the bad part (the file from the error on, or the work unit holding bad bytes),
    /// record it in the manifest's `skipped` list and go on.
    Skip,
}

impl OnError {
    /// Whether this is the default, `Stop`.
    pub fn is_stop(&self) -> bool {
        *self == OnError::Stop
    }
}

impl std::str::FromStr for OnError {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "stop" => Ok(OnError::Stop),
            "skip" => Ok(OnError::Skip),
            other => Err(format!(
                "unknown --on-error '{other}' (expected stop or skip)"
            )),
        }
    }
}

/// The sentence-pair task rows are made for (`--objective`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// BERT's next-sentence prediction: B follows A, or with probability 0.5 is another
    /// document's text (`next_sentence_label` 1).
    #[default]
    Nsp,
    /// ALBERT's sentence-order prediction: A and B are always consecutive text of one document,
    /// swapped with probability 0.5 (`sentence_order_label` 1).
    Sop,
    /// No sentence-pair task (RoBERTa): rows of whole sentences, `[CLS] ... [SEP]`.
    None,
}

/// When masks are drawn (`--masking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Masking {
    /// At build time: `input_ids` masked, `labels` stored.
    #[default]
    Static,
    /// At training time: `input_ids` unmasked, `special_tokens_mask` stored, no `labels`.
    Dynamic,
}

impl Masking {
    /// Whether this is the default, `Static`.
    pub fn is_static(&self) -> bool {
        *self == Masking::Static
    }
}

impl std::str::FromStr for Masking {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "static" => Ok(Masking::Static),
            "dynamic" => Ok(Masking::Dynamic),
            other => Err(format!(
                "unknown --masking '{other}' (expected static or dynamic)"
            )),
        }
    }
}

/// How rows are stored (`--padding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// Every list padded to `max_seq_len`.
    #[default]
    Max,
    /// Every list at the row's real length (`num_tokens`).
    None,
}

impl Padding {
    /// Whether this is the default, `Max`.
    pub fn is_max(&self) -> bool {
        *self == Padding::Max
    }
}

impl std::str::FromStr for Padding {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "max" => Ok(Padding::Max),
            "none" => Ok(Padding::None),
            other => Err(format!(
                "unknown --padding '{other}' (expected max or none)"
            )),
        }
    }
}

impl Objective {
    /// Whether this is the default, `Nsp`.
    pub fn is_nsp(&self) -> bool {
        *self == Objective::Nsp
    }

    /// The flag's spelling.
    pub fn name(self) -> &'static str {
        match self {
            Objective::Nsp => "nsp",
            Objective::Sop => "sop",
            Objective::None => "none",
        }
    }
}

impl std::str::FromStr for Objective {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "nsp" => Ok(Objective::Nsp),
            "sop" => Ok(Objective::Sop),
            "none" => Ok(Objective::None),
            other => Err(format!(
                "unknown --objective '{other}' (expected nsp, sop or none)"
            )),
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_true(value: &bool) -> bool {
    *value
}

fn yes() -> bool {
    true
}

fn default_piece_bytes() -> u64 {
    crate::input::plan::DEFAULT_PIECE_BYTES
}

fn default_text_column() -> String {
    crate::input::parquet::DEFAULT_TEXT_COLUMN.to_string()
}

fn is_default_text_column(name: &str) -> bool {
    name == crate::input::parquet::DEFAULT_TEXT_COLUMN
}

fn default_namespaces() -> Vec<i32> {
    crate::input::dump::DEFAULT_NAMESPACES.to_vec()
}

fn is_default_namespaces(namespaces: &[i32]) -> bool {
    namespaces == crate::input::dump::DEFAULT_NAMESPACES
}

/// `round(max_seq_len * 0.15)`, the default prediction cap.
pub fn default_max_predictions(max_seq_len: usize) -> usize {
    default_max_predictions_at(max_seq_len, 0.15)
}

/// The default prediction cap at a masking rate: `round(max_seq_len * max(0.15, masked_lm_prob))`,
/// so that a higher rate (30% for MosaicBERT and ModernBERT) is not cut back to 15% by the cap,
/// and a rate up to 15% keeps BERT's cap.
pub fn default_max_predictions_at(max_seq_len: usize, masked_lm_prob: f64) -> usize {
    (max_seq_len as f64 * masked_lm_prob.max(0.15)).round() as usize
}

/// Tokens in a row group of the default size.
pub const ROW_GROUP_TOKENS: usize = 1 << 18;

/// The default rows per row group: [`ROW_GROUP_TOKENS`] padded tokens (2,048 rows at 128, 512
/// at 512), so that a group's columns take the same memory and time to encode whatever the
/// sequence length. Groups this size encode faster than larger ones (their columns stay in the
/// CPU's caches) and shorten the end of a build, where the last group is encoded alone.
pub fn default_row_group_rows(max_seq_len: usize) -> usize {
    (ROW_GROUP_TOKENS / max_seq_len.max(1)).clamp(16, 65_536)
}

impl BuildConfig {
    /// The defaults at another sequence length (with its default prediction cap and row-group
    /// size).
    pub fn with_max_seq_len(max_seq_len: usize) -> Self {
        BuildConfig {
            max_seq_len,
            max_predictions: default_max_predictions(max_seq_len),
            row_group_rows: default_row_group_rows(max_seq_len),
            ..BuildConfig::default()
        }
    }

    /// Checks that the settings can produce valid instances.
    pub fn validate(&self) -> Result<()> {
        let fail = |msg: String| Err(Error::Config(msg));
        if !(8..=MAX_SEQ_LEN_LIMIT).contains(&self.max_seq_len) {
            return fail(format!(
                "--max-seq-len must be in 8..={MAX_SEQ_LEN_LIMIT}, got {}",
                self.max_seq_len
            ));
        }
        if self.dupe_factor == 0 {
            return fail("--dupe-factor must be at least 1".into());
        }
        if !(self.masked_lm_prob > 0.0 && self.masked_lm_prob <= 1.0) {
            return fail(format!(
                "--masked-lm-prob must be in (0, 1], got {}",
                self.masked_lm_prob
            ));
        }
        if self.max_predictions == 0 || self.max_predictions > self.max_seq_len - 3 {
            return fail(format!(
                "--max-predictions must be in 1..={}, got {}",
                self.max_seq_len - 3,
                self.max_predictions
            ));
        }
        if self.masking == Masking::Dynamic {
            if self.dupe_factor > 1 {
                return fail(format!(
                    "--dupe-factor {} with --masking dynamic: dynamic masking draws new masks \
                     every epoch at training time, so more passes would only store the same \
                     rows again",
                    self.dupe_factor
                ));
            }
            if self.whole_word_mask || self.mask_spans {
                return fail(
                    "--whole-word-mask and --mask-spans choose masks at build time; they need \
                     --masking static"
                        .into(),
                );
            }
        }
        if let Err(e) = self.special_names() {
            return fail(e);
        }
        if !self.cross_document && self.objective != Objective::None {
            return fail("--no-cross-document applies to --objective none only".into());
        }
        if !(0.0..=1.0).contains(&self.short_seq_prob) {
            return fail(format!(
                "--short-seq-prob must be in [0, 1], got {}",
                self.short_seq_prob
            ));
        }
        if self.rows_per_shard == 0 || self.row_group_rows == 0 {
            return fail("--rows-per-shard and the row-group size must be at least 1".into());
        }
        if self.unit_bytes == 0 || self.unit_bytes > crate::input::units::MAX_UNIT_BYTES {
            return fail(format!(
                "--unit-bytes must be in 1..={}, got {}",
                crate::input::units::MAX_UNIT_BYTES,
                self.unit_bytes
            ));
        }
        if self.piece_bytes < 1 << 10 {
            return fail(format!(
                "--piece-bytes must be at least 1024, got {}",
                self.piece_bytes
            ));
        }
        if !(1..=22).contains(&self.zstd_level) {
            return fail(format!(
                "zstd level must be in 1..=22, got {}",
                self.zstd_level
            ));
        }
        Ok(())
    }

    /// The special tokens named by role.
    pub fn special_names(&self) -> std::result::Result<SpecialNames, String> {
        self.special_tokens.join(",").parse()
    }

    /// Tokens available to segments A and B together: `max_seq_len - 3` (`- 4` in RoBERTa's
    /// layout).
    pub fn max_num_tokens(&self) -> usize {
        self.max_seq_len - self.pair_layout.specials_per_pair()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_follow_the_formula() {
        let cfg = BuildConfig::default();
        cfg.validate().unwrap();
        assert_eq!(cfg.max_predictions, 77);
        assert_eq!(default_max_predictions(128), 19);
        assert_eq!(default_max_predictions_at(128, 0.1), 19);
        assert_eq!(default_max_predictions_at(128, 0.3), 38);
        assert_eq!(default_max_predictions_at(512, 0.3), 154);
    }

    #[test]
    fn rejects_bad_settings() {
        let bad = [
            BuildConfig {
                max_seq_len: 4,
                ..Default::default()
            },
            BuildConfig {
                dupe_factor: 0,
                ..Default::default()
            },
            BuildConfig {
                masked_lm_prob: 0.0,
                ..Default::default()
            },
            BuildConfig {
                max_predictions: 600,
                ..Default::default()
            },
            BuildConfig {
                short_seq_prob: 1.5,
                ..Default::default()
            },
            BuildConfig {
                rows_per_shard: 0,
                ..Default::default()
            },
        ];
        for cfg in bad {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
    }

    #[test]
    fn on_error_defaults_to_stop_and_is_optional_in_json() {
        let json = serde_json::to_string(&BuildConfig::default()).unwrap();
        assert!(!json.contains("on_error"), "{json}");
        let back: BuildConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.on_error, OnError::Stop);
        let skip = BuildConfig {
            on_error: OnError::Skip,
            ..Default::default()
        };
        let json = serde_json::to_string(&skip).unwrap();
        assert!(json.contains("\"on_error\":\"skip\""), "{json}");
        assert_eq!(serde_json::from_str::<BuildConfig>(&json).unwrap(), skip);
    }

    #[test]
    fn recipe_settings_are_optional_in_json() {
        let json = serde_json::to_string(&BuildConfig::default()).unwrap();
        assert!(
            !json.contains("objective") && !json.contains("mask_spans"),
            "{json}"
        );
        let sop = BuildConfig {
            objective: Objective::Sop,
            mask_spans: true,
            ..Default::default()
        };
        let json = serde_json::to_string(&sop).unwrap();
        assert!(json.contains("\"objective\":\"sop\""), "{json}");
        assert!(json.contains("\"mask_spans\":true"), "{json}");
        assert_eq!(serde_json::from_str::<BuildConfig>(&json).unwrap(), sop);
    }

    #[test]
    fn round_trips_through_json() {
        let cfg = BuildConfig::default();
        let json = serde_json::to_string(&cfg).unwrap();
        let back: BuildConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(cfg, back);
    }
}
