//! GPT-2's pre-tokenizer split, the regex
//! `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
//! that `tokenizers`' `ByteLevel` cuts text with, as a scanner over characters.
//!
//! At each position the alternatives are tried in the regex's order, leftmost first: an ASCII
//! contraction after an apostrophe; else a run of letters, of numbers or of other characters,
//! after at most one space (U+0020); else whitespace, all of a run that ends the text, all but
//! its last character when two or more precede a non-space (so that character can lead the
//! next word), or the one character. The alternatives cover every character, so the pieces
//! tile the text. Classes are the regex engine's own ([`super::super::classes`]).

use super::super::classes::{class_of, CharClass};

/// Classes of the ASCII characters, so the common case needs no table load.
const ASCII: [CharClass; 128] = {
    let mut table = [CharClass::Other; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() {
            CharClass::Letter
        } else if c.is_ascii_digit() {
            CharClass::Number
        } else if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            CharClass::Space
        } else {
            CharClass::Other
        };
        b += 1;
    }
    table
};

/// The character at byte `i` of `text` (a boundary), its length and its class.
#[inline]
fn char_at(text: &str, i: usize) -> Option<(char, usize, CharClass)> {
    let b = *text.as_bytes().get(i)?;
    if b < 0x80 {
        return Some((b as char, 1, ASCII[usize::from(b)]));
    }
    let c = text[i..].chars().next()?;
    Some((c, c.len_utf8(), class_of(c)))
}

/// Length of an ASCII contraction (`s t re ve m ll d`) at the start of `rest`, the text after
/// an apostrophe.
#[inline]
fn contraction(rest: &[u8]) -> Option<usize> {
    match rest {
        [b's' | b't' | b'm' | b'd', ..] => Some(1),
        [b'r' | b'v', b'e', ..] | [b'l', b'l', ..] => Some(2),
        _ => None,
    }
}

/// End of the run of `class` characters starting at byte `i`.
#[inline]
fn run_end(text: &str, mut i: usize, class: CharClass) -> usize {
    while let Some((_, len, c)) = char_at(text, i) {
        if c != class {
            break;
        }
        i += len;
    }
    i
}

/// End of the whitespace piece starting at byte `i` (`\s+(?!\S)|\s+`).
#[inline]
fn space_end(text: &str, i: usize) -> usize {
    let (mut end, mut last, mut count) = (i, i, 0usize);
    while let Some((_, len, CharClass::Space)) = char_at(text, end) {
        last = end;
        end += len;
        count += 1;
    }
    if end < text.len() && count >= 2 {
        last
    } else {
        end
    }
}

/// End of the piece starting at byte `i` (a boundary before the end of `text`).
#[inline]
fn piece_end(text: &str, i: usize) -> usize {
    let Some((c, len, class)) = char_at(text, i) else {
        return text.len();
    };
    if c == '\'' {
        if let Some(n) = contraction(&text.as_bytes()[i + 1..]) {
            return i + 1 + n;
        }
    }
    if c == ' ' {
        match char_at(text, i + 1) {
            Some((_, _, next)) if next != CharClass::Space => return run_end(text, i + 1, next),
            _ => return space_end(text, i),
        }
    }
    match class {
        CharClass::Space => space_end(text, i),
        _ => run_end(text, i + len, class),
    }
}

/// Calls `f` with each piece of `text`, in order.
#[inline]
pub fn split<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let mut i = 0;
    while i < text.len() {
        let end = piece_end(text, i);
        f(&text[i..end]);
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        split(text, |p| out.push(p));
        out
    }

    #[test]
    fn splits_as_gpt2_does() {
        assert_eq!(
            pieces("Hello world, it's 2024!"),
            ["Hello", " world", ",", " it", "'s", " 2024", "!"]
        );
        assert_eq!(pieces("a   b"), ["a", "  ", " b"]);
        assert_eq!(pieces("a\n\nb"), ["a", "\n", "\n", "b"]);
        assert_eq!(pieces("a \n b "), ["a", " \n", " b", " "]);
        assert_eq!(pieces("'re 'x !'s"), ["'re", " '", "x", " !'", "s"]);
        assert_eq!(pieces("x\u{3000}中文12½"), ["x", "\u{3000}", "中文", "12½"]);
        assert_eq!(pieces("e\u{301}t"), ["e", "\u{301}", "t"]);
        assert!(pieces("").is_empty());
    }
}
