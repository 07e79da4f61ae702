//! The structure index: one pass over the wikitext that matches `{{`/`}}`, `{{{`/`}}}`,
//! `[[`/`]]` and line-start `{|`/`|}` with a stack, and records the opaque spans (comments and
//! extension tags such as `<ref>`, `<math>`, `<nowiki>`) whose content brackets must not see.
//!
//! Invariants: spans are stored in order of their start; a closer matches the nearest open
//! span of its kind, and the spans of other kinds opened after it stay unmatched, so every
//! opener is pushed and popped at most once. Closing-tag searches go through [`TagFinder`],
//! which remembers its last answer, so unclosed tags repeated many times stay linear.

use memchr::memmem;

/// Marks an opener with no matching closer.
pub(super) const UNMATCHED: usize = usize::MAX;

/// What a span is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `{{ … }}`.
    Template,
    /// `{{{ … }}}`.
    Param,
    /// `[[ … ]]`.
    Link,
    /// `{| … |}` at line starts.
    Table,
    /// `<!-- … -->`.
    Comment,
    /// An extension tag dropped with its content (`<ref>…</ref>`, `<ref/>`, `<math>…</math>`).
    Drop,
    /// `<nowiki>…</nowiki>`: content kept as literal text.
    Nowiki,
}

/// One opened construct: `[start, end)` where `end` is past the closer, or [`UNMATCHED`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

/// Extension tags whose content is dropped and hidden from bracket matching.
const DROP_TAGS: &[&str] = &[
    "ref",
    "references",
    "math",
    "chem",
    "ce",
    "gallery",
    "timeline",
    "score",
    "templatestyles",
    "syntaxhighlight",
    "source",
    "pre",
    "graph",
    "mapframe",
    "maplink",
    "imagemap",
    "hiero",
    "inputbox",
    "templatedata",
    "categorytree",
    "includeonly",
    "indicator",
    "charinsert",
    "phonos",
    "section",
    "dynamicpagelist",
];

/// The spans of one text, sorted by start.
pub(super) struct Index {
    spans: Vec<Span>,
}

impl Index {
    /// Builds the index of `text` in one pass.
    pub fn build(text: &str, finder: &mut TagFinder) -> Index {
        let mut b = Builder {
            bytes: text.as_bytes(),
            spans: Vec::new(),
            stack: Vec::new(),
            open: [0; 4],
        };
        b.run(finder);
        Index { spans: b.spans }
    }

    /// The span opened at `pos`, if any.
    pub fn at(&self, pos: usize) -> Option<Span> {
        self.spans
            .binary_search_by_key(&pos, |s| s.start)
            .ok()
            .map(|i| self.spans[i])
    }
}

/// The opaque tag starting at `pos` (`<` of `<name`), if `name` is an opaque tag: its kind and
/// the length of its lowercase name.
pub(super) fn opaque_tag(bytes: &[u8], pos: usize) -> Option<(Kind, &'static str)> {
    let name_start = pos + 1;
    let mut len = 0;
    while let Some(c) = bytes.get(name_start + len) {
        if !c.is_ascii_alphanumeric() {
            break;
        }
        len += 1;
        if len > 16 {
            return None;
        }
    }
    let name = &bytes[name_start..name_start + len];
    if name.eq_ignore_ascii_case(b"nowiki") {
        return Some((Kind::Nowiki, "nowiki"));
    }
    DROP_TAGS
        .iter()
        .find(|t| name.eq_ignore_ascii_case(t.as_bytes()))
        .map(|t| (Kind::Drop, *t))
}

