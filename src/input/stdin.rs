//! `--in -`: standard input as an input file.
//!
//! A build needs its inputs' sizes before reading them (they fix the spill bucket count and
//! identify the build for resuming), so standard input is first copied, streaming, to a hidden
//! file in the output directory (`.bertprep-stdin`, one per worker); that file stands for `-`
//! in the input list and the manifest, and the build removes it when it ends. Everything else —
//! compression, encoding and format detection — works as for any file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The `--in` argument that means standard input.
pub const STDIN_ARG: &str = "-";

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
    let copied = (|| {
        let mut file = std::fs::File::create(path)?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)?;
        file.sync_all()
    })();
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
