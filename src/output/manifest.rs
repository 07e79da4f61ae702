//! `manifest.json`: what a build read, what it wrote, and how.
//!
//! Written last, atomically (temporary file, sync, rename), so its presence means the build
//! finished. It holds the effective config, the tokenizer (file beside the shards, SHA-256,
//! special ids), every input with its size and document counts, every shard with its row count,
//! size and SHA-256, and the counters of the run. Nothing in it depends on timing or on the
//! thread count, so it is byte-identical across runs of the same build.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::atomic::write_atomic;
use super::layout::is_plain_name;
use super::layout::{Task, MANIFEST_FILE};
use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::input::small::{read_bounded, MAX_METADATA_BYTES};
use crate::input::{Compression, Format};
use crate::instances::Counters;
use crate::tokenize::SpecialTokens;

/// The tokenizer a build used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizerEntry {
    /// File beside the shards.
    pub file: String,
    /// Hex SHA-256 of that file.
    pub sha256: String,
    /// Vocabulary size, added tokens included.
    pub vocab_size: usize,
    /// Special-token ids.
    pub special_tokens: SpecialTokens,
}

/// A finished shard, as listed in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardEntry {
    /// File name inside the output directory.
    pub file: String,
    /// Rows (instances) in the shard.
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the file.
    pub sha256: String,
}

impl ShardEntry {
    /// Holds the file in `dir` to this entry: a regular file, of the recorded size (and, with
    /// `hash`, the recorded SHA-256). The first difference is the error, naming the file.
    pub fn verify(&self, dir: &Path, hash: bool) -> Result<()> {
        let path = dir.join(&self.file);
        let meta = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        if !meta.is_file() {
            return Err(Error::output(&path, "not a regular file"));
        }
        if meta.len() != self.bytes {
            return Err(Error::output(
                &path,
                format!("{} bytes, the manifest says {}", meta.len(), self.bytes),
            ));
        }
        if hash {
            let sha256 = sha256_file(&path)?;
            if sha256 != self.sha256 {
                return Err(Error::output(
                    &path,
                    format!(
                        "SHA-256 {sha256} differs from the manifest's {} (changed after the build)",
                        self.sha256
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Hex SHA-256 of a regular file (a device or FIFO is refused, not read forever), read in
/// 1 MiB blocks.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::output(
            path,
            "not a regular file; refusing to read it",
        ));
    }
    sha256_read(path, file)
}

/// Hex SHA-256 of everything `reader` yields (from `path`, named in errors), read in 1 MiB
/// blocks.
pub fn sha256_read(path: &Path, mut reader: impl std::io::Read) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(crate::tokenize::hex(&hasher.finalize()))
}

/// One input file and what came out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputEntry {
    /// Path as given on the command line (or found under a directory given there).
    pub path: String,
    /// Bytes on disk.
    pub bytes: u64,
    /// Bytes after decompression.
    pub text_bytes: u64,
    /// Format used.
    pub format: Format,
    /// Compression undone.
    pub compression: Compression,
    /// Documents with text; also the pool random-next segments of this unit are drawn from.
    pub documents: u64,
    /// Documents with a blank body.
    pub empty_documents: u64,
    /// Instances made from this input (all passes).
    pub instances: u64,
    /// A plain-text input that looks like markup (`wikitext`, `HTML`) in at least one of its
    /// work units ([`crate::input::markup`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looks_like: Option<String>,
}

/// A part of the input left out under `--on-error skip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The file.
    pub path: String,
    /// Index of the file in the input list.
    pub file_index: u32,
    /// Offset in the decompressed file where the skipped part starts.
    pub offset: u64,
    /// Bytes skipped from there, when known (a bad work unit); absent: the rest of the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    /// The error, as it would have been reported.
    pub reason: String,
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `"bertprep"`.
    pub producer: String,
    /// Version of the program that wrote it.
    pub version: String,
    /// Shard schema version.
    pub schema_version: u32,
    /// Effective build config.
    pub config: BuildConfig,
    /// For one task's part (`--tasks T`), which task; absent in a whole build's manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<Task>,
    /// Number of tasks whose parts `finalize` joined into this manifest (absent: one machine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_tasks: Option<u32>,
    /// In a task's part: bytes it read from the inputs, over all its runs (its plan included
    /// when it planned alone; a worker running several tasks plans once, and says those reads
    /// in its own summary line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_read: Option<u64>,
    /// Rows per shard of a build `finalize --rebalance` rewrote (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebalanced_rows: Option<u64>,
    /// Tokenizer used.
    pub tokenizer: TokenizerEntry,
    /// Inputs, in unit order.
    pub inputs: Vec<InputEntry>,
    /// Shards, in order.
    pub shards: Vec<ShardEntry>,
    /// Totals over the build.
    pub counters: Counters,
    /// Input left out under `--on-error skip`, in input order (absent when nothing was).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skipped>,
}

