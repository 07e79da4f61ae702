//! Added tokens (`[CLS]`, `[MASK]`, ...) found in the raw text before anything else runs.
//!
//! Mirrors one pass of `tokenizers` 0.23 `AddedVocabulary::extract_and_normalize` for tokens
//! without `single_word` or `rstrip` (how `BertTokenizerFast` registers BERT's special tokens,
//! and RoBERTa its own): the text is cut at leftmost-longest, non-overlapping occurrences of the
//! tokens' contents (the crate's `daachorse` automaton in `LeftmostLongest` mode); each
//! occurrence becomes that token's id, and the text between occurrences is normalized,
//! pre-tokenized and encoded on its own, so an occurrence always ends a word. A token with
//! `lstrip` (RoBERTa's `<mask>`) also takes the whitespace (`\s`) before it, back to the previous
//! occurrence. The crate runs such a pass over the raw text for unnormalized tokens, then over
//! each normalized piece for normalized ones.

use super::classes::is_space;

/// A piece of the text: an added token's id, or text between tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'t> {
    Text(&'t str),
    Token(u32),
}

/// The added tokens' contents and ids.
#[derive(Debug, Clone, Default)]
pub struct AddedTokens {
    /// Longest first, so the first match at a position is the longest: (content, id, lstrip).
    tokens: Vec<(Box<[u8]>, u32, bool)>,
    /// Whether some token starts with this byte.
    first: Vec<bool>,
    /// The one first byte of every token, when they share it (BERT's `[`).
    only_first: Option<u8>,
}

impl AddedTokens {
    /// The tokens `(content, id)`; empty contents are ignored, as the crate ignores them.
    pub fn new<'a>(tokens: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        Self::stripping(tokens.into_iter().map(|(t, id)| (t, id, false)))
    }

    /// The tokens `(content, id, lstrip)`.
    pub fn stripping<'a>(tokens: impl IntoIterator<Item = (&'a str, u32, bool)>) -> Self {
        let mut tokens: Vec<(Box<[u8]>, u32, bool)> = tokens
            .into_iter()
            .filter(|(t, _, _)| !t.is_empty())
            .map(|(t, id, lstrip)| (t.as_bytes().into(), id, lstrip))
            .collect();
        tokens.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        tokens.dedup_by(|a, b| a.0 == b.0);
        let mut first = vec![false; 256];
        for (t, _, _) in &tokens {
            first[usize::from(t[0])] = true;
        }
        let only_first = match tokens.first() {
            Some((t, _, _)) if tokens.iter().all(|(u, _, _)| u[0] == t[0]) => Some(t[0]),
            _ => None,
        };
        AddedTokens {
            tokens,
            first,
            only_first,
        }
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there is no token.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The next position at or after `from` where some token may start.
    #[inline]
    fn candidate(&self, bytes: &[u8], from: usize) -> Option<usize> {
        let rest = bytes.get(from..)?;
        let at = match self.only_first {
            Some(b) => memchr::memchr(b, rest),
            None => rest.iter().position(|&b| self.first[usize::from(b)]),
        };
        at.map(|i| from + i)
    }

    /// The longest token at the start of `bytes`: its length, id and `lstrip`.
    #[inline]
    fn longest_at(&self, bytes: &[u8]) -> Option<(usize, u32, bool)> {
        self.tokens
            .iter()
            .find(|(t, _, _)| bytes.starts_with(t))
            .map(|(t, id, lstrip)| (t.len(), *id, *lstrip))
    }

    /// Calls `f` with the pieces of `text`, in order; empty text pieces are skipped.
    #[inline]
    pub fn split<'t>(&self, text: &'t str, mut f: impl FnMut(Piece<'t>)) {
        if self.tokens.is_empty() {
            if !text.is_empty() {
                f(Piece::Text(text));
            }
            return;
        }
        let bytes = text.as_bytes();
        let mut done = 0;
        let mut at = 0;
        while let Some(start) = self.candidate(bytes, at) {
            let Some((len, id, lstrip)) = bytes.get(start..).and_then(|b| self.longest_at(b))
            else {
                at = start + 1;
                continue;
            };
            // Tokens are whole UTF-8 strings, so `start` and `start + len` are boundaries.
            let from = if lstrip {
                let spaces = text[..start].chars().rev().take_while(|&c| is_space(c));
                (start - spaces.map(char::len_utf8).sum::<usize>()).max(done)
            } else {
                start
            };
            if let Some(before) = text.get(done..from).filter(|s| !s.is_empty()) {
                f(Piece::Text(before));
            }
            f(Piece::Token(id));
            done = start + len;
            at = done;
        }
        if let Some(rest) = text.get(done..).filter(|s| !s.is_empty()) {
            f(Piece::Text(rest));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces<'t>(added: &AddedTokens, text: &'t str) -> Vec<Piece<'t>> {
        let mut out = Vec::new();
        added.split(text, |p| out.push(p));
        out
    }

    #[test]
    fn splits_at_leftmost_longest_matches() {
        let added = AddedTokens::new([("[MASK]", 103), ("[CLS]", 101), ("", 7)]);
        assert_eq!(added.len(), 2);
        use Piece::*;
        assert_eq!(
            pieces(&added, "a[MASK]b [CLS][CLS] [MAS"),
            [
                Text("a"),
                Token(103),
                Text("b "),
                Token(101),
                Token(101),
                Text(" [MAS")
            ]
        );
        assert_eq!(
            pieces(&added, "[[MASK]]"),
            [Text("["), Token(103), Text("]")]
        );
        assert!(pieces(&added, "").is_empty());
        let nested = AddedTokens::new([("<x>", 1), ("<x>y", 2), ("x>", 3)]);
        assert_eq!(pieces(&nested, "<x>y<x>z"), [Token(2), Token(1), Text("z")]);
        assert_eq!(pieces(&nested, "x><x"), [Token(3), Text("<x")]);
    }

    #[test]
    fn an_lstrip_token_takes_the_spaces_before_it_back_to_the_last_token() {
        let added = AddedTokens::stripping([("<mask>", 4, true), ("<s>", 0, false)]);
        use Piece::*;
        assert_eq!(
            pieces(&added, "a \t <mask> b"),
            [Text("a"), Token(4), Text(" b")]
        );
        assert_eq!(pieces(&added, "<s>  <mask>"), [Token(0), Token(4)]);
        assert_eq!(pieces(&added, "\u{3000}<mask>"), [Token(4)]);
    }
}
