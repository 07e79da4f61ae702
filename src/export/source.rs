//! The build an export reads: a complete build directory, checked before anything is written.
//!
//! Complete means `manifest.json` is there (written last by `build` and `merge-manifest`) and
//! every shard it lists is present at its recorded size; each shard's SHA-256 is checked again
//! just before it is read. A directory with a build still in progress, worker parts not yet
//! merged, or no build at all is refused with the step that is missing. Every row is held to
//! [`check_row`] as it streams past, so what is written is a valid row or nothing.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::layout::{self, MANIFEST_FILE};
use crate::output::manifest::{sha256_file, Manifest};
use crate::shard::check::{check_row, RowRules};
use crate::shard::reader::Columns;
use crate::shard::{RowView, ShardEntry, ShardFile, SCHEMA_VERSION};

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
        expressible(target, config.max_predictions)
            .map_err(|m| Error::manifest(&manifest_path, m))?;
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
        };
        Ok(Source {
            dir: dir.to_path_buf(),
            manifest,
            entry,
            rules,
        })
    }

    /// Streams the rows of one shard — its checksum checked first — to `f`, each with its
    /// predictions padded to `P`; returns the row count.
    pub fn for_each_row(
        &self,
        shard: &ShardEntry,
        mut f: impl FnMut(&RowView<'_>, &Predictions) -> Result<()>,
    ) -> Result<u64> {
        shard.verify(&self.dir, true)?;
        let path = self.dir.join(&shard.file);
        let file = ShardFile::open(&path)?;
        let p = self.entry.max_predictions;
        let mut predictions = Predictions::with_capacity(p);
        let mut index = 0u64;
        for batch in file.batches(Columns::All)? {
            let batch = batch?;
            for i in 0..batch.len() {
                let row = batch.row(i);
                let bad = |m: String| Error::parquet(&path, format!("row {index}: {m}"));
                check_row(&row, &self.rules).map_err(|e| bad(e.0))?;
                predictions.fill(&row, p).map_err(bad)?;
                f(&row, &predictions)?;
                index += 1;
            }
        }
        if index != shard.rows {
            return Err(Error::parquet(
                &path,
                format!("{index} rows, the manifest says {}", shard.rows),
            ));
        }
        Ok(index)
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
        "holds worker parts but no manifest.json: run `bertprep merge-manifest` on it first".into()
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
fn expressible(target: Target, max_predictions: usize) -> std::result::Result<(), String> {
    match target {
        Target::Hdf5 | Target::Tfrecord if max_predictions == 0 => Err(format!(
            "max_predictions is 0: {} holds the predictions as [N, max_predictions] lists",
            target.name()
        )),
        _ => Ok(()),
    }
}
