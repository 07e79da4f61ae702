//! Bytes to text: decompression and text decoding.
//!
//! Compression is recognised by magic bytes, whatever the file is called: gzip (`1f 8b`,
//! multi-member streams included), zstd (`28 b5 2f fd`), bzip2 (`BZh`) and xz
//! (`fd 37 7a 58 5a 00`, multi-stream included; liblzma through the `xz2` crate). The decoded bytes must
//! be UTF-8: a leading BOM is dropped, CRLF and lone CR become LF, and invalid UTF-8 is an error
//! naming the file and the byte offset (in the decompressed stream) of the first bad sequence.
//! A file starting with a UTF-16 byte-order mark (`FF FE` little-endian, `FE FF` big-endian) is
//! transcoded to UTF-8 first ([`utf16_to_utf8`] while streaming); an unpaired surrogate or an odd
//! trailing byte is an error naming the byte offset in the UTF-16 stream. A NUL byte in the text
//! means a binary file: an error naming its offset.

use std::io::{BufRead, BufReader, Read};
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
    Xz,
}

impl Compression {
    /// Recognises a compressed stream by its first bytes.
    pub fn sniff(head: &[u8]) -> Compression {
        match head {
            [0x1f, 0x8b, ..] => Compression::Gzip,
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
            [b'B', b'Z', b'h', ..] => Compression::Bzip2,
            [0xFD, b'7', b'z', b'X', b'Z', 0x00, ..] => Compression::Xz,
            _ => Compression::None,
        }
    }

    /// The decompressed stream of `raw` (every member of a multi-member file), buffered.
    pub fn decoder<'a>(
        self,
        raw: impl BufRead + Send + 'a,
    ) -> std::io::Result<Box<dyn BufRead + Send + 'a>> {
        const BUFFER: usize = 1 << 20;
        Ok(match self {
            Compression::None => Box::new(raw),
            Compression::Gzip => Box::new(BufReader::with_capacity(
                BUFFER,
                flate2::bufread::MultiGzDecoder::new(raw),
            )),
            Compression::Zstd => Box::new(BufReader::with_capacity(
                BUFFER,
                zstd::stream::read::Decoder::with_buffer(raw)?,
            )),
            Compression::Bzip2 => Box::new(BufReader::with_capacity(
                BUFFER,
                bzip2::bufread::MultiBzDecoder::new(raw),
            )),
            Compression::Xz => Box::new(BufReader::with_capacity(
                BUFFER,
                xz2::bufread::XzDecoder::new_multi_decoder(raw),
            )),
        })
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
    if compression == Compression::None {
        return Ok((raw, compression));
    }
    let decoder = compression.decoder(&raw[..]).map_err(io_err(path))?;
    Ok((read_to_end(path, decoder)?, compression))
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
    if offset == 0 {
        if let Some(big_endian) = utf16_bom(&bytes) {
            bytes = transcode_utf16(&bytes[2..], big_endian).map_err(|e| Error::io(path, e))?;
        }
    }
    let bom = if offset == 0 && bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    // One SIMD check (simdutf8 validates as the standard library does, several times faster
    // on non-ASCII text), then the NUL check, then what is removed: a BOM and CRs.
    if let Err(e) = simdutf8::compat::from_utf8(&bytes[bom..]) {
        return Err(Error::Utf8 {
            path: path.to_path_buf(),
            offset: offset + bom + e.valid_up_to(),
        });
    }
    if let Some(nul) = memchr::memchr(0, &bytes) {
        return Err(Error::Binary {
            path: path.to_path_buf(),
            offset: offset + nul,
        });
    }
    if bom > 0 {
        bytes.drain(..bom);
    }
    if memchr::memchr(b'\r', &bytes).is_some() {
        bytes = normalize_newlines(&bytes);
    }
    // SAFETY: the bytes were checked to be UTF-8 above; removing a whole BOM and ASCII CRs
    // keeps them so.
    Ok(unsafe { String::from_utf8_unchecked(bytes) })
}

/// The byte order of a UTF-16 byte-order mark at the start of `head` (`true`: big-endian).
pub fn utf16_bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

/// UTF-16 code units (BOM already removed) to UTF-8 bytes.
fn transcode_utf16(bytes: &[u8], big_endian: bool) -> std::io::Result<Vec<u8>> {
    let mut decoder = Utf16Decoder::new(big_endian, 2);
    let mut out = Vec::with_capacity(bytes.len());
    decoder.push(bytes, &mut out)?;
    decoder.finish()?;
    Ok(out)
}

