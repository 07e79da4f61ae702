//! `manifest.json`: what a build read, what it wrote, and how.
//!
//! Written last, atomically (temporary file, sync, rename), so its presence means the build
//! finished. It holds the effective config, the tokenizer (file beside the shards, SHA-256,
//! special ids), every input with its size and document counts, every shard with its row count,
//! size and SHA-256, and the counters of the run. Nothing in it depends on timing or on the
//! thread count, so it is byte-identical across runs of the same build.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::BuildConfig;
use crate::error::{Error, Result};
use crate::input::{Compression, Format};
use crate::instance::Counters;
use crate::shard::ShardEntry;
use crate::tokenize::SpecialTokens;

/// File name of the manifest in the output directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// File name of the tokenizer in the output directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";

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
    /// Tokenizer used.
    pub tokenizer: TokenizerEntry,
    /// Inputs, in unit order.
    pub inputs: Vec<InputEntry>,
    /// Shards, in order.
    pub shards: Vec<ShardEntry>,
    /// Totals over the build.
    pub counters: Counters,
}

impl Manifest {
    /// Reads `DIR/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text).map_err(|source| Error::Json { path, source })
    }

    /// Writes `DIR/manifest.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(MANIFEST_FILE);
        let mut text = serde_json::to_string_pretty(self).map_err(|source| Error::Json {
            path: path.clone(),
            source,
        })?;
        text.push('\n');
        write_atomic(&path, text.as_bytes())
    }
}

/// Writes `bytes` to `path` through a hidden temporary file, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
