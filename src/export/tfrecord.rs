//! Google BERT's TFRecord files: one `tf.train.Example` per row, as `run_pretraining.py` and the
//! TF Model Garden read them.
//!
//! A record is framed as TensorFlow's `RecordWriter` frames it: the payload length (u64, little
//! endian), the masked CRC-32C of those 8 bytes, the payload, the masked CRC-32C of the payload
//! (`mask(c) = ((c >> 15) | (c << 17)) + 0xa282ead8`). With gzip the records are compressed as
//! consecutive gzip members (see `export::write_tfrecord`), which
//! `TFRecordDataset(..., compression_type="GZIP")` reads as one stream.
//!
//! The payload is the protobuf encoding of an `Example` whose features are those of Google's
//! `create_pretraining_data.py`, in its order: int64 `input_ids`, `input_mask`, `segment_ids`
//! (`L` values), `masked_lm_positions`, `masked_lm_ids` (`P`), float `masked_lm_weights` (`P`),
//! int64 `next_sentence_labels` (1). The encoding is written here: an `Example` is four nested
//! length-delimited messages around packed lists, and writing it straight from the row's slices
//! costs no allocation per record. [`read_examples`] decodes what this module writes (and any
//! `Example` of int64 and float lists), checking every CRC.

use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

use super::rows::Predictions;

/// The feature names, in Google's order.
pub const INPUT_IDS: &str = "input_ids";
pub const INPUT_MASK: &str = "input_mask";
pub const SEGMENT_IDS: &str = "segment_ids";
pub const MASKED_LM_POSITIONS: &str = "masked_lm_positions";
pub const MASKED_LM_IDS: &str = "masked_lm_ids";
pub const MASKED_LM_WEIGHTS: &str = "masked_lm_weights";
pub const NEXT_SENTENCE_LABELS: &str = "next_sentence_labels";

const MASK_DELTA: u32 = 0xa282_ead8;

/// TensorFlow's masked CRC-32C.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// One row in Google's layout, borrowed.
pub struct ExampleRow<'a> {
    pub input_ids: &'a [i32],
    pub input_mask: &'a [i8],
    pub segment_ids: &'a [i8],
    pub predictions: &'a Predictions,
    pub next_sentence_label: i8,
}

/// Encodes rows as framed records into a writer, reusing one buffer.
pub struct RecordEncoder {
    payload: Vec<u8>,
}

impl Default for RecordEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordEncoder {
    pub fn new() -> Self {
        RecordEncoder {
            payload: Vec::with_capacity(4096),
        }
    }

    /// Writes `row` as one framed record.
    pub fn write(&mut self, out: &mut impl Write, row: &ExampleRow<'_>) -> std::io::Result<()> {
        self.payload.clear();
        encode_example(&mut self.payload, row);
        let len = (self.payload.len() as u64).to_le_bytes();
        out.write_all(&len)?;
        out.write_all(&masked_crc(&len).to_le_bytes())?;
        out.write_all(&self.payload)?;
        out.write_all(&masked_crc(&self.payload).to_le_bytes())
    }
}

