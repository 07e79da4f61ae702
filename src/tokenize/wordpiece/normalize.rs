//! BERT's normalizer as one streaming pass: clean text, space out CJK ideographs, strip accents,
//! lowercase.
//!
//! Mirrors `tokenizers` 0.23 `BertNormalizer::normalize`, which runs four whole-string passes in
//! this order: (1) `clean_text` drops NUL, U+FFFD and controls and maps whitespace to `' '`;
//! (2) `handle_chinese_chars` puts `' '` before and after each CJK ideograph; (3) accent
//! stripping (`strip_accents`, by default equal to `lowercase`) applies NFD and drops nonspacing
//! marks (Mn); (4) `lowercase` maps each character through `char::to_lowercase` on its own (so
//! a final capital sigma becomes `σ`, never `ς`). The output characters go to a [`CharSink`] (the
//! pre-tokenizer) instead of a new string.
//!
//! Doing the passes per character is exact because each is per character, except NFD, whose
//! canonical reordering moves combining marks within a run of non-starters. Such a run never
//! crosses a character that NFD leaves unchanged as a starter ([`chars::NFD_INERT`]: every
//! ASCII character that survives cleaning, the spaces the first two passes write, most letters
//! and ideographs), so only the characters between two of those are collected and decomposed
//! together, with the same `unicode-normalization-alignments` iterator the crate uses.
//!
//! ASCII fast path: a 128-entry table, derived from the same predicates, gives for each ASCII
//! byte either "removed" or the byte after cleaning and lowercasing; nothing is allocated, and
//! ASCII text never enters the NFD iterator.

use unicode_normalization_alignments::UnicodeNormalization;

use super::chars::{self, flags};

/// Receives the normalized characters, in order.
pub trait CharSink {
    /// An ASCII character.
    fn ascii(&mut self, b: u8);
    /// A non-ASCII character.
    fn char(&mut self, c: char);
}

/// Marks an ASCII byte that cleaning removes.
const GONE: u8 = 0xFF;

/// The four switches of `BertNormalizer`, accent stripping resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizerSpec {
    pub clean_text: bool,
    pub handle_chinese_chars: bool,
    pub strip_accents: bool,
    pub lowercase: bool,
}

/// A [`NormalizerSpec`] with its ASCII table.
#[derive(Debug, Clone)]
pub struct Normalizer {
    spec: NormalizerSpec,
    ascii: [u8; 128],
}

impl Normalizer {
    /// Builds the normalizer of `spec`.
    pub fn new(spec: NormalizerSpec) -> Self {
        let mut ascii = [0u8; 128];
        for (b, slot) in (0u8..).zip(ascii.iter_mut()) {
            let c = char::from(b);
            *slot = if spec.clean_text && chars::is_removed(c) {
                GONE
            } else if spec.clean_text && chars::is_clean_space(c) {
                b' '
            } else if spec.lowercase {
                b.to_ascii_lowercase()
            } else {
                b
            };
        }
        Normalizer { spec, ascii }
    }

    /// The switches.
    pub fn spec(&self) -> NormalizerSpec {
        self.spec
    }

