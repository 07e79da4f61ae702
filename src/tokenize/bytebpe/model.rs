//! Byte-level BPE merges over one pre-tokenized piece, as `tokenizers`' `BPE` model merges a
//! word (`Word::merge_all`).
//!
//! A piece starts as one symbol per byte (the vocabulary id of that byte's character in GPT-2's
//! byte-to-unicode mapping). The merges are applied through a min-heap ordered by (rank,
//! position): the lowest-ranked pair present, leftmost among equals, is merged, and the pairs
//! the new symbol forms with its neighbours are pushed; a popped entry whose pair has since
//! changed (checked, as the crate checks it, by the id it would produce) is dropped. With
//! `ignore_merges`, a piece that is itself in the vocabulary is that one id.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ahash::AHashMap;

/// One symbol of a piece being merged: a doubly linked list over the initial bytes.
#[derive(Debug, Clone, Copy)]
struct Symbol {
    id: u32,
    prev: u32,
    next: u32,
    alive: bool,
}

/// No neighbour.
const NONE: u32 = u32::MAX;

/// Buffers reused across pieces.
#[derive(Debug, Default)]
pub struct Work {
    symbols: Vec<Symbol>,
    heap: BinaryHeap<Reverse<(u32, u32, u32)>>,
}

/// The merges and byte ids of a byte-level BPE.
#[derive(Debug, Clone)]
pub struct ByteBpeModel {
    /// Id of each byte's character.
    pub byte_ids: [u32; 256],
    /// `(left, right)` packed as `left << 32 | right` → (rank, merged id).
    pub merges: AHashMap<u64, (u32, u32)>,
    /// With `ignore_merges`: the vocabulary by the bytes each token stands for.
    pub whole: Option<AHashMap<Box<[u8]>, u32>>,
}

#[inline]
fn pair(left: u32, right: u32) -> u64 {
    (u64::from(left) << 32) | u64::from(right)
}

impl ByteBpeModel {
    /// Appends the ids of the piece `bytes` to `out`.
    pub fn encode_piece(&self, bytes: &[u8], work: &mut Work, out: &mut Vec<u32>) {
        if let Some(&id) = self.whole.as_ref().and_then(|w| w.get(bytes)) {
            out.push(id);
            return;
        }
        if let [b] = bytes {
            out.push(self.byte_ids[usize::from(*b)]);
            return;
        }
        let Work { symbols, heap } = work;
        symbols.clear();
        heap.clear();
        let n = bytes.len() as u32;
        symbols.extend(bytes.iter().enumerate().map(|(i, &b)| Symbol {
            id: self.byte_ids[usize::from(b)],
            prev: if i == 0 { NONE } else { i as u32 - 1 },
            next: if i as u32 + 1 == n {
                NONE
            } else {
                i as u32 + 1
            },
            alive: true,
        }));
        for (pos, w) in symbols.windows(2).enumerate() {
            if let Some(&(rank, id)) = self.merges.get(&pair(w[0].id, w[1].id)) {
                heap.push(Reverse((rank, pos as u32, id)));
            }
        }
        while let Some(Reverse((_, pos, new_id))) = heap.pop() {
            self.merge_at(symbols, heap, pos as usize, new_id);
        }
        out.extend(symbols.iter().filter(|s| s.alive).map(|s| s.id));
    }

    /// Merges the symbol at `pos` with its right neighbour into `new_id`, unless the entry is
    /// stale, and queues the pairs the merged symbol forms.
    #[inline]
    fn merge_at(
        &self,
        symbols: &mut [Symbol],
        heap: &mut BinaryHeap<Reverse<(u32, u32, u32)>>,
        pos: usize,
        new_id: u32,
    ) {
        let current = symbols[pos];
        if !current.alive || current.next == NONE {
            return;
        }
        let right = symbols[current.next as usize];
        match self.merges.get(&pair(current.id, right.id)) {
            Some(&(_, id)) if id == new_id => {}
            _ => return,
        }
        symbols[pos].id = new_id;
        symbols[pos].next = right.next;
        symbols[current.next as usize].alive = false;
        if right.next != NONE {
            symbols[right.next as usize].prev = pos as u32;
        }
        if current.prev != NONE {
            let prev = symbols[current.prev as usize];
            if let Some(&(rank, id)) = self.merges.get(&pair(prev.id, new_id)) {
                heap.push(Reverse((rank, current.prev, id)));
            }
        }
        if right.next != NONE {
            let next = symbols[right.next as usize];
            if let Some(&(rank, id)) = self.merges.get(&pair(new_id, next.id)) {
                heap.push(Reverse((rank, pos as u32, id)));
            }
        }
    }
}

/// GPT-2's byte-to-unicode mapping: the character each byte is written as in the vocabulary.
/// Printable Latin-1 bytes stand for themselves; the rest take code points from 256 on, in
/// byte order.
pub fn byte_chars() -> [char; 256] {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    let mut chars = ['\0'; 256];
    let mut next = 256u32;
    for b in 0..=255u8 {
        chars[usize::from(b)] = if printable(b) {
            char::from(b)
        } else {
            next += 1;
            char::from_u32(next - 1).expect("below the surrogates")
        };
    }
    chars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_mapping_is_gpt2s() {
        let chars = byte_chars();
        assert_eq!(chars[usize::from(b' ')], 'Ġ');
        assert_eq!(chars[usize::from(b'\n')], 'Ċ');
        assert_eq!(chars[usize::from(b'a')], 'a');
        assert_eq!(chars[0xAD], 'Ń');
        let distinct: std::collections::HashSet<char> = chars.iter().copied().collect();
        assert_eq!(distinct.len(), 256);
    }

    #[test]
    fn merges_lowest_rank_first_leftmost_among_equals() {
        // bytes a=0 b=1; merges: (a,a)->2 rank 0, (2,b)->3 rank 1, (a,b)->4 rank 2.
        let mut byte_ids = [9u32; 256];
        byte_ids[usize::from(b'a')] = 0;
        byte_ids[usize::from(b'b')] = 1;
        let merges = AHashMap::from_iter([
            (pair(0, 0), (0, 2)),
            (pair(2, 1), (1, 3)),
            (pair(0, 1), (2, 4)),
        ]);
        let model = ByteBpeModel {
            byte_ids,
            merges,
            whole: None,
        };
        let encode = |s: &str| {
            let mut out = Vec::new();
            model.encode_piece(s.as_bytes(), &mut Work::default(), &mut out);
            out
        };
        assert_eq!(encode("aaab"), [2, 4]);
        assert_eq!(encode("aab"), [3]);
        assert_eq!(encode("ab"), [4]);
        assert_eq!(encode("b"), [1]);
        assert_eq!(encode("aaaa"), [2, 2]);
    }
}
