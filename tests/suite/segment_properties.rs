//! Property tests of the sentence splitter: whatever the text (arbitrary Unicode, or text
//! built from the pieces its rules look at), the ranges are in order, non-overlapping,
//! non-empty, trimmed, on char boundaries, free of line breaks, and cover every
//! non-whitespace char exactly once; line breaks split independently; nothing panics.

use std::ops::Range;

use bertprep::segment::{split, split_into};
use proptest::prelude::*;

/// Pieces that exercise every rule: abbreviations, terminators, quotes, brackets, list
/// markers, bullets, line breaks, other scripts, combining marks and lone lead-byte chars.
const PIECES: &[&str] = &[
    "a", "b", "x", "i", "ii", "iv", "the", "He", "A", "I", "U", "S", "Dr", "Mr", "St", "U.S",
    "e.g", "etc", "No", "N°", "p", "a.m", "p.m", "Jr", "Sr", "Yahoo", "Tex", "com", "The", "In",
    "Monday", "Eastern", "0", "00", "1", "2", "3", "42", "1990", "3.14", "1,000", " ", " ", " ",
    "  ", "\t", "\n", "\r", "\r\n", "\u{a0}", "\u{3000}", "\u{2028}", "\u{2029}", ".", ".", ".",
    "!", "?", "...", ". . .", " . . . .", "\u{2026}", ";", ":", ",", "\"", "'", "'em", "(", ")",
    "[", "]", "(a)", "a)", "1.)", "\u{201c}", "\u{201d}", "\u{2018}", "\u{2019}", "\u{ab}",
    "\u{bb}", "\u{300c}", "\u{300d}", "\u{ff08}", "\u{ff09}", "。", "！", "？", "｡", "．", "।",
    "॥", "؟", "۔", "\u{37e}", "\u{589}", "と", "我", "語", "é", "É", "ß", "Ж", "ж", "Ω", "ω", "Ա",
    "ա", "ه", "क", "\u{301}", "\u{308}", "\u{200d}", "🎉", "👍🏽", "@", "/", "$", "-", "\u{2013}",
    "\u{2022}", "\u{2043}", "¿", "¡", "\u{c2}", "\u{e2}", "\u{ef}",
];

fn pieces_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..60).prop_map(|v| v.concat())
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

fn assert_invariants(text: &str, ranges: &[Range<usize>]) {
    let mut covered = vec![0u8; text.len()];
    let mut prev_end = 0;
    for r in ranges {
        assert!(r.start < r.end, "empty range {r:?} in {text:?}");
        assert!(
            r.start >= prev_end,
            "overlap or disorder at {r:?} in {text:?}"
        );
        prev_end = r.end;
        let s = text
            .get(r.clone())
            .unwrap_or_else(|| panic!("{r:?} not on char boundaries in {text:?}"));
        assert_eq!(s, s.trim(), "untrimmed {s:?} in {text:?}");
        assert!(!s.contains(is_line_break), "line break inside {s:?}");
        for c in &mut covered[r.clone()] {
            *c += 1;
        }
    }
    for (pos, ch) in text.char_indices() {
        if !ch.is_whitespace() {
            let bytes = &covered[pos..pos + ch.len_utf8()];
            assert!(
                bytes.iter().all(|&c| c == 1),
                "{ch:?} at {pos} not covered exactly once in {text:?}"
            );
        }
    }
}

/// The sentences of each line, split on their own.
fn per_line(text: &str) -> Vec<String> {
    text.split(is_line_break)
        .flat_map(|line| {
            split(line)
                .into_iter()
                .map(|r| line[r].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn invariants_hold_on_arbitrary_unicode(text in any::<String>()) {
        assert_invariants(&text, &split(&text));
    }

    #[test]
    fn invariants_hold_on_rule_pieces(text in pieces_text()) {
        assert_invariants(&text, &split(&text));
    }

    #[test]
    fn lines_split_independently(text in pieces_text()) {
        let whole: Vec<String> = split(&text).into_iter().map(|r| text[r].to_string()).collect();
        prop_assert_eq!(whole, per_line(&text));
    }

    #[test]
    fn split_into_matches_split_and_reuses(a in pieces_text(), b in any::<String>()) {
        let mut out = vec![0..1, 3..7];
        split_into(&a, &mut out);
        prop_assert_eq!(&out, &split(&a));
        split_into(&b, &mut out);
        prop_assert_eq!(&out, &split(&b));
    }
}
