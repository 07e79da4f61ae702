//! Opening a shard directory and reading one row group at a time, checked.
//!
//! [`ShardSet::open`] reads `manifest.json` (its presence means the build finished; it also
//! gives the tokenizer's vocabulary size and special tokens), checks `tokenizer.json` against
//! it, and opens each shard it lists with [`bertprep::shard::ShardFile`], which reads the footer
//! once and holds the columns to the shard schema; [`ShardSet::verify`] also checks every
//! shard's SHA-256 (`--verify`). The per-row-group row counts are known from the
//! footers before any data is read.
//!
//! [`ShardSet::read`] decodes one row group into [`Rows`] (columnar, row `i` is a
//! [`RowView`]) and holds every row to [`bertprep::shard::check::check_row`] — the invariants
//! `inspect --check` enforces — and to the model's [`Limits`], so a bad shard is a clear error
//! naming the file, row group and row, never a panic or an out-of-range embedding lookup.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bertprep::config::default_max_predictions_at;
use bertprep::instances::masking::{mask_row, MaskSettings, MaskVocab};
use bertprep::output::layout::{MANIFEST_FILE, TOKENIZER_FILE};
use bertprep::output::Manifest;
use bertprep::rng::UnitRng;
use bertprep::shard::check::{check_row, RowProblem, RowRules};
use bertprep::shard::{RowForm, RowView, ShardFile, IGNORE_LABEL};
use bertprep::tokenize::Tokenizer;

use crate::error::{Error, Result};

/// What the model accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub vocab_size: usize,
    pub type_vocab_size: usize,
    pub max_positions: usize,
}

/// The shards of one `bertprep build` output directory.
#[derive(Debug, Clone)]
pub struct ShardSet {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub files: Vec<ShardFile>,
    /// The tokenizer beside the shards (dynamic masks draw random tokens from it).
    pub tokenizer: Arc<Tokenizer>,
    /// How masks are drawn in training for a `--masking dynamic` build: the build's rate and
    /// prediction cap unless [`ShardSet::with_mlm_probability`] says otherwise.
    pub mlm: MaskSettings,
}

impl ShardSet {
    /// Opens `dir` and checks all of it before any row is read: the manifest (read bounded,
    /// its file names inside `dir`), `tokenizer.json` (it loads, and it is the one the
    /// manifest records), and every shard the manifest lists (present, of the recorded size,
    /// Parquet with the shard schema).
    pub fn open(dir: &Path) -> Result<ShardSet> {
        if !dir.join(MANIFEST_FILE).is_file() {
            return Err(Error::shards(
                dir,
                format!("no {MANIFEST_FILE}: not a finished `bertprep build` output"),
            ));
        }
        let manifest = Manifest::read(dir)?;
        if manifest.shards.is_empty() {
            return Err(Error::shards(dir, "the manifest lists no shards"));
        }
        let tokenizer = check_tokenizer(dir, &manifest)?;
        let files = manifest
            .shards
            .iter()
            .map(|s| {
                s.verify(dir, false)?;
                ShardFile::open(&dir.join(&s.file))
            })
            .collect::<bertprep::Result<Vec<_>>>()?;
        let mlm = MaskSettings {
            masked_lm_prob: manifest.config.masked_lm_prob,
            max_predictions: manifest.config.max_predictions,
            whole_word_mask: false,
            mask_spans: false,
        };
        Ok(ShardSet {
            dir: dir.to_path_buf(),
            manifest,
            files,
            tokenizer: Arc::new(tokenizer),
            mlm,
        })
    }

    /// Holds every shard to the SHA-256 its manifest records (`--verify`): reads them all.
    pub fn verify(&self) -> Result<()> {
        for shard in &self.manifest.shards {
            shard.verify(&self.dir, true)?;
        }
        Ok(())
    }

    /// The tokenizer file beside the shards.
    pub fn tokenizer_path(&self) -> PathBuf {
        self.dir.join(TOKENIZER_FILE)
    }

    /// Vocabulary size of the tokenizer the shards were built with.
    pub fn vocab_size(&self) -> usize {
        self.manifest.tokenizer.vocab_size
    }

    /// Padded row length of the build.
    pub fn max_seq_len(&self) -> usize {
        self.manifest.config.max_seq_len
    }

