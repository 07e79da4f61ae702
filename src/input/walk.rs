//! Expands the `--in` paths into a sorted list of input files.
//!
//! Files are taken as given; directories are walked recursively in byte order of their entry
//! names, skipping hidden entries (names starting with `.`). Symbolic links are followed; one that
//! leads back to a directory being walked (a loop) is an error naming it. The result keeps the order of the
//! `--in` arguments, each argument's files sorted, which fixes the file index recorded in every
//! instance's `source`.

use std::path::{Path, PathBuf};

use super::{io_err, InputFile};
use crate::error::{Error, Result};

/// Lists every input file under `paths`, in a deterministic order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<InputFile>> {
    let mut files = Vec::new();
    for path in paths {
        if super::remote::is_remote(path) {
            files.extend(super::remote::discover(path)?);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(io_err(path))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk_dir(path, &mut found, &mut Vec::new())?;
            found.sort();
            for p in found {
                let bytes = std::fs::metadata(&p).map_err(io_err(&p))?.len();
                files.push(InputFile { path: p, bytes });
            }
        } else {
            files.push(InputFile {
                path: path.clone(),
                bytes: meta.len(),
            });
        }
    }
    if files.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::NoInput(names.join(", ")));
    }
    Ok(files)
}

/// Directory nesting deeper than this is taken for a symlink loop.
const MAX_DEPTH: usize = 64;

/// Walks `dir`; `ancestors` are the canonical paths of the directories above it.
fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>, ancestors: &mut Vec<PathBuf>) -> Result<()> {
    if ancestors.len() > MAX_DEPTH {
        return Err(Error::io(
            dir,
            std::io::Error::other("directory nesting too deep (symlink loop?)"),
        ));
    }
    let canonical = std::fs::canonicalize(dir).map_err(io_err(dir))?;
    if let Some(above) = ancestors.iter().find(|a| **a == canonical) {
        return Err(Error::io(
            dir,
            std::io::Error::other(format!(
                "directory symlink loop (leads back to {})",
                above.display()
            )),
        ));
    }
    ancestors.push(canonical);
    let entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(io_err(&path))?;
        if meta.is_dir() {
            walk_dir(&path, out, ancestors)?;
        } else if meta.is_file() {
            out.push(path);
        }
    }
    ancestors.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_sorted_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/sub")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for f in ["b/sub/z", "b/a", "c", ".hidden", ".git/x", "a"] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        let files = discover(&[root.to_path_buf()]).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| {
                f.path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, ["a", "b/a", "b/sub/z", "c"]);
    }

    #[test]
    fn empty_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(matches!(err, Error::NoInput(_)), "{err}");
    }

    #[test]
    fn symlink_loop_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
        std::fs::write(dir.path().join("a/b/f"), "x").unwrap();
        std::os::unix::fs::symlink("..", dir.path().join("a/b/up")).unwrap();
        let err = discover(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(
            err.to_string().contains("a/b/up: directory symlink loop"),
            "{err}"
        );
    }

    #[test]
    fn missing_path_names_the_path() {
        let err = discover(&[PathBuf::from("/no/such/corpus")]).unwrap_err();
        assert!(err.to_string().contains("/no/such/corpus"), "{err}");
    }
}
