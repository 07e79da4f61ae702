//! The page reader: a piece of a dump holding whole `<page>` elements (as cut at `<page>` line
//! boundaries, possibly ending with `</mediawiki>`, or a whole dump) read with quick-xml into
//! [`Page`]s.
//!
//! Only direct children of `<page>` give `title`, `ns`, `id` and `redirect`; `text` comes from
//! the `<text>` of the last `<revision>`. XML entities are decoded once, so `&amp;nbsp;` in the
//! XML becomes `&nbsp;` in [`Page::text`] (the cleaner decodes that second level).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::redirect::is_redirect_any_language;
use super::site::push_xml_ref;
use super::{MwError, Page, SiteInfo};

/// Parses every `<page>` in `xml`. Errors carry the byte offset within `xml`.
pub fn parse_pages(xml: &str) -> Result<Vec<Page>, MwError> {
    PageReader::new(xml).collect()
}

/// Splits a dump at the end of `</siteinfo>`: `(header, rest)`, for [`SiteInfo::parse`] and
/// [`parse_pages`]. `None` when there is no `</siteinfo>`.
pub fn split_header(xml: &str) -> Option<(&str, &str)> {
    let end = memchr::memmem::find(xml.as_bytes(), b"</siteinfo>")? + "</siteinfo>".len();
    Some((&xml[..end], &xml[end..]))
}

/// An iterator of the pages in a piece of a dump.
///
/// Redirects are flagged from the `<redirect>` element and from the text's magic word: the
/// localised words of [`SiteInfo::lang`] when built [`with_site`](Self::with_site), else the
/// words of every language known to [`super::redirect`].
pub struct PageReader<'a> {
    reader: Reader<&'a [u8]>,
    site: Option<&'a SiteInfo>,
    done: bool,
}

/// Which element's text is being collected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Title,
    Ns,
    Id,
    Text,
}

impl<'a> PageReader<'a> {
    /// A reader over `xml`.
    pub fn new(xml: &'a str) -> PageReader<'a> {
        let mut reader = Reader::from_str(xml);
        let config = reader.config_mut();
        config.allow_unmatched_ends = true;
        PageReader {
            reader,
            site: None,
            done: false,
        }
    }

    /// Uses the localised redirect magic words of `site`.
    #[must_use]
    pub fn with_site(mut self, site: &'a SiteInfo) -> PageReader<'a> {
        self.site = Some(site);
        self
    }

    fn next_event(&mut self) -> Result<Event<'a>, MwError> {
        self.reader.read_event().map_err(|source| MwError::Xml {
            offset: self.reader.error_position(),
            source,
        })
    }

    /// Finds the next `<page>` start, skipping `<mediawiki>`, `<siteinfo>` and whitespace.
    fn seek_page(&mut self) -> Result<Option<u64>, MwError> {
        loop {
            let before = self.reader.buffer_position();
            match self.next_event()? {
                Event::Start(e) if e.name().as_ref() == "page" => return Ok(Some(before)),
                Event::Start(e) if e.name().as_ref() == "siteinfo" => {
                    self.reader
                        .read_to_end(e.name())
                        .map_err(|source| MwError::Xml {
                            offset: self.reader.error_position(),
                            source,
                        })?;
                }
                Event::Eof => return Ok(None),
                _ => {}
            }
        }
    }

    /// Reads one page after its `<page>` tag at `offset`.
    fn read_page(&mut self, offset: u64) -> Result<Page, MwError> {
        let mut page = Page::default();
        let (mut ns, mut id) = (None::<String>, None::<String>);
        let mut title = None::<String>;
        let mut depth = 0usize;
        let mut slot = None::<(Slot, u64)>;
        let mut buf = String::new();
        loop {
            let before = self.reader.buffer_position();
            match self.next_event()? {
                Event::Start(e) => {
                    depth += 1;
                    buf.clear();
                    slot = slot_of(&e, depth).map(|s| (s, before));
                    if depth == 1 && e.name().as_ref() == "redirect" {
                        page.redirect = true;
                    }
                }
                Event::Empty(e) => {
                    if depth == 0 && e.name().as_ref() == "redirect" {
                        page.redirect = true;
                    }
                    if e.name().as_ref() == "text" {
                        page.text.clear();
                    }
                }
                Event::Text(t) if slot.is_some() => buf.push_str(&t.xml10_content()),
                Event::CData(t) if slot.is_some() => buf.push_str(&t.xml10_content()),
                Event::GeneralRef(r) if slot.is_some() => push_xml_ref(&r, &mut buf),
                Event::End(e) => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    match slot.take() {
                        Some((Slot::Title, _)) => title = Some(std::mem::take(&mut buf)),
                        Some((Slot::Ns, _)) => ns = Some(std::mem::take(&mut buf)),
                        Some((Slot::Id, _)) => id = Some(std::mem::take(&mut buf)),
                        Some((Slot::Text, _)) => page.text = std::mem::take(&mut buf),
                        None => {}
                    }
                    let _ = e;
                }
                Event::Eof => {
                    let (element, at) = match slot {
                        Some((Slot::Text, at)) => ("text", at),
                        _ => ("page", offset),
                    };
                    return Err(MwError::Unclosed {
                        element,
                        offset: at,
                    });
                }
                _ => {}
            }
        }
        page.title = title.ok_or(MwError::MissingField {
            field: "title",
            offset,
        })?;
        page.ns = match ns {
            Some(v) => parse_number(&v, "ns", offset)?,
            None => 0,
        };
        let id = id.ok_or(MwError::MissingField {
            field: "id",
            offset,
        })?;
        page.id = parse_number(&id, "id", offset)?;
        if !page.redirect {
            page.redirect = match self.site {
                Some(site) => super::is_redirect_text(&page.text, site),
                None => is_redirect_any_language(&page.text),
            };
        }
        Ok(page)
    }
}

