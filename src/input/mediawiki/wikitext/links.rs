//! Links: internal `[[Target|label]]` (label, or target; file, media, category and
//! interlanguage links dropped whole, captions included), external `[http://x label]` (label;
//! no label: dropped), and the URL scanning shared with bare URLs.

use super::super::site::{NS_CATEGORY, NS_FILE, NS_MEDIA};
use super::writer::Writer;
use super::Cleaner;

/// URL schemes recognised in external links and bare URLs.
const SCHEMES: &[&str] = &[
    "http",
    "https",
    "ftp",
    "ftps",
    "sftp",
    "irc",
    "ircs",
    "news",
    "nntp",
    "git",
    "svn",
    "gopher",
    "telnet",
    "mms",
    "worldwind",
    "ssh",
    "wss",
    "ws",
];

/// Schemes written without `//`.
const COLON_SCHEMES: &[&str] = &[
    "mailto:", "news:", "urn:", "tel:", "sip:", "sips:", "xmpp:", "magnet:", "geo:", "bitcoin:",
    "sms:",
];

/// Long interlanguage prefixes that do not look like `xx` / `xxx` / `xx-yyy` codes.
const LONG_LANGUAGE_CODES: &[&str] = &["simple"];

pub(super) fn is_url_scheme(scheme: &str) -> bool {
    SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme))
}

/// The end of a URL starting before `i`: the first whitespace, bracket, quote-pair, `<`, `|`
/// or brace, or `end`.
pub(super) fn url_end(b: &[u8], i: usize, end: usize) -> usize {
    let mut j = i;
    while j < end {
        match b[j] {
            b' ' | b'\t' | b'\n' | b'\r' | b'[' | b']' | b'<' | b'>' | b'"' | b'{' | b'}'
            | b'|' => break,
            b'\'' if b.get(j + 1) == Some(&b'\'') => break,
            _ => j += 1,
        }
    }
    j
}

/// The length of the URL scheme at the start of `s` (`http://`, `//`, `mailto:`), if any.
fn scheme_len(s: &[u8]) -> Option<usize> {
    if s.starts_with(b"//") {
        return Some(2);
    }
    let letters = s
        .iter()
        .take(10)
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let word = std::str::from_utf8(&s[..letters]).ok()?;
    if is_url_scheme(word) && s[letters..].starts_with(b"://") {
        return Some(letters + 3);
    }
    COLON_SCHEMES
        .iter()
        .find(|c| s.len() >= c.len() && s[..c.len()].eq_ignore_ascii_case(c.as_bytes()))
        .map(|c| c.len())
}

/// True for a language-code-shaped prefix: `fr`, `ang`, `zh-yue`, `be-tarask`, `simple`.
fn is_language_code(prefix: &str) -> bool {
    if LONG_LANGUAGE_CODES.contains(&prefix) {
        return true;
    }
    let mut parts = prefix.split('-');
    let first = parts.next().unwrap_or("");
    (2..=3).contains(&first.len())
        && first.bytes().all(|c| c.is_ascii_lowercase())
        && parts.all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|c| c.is_ascii_lowercase()))
}

impl Cleaner<'_> {
    /// The matched internal link `[start, end)`.
    pub(super) fn link(&mut self, start: usize, end: usize, w: &mut Writer) -> usize {
        let inner = (start + 2, end - 2);
        let pipe = self.top_level_byte(inner.0, inner.1, b'|');
        let target_end = pipe.unwrap_or(inner.1);
        let target = self.src[inner.0..target_end].trim();
        let visible = target.starts_with(':');
        let target = target.trim_start_matches(':').trim_start();
        if !visible && self.is_hidden_link(target) {
            w.removed();
            return end;
        }
        // `target` is a subslice of `src`: its offset is the pointer difference.
        let t0 = target.as_ptr() as usize - self.src.as_ptr() as usize;
        match pipe {
            // The pipe trick shows the title; one holding markup (not a valid title) is
            // rendered instead, so its brackets never reach the text.
            Some(p) if self.src[p + 1..inner.1].trim().is_empty() => {
                let shown = pipe_trick(target);
                if shown.contains(['[', ']', '{', '}', '<']) {
                    self.inline_nested(t0, t0 + target.len(), w);
                } else {
                    w.text(shown);
                }
            }
            Some(p) => self.inline_nested(p + 1, inner.1, w),
            None => self.inline_nested(t0, t0 + target.len(), w),
        }
        end
    }

    /// File, media, category and interlanguage links: not part of the prose.
    fn is_hidden_link(&self, target: &str) -> bool {
        let Some(colon) = target.find(':') else {
            return false;
        };
        let prefix = target[..colon].trim();
        let site = self.site;
        site.is_namespace(prefix, NS_FILE)
            || site.is_namespace(prefix, NS_CATEGORY)
            || site.is_namespace(prefix, NS_MEDIA)
            || is_language_code(prefix)
    }

    /// `[url label]`, `[url]` at `i`; anything else is a literal `[`.
    pub(super) fn external_link(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        let b = self.bytes;
        let Some(slen) = scheme_len(&b[i + 1..end]) else {
            w.text("[");
            return i + 1;
        };
        let url_stop = url_end(b, i + 1 + slen, end);
        let close = match self.finder.line_closer(b, url_stop) {
            Some(c) if c < end => c,
            _ => {
                w.text("[");
                return i + 1;
            }
        };
        if b[url_stop] != b']' {
            let label = url_stop
                + b[url_stop..close]
                    .iter()
                    .take_while(|&&c| c == b' ' || c == b'\t')
                    .count();
            self.inline_nested(label, close, w);
        } else {
            w.removed();
        }
        close + 1
    }

    /// The first `byte` in `[from, to)` outside nested spans.
    pub(super) fn top_level_byte(&self, from: usize, to: usize, byte: u8) -> Option<usize> {
        let b = self.bytes;
        let mut i = from;
        while i < to {
            let c = b[i];
            if c == byte {
                return Some(i);
            }
            if matches!(c, b'{' | b'[' | b'<') {
                if let Some(s) = self.span_at(i, to) {
                    i = s.end;
                    continue;
                }
            }
            i += 1;
        }
        None
    }
}

/// `[[Foo (bar)|]]` shows `Foo`; `[[Help:Foo|]]` shows `Foo`.
fn pipe_trick(target: &str) -> &str {
    let t = target.split_once(':').map_or(target, |(_, rest)| rest);
    let t = match (t.find(" ("), t.ends_with(')')) {
        (Some(p), true) => &t[..p],
        _ => t.split_once(", ").map_or(t, |(head, _)| head),
    };
    t.trim()
}
