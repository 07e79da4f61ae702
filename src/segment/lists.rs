//! List markers: `1.`, `2.)`, `3)`, `(4)`, `a.`, `b)`, `(c)`, `iv.`, `(v)`, bullets (`•`,
//! `⁃`, ...), a bullet before a number (`• 9.`), and multi-level numbers (`2.3.`).
//!
//! A marker opening a sentence is never itself a sentence end (`1. First` is one sentence).
//! When the marker can start a list (numbers, `a`/`i`, roman numerals, bracketed letters,
//! bullets), the item ends where the next marker of the same list starts on the same line,
//! after whitespace: `1. The first item 2. The second item` is two sentences, as in
//! pragmatic-segmenter's list rules. The next marker is the successor in the same style
//! (`2.` after `1.`, `(b)` after `(a)`, `iii)` after `ii)`; for a lone `i` both `ii` and `j`),
//! or the same bullet.

use super::chars::{char_at, is_blank, is_bullet, line_break_len};
use super::words::{push_roman, roman_value};

/// How far ahead on a line the next marker of a list is looked for, in bytes.
const MAX_ITEM: usize = 4096;

/// A list marker at the start of a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Marker {
    /// Byte position just after the marker (before the whitespace that follows it).
    pub end: usize,
    /// Whether the marker opens a list.
    list: bool,
    /// The next marker(s) of the same list, as bytes to find after whitespace; none when the
    /// marker does not start a list that continues on the same line.
    next: [Option<Pattern>; 2],
    /// Whether the next marker must be followed by whitespace (not for bullets).
    spaced: bool,
}

impl Marker {
    /// Whether this marker opens a list (so it may also open a sentence after a full stop,
    /// even in lowercase: `... Smith. a. here`).
    pub fn starts_list(&self) -> bool {
        self.list
    }
}

/// A short byte string (a marker such as `(xxxviii)` or a bullet), kept without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pattern {
    bytes: [u8; 12],
    len: usize,
}

impl Pattern {
    fn new() -> Self {
        Pattern {
            bytes: [0; 12],
            len: 0,
        }
    }

