//! The build an export reads: a complete build directory, checked before anything is written.
//!
//! Complete means `manifest.json` is there (written last by `build` and `finalize`) and
//! every shard it lists is present at its recorded size and SHA-256 ([`Source::verify_shards`],
//! before anything is written); each shard's size is checked again just before it is read. A directory with a build still in progress, task parts not yet
//! merged, or no build at all is refused with the step that is missing. Every row is held to
//! [`check_row`] as it streams past, so what is written is a valid row or nothing.
//!
//! A shard is read one row group per task ([`Source::map_row_groups`]): groups are decoded,
//! checked and encoded side by side, a window of them at a time, and written in order, so an
//! export of one shard uses every core with memory bounded by the window. The shards exported
//! side by side share one budget of `2 × threads` row groups per window ([`Windows`]): at most
//! `4 × threads` encoded row groups and `2 × threads` decoded ones are held at once, however many
//! shards are in flight.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::config::{BuildConfig, Objective};
use crate::error::{Error, Result};
use crate::output::layout::{self, MANIFEST_FILE};
use crate::output::manifest::{sha256_file, Manifest};
use crate::shard::check::{check_row, RowRules};
use crate::shard::reader::Batch;
use crate::shard::schema::RowForm;
use crate::shard::{RowView, ShardEntry, ShardFile, SCHEMA_VERSION};
use crate::tokenize::roles::PairLayout;

use super::mds::MdsLayout;
use super::record::{SourceEntry, Target};
use super::rows::Predictions;

/// A complete build, ready to export.
pub struct Source {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub entry: SourceEntry,
    pub rules: RowRules,
}

impl Source {
    /// The MDS layout of this build: ids alone for dynamic masking, else our rows.
    pub fn mds_layout(&self) -> MdsLayout {
        if self.rules.form.is_static() {
            MdsLayout::Rows(self.entry.max_seq_len)
        } else {
            MdsLayout::Tokens
        }
    }

    /// Opens the build in `dir` for `target`, or says why it cannot be exported.
    pub fn open(dir: &Path, target: Target) -> Result<Source> {
        let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
        if !meta.is_dir() {
            return Err(Error::output(
                dir,
                "not a directory; give a build's output directory",
            ));
        }
        let manifest_path = dir.join(MANIFEST_FILE);
        if !manifest_path.exists() {
            return Err(Error::output(dir, incomplete_reason(dir)));
        }
        let manifest = Manifest::read_file(&manifest_path)?;
        if manifest.schema_version != SCHEMA_VERSION {
            return Err(Error::manifest(
                &manifest_path,
                format!(
                    "shard schema version {}, this bertprep exports version {SCHEMA_VERSION}",
                    manifest.schema_version
                ),
            ));
        }
        for shard in &manifest.shards {
            shard.verify(dir, false)?;
        }
        let config = &manifest.config;
        expressible(target, config).map_err(|m| Error::manifest(&manifest_path, m))?;
        let entry = SourceEntry {
            dir: dir.display().to_string(),
            manifest_sha256: sha256_file(&manifest_path)?,
            max_seq_len: config.max_seq_len,
            max_predictions: config.max_predictions,
            tokenizer: manifest.tokenizer.clone(),
            rows: manifest.shards.iter().map(|s| s.rows).sum(),
        };
        let rules = RowRules {
            max_seq_len: Some(config.max_seq_len),
            specials: manifest.tokenizer.special_tokens,
            vocab_size: Some(manifest.tokenizer.vocab_size),
            form: RowForm::of(config),
        };
        Ok(Source {
            dir: dir.to_path_buf(),
            manifest,
            entry,
            rules,
        })
    }

    /// Checks every shard's SHA-256 against the manifest, side by side on the current pool; the
    /// error names the first shard (in manifest order) that differs.
    pub fn verify_shards(&self) -> Result<()> {
        self.manifest
            .shards
            .par_iter()
            .map(|shard| shard.verify(&self.dir, true))
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    }

    /// Streams one shard — its size checked first — through `encode`, one row group per
    /// task on the current pool, a window of groups at a time (its size from `windows`, taken
    /// afresh for each window), and hands each group's result to `write` in row order, writing
    /// one window while the next is encoded; returns the row count. Memory: two windows'
    /// results and one window's decoded groups.
    pub fn map_row_groups<T: Send>(
        &self,
        shard: &ShardEntry,
        windows: &Windows,
        encode: impl Fn(&GroupRows<'_>) -> Result<T> + Sync,
        mut write: impl FnMut(T) -> Result<()> + Send,
    ) -> Result<u64> {
        shard.verify(&self.dir, false)?;
        let path = self.dir.join(&shard.file);
        let file = ShardFile::open(&path)?;
        let firsts: Vec<u64> = file
            .row_group_rows
            .iter()
            .scan(0, |next, &n| {
                let first = *next;
                *next += n;
                Some(first)
            })
            .collect();
        let groups: Vec<usize> = (0..file.row_groups()).collect();
        let encode_window = |chunk: &[usize]| -> Vec<Result<T>> {
            chunk
                .par_iter()
                .map(|&g| {
                    let rows = GroupRows {
                        source: self,
                        path: &path,
                        batch: file.row_group(g)?,
                        first: firsts[g],
                    };
                    encode(&rows)
                })
                .collect()
        };
        let mut write_window = |results: Option<Vec<Result<T>>>| -> Result<()> {
            results.into_iter().flatten().try_for_each(|r| write(r?))
        };
        // Window k is written while window k + 1 is encoded.
        let mut encoded = None;
        let mut rest = &groups[..];
        while !rest.is_empty() {
            let (chunk, after) = rest.split_at(windows.size().min(rest.len()));
            rest = after;
            let (next, written) =
                rayon::join(|| encode_window(chunk), || write_window(encoded.take()));
            written?;
            encoded = Some(next);
        }
        write_window(encoded)?;
        if file.rows != shard.rows {
            return Err(Error::parquet(
                &path,
                format!("{} rows, the manifest says {}", file.rows, shard.rows),
            ));
        }
        Ok(file.rows)
    }
}

/// The window of row groups each shard in flight encodes at once: `2 × threads` shared among
/// the workers still exporting. Workers only leave (the count never grows back), so a window,
/// once taken, is never larger than its share now: the windows of all shards add up to at most
/// `2 × threads`.
#[derive(Debug)]
pub struct Windows {
    threads: usize,
    workers: AtomicUsize,
}

impl Windows {
    /// The budget of `threads` threads shared by `workers` shard workers.
    pub fn new(threads: usize, workers: usize) -> Windows {
        Windows {
            threads: threads.max(1),
            workers: AtomicUsize::new(workers.max(1)),
        }
    }