impl Manifest {
    /// Whether the manifest's inputs are exactly `inputs`, as (path, bytes on disk), in order.
    pub fn has_inputs<'a>(&self, inputs: impl ExactSizeIterator<Item = (&'a str, u64)>) -> bool {
        self.inputs.len() == inputs.len()
            && self
                .inputs
                .iter()
                .zip(inputs)
                .all(|(e, (path, bytes))| e.path == path && e.bytes == bytes)
    }

    /// Reads `DIR/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        Self::read_file(&dir.join(MANIFEST_FILE))
    }

    /// Reads a manifest (or manifest part) file.
    ///
    /// The file is read bounded ([`crate::input::small`]) and every file name it lists must
    /// be a plain name inside its directory ([`Manifest::check_names`]).
    pub fn read_file(path: &Path) -> Result<Manifest> {
        let bytes = read_bounded(path, MAX_METADATA_BYTES)?;
        let manifest = Self::parse(&bytes).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        manifest.check_names(path)?;
        Ok(manifest)
    }

    /// Parses a manifest's JSON (no checks beyond the format; see [`Manifest::read_file`]).
    pub fn parse(bytes: &[u8]) -> std::result::Result<Manifest, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Every file the manifest names — the tokenizer, each shard — is a plain file name (so it
    /// lies inside the manifest's directory), and no shard is listed twice.
    pub fn check_names(&self, path: &Path) -> Result<()> {
        let files =
            std::iter::once(&self.tokenizer.file).chain(self.shards.iter().map(|s| &s.file));
        if let Some(bad) = files.into_iter().find(|f| !is_plain_name(f)) {
            return Err(Error::manifest(
                path,
                format!("names {bad:?}, which is not a file name inside its directory"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = self.shards.iter().find(|s| !seen.insert(s.file.as_str())) {
            return Err(Error::manifest(
                path,
                format!("lists shard {} more than once", dup.file),
            ));
        }
        Ok(())
    }

    /// Writes `DIR/manifest.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        self.write_file(&dir.join(MANIFEST_FILE))
    }

    /// Writes the manifest to `path` atomically.
    pub fn write_file(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_json(path)?)
    }

    /// The manifest as written to `path` (pretty JSON and a final newline).
    pub fn to_json(&self, path: &Path) -> Result<Vec<u8>> {
        let mut text = serde_json::to_vec_pretty(self).map_err(|source| Error::Json {
            path: path.to_path_buf(),
            source,
        })?;
        text.push(b'\n');
        Ok(text)
    }
}

impl InputEntry {
    /// An entry for a file not yet read.
    pub fn new(path: String, bytes: u64) -> Self {
        InputEntry {
            path,
            bytes,
            text_bytes: 0,
            format: Format::Auto,
            compression: Compression::None,
            documents: 0,
            empty_documents: 0,
            instances: 0,
            looks_like: None,
        }
    }

    /// Adds the counts of `other` (the same file).
    pub fn add(&mut self, other: &InputEntry) {
        self.text_bytes += other.text_bytes;
        self.documents += other.documents;
        self.empty_documents += other.empty_documents;
        self.instances += other.instances;
        if other.format != Format::Auto {
            self.format = other.format;
            self.compression = other.compression;
        }
        if self.looks_like.is_none() {
            self.looks_like.clone_from(&other.looks_like);
        }
    }
}
