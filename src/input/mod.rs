//! Reading corpora: from paths on the command line to documents of plain text.
//!
//! Stages, each in its own module:
//! 1. [`walk`] — expand files and directory trees into a sorted list of [`InputFile`]s
//!    (recursive, hidden entries skipped).
//! 2. [`decode`] — read a file's bytes, undo gzip / zstd / bzip2 compression (detected by magic
//!    bytes), check UTF-8 (naming the byte offset of the first bad sequence), drop a BOM and
//!    normalise CRLF / lone CR to LF.
//! 3. [`formats`] — cut the text into [`Document`]s: WikiExtractor `<doc>` text (title line
//!    dropped, HTML entities unescaped by [`html`]), JSON lines with a `text` field, or plain text
//!    with blank-line-separated documents.
//!
//! Files may also be objects in object storage ([`remote`]: `s3://`, `gs://`, `az://`,
//! `https://`), listed and read by range requests wherever a file is opened.
//!
//! For a build, [`plan`] works out which pieces of which files to read, and [`units`] streams
//! them instead and cuts them into work units at document boundaries, so no file has to fit in
//! memory; [`read`] reads one whole file (for small inputs and tools).
//!
//! A document's text keeps its line structure: every line is a paragraph (or, with
//! `--presplit`, one sentence), so the sentence splitter treats a line end as a boundary.

pub mod bz2par;
pub mod decode;
pub mod dump;
pub mod formats;
pub mod html;
pub mod markup;
pub mod mediawiki;
pub mod parquet;
pub mod plan;
pub mod remote;
pub mod small;
pub mod stdin;
pub mod units;
pub mod walk;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub use decode::Compression;
pub use units::{Unit, UnitReader};
pub use walk::discover;

/// Input format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Detect per file: Parquet by its magic bytes, then by extension (`.jsonl`, `.json`,
    /// `.ndjson`), else by content.
    #[default]
    Auto,
    /// WikiExtractor text: `<doc ...>` ... `</doc>`.
    Wiki,
    /// JSON lines with a string `text` field.
    Jsonl,
    /// Plain text; documents separated by blank lines.
    Text,
    /// Parquet with a string text column (one document per row); carried as JSON lines.
    Parquet,
    /// A MediaWiki XML export dump (`<mediawiki>` ... `<page>` ...): articles cleaned to text.
    Mediawiki,
}

impl Format {
    /// The lowercase name used on the command line and in the manifest.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Wiki => "wiki",
            Format::Jsonl => "jsonl",
            Format::Text => "text",
            Format::Parquet => "parquet",
            Format::Mediawiki => "mediawiki",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Format::Auto),
            "wiki" => Ok(Format::Wiki),
            "jsonl" => Ok(Format::Jsonl),
            "text" => Ok(Format::Text),
            "parquet" => Ok(Format::Parquet),
            "mediawiki" => Ok(Format::Mediawiki),
            other => Err(format!(
                "unknown format '{other}' (expected auto, wiki, jsonl, text, parquet or mediawiki)"
            )),
        }
    }
}

/// One input file, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Path as it will be opened.
    pub path: PathBuf,
    /// Size on disk in bytes (compressed size for compressed files).
    pub bytes: u64,
}

/// One document: its position in its file and its text, one paragraph (or sentence) per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Index of the document within its file, counting empty documents too.
    pub index: u32,
    /// Body text; lines are paragraphs (or sentences with `--presplit`).
    pub text: String,
}

/// A file read and cut into documents.
#[derive(Debug, Clone, Default)]
pub struct ParsedFile {
    /// The format that was used (never `Auto`).
    pub format: Option<Format>,
    /// Compression that was undone.
    pub compression: Compression,
    /// Uncompressed size in bytes.
    pub text_bytes: u64,
    /// Documents with a non-blank body, in file order.
    pub documents: Vec<Document>,
    /// Documents whose body was blank (skipped).
    pub empty_documents: u64,
    /// `<doc>` blocks that never closed (kept).
    pub unclosed_documents: u64,
    /// What became of a dump's pages (zero for other formats).
    pub pages: dump::PageCounts,
}

/// Reads, decompresses, decodes and parses one file.
pub fn read(path: &Path, format: Format) -> Result<ParsedFile> {
    let (bytes, compression) = decode::read_decompressed(path)?;
    let text = decode::to_text(path, bytes)?;
    let format = match format {
        Format::Auto => formats::detect(path, &text),
        other => other,
    };
    let mut parsed = formats::parse(path, &text, format)?;
    parsed.compression = compression;
    parsed.text_bytes = text.len() as u64;
    Ok(parsed)
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}
