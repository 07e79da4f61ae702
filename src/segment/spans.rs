//! Quoted and bracketed spans, inside which no sentence ends.
//!
//! As in pragmatic-segmenter, text between matching quotes or brackets on one line is kept in
//! one sentence: `He said "Stop. Now." and left.` is one sentence, while the full stop at the
//! very end of a span still ends the sentence (`"Stop." He left.` is two). A span opens at a
//! quote or bracket and closes at its partner on the same line within a bounded distance; with
//! no partner there is no span. An apostrophe opening an elided word (`'em`) opens nothing.
//! Symmetric quotes (`"`, `'`, `‘`) open only after whitespace,
//! the start, or another opener, and are not followed by whitespace; single closing quotes
//! followed by a letter are apostrophes (`don't`), not closers.

use super::chars::{char_before, is_opener, line_break_len};

/// The farthest a span may close after it opens, in bytes. Longer "spans" are more likely
/// an unbalanced quote than a quotation, and are not protected.
const MAX_SPAN: usize = 1000;
/// The same for single quotes, which double as apostrophes.
const MAX_SINGLE_SPAN: usize = 300;

#[derive(Clone, Copy)]
enum Close {
    /// The next occurrence of these bytes.
    Plain(&'static [u8]),
    /// The next occurrence not followed by an ASCII letter or digit (an apostrophe otherwise).
    Single(&'static [u8]),
    /// The matching close byte, counting nested opens.
    Nested(u8, u8),
}

/// If an opening quote or bracket starts at `i` and closes on the same line, returns the
/// opener's length and the position of the closing mark. A straight double quote whose next
/// straight quote comes after a space (an opener itself) is taken as unbalanced: no span.
pub(super) fn span_at(text: &str, i: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let (open_len, close, symmetric) = match *b.get(i)? {
        b'"' => (1, Close::Plain(b"\""), true),
        b'\'' => (1, Close::Single(b"'"), true),
        b'(' => (1, Close::Nested(b'(', b')'), false),
        b'[' => (1, Close::Nested(b'[', b']'), false),
        0xE2 => match b.get(i + 1..i + 3)? {
            [0x80, 0x9C] => (3, Close::Plain("\u{201D}".as_bytes()), false),
            [0x80, 0x98] => (3, Close::Single("\u{2019}".as_bytes()), true),
            _ => return None,
        },
        0xC2 if b.get(i + 1) == Some(&0xAB) => (2, Close::Plain("\u{BB}".as_bytes()), false),
        0xE3 => match b.get(i + 1..i + 3)? {
            [0x80, 0x8C] => (3, Close::Plain("\u{300D}".as_bytes()), false),
            [0x80, 0x8E] => (3, Close::Plain("\u{300F}".as_bytes()), false),
            _ => return None,
        },
        0xEF if b.get(i + 1..i + 3)? == [0xBC, 0x88] => {
            (3, Close::Plain("\u{FF09}".as_bytes()), false)
        }
        _ => return None,
    };
    if symmetric {
        let opens = match char_before(text, i) {
            None => true,
            Some(c) => c.is_whitespace() || is_opener(c) || matches!(c, '\u{2014}' | '\u{2013}'),
        };
        let next = b.get(i + open_len).copied();
        if !opens || next.is_none_or(|c| c.is_ascii_whitespace()) || elision_at(b, i + 1) {
            return None;
        }
    }
    let cap = match close {
        Close::Single(_) => MAX_SINGLE_SPAN,
        _ => MAX_SPAN,
    };
    find_close(b, i + open_len, (i + cap).min(b.len()), close).map(|pos| (open_len, pos))
}

fn find_close(b: &[u8], from: usize, to: usize, close: Close) -> Option<usize> {
    let mut depth = 0usize;
    let mut j = from;
    while j < to {
        let c = *b.get(j)?;
        if line_break_len(b, j) > 0 {
            return None;
        }
        match close {
            Close::Plain(pat) => {
                if b.get(j..j + pat.len()) == Some(pat) {
                    // A straight quote after a space opens another quotation: unbalanced.
                    if pat == b"\"" && j > from && b[j - 1].is_ascii_whitespace() {
                        return None;
                    }
                    return Some(j);
                }
            }
            Close::Single(pat) => {
                if b.get(j..j + pat.len()) == Some(pat)
                    && !b.get(j + pat.len()).is_some_and(u8::is_ascii_alphanumeric)
                {
                    return Some(j);
                }
            }
            Close::Nested(open, shut) => {
                if c == open {
                    depth += 1;
                } else if c == shut {
                    if depth == 0 {
                        return Some(j);
                    }
                    depth -= 1;
                }
            }
        }
        j += 1;
    }
    None
}

/// Whether an apostrophe before `k` starts an elided word (`'em`, `'til`, `'round`) rather
/// than a quotation.
fn elision_at(b: &[u8], k: usize) -> bool {
    let len = b.get(k..).map_or(0, |r| {
        r.iter().take_while(|c| c.is_ascii_alphabetic()).count()
    });
    let word = &b[k.min(b.len())..(k + len).min(b.len())];
    matches!(
        word,
        b"em"
            | b"til"
            | b"tis"
            | b"twas"
            | b"cause"
            | b"round"
            | b"n"
            | b"s"
            | b"bout"
            | b"cept"
            | b"im"
            | b"er"
            | b"nother"
            | b"ere"
            | b"twere"
            | b"neath"
            | b"tween"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close_of(text: &str) -> Option<&str> {
        span_at(text, 0).map(|(_, close)| &text[close..])
    }

    #[test]
    fn spans_close_at_their_partner() {
        assert_eq!(close_of("\"a. B.\" c"), Some("\" c"));
        assert_eq!(close_of("(a (b) c) d"), Some(") d"));
        assert_eq!(close_of("'don't stop.' x"), Some("' x"));
        assert_eq!(close_of("\u{201C}a\u{201D}"), Some("\u{201D}"));
        assert_eq!(close_of("\u{300C}a\u{300D}"), Some("\u{300D}"));
    }

    #[test]
    fn unbalanced_or_elided_quotes_open_nothing() {
        assert_eq!(close_of("\"a. b \"c\""), None);
        assert_eq!(close_of("(a\nb)"), None);
        assert_eq!(close_of("'em and them' x"), None);
        assert_eq!(close_of("\" a\""), None);
        assert_eq!(span_at("6\" x\"", 1), None);
        let long = format!("\"{}\"", "a".repeat(MAX_SPAN + 10));
        assert_eq!(close_of(&long), None);
    }
}
