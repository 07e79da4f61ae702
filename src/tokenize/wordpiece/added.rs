//! Added tokens (`[CLS]`, `[MASK]`, ...) found in the raw text before anything else runs.
//!
//! Mirrors `tokenizers` 0.23 `AddedVocabulary::extract_and_normalize` for tokens that are not
//! normalized and have neither `single_word`, `lstrip` nor `rstrip` (how `BertTokenizerFast`
//! registers BERT's special tokens): the raw text is cut at leftmost-longest, non-overlapping
//! occurrences of the tokens' contents (the crate's `daachorse` automaton in `LeftmostLongest`
//! mode); each occurrence becomes that token's id, and the text between occurrences is
//! normalized, pre-tokenized and WordPiece'd on its own, so an occurrence always ends a word.

/// A piece of the text: an added token's id, or text between tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'t> {
    Text(&'t str),
    Token(u32),
}

/// The added tokens' contents and ids.
#[derive(Debug, Clone, Default)]
pub struct AddedTokens {
    /// Longest first, so the first match at a position is the longest.
    tokens: Vec<(Box<[u8]>, u32)>,
    /// Whether some token starts with this byte.
    first: Vec<bool>,
    /// The one first byte of every token, when they share it (BERT's `[`).
    only_first: Option<u8>,
}

impl AddedTokens {
    /// The tokens `(content, id)`; empty contents are ignored, as the crate ignores them.
    pub fn new<'a>(tokens: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let mut tokens: Vec<(Box<[u8]>, u32)> = tokens
            .into_iter()
            .filter(|(t, _)| !t.is_empty())
            .map(|(t, id)| (t.as_bytes().into(), id))
            .collect();
        tokens.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        tokens.dedup_by(|a, b| a.0 == b.0);
        let mut first = vec![false; 256];
        for (t, _) in &tokens {
            first[usize::from(t[0])] = true;
        }
        let only_first = match tokens.first() {
            Some((t, _)) if tokens.iter().all(|(u, _)| u[0] == t[0]) => Some(t[0]),
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

    /// The longest token at the start of `bytes`: its length and id.
    #[inline]
    fn longest_at(&self, bytes: &[u8]) -> Option<(usize, u32)> {
        self.tokens
            .iter()
            .find(|(t, _)| bytes.starts_with(t))
            .map(|(t, id)| (t.len(), *id))
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
            let Some((len, id)) = bytes.get(start..).and_then(|b| self.longest_at(b)) else {
                at = start + 1;
                continue;
            };
            // Tokens are whole UTF-8 strings, so `start` and `start + len` are boundaries.
            if let Some(before) = text.get(done..start).filter(|s| !s.is_empty()) {
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
}
