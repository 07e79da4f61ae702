//! What an earlier build left in the output directory, and what to do about it: the same build
//! finished (nothing to do), the same build unfinished (resume from its state), another build
//! (refused, or replaced under `--overwrite` — once the new one is complete).
//!
//! Nothing here deletes by pattern. What a build may remove is what it can prove it made: its
//! own work directory (whose state file it reads), and the files a manifest of the build being
//! replaced lists — plain names inside the directory, checked when the manifest is read. A
//! file that merely looks like ours (`shard-2023-backup.parquet`, `.notes.txt.tmp`) is never
//! touched; one that stands where a new shard must go is an error.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::state::{BuildState, Identity, STATE_VERSION};
use super::BuildOptions;
use crate::error::{Error, Result};
use crate::input::InputFile;
use crate::output::atomic::Staged;
use crate::output::layout::{self, Task, TOKENIZER_FILE};
use crate::output::manifest::{sha256_file, InputEntry, Manifest, ShardEntry};

/// What the output directory holds of this worker's build.
pub enum Existing {
    /// This very build, finished: nothing to do.
    Finished(Manifest),
    /// Nothing finished, or (`--overwrite`) a finished build to replace once the new one is
    /// complete.
    Start { replacing: Option<Manifest> },
}

/// Looks at the manifest this build would write: the same build finished, another build
/// (refused without `--overwrite`, kept until the new one is complete with it), or none.
pub fn finished_build(
    opts: &BuildOptions,
    manifest_path: &Path,
    identity: &Identity,
) -> Result<Existing> {
    if std::fs::symlink_metadata(manifest_path).is_err() {
        return Ok(Existing::Start { replacing: None });
    }
    let manifest = Manifest::read_file(manifest_path).map_err(|e| {
        Error::output(
            manifest_path,
            format!(
                "is not a bertprep manifest this build can read or replace ({}); move it away",
                crate::error::one_line(&e)
            ),
        )
    })?;
    let same = same_build(&manifest, identity);
    match (same, opts.overwrite) {
        (true, false) => Ok(Existing::Finished(manifest)),
        (false, false) => Err(Error::output(
            &opts.out,
            "holds a different build (other inputs, settings or tokenizer); pass --overwrite \
             to replace it",
        )),
        (_, true) => {
            if let Some(bad) = manifest
                .shards
                .iter()
                .find(|s| !layout::is_shard_of(&s.file, opts.task))
            {
                return Err(Error::manifest(
                    manifest_path,
                    format!("lists {}, not a shard name of this build", bad.file),
                ));
            }
            Ok(Existing::Start {
                replacing: Some(manifest),
            })
        }
    }
}

/// The state to run from: the unfinished state in `work` when it is this build's (a resume,
/// after checking the shards it records as finished), else a fresh one — after removing the
/// work directory of another unfinished build, which needs `--overwrite`.
pub fn resume_or_start(
    opts: &BuildOptions,
    work: &Path,
    identity: Identity,
    files: &[InputFile],
) -> Result<(BuildState, bool)> {
    check_work_dir(work)?;
    let previous = match BuildState::read(work) {
        Ok(previous) => previous,
        // A state that cannot be read is replaced below: --overwrite starts afresh.
        Err(_) if opts.overwrite => None,
        Err(e) => return Err(e),
    };
    let resumable = previous
        .as_ref()
        .is_some_and(|s| s.identity == identity && s.version == STATE_VERSION);
    match previous {
        Some(s) if resumable && !opts.overwrite => {
            check_finished_shards(&s, work, &opts.out)?;
            Ok((s, true))
        }
        _ => {
            if !opts.overwrite && (work.exists() || has_shards(&opts.out, opts.task)?) {
                return Err(Error::output(
                    &opts.out,
                    "holds shards or an unfinished build with other inputs, settings or \
                     tokenizer; pass --overwrite to replace it",
                ));
            }
            remove_work_dir(work)?;
            let entries = files
                .iter()
                .map(|f| InputEntry::new(f.path.display().to_string(), f.bytes))
                .collect();
            Ok((BuildState::new(identity, entries), false))
        }
    }
}

/// The work directory must be a directory of its own, not a symbolic link (whose target a
/// build would otherwise fill and later remove).
fn check_work_dir(work: &Path) -> Result<()> {
    match std::fs::symlink_metadata(work) {
        Ok(meta) if !meta.file_type().is_dir() => Err(Error::output(
            work,
            "is not a directory (a symbolic link or a file); a build keeps its work there — \
             move it away",
        )),
        _ => Ok(()),
    }
}

/// Removes this build's work directory (its own name, checked to be a real directory).
pub fn remove_work_dir(work: &Path) -> Result<()> {
    check_work_dir(work)?;
    match std::fs::remove_dir_all(work) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(work, e)),
        _ => Ok(()),
    }
}

/// Every shard a resumed state records as finished is still there, with its size: staged in
/// the work directory, or already moved into `out` by a publish that was interrupted.
fn check_finished_shards(state: &BuildState, work: &Path, out: &Path) -> Result<()> {
    for shard in &state.shards {
        let found = [work.join(&shard.file), out.join(&shard.file)]
            .into_iter()
            .any(|p| std::fs::metadata(&p).is_ok_and(|m| m.is_file() && m.len() == shard.bytes));
        if !found {
            return Err(Error::output(
                work.join(&shard.file),
                "a finished shard of the interrupted build is missing or changed; pass \
                 --overwrite to build afresh",
            ));
        }
    }
    Ok(())
}

