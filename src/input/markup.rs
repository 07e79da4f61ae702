//! Is this plain text, or markup that went in by mistake? A plain-text input whose density of
//! wikitext or HTML markers is far above prose's (an unextracted dump, a page saved as text) is
//! flagged, so junk never goes in silently: the build records it per input in the manifest and
//! the binary prints one warning line naming the file.

/// Markers per 1,000 words above which text is taken for markup. Prose has next to none; a
/// WikiExtractor extraction of English Wikipedia ~0.2; raw wikitext hundreds.
pub const MARKERS_PER_1K_WORDS: u64 = 20;

/// Words a piece must have before it is judged (a few lines say little).
const MIN_WORDS: u64 = 200;

/// Wikitext markers: links, templates, bold and italic quotes, references, tables.
const WIKITEXT: [&str; 8] = ["[[", "]]", "{{", "}}", "''", "<ref", "{|", "|}"];

/// What `text` looks like when it is markup rather than prose: `"wikitext"` or `"HTML"`.
pub fn looks_like(text: &str) -> Option<&'static str> {
    let words = text.split_ascii_whitespace().count() as u64;
    if words < MIN_WORDS {
        return None;
    }
    let wikitext: u64 = WIKITEXT
        .iter()
        .map(|m| memchr::memmem::find_iter(text.as_bytes(), m).count() as u64)
        .sum();
    let html = html_tags(text.as_bytes());
    let dense = |markers: u64| markers * 1000 > MARKERS_PER_1K_WORDS * words;
    if dense(wikitext) && wikitext >= html {
        Some("wikitext")
    } else if dense(html) {
        Some("HTML")
    } else {
        None
    }
}

/// `<tag`, `</tag` and `&entity;`-style markers.
fn html_tags(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for i in memchr::memchr2_iter(b'<', b'&', bytes) {
        let next = bytes.get(i + 1).copied().unwrap_or(b' ');
        let tag = bytes[i] == b'<' && (next.is_ascii_alphabetic() || next == b'/' || next == b'!');
        let entity = bytes[i] == b'&'
            && next.is_ascii_alphabetic()
            && bytes[i + 1..].iter().take(10).any(|&b| b == b';');
        n += u64::from(tag || entity);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_passes_and_markup_is_named() {
        let prose = "The quick brown fox jumps over the lazy dog, again and again. ".repeat(40);
        assert_eq!(looks_like(&prose), None);
        let wiki = "'''Anarchism''' is a [[political philosophy]] {{citation needed}} that \
                    advocates [[self-governance|self-governed]] societies.<ref name=a/> "
            .repeat(40);
        assert_eq!(looks_like(&wiki), Some("wikitext"));
        let html = "<p>Some <b>bold</b> text &amp; a <a href=\"x\">link</a></p> ".repeat(60);
        assert_eq!(looks_like(&html), Some("HTML"));
        assert_eq!(looks_like("[[a]] [[b]]"), None, "too short to judge");
    }
}