    fn push(&mut self, s: &[u8]) {
        for &c in s {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = c;
                self.len += 1;
            }
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `1.`
    Dot,
    /// `1.)`
    DotParen,
    /// `1)`
    Paren,
    /// `(1)`
    Parens,
}

/// The list marker at `pos`, if any. `continued` says the sentence was cut at this marker as
/// the next item of a list, so any letter may continue it.
pub(super) fn marker_at(text: &str, pos: usize, continued: bool) -> Option<Marker> {
    let b = text.as_bytes();
    let mut q = pos;
    let mut bullet = None;
    if let Some(c) = char_at(text, q).filter(|&c| is_bullet(c)) {
        bullet = text.get(q..q + c.len_utf8());
        q += c.len_utf8();
        while b.get(q).copied().is_some_and(is_blank) {
            q += 1;
        }
    }
    let numbered = numbered_at(b, q, continued);
    if let Some(bullet) = bullet {
        let end = numbered.as_ref().map_or(pos + bullet.len(), |m| m.end);
        let mut pat = Pattern::new();
        pat.push(bullet.as_bytes());
        return Some(Marker {
            end,
            list: true,
            next: [Some(pat), None],
            spaced: false,
        });
    }
    numbered
}

fn numbered_at(b: &[u8], pos: usize, continued: bool) -> Option<Marker> {
    let mut q = pos;
    let parens = b.get(q) == Some(&b'(');
    if parens {
        q += 1;
    }
    let body_start = q;
    let digits = b
        .get(q..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let letters = if digits == 0 {
        b.get(q..)?
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count()
    } else {
        0
    };
    q += digits + letters;
    let body = b.get(body_start..q)?;
    if body.is_empty() || digits > 3 || letters > 7 {
        return None;
    }
    // Multi-level numbering "2.3." marks a heading, not a continuing list.
    if digits > 0 && !parens && b.get(q) == Some(&b'.') {
        let mut r = q;
        let mut levels = 0;
        while b.get(r) == Some(&b'.') && b.get(r + 1).is_some_and(u8::is_ascii_digit) {
            r += 1;
            while b.get(r).is_some_and(u8::is_ascii_digit) {
                r += 1;
            }
            levels += 1;
        }
        if levels > 0 {
            return (b.get(r) == Some(&b'.') && ends_marker(b, r + 1)).then_some(Marker {
                end: r + 1,
                list: false,
                next: [None, None],
                spaced: true,
            });
        }
    }
    let style = if parens {
        if b.get(q) != Some(&b')') {
            return None;
        }
        q += 1;
        Style::Parens
    } else {
        match (b.get(q), b.get(q + 1)) {
            (Some(b'.'), Some(b')')) => {
                q += 2;
                Style::DotParen
            }
            (Some(b'.'), _) => {
                q += 1;
                Style::Dot
            }
            (Some(b')'), _) => {
                q += 1;
                Style::Paren
            }
            _ => return None,
        }
    };
    // A marker is followed by whitespace (or ends the line or text).
    if !ends_marker(b, q) {
        return None;
    }
    let end = q;
    let roman = roman_value(body);
    if letters > 1 && roman.is_none() {
        return None; // "Dr." is not a marker
    }
    let mut next = [None, None];
    let mut push = |item: &[u8]| {
        let mut pat = Pattern::new();
        if style == Style::Parens {
            pat.push(b"(");
        }
        pat.push(item);
        pat.push(match style {
            Style::Dot => b".",
            Style::DotParen => b".)",
            Style::Paren | Style::Parens => b")",
        });
        if let Some(slot) = next.iter_mut().find(|p| p.is_none()) {
            *slot = Some(pat);
        }
    };
    if style == Style::Parens {
        // "(a) ... (b) ..." opens a list, but its items end only at a terminator: "(2)
        // Adelaide vs (3) Perth" is one sentence.
        return Some(Marker {
            end,
            list: true,
            next: [None, None],
            spaced: true,
        });
    }
    if digits > 0 {
        let value = body.iter().fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
        let mut item = Pattern::new();
        let succ = value + 1;
        for div in [1000, 100, 10, 1] {
            if succ >= div || div == 1 {
                item.push(&[b'0' + (succ / div % 10) as u8]);
            }
        }
        push(item.as_slice());
    } else {
        let first = body[0];
        let upper = first.is_ascii_uppercase();
        // "a. The", "i. The", "(b) The", "c) The" open lists; "J. R. R. Tolkien" does not.
        let opens = continued
            || matches!(style, Style::DotParen | Style::Paren)
            || letters > 1
            || matches!(first, b'a' | b'i' | b'I');
        if opens && !followed_by_initial(b, end) {
            if let Some(v) = roman {
                let mut item = Pattern::new();
                push_roman(v + 1, upper, |s| item.push(s));
                push(item.as_slice());
            }
            let letter_list = letters == 1 && (first != b'I' || style != Style::Dot);
            if letter_list && !matches!(first, b'z' | b'Z') {
                push(&[first + 1]);
            }
        }
    }
    Some(Marker {
        end,
        list: next[0].is_some(),
        next,
        spaced: true,
    })
}

/// Whether a marker may end at `q`: whitespace, a line break or the end of the text follows.
fn ends_marker(b: &[u8], q: usize) -> bool {
    b.get(q).is_none_or(|&c| is_blank(c)) || line_break_len(b, q) > 0
}

/// Whether the marker ending at `end` is followed by another initial ("A. A. Milne").
fn followed_by_initial(b: &[u8], end: usize) -> bool {
    let mut k = end;
    while b.get(k).copied().is_some_and(is_blank) {
        k += 1;
    }
    b.get(k).is_some_and(u8::is_ascii_alphabetic) && b.get(k + 1) == Some(&b'.')
}

/// Where the next item of the list opened by `marker` starts, on the same line.
pub(super) fn find_next(text: &str, marker: &Marker) -> Option<usize> {
    marker.next[0]?;
    let b = text.as_bytes();
    let to = b.len().min(marker.end.saturating_add(MAX_ITEM));
    let mut j = marker.end;
    while j < to {
        if line_break_len(b, j) > 0 {
            return None;
        }
        if j > marker.end && is_blank(b[j - 1]) {
            for pat in marker.next.iter().flatten() {
                let pat = pat.as_slice();
                if b.get(j..j + pat.len()) == Some(pat)
                    && (!marker.spaced || ends_marker(b, j + pat.len()))
                {
                    return Some(j);
                }
            }
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next_of(text: &str) -> Option<&str> {
        let marker = marker_at(text, 0, false)?;
        find_next(text, &marker).map(|p| &text[p..])
    }

    #[test]
    fn recognises_marker_styles() {
        for (text, end) in [
            ("1. x", 2),
            ("12.) x", 4),
            ("3) x", 2),
            ("(iv) x", 4),
            ("b) x", 2),
            ("\u{2022} 9. x", 6),
            ("2.3. x", 4),
        ] {
            assert_eq!(
                marker_at(text, 0, false).map(|m| m.end),
                Some(end),
                "{text}"
            );
        }
        for text in ["Dr. x", "1.5 x", "A cat", "1990. x", "1.x", "mix. x"] {
            assert_eq!(marker_at(text, 0, false), None, "{text}");
        }
    }

    #[test]
    fn finds_the_successor_only() {
        assert_eq!(next_of("1. a 3. b 2. c"), Some("2. c"));
        assert_eq!(next_of("9. a 10. b"), Some("10. b"));
        assert_eq!(next_of("ix) a x) b"), Some("x) b"));
        assert_eq!(next_of("i. a j. b"), Some("j. b"));
        assert_eq!(next_of("\u{2022} a \u{2022} b"), Some("\u{2022} b"));
        assert_eq!(next_of("1. a\n2. b"), None);
        assert_eq!(next_of("(1) a (2) b"), None);
        assert_eq!(next_of("J. a K. b"), None);
        assert_eq!(next_of("a. A. Milne b. c"), None);
    }
}
