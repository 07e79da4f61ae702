//! `finalize` (alias `merge-manifest`): one manifest from the parts of a `--tasks T` build.
//!
//! Each task writes `manifest-tNNNN.json` beside its shards when it completes. Finalizing reads
//! exactly the files named so (a copy such as `manifest-t0000.bak.json` is not a part), and holds them to one
//! build: each part's task index is the one its name gives and lies in `0..N`; all parts
//! have the same config, tokenizer, inputs and task count (a part left from an earlier build
//! is named); every task `0..N` is there; every shard a part lists is one of that task's
//! names, listed once, and on disk with the size and SHA-256 the part records. Only then is
//! `manifest.json` written: the inputs' counts summed, the shards of every task in task
//! order, the counters summed.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Error, Result};
use crate::output::layout::{self, part_file, Task, MANIFEST_FILE};
use crate::output::manifest::{InputEntry, Manifest, ShardEntry};

/// Joins the task manifests in `dir` into `dir/manifest.json`.
pub fn merge_manifests(dir: &Path) -> Result<Manifest> {
    let merged = joined(dir)?;
    merged.write_file(&dir.join(MANIFEST_FILE))?;
    Ok(merged)
}

/// The task manifests in `dir`, checked and joined (not written).
pub fn joined(dir: &Path) -> Result<Manifest> {
    joined_with(dir, &|shard| shard.verify(dir, true))
}

/// [`joined`], with each listed shard held to its entry by `verify` (the shards may be
/// elsewhere than the parts, as in object storage).
pub fn joined_with(dir: &Path, verify: &dyn Fn(&ShardEntry) -> Result<()>) -> Result<Manifest> {
    let parts = read_parts(dir)?;
    let Some((first_name, first)) = parts.first() else {
        return Err(Error::manifest(
            dir,
            "no task manifests (manifest-tNNNN.json): no task of a `--tasks` build has finished",
        ));
    };
    let count = first.task.map_or(0, |w| w.count);
    for (name, part) in &parts {
        let same = part.config == first.config
            && part.tokenizer == first.tokenizer
            && part.task.map(|w| w.count) == Some(count)
            && part.has_inputs(first.inputs.iter().map(|e| (e.path.as_str(), e.bytes)));
        if !same {
            return Err(Error::manifest(
                dir.join(name),
                format!(
                    "is from another build than {first_name} (other task count, inputs, \
                     settings or tokenizer): a part left from an earlier build? Remove it, or \
                     run that task again"
                ),
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|&i| {
            !parts
                .iter()
                .any(|(_, p)| p.task.map(|w| w.index) == Some(i))
        })
        .map(|i| part_file(Task { index: i, count }))
        .collect();
    if !missing.is_empty() {
        return Err(Error::manifest(
            dir,
            format!(
                "tasks not finished (no {}): run the workers again, they run only what is left",
                missing.join(", ")
            ),
        ));
    }
    check_shards(dir, &parts, verify)?;
    Ok(merged(&parts, count))
}

/// The parts in `dir`, by task index, each read bounded and checked against its name.
fn read_parts(dir: &Path) -> Result<Vec<(String, Manifest)>> {
    let mut parts = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(index) = layout::part_index(&name) else {
            continue;
        };
        let path = entry.path();
        let part = Manifest::read_file(&path)?;
        match part.task {
            Some(w) if w.index == index && w.index < w.count => {}
            Some(w) => {
                return Err(Error::manifest(
                    &path,
                    format!(
                        "says it is task {} of {}; a part's name gives its index, which must \
                         be below the task count",
                        w.index, w.count
                    ),
                ))
            }
            None => return Err(Error::manifest(&path, "is not a task's manifest part")),
        }
        parts.push((name, part));
    }
    parts.sort_by_key(|(_, p)| p.task.map_or(0, |w| w.index));
    Ok(parts)
}

/// Every shard a part lists is one of its task's names, listed once in all the parts, and on
/// disk as recorded (size and SHA-256).
fn check_shards(
    dir: &Path,
    parts: &[(String, Manifest)],
    verify: &dyn Fn(&ShardEntry) -> Result<()>,
) -> Result<()> {
    let mut seen = HashSet::new();
    for (name, part) in parts {
        for shard in &part.shards {
            if !layout::is_shard_of(&shard.file, part.task) {
                return Err(Error::manifest(
                    dir.join(name),
                    format!("lists {}, not a shard name of its task", shard.file),
                ));
            }
            if !seen.insert(shard.file.as_str()) {
                return Err(Error::manifest(
                    dir.join(name),
                    format!("lists {} again", shard.file),
                ));
            }
            verify(shard)?;
        }
    }
    Ok(())
}

/// The one manifest of the parts.
fn merged(parts: &[(String, Manifest)], count: u32) -> Manifest {
    let mut merged = parts[0].1.clone();
    merged.task = None;
    merged.bytes_read = None;
    merged.merged_tasks = Some(count);
    merged.shards.clear();
    merged.counters = Default::default();
    merged.skipped.clear();
    for entry in &mut merged.inputs {
        let (path, bytes) = (entry.path.clone(), entry.bytes);
        *entry = InputEntry::new(path, bytes);
    }
    for (_, part) in parts {
        merged.shards.extend(part.shards.iter().cloned());
        merged.counters.add(&part.counters);
        merged.skipped.extend(part.skipped.iter().cloned());
        for (entry, other) in merged.inputs.iter_mut().zip(&part.inputs) {
            entry.add(other);
        }
    }
    merged.skipped.sort_by_key(|s| (s.file_index, s.offset));
    merged
}
