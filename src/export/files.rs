//! Output files of an export, written whole or not at all.
//!
//! A [`Pending`] file is written under a hidden temporary name ([`layout::temp_path`]) through a
//! [`HashingWriter`] that counts its bytes and SHA-256 as they go, synced, and renamed to its
//! real name only by [`Pending::commit`] — after every file of its source shard is complete.
//! A file another library wrote at the temporary name (HDF5) becomes pending through
//! [`Pending::from_written`].
//! Dropped uncommitted (an error, a panic), the temporary file is removed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::output::layout;

/// A writer that hashes and counts what passes through it into a buffered temporary file;
/// dropped before [`HashingWriter::finish`], it removes the file.
pub struct HashingWriter {
    file: Option<BufWriter<File>>,
    hasher: Sha256,
    bytes: u64,
    tmp: PathBuf,
}

impl Write for HashingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let file = self.file.as_mut().expect("written after finish");
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

/// A complete file under its temporary name, waiting for [`Pending::commit`].
#[derive(Debug)]
pub struct Pending {
    tmp: PathBuf,
    path: PathBuf,
    /// The file's name in the output directory.
    pub name: String,
    /// Its size.
    pub bytes: u64,
    /// Its hex SHA-256.
    pub sha256: String,
    committed: bool,
}

impl HashingWriter {
    /// Creates the temporary file for `dir/name`.
    pub fn create(dir: &Path, name: &str) -> Result<HashingWriter> {
        let tmp = layout::temp_path(&dir.join(name));
        let file = layout::create_new(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(HashingWriter {
            file: Some(BufWriter::with_capacity(1 << 20, file)),
            hasher: Sha256::new(),
            bytes: 0,
            tmp,
        })
    }

    /// Flushes and syncs the file: it is complete under its temporary name, to be renamed to
    /// `dir/name`.
    pub fn finish(mut self, dir: &Path, name: &str) -> Result<Pending> {
        let pending = Pending {
            tmp: self.tmp.clone(),
            path: dir.join(name),
            name: name.to_string(),
            bytes: self.bytes,
            sha256: crate::tokenize::hex(&std::mem::take(&mut self.hasher).finalize()),
            committed: false,
        };
        // From here the pending file owns the temporary name (and removes it on an error).
        let file = self.file.take().expect("finished once");
        let file = file
            .into_inner()
            .map_err(|e| Error::io(&pending.tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&pending.tmp, e))?;
        Ok(pending)
    }
}

impl Drop for HashingWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Pending {
    /// A file another writer completed at the temporary path `tmp`, to be renamed to
    /// `dir/name`: read back once for its size and SHA-256, and synced.
    pub fn from_written(tmp: &Path, dir: &Path, name: &str) -> Result<Pending> {
        let mut pending = Pending {
            tmp: tmp.to_path_buf(),
            path: dir.join(name),
            name: name.to_string(),
            bytes: 0,
            sha256: String::new(),
            committed: false,
        };
        // From here the pending file owns the temporary name (and removes it on an error).
        let mut file = File::open(tmp).map_err(|e| Error::io(tmp, e))?;
        let mut hasher = Sha256::new();
        pending.bytes = std::io::copy(&mut file, &mut hasher).map_err(|e| Error::io(tmp, e))?;
        pending.sha256 = crate::tokenize::hex(&hasher.finalize());
        file.sync_all().map_err(|e| Error::io(tmp, e))?;
        Ok(pending)
    }

    /// Renames the file to its real name.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
