//! MediaWiki XML export dumps as an input kind: the glue between the streaming unit reader and
//! [`super::mediawiki`] (XML pages, wikitext cleaning).
//!
//! A dump is recognised by its `<mediawiki` root (after an optional `<?xml ...?>` declaration),
//! whatever the file's name, or chosen with `--format mediawiki`. When the reader opens one it
//! reads the header up to `</siteinfo>` ([`read_header`]): the namespaces' local names and the
//! language decide which links are dropped and which `#REDIRECT` words count. Units are cut
//! after `</page>` lines ([`line_kind`]), so each holds whole pages; a page is a document slot
//! (indices count every page). [`parse`] turns a unit's pages into documents: pages of the
//! chosen namespaces (articles, namespace 0, by default) that are not redirects, cleaned to
//! text, one paragraph, heading or list item per line; pages that clean to nothing are
//! skipped. Every page is counted ([`PageCounts`]). A dump that ends inside a `<page>` is
//! truncated: [`unclosed_page`] finds where, so the reader keeps the pages before it.

use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::mediawiki::{clean, MwError, Page, PageReader, SiteInfo};
use super::{Document, ParsedFile};
use crate::error::{Error, Result};

/// Largest header read before `</siteinfo>` must have appeared.
const MAX_HEADER_BYTES: usize = 16 << 20;

/// Namespaces whose pages become documents unless `--namespaces` says otherwise: articles.
pub const DEFAULT_NAMESPACES: [i32; 1] = [0];

/// What happened to a dump's pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCounts {
    /// `<page>` elements read.
    pub pages: u64,
    /// Pages of the chosen namespaces that are not redirects.
    pub articles: u64,
    /// Redirect pages of the chosen namespaces (skipped).
    pub redirects: u64,
    /// Pages of other namespaces (skipped).
    pub other_namespaces: u64,
    /// Articles that cleaned to no text (skipped).
    pub empty: u64,
}

impl PageCounts {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &PageCounts) {
        self.pages += other.pages;
        self.articles += other.articles;
        self.redirects += other.redirects;
        self.other_namespaces += other.other_namespaces;
        self.empty += other.empty;
    }

    /// Whether nothing was counted (no dump among the inputs).
    pub fn is_zero(&self) -> bool {
        *self == PageCounts::default()
    }
}

/// Whether a (trimmed) first line opens a MediaWiki export.
pub fn is_dump_start(line: &str) -> bool {
    line.strip_prefix("<mediawiki")
        .is_some_and(|rest| rest.starts_with([' ', '>', '\t', '\n', '\r']) || rest.is_empty())
}

/// Whether a (trimmed) line is an XML declaration, which may precede a dump's root.
pub fn is_xml_declaration(line: &str) -> bool {
    line.starts_with("<?xml")
}

/// `(starts a document, a unit may end after it)` for a line of a dump, trimmed.
pub fn line_kind(trimmed: &[u8]) -> (bool, bool) {
    (
        trimmed.starts_with(b"<page>"),
        trimmed.starts_with(b"</page>"),
    )
}

/// Reads the header of the dump `path` into `pending` (which may hold its first lines
/// already), up to and including the line with `</siteinfo>`, and parses it. The bytes stay in
/// `pending`: they begin the first unit, whose page reader skips them.
pub fn read_header(
    reader: &mut dyn BufRead,
    pending: &mut Vec<u8>,
    path: &Path,
    mut read_line: impl FnMut(&mut dyn BufRead, &mut Vec<u8>, usize) -> Result<usize>,
) -> Result<SiteInfo> {
    let mut line = pending.iter().filter(|&&b| b == b'\n').count() + 1;
    loop {
        if let Some(end) = memchr::memmem::find(pending, b"</siteinfo>") {
            let header = String::from_utf8_lossy(&pending[..end + "</siteinfo>".len()]);
            let header = header.trim_start_matches('\u{feff}');
            return SiteInfo::parse(header).map_err(|e| mw_error(path, e, 0, 1, header));
        }
        let page_started = memchr::memmem::find(pending, b"<page>").is_some();
        let start = pending.len();
        let n = read_line(reader, pending, line)?;
        if n == 0 || page_started || pending.len() > MAX_HEADER_BYTES {
            let header = String::from_utf8_lossy(&pending[..start]);
            let header = header.trim_start_matches('\u{feff}');
            let e = SiteInfo::parse(header).err().unwrap_or(MwError::NotADump {
                reason: "no </siteinfo> before the first page".into(),
            });
            return Err(mw_error(path, e, 0, 1, header));
        }
        line += 1;
    }
}

