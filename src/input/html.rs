//! HTML character references, as left in WikiExtractor output.
//!
//! One pass, left to right: `&amp;lt;` becomes `&lt;` (not `<`), as a browser would show it.
//! Numeric references (`&#233;`, `&#xE9;`) and the named references that occur in Wikipedia
//! text are decoded; anything else (an unknown name, a missing `;`, a code point that is not a
//! character) is left untouched.

use std::borrow::Cow;

/// Named references decoded; sorted by name for binary search.
const NAMED: &[(&str, char)] = &[
    ("amp", '&'),
    ("apos", '\''),
    ("bull", '\u{2022}'),
    ("copy", '\u{a9}'),
    ("deg", '\u{b0}'),
    ("euro", '\u{20ac}'),
    ("gt", '>'),
    ("hellip", '\u{2026}'),
    ("laquo", '\u{ab}'),
    ("ldquo", '\u{201c}'),
    ("lsquo", '\u{2018}'),
    ("lt", '<'),
    ("mdash", '\u{2014}'),
    ("middot", '\u{b7}'),
    ("minus", '\u{2212}'),
    ("nbsp", '\u{a0}'),
    ("ndash", '\u{2013}'),
    ("pound", '\u{a3}'),
    ("quot", '"'),
    ("raquo", '\u{bb}'),
    ("rdquo", '\u{201d}'),
    ("reg", '\u{ae}'),
    ("rsquo", '\u{2019}'),
    ("sect", '\u{a7}'),
    ("thinsp", '\u{2009}'),
    ("times", '\u{d7}'),
    ("trade", '\u{2122}'),
    ("yen", '\u{a5}'),
];

/// Longest reference body considered (`#x10FFFF` is 8 bytes).
const MAX_REF_LEN: usize = 10;

/// Decodes the character references in `text`; borrows when there are none.
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match decode_reference(after) {
            Some((ch, used)) => {
                out.push(ch);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Decodes the reference at the start of `s` (just after `&`): the character and the bytes used
/// including the `;`.
fn decode_reference(s: &str) -> Option<(char, usize)> {
    let end = s.bytes().take(MAX_REF_LEN + 1).position(|b| b == b';')?;
    let body = &s[..end];
    let ch = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        char::from_u32(code).filter(|&c| c != '\0')?
    } else {
        let i = NAMED.binary_search_by(|(name, _)| name.cmp(&body)).ok()?;
        NAMED[i].1
    };
    Some((ch, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(NAMED.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn decodes_named_and_numeric() {
        assert_eq!(
            unescape("AT&amp;T &lt;b&gt; &quot;x&quot; caf&#233; &#xE9;&#X41;"),
            "AT&T <b> \"x\" café éA"
        );
        assert_eq!(unescape("1&ndash;2&hellip;"), "1\u{2013}2\u{2026}");
    }

    #[test]
    fn single_pass_and_leaves_unknowns() {
        assert_eq!(unescape("&amp;lt;"), "&lt;");
        assert_eq!(
            unescape("R&D &bogus; & &#xZZ; &#0; a&b;"),
            "R&D &bogus; & &#xZZ; &#0; a&b;"
        );
        assert_eq!(unescape("trailing &amp"), "trailing &amp");
        assert!(matches!(unescape("plain"), Cow::Borrowed("plain")));
    }
}
