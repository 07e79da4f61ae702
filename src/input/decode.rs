//! Bytes to text: decompression and text decoding.
//!
//! Compression is recognised by magic bytes, whatever the file is called: gzip (`1f 8b`,
//! multi-member streams included), zstd (`28 b5 2f fd`) and bzip2 (`BZh`). The decoded bytes must
//! be UTF-8: a leading BOM is dropped, CRLF and lone CR become LF, and invalid UTF-8 is an error
//! naming the file and the byte offset (in the decompressed stream) of the first bad sequence.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::io_err;
use crate::error::{Error, Result};

/// Compression of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    None,
    Gzip,
    Zstd,
    Bzip2,
}

impl Compression {
    /// Recognises a compressed stream by its first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [b'B', b'Z', b'h', ..] => Compression::Bzip2,
            _ => Compression::None,
        }
    }
}

/// Reads a whole file, undoing its compression.
pub fn read_decompressed(path: &Path) -> Result<(Vec<u8>, Compression)> {
    let raw = std::fs::read(path).map_err(io_err(path))?;
    decompress(path, raw)
}

/// Undoes the compression of bytes already read (from `path`, named in errors; it may be a
/// stand-in such as `<stdin>`).
pub fn decompress(path: &Path, raw: Vec<u8>) -> Result<(Vec<u8>, Compression)> {
    let compression = Compression::sniff(&raw);
    let bytes = match compression {
        Compression::None => return Ok((raw, compression)),
        Compression::Gzip => read_to_end(path, flate2::read::MultiGzDecoder::new(&raw[..]))?,
        Compression::Zstd => {
            let decoder = zstd::stream::read::Decoder::new(&raw[..]).map_err(io_err(path))?;
            read_to_end(path, decoder)?
        }
        Compression::Bzip2 => read_to_end(path, bzip2::read::MultiBzDecoder::new(&raw[..]))?,
    };
    Ok((bytes, compression))
}

fn read_to_end(path: &Path, mut reader: impl Read) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    reader.read_to_end(&mut out).map_err(|e| {
        Error::io(
            path,
            std::io::Error::new(e.kind(), format!("corrupt compressed stream: {e}")),
        )
    })?;
    Ok(out)
}

/// Checks UTF-8, drops a BOM and normalises line ends to LF.
pub fn to_text(path: &Path, bytes: Vec<u8>) -> Result<String> {
    to_text_at(path, bytes, 0)
}

/// [`to_text`] for a piece of a decompressed file starting at byte `offset`: error offsets are
/// the file's, and a BOM is dropped only at offset 0.
pub fn to_text_at(path: &Path, mut bytes: Vec<u8>, offset: u64) -> Result<String> {
    let offset = offset as usize;
    let bom = if offset == 0 && bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    if let Err(e) = std::str::from_utf8(&bytes[bom..]) {
        return Err(Error::Utf8 {
            path: path.to_path_buf(),
            offset: offset + bom + e.valid_up_to(),
        });
    }
    if bom > 0 {
        bytes.drain(..bom);
    }
    if bytes.contains(&b'\r') {
        bytes = normalize_newlines(&bytes);
    }
    // Checked above; removing BOM bytes and CRs cannot break UTF-8.
    String::from_utf8(bytes).map_err(|e| Error::Utf8 {
        path: path.to_path_buf(),
        offset: offset + e.utf8_error().valid_up_to(),
    })
}

fn normalize_newlines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' {
            out.push(b'\n');
            if bytes.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(bytes[i]);
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn text(bytes: &[u8]) -> Result<String> {
        to_text(Path::new("f.txt"), bytes.to_vec())
    }

    #[test]
    fn drops_bom_and_normalises_line_ends() {
        assert_eq!(text(b"\xEF\xBB\xBFa\r\nb\rc\n").unwrap(), "a\nb\nc\n");
    }

    #[test]
    fn invalid_utf8_names_file_and_offset() {
        let err = text(b"abc\xffdef").unwrap_err();
        assert_eq!(err.to_string(), "f.txt: invalid UTF-8 at byte offset 3");
        let err = text(b"\xEF\xBB\xBFab\xc3").unwrap_err();
        assert_eq!(err.to_string(), "f.txt: invalid UTF-8 at byte offset 5");
    }

    #[test]
    fn offsets_of_a_piece_are_the_files() {
        let err = to_text_at(Path::new("f"), b"ab\xff".to_vec(), 1000).unwrap_err();
        assert_eq!(err.to_string(), "f: invalid UTF-8 at byte offset 1002");
        // A BOM is only a BOM at the start of the file.
        assert_eq!(
            to_text_at(Path::new("f"), b"\xEF\xBB\xBFx".to_vec(), 5).unwrap(),
            "\u{feff}x"
        );
    }

    #[test]
    fn reads_every_compression() {
        let dir = tempfile::tempdir().unwrap();
        let payload = "line one\nline two\n".repeat(50);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(payload.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(payload.as_bytes(), 3).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(payload.as_bytes()).unwrap();
        let bz = bz.finish().unwrap();
        for (name, bytes, kind) in [
            ("a.gz", gz, Compression::Gzip),
            ("b.zst", zst, Compression::Zstd),
            ("c.bz2", bz, Compression::Bzip2),
            ("d.txt", payload.as_bytes().to_vec(), Compression::None),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            let (out, found) = read_decompressed(&path).unwrap();
            assert_eq!(found, kind);
            assert_eq!(out, payload.as_bytes());
        }
    }

    #[test]
    fn truncated_stream_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all("hello world ".repeat(1000).as_bytes())
            .unwrap();
        let gz = gz.finish().unwrap();
        let path = dir.path().join("cut.gz");
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let err = read_decompressed(&path).unwrap_err();
        assert!(err.to_string().contains("cut.gz"), "{err}");
    }
}
