//! The dump header: `<siteinfo>` read into a [`SiteInfo`] (database name, language, namespaces),
//! and the namespace-name matching that the cleaner uses to drop file and category links.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::MwError;

/// Namespace key of media links (`[[Media:x.ogg]]`).
pub const NS_MEDIA: i32 = -2;
/// Namespace key of files (`[[File:x.jpg|thumb|caption]]`).
pub const NS_FILE: i32 = 6;
/// Namespace key of templates (`{{Template:x}}`).
pub const NS_TEMPLATE: i32 = 10;
/// Namespace key of categories (`[[Category:X]]`).
pub const NS_CATEGORY: i32 = 14;

/// Namespaces and localised names read from `<siteinfo>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    /// The site name (`Wikipedia`).
    pub sitename: String,
    /// The database name (`enwiki`).
    pub dbname: String,
    /// The main page URL, from which article URLs are made.
    pub base: String,
    /// The language code: `xml:lang` of `<mediawiki>`, else the `dbname` prefix.
    pub lang: String,
    /// `(key, localised name)` for every namespace; key 0 has the empty name.
    pub namespaces: Vec<(i32, String)>,
}

impl SiteInfo {
    /// Parses the dump header: everything from `<mediawiki ...>` up to and including `</siteinfo>`.
    ///
    /// Errors with [`MwError::NotADump`] when the root element is not `<mediawiki>` or there is
    /// no `<siteinfo>`, and with [`MwError::Xml`] on malformed XML.
    pub fn parse(header_xml: &str) -> Result<SiteInfo, MwError> {
        let mut reader = Reader::from_str(header_xml);
        reader.config_mut().check_end_names = false;
        let mut site = SiteInfo::empty();
        let mut xml_lang = None;
        let mut seen_root = false;
        let mut seen_siteinfo = false;
        let mut field: Option<Field> = None;
        let mut ns_key: i32 = 0;
        let mut text = String::new();
        loop {
            let event = reader.read_event().map_err(|source| MwError::Xml {
                offset: reader.error_position(),
                source,
            })?;
            match event {
                Event::Start(e) | Event::Empty(e) if !seen_root => {
                    let name = e.name().as_ref().to_owned();
                    if name != "mediawiki" {
                        return Err(MwError::NotADump {
                            reason: format!("root element is <{name}>, expected <mediawiki>"),
                        });
                    }
                    seen_root = true;
                    for attr in e.attributes().flatten() {
                        if attr.key.as_ref() == "xml:lang" {
                            xml_lang = Some(attr.value.to_string());
                        }
                    }
                }
                Event::Start(e) => {
                    text.clear();
                    field = Field::of(e.name().as_ref());
                    if e.name().as_ref() == "siteinfo" {
                        seen_siteinfo = true;
                    }
                    if field == Some(Field::Namespace) {
                        ns_key = namespace_key(&e);
                    }
                }
                Event::Empty(e) if e.name().as_ref() == "namespace" => {
                    site.namespaces.push((namespace_key(&e), String::new()));
                }
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => push_xml_ref(&r, &mut text),
                Event::End(e) => {
                    if let Some(f) = field.take() {
                        site.set(f, ns_key, std::mem::take(&mut text));
                    }
                    if e.name().as_ref() == "siteinfo" {
                        break;
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !seen_root {
            return Err(MwError::NotADump {
                reason: "no <mediawiki> root element".to_owned(),
            });
        }
        if !seen_siteinfo {
            return Err(MwError::NotADump {
                reason: "no <siteinfo> in the header".to_owned(),
            });
        }
        site.lang = xml_lang
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| lang_of_dbname(&site.dbname));
        Ok(site)
    }

    /// English Wikipedia's settings, for wikitext that comes without a header.
    pub fn default_english() -> SiteInfo {
        let names: [(i32, &str); 18] = [
            (-2, "Media"),
            (-1, "Special"),
            (0, ""),
            (1, "Talk"),
            (2, "User"),
            (3, "User talk"),
            (4, "Wikipedia"),
            (5, "Wikipedia talk"),
            (6, "File"),
            (7, "File talk"),
            (8, "MediaWiki"),
            (9, "MediaWiki talk"),
            (10, "Template"),
            (11, "Template talk"),
            (12, "Help"),
            (13, "Help talk"),
            (14, "Category"),
            (15, "Category talk"),
        ];
        SiteInfo {
            sitename: "Wikipedia".to_owned(),
            dbname: "enwiki".to_owned(),
            base: "https://en.wikipedia.org/wiki/Main_Page".to_owned(),
            lang: "en".to_owned(),
            namespaces: names.iter().map(|&(k, n)| (k, n.to_owned())).collect(),
        }
    }

    /// The URL of the page with id `id`, in WikiExtractor's `?curid=` form.
    pub fn page_url(&self, id: u64) -> String {
        let root = self.base.rfind("/wiki/").map_or("", |i| &self.base[..i]);
        format!("{root}/wiki?curid={id}")
    }

    /// True when `prefix` (the text before `:` in a link target) names namespace `key`, by its
    /// localised name or its canonical English name. Case and `_`/space are ignored.
    pub fn is_namespace(&self, prefix: &str, key: i32) -> bool {
        let canonical: &[&str] = match key {
            NS_MEDIA => &["media"],
            NS_FILE => &["file", "image"],
            NS_TEMPLATE => &["template"],
            NS_CATEGORY => &["category"],
            _ => &[],
        };
        canonical.iter().any(|c| names_equal(prefix, c))
            || self
                .namespaces
                .iter()
                .any(|(k, name)| *k == key && !name.is_empty() && names_equal(prefix, name))
    }

    fn empty() -> SiteInfo {
        SiteInfo {
            sitename: String::new(),
            dbname: String::new(),
            base: String::new(),
            lang: String::new(),
            namespaces: Vec::new(),
        }
    }

    fn set(&mut self, field: Field, ns_key: i32, value: String) {
        match field {
            Field::Sitename => self.sitename = value,
            Field::Dbname => self.dbname = value,
            Field::Base => self.base = value,
            Field::Namespace => self.namespaces.push((ns_key, value)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Sitename,
    Dbname,
    Base,
    Namespace,
}

impl Field {
    fn of(name: &str) -> Option<Field> {
        match name {
            "sitename" => Some(Field::Sitename),
            "dbname" => Some(Field::Dbname),
            "base" => Some(Field::Base),
            "namespace" => Some(Field::Namespace),
            _ => None,
        }
    }
}

fn namespace_key(e: &quick_xml::events::BytesStart<'_>) -> i32 {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == "key")
        .and_then(|a| a.value.trim().parse().ok())
        .unwrap_or(0)
}

/// Appends the text of an XML entity or character reference (`&amp;`, `&#38;`).
pub(super) fn push_xml_ref(r: &quick_xml::events::BytesRef<'_>, out: &mut String) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        out.push(c);
    } else if let Some(s) = quick_xml::escape::resolve_predefined_entity(r) {
        out.push_str(s);
    } else {
        out.push('&');
        out.push_str(r);
        out.push(';');
    }
}

/// `enwiki` → `en`, `zh_yuewiki` → `zh-yue`.
fn lang_of_dbname(dbname: &str) -> String {
    let stem = dbname.strip_suffix("wiki").unwrap_or(dbname);
    stem.replace('_', "-")
}

/// Compares namespace names ignoring case, `_` versus space, and surrounding spaces.
pub(super) fn names_equal(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.trim()
            .chars()
            .map(|c| if c == '_' { ' ' } else { c })
            .flat_map(char::to_lowercase)
            .collect::<Vec<char>>()
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_ascii() && b.is_ascii() {
        return a.len() == b.len()
            && a.bytes().zip(b.bytes()).all(|(x, y)| {
                let n = |c: u8| {
                    if c == b'_' {
                        b' '
                    } else {
                        c.to_ascii_lowercase()
                    }
                };
                n(x) == n(y)
            });
    }
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.10/" version="0.10" xml:lang="vi">
  <siteinfo>
    <sitename>Wikipedia</sitename>
    <dbname>viwiki</dbname>
    <base>https://vi.wikipedia.org/wiki/Trang_Ch%C3%ADnh</base>
    <namespaces>
      <namespace key="-2" case="first-letter">Phương tiện</namespace>
      <namespace key="0" case="first-letter" />
      <namespace key="6" case="first-letter">Tập tin</namespace>
      <namespace key="14" case="first-letter">Thể loại</namespace>
    </namespaces>
  </siteinfo>"#;

    #[test]
    fn parses_header() {
        let site = SiteInfo::parse(HEADER).unwrap();
        assert_eq!(site.dbname, "viwiki");
        assert_eq!(site.lang, "vi");
        assert_eq!(site.namespaces.len(), 4);
        assert_eq!(site.namespaces[1], (0, String::new()));
        assert_eq!(site.namespaces[2], (6, "Tập tin".to_owned()));
        assert_eq!(site.page_url(5), "https://vi.wikipedia.org/wiki?curid=5");
    }

    #[test]
    fn lang_falls_back_to_dbname() {
        let header = HEADER
            .replace(" xml:lang=\"vi\"", "")
            .replace("viwiki", "zh_yuewiki");
        assert_eq!(SiteInfo::parse(&header).unwrap().lang, "zh-yue");
    }

    #[test]
    fn namespace_names_match_localised_and_canonical() {
        let site = SiteInfo::parse(HEADER).unwrap();
        assert!(site.is_namespace("tập tin", NS_FILE));
        assert!(site.is_namespace("Tập_tin", NS_FILE));
        assert!(site.is_namespace("Image", NS_FILE));
        assert!(site.is_namespace("THỂ LOẠI", NS_CATEGORY));
        assert!(site.is_namespace("category", NS_CATEGORY));
        assert!(!site.is_namespace("Thể", NS_CATEGORY));
    }

    #[test]
    fn non_dump_is_rejected() {
        let err = SiteInfo::parse("<html><body>hi</body></html>").unwrap_err();
        assert!(matches!(err, MwError::NotADump { .. }), "{err}");
        assert!(err.to_string().contains("not a MediaWiki dump"));
        let err = SiteInfo::parse("just text").unwrap_err();
        assert!(matches!(err, MwError::NotADump { .. }), "{err}");
        let err = SiteInfo::parse("<mediawiki><page></page></mediawiki>").unwrap_err();
        assert!(err.to_string().contains("siteinfo"), "{err}");
    }

    #[test]
    fn default_english_has_file_and_category() {
        let site = SiteInfo::default_english();
        assert!(site.is_namespace("File", NS_FILE));
        assert!(site.is_namespace("Category", NS_CATEGORY));
        assert_eq!(site.lang, "en");
    }
}
