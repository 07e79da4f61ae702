//! Helpers shared by the trainer's integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use bertprep::build::progress::ProgressMode;
use bertprep::build::{build, BuildOptions};
use bertprep::config::{default_max_predictions, BuildConfig};
use bertprep::tokenize::{TokenizerImpl, TokenizerSource};

/// The trainer crate's directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    root().join("../..")
}

/// The repository's `fixtures/` corpus.
pub fn fixtures() -> PathBuf {
    workspace().join("fixtures")
}

/// Builds `input` into `out` through the data library, as `bertprep build` would.
pub fn build_shards(input: &Path, out: &Path, config: BuildConfig, tokenizer: TokenizerSource) {
    build(&BuildOptions {
        inputs: vec![input.to_path_buf()],
        out: out.to_path_buf(),
        config,
        tokenizer,
        tokenizer_impl: TokenizerImpl::Auto,
        threads: 1,
        overwrite: true,
        progress: ProgressMode::Quiet,
        task: None,
    })
    .unwrap_or_else(|e| panic!("building {} failed: {e}", input.display()));
}

/// A build's config at `max_seq_len` (BERT's prediction count for that length).
pub fn config_at(max_seq_len: usize) -> BuildConfig {
    BuildConfig {
        max_seq_len,
        max_predictions: default_max_predictions(max_seq_len),
        ..BuildConfig::default()
    }
}

/// Sorted names of the entries of `dir` (none when it does not exist).
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
