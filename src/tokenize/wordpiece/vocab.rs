//! A byte-string to id table for WordPiece lookups, built once, read without allocation.
//!
//! Owns the vocabulary as two [`PieceTable`]s: word-initial pieces (every vocabulary entry, as
//! WordPiece looks up `word[start..end]` unprefixed at the start of a word) and continuation
//! pieces (entries that begin with the continuing-subword prefix, keyed by what follows it, as
//! WordPiece looks up `"##" + word[start..end]` elsewhere). Looking the remainder up in the
//! second table answers the prefixed question without building the prefixed string.
//!
//! The table is open addressing with linear probing over one contiguous key arena, at most half
//! full; each slot keeps a key's first eight bytes, so keys up to eight bytes (most pieces) are
//! compared without touching the arena. Every key is non-empty (WordPiece never looks up an
//! empty piece) and `max_len` bounds the longest key, so a caller can skip candidates that
//! cannot be present.

/// One slot (16 bytes, four to a cache line): a key's first eight bytes (zero padded), its
/// length (0: empty slot) and id. Bytes past the eighth are in the arena at `starts[slot]`.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    head: u64,
    len: u32,
    id: u32,
}

/// Byte strings to ids.
#[derive(Clone)]
pub struct PieceTable {
    /// Bloom filter (two bits per key) answering most misses from a small, cache-resident
    /// array: WordPiece's greedy search asks for many absent pieces.
    bloom: Vec<u64>,
    bloom_mask: u64,
    bytes: Vec<u8>,
    slots: Vec<Slot>,
    starts: Vec<usize>,
    mask: usize,
    max_len: usize,
    len: usize,
}

impl std::fmt::Debug for PieceTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PieceTable")
            .field("entries", &self.len)
            .field("max_len", &self.max_len)
            .finish()
    }
}

/// The first eight bytes of `key`, zero padded, as a little-endian integer, read without a
/// copy loop: overlapping loads put every byte at its place.
#[inline]
fn head(key: &[u8]) -> u64 {
    let n = key.len();
    let load4 = |at: usize| -> u64 {
        key.get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, |b| u64::from(u32::from_le_bytes(b)))
    };
    let byte = |at: usize| key.get(at).map_or(0, |&b| u64::from(b));
    if let Some(b) = key.get(..8).and_then(|b| b.try_into().ok()) {
        u64::from_le_bytes(b)
    } else if n >= 4 {
        load4(0) | (load4(n - 4) << (8 * (n - 4)))
    } else if n > 0 {
        byte(0) | (byte(n / 2) << (8 * (n / 2))) | (byte(n - 1) << (8 * (n - 1)))
    } else {
        0
    }
}

/// Multiply-xorshift hash of `key`, whose first eight bytes are `first`.
#[inline]
fn hash(key: &[u8], first: u64) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (first ^ key.len() as u64).wrapping_mul(K);
    if let Some(rest) = key.get(8..) {
        for chunk in rest.chunks(8) {
            h = (h.rotate_left(29) ^ head(chunk)).wrapping_mul(K);
        }
    }
    h ^ (h >> 29)
}

impl PieceTable {
    /// Builds the table from `(key, id)` pairs; empty keys are skipped and, for a repeated key,
    /// the last id wins (as inserting into a map would).
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a [u8], u32)>) -> Self {
        let entries: Vec<(&[u8], u32)> = entries
            .into_iter()
            .filter(|(k, _)| !k.is_empty() && k.len() <= u32::MAX as usize)
            .collect();
        let capacity = (entries.len() * 2).next_power_of_two().max(16);
        let bloom_bits = (entries.len() * 16).next_power_of_two().max(1024);
        let mut table = PieceTable {
            bloom: vec![0; bloom_bits / 64],
            bloom_mask: bloom_bits as u64 - 1,
            bytes: Vec::new(),
            slots: vec![Slot::default(); capacity],
            starts: vec![0; capacity],
            mask: capacity - 1,
            max_len: 0,
            len: 0,
        };
        for (key, id) in entries {
            table.insert(key, id);
        }
        table
    }

    /// The two Bloom bits of hash `h`: (word, bit mask) pairs.
    #[inline]
    fn bloom_bits(&self, h: u64) -> [(usize, u64); 2] {
        let a = (h >> 20) & self.bloom_mask;
        let b = (h >> 42) & self.bloom_mask;
        [
            ((a / 64) as usize, 1 << (a % 64)),
            ((b / 64) as usize, 1 << (b % 64)),
        ]
    }

    fn insert(&mut self, key: &[u8], id: u32) {
        let first = head(key);
        let h = hash(key, first);
        for (word, bit) in self.bloom_bits(h) {
            self.bloom[word] |= bit;
        }
        let mut i = h as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot.len == 0 {
                self.starts[i] = self.bytes.len();
                self.bytes.extend_from_slice(key);
                self.slots[i] = Slot {
                    head: first,
                    len: key.len() as u32,
                    id,
                };
                self.max_len = self.max_len.max(key.len());
                self.len += 1;
                return;
            }
            if self.key(i) == key {
                self.slots[i].id = id;
                return;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The key in slot `i`.
    #[inline]
    fn key(&self, i: usize) -> &[u8] {
        let start = self.starts[i];
        self.bytes
            .get(start..start + self.slots[i].len as usize)
            .unwrap_or_default()
    }

    /// The id of `key`, if present.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<u32> {
        if key.is_empty() || key.len() > self.max_len {
            return None;
        }
        let first = head(key);
        let h = hash(key, first);
        if self
            .bloom_bits(h)
            .iter()
            .any(|&(word, bit)| self.bloom.get(word).is_none_or(|w| w & bit == 0))
        {
            return None;
        }
        let mut i = h as usize & self.mask;
        loop {
            let slot = self.slots[i];
            if slot.len == 0 {
                return None;
            }
            if slot.head == first
                && slot.len as usize == key.len()
                && (key.len() <= 8 || self.key(i).get(8..) == key.get(8..))
            {
                return Some(slot.id);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Length in bytes of the longest key.
    #[inline]
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table has no key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_nothing_else() {
        let words: Vec<String> = (0..5000).map(|i| format!("w{i}")).collect();
        let table = PieceTable::new(
            words
                .iter()
                .enumerate()
                .map(|(i, w)| (w.as_bytes(), i as u32)),
        );
        assert_eq!(table.len(), 5000);
        for (i, w) in words.iter().enumerate() {
            assert_eq!(table.get(w.as_bytes()), Some(i as u32), "{w}");
        }
        for missing in ["", "w", "w5000", "x1", "w12345678901234567890"] {
            assert_eq!(table.get(missing.as_bytes()), None, "{missing}");
        }
    }

    #[test]
    fn head_is_the_zero_padded_prefix() {
        let text = b"abcdefghijk";
        for n in 0..=text.len() {
            let mut word = [0u8; 8];
            word[..n.min(8)].copy_from_slice(&text[..n.min(8)]);
            assert_eq!(head(&text[..n]), u64::from_le_bytes(word), "{n}");
        }
    }

    #[test]
    fn repeated_key_keeps_last_id_and_empty_keys_are_skipped() {
        let table = PieceTable::new([(&b"a"[..], 1), (b"", 2), (b"a", 3), (b"longer key", 4)]);
        assert_eq!(table.len(), 2);
        assert_eq!(table.get(b"a"), Some(3));
        assert_eq!(table.get(b""), None);
        assert_eq!(table.max_len(), 10);
    }
}