    /// Checks the build against the model before any row is read.
    pub fn check(&self, limits: Limits) -> Result<()> {
        let manifest = self.dir.join(MANIFEST_FILE);
        if self.vocab_size() > limits.vocab_size {
            return Err(Error::shards(
                manifest,
                format!(
                    "the tokenizer has {} entries but the model's vocabulary is {}",
                    self.vocab_size(),
                    limits.vocab_size
                ),
            ));
        }
        if self.max_seq_len() > limits.max_positions {
            return Err(Error::shards(
                manifest,
                format!(
                    "rows are {} long but the model has {} positions",
                    self.max_seq_len(),
                    limits.max_positions
                ),
            ));
        }
        Ok(())
    }

    /// Total rows.
    pub fn rows(&self) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.row_group_rows)
            .map(|&n| n as usize)
            .sum()
    }

    /// Dynamic masks drawn at `probability` instead of the build's `--masked-lm-prob` (the
    /// prediction cap follows it, as `bertprep build`'s default does).
    #[must_use]
    pub fn with_mlm_probability(mut self, probability: f64) -> Self {
        self.mlm.masked_lm_prob = probability;
        self.mlm.max_predictions =
            default_max_predictions_at(self.max_seq_len(), probability).min(self.max_seq_len());
        self
    }

    /// Draws the masks of `rows` (read from this set, unmasked) from `rng`, in row order, by
    /// the build's rules ([`mask_row`]).
    pub fn mask_rows(&self, rows: &mut Rows, rng: &mut UnitRng) {
        let vocab = MaskVocab::new(&self.tokenizer);
        for i in 0..rows.len() {
            let (a, n) = (rows.starts[i], rows.num_tokens[i].max(0) as usize);
            let mut ids: Vec<u32> = rows.input_ids[a..a + n].iter().map(|&t| t as u32).collect();
            for (pos, original) in mask_row(&mut ids, &self.mlm, &vocab, rng) {
                rows.labels[a + pos as usize] = original as i32;
            }
            for (slot, id) in rows.input_ids[a..a + n].iter_mut().zip(ids) {
                *slot = id as i32;
            }
        }
    }

    /// The recipe the shards were built with.
    pub fn form(&self) -> RowForm {
        RowForm::of(&self.manifest.config)
    }

    /// Whether rows carry a sentence-pair label (NSP or SOP) for the two-way head.
    pub fn has_pair_label(&self) -> bool {
        self.form().pair_label().is_some()
    }

    /// What every row of the set must hold, from its manifest.
    fn rules(&self) -> RowRules {
        RowRules {
            max_seq_len: Some(self.max_seq_len()),
            specials: self.manifest.tokenizer.special_tokens,
            vocab_size: Some(self.vocab_size()),
            form: self.form(),
        }
    }

    /// Reads row group `group` of shard `shard`, checked against the shard invariants and
    /// `limits`.
    pub fn read(&self, shard: usize, group: usize, limits: Limits) -> Result<Rows> {
        let file = self.files.get(shard).ok_or_else(|| {
            Error::Internal(format!("shard number {shard} of {}", self.files.len()))
        })?;
        let batch = file.row_group(group)?;
        let rules = self.rules();
        // Unpadded rows are padded here, to the build's length, as the trainer batches them.
        let (width, pad) = (
            self.max_seq_len(),
            self.manifest.tokenizer.special_tokens.pad as i32,
        );
        let mut rows = Rows::default();
        for i in 0..batch.len() {
            let row = batch.row(i);
            let problem = check_row(&row, &rules).and_then(|()| within(&row, limits));
            if let Err(problem) = problem {
                return Err(Error::shards(
                    &file.path,
                    format!("row group {group} row {i}: {problem}"),
                ));
            }
            rows.push_padded(row, width, pad);
        }
        Ok(rows)
    }
}

/// `tokenizer.json` beside the shards loads and is the one the manifest records (a checkpoint
/// copies it: a missing or altered tokenizer must stop a run before its first step, not at
/// its first checkpoint).
fn check_tokenizer(dir: &Path, manifest: &Manifest) -> Result<Tokenizer> {
    let path = dir.join(&manifest.tokenizer.file);
    let tokenizer = Tokenizer::from_json_file(&path)?;
    if tokenizer.sha256() != manifest.tokenizer.sha256 {
        return Err(Error::shards(
            path,
            "is not the tokenizer the shards were built with (its SHA-256 differs from the \
             manifest's)",
        ));
    }
    Ok(tokenizer)
}

