//! The sentence splitter on any text: never panics, and its ranges are in order, non-empty,
//! on char boundaries, trimmed, and cover every non-whitespace character.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let ranges = bertprep::segment::split(text);
    let mut end = 0;
    for r in &ranges {
        assert!(r.start >= end && r.start < r.end, "{ranges:?}");
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        let s = &text[r.clone()];
        assert_eq!(s, s.trim(), "untrimmed {s:?}");
        assert!(text[end..r.start].trim().is_empty(), "lost text before {r:?}");
        end = r.end;
    }
    assert!(text[end..].trim().is_empty(), "lost text at the end");
});