impl Iterator for PageReader<'_> {
    type Item = Result<Page, MwError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let result = match self.seek_page() {
            Ok(Some(offset)) => self.read_page(offset),
            Ok(None) => {
                self.done = true;
                return None;
            }
            Err(e) => Err(e),
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

/// The slot an element at `depth` below `<page>` fills: title/ns/id directly under `<page>`,
/// text under `<revision>`.
fn slot_of(e: &BytesStart<'_>, depth: usize) -> Option<Slot> {
    match (depth, e.name().as_ref()) {
        (1, "title") => Some(Slot::Title),
        (1, "ns") => Some(Slot::Ns),
        (1, "id") => Some(Slot::Id),
        (2, "text") => Some(Slot::Text),
        _ => None,
    }
}

fn parse_number<T: std::str::FromStr>(
    value: &str,
    field: &'static str,
    offset: u64,
) -> Result<T, MwError> {
    value.trim().parse().map_err(|_| MwError::BadNumber {
        field,
        value: value.to_owned(),
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGES: &str = "  <page>
    <title>Anarchism</title>
    <ns>0</ns>
    <id>12</id>
    <revision>
      <id>766348469</id>
      <contributor><username>X</username><id>9</id></contributor>
      <text xml:space=\"preserve\">'''Anarchism''' &amp;nbsp;is &lt;ref&gt;x&lt;/ref&gt; a [[philosophy]]</text>
    </revision>
  </page>
  <page>
    <title>AccessibleComputing</title>
    <ns>0</ns>
    <id>10</id>
    <redirect title=\"Computer accessibility\" />
    <revision>
      <id>1</id>
      <text xml:space=\"preserve\">#REDIRECT [[Computer accessibility]]</text>
    </revision>
  </page>
  <page>
    <title>Talk:X</title>
    <ns>1</ns>
    <id>13</id>
    <revision><text xml:space=\"preserve\">#redirect: [[X]]</text></revision>
  </page>
</mediawiki>
";

    #[test]
    fn reads_pages_and_fields() {
        let pages = parse_pages(PAGES).unwrap();
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[0].title, "Anarchism");
        assert_eq!(pages[0].id, 12);
        assert_eq!(pages[0].ns, 0);
        assert!(!pages[0].redirect);
        assert_eq!(
            pages[0].text,
            "'''Anarchism''' &nbsp;is <ref>x</ref> a [[philosophy]]"
        );
        assert!(pages[1].redirect);
        assert_eq!(pages[1].id, 10);
        assert!(pages[2].redirect, "magic word without <redirect>");
        assert_eq!(pages[2].ns, 1);
    }

    #[test]
    fn reads_whole_dump_and_empty_input() {
        let whole = format!("<mediawiki><siteinfo><dbname>x</dbname></siteinfo>\n{PAGES}");
        assert_eq!(parse_pages(&whole).unwrap().len(), 3);
        assert!(parse_pages("").unwrap().is_empty());
        assert!(parse_pages("</mediawiki>\n").unwrap().is_empty());
        let (header, rest) = split_header(&whole).unwrap();
        assert!(header.ends_with("</siteinfo>"));
        assert_eq!(parse_pages(rest).unwrap().len(), 3);
    }

    #[test]
    fn unclosed_text_reports_its_offset() {
        let cut = PAGES.find("a [[philosophy]]").unwrap();
        let err = parse_pages(&PAGES[..cut]).unwrap_err();
        let text_at = PAGES.find("<text").unwrap() as u64;
        match err {
            MwError::Unclosed { element, offset } => {
                assert_eq!(element, "text");
                assert_eq!(offset, text_at);
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn unclosed_page_reports_its_offset() {
        let second = PAGES[10..].find("<page>").unwrap() + 10;
        let cut = PAGES[second..].find("<revision>").unwrap() + second;
        let err = parse_pages(&PAGES[..cut]).unwrap_err();
        match err {
            MwError::Unclosed { element, offset } => {
                assert_eq!(element, "page");
                assert_eq!(offset, second as u64);
            }
            other => panic!("unexpected {other}"),
        }
        assert!(err_message(&PAGES[..cut]).contains(&format!("byte {second}")));
    }

    #[test]
    fn malformed_xml_reports_offset() {
        let bad = "<page><title>A</title><ns>0</ns><id>1</id><revision><text>x</revision></page>";
        let err = parse_pages(bad).unwrap_err();
        assert!(matches!(err, MwError::Xml { .. }), "{err}");
        assert!(err.to_string().contains("at byte"), "{err}");
        let cut = "<page><title>A</tit";
        assert!(parse_pages(cut).is_err());
    }

    #[test]
    fn missing_and_bad_fields() {
        let no_id = "<page><title>A</title></page>";
        assert!(matches!(
            parse_pages(no_id).unwrap_err(),
            MwError::MissingField { field: "id", .. }
        ));
        let bad_id = "<page><title>A</title><id>x1</id></page>";
        assert!(matches!(
            parse_pages(bad_id).unwrap_err(),
            MwError::BadNumber { field: "id", .. }
        ));
    }

    fn err_message(xml: &str) -> String {
        parse_pages(xml).unwrap_err().to_string()
    }
}