/// A feature's values, as the encoder sees them.
enum Values<'a> {
    I32(&'a [i32]),
    I8(&'a [i8]),
    One(i64),
    Weights(&'a Predictions),
}

impl Values<'_> {
    /// `(field number of the list inside Feature, packed payload length)`.
    fn kind_and_len(&self) -> (u32, usize) {
        match self {
            Values::I32(v) => (3, v.iter().map(|&x| varint_len(x as i64 as u64)).sum()),
            Values::I8(v) => (3, v.iter().map(|&x| varint_len(x as i64 as u64)).sum()),
            Values::One(x) => (3, varint_len(*x as u64)),
            Values::Weights(p) => (2, 4 * p.positions.len()),
        }
    }

    fn write_payload(&self, out: &mut Vec<u8>) {
        match self {
            Values::I32(v) => v.iter().for_each(|&x| put_varint(out, x as i64 as u64)),
            Values::I8(v) => v.iter().for_each(|&x| put_varint(out, x as i64 as u64)),
            Values::One(x) => put_varint(out, *x as u64),
            Values::Weights(p) => p
                .weights()
                .for_each(|w| out.extend_from_slice(&w.to_le_bytes())),
        }
    }
}

fn encode_example(out: &mut Vec<u8>, row: &ExampleRow<'_>) {
    let p = row.predictions;
    let features: [(&str, Values<'_>); 7] = [
        (INPUT_IDS, Values::I32(row.input_ids)),
        (INPUT_MASK, Values::I8(row.input_mask)),
        (SEGMENT_IDS, Values::I8(row.segment_ids)),
        (MASKED_LM_POSITIONS, Values::I32(&p.positions)),
        (MASKED_LM_IDS, Values::I32(&p.ids)),
        (MASKED_LM_WEIGHTS, Values::Weights(p)),
        (
            NEXT_SENTENCE_LABELS,
            Values::One(i64::from(row.next_sentence_label)),
        ),
    ];
    // Sizes from the inside out: the packed list, the list message, the Feature, the map entry.
    let sizes: Vec<(u32, usize, usize, usize, usize)> = features
        .iter()
        .map(|(key, values)| {
            let (kind, packed) = values.kind_and_len();
            let list = field_len(packed);
            let feature = field_len(list);
            let entry = field_len(key.len()) + field_len(feature);
            (kind, packed, list, feature, entry)
        })
        .collect();
    let features_len: usize = sizes.iter().map(|s| field_len(s.4)).sum();
    put_tag(out, 1, features_len); // Example.features
    for ((key, values), &(kind, packed, list, feature, entry)) in features.iter().zip(&sizes) {
        put_tag(out, 1, entry); // Features.feature (a map entry)
        put_tag(out, 1, key.len()); // entry key
        out.extend_from_slice(key.as_bytes());
        put_tag(out, 2, feature); // entry value: Feature
        put_tag(out, kind, list); // Feature.int64_list / float_list
        put_tag(out, 1, packed); // the packed `value` field
        values.write_payload(out);
    }
}

/// Bytes of a length-delimited field holding `len` bytes (tag of a field below 16, length, data).
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn put_tag(out: &mut Vec<u8>, field: u32, len: usize) {
    out.push(((field << 3) | 2) as u8);
    put_varint(out, len as u64);
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A decoded `Example`: each feature's values, ints and floats apart.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Example {
    pub ints: std::collections::BTreeMap<String, Vec<i64>>,
    pub floats: std::collections::BTreeMap<String, Vec<f32>>,
}

/// Reads every record of a TFRecord file (gzip-compressed when `gzip`), checking the framing's
/// CRCs; an error names the file and the record.
pub fn read_examples(path: &Path, gzip: bool) -> Result<Vec<Example>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader: Box<dyn Read> = if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            file,
        )))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let mut examples = Vec::new();
    loop {
        let bad = |what: String| Error::Format {
            path: path.to_path_buf(),
            line: 0,
            message: format!("record {}: {what}", examples.len()),
        };
        let mut head = [0u8; 12];
        match read_full(&mut reader, &mut head).map_err(|e| Error::io(path, e))? {
            0 => return Ok(examples),
            12 => {}
            n => return Err(bad(format!("cut short: {n} of 12 header bytes"))),
        }
        let len_bytes: [u8; 8] = head[..8].try_into().expect("8 bytes");
        if masked_crc(&len_bytes).to_le_bytes() != head[8..12] {
            return Err(bad("length CRC mismatch".into()));
        }
        let len = u64::from_le_bytes(len_bytes);
        if len > 1 << 30 {
            return Err(bad(format!("implausible length {len}")));
        }
        let mut payload = vec![0u8; len as usize + 4];
        if read_full(&mut reader, &mut payload).map_err(|e| Error::io(path, e))? != payload.len() {
            return Err(bad("cut short inside the record".into()));
        }
        let (data, crc) = payload.split_at(len as usize);
        if masked_crc(data).to_le_bytes() != crc {
            return Err(bad("data CRC mismatch".into()));
        }
        examples.push(decode_example(data).map_err(|e| bad(e.to_string()))?);
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A protobuf reader over one message's bytes.
struct Pb<'a>(&'a [u8]);