    /// Row groups one shard encodes at once now (at least one).
    pub fn size(&self) -> usize {
        (2 * self.threads / self.workers.load(Ordering::Relaxed).max(1)).max(1)
    }

    /// A worker has no more shards: its share goes to the others.
    pub fn leave(&self) {
        let _ = self
            .workers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                Some(n.saturating_sub(1).max(1))
            });
    }
}

/// The rows of one decoded row group.
pub struct GroupRows<'a> {
    source: &'a Source,
    path: &'a Path,
    batch: Batch,
    first: u64,
}

impl GroupRows<'_> {
    /// Rows in the group.
    pub fn len(&self) -> usize {
        self.batch.len()
    }

    /// Whether the group has no rows.
    pub fn is_empty(&self) -> bool {
        self.batch.is_empty()
    }

    /// Visits every row, held to [`check_row`], with its predictions padded to `P`; an error
    /// names the shard and the row.
    pub fn for_each(
        &self,
        mut f: impl FnMut(&RowView<'_>, &Predictions) -> Result<()>,
    ) -> Result<()> {
        let p = self.source.entry.max_predictions;
        let mut predictions = Predictions::with_capacity(p);
        for i in 0..self.batch.len() {
            let row = self.batch.row(i);
            let index = self.first + i as u64;
            let bad = |m: String| Error::parquet(self.path, format!("row {index}: {m}"));
            check_row(&row, &self.source.rules).map_err(|e| bad(e.0))?;
            predictions.fill(&row, p).map_err(bad)?;
            f(&row, &predictions)?;
        }
        Ok(())
    }
}

/// Why `dir`, which has no `manifest.json`, is not a complete build.
fn incomplete_reason(dir: &Path) -> String {
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if names.iter().any(|n| layout::part_index(n).is_some()) {
        "holds task parts but no manifest.json: run `bertprep finalize` on it first".into()
    } else if layout::work_dir(dir, None).exists()
        || names.iter().any(|n| n.starts_with(".bertprep-work"))
    {
        "holds a build in progress or interrupted (no manifest.json yet): finish it by running \
         the same build command again"
            .into()
    } else {
        "not a complete bertprep build: no manifest.json".into()
    }
}

/// Whether `target` can hold rows of this build; the reason when it cannot.
fn expressible(target: Target, config: &BuildConfig) -> std::result::Result<(), String> {
    let form = RowForm::of(config);
    match target {
        Target::Hdf5 | Target::Tfrecord if config.max_predictions == 0 => Err(format!(
            "max_predictions is 0: {} holds the predictions as [N, max_predictions] lists",
            target.name()
        )),
        // ModernBERT's pre-tokenised layout: ids only, masked by the trainer.
        Target::Mds if !form.is_static() && form.pair_label().is_none() => Ok(()),
        Target::Mds if !form.is_static() => Err(
            "it is a --masking dynamic build with a sentence pair: mds export writes such \
             builds as input_ids alone (ModernBERT's layout), which has no pair label; build \
             with --objective none"
                .into(),
        ),
        _ if !form.is_static() => Err(format!(
            "it is a --masking dynamic build: {} export writes masked rows with their \
             predictions (export it --to mds, as input_ids for a trainer that masks)",
            target.name()
        )),
        _ if config.objective != Objective::Nsp => Err(format!(
            "it is an --objective {} build: {} export writes next-sentence labels, which \
             NVIDIA's, Google's and MosaicML's BERT trainers read as NSP",
            config.objective.name(),
            target.name()
        )),
        Target::Hdf5 | Target::Tfrecord if form.pair_layout == PairLayout::Roberta => Err(format!(
            "its pairs are in RoBERTa's layout (<s> A </s></s> B </s>, one segment id): {} \
             export is for BERT's trainers, which read [CLS] A [SEP] B [SEP] with two",
            target.name()
        )),
        _ if !form.is_padded() => Err(format!(
            "it is a --padding none build: {} export writes rows padded to max_seq_len",
            target.name()
        )),
        _ => Ok(()),
    }
}
