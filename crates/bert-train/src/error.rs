//! The trainer's error type: the data library's errors, wrapped, and what only training can
//! get wrong (tensors, checkpoints, the loss plot, settings, the shard set against the model).
//!
//! Every variant that comes from a file names it; causes stay attached as `#[source]`, so
//! [`bertprep::error::one_line`] prints the whole chain once.

use std::path::PathBuf;

/// Result alias used throughout the trainer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while training.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the shards, their manifest or the tokenizer failed.
    #[error(transparent)]
    Data(#[from] bertprep::Error),
    /// An I/O error on a named file or directory.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A tensor operation failed (shape, device, out of memory).
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A checkpoint, weights or `config.json` file that cannot be used.
    #[error("{path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    /// JSON that failed to parse or serialise, in a named file.
    #[error("{path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// A line of a text file (`metrics.jsonl`) that does not parse.
    #[error("{path}:{line}: {message}")]
    Format {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A shard directory the model cannot train on (no manifest, no shards, a vocabulary or
    /// row length the model does not have, a row outside what the model accepts).
    #[error("{path}: {message}")]
    Shards { path: PathBuf, message: String },
    /// The loss-curve image could not be drawn or encoded.
    #[error("{path}: cannot draw the loss curve: {message}")]
    Plot { path: PathBuf, message: String },
    /// Settings that contradict each other or the run being resumed.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The data loader thread could not be started.
    #[error("cannot start the data loader thread")]
    Thread(#[source] std::io::Error),
    /// A failure no input explains (the loader thread stopped): a bug to report.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A checkpoint problem in `path`.
    pub fn checkpoint(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Checkpoint {
            path: path.into(),
            message: message.to_string(),
        }
    }

    /// A line of `path` that does not parse.
    pub fn format(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            line,
            message: message.into(),
        }
    }

    /// A shard-set problem at `path`.
    pub fn shards(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Shards {
            path: path.into(),
            message: message.into(),
        }
    }
}
