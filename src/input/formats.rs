//! Cutting decoded text into documents, per input format.
//!
//! - **wiki** (WikiExtractor): `<doc id=".." url=".." title="..">`, then the title line (dropped
//!   when it equals the `title` attribute), the body one paragraph per line, then `</doc>`.
//!   HTML character references in the body are unescaped. A final `<doc>` that never closes is
//!   kept and counted. Text outside `<doc>` blocks is a format error with its line number.
//! - **jsonl**: one JSON object per line with a string `text` field (WikiExtractor `--json` and
//!   most dataset dumps); a first line equal to the object's `title` is dropped.
//! - **mediawiki**: a MediaWiki XML export dump; its articles, cleaned ([`dump`]).
//! - **text**: documents separated by blank lines; each line is a paragraph, or a sentence with
//!   `--presplit` (Google's `create_pretraining_data.py` input format).
//!
//! Documents whose body is blank are skipped and counted; indices count them, so an instance's
//! `source` points at the document's position in its file.

use std::path::Path;

use super::mediawiki::SiteInfo;
use super::{dump, html, Document, Format, ParsedFile};
use crate::error::{Error, Result};

/// Picks a format for a file by its first non-blank line (after an XML declaration): a
/// `<mediawiki` root is a MediaWiki dump, a `<doc ...>` line is WikiExtractor text, a JSON
/// object is JSON lines; otherwise a `.jsonl` / `.json` / `.ndjson` name (under any
/// compression suffix) means JSON lines, and anything else is plain text. (Parquet and
/// compression are recognised earlier, by magic bytes.)
pub fn detect(path: &Path, text: &str) -> Format {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines.next();
    if first.is_some_and(dump::is_xml_declaration) {
        first = lines.next();
    }
    if let Some(line) = first {
        if is_doc_open(line) {
            return Format::Wiki;
        }
        if dump::is_dump_start(line) {
            return Format::Mediawiki;
        }
        if line.starts_with('{')
            && serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.is_object())
        {
            return Format::Jsonl;
        }
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = [".gz", ".zst", ".zstd", ".bz2", ".xz"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(&name);
    if [".jsonl", ".json", ".ndjson"]
        .iter()
        .any(|ext| stem.ends_with(ext))
    {
        return Format::Jsonl;
    }
    Format::Text
}

/// Cuts `text` into documents in the given format (`Auto` is treated as text).
pub fn parse(path: &Path, text: &str, format: Format) -> Result<ParsedFile> {
    parse_at(path, text, format, 0, 1)
}

/// Like [`parse`] for a piece of a file that starts with document `first_doc` at line
/// `first_line` (1-based), so indices and error lines are the file's.
pub fn parse_at(
    path: &Path,
    text: &str,
    format: Format,
    first_doc: u32,
    first_line: usize,
) -> Result<ParsedFile> {
    let piece = Piece {
        first_doc,
        first_line,
        ..Piece::default()
    };
    parse_piece(path, text, format, &piece)
}

/// Where a piece of a file sits, and what reading a dump needs beyond its text.
#[derive(Debug, Clone, Copy)]
pub struct Piece<'a> {
    /// Index in the file of the piece's first document.
    pub first_doc: u32,
    /// 1-based line in the file of the piece's first line.
    pub first_line: usize,
    /// Offset in the decompressed file of the piece's first byte.
    pub byte_offset: u64,
    /// A dump's header facts; `None` reads them from the piece itself (a whole dump).
    pub site: Option<&'a SiteInfo>,
    /// A dump's namespaces whose pages become documents.
    pub namespaces: &'a [i32],
}

impl Default for Piece<'_> {
    fn default() -> Self {
        Piece {
            first_doc: 0,
            first_line: 1,
            byte_offset: 0,
            site: None,
            namespaces: &dump::DEFAULT_NAMESPACES,
        }
    }
}

/// [`parse_at`] for a piece described by `piece`.
pub fn parse_piece(
    path: &Path,
    text: &str,
    format: Format,
    piece: &Piece<'_>,
) -> Result<ParsedFile> {
    let at = Start {
        doc: piece.first_doc,
        line: piece.first_line,
    };
    let mut parsed = match format {
        Format::Wiki => parse_wiki(path, text, at)?,
        Format::Jsonl | Format::Parquet => parse_jsonl(path, text, at)?,
        Format::Text | Format::Auto => parse_text(text, at),
        Format::Mediawiki => parse_dump(path, text, piece)?,
    };
    parsed.format = Some(match format {
        Format::Auto => Format::Text,
        f => f,
    });
    Ok(parsed)
}

