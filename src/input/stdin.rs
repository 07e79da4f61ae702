//! `--in -`: standard input as an input file.
//!
//! A build needs its inputs' sizes before reading them (they fix the spill bucket count and
//! identify the build for resuming), so standard input is first copied, streaming, to a hidden
//! file in the output directory (`.bertprep-stdin`); that file stands for `-`
//! in the input list and the manifest, and the build removes it when it ends. Everything else —
//! compression, encoding and format detection — works as for any file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The `--in` argument that means standard input.
pub const STDIN_ARG: &str = "-";

/// Opens the spool file for writing: created, or — left by a killed build reading standard
/// input — truncated, but only when it is a regular file with no other name. Never through a
/// symbolic link (`O_NOFOLLOW`) or into a file linked elsewhere: those are refused.
fn open_spool(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if !meta.file_type().is_file() || meta.nlink() != 1 {
            return Err(Error::output(
                path,
                "exists and is not a file a build left (a symbolic link, a directory or a file \
                 with other names); move it away",
            ));
        }
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// Replaces every `-` in `inputs` by `path` (a file in `out`), after copying standard input there
/// once; returns the inputs and the spool file, if one was written.
pub fn spool(
    inputs: &[PathBuf],
    out: &Path,
    path: &Path,
) -> Result<(Vec<PathBuf>, Option<PathBuf>)> {
    if !inputs.iter().any(|p| p.as_os_str() == STDIN_ARG) {
        return Ok((inputs.to_vec(), None));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut file = open_spool(path)?;
    let copied =
        std::io::copy(&mut std::io::stdin().lock(), &mut file).and_then(|_| file.sync_all());
    if let Err(e) = copied {
        let _ = std::fs::remove_file(path);
        return Err(Error::io(
            path,
            std::io::Error::new(e.kind(), format!("copying standard input: {e}")),
        ));
    }
    let inputs = inputs
        .iter()
        .map(|p| {
            if p.as_os_str() == STDIN_ARG {
                path.to_path_buf()
            } else {
                p.clone()
            }
        })
        .collect();
    Ok((inputs, Some(path.to_path_buf())))
}
