//! The library's one error type, and [`one_line`], how the binaries print it.
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
    /// Arrow or Parquet failed on a named file; `source` is the library's own error, when
    /// there is one.
    #[error("{path}: {message}")]
    Parquet {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The output directory holds something a build must not replace or cannot use.
    #[error("{path}: {message}")]
    Output { path: PathBuf, message: String },
    /// A manifest (or a task's part) that is inconsistent with its directory or its siblings.
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
    /// The worker threads could not be started.
    #[error("cannot start {threads} threads")]
    Threads {
        threads: usize,
        #[source]
        source: rayon::ThreadPoolBuildError,
    },
    /// A failure inside the library that no input explains: a worker thread that stopped, one
    /// of our own values that does not serialise. A bug to report.
    #[error("internal error: {0}")]
    Internal(String),
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

    /// A problem with a Parquet file that no library error caused.
    pub fn parquet(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Error::Parquet {
            path: path.into(),
            message: message.to_string(),
            source: None,
        }
    }

    /// Wraps an Arrow/Parquet error with the file it concerns and what was being done
    /// (`"cannot decode rows"`); the message ends with the cause, which stays the source.
    pub fn parquet_source(
        path: impl Into<PathBuf>,
        doing: &str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::Parquet {
            path: path.into(),
            message: format!("{doing}: {source}"),
            source: Some(Box::new(source)),
        }
    }

    /// An output-directory problem at `path`.
    pub fn output(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Output {
            path: path.into(),
            message: message.into(),
        }
    }

    /// A manifest problem in `path`.
    pub fn manifest(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Manifest {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// An error and its causes on one line (line breaks made spaces), leaving out a cause whose
/// text the line already ends with: errors that print their source themselves name it once.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = String::new();
    let mut cause = Some(error);
    while let Some(e) = cause {
        let text = e.to_string().replace('\n', " ");
        if !line.ends_with(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        cause = e.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = Error::io("a/b.txt", io);
        assert_eq!(one_line(&e), "a/b.txt: No such file");
    }
}
