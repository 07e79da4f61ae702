//! Greedy longest-match-first WordPiece over one pre-tokenized word.
//!
//! Mirrors `tokenizers` 0.23 `models/wordpiece` `WordPiece::tokenize` (itself Google BERT's
//! `WordpieceTokenizer`): a word of more than `max_input_chars_per_word` characters is one
//! `[UNK]`; otherwise, from the start of the word, take the longest prefix of what is left that
//! is in the vocabulary — unprefixed for the first piece, with the continuing-subword prefix
//! (`##`) after — and go on after it; if at some point no prefix matches, the whole word is one
//! `[UNK]`. Candidates longer than the longest vocabulary entry are skipped without a lookup,
//! which cannot change the result. Nothing is allocated: pieces are looked up as slices of the
//! word and ids are appended to the caller's vector.

use super::vocab::PieceTable;

/// WordPiece's vocabulary and settings.
#[derive(Debug, Clone)]
pub struct WordPieceModel {
    /// Every vocabulary entry, for the first piece of a word.
    pub heads: PieceTable,
    /// Entries starting with the continuing-subword prefix, keyed without it.
    pub tails: PieceTable,
    /// Id of the unknown token.
    pub unk: u32,
    /// Longer words (in characters) are `[UNK]`.
    pub max_chars: usize,
}

/// Whether byte `b` starts a UTF-8 character.
#[inline]
fn is_boundary(b: u8) -> bool {
    (b as i8) >= -0x40
}

impl WordPieceModel {
    /// Appends the ids of `word` (valid UTF-8, `chars` characters long, non-empty) to `out`.
    #[inline]
    pub fn tokenize(&self, word: &[u8], chars: usize, out: &mut Vec<u32>) {
        if chars > self.max_chars {
            out.push(self.unk);
            return;
        }
        // The common case: the whole word is one vocabulary entry.
        if let Some(id) = self.heads.get(word) {
            out.push(id);
            return;
        }
        let mark = out.len();
        let mut start = 0;
        while start < word.len() {
            let table = if start == 0 { &self.heads } else { &self.tails };
            let mut end = word.len().min(start + table.max_len());
            // Back off to a character boundary (a key never ends inside a character).
            while end > start && end < word.len() && !is_boundary(word[end]) {
                end -= 1;
            }
            let id = loop {
                if end <= start {
                    out.truncate(mark);
                    out.push(self.unk);
                    return;
                }
                if let Some(id) = table.get(&word[start..end]) {
                    break id;
                }
                end -= 1;
                while end > start && !is_boundary(word[end]) {
                    end -= 1;
                }
            };
            out.push(id);
            start = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(vocab: &[&str], max_chars: usize) -> WordPieceModel {
        let heads = PieceTable::new(
            vocab
                .iter()
                .enumerate()
                .map(|(i, t)| (t.as_bytes(), i as u32)),
        );
        let tails = PieceTable::new(
            vocab
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.strip_prefix("##").map(|rest| (rest.as_bytes(), i as u32))),
        );
        WordPieceModel {
            heads,
            tails,
            unk: 0,
            max_chars,
        }
    }

    fn ids(m: &WordPieceModel, word: &str) -> Vec<u32> {
        let mut out = vec![99];
        m.tokenize(word.as_bytes(), word.chars().count(), &mut out);
        out.split_off(1)
    }

    #[test]
    fn greedy_longest_match_first() {
        let m = model(
            &[
                "[UNK]", "un", "##aff", "##able", "una", "##ffable", "é", "##é",
            ],
            100,
        );
        assert_eq!(ids(&m, "unaffable"), [4, 5]);
        // No backtracking: "una" is taken, "##ble" is not in the vocabulary, so the word is
        // [UNK] although "un" + "##able" would spell it.
        assert_eq!(ids(&m, "unable"), [0]);
        assert_eq!(ids(&m, "unaff"), [0]);
        assert_eq!(ids(&m, "éé"), [6, 7]);
    }

    #[test]
    fn unk_for_unmatched_or_too_long_words() {
        let m = model(&["[UNK]", "a", "##a"], 3);
        assert_eq!(ids(&m, "aaa"), [1, 2, 2]);
        assert_eq!(ids(&m, "aaaa"), [0]);
        assert_eq!(ids(&m, "ab"), [0]);
        assert_eq!(ids(&m, "ba"), [0]);
        // Multi-byte characters count once.
        let m = model(&["[UNK]", "ä", "##ä"], 3);
        assert_eq!(ids(&m, "äää"), [1, 2, 2]);
    }
}
