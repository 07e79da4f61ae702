//! Wikitext to plain text.
//!
//! Stages, each in its own file:
//!
//! 1. [`index`]: one pass matching `{{ }}`, `{{{ }}}`, `[[ ]]` and `{| |}` with a stack, and
//!    marking comments and extension tags (`<ref>`, `<math>`, `<nowiki>` …) as opaque spans.
//! 2. [`lines`]: a walk over source lines: headings, list items, tables, horizontal rules,
//!    paragraphs (blank-line separated, joined into one output line).
//! 3. The inline walk ([`Cleaner::inline`], this file): copies plain runs and dispatches on
//!    `{`, `[`, `<`, `&`, `'`, `_`, `:` and stray closers to [`templates`], [`links`], [`tags`].
//! 4. [`writer`]: whitespace collapsing and line finalisation.
//!
//! Rules, in short: templates are dropped except those [`render`] knows; internal links become
//! their label (file, category, media and interlanguage links are dropped whole); external
//! links become their label, bare URLs are dropped; bold and italic quotes are dropped;
//! tables, comments, `<ref>`, `<math>`, `<gallery>` and similar tags are dropped; other HTML
//! tags are stripped keeping their text; `<nowiki>` keeps its content as literal text;
//! character entities are decoded (`&nbsp;` and other spaces become a space); behaviour
//! switches (`__NOTOC__`) are dropped. An unmatched `{{`, `[[`, `}}` or `]]` is dropped and
//! the text after it kept.
//!
//! Rendered templates (by name, case-insensitive; measured as the most frequent templates
//! inside sentences of the English and Vietnamese samples, plus common ones of full dumps):
//! `convert`/`cvt`, `lang`, `lang-xx`, `transl`, `script`, `nowrap`, `small`/`big` and other
//! font-size wrappers, `sc`/`smallcaps`, `sic`, `IPA`, `IPA-xx`, `vr`, `angbr`, `LSJ`, `SEP`,
//! `keypress`, `abbr`, `tooltip`, `math`/`mvar`, `sup`/`sub`, `chem`, `quote`, `nihongo`,
//! `ill`, `flag`/`flagcountry`, `HMS`/`USS`, `marriage`, `hlist`/`ubl`/`plainlist`, `as of`,
//! `circa`/`c.`, `fl.`, `BC`/`AD`/`BCE`/`CE`, currency (`US$`, `£`, `€` …), `frac`/`sfrac`,
//! `date`, `birth date`, `death date`, `start date`, `end date`, `birth date and age`,
//! `death date and age`, `age`, punctuation (`'`, `snd`, `ndash`, `mdash`, `spaced ndash`,
//! `nbsp`, `!`, `=`, `'s`), parser functions `formatnum:`, `lc:`, `uc:`, `ucfirst:`,
//! `lcfirst:`. See [`render`] for the exact output of each. `IPAc-en` and `respell`
//! (pronunciation respellings) are dropped: their output is not prose.
//!
//! Time is linear in the input: each byte is visited by the index pass and by the walk at
//! each nesting level that renders it, nesting is cut at [`MAX_DEPTH`], and all forward
//! searches go through memoising finders.

mod index;
mod lines;
mod links;
mod render;
mod tags;
mod templates;
mod writer;

#[cfg(test)]
mod tests;

use self::index::{Index, Kind, TagFinder, UNMATCHED};
use self::writer::Writer;
use super::SiteInfo;

/// Deepest nesting of rendered templates and links; deeper content is dropped.
pub const MAX_DEPTH: u32 = 40;

/// Wikitext to plain text appended to `out`: one paragraph per line, headings and list items
/// on their own lines, every line ending in `\n`.
pub fn clean(wikitext: &str, site: &SiteInfo, out: &mut String) {
    let mut finder = TagFinder::default();
    let index = Index::build(wikitext, &mut finder);
    finder.reset();
    let mut cleaner = Cleaner {
        src: wikitext,
        bytes: wikitext.as_bytes(),
        index,
        finder,
        site,
        depth: 0,
    };
    let mut w = Writer::new(out);
    cleaner.blocks(&mut w);
    w.end_line();
}

/// The state of one [`clean`] call.
pub(super) struct Cleaner<'a> {
    src: &'a str,
    bytes: &'a [u8],
    index: Index,
    finder: TagFinder,
    site: &'a SiteInfo,
    depth: u32,
}

/// Bytes the inline walk stops at.
static SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let specials = b"{}[]<&'_:\n\t\r";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] = true;
        i += 1;
    }
    t
};

