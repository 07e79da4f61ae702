//! The library's one error type.
//!
//! Every variant that comes from input names the file it came from (and the line or byte
//! offset where that means something), so a binary can print `{:#}` and the user knows which
//! file to look at. Binaries wrap these in `anyhow` with more context; the library never panics
//! on input-dependent paths.

use std::path::PathBuf;

/// Result alias used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while building or reading shards, or training on them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error on a named file or directory.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that is not valid UTF-8.
    #[error("{path}: invalid UTF-8 at byte offset {offset}")]
    Utf8 { path: PathBuf, offset: usize },
    /// A file holding binary data (a NUL byte) where text was expected.
    #[error("{path}: binary data (NUL byte) at byte offset {offset}; not a text file")]
    Binary { path: PathBuf, offset: usize },
    /// A file whose content does not parse in its format.
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// The tokenizer could not be loaded or used.
    #[error("tokenizer {origin}: {message}")]
    Tokenizer { origin: String, message: String },
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Nothing to read: no input files were found.
    #[error("no input files found in {0}")]
    NoInput(String),
    /// Arrow or Parquet failed on a named file.
    #[error("{path}: {message}")]
    Parquet { path: PathBuf, message: String },
    /// A tensor operation of the trainer failed (shapes, device, backend).
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A checkpoint or weights file that cannot be used.
    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// The loss-curve image could not be drawn or encoded.
    #[error("{path}: cannot draw the loss curve: {message}")]
    Plot { path: PathBuf, message: String },
    /// JSON (manifest, config) failed on a named file.
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Builds a format error at a 1-based line of a file.
    pub fn format(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            line,
            message: message.into(),
        }
    }

    /// A checkpoint problem in a named file.
    pub fn checkpoint(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Checkpoint {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// Wraps an Arrow/Parquet error with the file it concerns.
    pub fn parquet(path: impl Into<PathBuf>, err: impl std::fmt::Display) -> Self {
        Error::Parquet {
            path: path.into(),
            message: err.to_string(),
        }
    }
}