/// The articles of a piece of a MediaWiki dump ([`dump::parse`]); without the header's facts
/// in `piece`, the piece must hold the header.
fn parse_dump(path: &Path, text: &str, piece: &Piece<'_>) -> Result<ParsedFile> {
    let from_header;
    let site = match piece.site {
        Some(site) => site,
        None => {
            let mut reader = std::io::Cursor::new(text.as_bytes());
            let mut header = Vec::new();
            from_header = dump::read_header(&mut reader, &mut header, path, |r, buf, _| {
                r.read_until(b'\n', buf).map_err(|e| Error::io(path, e))
            })?;
            &from_header
        }
    };
    let mut parsed = ParsedFile::default();
    let dump_piece = dump::DumpPiece {
        first_doc: piece.first_doc,
        first_line: piece.first_line,
        byte_offset: piece.byte_offset,
        site,
        namespaces: piece.namespaces,
    };
    dump::parse(path, text, &dump_piece, &mut parsed)?;
    Ok(parsed)
}

/// Where a piece of a file starts.
#[derive(Debug, Clone, Copy)]
struct Start {
    doc: u32,
    line: usize,
}

/// Whether a (trimmed) line opens a WikiExtractor document.
pub(crate) fn is_doc_open(line: &str) -> bool {
    line.strip_prefix("<doc")
        .is_some_and(|rest| rest.starts_with([' ', '>', '\t']))
}

/// The value of `name="..."` in a `<doc ...>` line, unescaped.
fn attribute(line: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    let len = line[start..].find('"')?;
    Some(html::unescape(&line[start..start + len]).into_owned())
}

/// Accumulates one document's body.
struct Builder {
    index: u32,
    title: Option<String>,
    awaiting_title: bool,
    text: String,
}

impl Builder {
    fn push_line(&mut self, line: &str) {
        let line = line.trim_end();
        if self.awaiting_title && !line.trim().is_empty() {
            self.awaiting_title = false;
            if self
                .title
                .as_deref()
                .is_some_and(|t| t.trim() == line.trim())
            {
                return;
            }
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(&html::unescape(line));
    }
}

fn finish(parsed: &mut ParsedFile, index: u32, mut text: String) {
    if text.trim().is_empty() {
        parsed.empty_documents += 1;
        return;
    }
    let end = text.trim_end_matches('\n').len();
    text.truncate(end);
    let start = text.len() - text.trim_start_matches('\n').len();
    text.drain(..start);
    parsed.documents.push(Document { index, text });
}

fn parse_wiki(path: &Path, text: &str, at: Start) -> Result<ParsedFile> {
    let mut parsed = ParsedFile::default();
    let mut open: Option<Builder> = None;
    let mut next_index = at.doc;
    for (n, line) in text.split('\n').enumerate() {
        let n = n + at.line - 1;
        let trimmed = line.trim();
        if is_doc_open(trimmed) {
            if let Some(doc) = open.take() {
                parsed.unclosed_documents += 1;
                finish(&mut parsed, doc.index, doc.text);
            }
            open = Some(Builder {
                index: next_index,
                title: attribute(trimmed, "title"),
                awaiting_title: true,
                text: String::new(),
            });
            next_index = next_index.checked_add(1).ok_or_else(|| {
                Error::format(path, n + 1, "more than 2^32 documents in one file")
            })?;
        } else if trimmed == "</doc>" {
            match open.take() {
                Some(doc) => finish(&mut parsed, doc.index, doc.text),
                None => return Err(Error::format(path, n + 1, "</doc> without an open <doc>")),
            }
        } else if let Some(doc) = open.as_mut() {
            doc.push_line(line);
        } else if !trimmed.is_empty() {
            return Err(Error::format(
                path,
                n + 1,
                "text outside <doc> ... </doc> (is this WikiExtractor output? try --format text)",
            ));
        }
    }
    if let Some(doc) = open.take() {
        parsed.unclosed_documents += 1;
        finish(&mut parsed, doc.index, doc.text);
    }
    Ok(parsed)
}

#[derive(serde::Deserialize)]
struct JsonDocument {
    text: String,
    #[serde(default)]
    title: Option<String>,
}

fn parse_jsonl(path: &Path, text: &str, at: Start) -> Result<ParsedFile> {
    let mut parsed = ParsedFile::default();
    let mut index = at.doc;
    for (n, line) in text.split('\n').enumerate() {
        let n = n + at.line - 1;
        if line.trim().is_empty() {
            continue;
        }
        let doc: JsonDocument = serde_json::from_str(line).map_err(|e| {
            Error::format(
                path,
                n + 1,
                format!("not a JSON object with a string \"text\" field: {e}"),
            )
        })?;
        let mut body = doc.text.as_str();
        if let Some(title) = doc
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            if let Some(rest) = body.strip_prefix(title) {
                if rest.is_empty() || rest.starts_with('\n') {
                    body = rest;
                }
            }
        }
        let body = body.replace("\r\n", "\n").replace('\r', "\n");
        finish(&mut parsed, index, body.trim_matches('\n').to_string());
        index = index
            .checked_add(1)
            .ok_or_else(|| Error::format(path, n + 1, "more than 2^32 documents in one file"))?;
    }
    Ok(parsed)
}