/// Finds `>` and closing tags ahead of a position, remembering the last answer per target so
/// that repeated searches over the same stretch are not repeated.
#[derive(Default)]
pub(super) struct TagFinder {
    gt: Memo,
    closers: Vec<(&'static str, Memo)>,
    comment: Memo,
    bracket_or_newline: Memo,
}

/// The last search: from `from`, the answer was `found` (`None`: no match to the end).
#[derive(Default, Clone, Copy)]
struct Memo {
    valid: bool,
    from: usize,
    found: Option<usize>,
}

impl Memo {
    fn lookup(
        &mut self,
        from: usize,
        search: impl FnOnce(usize) -> Option<usize>,
    ) -> Option<usize> {
        if self.valid && from >= self.from {
            match self.found {
                None => return None,
                Some(at) if at >= from => return Some(at),
                Some(_) => {}
            }
        }
        let found = search(from);
        *self = Memo {
            valid: true,
            from,
            found,
        };
        found
    }
}

impl TagFinder {
    /// Forgets all answers (for a new text).
    pub fn reset(&mut self) {
        self.gt.valid = false;
        self.comment.valid = false;
        self.bracket_or_newline.valid = false;
        self.closers.iter_mut().for_each(|(_, m)| m.valid = false);
    }

    /// Position of the first `>` at or after `from`.
    pub fn gt(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        self.gt.lookup(from, |f| {
            memchr::memchr(b'>', &bytes[f.min(bytes.len())..]).map(|i| f + i)
        })
    }

    /// Position of the first `]` at or after `from` when no newline comes before it.
    pub fn line_closer(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        let at = self.bracket_or_newline.lookup(from, |f| {
            memchr::memchr2(b']', b'\n', &bytes[f.min(bytes.len())..]).map(|i| f + i)
        })?;
        (bytes[at] == b']').then_some(at)
    }

    /// Position just past the `-->` at or after `from`.
    pub fn comment_end(&mut self, bytes: &[u8], from: usize) -> Option<usize> {
        self.comment
            .lookup(from, |f| {
                memmem::find(&bytes[f.min(bytes.len())..], b"-->").map(|i| f + i)
            })
            .map(|at| at + 3)
    }

    /// Span `[start, end)` of the first `</name ... >` at or after `from` (name ASCII-case-insensitive).
    pub fn closer(
        &mut self,
        bytes: &[u8],
        from: usize,
        name: &'static str,
    ) -> Option<(usize, usize)> {
        let slot = match self.closers.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                self.closers.push((name, Memo::default()));
                self.closers.len() - 1
            }
        };
        let start = self.closers[slot]
            .1
            .lookup(from, |f| find_closer(bytes, f, name))?;
        let end = memchr::memchr(b'>', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
        Some((start, end))
    }
}

fn find_closer(bytes: &[u8], from: usize, name: &str) -> Option<usize> {
    let hay = &bytes[from.min(bytes.len())..];
    memmem::find_iter(hay, b"</").map(|i| from + i).find(|&at| {
        let n = at + 2;
        bytes.len() >= n + name.len()
            && bytes[n..n + name.len()].eq_ignore_ascii_case(name.as_bytes())
            && matches!(bytes.get(n + name.len()), Some(b'>' | b' ' | b'\t' | b'\n'))
    })
}

struct Builder<'a> {
    bytes: &'a [u8],
    spans: Vec<Span>,
    /// Indices into `spans` of the open brackets.
    stack: Vec<usize>,
    /// Open count per bracket kind: template+param, link, table (index 3 unused).
    open: [usize; 4],
}

fn slot(kind: Kind) -> usize {
    match kind {
        Kind::Template | Kind::Param => 0,
        Kind::Link => 1,
        _ => 2,
    }
}

/// Bytes the index pass stops at.
static STOPS: [bool; 256] = {
    let mut t = [false; 256];
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t[b'[' as usize] = true;
    t[b']' as usize] = true;
    t[b'<' as usize] = true;
    t
};

