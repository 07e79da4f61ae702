//! The wikitext cleaner: on any text it never panics (and libFuzzer's timeout holds it to
//! linear time); on balanced markup built from the input — templates, links, parameters, words
//! nested in stack order — no `{{`, `}}`, `[[` or `]]` reaches the output.
#![no_main]

use bertprep::input::mediawiki::{clean, SiteInfo};
use libfuzzer_sys::fuzz_target;

/// Balanced wikitext from `data`: each byte opens a template or a link, closes the innermost
/// one, or adds a separator or a word; whatever is open at the end is closed.
fn balanced(data: &[u8]) -> String {
    const WORDS: [&str; 6] = ["lang", "convert", "File:x.png", "a", "km", "Category:b"];
    let mut text = String::new();
    let mut open = Vec::new();
    for &b in data {
        match b % 8 {
            0 => {
                text.push_str("{{");
                text.push_str(WORDS[(b / 8) as usize % WORDS.len()]);
                open.push("}}");
            }
            1 => {
                text.push_str("[[");
                text.push_str(WORDS[(b / 8) as usize % WORDS.len()]);
                open.push("]]");
            }
            2 => text.push_str(open.pop().unwrap_or(" ")),
            3 => text.push('|'),
            4 => text.push('='),
            5 => text.push_str("\n"),
            _ => {
                text.push(' ');
                text.push_str(WORDS[(b / 8) as usize % WORDS.len()]);
            }
        }
    }
    while let Some(close) = open.pop() {
        text.push_str(close);
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let site = SiteInfo::default_english();
    let mut out = String::new();
    clean(&String::from_utf8_lossy(data), &site, &mut out);
    out.clear();
    let text = balanced(data);
    clean(&text, &site, &mut out);
    for bracket in ["{{", "}}", "[[", "]]"] {
        assert!(!out.contains(bracket), "{bracket} from {text:?}: {out:?}");
    }
});
