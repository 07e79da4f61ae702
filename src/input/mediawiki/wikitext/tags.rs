//! HTML and extension tags, comments and character entities in the inline walk.
//!
//! Opaque spans from the index (comments, `<ref>`, `<math>` … and `<nowiki>`) are dropped or,
//! for `<nowiki>`, written as literal text. Known HTML tags are stripped keeping their content
//! (`<br>` and block tags become a space). A `<` that starts no known tag is literal.
//! Entities are decoded with the HTML5 table; the space-like ones (`&nbsp;`, `&thinsp;` …)
//! become a space and `&shy;` disappears.

use super::index::Kind;
use super::writer::Writer;
use super::Cleaner;

/// HTML tags (and stray extension closers) stripped with their content kept, inline ones.
const INLINE_TAGS: &[&str] = &[
    "abbr",
    "b",
    "bdi",
    "bdo",
    "big",
    "cite",
    "code",
    "data",
    "del",
    "dfn",
    "em",
    "font",
    "i",
    "ins",
    "kbd",
    "mark",
    "q",
    "rb",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "time",
    "tt",
    "u",
    "var",
    "wbr",
    "nowiki",
    "ref",
    "references",
    "math",
    "chem",
    "ce",
    "gallery",
    "timeline",
    "score",
    "syntaxhighlight",
    "source",
    "graph",
    "noinclude",
    "onlyinclude",
    "includeonly",
    "templatestyles",
    "imagemap",
    "hiero",
    "section",
    "indicator",
    "mapframe",
    "maplink",
    "categorytree",
    "inputbox",
];

/// HTML tags stripped leaving a space.
const BLOCK_TAGS: &[&str] = &[
    "blockquote",
    "br",
    "caption",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "poem",
    "pre",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "figure",
    "figcaption",
    "footer",
    "header",
    "section",
    "article",
    "aside",
];

impl Cleaner<'_> {
    /// `<` at `i`: a comment, an opaque tag, a known HTML tag, or a literal `<`.
    pub(super) fn tag(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        if let Some(s) = self.index.at(i) {
            if matches!(s.kind, Kind::Comment | Kind::Drop | Kind::Nowiki) && s.end <= end {
                if s.kind == Kind::Nowiki {
                    self.nowiki(s.start, s.end, w);
                } else if s.kind == Kind::Drop {
                    w.removed();
                }
                return s.end;
            }
        }
        let b = self.bytes;
        let name_start = if b.get(i + 1) == Some(&b'/') {
            i + 2
        } else {
            i + 1
        };
        let name_len = b[name_start..end]
            .iter()
            .take(16)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        let name = &b[name_start..name_start + name_len];
        let block = BLOCK_TAGS
            .iter()
            .any(|t| name.eq_ignore_ascii_case(t.as_bytes()));
        let known = block
            || INLINE_TAGS
                .iter()
                .any(|t| name.eq_ignore_ascii_case(t.as_bytes()));
        let after_name = b.get(name_start + name_len).copied();
        if !known || !matches!(after_name, Some(b'>' | b' ' | b'/' | b'\t' | b'\n')) {
            w.text("<");
            return i + 1;
        }
        match self.finder.gt(b, name_start + name_len) {
            Some(gt) if gt < end => {
                if block {
                    w.space();
                }
                gt + 1
            }
            _ => {
                w.text("<");
                i + 1
            }
        }
    }

    /// `<nowiki>text</nowiki>` spanning `[start, end)`: the text, entities decoded.
    fn nowiki(&mut self, start: usize, end: usize, w: &mut Writer) {
        let b = self.bytes;
        let Some(gt) = memchr::memchr(b'>', &b[start..end]).map(|p| start + p) else {
            return;
        };
        if b[gt - 1] == b'/' {
            return;
        }
        let inner_end = memchr::memrchr(b'<', &b[gt + 1..end]).map_or(end, |p| gt + 1 + p);
        let mut i = gt + 1;
        let mut run = i;
        while i < inner_end {
            if b[i] == b'&' {
                w.text(&self.src[run..i]);
                i = self.entity(i, inner_end, w);
                run = i;
            } else {
                i += 1;
            }
        }
        w.text(&self.src[run..inner_end]);
    }

    /// `&name;`, `&#123;`, `&#x1F;` at `i`; anything else is a literal `&`.
    pub(super) fn entity(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        let b = self.bytes;
        let body = b[i + 1..end]
            .iter()
            .take(33)
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'#')
            .count();
        let semi = i + 1 + body;
        if body == 0 || b.get(semi) != Some(&b';') || semi >= end {
            w.text("&");
            return i + 1;
        }
        let name = &self.src[i + 1..semi];
        match decode_entity(name) {
            Some(Decoded::Space) => w.space(),
            Some(Decoded::Nothing) => {}
            Some(Decoded::Char(c)) => {
                let mut buf = [0u8; 4];
                w.text(c.encode_utf8(&mut buf));
            }
            Some(Decoded::Str(s)) => w.text(s),
            None => {
                w.text("&");
                return i + 1;
            }
        }
        semi + 1
    }
}

/// What an entity stands for in the output.
enum Decoded {
    Space,
    Nothing,
    Char(char),
    Str(&'static str),
}

fn decode_entity(name: &str) -> Option<Decoded> {
    let c = if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(code)?
    } else {
        let s = quick_xml::escape::resolve_html5_entity(name)?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => c,
            _ => return Some(Decoded::Str(s)),
        }
    };
    Some(match c {
        '\u{a0}' | '\u{2002}' | '\u{2003}' | '\u{2009}' | '\u{200a}' | '\u{202f}' | '\u{2007}'
        | '\u{2008}' | '\u{2004}' | '\u{2005}' | '\u{2006}' | ' ' | '\t' | '\n' => Decoded::Space,
        '\u{ad}' | '\u{200b}' => Decoded::Nothing,
        c => Decoded::Char(c),
    })
}
