//! Files replaced whole: written under a hidden temporary name unique to the process
//! ([`layout::temp_path`], created new so that nothing planted there is written through), then
//! renamed into place, so a reader sees the old file or the new one, never a part. The rename
//! replaces whatever entry `path` is — a symbolic link there is replaced, never followed.

use std::path::{Path, PathBuf};

use super::layout;
use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a hidden temporary file, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_replacing(path, bytes, true)
}

/// A file written whole and synced under its temporary name, waiting to be renamed into place
/// with [`Staged::commit`]; dropped uncommitted, the temporary file is removed. Writing every
/// file of a change first and renaming them after means a full disk fails the change before it
/// has touched anything.
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl Staged {
    /// Writes `bytes` under a temporary name beside `path`, synced.
    pub fn write(path: &Path, bytes: &[u8]) -> Result<Staged> {
        use std::io::Write;
        let tmp = layout::temp_path(path);
        let staged = Staged {
            tmp,
            path: path.to_path_buf(),
            committed: false,
        };
        let mut file = layout::create_new(&staged.tmp).map_err(|e| Error::io(path, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::io(path, e))?;
        Ok(staged)
    }

    /// Renames the file into place.
    pub fn commit(mut self) -> Result<()> {
        std::fs::rename(&self.tmp, &self.path).map_err(|e| Error::io(&self.path, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Replaces `path` through a temporary file and a rename, without syncing: readers never see a
/// partial file, and a killed process loses nothing (the data is in the OS), but a power loss
/// may. For checkpoints written many times a second.
pub fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    use std::io::Write;
    let tmp = layout::temp_path(path);
    let result = (|| {
        let mut file = layout::create_new(&tmp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}