/// Where a dump cut short ends inside a page: the byte offset in `bytes` of the `<page>` that
/// never closes and the end of the last complete page before it (0 when there is none).
pub fn unclosed_page(bytes: &[u8]) -> Option<(usize, usize)> {
    let open = memchr::memmem::rfind(bytes, b"<page>")?;
    let close = memchr::memmem::rfind(bytes, b"</page>");
    if close.is_some_and(|c| c > open) {
        return None;
    }
    let complete = close.map_or(0, |c| {
        memchr::memchr(b'\n', &bytes[c..]).map_or(bytes.len(), |nl| c + nl + 1)
    });
    Some((open, complete.min(open)))
}

/// A unit of a dump, where it sits in its file, and how to read its pages.
#[derive(Debug, Clone, Copy)]
pub struct DumpPiece<'a> {
    /// Index in the file of the unit's first page.
    pub first_doc: u32,
    /// 1-based line in the file of the unit's first line.
    pub first_line: usize,
    /// Offset in the decompressed file of the unit's first byte.
    pub byte_offset: u64,
    /// The dump's header facts.
    pub site: &'a SiteInfo,
    /// Namespaces whose pages become documents.
    pub namespaces: &'a [i32],
}

/// The documents of the pages in `text` (whole `<page>` elements, perhaps the header before
/// them and `</mediawiki>` after), counting every page into `parsed.pages`.
pub fn parse(
    path: &Path,
    text: &str,
    piece: &DumpPiece<'_>,
    parsed: &mut ParsedFile,
) -> Result<()> {
    let ParsedFile {
        pages, documents, ..
    } = parsed;
    for_each_article(path, text, piece, pages, |index, _, cleaned| {
        documents.push(Document {
            index,
            text: cleaned,
        });
        Ok(())
    })
}

/// Calls `f(index, page, text)` for every page in `text` that becomes a document — of the
/// chosen namespaces, not a redirect, not empty once cleaned — with its index in the file and
/// its cleaned text; counts every page into `counts`.
pub fn for_each_article(
    path: &Path,
    text: &str,
    piece: &DumpPiece<'_>,
    counts: &mut PageCounts,
    mut f: impl FnMut(u32, &Page, String) -> Result<()>,
) -> Result<()> {
    let mut cleaned = String::new();
    for (i, page) in PageReader::new(text).with_site(piece.site).enumerate() {
        let page =
            page.map_err(|e| mw_error(path, e, piece.byte_offset, piece.first_line, text))?;
        counts.pages += 1;
        if !piece.namespaces.contains(&page.ns) {
            counts.other_namespaces += 1;
            continue;
        }
        if page.redirect {
            counts.redirects += 1;
            continue;
        }
        counts.articles += 1;
        cleaned.clear();
        clean(&page.text, piece.site, &mut cleaned);
        if cleaned.trim().is_empty() {
            counts.empty += 1;
            continue;
        }
        let index = u32::try_from(i)
            .ok()
            .and_then(|i| piece.first_doc.checked_add(i))
            .ok_or_else(|| {
                Error::format(path, piece.first_line, "more than 2^32 pages in one file")
            })?;
        f(index, &page, std::mem::take(&mut cleaned))?;
    }
    Ok(())
}

/// A dump reading error as ours: the file, the line, and the offset in the decompressed file
/// (the reader's offsets are into `text`, which starts at `base` on line `first_line`).
fn mw_error(path: &Path, e: MwError, base: u64, first_line: usize, text: &str) -> Error {
    let at = e.offset().map(|o| (o as usize).min(text.len()));
    let line = at.map_or(first_line, |o| {
        first_line + text.as_bytes()[..o].iter().filter(|&&b| b == b'\n').count()
    });
    let message = match at {
        Some(o) => format!(
            "{} (byte offset {} in the decompressed dump)",
            e.reason(),
            base + o as u64
        ),
        None => e.reason(),
    };
    Error::format(path, line, message)
}
