//! Byte- and char-level helpers of the sentence scanner: terminators, closing marks, line
//! breaks, whitespace and what may start a sentence.
//!
//! Everything here works on UTF-8 bytes with explicit bounds (`get`), decodes a `char` only
//! where one is needed, and never panics: a position that is not a char boundary simply
//! decodes to `None`.

/// The kind of a sentence-terminating mark.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Term {
    /// `.`
    Dot,
    /// `!` or `?`
    BangQ,
    /// `…`
    Ellipsis,
    /// Needs whitespace and a plausible start after it, but no abbreviation check: Arabic `؟`,
    /// Urdu `۔`, Greek `;` (U+037E, or an ASCII `;` after a Greek letter), Armenian `։` (or an
    /// ASCII `:` after an Armenian letter).
    Soft,
    /// A boundary right after it (and its closing quotes), space or not: `。！？｡．`, `।`, `॥`.
    Hard,
}

/// Bytes at which the scanner must look: the first byte of every terminator, line break and
/// opening quote or bracket. Everything else is skipped with one table lookup.
pub(super) static CANDIDATE: [bool; 256] = {
    let mut t = [false; 256];
    let ascii = b"\n\r.!?;:\"'([";
    let mut k = 0;
    while k < ascii.len() {
        t[ascii[k] as usize] = true;
        k += 1;
    }
    t[0xE2] = true; // … “ ‘ U+2028 U+2029 and the bullets
    t[0xE3] = true; // 。 「 『
    t[0xEF] = true; // ！ ？ ｡ ． （
    t[0xE0] = true; // । ॥
    t[0xD8] = true; // ؟ U+061F
    t[0xDB] = true; // ۔ U+06D4
    t[0xD6] = true; // ։ U+0589
    t[0xCD] = true; // ; U+037E
    t[0xC2] = true; // « U+00AB
    t
};

/// The terminator starting at byte `i`, with its length in bytes.
pub(super) fn term_at(text: &str, i: usize) -> Option<(Term, usize)> {
    let b = text.as_bytes();
    let tail2 = b.get(i + 1..i + 3);
    let tail1 = b.get(i + 1);
    match *b.get(i)? {
        b'.' => Some((Term::Dot, 1)),
        b'!' | b'?' => Some((Term::BangQ, 1)),
        b';' => char_before(text, i)
            .is_some_and(is_greek)
            .then_some((Term::Soft, 1)),
        b':' => char_before(text, i)
            .is_some_and(is_armenian)
            .then_some((Term::Soft, 1)),
        0xE2 => match tail2 {
            Some([0x80, 0xA6]) => Some((Term::Ellipsis, 3)),
            _ => None,
        },
        0xE3 => match tail2 {
            Some([0x80, 0x82]) => Some((Term::Hard, 3)),
            _ => None,
        },
        0xEF => match tail2 {
            // ！ ？ ． ｡
            Some([0xBC, 0x81] | [0xBC, 0x9F] | [0xBC, 0x8E] | [0xBD, 0xA1]) => {
                Some((Term::Hard, 3))
            }
            _ => None,
        },
        0xE0 => match tail2 {
            Some([0xA5, 0xA4] | [0xA5, 0xA5]) => Some((Term::Hard, 3)),
            _ => None,
        },
        0xD8 => (tail1 == Some(&0x9F)).then_some((Term::Soft, 2)),
        0xDB => (tail1 == Some(&0x94)).then_some((Term::Soft, 2)),
        0xD6 => (tail1 == Some(&0x89)).then_some((Term::Soft, 2)),
        0xCD => (tail1 == Some(&0xBE)).then_some((Term::Soft, 2)),
        _ => None,
    }
}

fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}') && c.is_alphabetic()
}

fn is_armenian(c: char) -> bool {
    matches!(c, '\u{0531}'..='\u{0587}')
}

/// Length of the line break at `i` (`\n`, `\r`, U+2028, U+2029), or 0.
#[inline]
pub(super) fn line_break_len(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'\n' | b'\r') => 1,
        Some(0xE2) if matches!(b.get(i + 1..i + 3), Some([0x80, 0xA8 | 0xA9])) => 3,
        _ => 0,
    }
}