impl Builder<'_> {
    fn run(&mut self, finder: &mut TagFinder) {
        let bytes = self.bytes;
        let n = bytes.len();
        let mut i = 0;
        while i < n {
            if !STOPS[bytes[i] as usize] {
                i += 1;
                continue;
            }
            i = match bytes[i] {
                b'{' => self.open_brace(i),
                b'}' => self.close_brace(i),
                b'[' => self.open_link(i),
                b']' => self.close_link(i),
                _ => self.tag(i, finder),
            };
        }
    }

    fn push(&mut self, start: usize, kind: Kind) {
        self.stack.push(self.spans.len());
        self.open[slot(kind)] += 1;
        self.spans.push(Span {
            start,
            end: UNMATCHED,
            kind,
        });
    }

    /// Closes the innermost open span of `kind`'s slot, leaving those above it unmatched.
    /// Returns the kind closed.
    fn close(&mut self, kind: Kind, end: usize) -> Option<Kind> {
        if self.open[slot(kind)] == 0 {
            return None;
        }
        while let Some(top) = self.stack.pop() {
            let k = self.spans[top].kind;
            self.open[slot(k)] -= 1;
            if slot(k) == slot(kind) {
                self.spans[top].end = end;
                return Some(k);
            }
        }
        None
    }

    fn run_len(&self, i: usize, c: u8) -> usize {
        self.bytes[i..].iter().take_while(|&&b| b == c).count()
    }

    fn open_brace(&mut self, i: usize) -> usize {
        if self.bytes.get(i + 1) == Some(&b'|') && at_line_start(self.bytes, i) {
            self.push(i, Kind::Table);
            return i + 2;
        }
        let n = self.run_len(i, b'{');
        let mut pos = i;
        let mut left = n;
        while left >= 2 {
            if left == 3 {
                self.push(pos, Kind::Param);
                break;
            }
            self.push(pos, Kind::Template);
            pos += 2;
            left -= 2;
        }
        i + n
    }

    fn close_brace(&mut self, i: usize) -> usize {
        let bytes = self.bytes;
        let m = self.run_len(i, b'}');
        let after_bar = i > 0 && bytes[i - 1] == b'|' && at_line_start(bytes, i - 1);
        let top_is_brace = self
            .stack
            .last()
            .is_some_and(|&t| slot(self.spans[t].kind) == 0);
        if after_bar && self.open[2] > 0 && !(m >= 2 && top_is_brace) {
            self.close(Kind::Table, i + 1);
            return i + 1;
        }
        let mut pos = i;
        let mut left = m;
        while left >= 2 {
            let Some(top) = self.innermost_brace() else {
                break;
            };
            let width = if self.spans[top].kind == Kind::Param && left >= 3 {
                3
            } else {
                2
            };
            self.close(Kind::Template, pos + width);
            pos += width;
            left -= width;
        }
        i + m
    }

    /// Index of the innermost open brace span, if any is open.
    fn innermost_brace(&self) -> Option<usize> {
        if self.open[0] == 0 {
            return None;
        }
        self.stack
            .iter()
            .rev()
            .copied()
            .find(|&t| slot(self.spans[t].kind) == 0)
    }

    fn open_link(&mut self, i: usize) -> usize {
        let n = self.run_len(i, b'[');
        if n >= 2 {
            self.push(i + n - 2, Kind::Link);
        }
        i + n
    }

    fn close_link(&mut self, i: usize) -> usize {
        let m = self.run_len(i, b']');
        let mut pos = i;
        let mut left = m;
        while left >= 2 && self.close(Kind::Link, pos + 2).is_some() {
            pos += 2;
            left -= 2;
        }
        i + m
    }

    fn tag(&mut self, i: usize, finder: &mut TagFinder) -> usize {
        let bytes = self.bytes;
        if bytes[i..].starts_with(b"<!--") {
            let end = finder.comment_end(bytes, i + 4).unwrap_or(bytes.len());
            self.spans.push(Span {
                start: i,
                end,
                kind: Kind::Comment,
            });
            return end;
        }
        let Some((kind, name)) = opaque_tag(bytes, i) else {
            return i + 1;
        };
        let Some(gt) = finder.gt(bytes, i) else {
            return i + 1;
        };
        let self_closing = bytes[gt - 1] == b'/';
        let end = if self_closing {
            gt + 1
        } else {
            match finder.closer(bytes, gt + 1, name) {
                Some((_, end)) => end,
                None => gt + 1,
            }
        };
        self.spans.push(Span {
            start: i,
            end,
            kind,
        });
        end
    }
}

/// True when only spaces, tabs or indenting colons stand between the previous newline (or the
/// start) and `i`: where a table may open (`{|`, `:{|`) or close (`|}`).
pub(super) fn at_line_start(bytes: &[u8], i: usize) -> bool {
    bytes[..i]
        .iter()
        .rev()
        .take_while(|&&c| c != b'\n')
        .all(|&c| c == b' ' || c == b'\t' || c == b':')
}
