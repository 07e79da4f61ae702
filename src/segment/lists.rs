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

/// The numbered or lettered marker at `pos` (`1.`, `2.)`, `(c)`, `iv.`, `2.3.`), if any, with
/// the next marker(s) of its list.
fn numbered_at(b: &[u8], pos: usize, continued: bool) -> Option<Marker> {
    let body = marker_body(b, pos)?;
    // Multi-level numbering "2.3." marks a heading, not a continuing list.
    if body.digits > 0 && !body.parens && b.get(body.end) == Some(&b'.') {
        if let Some(r) = sublevels_end(b, body.end) {
            return (b.get(r) == Some(&b'.') && ends_marker(b, r + 1)).then_some(Marker {
                end: r + 1,
                list: false,
                next: [None, None],
                spaced: true,
            });
        }
    }
    let (style, end) = marker_style(b, body.end, body.parens)?;
    // A marker is followed by whitespace (or ends the line or text).
    if !ends_marker(b, end) {
        return None;
    }
    let roman = roman_value(body.text);
    if body.letters > 1 && roman.is_none() {
        return None; // "Dr." is not a marker
    }
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
    let next = if body.digits > 0 {
        [Some(next_number(body.text, style)), None]
    } else {
        next_letters(b, end, &body, style, roman, continued)
    };
    Some(Marker {
        end,
        list: next[0].is_some(),
        next,
        spaced: true,
    })
}

/// The number or letters of a marker, after an optional `(`.
struct Body<'a> {
    /// Whether the marker opens with `(`.
    parens: bool,
    /// The digits or letters.
    text: &'a [u8],
    /// How many digits (0 for letters).
    digits: usize,
    /// How many letters (0 for a number).
    letters: usize,
    /// Byte position just after the body.
    end: usize,
}

/// The body of a marker at `pos`: at most 3 digits or at most 7 letters, after an optional `(`.
fn marker_body(b: &[u8], pos: usize) -> Option<Body<'_>> {
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
    let text = b.get(body_start..q)?;
    if text.is_empty() || digits > 3 || letters > 7 {
        return None;
    }
    Some(Body {
        parens,
        text,
        digits,
        letters,
        end: q,
    })
}

/// Where the further levels (`.3`, `.3.1`) of a multi-level number ending at `q` end; `None`
/// when there are none.
fn sublevels_end(b: &[u8], q: usize) -> Option<usize> {
    let mut r = q;
    let mut levels = 0;
    while b.get(r) == Some(&b'.') && b.get(r + 1).is_some_and(u8::is_ascii_digit) {
        r += 1;
        while b.get(r).is_some_and(u8::is_ascii_digit) {
            r += 1;
        }
        levels += 1;
    }
    (levels > 0).then_some(r)
}

/// The punctuation closing a marker body that ends at `q`: its style and where the marker ends.
fn marker_style(b: &[u8], q: usize, parens: bool) -> Option<(Style, usize)> {
    if parens {
        return (b.get(q) == Some(&b')')).then_some((Style::Parens, q + 1));
    }
    match (b.get(q), b.get(q + 1)) {
        (Some(b'.'), Some(b')')) => Some((Style::DotParen, q + 2)),
        (Some(b'.'), _) => Some((Style::Dot, q + 1)),
        (Some(b')'), _) => Some((Style::Paren, q + 1)),
        _ => None,
    }
}

/// `item` written as a marker in `style`: `item.`, `item.)` or `item)`.
fn styled(item: &[u8], style: Style) -> Pattern {
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
    pat
}

/// The marker after the number `digits` in `style` (`2.` after `1.`).
fn next_number(digits: &[u8], style: Style) -> Pattern {
    let value = digits
        .iter()
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    let mut item = Pattern::new();
    let succ = value + 1;
    for div in [1000, 100, 10, 1] {
        if succ >= div || div == 1 {
            item.push(&[b'0' + (succ / div % 10) as u8]);
        }
    }
    styled(item.as_slice(), style)
}

/// The markers after a lettered one ending at `end`, when it opens a list: the next roman
/// numeral (`iii)` after `ii)`) and/or the next letter (`b.` after `a.`), in that order.
fn next_letters(
    b: &[u8],
    end: usize,
    body: &Body<'_>,
    style: Style,
    roman: Option<u32>,
    continued: bool,
) -> [Option<Pattern>; 2] {
    let mut next = [None, None];
    let first = body.text[0];
    let upper = first.is_ascii_uppercase();
    // "a. The", "i. The", "(b) The", "c) The" open lists; "J. R. R. Tolkien" does not.
    let opens = continued
        || matches!(style, Style::DotParen | Style::Paren)
        || body.letters > 1
        || matches!(first, b'a' | b'i' | b'I');
    if !opens || followed_by_initial(b, end) {
        return next;
    }
    let mut slots = next.iter_mut();
    if let Some(v) = roman {
        let mut item = Pattern::new();
        push_roman(v + 1, upper, |s| item.push(s));
        if let Some(slot) = slots.next() {
            *slot = Some(styled(item.as_slice(), style));
        }
    }
    let letter_list = body.letters == 1 && (first != b'I' || style != Style::Dot);
    if letter_list && !matches!(first, b'z' | b'Z') {
        if let Some(slot) = slots.next() {
            *slot = Some(styled(&[first + 1], style));
        }
    }
    next
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
