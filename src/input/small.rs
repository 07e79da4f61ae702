//! Reading a file we did not just write and hold whole — a manifest, a state file, a tokenizer,
//! a vocabulary: it must be a regular file (not `/dev/zero`, a FIFO or a directory, whatever a
//! symbolic link points at) and at most a stated size, so a hostile or mistaken path costs a
//! clear error, never unbounded memory or a hang.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Size bound of metadata files: manifests, state files, `config.json`s.
pub const MAX_METADATA_BYTES: u64 = 256 << 20;

/// Size bound of a tokenizer or vocabulary file (the largest published `tokenizer.json` files
/// are tens of MiB).
pub const MAX_TOKENIZER_BYTES: u64 = 512 << 20;

/// The bytes of `path`, a regular file of at most `max` bytes.
pub fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(Error::output(
            path,
            "not a regular file (a device, FIFO or directory); refusing to read it",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(max) as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max {
        return Err(Error::output(
            path,
            format!("larger than {} MiB; refusing to read it whole", max >> 20),
        ));
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text_bounded(path: &Path, max: u64) -> Result<String> {
    let bytes = read_bounded(path, max)?;
    String::from_utf8(bytes).map_err(|e| Error::Utf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_devices_and_oversized_files() {
        let err = read_bounded(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        let err = read_bounded(&path, 1024).unwrap_err();
        assert!(err.to_string().contains("larger than"), "{err}");
        assert_eq!(read_bounded(&path, 2048).unwrap().len(), 2048);
    }
}
