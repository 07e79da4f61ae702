//! Files replaced whole: written under a hidden temporary name, then renamed into place, so a
//! reader sees the old file or the new one, never a part.

use std::path::Path;

use super::layout;
use crate::error::{Error, Result};

/// Writes `bytes` to `path` through a hidden temporary file, synced, then renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_replacing(path, bytes, true)
}

/// Replaces `path` through a temporary file and a rename, without syncing: readers never see a
/// partial file, and a killed process loses nothing (the data is in the OS), but a power loss
/// may. For checkpoints written many times a second.
pub fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> Result<()> {
    use std::io::Write;
    let tmp = layout::temp_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
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
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}