/// What a valid row still needs for this model: ids inside its vocabulary (which may be
/// smaller than the tokenizer's when [`ShardSet::check`] was not asked) and token types it has
/// embeddings for.
fn within(row: &RowView<'_>, limits: Limits) -> std::result::Result<(), RowProblem> {
    let vocab = limits.vocab_size as i32;
    if let Some(t) = row.input_ids.iter().find(|&&t| t >= vocab) {
        return Err(RowProblem(format!(
            "token id {t} outside the model's vocabulary of {vocab}"
        )));
    }
    if let Some(l) = row.labels.iter().find(|&&l| l >= vocab) {
        return Err(RowProblem(format!(
            "label {l} outside the model's vocabulary of {vocab}"
        )));
    }
    let types = row.token_type_ids.unwrap_or_default();
    match types
        .iter()
        .find(|&&t| t as usize >= limits.type_vocab_size)
    {
        Some(t) => Err(RowProblem(format!(
            "token type {t} outside the model's {} types",
            limits.type_vocab_size
        ))),
        None => Ok(()),
    }
}

/// Decoded rows, stored column by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Start of each row in the list columns, plus the end.
    starts: Vec<usize>,
    input_ids: Vec<i32>,
    token_type_ids: Vec<i8>,
    attention_mask: Vec<i8>,
    labels: Vec<i32>,
    next_sentence_label: Vec<i8>,
    num_tokens: Vec<i16>,
    source: Vec<u64>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.num_tokens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.num_tokens.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> RowView<'_> {
        let (a, b) = (self.starts[i], self.starts[i + 1]);
        RowView {
            input_ids: &self.input_ids[a..b],
            token_type_ids: Some(&self.token_type_ids[a..b]),
            attention_mask: Some(&self.attention_mask[a..b]),
            labels: &self.labels[a..b],
            special_tokens_mask: None,
            next_sentence_label: self.next_sentence_label[i],
            num_tokens: self.num_tokens[i],
            source: self.source[i],
        }
    }

    /// Appends the rows `keep` selects (all when `None`) from `other`.
    pub fn extend_from(&mut self, other: &Rows, keep: Option<&[bool]>) {
        for i in 0..other.len() {
            if keep.is_some_and(|k| !k[i]) {
                continue;
            }
            self.push(other.row(i));
        }
    }

    /// Appends one row; a column the view lacks is stored as the invariants fix it (types 0,
    /// attention on the first `num_tokens` positions, no labels).
    pub fn push(&mut self, r: RowView<'_>) {
        self.push_padded(r, 0, 0);
    }

    /// Appends one row padded to `width` entries (when shorter) with `pad` ids, type 0,
    /// attention 0 and no label; a column the view lacks is stored as [`Rows::push`] does.
    pub fn push_padded(&mut self, r: RowView<'_>, width: usize, pad: i32) {
        if self.starts.is_empty() {
            self.starts.push(0);
        }
        let len = r.input_ids.len();
        let extra = width.saturating_sub(len);
        self.input_ids.extend_from_slice(r.input_ids);
        self.input_ids.extend(std::iter::repeat_n(pad, extra));
        match r.token_type_ids.filter(|t| t.len() == len) {
            Some(t) => self.token_type_ids.extend_from_slice(t),
            None => self.token_type_ids.extend(std::iter::repeat_n(0, len)),
        }
        self.token_type_ids.extend(std::iter::repeat_n(0, extra));
        match r.attention_mask.filter(|m| m.len() == len) {
            Some(m) => self.attention_mask.extend_from_slice(m),
            None => self
                .attention_mask
                .extend((0..len).map(|i| i8::from(i < r.len()))),
        }
        self.attention_mask.extend(std::iter::repeat_n(0, extra));
        match r.labels.len() == len {
            true => self.labels.extend_from_slice(r.labels),
            false => self.labels.extend(std::iter::repeat_n(IGNORE_LABEL, len)),
        }
        self.labels.extend(std::iter::repeat_n(IGNORE_LABEL, extra));
        self.next_sentence_label.push(r.next_sentence_label);
        self.num_tokens.push(r.num_tokens);
        self.source.push(r.source);
        self.starts.push(self.input_ids.len());
    }

    /// Every row, in order.
    pub fn refs(&self) -> Vec<RowView<'_>> {
        (0..self.len()).map(|i| self.row(i)).collect()
    }
}