impl<'a> Pb<'a> {
    fn varint(&mut self) -> std::result::Result<u64, &'static str> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first().ok_or("truncated varint")?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err("varint too long")
    }

    /// The next length-delimited field: `(field number, bytes)`.
    fn field(&mut self) -> std::result::Result<Option<(u64, &'a [u8])>, &'static str> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let tag = self.varint()?;
        if tag & 7 != 2 {
            return Err("unexpected wire type");
        }
        let len = self.varint()? as usize;
        if len > self.0.len() {
            return Err("truncated field");
        }
        let (data, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(Some((tag >> 3, data)))
    }
}

fn decode_example(data: &[u8]) -> std::result::Result<Example, &'static str> {
    let mut example = Example::default();
    let mut msg = Pb(data);
    while let Some((1, features)) = msg.field()? {
        let mut features = Pb(features);
        while let Some((1, entry)) = features.field()? {
            let (mut key, mut feature) = (String::new(), &[][..]);
            let mut entry = Pb(entry);
            while let Some((n, bytes)) = entry.field()? {
                match n {
                    1 => key = String::from_utf8(bytes.to_vec()).map_err(|_| "key not UTF-8")?,
                    _ => feature = bytes,
                }
            }
            let mut feature = Pb(feature);
            while let Some((kind, list)) = feature.field()? {
                let mut list = Pb(list);
                while let Some((_, packed)) = list.field()? {
                    match kind {
                        3 => {
                            let values = example.ints.entry(key.clone()).or_default();
                            let mut p = Pb(packed);
                            while !p.0.is_empty() {
                                values.push(p.varint()? as i64);
                            }
                        }
                        2 => example.floats.entry(key.clone()).or_default().extend(
                            packed
                                .chunks_exact(4)
                                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))),
                        ),
                        _ => return Err("a bytes feature (not written by bertprep)"),
                    }
                }
            }
        }
    }
    Ok(example)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_of_known_bytes() {
        // CRC-32C("123456789") = 0xe3069283, masked as TensorFlow masks it.
        let crc = crc32c::crc32c(b"123456789");
        assert_eq!(crc, 0xe306_9283);
        assert_eq!(masked_crc(b"123456789"), 0xc78a_b0e5);
    }

    #[test]
    fn varints_round_trip() {
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v));
            assert_eq!(Pb(&out).varint().unwrap(), v);
        }
    }

    #[test]
    fn an_example_round_trips() {
        let predictions = Predictions {
            positions: vec![1, 300, 0],
            ids: vec![2000, 70000, 0],
            count: 2,
        };
        let row = ExampleRow {
            input_ids: &[101, 103, 2000, 102],
            input_mask: &[1, 1, 1, 0],
            segment_ids: &[0, 0, 1, 0],
            predictions: &predictions,
            next_sentence_label: 1,
        };
        let mut buf = Vec::new();
        encode_example(&mut buf, &row);
        let ex = decode_example(&buf).unwrap();
        assert_eq!(ex.ints[INPUT_IDS], [101, 103, 2000, 102]);
        assert_eq!(ex.ints[INPUT_MASK], [1, 1, 1, 0]);
        assert_eq!(ex.ints[SEGMENT_IDS], [0, 0, 1, 0]);
        assert_eq!(ex.ints[MASKED_LM_POSITIONS], [1, 300, 0]);
        assert_eq!(ex.ints[MASKED_LM_IDS], [2000, 70000, 0]);
        assert_eq!(ex.ints[NEXT_SENTENCE_LABELS], [1]);
        assert_eq!(ex.floats[MASKED_LM_WEIGHTS], [1.0, 1.0, 0.0]);
    }
}
