//! BERT's pre-tokenizer over the normalized character stream: words between whitespace,
//! punctuation split off one character at a time, each word handed straight to WordPiece.
//!
//! Mirrors `tokenizers` 0.23 `BertPreTokenizer`: split on `char::is_whitespace` (removed), then
//! isolate every ASCII punctuation or Unicode P* character (`is_bert_punc`); empty pieces vanish.
//! [`Words`] receives characters from the normalizer, gathers the current word's UTF-8 bytes in
//! a buffer that is reused for every word (its capacity kept), counts its characters for
//! WordPiece's length limit, and appends each finished word's ids to the output.

use super::chars::{self, flags};
use super::model::WordPieceModel;
use super::normalize::CharSink;

/// [`chars::flags`] of the ASCII characters, copied out of the lazily built table so the
/// per-byte path reads a plain array.
pub fn ascii_flags() -> [u8; 128] {
    let mut out = [0u8; 128];
    for (b, slot) in (0u8..).zip(out.iter_mut()) {
        *slot = flags(char::from(b));
    }
    out
}

/// Pre-tokenizer state while one text is encoded.
pub struct Words<'a> {
    model: &'a WordPieceModel,
    ascii: &'a [u8; 128],
    word: &'a mut Vec<u8>,
    chars: usize,
    out: &'a mut Vec<u32>,
}

impl<'a> Words<'a> {
    /// Starts with no word; `ascii` is [`ascii_flags`], `word` scratch space (cleared), ids go
    /// to `out`.
    pub fn new(
        model: &'a WordPieceModel,
        ascii: &'a [u8; 128],
        word: &'a mut Vec<u8>,
        out: &'a mut Vec<u32>,
    ) -> Self {
        word.clear();
        Words {
            model,
            ascii,
            word,
            chars: 0,
            out,
        }
    }

    /// Ends the current word, if any, and tokenizes it.
    #[inline]
    pub fn end_word(&mut self) {
        if !self.word.is_empty() {
            self.model.tokenize(self.word, self.chars, self.out);
            self.word.clear();
            self.chars = 0;
        }
    }

    /// A punctuation character: a word of its own.
    #[inline]
    fn punctuation(&mut self, c: char) {
        self.end_word();
        let mut buf = [0u8; 4];
        self.model
            .tokenize(c.encode_utf8(&mut buf).as_bytes(), 1, self.out);
    }

    /// An ASCII whitespace or punctuation character (off the per-byte hot path).
    #[inline(never)]
    fn ascii_split(&mut self, b: u8, f: u8) {
        if f & chars::SPLIT_SPACE != 0 {
            self.end_word();
        } else {
            self.punctuation(char::from(b));
        }
    }
}

impl CharSink for Words<'_> {
    #[inline(always)]
    fn ascii(&mut self, b: u8) {
        let f = self.ascii[usize::from(b & 0x7F)];
        if f & (chars::SPLIT_SPACE | chars::PUNCTUATION) == 0 {
            self.word.push(b);
            self.chars += 1;
        } else {
            self.ascii_split(b, f);
        }
    }

    #[inline]
    fn char(&mut self, c: char) {
        let f = flags(c);
        if f & (chars::SPLIT_SPACE | chars::PUNCTUATION) == 0 {
            let mut buf = [0u8; 4];
            self.word
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            self.chars += 1;
        } else if f & chars::SPLIT_SPACE != 0 {
            self.end_word();
        } else {
            self.punctuation(c);
        }
    }
}
