//! RoBERTa's rows without a sentence pair (`--objective none`): whole sentences packed into rows.
//!
//! FULL-SENTENCES (the default): each row is filled with whole sentences up to `capacity`
//! tokens (`max_seq_len - 2`, room for `[CLS]` and the closing `[SEP]`), running on across
//! document boundaries with a `[SEP]` between documents. DOC-SENTENCES (`cross_document`
//! false): a row ends with its document. A sentence longer than a row is cut into row-sized
//! pieces, each a row of its own (counted as `truncated`). Rows never start or end with the
//! documents' `[SEP]`. Packing draws nothing at random; the masks of each pass differ.
//!
//! A row is a [`Pair`] with all its tokens in `tokens_a` and `tokens_b` empty; its `source` is
//! the document its first token came from.

use super::record::{Counters, Pair, TokenizedDocument};

/// Packs the documents of one work unit into rows, appended to `out` in order.
pub fn pack_rows(
    docs: &[TokenizedDocument],
    capacity: usize,
    cross_document: bool,
    sep: u32,
    counters: &mut Counters,
    out: &mut Vec<Pair>,
) {
    let capacity = capacity.max(1);
    let mut row = Row::default();
    for doc in docs {
        if !row.tokens.is_empty() {
            // A [SEP] between documents when it and one more token fit; else the row ends.
            if cross_document && row.tokens.len() + 2 <= capacity {
                row.tokens.push(sep);
            } else {
                row.flush(sep, out);
            }
        }
        for sentence in &doc.sentences {
            if row.tokens.len() + sentence.len() > capacity {
                row.flush(sep, out);
            }
            let mut rest = sentence.as_slice();
            if rest.len() > capacity {
                counters.truncated += 1;
                while rest.len() > capacity {
                    let (piece, after) = rest.split_at(capacity);
                    out.push(row_pair(piece.to_vec(), doc.source));
                    rest = after;
                }
            }
            if row.tokens.is_empty() {
                row.source = doc.source;
            }
            row.tokens.extend_from_slice(rest);
        }
    }
    row.flush(sep, out);
}

/// The row being filled.
#[derive(Default)]
struct Row {
    tokens: Vec<u32>,
    source: u64,
}

impl Row {
    /// Emits the row, if it holds anything, without a trailing document separator.
    fn flush(&mut self, sep: u32, out: &mut Vec<Pair>) {
        if self.tokens.last() == Some(&sep) {
            self.tokens.pop();
        }
        if !self.tokens.is_empty() {
            out.push(row_pair(std::mem::take(&mut self.tokens), self.source));
        }
    }
}

fn row_pair(tokens: Vec<u32>, source: u64) -> Pair {
    Pair {
        tokens_a: tokens,
        tokens_b: Vec::new(),
        pair_label: false,
        short_target: false,
        truncated: false,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEP: u32 = 3;

    fn doc(source: u64, lens: &[usize]) -> TokenizedDocument {
        let base = 100 + source as u32 * 1000;
        let mut next = base;
        let sentences = lens
            .iter()
            .map(|&l| {
                (0..l)
                    .map(|_| {
                        next += 1;
                        next
                    })
                    .collect()
            })
            .collect();
        TokenizedDocument { source, sentences }
    }

    fn pack(docs: &[TokenizedDocument], capacity: usize, cross: bool) -> Vec<Pair> {
        let mut out = Vec::new();
        pack_rows(
            docs,
            capacity,
            cross,
            SEP,
            &mut Counters::default(),
            &mut out,
        );
        out
    }

    #[test]
    fn full_sentences_cross_documents_with_a_separator() {
        let docs = [doc(0, &[3, 4]), doc(1, &[2, 5]), doc(2, &[6])];
        let rows = pack(&docs, 10, true);
        let lens: Vec<usize> = rows.iter().map(|r| r.tokens_a.len()).collect();
        // [3 4 | SEP 2] = 10, then [5 SEP]... 5 + SEP + 6 > 10: [5], [6].
        assert_eq!(lens, [10, 5, 6]);
        assert_eq!(rows[0].tokens_a[7], SEP);
        assert_eq!((rows[0].source, rows[1].source, rows[2].source), (0, 1, 2));
        for row in &rows {
            assert_ne!(row.tokens_a[0], SEP);
            assert_ne!(*row.tokens_a.last().unwrap(), SEP);
            assert!(row.tokens_b.is_empty());
        }
        // Every token of every document, in order, once.
        let kept: Vec<u32> = rows
            .iter()
            .flat_map(|r| r.tokens_a.iter().copied().filter(|&t| t != SEP))
            .collect();
        let all: Vec<u32> = docs.iter().flat_map(|d| d.sentences.concat()).collect();
        assert_eq!(kept, all);
    }

    #[test]
    fn doc_sentences_end_rows_with_their_document() {
        let docs = [doc(0, &[3, 4]), doc(1, &[2])];
        let rows = pack(&docs, 10, false);
        let lens: Vec<usize> = rows.iter().map(|r| r.tokens_a.len()).collect();
        assert_eq!(lens, [7, 2]);
        assert!(rows.iter().all(|r| !r.tokens_a.contains(&SEP)));
    }

    #[test]
    fn long_sentences_become_row_sized_pieces() {
        let docs = [doc(0, &[2, 23, 1])];
        let mut counters = Counters::default();
        let mut rows = Vec::new();
        pack_rows(&docs, 10, true, SEP, &mut counters, &mut rows);
        let lens: Vec<usize> = rows.iter().map(|r| r.tokens_a.len()).collect();
        assert_eq!(lens, [2, 10, 10, 4]);
        assert_eq!(counters.truncated, 1);
    }
}
