//! The character classes GPT-2's pre-tokenizer splits on — `\s`, `\p{L}`, `\p{N}` — exactly as
//! the regex engine that `tokenizers` runs its byte-level split with understands them.
//!
//! The ranges come from that engine's own parser (`regex-syntax`, the crate `fancy-regex` and
//! `regex` compile with), so the Unicode version and the definitions (`\s` is the White_Space
//! property, `\p{L}` and `\p{N}` the general categories) cannot drift from the crate's. They
//! are laid out once per process as one byte per code point (1.1 MB), so a lookup is one load.

use std::sync::LazyLock;

use regex_syntax::hir::{Class, HirKind};

/// What the GPT-2 split sees in a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CharClass {
    /// Anything else: punctuation, symbols, marks, controls.
    Other = 0,
    /// `\s`: Unicode White_Space.
    Space = 1,
    /// `\p{L}`: a letter.
    Letter = 2,
    /// `\p{N}`: a number.
    Number = 3,
}

/// Class of every code point, indexed by its scalar value (surrogates stay `Other`).
static TABLE: LazyLock<Box<[u8]>> = LazyLock::new(|| {
    let mut table = vec![CharClass::Other as u8; 0x11_0000].into_boxed_slice();
    for (pattern, class) in [
        (r"\s", CharClass::Space),
        (r"\p{L}", CharClass::Letter),
        (r"\p{N}", CharClass::Number),
    ] {
        for (start, end) in ranges(pattern) {
            table[start as usize..=end as usize].fill(class as u8);
        }
    }
    table
});

/// The code point ranges of a one-class pattern, as the regex parser reads it.
fn ranges(pattern: &str) -> Vec<(char, char)> {
    let hir = regex_syntax::parse(pattern).expect("a fixed class pattern parses");
    match hir.kind() {
        HirKind::Class(Class::Unicode(class)) => class
            .ranges()
            .iter()
            .map(|r| (r.start(), r.end()))
            .collect(),
        other => unreachable!("{pattern} parsed to {other:?}"),
    }
}

/// The class of `c`.
#[inline]
pub fn class_of(c: char) -> CharClass {
    match TABLE[c as usize] {
        1 => CharClass::Space,
        2 => CharClass::Letter,
        3 => CharClass::Number,
        _ => CharClass::Other,
    }
}

/// Whether `c` is `\s`.
#[inline]
pub fn is_space(c: char) -> bool {
    TABLE[c as usize] == CharClass::Space as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_match_the_regex_engine() {
        let space = regex_syntax::parse(r"\s").unwrap();
        assert!(matches!(space.kind(), HirKind::Class(_)));
        for (c, class) in [
            (' ', CharClass::Space),
            ('\u{3000}', CharClass::Space),
            ('\u{85}', CharClass::Space),
            ('a', CharClass::Letter),
            ('中', CharClass::Letter),
            ('ß', CharClass::Letter),
            ('7', CharClass::Number),
            ('Ⅻ', CharClass::Number),
            ('½', CharClass::Number),
            ('\'', CharClass::Other),
            ('\u{301}', CharClass::Other),
            ('😀', CharClass::Other),
            ('\u{200b}', CharClass::Other),
        ] {
            assert_eq!(class_of(c), class, "{c:?}");
        }
        assert!(is_space('\t') && !is_space('x'));
    }
}
