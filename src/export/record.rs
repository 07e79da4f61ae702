//! The export's own record: `export-manifest.json` when complete, `export-state.json` while
//! running (the same record, listing the files finished so far, which is what a rerun resumes
//! from).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::mds::MdsPart;
use crate::error::{Error, Result};
use crate::input::small::{read_bounded, MAX_METADATA_BYTES};
use crate::output::atomic::write_atomic;
use crate::output::layout::is_plain_name;
use crate::output::manifest::TokenizerEntry;

/// Written last: its presence means the export is complete.
pub const EXPORT_MANIFEST: &str = "export-manifest.json";

/// The record of an export in progress.
pub const EXPORT_STATE: &str = "export-state.json";

/// The formats `bertprep export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// NVIDIA DeepLearningExamples' BERT HDF5.
    Hdf5,
    /// Google BERT's TFRecord of `tf.train.Example`.
    Tfrecord,
    /// MosaicML Streaming's MDS.
    Mds,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Hdf5 => "hdf5",
            Target::Tfrecord => "tfrecord",
            Target::Mds => "mds",
        }
    }
}

/// Compression of the files written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The build an export was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEntry {
    /// The build directory, as given.
    pub dir: String,
    /// SHA-256 of its `manifest.json`: which build, exactly.
    pub manifest_sha256: String,
    /// `L`, every row's length.
    pub max_seq_len: usize,
    /// `P`, the predictions per row the formats pad to.
    pub max_predictions: usize,
    /// The tokenizer the ids belong to.
    pub tokenizer: TokenizerEntry,
    /// Rows in the build.
    pub rows: u64,
}

/// One file written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedFile {
    /// Its name in the output directory.
    pub file: String,
    /// The source shard it holds rows of (empty for `index.json`).
    pub source: String,
    /// Rows in it.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// Hex SHA-256.
    pub sha256: String,
    /// For an MDS shard, what `index.json` says of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mds: Option<MdsPart>,
    /// In the state only, while an MDS shard moves to its place in the one sequence of names
    /// (see [`super::mds`]): the name it had before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renamed_from: Option<String>,
}

/// What an export wrote, from what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportManifest {
    /// Always `"bertprep"`.
    pub producer: String,
    /// Version of the program that wrote it.
    pub version: String,
    pub format: Target,
    pub compression: Compression,
    /// MDS shard size limit in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mds_size_limit: Option<u64>,
    pub source: SourceEntry,
    /// Files, in source-shard order (MDS: `index.json` last).
    pub files: Vec<ExportedFile>,
    /// Rows written.
    pub rows: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl ExportManifest {
    /// Whether `other` is the same export (format, compression, shard size, source build):
    /// what a rerun must match to resume or to find its work done.
    pub fn same_export(&self, other: &ExportManifest) -> bool {
        self.format == other.format
            && self.compression == other.compression
            && self.mds_size_limit == other.mds_size_limit
            && self.source.manifest_sha256 == other.source.manifest_sha256
    }

    /// Reads a record, holding every file it names to a plain name.
    pub fn read(path: &Path) -> Result<ExportManifest> {
        let bytes = read_bounded(path, MAX_METADATA_BYTES)?;
        let record: ExportManifest =
            serde_json::from_slice(&bytes).map_err(|source| Error::Json {
                path: path.to_path_buf(),
                source,
            })?;
        let names = record
            .files
            .iter()
            .flat_map(|f| std::iter::once(&f.file).chain(&f.renamed_from));
        if let Some(bad) = names.into_iter().find(|name| !is_plain_name(name)) {
            return Err(Error::manifest(
                path,
                format!("names {bad:?}, which is not a file name inside its directory"),
            ));
        }
        Ok(record)
    }

    /// Writes the record to `path` atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        text.push(b'\n');
        write_atomic(path, &text)
    }
}