    /// Normalizes `text` into `sink`; `pending` is scratch space for characters awaiting NFD
    /// (left empty).
    #[inline]
    pub fn normalize<S: CharSink>(&self, text: &str, pending: &mut Vec<char>, sink: &mut S) {
        pending.clear();
        let bytes = text.as_bytes();
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b < 0x80 {
                i += 1;
                let m = self.ascii[usize::from(b)];
                if m != GONE {
                    self.starter(m, pending, sink);
                }
            } else {
                let Some(c) = text.get(i..).and_then(|rest| rest.chars().next()) else {
                    break;
                };
                i += c.len_utf8();
                self.non_ascii(c, pending, sink);
            }
        }
        self.flush(pending, sink);
    }

    /// An ASCII character after cleaning: a starter NFD leaves alone, so pending marks go first.
    #[inline(always)]
    fn starter<S: CharSink>(&self, b: u8, pending: &mut Vec<char>, sink: &mut S) {
        if !pending.is_empty() {
            self.flush(pending, sink);
        }
        sink.ascii(b);
    }

    fn non_ascii<S: CharSink>(&self, c: char, pending: &mut Vec<char>, sink: &mut S) {
        let f = flags(c);
        if self.spec.clean_text {
            if f & chars::REMOVED != 0 {
                return;
            }
            if f & chars::CLEAN_SPACE != 0 {
                return self.starter(b' ', pending, sink);
            }
        }
        if self.spec.handle_chinese_chars && f & chars::CHINESE != 0 {
            self.starter(b' ', pending, sink);
            self.decompose(c, f, pending, sink);
            return self.starter(b' ', pending, sink);
        }
        self.decompose(c, f, pending, sink);
    }

    /// Pass 3 for one character: held back unless NFD provably leaves it alone.
    #[inline]
    fn decompose<S: CharSink>(&self, c: char, f: u8, pending: &mut Vec<char>, sink: &mut S) {
        if !self.spec.strip_accents {
            self.lower(c, sink);
        } else if f & chars::NFD_INERT != 0 {
            if !pending.is_empty() {
                self.flush(pending, sink);
            }
            if f & chars::NONSPACING_MARK == 0 {
                self.lower(c, sink);
            }
        } else {
            pending.push(c);
        }
    }

    /// NFD of the held-back characters, nonspacing marks dropped, then lowercased.
    fn flush<S: CharSink>(&self, pending: &mut Vec<char>, sink: &mut S) {
        if pending.is_empty() {
            return;
        }
        for (d, _) in pending.iter().copied().nfd() {
            if flags(d) & chars::NONSPACING_MARK == 0 {
                self.lower(d, sink);
            }
        }
        pending.clear();
    }

    /// Pass 4 for one character.
    #[inline]
    fn lower<S: CharSink>(&self, c: char, sink: &mut S) {
        if self.spec.lowercase {
            for l in c.to_lowercase() {
                emit(l, sink);
            }
        } else {
            emit(c, sink);
        }
    }
}

#[inline]
fn emit<S: CharSink>(c: char, sink: &mut S) {
    if c.is_ascii() {
        sink.ascii(c as u8);
    } else {
        sink.char(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl CharSink for String {
        fn ascii(&mut self, b: u8) {
            self.push(char::from(b));
        }
        fn char(&mut self, c: char) {
            self.push(c);
        }
    }

    fn run(spec: NormalizerSpec, text: &str) -> String {
        let mut out = String::new();
        Normalizer::new(spec).normalize(text, &mut Vec::new(), &mut out);
        out
    }

    const UNCASED: NormalizerSpec = NormalizerSpec {
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: true,
        lowercase: true,
    };
    const CASED: NormalizerSpec = NormalizerSpec {
        strip_accents: false,
        lowercase: false,
        ..UNCASED
    };

    #[test]
    fn uncased_cleans_spaces_strips_and_lowercases() {
        assert_eq!(
            run(UNCASED, "Ångström\tCAFÉ\u{0}\u{200B}x"),
            "angstrom cafex"
        );
        assert_eq!(run(UNCASED, "東京A"), " 東  京 a");
        // Per-character lowercasing: no final sigma.
        assert_eq!(run(UNCASED, "ΣΑΣ"), "σασ");
        // İ decomposes to I + U+0307 (Mn, dropped) before lowercasing.
        assert_eq!(run(UNCASED, "İ"), "i");
        // Vertical tab and form feed are controls: removed, not spaces.
        assert_eq!(run(UNCASED, "a\u{B}b\u{C}c\u{85}d"), "abcd");
        // A compatibility ideograph is spaced, then decomposed.
        assert_eq!(run(UNCASED, "\u{F900}"), " \u{8C48} ");
    }

    #[test]
    fn cased_keeps_case_and_marks() {
        assert_eq!(run(CASED, "Ångström İ ΣΑΣ"), "Ångström İ ΣΑΣ");
        let lower_only = NormalizerSpec {
            lowercase: true,
            ..CASED
        };
        assert_eq!(run(lower_only, "İ"), "i\u{307}");
    }

    #[test]
    fn reordering_spans_removed_controls() {
        // U+1D16D and U+1D165 are spacing marks (kept by accent stripping) of combining classes
        // 226 and 216: NFD swaps them, even with a removed control between them.
        assert_eq!(
            run(UNCASED, "a\u{1D16D}\u{1}\u{1D165}"),
            "a\u{1D165}\u{1D16D}"
        );
        // An ASCII letter ends the run: no reordering across it.
        assert_eq!(run(UNCASED, "\u{1D16D}b\u{1D165}"), "\u{1D16D}b\u{1D165}");
    }
}