/// Whether a finished manifest is the build `identity` describes.
fn same_build(m: &Manifest, identity: &Identity) -> bool {
    m.schema_version == crate::shard::SCHEMA_VERSION
        && m.config == identity.config
        && m.task == identity.task
        && m.tokenizer.sha256 == identity.tokenizer_sha256
        && m.has_inputs(identity.inputs.iter().map(|(p, b)| (p.as_str(), *b)))
}

/// Whether `out` holds files named like shards of this worker (or any shards, without
/// workers): reason enough to refuse a fresh build without `--overwrite`, never to delete.
fn has_shards(out: &Path, task: Option<Task>) -> Result<bool> {
    let entries = match std::fs::read_dir(out) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(out, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        if layout::is_shard_of(&entry.file_name().to_string_lossy(), task) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A finished build, staged in its work directory, and where it goes.
pub struct Publish<'a> {
    pub out: &'a Path,
    pub work: &'a Path,
    /// The new build's shards, in `work` (or in `out` already, after an interrupted publish).
    pub shards: &'a [ShardEntry],
    /// The finished build this one replaces (`--overwrite`), if any.
    pub replacing: Option<&'a Manifest>,
    pub manifest_path: &'a Path,
    pub tokenizer_json: &'a [u8],
}

impl Publish<'_> {
    /// Moves the new build into `out`. First what can fail for want of space: refusing if a
    /// file it did not make stands where a new shard goes, writing `tokenizer.json` and the
    /// manifest under temporary names. Then only removals and renames: the replaced build's
    /// manifest, its shards the new build does not replace by name, the new shards moved in,
    /// `tokenizer.json`, and the manifest last (its presence means the build is complete).
    pub fn run(&self, manifest: &Manifest) -> Result<()> {
        let old: HashSet<&str> = self
            .replacing
            .map(|m| m.shards.iter().map(|s| s.file.as_str()).collect())
            .unwrap_or_default();
        for shard in self.shards {
            self.check_target(shard, &old)?;
        }
        let tokenizer = Staged::write(&self.out.join(TOKENIZER_FILE), self.tokenizer_json)?;
        let manifest = Staged::write(self.manifest_path, &manifest.to_json(self.manifest_path)?)?;
        if let Some(replacing) = self.replacing {
            remove_if_present(self.manifest_path)?;
            let new: HashSet<&str> = self.shards.iter().map(|s| s.file.as_str()).collect();
            for shard in replacing
                .shards
                .iter()
                .filter(|s| !new.contains(s.file.as_str()))
            {
                remove_if_present(&self.out.join(&shard.file))?;
            }
        }
        for shard in self.shards {
            let staged = self.work.join(&shard.file);
            if staged.exists() {
                let target = self.out.join(&shard.file);
                std::fs::rename(&staged, &target).map_err(|e| Error::io(&target, e))?;
            }
        }
        tokenizer.commit()?;
        manifest.commit()
    }

    /// Where `shard` goes, nothing may stand but a shard of the build being replaced, or this
    /// very shard (same size and SHA-256: moved there by an interrupted publish).
    fn check_target(&self, shard: &ShardEntry, old: &HashSet<&str>) -> Result<()> {
        let target = self.out.join(&shard.file);
        let Ok(meta) = std::fs::symlink_metadata(&target) else {
            return Ok(());
        };
        if old.contains(shard.file.as_str()) && meta.is_file() {
            return Ok(());
        }
        let same = meta.is_file()
            && meta.len() == shard.bytes
            && sha256_file(&target).is_ok_and(|h| h == shard.sha256);
        if same {
            return Ok(());
        }
        Err(Error::output(
            target,
            "stands where a new shard goes and no manifest of this directory lists it; move \
             it away and run the build again",
        ))
    }
}

/// Removes `path` if it exists.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(path, e)),
        _ => Ok(()),
    }
}

/// Refuses an output directory that overlaps an input directory: equal to one or inside one
/// (its shards would be read as input by the next run, and `--overwrite` would replace files
/// the inputs hold), or holding one.
pub fn refuse_overlap(inputs: &[PathBuf], out: &Path) -> Result<()> {
    let out_full = resolved(out);
    for input in inputs.iter().filter(|p| p.is_dir()) {
        let Ok(input_full) = input.canonicalize() else {
            continue; // Reported when the inputs are read.
        };
        let why = if out_full == input_full {
            "is the input directory"
        } else if out_full.starts_with(&input_full) {
            "is inside the input directory"
        } else if input_full.starts_with(&out_full) {
            "holds the input directory"
        } else {
            continue;
        };
        return Err(Error::output(
            out,
            format!(
                "--out {why} {}: choose an output directory apart from every --in",
                input.display()
            ),
        ));
    }
    Ok(())
}

/// `path` made absolute with symbolic links resolved, as far as it exists (the rest appended).
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(full) = existing.canonicalize() {
            return rest.iter().rev().fold(full, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}
