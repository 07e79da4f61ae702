//! Character classes of BERT's normalizer and pre-tokenizer, exactly as the `tokenizers` crate
//! computes them.
//!
//! Owns the predicates of `tokenizers` 0.23 `normalizers/bert.rs` (`is_control`,
//! `is_whitespace`, `is_chinese_char`, the nonspacing-mark filter of accent stripping) and
//! `pre_tokenizers/bert.rs` (`is_bert_punc`, the `char::is_whitespace` split), written over the
//! same Unicode data crates (`unicode_categories` for Cc/Cf/Co, Mn and P*,
//! `unicode-normalization-alignments` for decompositions and combining classes, the standard
//! library for White_Space and lowercasing). Any other table, even a newer one, would give other
//! ids on some characters.
//!
//! [`flags`] answers every question about a character at once: from a table of the Basic
//! Multilingual Plane, built a block of 256 characters at a time when a block is first used
//! (text touches few blocks, and building all 64 Ki entries would cost milliseconds at every
//! start), and from the predicates themselves above it. The table is derived from the
//! predicates, so it cannot disagree with them.

use std::sync::OnceLock;

use unicode_categories::UnicodeCategories;
use unicode_normalization_alignments::char::{canonical_combining_class, decompose_canonical};

/// Removed by `clean_text`: NUL, U+FFFD and controls (Cc, Cf, Co) other than `\t \n \r`.
pub const REMOVED: u8 = 1 << 0;
/// Turned into a space by `clean_text` (the normalizer's `is_whitespace`).
pub const CLEAN_SPACE: u8 = 1 << 1;
/// A CJK ideograph that `handle_chinese_chars` surrounds with spaces.
pub const CHINESE: u8 = 1 << 2;
/// Its canonical decomposition is itself and its combining class is 0: NFD leaves it alone and
/// never reorders anything across it.
pub const NFD_INERT: u8 = 1 << 3;
/// A nonspacing mark (Mn), dropped by accent stripping.
pub const NONSPACING_MARK: u8 = 1 << 4;
/// Split on and removed by the pre-tokenizer (`char::is_whitespace`).
pub const SPLIT_SPACE: u8 = 1 << 5;
/// Split off as a word of its own by the pre-tokenizer (ASCII punctuation or Unicode P*).
pub const PUNCTUATION: u8 = 1 << 6;

/// The normalizer's control test: `\t \n \r` are whitespace, not controls.
pub fn is_control(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        _ => c.is_other(),
    }
}

/// What `clean_text` removes.
pub fn is_removed(c: char) -> bool {
    c == '\0' || c == '\u{FFFD}' || is_control(c)
}

/// The normalizer's whitespace test (mapped to `' '` by `clean_text`).
pub fn is_clean_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || c.is_whitespace()
}

/// The CJK ideograph blocks of BERT's `_is_chinese_char`.
pub fn is_chinese_char(c: char) -> bool {
    matches!(
        c as u32,
        0x4E00..=0x9FFF
            | 0x3400..=0x4DBF
            | 0x20000..=0x2A6DF
            | 0x2A700..=0x2B73F
            | 0x2B740..=0x2B81F
            | 0x2B920..=0x2CEAF
            | 0xF900..=0xFAFF
            | 0x2F800..=0x2FA1F
    )
}

/// The pre-tokenizer's punctuation test.
pub fn is_bert_punc(c: char) -> bool {
    c.is_ascii_punctuation() || c.is_punctuation()
}

/// Whether NFD maps `c` to itself and treats it as a starter.
pub fn is_nfd_inert(c: char) -> bool {
    if canonical_combining_class(c) != 0 {
        return false;
    }
    let mut same = true;
    let mut count = 0;
    decompose_canonical(c, |d| {
        count += 1;
        same &= d == c;
    });
    same && count == 1
}

/// Every flag of `c`, computed from the predicates.
fn compute(c: char) -> u8 {
    let mut f = 0;
    let mut set = |flag: u8, on: bool| {
        if on {
            f |= flag;
        }
    };
    set(REMOVED, is_removed(c));
    set(CLEAN_SPACE, is_clean_space(c));
    set(CHINESE, is_chinese_char(c));
    set(NFD_INERT, is_nfd_inert(c));
    set(NONSPACING_MARK, c.is_mark_nonspacing());
    set(SPLIT_SPACE, c.is_whitespace());
    set(PUNCTUATION, is_bert_punc(c));
    f
}

/// Characters per block of the table.
const BLOCK: usize = 256;

/// Blocks of the table: the Basic Multilingual Plane.
const BLOCKS: usize = 0x10000 / BLOCK;

/// The flags of the characters of `block`, built on first use.
fn bmp_block(block: usize) -> &'static [u8; BLOCK] {
    static TABLE: [OnceLock<[u8; BLOCK]>; BLOCKS] = [const { OnceLock::new() }; BLOCKS];
    TABLE[block].get_or_init(|| {
        std::array::from_fn(|i| char::from_u32((block * BLOCK + i) as u32).map_or(0, compute))
    })
}

/// Every flag of `c`.
#[inline]
pub fn flags(c: char) -> u8 {
    let u = c as usize;
    if u < BLOCK * BLOCKS {
        bmp_block(u / BLOCK)[u % BLOCK]
    } else {
        compute(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_agrees_with_predicates_on_the_whole_plane() {
        for c in (0..=0xFFFFu32).filter_map(char::from_u32) {
            assert_eq!(flags(c), compute(c), "{c:?}");
        }
    }

    #[test]
    fn table_agrees_with_predicates() {
        for c in [
            'a', 'É', '\u{0301}', '\u{200B}', '\u{00A0}', '中', '\u{F900}', '，', '가',
        ] {
            assert_eq!(flags(c), compute(c), "{c:?}");
        }
        // Above the table.
        assert_eq!(flags('😀'), compute('😀'));
        assert_eq!(flags('\u{20000}') & CHINESE, CHINESE);
    }

    #[test]
    fn classes_follow_the_crate() {
        // Cf and Cc are removed, Cn (unassigned) and Zs are not.
        assert!(is_removed('\u{200B}') && is_removed('\u{FEFF}') && is_removed('\u{0085}'));
        assert!(is_removed('\u{000B}') && is_removed('\u{E000}') && is_removed('\u{FFFD}'));
        assert!(!is_removed('\u{0378}') && !is_removed('\t') && !is_removed('\u{00A0}'));
        assert!(is_clean_space('\u{00A0}') && is_clean_space('\u{3000}'));
        assert!(is_bert_punc('$') && is_bert_punc('«') && !is_bert_punc('€'));
        assert!(!is_nfd_inert('é') && !is_nfd_inert('\u{0301}') && !is_nfd_inert('가'));
        assert!(is_nfd_inert('a') && is_nfd_inert('中') && !is_nfd_inert('\u{F900}'));
    }
}
