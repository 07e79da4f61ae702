//! `bertprep extract`: MediaWiki dumps in, WikiExtractor-compatible files out, so that any
//! other tool can use our extraction.
//!
//! The dumps are read as `build` reads them (streaming, in work units cut at `</page>`,
//! multi-stream bzip2 decompressed in parallel) and each article becomes
//!
//! ```text
//! <doc id="12" url="https://en.wikipedia.org/wiki?curid=12" title="Anarchism">
//! Anarchism
//!
//! first paragraph
//! ...
//! </doc>
//! ```
//!
//! in `OUT/AA/wiki_00`, `OUT/AA/wiki_01`, ... (a new file past `max_file_bytes`, 100 files per
//! folder, folders `AA`, `AB`, ... as WikiExtractor names them), or with `json` one object per
//! line with `id`, `url`, `title` and `text` (the paragraphs, without the title). Attributes
//! and text are HTML-escaped as WikiExtractor does (the `<doc>` reader unescapes them). Each file is written whole under a
//! temporary name and renamed (not synced: the output is derived, and made again cheaply);
//! the output directory must be empty or new.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::input::dump::{self, DumpPiece, PageCounts};
use crate::input::mediawiki::{Page, SiteInfo};
use crate::input::units::UNIT_TARGET_BYTES;
use crate::input::{self, decode, Format, UnitReader};
use crate::output::atomic::write_replacing;

/// Files per folder, as WikiExtractor writes them.
const FILES_PER_FOLDER: usize = 100;

/// What to extract and how to write it.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Dump files (or directories of dumps).
    pub inputs: Vec<PathBuf>,
    /// Output directory (created; must be empty when it exists).
    pub out: PathBuf,
    /// JSON lines instead of `<doc>` blocks.
    pub json: bool,
    /// Namespaces whose pages are extracted.
    pub namespaces: Vec<i32>,
    /// A new output file starts once one holds this many bytes.
    pub max_file_bytes: usize,
    /// Threads decompressing a multi-stream bzip2 dump.
    pub threads: usize,
}

/// What an extraction wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractSummary {
    /// Articles written.
    pub documents: u64,
    /// Files written.
    pub files: u64,
    /// What became of the dumps' pages.
    pub pages: PageCounts,
}

/// Extracts the articles of every dump in `opts.inputs` into `opts.out`.
pub fn extract(opts: &ExtractOptions) -> Result<ExtractSummary> {
    prepare_out(&opts.out)?;
    let files = input::discover(&opts.inputs)?;
    let mut reader = UnitReader::with_target(files, Format::Mediawiki, UNIT_TARGET_BYTES)
        .with_decode_threads(opts.threads);
    let mut writer = FileWriter::new(opts);
    let mut summary = ExtractSummary::default();
    while let Some(unit) = reader.next_unit()? {
        let text = decode::to_text_at(&unit.path, unit.bytes, unit.byte_offset)?;
        let default_site;
        let site = match unit.site.as_deref() {
            Some(site) => site,
            None => {
                default_site = SiteInfo::default_english();
                &default_site
            }
        };
        let piece = DumpPiece {
            first_doc: unit.first_doc,
            first_line: unit.first_line,
            byte_offset: unit.byte_offset,
            site,
            namespaces: &opts.namespaces,
        };
        dump::for_each_article(
            &unit.path,
            &text,
            &piece,
            &mut summary.pages,
            |_, page, body| {
                summary.documents += 1;
                record(&mut writer.buffer, page, site, &body, opts.json);
                writer.flush_if_full()
            },
        )?;
    }
    summary.files = writer.finish()?;
    Ok(summary)
}

/// Creates `out`, refusing one that holds anything: extraction never mixes with, or replaces,
/// files it did not write.
fn prepare_out(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    if entries.next().is_some() {
        return Err(Error::output(
            out,
            "is not empty; extract into a new or empty directory",
        ));
    }
    Ok(())
}