/// Length in bytes of the closing quote/bracket at `k`, if any.
pub(super) fn closer_len(b: &[u8], k: usize) -> usize {
    match b.get(k) {
        Some(b'"' | b'\'' | b')' | b']') => 1,
        Some(0xC2) if b.get(k + 1) == Some(&0xBB) => 2, // »
        Some(0xE2) => match b.get(k + 1..k + 3) {
            // ” ’ ›
            Some([0x80, 0x9D] | [0x80, 0x99] | [0x80, 0xBA]) => 3,
            _ => 0,
        },
        Some(0xE3) => match b.get(k + 1..k + 3) {
            // 」 』 》 〉 】 〕
            Some([0x80, 0x8D | 0x8F | 0x8B | 0x89 | 0x91 | 0x95]) => 3,
            _ => 0,
        },
        Some(0xEF) => match b.get(k + 1..k + 3) {
            Some([0xBC, 0x89]) => 3, // ）
            _ => 0,
        },
        _ => 0,
    }
}

/// The `char` starting at byte `pos`, if `pos` is a char boundary inside `text`.
#[inline]
pub(super) fn char_at(text: &str, pos: usize) -> Option<char> {
    match text.as_bytes().get(pos) {
        Some(&c) if c < 0x80 => Some(c as char),
        Some(_) => text.get(pos..).and_then(|s| s.chars().next()),
        None => None,
    }
}

/// The `char` ending at byte `pos`, if `pos` is a char boundary inside `text`.
#[inline]
pub(super) fn char_before(text: &str, pos: usize) -> Option<char> {
    match pos.checked_sub(1).and_then(|p| text.as_bytes().get(p)) {
        Some(&c) if c < 0x80 => Some(c as char),
        Some(_) => text.get(..pos).and_then(|s| s.chars().next_back()),
        None => None,
    }
}

/// Skips at least one whitespace char from `k`; returns where the next non-whitespace char
/// starts. `None` when there is no whitespace at `k`, or a line break / the end comes first
/// (a line break or the end of the text is a boundary anyway).
pub(super) fn skip_ws(text: &str, mut k: usize) -> Option<usize> {
    let b = text.as_bytes();
    let start = k;
    while let Some(&c) = b.get(k) {
        match c {
            b'\n' | b'\r' => return None,
            b' ' | b'\t' | 0x0B | 0x0C => k += 1,
            0..=0x7F => break,
            _ => match char_at(text, k) {
                Some('\u{2028}' | '\u{2029}') => return None,
                Some(ch) if ch.is_whitespace() => k += ch.len_utf8(),
                _ => break,
            },
        }
    }
    (k > start && k < b.len()).then_some(k)
}

/// The first position at or after `k` that is not whitespace, stopping at line breaks (and
/// at the end of the text).
pub(super) fn first_non_blank(text: &str, mut k: usize) -> usize {
    let b = text.as_bytes();
    while let Some(&c) = b.get(k) {
        match c {
            b' ' | b'\t' | 0x0B | 0x0C => k += 1,
            0..=0x7F => break,
            _ => match char_at(text, k) {
                Some(ch) if ch.is_whitespace() && !matches!(ch, '\u{2028}' | '\u{2029}') => {
                    k += ch.len_utf8()
                }
                _ => break,
            },
        }
    }
    k
}

/// Whether `c` can be the first letter of a sentence.
#[inline]
pub(super) fn starts_sentence_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_uppercase() || c.is_ascii_digit();
    }
    c.is_uppercase() || c.is_numeric() || (c.is_alphabetic() && !c.is_lowercase())
}

/// Opening quotes and brackets that may come before the first word of a sentence.
pub(super) fn is_opener(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '('
            | '['
            | '\u{201C}'
            | '\u{2018}'
            | '\u{201E}'
            | '\u{00AB}'
            | '\u{2039}'
            | '\u{00BF}'
            | '\u{00A1}'
            | '\u{300C}'
            | '\u{300E}'
            | '\u{FF08}'
    )
}

/// Whether `c` is a list bullet.
pub(super) fn is_bullet(c: char) -> bool {
    matches!(
        c,
        '\u{2022}' // •
            | '\u{2023}' // ‣
            | '\u{2043}' // ⁃
            | '\u{25E6}' // ◦
            | '\u{25AA}' // ▪
            | '\u{25CF}' // ●
            | '\u{25CB}' // ○
            | '\u{25A0}' // ■
            | '\u{25BA}' // ►
            | '\u{25B8}' // ▸
    )
}

/// Whether the byte is ASCII horizontal whitespace.
#[inline]
pub(super) fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}
