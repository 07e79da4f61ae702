//! MediaWiki XML export reading and wikitext cleaning, for language-model pre-training text.
//!
//! Pipeline, one stage per submodule:
//!
//! 1. [`site`]: the dump header (`<mediawiki>` … `</siteinfo>`) becomes a [`SiteInfo`]: database
//!    name, language, and the localised namespace names that decide which links are dropped.
//! 2. [`xml`]: a piece of a dump holding whole `<page>` elements becomes [`Page`]s (title,
//!    namespace, id, redirect flag, raw wikitext with XML entities decoded), read with quick-xml.
//! 3. [`redirect`]: `#REDIRECT` magic words, English and localised, keyed by [`SiteInfo::lang`].
//! 4. [`wikitext`]: [`clean`] turns wikitext into plain text, one paragraph, heading or list item
//!    per line. Templates are dropped except a fixed list of inline ones whose text is rendered
//!    (listed in the [`wikitext`] module doc). One indexing pass matches brackets, then one
//!    rendering pass writes the text, so time is linear in the input on any input.
//!
//! The output aims to be at least as clean as WikiExtractor (attardi/wikiextractor) on the same
//! pages while keeping the content it keeps; `scripts/compare_wikiextractor.py` measures both.
//!
//! Dependencies: `quick-xml` (with its `escape-html` feature, for the HTML entity table),
//! `memchr`, `thiserror`.

pub mod redirect;
pub mod site;
pub mod wikitext;
pub mod xml;

pub use self::redirect::is_redirect_text;
pub use self::site::SiteInfo;
pub use self::wikitext::clean;
pub use self::xml::{parse_pages, split_header, PageReader};

/// One `<page>` of a dump.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    /// The page title, namespace prefix included (`Category:Foo`).
    pub title: String,
    /// The namespace key (0 for articles).
    pub ns: i32,
    /// The page id (not the revision id).
    pub id: u64,
    /// True for a `<redirect>` element or a `#REDIRECT` magic word at the start of the text.
    pub redirect: bool,
    /// The raw wikitext of the last revision read, XML entities decoded.
    pub text: String,
}

/// Errors from reading a dump. Offsets are bytes into the `&str` that was parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MwError {
    /// The XML itself is malformed.
    #[error("malformed MediaWiki XML at byte {offset}: {source}")]
    Xml {
        /// Byte offset of the error.
        offset: u64,
        /// What quick-xml found.
        #[source]
        source: quick_xml::Error,
    },
    /// The input ended inside an element.
    #[error(
        "unclosed <{element}> element opened at byte {offset} (input ends before </{element}>)"
    )]
    Unclosed {
        /// `page` or `text`.
        element: &'static str,
        /// Byte offset of the opening tag.
        offset: u64,
    },
    /// A page lacks a required child element.
    #[error("<page> at byte {offset} has no <{field}> element")]
    MissingField {
        /// The missing element.
        field: &'static str,
        /// Byte offset of the `<page>` tag.
        offset: u64,
    },
    /// A numeric element does not hold a number.
    #[error("<{field}> of the <page> at byte {offset} is not a number: {value:?}")]
    BadNumber {
        /// The element (`ns` or `id`).
        field: &'static str,
        /// Its text.
        value: String,
        /// Byte offset of the `<page>` tag.
        offset: u64,
    },
    /// The header is not a MediaWiki export.
    #[error("not a MediaWiki dump: {reason}")]
    NotADump {
        /// What was found instead.
        reason: String,
    },
}

impl MwError {
    /// The byte offset the error is at, when it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            MwError::Xml { offset, .. }
            | MwError::Unclosed { offset, .. }
            | MwError::MissingField { offset, .. }
            | MwError::BadNumber { offset, .. } => Some(*offset),
            MwError::NotADump { .. } => None,
        }
    }

    /// What is wrong, without the offset (for a caller that states the offset in its own
    /// terms).
    pub fn reason(&self) -> String {
        match self {
            MwError::Xml { source, .. } => format!("malformed MediaWiki XML: {source}"),
            MwError::Unclosed { element, .. } => {
                format!("unclosed <{element}> element (the input ends before </{element}>)")
            }
            MwError::MissingField { field, .. } => format!("a <page> has no <{field}> element"),
            MwError::BadNumber { field, value, .. } => {
                format!("<{field}> of a <page> is not a number: {value:?}")
            }
            MwError::NotADump { reason } => format!("not a MediaWiki dump: {reason}"),
        }
    }
}