/// Appends one article as written to `out`: a `<doc>` block, or a JSON line.
fn record(out: &mut String, page: &Page, site: &SiteInfo, body: &str, json: bool) {
    let url = site.page_url(page.id);
    let body = body.trim_end();
    if json {
        #[derive(Serialize)]
        struct Line<'a> {
            id: String,
            url: &'a str,
            title: &'a str,
            text: &'a str,
        }
        let line = Line {
            id: page.id.to_string(),
            url: &url,
            title: &page.title,
            text: body,
        };
        // Serialising strings and a string id cannot fail.
        out.push_str(&serde_json::to_string(&line).unwrap_or_default());
        out.push('\n');
        return;
    }
    out.push_str("<doc id=\"");
    out.push_str(&page.id.to_string());
    out.push_str("\" url=\"");
    escape_into(out, &url, true);
    out.push_str("\" title=\"");
    escape_into(out, &page.title, true);
    out.push_str("\">\n");
    out.push_str(&page.title);
    out.push_str("\n\n");
    escape_into(out, body, false);
    out.push_str("\n</doc>\n");
}

/// Appends `s` with `&`, `<` and `>` escaped (and `"` too in an attribute), as WikiExtractor
/// escapes; the `<doc>` reader unescapes them.
fn escape_into(out: &mut String, s: &str, attribute: bool) {
    let mut rest = s;
    loop {
        let special = if attribute {
            rest.find(['&', '<', '>', '"'])
        } else {
            memchr::memchr3(b'&', b'<', b'>', rest.as_bytes())
        };
        let Some(i) = special else {
            out.push_str(rest);
            return;
        };
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            _ => "&quot;",
        });
        rest = &rest[i + 1..];
    }
}

/// Fills `OUT/AA/wiki_00`, `wiki_01`, ... in turn.
struct FileWriter {
    out: PathBuf,
    max_bytes: usize,
    buffer: String,
    written: usize,
}

impl FileWriter {
    fn new(opts: &ExtractOptions) -> Self {
        FileWriter {
            out: opts.out.clone(),
            max_bytes: opts.max_file_bytes.max(1),
            buffer: String::new(),
            written: 0,
        }
    }

    /// Writes the records held once they fill a file.
    fn flush_if_full(&mut self) -> Result<()> {
        if self.buffer.len() >= self.max_bytes {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the records held as the next file.
    fn flush(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let (folder, file) = (
            self.written / FILES_PER_FOLDER,
            self.written % FILES_PER_FOLDER,
        );
        let dir = self.out.join(folder_name(folder));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        // Whole or absent, but not synced: a derived output, cheap to make again, and a sync
        // per file would cost more than the extraction.
        write_replacing(
            &dir.join(format!("wiki_{file:02}")),
            self.buffer.as_bytes(),
            false,
        )?;
        self.buffer.clear();
        self.written += 1;
        Ok(())
    }

    /// Writes what is left; returns the number of files written.
    fn finish(mut self) -> Result<u64> {
        self.flush()?;
        Ok(self.written as u64)
    }
}

/// `AA`, `AB`, ..., `AZ`, `BA`, ... (past `ZZ`, more letters).
fn folder_name(mut n: usize) -> String {
    let mut name = Vec::new();
    for _ in 0..2 {
        name.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    while n > 0 {
        name.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_named_as_wikiextractor_names_them() {
        assert_eq!(folder_name(0), "AA");
        assert_eq!(folder_name(1), "AB");
        assert_eq!(folder_name(26), "BA");
        assert_eq!(folder_name(675), "ZZ");
        assert_eq!(folder_name(676), "BAA");
    }

    #[test]
    fn attributes_and_text_are_escaped() {
        let escaped = |s: &str, attribute: bool| {
            let mut out = String::new();
            escape_into(&mut out, s, attribute);
            out
        };
        assert_eq!(
            escaped(r#"A & "B" <c>"#, true),
            "A &amp; &quot;B&quot; &lt;c&gt;"
        );
        assert_eq!(escaped(r#"A & "B" <c>"#, false), r#"A &amp; "B" &lt;c&gt;"#);
        assert_eq!(escaped("plain", false), "plain");
    }
}