/// Incremental UTF-16 to UTF-8, keeping an odd byte and a high surrogate between calls.
struct Utf16Decoder {
    big_endian: bool,
    /// Offset in the UTF-16 stream of the next byte pushed (for errors).
    offset: u64,
    odd: Option<u8>,
    high: Option<u16>,
}

impl Utf16Decoder {
    fn new(big_endian: bool, offset: u64) -> Self {
        Utf16Decoder {
            big_endian,
            offset,
            odd: None,
            high: None,
        }
    }

    fn error(at: u64, what: &str) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("invalid UTF-16 at byte offset {at}: {what}"),
        )
    }

    fn push(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> std::io::Result<()> {
        for &b in bytes {
            let Some(first) = self.odd.take() else {
                self.odd = Some(b);
                self.offset += 1;
                continue;
            };
            let unit = if self.big_endian {
                u16::from_be_bytes([first, b])
            } else {
                u16::from_le_bytes([first, b])
            };
            let at = self.offset - 1;
            self.offset += 1;
            let c = match (self.high.take(), unit) {
                (None, 0xD800..=0xDBFF) => {
                    self.high = Some(unit);
                    continue;
                }
                (None, 0xDC00..=0xDFFF) => return Err(Self::error(at, "unpaired low surrogate")),
                (None, u) => char::from_u32(u32::from(u)),
                (Some(h), 0xDC00..=0xDFFF) => char::from_u32(
                    0x10000 + ((u32::from(h) - 0xD800) << 10) + (u32::from(unit) - 0xDC00),
                ),
                (Some(_), _) => return Err(Self::error(at - 2, "unpaired high surrogate")),
            };
            let c = c.ok_or_else(|| Self::error(at, "not a character"))?;
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        Ok(())
    }

    fn finish(&self) -> std::io::Result<()> {
        if self.odd.is_some() {
            return Err(Self::error(self.offset - 1, "odd number of bytes"));
        }
        if self.high.is_some() {
            return Err(Self::error(
                self.offset - 2,
                "unpaired high surrogate at the end",
            ));
        }
        Ok(())
    }
}

/// Streams UTF-16 (after its BOM) as UTF-8.
struct Utf16Reader<R> {
    inner: R,
    decoder: Utf16Decoder,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: BufRead> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos == self.out.len() && !self.done {
            self.out.clear();
            self.pos = 0;
            let chunk = self.inner.fill_buf()?;
            if chunk.is_empty() {
                self.done = true;
                self.decoder.finish()?;
                break;
            }
            let n = chunk.len();
            self.decoder.push(chunk, &mut self.out)?;
            self.inner.consume(n);
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Wraps `reader` so that a UTF-16 stream (recognised by its BOM, which is dropped) comes out
/// as UTF-8; any other stream is returned unchanged.
pub fn utf16_to_utf8(
    mut reader: Box<dyn BufRead + Send>,
) -> std::io::Result<Box<dyn BufRead + Send>> {
    let head = reader.fill_buf()?;
    let Some(big_endian) = utf16_bom(head) else {
        return Ok(reader);
    };
    reader.consume(2);
    Ok(Box::new(std::io::BufReader::with_capacity(
        1 << 20,
        Utf16Reader {
            inner: reader,
            decoder: Utf16Decoder::new(big_endian, 2),
            out: Vec::new(),
            pos: 0,
            done: false,
        },
    )))
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
    fn utf16_with_bom_is_transcoded() {
        let s = "Héllo 𝄞 wörld.\r\nZweite Zeile.\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(s.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        let want = "Héllo 𝄞 wörld.\nZweite Zeile.\n";
        assert_eq!(text(&le).unwrap(), want);
        assert_eq!(text(&be).unwrap(), want);
        // Streaming gives the same, whatever the buffer boundaries.
        for bytes in [&le, &be] {
            let inner = std::io::BufReader::with_capacity(3, std::io::Cursor::new(bytes.clone()));
            let mut out = String::new();
            utf16_to_utf8(Box::new(inner))
                .unwrap()
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, s);
        }
        // A lone surrogate and an odd length are errors with the offset.
        let err = text(&[0xFF, 0xFE, b'a', 0, 0x00, 0xDC]).unwrap_err();
        assert!(err.to_string().contains("byte offset 4"), "{err}");
        let err = text(&[0xFF, 0xFE, b'a', 0, b'b']).unwrap_err();
        assert!(err.to_string().contains("odd number"), "{err}");
    }

    #[test]
    fn nul_bytes_mean_binary() {
        let err = text(b"abc\0def").unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.txt: binary data (NUL byte) at byte offset 3; not a text file"
        );
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
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(payload.as_bytes()).unwrap();
        let xz = xz.finish().unwrap();
        for (name, bytes, kind) in [
            ("e.xz", xz, Compression::Xz),
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
