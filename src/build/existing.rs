//! What an earlier build left in the output directory, and what to do about it: the same build
//! finished (nothing to do), the same build unfinished (resume from its state), another build
//! (refused, or removed under `--overwrite`), temporaries of a killed run (removed).

use std::path::{Path, PathBuf};

use super::state::{BuildState, Identity, STATE_VERSION};
use super::BuildOptions;
use crate::error::{Error, Result};
use crate::input::InputFile;
use crate::output::layout::{self, Worker};
use crate::output::manifest::{InputEntry, Manifest};

/// The manifest of this very build when `manifest_path` holds it finished (and no
/// `--overwrite`). Another build there is refused without `--overwrite` and removed with it.
pub fn finished_build(
    opts: &BuildOptions,
    manifest_path: &Path,
    identity: &Identity,
) -> Result<Option<Manifest>> {
    if !manifest_path.exists() {
        return Ok(None);
    }
    let found = Manifest::read_file(manifest_path).ok();
    let same = found.as_ref().is_some_and(|m| same_build(m, identity));
    match (found, same, opts.overwrite) {
        (Some(manifest), true, false) => Ok(Some(manifest)),
        (_, _, false) => Err(Error::output(
            &opts.out,
            "holds a different build (other inputs, settings or tokenizer); pass --overwrite \
             to replace it",
        )),
        (_, _, true) => {
            remove_build(&opts.out, opts.worker)?;
            Ok(None)
        }
    }
}

/// The state to run from: the unfinished state in `work` when it is this build's (a resume),
/// else a fresh one — after removing whatever this worker had built in the directory, which
/// needs `--overwrite` when there is any.
pub fn resume_or_start(
    opts: &BuildOptions,
    work: &Path,
    identity: Identity,
    files: &[InputFile],
) -> Result<(BuildState, bool)> {
    let previous = BuildState::read(work)?;
    let resumable = previous
        .as_ref()
        .is_some_and(|s| s.identity == identity && s.version == STATE_VERSION);
    match previous {
        Some(s) if resumable && !opts.overwrite => Ok((s, true)),
        _ => {
            if !opts.overwrite && (work.exists() || has_shards(&opts.out, opts.worker)?) {
                return Err(Error::output(
                    &opts.out,
                    "holds shards or an unfinished build with other inputs, settings or \
                     tokenizer; pass --overwrite to replace it",
                ));
            }
            remove_build(&opts.out, opts.worker)?;
            let entries = files
                .iter()
                .map(|f| InputEntry::new(f.path.display().to_string(), f.bytes))
                .collect();
            Ok((BuildState::new(identity, entries), false))
        }
    }
}

/// Whether a finished manifest is the build `identity` describes.
fn same_build(m: &Manifest, identity: &Identity) -> bool {
    m.config == identity.config
        && m.worker == identity.worker
        && m.tokenizer.sha256 == identity.tokenizer_sha256
        && m.has_inputs(identity.inputs.iter().map(|(p, b)| (p.as_str(), *b)))
}

/// Whether `out` holds shards of this worker (or any shards, without workers).
fn has_shards(out: &Path, worker: Option<Worker>) -> Result<bool> {
    Ok(!build_files(out, worker)?.is_empty())
}

/// The files of a build of `worker` in `out`: its shards, manifest and the tokenizer.
fn build_files(out: &Path, worker: Option<Worker>) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(Error::io(out, e)),
    };
    let manifest_name = layout::manifest_name(worker);
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if layout::is_shard_of(&name, worker) || name == manifest_name {
            found.push(entry.path());
        }
    }
    Ok(found)
}

/// Removes an earlier build of `worker` from `out` (for `--overwrite`).
fn remove_build(out: &Path, worker: Option<Worker>) -> Result<()> {
    for path in build_files(out, worker)? {
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    let work = layout::work_dir(out, worker);
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    }
    Ok(())
}

/// Removes hidden temporary files a killed run left (`.shard-0003.parquet.tmp`).
pub fn remove_stale_temporaries(out: &Path) -> Result<()> {
    let entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if layout::is_temp_name(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}