fn parse_text(text: &str, at: Start) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let mut index = at.doc;
    let mut current = String::new();
    for line in text.split('\n') {
        let line = line.trim_end();
        if line.trim().is_empty() {
            if !current.is_empty() {
                finish(&mut parsed, index, std::mem::take(&mut current));
                index = index.saturating_add(1);
            }
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        finish(&mut parsed, index, current);
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("corpus/wiki_00")
    }

    #[test]
    fn wiki_drops_title_unescapes_and_counts_empty() {
        let text = "<doc id=\"1\" url=\"?curid=1\" title=\"A &amp; B\">\nA & B\n\nFirst &lt;line&gt;.\nSecond line.\n</doc>\n\
                    <doc id=\"2\" url=\"?curid=2\" title=\"Empty\">\nEmpty\n\n\n</doc>\n\
                    <doc id=\"3\" url=\"?curid=3\" title=\"C\">\nC\n\nThird.\n</doc>\n";
        let parsed = parse(p(), text, Format::Wiki).unwrap();
        assert_eq!(parsed.empty_documents, 1);
        assert_eq!(parsed.documents.len(), 2);
        assert_eq!(parsed.documents[0].index, 0);
        assert_eq!(parsed.documents[0].text, "First <line>.\nSecond line.");
        assert_eq!(parsed.documents[1].index, 2);
        assert_eq!(parsed.documents[1].text, "Third.");
    }

    #[test]
    fn wiki_keeps_unclosed_final_document() {
        let text = "<doc id=\"1\" title=\"T\">\nT\n\nBody text.\n";
        let parsed = parse(p(), text, Format::Wiki).unwrap();
        assert_eq!(parsed.unclosed_documents, 1);
        assert_eq!(parsed.documents[0].text, "Body text.");
    }

    #[test]
    fn wiki_rejects_text_outside_documents_with_line() {
        let err = parse(p(), "<doc id=\"1\">\nx\n</doc>\nstray\n", Format::Wiki).unwrap_err();
        assert_eq!(
            err.to_string().split(": ").next().unwrap(),
            "corpus/wiki_00:4"
        );
    }

    #[test]
    fn jsonl_drops_title_and_reports_bad_lines() {
        let text = "{\"title\": \"T\", \"text\": \"T\\n\\nBody one.\"}\n\n{\"text\": \"\"}\n{\"text\": \"x\"}\n";
        let parsed = parse(p(), text, Format::Jsonl).unwrap();
        assert_eq!(parsed.documents.len(), 2);
        assert_eq!(parsed.documents[0].text, "Body one.");
        assert_eq!(parsed.documents[1].index, 2);
        assert_eq!(parsed.empty_documents, 1);
        let err = parse(p(), "{\"text\": 1}\n", Format::Jsonl).unwrap_err();
        assert!(err.to_string().starts_with("corpus/wiki_00:1: "), "{err}");
        let err = parse(p(), "{\"text\": \"a\"}\n[1]\n", Format::Jsonl).unwrap_err();
        assert!(err.to_string().starts_with("corpus/wiki_00:2: "), "{err}");
    }

    #[test]
    fn text_splits_on_blank_lines() {
        let parsed = parse(p(), "a.\nb.\n\n  \nc.\n\n", Format::Text).unwrap();
        let texts: Vec<&str> = parsed.documents.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(texts, ["a.\nb.", "c."]);
        assert_eq!(parsed.documents[1].index, 1);
    }

    #[test]
    fn detects_formats() {
        assert_eq!(detect(Path::new("x"), "\n<doc id=\"1\">\n"), Format::Wiki);
        assert_eq!(detect(Path::new("x"), "{\"text\": \"a\"}"), Format::Jsonl);
        assert_eq!(detect(Path::new("x.jsonl.gz"), "anything"), Format::Jsonl);
        assert_eq!(detect(Path::new("x.txt"), "Plain text."), Format::Text);
        assert_eq!(detect(Path::new("x"), "<document>"), Format::Text);
        // Content wins over the name; a brace alone does not make JSON.
        assert_eq!(
            detect(Path::new("x.jsonl"), "<doc id=\"1\" url=\"\" title=\"A\">"),
            Format::Wiki
        );
        assert_eq!(
            detect(Path::new("x.txt"), "{\"text\": \"a\"}"),
            Format::Jsonl
        );
        assert_eq!(detect(Path::new("x.txt"), "{curly} prose."), Format::Text);
        assert_eq!(detect(Path::new("x.ndjson.xz"), "{broken"), Format::Jsonl);
    }
}