impl<'a> Cleaner<'a> {
    /// Writes `[i, end)` as inline text. With `stop_at_newline`, returns at the first newline
    /// outside nested spans (its position); otherwise newlines are spaces and it returns `end`.
    fn inline(&mut self, mut i: usize, end: usize, stop_at_newline: bool, w: &mut Writer) -> usize {
        let bytes = self.bytes;
        let mut run = i;
        loop {
            while i < end && !SPECIAL[bytes[i] as usize] {
                i += 1;
            }
            if run < i {
                w.text(&self.src[run..i]);
            }
            if i >= end {
                return end;
            }
            i = match bytes[i] {
                b'\n' if stop_at_newline => return i,
                b'\n' | b'\t' | b'\r' => {
                    w.space();
                    i + 1
                }
                b'{' => self.brace(i, end, w),
                b'[' => self.bracket(i, end, w),
                b'}' | b']' => self.stray_closer(i, end, w),
                b'<' => self.tag(i, end, w),
                b'&' => self.entity(i, end, w),
                b'\'' => self.quotes(i, end, w),
                b'_' => self.behaviour_switch(i, end, w),
                _ => self.bare_url(i, end, w),
            };
            run = i;
        }
    }

    /// Runs `f` one nesting level deeper, or drops the content past [`MAX_DEPTH`].
    fn nested(&mut self, w: &mut Writer, f: impl FnOnce(&mut Self, &mut Writer)) {
        if self.depth >= MAX_DEPTH {
            w.removed();
            return;
        }
        self.depth += 1;
        f(self, w);
        self.depth -= 1;
    }

    /// Writes `[start, end)` inline, one level deeper.
    fn inline_nested(&mut self, start: usize, end: usize, w: &mut Writer) {
        self.nested(w, |c, w| {
            c.inline(start, end, false, w);
        });
    }

    /// A matched span opened at `i` that closes within `end`.
    fn span_at(&self, i: usize, end: usize) -> Option<index::Span> {
        self.index
            .at(i)
            .filter(|s| s.end != UNMATCHED && s.end <= end)
    }

    fn brace(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        match self.index.at(i) {
            Some(s) if s.end != UNMATCHED && s.end <= end => match s.kind {
                Kind::Template => self.template(s.start, s.end, w),
                Kind::Table => self.skip(s.end, w),
                _ => self.skip(s.end, w),
            },
            Some(s) if matches!(s.kind, Kind::Template | Kind::Link) => i + 2,
            Some(s) if s.kind == Kind::Param => i + 3,
            Some(s) if s.kind == Kind::Table => i + 2,
            _ => {
                w.text("{");
                i + 1
            }
        }
    }

    fn bracket(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        if let Some(s) = self.span_at(i, end) {
            return self.link(s.start, s.end, w);
        }
        if self.bytes.get(i + 1) == Some(&b'[') {
            // An unmatched `[[`, or the outer `[` of `[[[`.
            return match self.index.at(i + 1) {
                Some(_) => {
                    w.text("[");
                    i + 1
                }
                None => i + 2,
            };
        }
        self.external_link(i, end, w)
    }

    fn stray_closer(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        let c = self.bytes[i];
        let n = self.bytes[i..end].iter().take_while(|&&b| b == c).count();
        if n == 1 {
            w.text(if c == b'}' { "}" } else { "]" });
        }
        i + n
    }

    /// Skips to `to`, noting removed markup.
    fn skip(&mut self, to: usize, w: &mut Writer) -> usize {
        w.removed();
        to
    }

    /// `''`, `'''`, `'''''` are dropped; a fourth or sixth-and-more quote stays literal.
    fn quotes(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        let n = self.bytes[i..end]
            .iter()
            .take_while(|&&b| b == b'\'')
            .count();
        match n {
            1 => w.text("'"),
            4 => w.text("'"),
            n if n > 5 => w.text(&self.src[i..i + n - 5]),
            _ => {}
        }
        i + n
    }

    /// `__NOTOC__` and other `__WORD__` switches (upper case or non-ASCII letters).
    fn behaviour_switch(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        let b = self.bytes;
        if i + 1 < end && b[i + 1] == b'_' {
            let word = b[i + 2..end]
                .iter()
                .take(64)
                .take_while(|&&c| c.is_ascii_uppercase() || c >= 0x80)
                .count();
            let close = i + 2 + word;
            if word >= 2 && b[close..end].starts_with(b"__") {
                w.removed();
                return close + 2;
            }
        }
        w.text("_");
        i + 1
    }

    /// `scheme://...` outside brackets: the scheme, already written, is taken back and the
    /// URL skipped.
    fn bare_url(&mut self, i: usize, end: usize, w: &mut Writer) -> usize {
        let b = self.bytes;
        if b[i + 1..end].starts_with(b"//") {
            let scheme_start = b[..i]
                .iter()
                .rev()
                .take(8)
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let scheme = &self.src[i - scheme_start..i];
            if links::is_url_scheme(scheme) && w.retract(scheme) {
                w.removed();
                return links::url_end(b, i, end);
            }
        }
        w.text(":");
        i + 1
    }
}
